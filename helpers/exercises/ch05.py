"""Checkers for chapter 05 (LSTM).

Each checker prints one verdict line and returns a :class:`~helpers.exercises._core.Verdict`
(truthy when right, shows nothing in a notebook); none raises, whatever the answer.

1. ``check_lstm_step(fn)``: one LSTM step in PyTorch's layout, fn(x, h, c, W_ih, W_hh, b_ih, b_hh).
   In-place updates (``c *= f; c += i * g``) are fine: the student's function gets copies.
2. ``check_forget_bias(answer)``: the smallest forget-gate bias b for which the cell path keeps
   σ(b)^T ≥ keep of the gradient over T steps (f_t taken as σ(b) at every step); (T, keep) from
   ``forget_bias_inputs()`` (100 steps, 0.1 in the chapter).
3. ``check_bias_experiment(answer)`` (experiment): the student trains the LSTM on the adding
   problem with forget-gate bias 0 and 1 (seed ``bias_experiment_seed()``, the chapter's budget)
   and reports the epochs each needed; the checker re-runs both trainings itself, checks that the
   student's histories are those runs, and judges the epochs against them.

Per-student variants (helpers.exercises._core.variant): every checker takes ``v=None`` (the
current student's variant; 0 outside the class hub = the chapter as taught). Functions marked
``@reference`` compute expected answers (or the wrong answers that hints name); the student
edition ships them without a body, and its checkers then say the exercise is graded after
submission.
"""
from __future__ import annotations

import math

import torch

from ..env import generator
from ..nn.lstm import lstm_cell
from ._core import (answer_dtype, checker, close, describe, quiet_false, read_int,
                   read_number, read_tensor, reference, run_student, unanswered, variant,
                   variant_generator, variant_rng, verdict)


def _v(v) -> int:
    return variant() if v is None else int(v)


# ----------------------------------------------------------------------------- exercise 1
def lstm_step_inputs(v: int | None = None):
    """(x, h, c, W_ih, W_hh, b_ih, b_hh) the checker tests a student's step on: variant 0 the
    chapter's fixed draw (B = 3, I = 4, H = 5), other variants their own draw and sizes."""
    v = _v(v)
    if v == 0:
        g, (B, I, H) = generator(5), (3, 4, 5)
    else:
        g = variant_generator("ch05.lstm_step", v)
        B, I, H = (int(n) for n in torch.randint(2, 7, (3,), generator=g))
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)
    x, h, c = r(B, I), r(B, H), r(B, H)
    W_ih, W_hh, b_ih, b_hh = r(4 * H, I), r(4 * H, H), r(4 * H), r(4 * H)
    return x, h, c, W_ih, W_hh, b_ih, b_hh


def _data(seed: int = 5, B: int = 3, I: int = 4, H: int = 5):
    """Kept for older callers: the chapter's fixed draw (variant 0)."""
    return lstm_step_inputs(0) if (seed, B, I, H) == (5, 3, 4, 5) else _draw(seed, B, I, H)


def _draw(seed, B, I, H):
    g = generator(seed)
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)
    return r(B, I), r(B, H), r(B, H), r(4 * H, I), r(4 * H, H), r(4 * H), r(4 * H)


@reference
def lstm_step_reference(x, h, c, W_ih, W_hh, b_ih, b_hh):
    """The expected (h_t, C_t): the course's from-scratch cell (equal to torch.nn.LSTM)."""
    return lstm_cell(x, (h, c), W_ih, W_hh, b_ih, b_hh)


@reference
def _lstm_variant(x, h, c, W_ih, W_hh, b_ih, b_hh, order="ifgo", bias=True, act_g=torch.tanh,
                  act_gate=torch.sigmoid, recurrent_g=True, tanh_c=True, use_i=True):
    """One LSTM step with one deliberate change: the mistakes students make, to recognise them."""
    blocks = {}
    Wi, Wh = W_ih.chunk(4), W_hh.chunk(4)
    bi, bh = b_ih.chunk(4), b_hh.chunk(4)
    for k, name in enumerate(order):                    # the block a student *thinks* is gate `name`
        a = x @ Wi[k].T + (h @ Wh[k].T if (name != "g" or recurrent_g) else 0)
        if bias:
            a = a + bi[k] + bh[k]
        blocks[name] = a
    i, f, o = (act_gate(blocks[n]) for n in "ifo")
    g = act_g(blocks["g"])
    c_new = f * c + (i * g if use_i else g)
    h_new = o * (torch.tanh(c_new) if tanh_c else c_new)
    return h_new, c_new


