"""Checkers for chapter 06 (GRU). Each prints one verdict line and returns a Verdict; none raises.

1. ``check_gru_step(fn)``: one GRU step in PyTorch's layout; recognises the common slips.
2. ``check_param_counts(answer)``: the parameter counts of ``nn.LSTM(I, H)``, ``nn.GRU(I, H)``
   for (I, H) = ``param_case()`` ((30, 64) in the chapter).
3. ``check_gate_shift(answer, model, data)``: an experiment. The student shifts the update-gate
   bias of the chapter's trained adding-problem GRU by several amounts Δ (at least those of
   ``gate_shift_inputs()``) and reports the test MSE for each on the test data of
   ``gate_shift_inputs()``; the checker trains the chapter's GRU again itself (it does not trust
   the model it is handed), re-measures every number, and says what the student's own
   measurements show.

Per-student variants (helpers.exercises._core.variant): every checker takes ``v=None`` (the
current student's variant; 0 outside the class hub = the chapter as taught). Functions marked
``@reference`` compute expected answers (or the wrong answers that hints name); the student
edition ships them without a body.
"""
from __future__ import annotations

import copy
import re
import unicodedata

import torch

from ..nn.gru import gru_cell
from ..env import generator
from ._core import (Verdict, answer_dtype, checker, close, describe, quiet_false, read_int, read_number,
                   read_tensor, reference, run_student, unanswered, variant, variant_generator,
                   variant_rng, verdict)


def _v(v) -> int:
    return variant() if v is None else int(v)


LINE_WIDTH = 72        # display columns (a Chinese character counts 2): fits a projected notebook


def width(text: str) -> int:
    """Display width of ``text``: wide (Chinese) characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def fit(message: str, limit: int = LINE_WIDTH) -> str:
    """Break a message into lines of at most ``limit`` columns, only after clause punctuation
    (，；。：), so that the browser never has to wrap a line, let alone inside a number."""
    lines, line = [], ""
    for piece in re.split(r"(?<=[，；。：])", message):
        if line and width(line + piece) > limit:
            lines.append(line)
            line = piece
        else:
            line += piece
    lines.append(line)
    return "\n".join(lines)


def say(ok: bool, message: str) -> Verdict:
    """The verdict, its message broken into projector-width lines (see :func:`fit`)."""
    return verdict(ok, fit(message))


def _data(seed: int = 7, B: int = 3, I: int = 4, H: int = 5):
    g = generator(seed)                              # the checker's own test data (variant 0)
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)
    return r(B, I), r(B, H), r(3 * H, I), r(3 * H, H), r(3 * H), r(3 * H)


def gru_step_inputs(v: int | None = None):
    """(x, h, W_ih, W_hh, b_ih, b_hh) the checker tests a student's step on: variant 0 the
    chapter's fixed draw (B = 3, I = 4, H = 5), other variants their own draw and sizes."""
    v = _v(v)
    if v == 0:
        return _data()
    g = variant_generator("ch06.gru_step", v)
    B, I, H = (int(n) for n in torch.randint(2, 7, (3,), generator=g))
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)
    return r(B, I), r(B, H), r(3 * H, I), r(3 * H, H), r(3 * H), r(3 * H)


@reference
def gru_step_reference(x, h, W_ih, W_hh, b_ih, b_hh):
    """The expected h_t: the course's from-scratch cell (equal to torch.nn.GRU)."""
    return gru_cell(x, h, W_ih, W_hh, b_ih, b_hh)


@reference
def _gru_variant(x, h, W_ih, W_hh, b_ih, b_hh, order="rzn", bias=True, act_n=torch.tanh,
                 act_gate=torch.sigmoid, reset="pytorch", swap_z=False):
    """One GRU step with one deliberate change: the mistakes students make, to recognise them.

    reset: 'pytorch' r ⊙ (W_hn h + b_hn); 'cho' W_hn (r ⊙ h) + b_hn (reset before the matrix);
    'all' r ⊙ (whole pre-activation); 'none' no reset gate.
    """
    Wi, Wh = dict(zip(order, W_ih.chunk(3))), dict(zip(order, W_hh.chunk(3)))
    bi, bh = dict(zip(order, b_ih.chunk(3))), dict(zip(order, b_hh.chunk(3)))
    if not bias:
        bi = bh = {k: 0 for k in "rzn"}
    r = act_gate(x @ Wi["r"].T + bi["r"] + h @ Wh["r"].T + bh["r"])
    z = act_gate(x @ Wi["z"].T + bi["z"] + h @ Wh["z"].T + bh["z"])
    xin = x @ Wi["n"].T + bi["n"]
    hn = h @ Wh["n"].T + bh["n"]
    if reset == "pytorch":
        a = xin + r * hn
    elif reset == "cho":
        a = xin + (r * h) @ Wh["n"].T + bh["n"]
    elif reset == "all":
        a = r * (xin + hn)
    else:
        a = xin + hn
    n = act_n(a)
    return (1 - z) * h + z * n if swap_z else z * h + (1 - z) * n


