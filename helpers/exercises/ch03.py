"""Checkers for chapter 03 (RNN).

Each checker prints one verdict line and returns a :class:`~helpers.exercises._core.Verdict`
(truthy when right, shows nothing in a notebook); none raises, whatever the answer.

1. ``check_param_count(answer)``: the parameters of the RNN that ``param_count_inputs()`` describes
   (variant 0: ``nn.RNN(10, 20, num_layers=2, bidirectional=True)``).
2. ``check_rnn_step(fn)``: one RNN step, h_t = tanh(x Uᵀ + h Wᵀ + b), batch in rows.
3. ``check_bmes(answer)``: the BMES tags of the words ``bmes_inputs()`` gives (variant 0:
   我们 / 是 / 共产主义 / 接班人).
4. ``check_half_hidden(model, f1_change, full_model, texts, gold, vocab)`` (experiment): a tagger
   with half the hidden size, trained by the student with the seed ``half_hidden_inputs()`` gives,
   and the F1 change they report; the checker re-scores both models on the test paragraphs
   (cheap: no training) and judges the student's own model.

Per-student variants: every ``*_inputs(v=None)`` returns the exercise's inputs for variant ``v``
(default: the current student's, see ``_core.variant``; 0 = the chapter as taught), and every
checker takes ``v=None`` and recomputes the expected answer for that variant. The functions
marked ``@reference`` compute expected answers (and the wrong answers the hints name); the
student edition ships without their bodies.
"""
from __future__ import annotations

import torch

from ..data import words_to_bmes
from ..env import generator
from ..nn.rnn import rnn_cell
from ._core import (Verdict, answer_dtype, checker, close, describe, quiet_false, read_int,
                   read_number, read_tensor, read_text, reference, run_student, unanswered,
                   variant, variant_rng, verdict)


# ----------------------------------------------------------------------------- exercise 1
def param_count_inputs(v: int | None = None) -> dict:
    """The RNN whose parameters the student counts: variant 0 is the chapter's
    ``nn.RNN(10, 20, num_layers=2, bidirectional=True)``; other variants draw the sizes (always two
    or three bidirectional layers, sizes chosen so that every mistake a hint names gives a
    different count)."""
    v = variant() if v is None else int(v)
    if v == 0:
        return {"input_size": 10, "hidden_size": 20, "num_layers": 2, "bidirectional": True}
    draw = variant_rng("ch03.param_count", v)
    while True:
        I, H = int(draw.integers(3, 17)), int(draw.integers(5, 33))
        L = int(draw.integers(2, 4))
        if I not in (H, 2 * H, 2 * H - 2) and H % 4:      # the named mistakes stay apart (tests check every draw)
            return {"input_size": I, "hidden_size": H, "num_layers": L, "bidirectional": True}


def describe_param_count(config: dict) -> str:
    """The layer in the words of the exercise: ``torch.nn.RNN(10, 20, num_layers=2, bidirectional=True)``."""
    return (f"torch.nn.RNN({config['input_size']}, {config['hidden_size']}, "
            f"num_layers={config['num_layers']}, bidirectional={config['bidirectional']})")


@reference
def rnn_param_count(input_size: int, hidden_size: int, num_layers: int, bidirectional: bool) -> int:
    """Number of parameters of ``nn.RNN(input_size, hidden_size, num_layers, bidirectional=...)``."""
    D, H, total = (2 if bidirectional else 1), hidden_size, 0
    for layer in range(num_layers):
        I = input_size if layer == 0 else D * H
        total += D * (H * I + H * H + 2 * H)          # U, W, b_ih, b_hh per direction
    return total


@reference
def param_count_mistakes(input_size: int, hidden_size: int, num_layers: int, bidirectional: bool) -> dict:
    """{wrong count: hint} for the mistakes the hints name (none equal to the right count)."""
    D, H, I = (2 if bidirectional else 1), hidden_size, input_size
    upper = D * H                                      # the input size of layer 2, 3, ...
    one_bias = sum(D * (H * (I if l == 0 else upper) + H * H + H) for l in range(num_layers))
    same_input = sum(D * (H * I + H * H + 2 * H) for _ in range(num_layers))
    one_direction_in = sum(D * (H * (I if l == 0 else H) + H * H + 2 * H) for l in range(num_layers))
    hints = {
        rnn_param_count(I, H, num_layers, False): "只算了一个方向：双向 RNN 每层有正向、反向两套 U、W、b。",
        one_bias: "PyTorch 每个方向有两个偏置 b_ih 和 b_hh（它们的和才是讲义里的 b），别漏掉一个。",
        same_input: "第 2 层起，输入不是 x：上一层的输出才是下一层的输入，想想它有多少维。",
        one_direction_in: "第 2 层起的输入是上一层两个方向拼接起来的 h，不是一个方向的 h。",
        rnn_param_count(I, H, 1, bidirectional): f"只算了第 1 层：num_layers={num_layers}，后面还有层。",
    }
    right = rnn_param_count(I, H, num_layers, bidirectional)
    return {n: hint for n, hint in hints.items() if n != right}


