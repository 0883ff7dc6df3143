"""Checkers for chapter 03 (RNN).

Each checker prints one verdict line and returns a :class:`~helpers.exercises._core.Verdict`
(truthy when right, shows nothing in a notebook); none raises, whatever the answer.

1. ``check_param_count(answer)``: the parameters of ``nn.RNN(10, 20, num_layers=2, bidirectional=True)``.
2. ``check_rnn_step(fn)``: one RNN step, h_t = tanh(x Uᵀ + h Wᵀ + b), batch in rows.
3. ``check_bmes(answer)``: the BMES tags of 我们 / 是 / 共产主义 / 接班人.
4. ``check_half_hidden(model, f1_change, full_model, texts, gold, vocab)`` (experiment): a tagger
   with half the hidden size, trained by the student, and the F1 change they report; the checker
   re-scores both models on the test paragraphs (cheap: no training) and judges the student's result.
"""
from __future__ import annotations

import torch

from ..data import words_to_bmes
from ..env import generator
from ..nn.rnn import rnn_cell
from ._core import (Verdict, answer_dtype, checker, close, describe, quiet_false, read_int,
                   read_number, read_tensor, read_text, run_student, unanswered, verdict)



# ----------------------------------------------------------------------------- exercise 1
def rnn_param_count(input_size: int, hidden_size: int, num_layers: int, bidirectional: bool) -> int:
    """Number of parameters of ``nn.RNN(input_size, hidden_size, num_layers, bidirectional=...)``."""
    D, H, total = (2 if bidirectional else 1), hidden_size, 0
    for layer in range(num_layers):
        I = input_size if layer == 0 else D * H
        total += D * (H * I + H * H + 2 * H)          # U, W, b_ih, b_hh per direction
    return total


@checker
def check_param_count(answer, input_size: int = 10, hidden_size: int = 20, num_layers: int = 2,
                      bidirectional: bool = True) -> Verdict:
    """How many numbers does ``nn.RNN(10, 20, num_layers=2, bidirectional=True)`` learn?"""
    if unanswered(answer):
        return quiet_false()
    answer = read_int(answer, "参数的个数")
    if answer is None:
        return quiet_false()
    right = rnn_param_count(input_size, hidden_size, num_layers, bidirectional)
    if answer == right:
        return verdict(True, f"{right} 个参数。")
    D, H, I = (2 if bidirectional else 1), hidden_size, input_size
    one_bias = sum(D * (H * (I if l == 0 else D * H) + H * H + H) for l in range(num_layers))
    same_input = sum(D * (H * I + H * H + 2 * H) for _ in range(num_layers))
    hints = {
        rnn_param_count(I, H, num_layers, False): "只算了一个方向：双向 RNN 每层有正向、反向两套 U、W、b。",
        one_bias: "PyTorch 每个方向有两个偏置 b_ih 和 b_hh（它们的和才是讲义里的 b），别漏掉一个。",
        same_input: "第 2 层的输入不是 x，而是第 1 层两个方向拼接起来的 h，维度是 2×hidden_size。",
        rnn_param_count(I, H, 1, bidirectional): "只算了第 1 层：num_layers=2 还有第 2 层。",
    }
    return verdict(False, hints.get(answer, f"应为 {right}，得到 {describe(answer)}。逐层、逐方向数：U 是 (H, 输入维度)，"
                                            "W 是 (H, H)，再加两个长度为 H 的偏置。"))


# ----------------------------------------------------------------------------- exercise 2
@checker
def check_rnn_step(fn) -> Verdict:
    """``fn(x, h, U, W, b) -> h_t`` must compute h_t = tanh(x Uᵀ + h Wᵀ + b) for a batch (rows)."""
    g = generator(3)
    B, I, H = 4, 3, 5
    x, h = torch.randn(B, I, generator=g, dtype=torch.float64), torch.randn(B, H, generator=g, dtype=torch.float64)
    U, W = torch.randn(H, I, generator=g, dtype=torch.float64), torch.randn(H, H, generator=g, dtype=torch.float64)
    b = torch.randn(H, generator=g, dtype=torch.float64)
    ok, out = run_student(fn, (x, h, U, W, b), "fn(x, h, U, W, b)", "提示：x 是 (B, I)，U 是 (H, I)，所以写 x @ U.T。")
    if not ok:
        return quiet_false()
    right = rnn_cell(x, h, U, W, b, None)
    got = read_tensor(out, tuple(right.shape), "返回的 h_t")
    if got is None:
        return quiet_false()
    dtype = answer_dtype(out)
    if close(got, right, dtype=dtype):
        return verdict(True, "h_t = tanh(U x_t + W h_{t-1} + b)，和 helpers.nn.rnn.rnn_cell 一致。")
    pre = x @ U.T + h @ W.T + b
    mistakes = [
        (pre, "忘了激活函数：h_t = tanh(…)。"),
        (torch.tanh(x @ U.T + h @ W + b), "W 用反了：按行存放的批量要写 h @ W.T（即 W h_{t-1}）。"),
        (torch.tanh(x @ U.T + h @ W.T), "忘了偏置 b（它在所有时间步共享，没有下标 t）。"),
        (torch.tanh(x @ U.T + b), "漏掉了循环项 W h_{t-1}：没有它，RNN 就没有记忆。"),
        (torch.sigmoid(pre), "这里用的是 tanh，不是 sigmoid。"),
    ]
    for wrong, hint in mistakes:
        if close(got, wrong, dtype=dtype):
            return verdict(False, hint)
    err = float((got - right).abs().max())
    return verdict(False, f"数值不对（和正确结果最大相差 {err:.3g}）。对照公式 h_t = tanh(U x_t + W h_{{t-1}} + b)，"
                          "注意按行存放时的转置。")