GRU_MISTAKES = [
    (dict(swap_z=True), "z 和 1 − z 用反了：PyTorch 写 h_t = z ⊙ h_{t−1} + (1 − z) ⊙ h̃（z ≈ 1 保留旧状态）。"
                        "另一种写法也是 GRU，但和 torch.nn.GRU 的权重对不上（勘误 E9）。"),
    (dict(reset="cho"), "重置门放错了位置：你写的是 Cho 等人的 W_hn (r ⊙ h)；"
                        "PyTorch 是 r ⊙ (W_hn h + b_hn)，先乘矩阵、加偏置，再乘 r。"),
    (dict(reset="all"), "重置门只作用在循环部分 (W_hn h + b_hn) 上，不乘输入部分 W_in x + b_in。"),
    (dict(reset="none"), "候选状态漏了重置门：h̃ = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))。"),
    (dict(order="zrn"), "门的顺序错了：PyTorch 按 r, z, n 堆叠，第一块是重置门 r，第二块才是更新门 z。"),
    (dict(bias=False), "漏了偏置：每块都有 b_ih 和 b_hh 两个偏置（b_hn 在 r 的括号里）。"),
    (dict(act_n=torch.sigmoid), "候选 h̃ 要用 tanh，不是 sigmoid。"),
    (dict(act_gate=torch.tanh), "门 r 和 z 要用 sigmoid（0..1 之间的比例），不是 tanh。"),
    (dict(act_n=torch.sigmoid, act_gate=torch.tanh), "tanh 和 sigmoid 用反了：门用 σ，候选 h̃ 用 tanh。"),
    (dict(swap_z=True, reset="cho"), "两处不同：z 和 1 − z 对调了，重置门也放在了矩阵之前（Cho 等人的写法）。"),
]


# ----------------------------------------------------------------------------- exercise 1
@checker
def check_gru_step(fn, v=None):
    """``fn(x, h, W_ih, W_hh, b_ih, b_hh) -> h_t``: one GRU step in PyTorch's layout
    (blocks r, z, n stacked in the rows of W_ih / W_hh / biases; batch in rows)."""
    args = gru_step_inputs(v)
    ok, out = run_student(fn, args, "fn(x, h, W_ih, W_hh, b_ih, b_hh)",
                          "提示：x 是 (B, I)，W_ih 是 (3H, I)，用 W_ih.chunk(3) 切出 r, z, n 三块。")
    if not ok:
        return quiet_false()
    right = gru_step_reference(*args)
    got = read_tensor(out, tuple(right.shape), "h_t")
    if got is None:
        return quiet_false()
    dtype = answer_dtype(out)
    if close(got, right, dtype=dtype):
        return say(True, "h̃ = tanh(W_in x + b_in + r⊙(W_hn h + b_hn))，"
                             "h_t = z⊙h_{t−1} + (1−z)⊙h̃：与 torch.nn.GRU 一致。")
    if float(got.abs().max()) < 1e-6:
        return say(False, "h_t 全是 0：是不是只建了输出张量，还没有把计算结果写进去（或返回了错的变量）？")
    for change, hint in GRU_MISTAKES:
        wrong = _gru_variant(*args, **change)
        # a hint fires only for its own mistake: the answer matches that variant, not the right step
        if close(got, wrong, dtype=dtype) and not close(wrong, right, dtype=dtype):
            return say(False, hint)
    if close(got, args[1], dtype=dtype):
        return say(False, "h_t 就是 h_{t−1}：新旧混合还缺候选 h̃ 那一项。")
    return say(False, "数值不对。检查切块的顺序（PyTorch：r, z, n）、每块的两个偏置、重置门乘在哪里、"
                      "门和候选各用哪个激活函数，以及新旧状态怎样混合。")