STEP_MISTAKES = [
    (dict(order="ifog"), "门的顺序错了：PyTorch 按 i, f, g, o 堆叠，第三块是候选 g（C̃），第四块才是输出门 o。"),
    (dict(order="figo"), "门的顺序错了：第一块是输入门 i，第二块才是遗忘门 f（PyTorch 顺序 i, f, g, o）。"),
    (dict(order="gifo"), "门的顺序错了：PyTorch 的顺序是 i, f, g, o。"),
    (dict(bias=False), "漏了偏置：每个门都有 b_ih 和 b_hh 两个偏置（讲义的公式把它们省略了，勘误 E7）。"),
    (dict(act_g=torch.sigmoid), "候选 g = C̃_t 要用 tanh（取值 −1..1，可以加也可以减），不是 sigmoid。"),
    (dict(act_gate=torch.tanh), "三个门 i, f, o 要用 sigmoid（取值 0..1，表示“开多少”），不是 tanh。"),
    (dict(act_g=torch.sigmoid, act_gate=torch.tanh), "tanh 和 sigmoid 用反了：门用 σ，候选 g 用 tanh。"),
    (dict(recurrent_g=False), "候选 g 漏了循环项 W_hg h_{t−1}（讲义里的 c_hh h_{t−1} 是笔误，勘误 E7）。"),
    (dict(tanh_c=False), "输出门乘的是 C_t 过了 tanh 之后的值，不是 C_t 本身。"),
    (dict(use_i=False), "新信息（候选 g）写进细胞状态之前要先乘输入门。"),
]


def _pair(out):
    """(h, c) from a returned pair (tuple or list of two tensors/arrays/lists), else None."""
    if isinstance(out, (tuple, list)) and len(out) == 2:
        return out
    return None


@checker
def check_lstm_step(fn, v=None):
    """``fn(x, h, c, W_ih, W_hh, b_ih, b_hh) -> (h_t, C_t)``: one LSTM step in PyTorch's layout
    (blocks i, f, g, o stacked in the rows of W_ih / W_hh / biases; batch in rows)."""
    args = lstm_step_inputs(v)
    ok, out = run_student(fn, args, "fn(x, h, c, W_ih, W_hh, b_ih, b_hh)",
                          "提示：x 是 (B, I)，W_ih 是 (4H, I)，用 W_ih.chunk(4) 切出 i, f, g, o 四块。")
    if not ok:
        return quiet_false()
    pair = _pair(out)
    if pair is None:
        return verdict(False, f"请返回两个张量 (h_t, C_t)，得到 {describe(out)}。")
    right_h, right_c = lstm_step_reference(*args)
    shape = tuple(right_h.shape)
    h_t = read_tensor(pair[0], shape, "返回的 h_t")
    if h_t is None:
        return quiet_false()
    c_t = read_tensor(pair[1], shape, "返回的 C_t")
    if c_t is None:
        return quiet_false()
    dtype = answer_dtype(pair[0])
    same = lambda a, b: close(a, b, dtype=dtype)
    if same(h_t, right_h) and same(c_t, right_c):
        return verdict(True, "C_t = f⊙C_{t−1} + i⊙g，h_t = o⊙tanh(C_t)，和 helpers.nn.lstm.lstm_cell 一致。")
    if same(h_t, right_c) and same(c_t, right_h):
        return verdict(False, "返回顺序反了：先 h_t，再 C_t。")
    for change, hint in STEP_MISTAKES:
        wrong_h, wrong_c = _lstm_variant(*args, **change)
        if same(h_t, wrong_h) and same(c_t, wrong_c):
            return verdict(False, hint)
    if same(c_t, right_c):
        return verdict(False, "C_t 对了，h_t 不对：检查输出门是哪一块、它乘的是什么。")
    return verdict(False, "数值不对。检查切块的顺序（PyTorch：i, f, g, o）、每块的两个偏置、"
                          "门和候选各用哪个激活函数，以及 C_t、h_t 的更新。")