@checker
def check_param_count(answer, v: int | None = None) -> Verdict:
    """How many numbers does the RNN of ``param_count_inputs(v)`` learn?"""
    if unanswered(answer):
        return quiet_false()
    answer = read_int(answer, "参数的个数")
    if answer is None:
        return quiet_false()
    config = param_count_inputs(v)
    right = rnn_param_count(**config)
    if answer == right:
        return verdict(True, f"{describe_param_count(config)} 有 {right} 个参数。")
    hint = param_count_mistakes(**config).get(answer)
    return verdict(False, hint or "逐层、逐方向地数：每个方向有 U、W 和两个偏置；再想想第 2 层起的输入维度。")


# ----------------------------------------------------------------------------- exercise 2
def _step_case():
    """The fixed inputs the visible checker runs the student's step on (B=4, I=3, H=5, float64)."""
    g = generator(3)
    B, I, H = 4, 3, 5
    x, h = torch.randn(B, I, generator=g, dtype=torch.float64), torch.randn(B, H, generator=g, dtype=torch.float64)
    U, W = torch.randn(H, I, generator=g, dtype=torch.float64), torch.randn(H, H, generator=g, dtype=torch.float64)
    b = torch.randn(H, generator=g, dtype=torch.float64)
    return x, h, U, W, b


@reference
def rnn_step(x, h, U, W, b):
    """The reference step: the course's ``rnn_cell`` with b as the only bias."""
    return rnn_cell(x, h, U, W, b, None)


@reference
def rnn_step_mistakes(x, h, U, W, b) -> list:
    """[(wrong h_t, hint)] for the mistakes the hints name."""
    pre = x @ U.T + h @ W.T + b
    return [
        (pre, "忘了激活函数。"),
        (torch.tanh(x @ U.T + h @ W + b), "W 用反了：批量按行存放时，循环项也要像输入项一样转置。"),
        (torch.tanh(x @ U.T + h @ W.T), "忘了偏置 b（它在所有时间步共享，没有下标 t）。"),
        (torch.tanh(x @ U.T + b), "漏掉了循环项 W h_{t-1}：没有它，RNN 就没有记忆。"),
        (torch.sigmoid(pre), "这里的激活函数不是 sigmoid。"),
    ]


@checker
def check_rnn_step(fn) -> Verdict:
    """``fn(x, h, U, W, b) -> h_t`` must compute h_t = tanh(x Uᵀ + h Wᵀ + b) for a batch (rows)."""
    x, h, U, W, b = _step_case()
    ok, out = run_student(fn, (x, h, U, W, b), "fn(x, h, U, W, b)", "提示：x 是 (B, I)，U 是 (H, I)，注意转置。")
    if not ok:
        return quiet_false()
    right = rnn_step(x, h, U, W, b)
    got = read_tensor(out, tuple(right.shape), "返回的 h_t")
    if got is None:
        return quiet_false()
    dtype = answer_dtype(out)
    if close(got, right, dtype=dtype):
        return verdict(True, "h_t = tanh(U x_t + W h_{t-1} + b)，和 helpers.nn.rnn.rnn_cell 一致。")
    for wrong, hint in rnn_step_mistakes(x, h, U, W, b):
        if close(got, wrong, dtype=dtype):
            return verdict(False, hint)
    return verdict(False, "数值不对。对照公式 h_t = tanh(U x_t + W h_{t-1} + b)，注意按行存放时的转置。")


# ----------------------------------------------------------------------------- exercise 3
BMES_EXAMPLE = ["我们", "是", "共产主义", "接班人"]

# Words the variants draw from, by length (S; B E; B M E; B M M E).
BMES_WORDS = {
    1: ["是", "的", "在", "和", "很", "把", "被", "也", "都", "又", "从", "向"],
    2: ["我们", "学生", "老师", "北京", "春天", "河流", "城市", "工厂", "电脑", "音乐", "朋友", "图书"],
    3: ["图书馆", "接班人", "科学家", "运动员", "博物馆", "计算机", "火车站", "电视台", "实验室", "出租车"],
    4: ["共产主义", "人工智能", "中华民族", "自然语言", "高速公路", "天气预报", "循环网络", "社会主义"],
}