# ----------------------------------------------------------------------------- exercise 2
PARAM_CASE = (30, 64)      # (input_size I, hidden_size H) in the chapter


def param_case(v: int | None = None) -> tuple[int, int]:
    """(I, H) of exercise 2: variant 0 (30, 64); other variants I in 5..120, H in 8..200."""
    v = _v(v)
    if v == 0:
        return PARAM_CASE
    rng = variant_rng("ch06.param_counts", v)
    return int(rng.integers(5, 121)), int(rng.integers(8, 201))


@reference
def gate_param_count(gates: int, I: int, H: int) -> int:
    """One layer of torch.nn.LSTM (gates=4) or nn.GRU (gates=3): gates·(H·I + H·H + 2H)."""
    return gates * (H * I + H * H + 2 * H)


@reference
def param_count_slip(kind: str, a: int, I: int, H: int) -> str:
    """The hint for a wrong count ``a`` of ``kind`` ('lstm' or 'gru')."""
    G = 4 if kind == "lstm" else 3
    if a == G * (H * I + H * H + H):
        return f"{kind}：每块有两个偏置 b_ih 和 b_hh（PyTorch 保留两个），你只数了一个。"
    if a == G * (H * I + H * H):
        return f"{kind}：漏了偏置，每块还有 b_ih、b_hh。"
    if a == H * I + H * H + 2 * H:
        return f"{kind}：只算了一块，要乘块数。"
    if a == (3 if G == 4 else 4) * (H * I + H * H + 2 * H):
        return f"{kind}：块数不对，LSTM 4 块（i, f, g, o），GRU 3 块（r, z, n）。"
    if a == G * (H * I + H * H + 2 * H) + H + 1:
        return f"{kind}：只数循环层本身，不含输出层。"
    if a == G * (H * I + H * I + 2 * H) or a == G * (H * H + H * H + 2 * H):
        return f"{kind}：W_i* 是 H×I（作用在输入上），W_h* 是 H×H（作用在上一步的状态上）。"
    return (f"{kind}：个数不对。每块有一个作用在输入上的矩阵、一个作用在上一步状态上的矩阵，"
            "再加两个偏置。")


@checker
def check_param_counts(answer, v=None):
    """``answer``: {'lstm': n, 'gru': n}, the trainable numbers of nn.LSTM(I, H), nn.GRU(I, H)
    for (I, H) = ``param_case()``."""
    if unanswered(answer):
        return quiet_false()
    I, H = param_case(v)
    if not isinstance(answer, dict):
        return say(False, "请给出一个字典 {'lstm': 整数, 'gru': 整数}，得到 "
                              f"{type(answer).__name__}。")
    keys = {str(k).strip().lower(): v for k, v in answer.items()}
    if set(keys) != {"lstm", "gru"}:
        return say(False, "请给出一个字典 {'lstm': 整数, 'gru': 整数}，得到的键是 "
                              f"{describe(sorted(map(str, answer)))}。")
    got = {}
    for kind in ("lstm", "gru"):
        value = read_int(keys[kind], f"{kind} 的参数个数")
        if value is None:
            return quiet_false()
        got[kind] = value
    right = {"lstm": gate_param_count(4, I, H), "gru": gate_param_count(3, I, H)}
    if got == right:
        return say(True, f"LSTM 4·(HI + HH + 2H) = {right['lstm']}，"
                         f"GRU 3·(…) = {right['gru']}：GRU 少 1/4。")
    if got == {"lstm": right["gru"], "gru": right["lstm"]}:
        return say(False, "两个数对调了：LSTM 有 4 块（i, f, g, o），GRU 有 3 块（r, z, n）。")
    hints = [param_count_slip(kind, got[kind], I, H) for kind in ("lstm", "gru") if got[kind] != right[kind]]
    return say(False, " ".join(hints))


# ----------------------------------------------------------------------------- exercise 3
# The chapter's GRU (section 4: train_adding("gru", T_ADD, seed=0, stop_mse=0.002)) and its test set.
GATE_SHIFT_T, GATE_SHIFT_N = 30, 1000
GATE_SHIFT_MODEL = dict(seed=0, stop_mse=0.002)
# A reported MSE is accepted within the four decimals the notebook prints (or float32 rounding).
MSE_ABS_TOL = 5.1e-5