# ----------------------------------------------------------------------------- exercise 2
BIAS_T, BIAS_KEEP = 100, 0.1        # over T = 100 steps, keep at least 0.1 of the gradient
# The notebook asks for two decimals: an answer within half a unit of the second decimal (plus
# float slack) is right; every named mistake lies far outside (tests check it for every variant).
BIAS_TOL = 0.0051


def forget_bias_inputs(v: int | None = None) -> tuple[int, float]:
    """(T, keep) of exercise 2: variant 0 (100, 0.1) as in the chapter; other variants T in
    40..200 (steps of 10) and keep in 0.02..0.5 (two decimals)."""
    v = _v(v)
    if v == 0:
        return BIAS_T, BIAS_KEEP
    rng = variant_rng("ch05.forget_bias", v)
    return int(rng.integers(4, 21)) * 10, round(float(rng.uniform(0.02, 0.5)), 2)


@reference
def forget_bias_needed(T: int = BIAS_T, keep: float = BIAS_KEEP) -> float:
    """Smallest b with σ(b)^T ≥ keep: f = keep^(1/T), b = σ⁻¹(f) = ln(f / (1 − f))."""
    f = keep ** (1 / T)
    return math.log(f / (1 - f))


@reference
def forget_bias_mistakes(T: int, keep: float) -> list:
    """(wrong b, hint) for the slips the checker names."""
    logit = lambda p: math.log(p / (1 - p))
    f = keep ** (1 / T)
    return [
        (logit(keep), f"你让每一步的 f 都等于 {keep:g}。要的是 {T} 步连乘之后还剩 {keep:g}。"),
        (f, "这是遗忘门 f 本身；题目要的是偏置 b：σ(b) 等于它。"),
        (-forget_bias_needed(T, keep), "符号反了：σ(b) 要接近 1，b 应为正。"),
        (math.log(f), "ln(f) 不是 σ 的反函数：要解的是 σ(b) = f。"),
    ]


@checker
def check_forget_bias(answer, v=None):
    """``answer``: the smallest forget-gate bias b (a number) with σ(b)^T ≥ keep, (T, keep) from
    ``forget_bias_inputs()``."""
    if unanswered(answer):
        return quiet_false()
    b = read_number(answer, "偏置 b")
    if b is None:
        return quiet_false()
    T, keep = forget_bias_inputs(v)
    right = forget_bias_needed(T, keep)
    if abs(b - right) <= BIAS_TOL:
        return verdict(True, f"每一步 f = σ(b) ≈ {keep ** (1 / T):.4f}，{T} 步后还剩 {keep:g}。"
                             f"对比：b = 0 时 0.5^{T} ≈ {0.5 ** T:.0e}。")
    for wrong, hint in forget_bias_mistakes(T, keep):
        if abs(b - wrong) <= 0.02:
            return verdict(False, hint)
    if abs(b - right) <= 0.15:
        return verdict(False, f"接近了，但不够准：中间结果不要先四舍五入，最后保留两位小数。")
    kept = 1 / (1 + math.exp(-b)) if b > -700 else 0.0
    way = "大了（σ(b)^T 比要求的多，不是最小的 b）" if kept ** T > keep else "小了（σ(b)^T 不够）"
    return verdict(False, f"你的 b {way}。先求每一步至少要留下的比例 f，再解 σ(b) = f。")


# ----------------------------------------------------------------------------- exercise 3
EXPERIMENT_STOP = 0.003             # "solved": the first epoch whose validation MSE is <= this
EXPERIMENT_KEYS = ("history_0", "history_1", "epochs")
# The chapter's budget (section 4's BUDGET, T_ADD): the checker re-runs both trainings with it.
EXPERIMENT_T = 30
EXPERIMENT_BUDGET = dict(epochs=12, stop_mse=EXPERIMENT_STOP, keep_best=True)