def bmes_inputs(v: int | None = None) -> list[str]:
    """The segmented words to tag: variant 0 is the chapter's 我们 / 是 / 共产主义 / 接班人; other
    variants draw 5 or 6 words with at least one single-character word, one of two characters and
    one of three or four (so every tag B, M, E, S occurs), in a drawn order."""
    v = variant() if v is None else int(v)
    if v == 0:
        return list(BMES_EXAMPLE)
    draw = variant_rng("ch03.bmes", v)
    n = int(draw.integers(5, 7))
    lengths = [1, 2, int(draw.integers(3, 5))] + [int(draw.integers(1, 5)) for _ in range(n - 3)]
    lengths = [lengths[i] for i in draw.permutation(n)]
    words, used = [], set()
    for k in lengths:
        pool = [w for w in BMES_WORDS[k] if w not in used]
        word = pool[int(draw.integers(len(pool)))]
        used.add(word)
        words.append(word)
    return words


@reference
def bmes_tags(words) -> str:
    """The reference BMES string of a segmented sentence."""
    return words_to_bmes(list(words))


TAG_MEANING = {"S": "单字成词", "B": "多字词的第一个字", "E": "多字词的最后一个字",
               "M": "多字词中间的字（不是第一个也不是最后一个）"}


@checker
def check_bmes(answer, v: int | None = None) -> Verdict:
    """The BMES tag string of the words ``bmes_inputs(v)`` gives."""
    if unanswered(answer):
        return quiet_false()
    answer = read_text(answer, "BMES 标签串")
    if answer is None:
        return quiet_false()
    words = bmes_inputs(v)
    answer = answer.replace(" ", "").replace("/", "")
    right = bmes_tags(words)
    if answer == right:
        return verdict(True, f"{' / '.join(words)} → {right}")
    if answer.upper() == right:
        return verdict(False, "标签用大写字母 B、M、E、S。")
    if set(answer.upper()) - set("BMES"):
        return verdict(False, f"只能用 B、M、E、S 四个字母，得到 {describe(answer)}。")
    chars = "".join(words)
    if len(answer) != len(chars):
        return verdict(False, f"每个字一个标签：{len(chars)} 个字需要 {len(chars)} 个字母，你给了 {len(answer)} 个。")
    wrong = [i for i, (a, r) in enumerate(zip(answer.upper(), right)) if a != r]
    i = wrong[0]
    a = answer.upper()[i]
    owner, start = None, 0
    for w in words:
        if start <= i < start + len(w):
            owner = w
        start += len(w)
    more = f"（共 {len(wrong)} 处不对）" if len(wrong) > 1 else ""
    return verdict(False, f"第 {i + 1} 个字“{chars[i]}”标错了：你写的 {a} 表示{TAG_MEANING[a]}，"
                          f"可“{chars[i]}”在词“{owner}”里不是这个位置。{more}")


# ----------------------------------------------------------------------------- exercise 4 (experiment)
# F1(half) − F1(full) on the 400 test paragraphs, full model hidden 64 with set_seed(0), half
# models hidden 32, 2 epochs, lr 2e-2 (measured, 10 runs with seeds 0 ... 11 for set_seed and
# train_tagger): −0.0084 ... −0.0038. Outside the band, measured: trained on the test paragraphs
# only −0.053, on train + test paragraphs +0.023, 8 epochs on the test paragraphs +0.079, one
# epoch only −0.028. Untrained taggers score F1 0.12 ... 0.29; trained ones 0.85 ... 0.86.
HALF_BAND = (-0.02, 0.01)
UNTRAINED_F1 = 0.5
F1_TOL = 1e-4          # the notebook prints the change with 4 decimals (rounding: 5e-5)


def half_hidden_inputs(v: int | None = None) -> dict:
    """The student's settings: the seed of ``set_seed`` and ``train_tagger`` (variant 0: 0, the
    chapter's), and the halved hidden size (32)."""
    v = variant() if v is None else int(v)
    seed = 0 if v == 0 else 1 + int(variant_rng("ch03.half_hidden", v).integers(1, 10_000))
    return {"seed": seed, "hidden_size": 32}