def gate_shift_inputs(v: int | None = None):
    """(x_test, y_test, deltas) of exercise 3: variant 0 the chapter's test set (the one
    train_adding used for seed 0) and Δ = -4, 0, 4; other variants 1000 test sequences from a
    seed drawn for the variant and Δ = -d, 0, d with d in 3, 3.5, ..., 6."""
    from ..adding import TEST_SEED_OFFSET
    from ..data import adding_problem

    v = _v(v)
    if v == 0:
        seed, d = GATE_SHIFT_MODEL["seed"] + TEST_SEED_OFFSET, 4.0
    else:
        rng = variant_rng("ch06.gate_shift", v)
        seed, d = 30_000 + int(rng.integers(0, 1_000_000)), float(rng.integers(6, 13)) / 2
    x, y = adding_problem(GATE_SHIFT_N, GATE_SHIFT_T, seed=seed)
    return x, y, (-d, 0.0, d)


_MODELS: dict = {}


def chapter_model():
    """The chapter's trained adding GRU, trained again by the checker (memoised per seed offset
    and thread count in this process): the checker never measures on a model it is handed."""
    from ..adding import train_adding
    from ..env import seed_offset

    key = (GATE_SHIFT_T, tuple(sorted(GATE_SHIFT_MODEL.items())), seed_offset(), torch.get_num_threads())
    if key not in _MODELS:
        _MODELS[key] = train_adding("gru", GATE_SHIFT_T, progress=False, **GATE_SHIFT_MODEL)[0]
    return _MODELS[key]


@reference
def shift_update_gate(model: torch.nn.Module, delta: float, block: int = 1,
                      both: bool = False) -> torch.nn.Module:
    """A copy of an adding-problem GRU model whose update-gate bias b_hz is moved by ``delta``.

    PyTorch stacks r, z, n: block 1 (rows H..2H) is z. ``block`` and ``both`` (move b_iz too)
    exist to recognise students' slips.
    """
    shifted = copy.deepcopy(model)
    H = shifted.rnn.hidden_size
    rows = slice(block * H, (block + 1) * H)
    with torch.no_grad():
        shifted.rnn.bias_hh_l0[rows] += delta
        if both:
            shifted.rnn.bias_ih_l0[rows] += delta
    return shifted


@reference
@torch.no_grad()
def gate_shift_mse(model: torch.nn.Module, delta: float, data: tuple, **kw) -> float:
    """Test MSE of the model with its update-gate bias moved by ``delta`` (shift_update_gate)."""
    x, y = data
    shifted = shift_update_gate(model, delta, **kw).eval()
    return float(torch.nn.functional.mse_loss(shifted(x), y))


GATE_SHIFT_SLIPS = [
    (dict(both=True), "你把 b_iz 和 b_hz 都移了 Δ，合起来移了 2Δ；只移 bias_hh_l0 的 z 块就够了。"),
    (dict(block=0), "你移的是第一块：PyTorch 的顺序是 r, z, n，第一块是重置门 r，更新门 z 是第二块 [H:2H]。"),
    (dict(block=2), "你移的是第三块（候选 n）：更新门 z 是第二块 [H:2H]。"),
]


def _same_tensors(a, b) -> bool:
    try:
        return tuple(a.shape) == tuple(b.shape) and bool(torch.equal(torch.as_tensor(a).to(b.dtype), b))
    except Exception:
        return False


def _model_note(model, own) -> str | None:
    """Why the handed model is not the chapter's GRU (None when it is, or when none was handed)."""
    if model is None:
        return None
    try:
        mine, theirs = own.state_dict(), model.state_dict()
    except Exception:
        return f"model 应是第 4 节训练好的 GRU（adding[\"gru\"][0]），得到 {describe(model)}。"
    if set(mine) != set(theirs) or any(tuple(mine[k].shape) != tuple(theirs[k].shape) for k in mine):
        return "model 不是第 4 节训练好的 GRU（adding[\"gru\"][0]）：结构不一样。"
    differ = [k for k in mine if not torch.equal(mine[k], theirs[k].to(mine[k].dtype))]
    if differ == ["rnn.bias_hh_l0"]:
        return "gru_model 的 bias_hh_l0 被改过了：要在模型的副本（copy.deepcopy）上移偏置，原模型不要动。"
    if differ:
        return "model 不是第 4 节训练好的 GRU（adding[\"gru\"][0]）：参数不一样（重新训练过，或者换了模型？）。"
    return None