def bias_experiment_seed(v: int | None = None) -> int:
    """The training seed of exercise 3: 0 in variant 0 (section 4's seed-0 LSTM is the bias-1
    run), else a seed drawn for the variant (both runs are then the student's own)."""
    v = _v(v)
    if v == 0:
        return 0
    return int(variant_rng("ch05.bias_experiment", v).integers(1, 10_000))


_RUNS: dict = {}


def _rerun(seed: int, forget_bias: float):
    """The checker's own training run (memoised per seed offset and thread count in this process)."""
    from ..adding import train_adding
    from ..env import seed_offset

    key = (seed, forget_bias, EXPERIMENT_T, tuple(sorted(EXPERIMENT_BUDGET.items())), seed_offset(),
           torch.get_num_threads())
    if key not in _RUNS:
        _RUNS[key] = train_adding("lstm", EXPERIMENT_T, seed=seed, forget_bias=forget_bias, progress=False,
                                  **EXPERIMENT_BUDGET)[1]
    return _RUNS[key]


def _same_run(history, run) -> bool:
    """True when ``history`` holds the same per-epoch validation and test MSE as ``run``."""
    try:
        a, b = history.metrics, run.metrics
        return len(a) == len(b) and all(
            math.isclose(float(x["val_mse"]), y["val_mse"], rel_tol=1e-6, abs_tol=1e-9)
            and math.isclose(float(x["test_mse"]), y["test_mse"], rel_tol=1e-6, abs_tol=1e-9)
            for x, y in zip(a, b))
    except Exception:
        return False


@reference
def epochs_needed(history, key: str = "val_mse", stop: float = EXPERIMENT_STOP) -> int | None:
    """The first epoch (counted from 1) whose ``key`` in ``history.metrics`` is <= ``stop``; None if none."""
    for epoch, metrics in enumerate(history.metrics, 1):
        if metrics[key] <= stop:
            return epoch
    return None


@reference
def bias_experiment_slips(got: tuple, h0, h1) -> str | None:
    """The hint for a wrong pair of epochs read from genuine histories, or None."""
    right = (epochs_needed(h0), epochs_needed(h1))
    if got == right[::-1]:
        return "两个轮数对调了：先写偏置 0，再写偏置 1。"
    if tuple(None if g is None else g + 1 for g in got) == right:
        return "轮数差了 1：history.metrics[0] 是第 1 轮，请从 1 数起。"
    if got == (epochs_needed(h0, "test_mse"), epochs_needed(h1, "test_mse")):
        return "你看的是测试集的 MSE。早停和“用了几轮”都按验证集（val_mse）来数，测试集只在最后用一次。"
    if any(r is None and g == len(h.loss) for g, r, h in zip(got, right, (h0, h1))):
        return ("有一次训练的验证 MSE 一直没降到 0.003：那一项应填 None（在预算内没学会），"
                "而不是训练的总轮数。")
    return None


def _read_history(value, name: str):
    """The student's training history (``train_adding(...)[1]``) with a validation MSE per epoch."""
    metrics = getattr(value, "metrics", None)
    ok = isinstance(metrics, list) and metrics and all(
        isinstance(m, dict) and isinstance(m.get("val_mse"), float) and isinstance(m.get("test_mse"), float)
        for m in metrics)
    if not ok:
        verdict(False, f"{name} 应是 train_adding(...) 返回的第二项（history），并且训练时用了验证集"
                       f"（stop_mse=...），得到 {describe(value)}。")
        return None
    return value