def _rnn_of(model):
    try:
        rnn = getattr(model, "rnn", None)
    except Exception:
        return None
    return rnn if isinstance(rnn, torch.nn.RNNBase) else None


@reference
def tagger_f1(model, texts, gold, vocab) -> float:
    """Word F1 of a tagger on the test paragraphs (the checker's re-scoring)."""
    from ..segmentation import segment, word_prf

    return word_prf(gold, segment(model, texts, vocab))["f1"]


@checker
def check_half_hidden(model, f1_change, full_model, texts, gold, vocab, v: int | None = None) -> Verdict:
    """A tagger with half the hidden size (``model``, trained by the student) and the reported
    ``f1_change`` = F1(half) − F1(full). The checker re-scores both models on ``texts`` (no
    training, a second or two) and judges the student's own model: right shape, trained, within
    the band an honest run of the same budget lands in, and the reported number is its own."""
    if unanswered(model):
        return quiet_false()
    rnn, full_rnn = _rnn_of(model), _rnn_of(full_model)
    if full_rnn is None:
        return verdict(False, f"full_model 应是本章训练好的 RNNTagger，得到 {describe(full_model)}。")
    if rnn is None:
        return verdict(False, f"model 应是一个 seg.RNNTagger（有 .rnn 层），得到 {describe(model)}。")
    if rnn is full_rnn:
        return verdict(False, "这就是本章的原模型；请训练一个新的、隐藏维度减半的模型。")
    want = full_rnn.hidden_size // 2
    if rnn.hidden_size != want:
        return verdict(False, f"隐藏维度应减半为 {want}（原来 {full_rnn.hidden_size}），你的模型是 {rnn.hidden_size}。")
    if rnn.bidirectional != full_rnn.bidirectional or rnn.num_layers != full_rnn.num_layers:
        return verdict(False, "只改隐藏维度：方向数和层数要和原模型一样（比较才公平），"
                              f"原模型 bidirectional={full_rnn.bidirectional}、num_layers={full_rnn.num_layers}。")
    if unanswered(f1_change):
        return quiet_false()
    change = read_number(f1_change, "F1 的变化")
    if change is None:
        return quiet_false()
    f1_full = tagger_f1(full_model, texts, gold, vocab)
    if f1_full < UNTRAINED_F1:
        return verdict(False, "full_model 应是本章训练好的双向模型 models[\"双向 RNN\"]，这个模型没有训练过。")
    f1_half = tagger_f1(model, texts, gold, vocab)
    measured = f1_half - f1_full
    if f1_half < UNTRAINED_F1:
        return verdict(False, "减半的模型看起来没训练过（它切词的 F1 和未训练的模型差不多）："
                              "用和原模型相同的轮数和学习率训练它，再量 F1。")
    if abs(change - measured) > F1_TOL:
        if abs(change + measured) <= F1_TOL:
            return verdict(False, "符号反了：变化 = F1(减半) − F1(原来)。")
        if abs(change / 100 - measured) <= F1_TOL:
            return verdict(False, "这像是百分点；请给小数形式的变化（百分点除以一百）。")
        if abs(change - f1_half) <= F1_TOL:
            return verdict(False, "这是减半模型的 F1 本身；题目要的是变化量 F1(减半) − F1(原来)。")
        if abs(change - f1_full) <= F1_TOL:
            return verdict(False, "这是原模型的 F1；题目要的是变化量 F1(减半) − F1(原来)。")
        return verdict(False, "你报告的变化和你交上来的模型在测试段落上实际的变化不一致："
                              "变化量要用这个模型在 test_texts 上算出的 F1 减去原模型的 F1。")
    low, high = HALF_BAND
    if not low <= measured <= high:
        if measured > high:
            return verdict(False, "减半的模型比同等训练预算下的诚实结果好得太多：它是不是见过测试段落，"
                                  "或者训练了更多轮？只用 x_train、y_train，轮数和学习率和原模型一样。")
        return verdict(False, "减半的模型比同等训练预算下的结果差得太多：训练轮数、学习率、批量是否和原模型一样？")
    n_full = sum(p.numel() for p in full_rnn.parameters())
    n_half = sum(p.numel() for p in rnn.parameters())
    return verdict(True, f"F1：原模型 {f1_full:.4f}，减半 {f1_half:.4f}，变化 {measured:+.4f}；"
                         f"循环层参数 {n_full} → {n_half}（{n_half / n_full:.0%}）。"
                         "隐藏维度减半，F1 只变了这么一点：在这个任务和预算下，隐藏维度不是瓶颈。")