@checker
def check_gate_shift(answer, model=None, data=None, v=None):
    """``answer``: {Δ: test MSE} measured by the student on the chapter's trained adding GRU
    (``model``, adding["gru"][0]) and the test data (x_test, y_test) of ``gate_shift_inputs()``,
    with the update-gate bias b_hz moved by Δ.

    Right when: every Δ of ``gate_shift_inputs()`` is there (at least 0, one below and one above);
    every MSE is what the checker measures on its own copy of the chapter's GRU (trained again
    with the same seed) and the variant's data, within the printed four decimals; and some Δ
    moved the MSE clearly. The verdict then reads the student's own numbers back.
    """
    if unanswered(answer):
        return quiet_false()
    if not isinstance(answer, dict) or len(answer) == 0:
        return say(False, f"请给出字典 {{Δ: 测试 MSE}}，例如 {{-4: ..., 0: ..., 4: ...}}；得到 "
                              f"{type(answer).__name__}。")
    if len(answer) > 50:
        return say(False, f"Δ 太多了（{len(answer)} 个）：测几个就够，例如题目给的三个。")
    measured = {}
    for key, value in answer.items():
        delta = read_number(key, "字典的键 Δ")
        if delta is None:
            return quiet_false()
        mse = read_number(value, f"Δ = {delta:g} 的 MSE")
        if mse is None:
            return quiet_false()
        measured[delta] = mse
    deltas = sorted(measured)
    x, y, wanted = gate_shift_inputs(v)
    missing = [d for d in wanted if d not in measured]
    if len(deltas) < 3 or 0.0 not in measured or deltas[0] >= 0 or deltas[-1] <= 0 or missing:
        return say(False, f"至少要测题目给的 Δ = {', '.join(f'{d:g}' for d in wanted)}（负的、0 和正的）；"
                          f"得到 Δ = {', '.join(f'{d:g}' for d in deltas)}。")
    if data is not None:
        try:
            same = len(data) == 2 and _same_tensors(data[0], x) and _same_tensors(data[1], y)
        except Exception:
            same = False
        if not same:
            return say(False, "data 不是这道题的测试数据：用 gate_shift_inputs() 给出的 (x_test, y_test)。")
    own = chapter_model()
    note = _model_note(model, own)
    if note:
        return say(False, note)
    for delta in deltas:
        true = gate_shift_mse(own, delta, (x, y))
        if abs(measured[delta] - true) <= max(MSE_ABS_TOL, 2e-4 * abs(true)):
            continue
        for kw, hint in GATE_SHIFT_SLIPS:
            slip = gate_shift_mse(own, delta, (x, y), **kw)
            if abs(measured[delta] - slip) <= max(MSE_ABS_TOL, 2e-4 * abs(slip)):
                return say(False, f"Δ = {delta:g}：{hint}")
        way = "偏大" if measured[delta] > true else "偏小"
        return say(False, f"Δ = {delta:g}：你报告的 MSE {way}，和在本章的 GRU（副本）、这道题的测试数据上"
                          "重新测量的不一致。要移的是 bias_hh_l0 的第二块 [H:2H]（在模型的副本上），"
                          "再在 (x_test, y_test) 上算 MSE。")
    base = measured[0.0]
    low, high = deltas[0], deltas[-1]
    worse = {d: measured[d] for d in (low, high) if measured[d] >= 2 * base + 0.01}
    if not worse:
        return say(False, f"测量是对的，但这些 Δ 还看不出效果（MSE 都接近 Δ = 0 时的值）："
                              "把 |Δ| 加大。")
    sides = {low: "z 推向 0：每步都换成新候选，记住的数被冲掉",
             high: "z 推向 1：新数写不进状态"}
    found = "；".join(f"Δ = {d:g}（{sides[d]}）时 {m:.4f}" for d, m in worse.items())
    return say(True, f"你的测量：Δ = 0 时 MSE {base:.4f}；{found}。"
                         "加法问题要求 z 只在标记处打开：把 z 固定在一边，模型就做不了这件事。")