# ----------------------------------------------------------------------------- exercise 3
BMES_EXAMPLE = ["我们", "是", "共产主义", "接班人"]


@checker
def check_bmes(answer, words=tuple(BMES_EXAMPLE)) -> Verdict:
    """The BMES tag string of ``words`` (default: 我们 / 是 / 共产主义 / 接班人)."""
    if unanswered(answer):
        return quiet_false()
    answer = read_text(answer, "BMES 标签串")
    if answer is None:
        return quiet_false()
    answer = answer.replace(" ", "").replace("/", "")
    right = words_to_bmes(list(words))
    if answer == right:
        return verdict(True, f"{''.join(words)} → {right}")
    if answer.upper() == right:
        return verdict(False, "标签用大写字母 B、M、E、S。")
    if set(answer.upper()) - set("BMES"):
        return verdict(False, f"只能用 B、M、E、S 四个字母，得到 {answer!r}。")
    n = len("".join(words))
    if len(answer) != n:
        return verdict(False, f"每个字一个标签：{n} 个字需要 {n} 个字母，你给了 {len(answer)} 个（{answer!r}）。")
    chars = "".join(words)
    wrong = [(i, a, r) for i, (a, r) in enumerate(zip(answer.upper(), right)) if a != r]
    i, a, r = wrong[0]
    why = {"S": "它单字成词，标 S",
           "B": "它是多字词的第一个字，标 B",
           "E": "它是多字词的最后一个字，标 E",
           "M": "它在多字词的中间（不是第一个也不是最后一个字），标 M"}[r]
    more = f"（共 {len(wrong)} 处不对）" if len(wrong) > 1 else ""
    return verdict(False, f"第 {i + 1} 个字“{chars[i]}”应是 {r}，你写了 {a}：{why}。{more}")


# ----------------------------------------------------------------------------- exercise 4 (experiment)
HALF_BAND = (-0.03, 0.02)      # plausible F1(half) − F1(full) for the same budget (measured: −0.006 ... −0.002)


def _rnn_of(model):
    rnn = getattr(model, "rnn", None)
    return rnn if isinstance(rnn, torch.nn.RNNBase) else None


@checker
def check_half_hidden(model, f1_change, full_model, texts, gold, vocab) -> Verdict:
    """A tagger with half the hidden size (``model``, trained by the student) and the reported
    ``f1_change`` = F1(half) − F1(full). The checker re-scores both models on ``texts`` (no
    training, a second or two) and judges the student's own result."""
    from ..segmentation import segment, word_prf

    if unanswered(model):
        return quiet_false()
    rnn, full_rnn = _rnn_of(model), _rnn_of(full_model)
    if full_rnn is None:
        return verdict(False, f"full_model 应是本章训练好的 RNNTagger，得到 {describe(full_model)}。")
    if rnn is None:
        return verdict(False, f"model 应是一个 seg.RNNTagger（有 .rnn 层），得到 {describe(model)}。")
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
    f1_full = word_prf(gold, segment(full_model, texts, vocab))["f1"]
    f1_half = word_prf(gold, segment(model, texts, vocab))["f1"]
    measured = f1_half - f1_full
    n_full = sum(p.numel() for p in full_rnn.parameters())
    n_half = sum(p.numel() for p in rnn.parameters())
    said = (f"F1：原模型 {f1_full:.4f}，减半 {f1_half:.4f}，变化 {measured:+.4f}；"
            f"循环层参数 {n_full} → {n_half}（{n_half / n_full:.0%}）。")
    if abs(change - measured) > 5e-4:
        if abs(change + measured) <= 5e-4 and abs(measured) > 5e-4:
            return verdict(False, "符号反了：变化 = F1(减半) − F1(原来)。" + said)
        if abs(change / 100 - measured) <= 5e-4 * 1.01 and abs(measured) > 5e-4:
            return verdict(False, "这是百分点；请给小数（例如 -0.004，不是 -0.4）。" + said)
        if abs(change - f1_half) <= 5e-4:
            return verdict(False, "这是减半模型的 F1 本身；题目要的是变化量 F1(减半) − F1(原来)。" + said)
        return verdict(False, f"你报告的变化是 {change:+.4f}，但重新评估你的模型得到 {measured:+.4f}。" + said)
    if f1_half < 0.5:
        return verdict(False, "减半的模型看起来没训练好（F1 < 0.5）：用和原模型相同的训练轮数和学习率训练。" + said)
    low, high = HALF_BAND
    if not low <= measured <= high:
        return verdict(False, f"变化超出了同等训练预算下的合理范围 [{low}, {high}]：训练轮数、学习率、"
                              "批量是否和原模型一样？" + said)
    return verdict(True, said + "隐藏维度减半，F1 只变了这么一点：在这个任务和预算下，隐藏维度不是瓶颈。")