def _read_epochs(value):
    """(e0, e1): each a positive int or None (not solved within the budget)."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        verdict(False, f"epochs 应是两个数 (偏置 0 的轮数, 偏置 1 的轮数)，得到 {describe(value)}。")
        return None
    out = []
    for item, name in zip(value, ("偏置 0 的轮数", "偏置 1 的轮数")):
        if item is None:
            out.append(None)
            continue
        n = read_int(item, name)
        if n is None:
            return None
        if n < 1:
            verdict(False, f"{name}应是从 1 数起的轮数（或 None），得到 {n}。")
            return None
        out.append(n)
    return tuple(out)


@checker
def check_bias_experiment(answer, v=None):
    """``answer``: {"history_0": history with forget_bias 0, "history_1": with forget_bias 1,
    "epochs": (e0, e1)}: the first epoch (from 1) whose validation MSE was <= 0.003 in each run,
    None for a run that never got there. Both runs use seed ``bias_experiment_seed()``, T = 30
    and the chapter's budget; the checker re-runs them and judges the student's histories and
    epochs against its own runs."""
    if unanswered(answer):
        return quiet_false()
    if not isinstance(answer, dict) or set(answer) != set(EXPERIMENT_KEYS):
        return verdict(False, "answer 应是字典 {\"history_0\": ..., \"history_1\": ..., \"epochs\": (e0, e1)}，"
                              f"得到 {describe(answer)}。")
    h0 = _read_history(answer["history_0"], "history_0")
    if h0 is None:
        return quiet_false()
    h1 = _read_history(answer["history_1"], "history_1")
    if h1 is None:
        return quiet_false()
    if h0 is h1 or h0.metrics == h1.metrics:
        return verdict(False, "history_0 和 history_1 是同一次训练：偏置 0 要单独训练一次（forget_bias=0.0）。")
    got = _read_epochs(answer["epochs"])
    if got is None:
        return quiet_false()
    seed = bias_experiment_seed(v)
    run0, run1 = _rerun(seed, 0.0), _rerun(seed, 1.0)
    if _same_run(h0, run1) and _same_run(h1, run0):
        return verdict(False, "两次训练放反了：history_0 是遗忘门偏置 0 的那次，history_1 是偏置 1 的那次。")
    for h, run, name, bias in ((h0, run0, "history_0", "0.0"), (h1, run1, "history_1", "1.0")):
        if not _same_run(h, run):
            return verdict(False, f"{name} 不是这道题要的那次训练：用 train_adding(\"lstm\", T_ADD, "
                                  f"seed=seed_ex, forget_bias={bias}, **BUDGET) 训练（seed_ex 由练习单元格给出，"
                                  "T_ADD = 30 和 BUDGET 不要改），把返回的第二项交上来。")
    right = (epochs_needed(run0), epochs_needed(run1))
    if got == right:
        shown = (f"\n  你的训练记录：偏置 0 → {_epochs_text(right[0], run0)}，"
                 f"偏置 1 → {_epochs_text(right[1], run1)}")
        return verdict(True, _conclusion(right) + shown)
    hint = bias_experiment_slips(got, run0, run1)
    if hint:
        return verdict(False, hint)
    return verdict(False, "和你的训练记录对不上：对每次训练，找验证 MSE（val_mse）第一次 ≤ 0.003 的那一轮"
                          "（从 1 数起），没有这样的轮就填 None。")


def _epochs_text(epochs: int | None, history) -> str:
    if epochs is None:
        return f"{len(history.loss)} 轮内没有降到 {EXPERIMENT_STOP}"
    return f"第 {epochs} 轮验证 MSE ≤ {EXPERIMENT_STOP}"


def _conclusion(epochs: tuple) -> str:
    """What the student's own run shows, and why one run is not enough."""
    e0, e1 = epochs
    if e0 is None and e1 is None:
        what = "这次两种偏置都没在预算内学会。"
    elif e0 is None:
        what = "这次只有偏置 1 在预算内学会了。"
    elif e1 is None:
        what = "这次只有偏置 0 在预算内学会了。"
    elif e1 < e0:
        what = f"这次偏置 1 少用了 {e0 - e1} 轮。"
    elif e1 > e0:
        what = f"这次偏置 1 反而多用了 {e1 - e0} 轮。"
    else:
        what = "这次两者用的轮数一样。"
    return what + "这只是一个种子：换几个种子各做一次，看差别是否总朝同一个方向，再下结论。"
