"""Checkers for chapter 06 (GRU). Each prints one verdict line and returns a Verdict; none raises.

1. ``check_gru_step(fn)``: one GRU step in PyTorch's layout; recognises the common slips.
2. ``check_param_counts(answer)``: the parameter counts of ``nn.LSTM(30, 64)``, ``nn.GRU(30, 64)``.
3. ``check_gate_shift(answer, model, data)``: an experiment. The student shifts the update-gate
   bias of the trained adding-problem GRU by several amounts Δ and reports the test MSE for each;
   the checker re-measures every number on the same model and data, and says what the
   student's own measurements show.
"""
from __future__ import annotations

import copy
import re
import unicodedata

import torch

from ..nn.gru import gru_cell
from ..env import generator
from ._core import (Verdict, answer_dtype, checker, close, quiet_false, read_int, read_number,
                   read_tensor, run_student, unanswered, verdict)


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
    g = generator(seed)                              # the checker's own test data
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)
    return r(B, I), r(B, H), r(3 * H, I), r(3 * H, H), r(3 * H), r(3 * H)


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
    (dict(swap_z=True, reset="cho"), "两处不同：z 和 1 − z 对调了，重置门也放在了矩阵之前（Cho 等人的写法）；"
                                     "PyTorch 是 z⊙h + (1−z)⊙h̃ 和 r ⊙ (W_hn h + b_hn)。"),
]


# ----------------------------------------------------------------------------- exercise 1
@checker
def check_gru_step(fn):
    """``fn(x, h, W_ih, W_hh, b_ih, b_hh) -> h_t``: one GRU step in PyTorch's layout
    (blocks r, z, n stacked in the rows of W_ih / W_hh / biases; batch in rows)."""
    args = _data()
    ok, out = run_student(fn, args, "fn(x, h, W_ih, W_hh, b_ih, b_hh)",
                          "提示：x 是 (B, I)，W_ih 是 (3H, I)，用 W_ih.chunk(3) 切出 r, z, n 三块。")
    if not ok:
        return quiet_false()
    right = gru_cell(*args)
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
        return say(False, "h_t 就是 h_{t−1}：新旧混合 h_t = z⊙h_{t−1} + (1−z)⊙h̃ 还缺候选那一项。")
    return say(False, "数值不对（差最大 {:.3g}）。按 r, z, n 切块：r, z = σ(...)，"
                          "h̃ = tanh(W_in x + b_in + r*(W_hn h + b_hn))，h_t = z*h + (1-z)*h̃。"
                   .format(float((got - right).abs().max())))



# ----------------------------------------------------------------------------- exercise 2
PARAM_CASE = (30, 64)      # (input_size I, hidden_size H)


def gate_param_count(gates: int, I: int, H: int) -> int:
    """One layer of torch.nn.LSTM (gates=4) or nn.GRU (gates=3): gates·(H·I + H·H + 2H)."""
    return gates * (H * I + H * H + 2 * H)


@checker
def check_param_counts(answer, case=PARAM_CASE):
    """``answer``: {'lstm': n, 'gru': n}, the trainable numbers of nn.LSTM(I, H), nn.GRU(I, H)."""
    if unanswered(answer):
        return quiet_false()
    I, H = case
    if not isinstance(answer, dict):
        return say(False, "请给出一个字典 {'lstm': 整数, 'gru': 整数}，得到 "
                              f"{type(answer).__name__}。")
    keys = {str(k).strip().lower(): v for k, v in answer.items()}
    if set(keys) != {"lstm", "gru"}:
        return say(False, "请给出一个字典 {'lstm': 整数, 'gru': 整数}，得到的键是 "
                              f"{sorted(map(str, answer))}。")
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
    hints = []
    for kind, G in (("lstm", 4), ("gru", 3)):
        a = got[kind]
        if a == right[kind]:
            continue
        if a == G * (H * I + H * H + H):
            hints.append(f"{kind}：每块有两个偏置 b_ih 和 b_hh（PyTorch 保留两个），是 2H 不是 H。")
        elif a == G * (H * I + H * H):
            hints.append(f"{kind}：漏了偏置，每块还有 b_ih、b_hh 各 H 个。")
        elif a == H * I + H * H + 2 * H:
            hints.append(f"{kind}：只算了一块，要乘块数 {G}。")
        elif a == (3 if G == 4 else 4) * (H * I + H * H + 2 * H):
            hints.append(f"{kind}：块数不对，LSTM 4 块（i, f, g, o），GRU 3 块（r, z, n）。")
        elif a == G * (H * I + H * H + 2 * H) + H + 1:
            hints.append(f"{kind}：只数循环层本身，不含输出层。")
        else:
            hints.append(f"{kind}：{a} 不对（应为 {G}·(HI + HH + 2H)）。每块：W_i* 是 H×I，"
                         "W_h* 是 H×H，再加两个偏置各 H 个。")
    return say(False, " ".join(hints))


# ----------------------------------------------------------------------------- exercise 3
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


@checker
def check_gate_shift(answer, model, data):
    """``answer``: {Δ: test MSE} measured by the student on ``model`` (the trained adding GRU) and
    ``data`` = (x_test, y_test), with the update-gate bias b_hz moved by Δ.

    Right when: at least three Δ, among them 0, one below and one above 0; every MSE is what the
    same model gives (so the numbers are the student's real measurement); and some Δ moved the
    MSE clearly (otherwise the experiment shows nothing yet). The verdict then reads the student's
    own numbers back: which direction of z broke the memory and by how much.
    """
    if unanswered(answer):
        return quiet_false()
    if not isinstance(answer, dict) or len(answer) == 0:
        return say(False, f"请给出字典 {{Δ: 测试 MSE}}，例如 {{-4: ..., 0: ..., 4: ...}}；得到 "
                              f"{type(answer).__name__}。")
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
    if len(deltas) < 3 or 0.0 not in measured or deltas[0] >= 0 or deltas[-1] <= 0:
        return say(False, "至少测三个 Δ：一个负的、0（不动）和一个正的，例如 -4, 0, 4；"
                              f"得到 Δ = {', '.join(f'{d:g}' for d in deltas)}。")
    for delta in deltas:
        true = gate_shift_mse(model, delta, data)
        if close(measured[delta], true, dtype=torch.float32):
            continue
        for kw, hint in GATE_SHIFT_SLIPS:
            slip = gate_shift_mse(model, delta, data, **kw)
            if close(measured[delta], slip, dtype=torch.float32):
                return say(False, f"Δ = {delta:g}：{hint}")
        return say(False, f"Δ = {delta:g}：你报告 MSE {measured[delta]:.4g}，同一个模型重算得到 "
                              f"{true:.4g}。要移的是 model.rnn.bias_hh_l0[H:2H]（在模型的副本上），"
                              "再在 (x_test, y_test) 上算 MSE。")
    base = measured[0.0]
    low, high = deltas[0], deltas[-1]
    worse = {d: measured[d] for d in (low, high) if measured[d] >= 2 * base + 0.01}
    if not worse:
        return say(False, f"测量是对的，但这些 Δ 还看不出效果（MSE 都接近 {base:.4f}）："
                              "把 |Δ| 加大，例如 ±4。")
    sides = {low: "z 推向 0：每步都换成新候选，记住的数被冲掉",
             high: "z 推向 1：新数写不进状态"}
    found = "；".join(f"Δ = {d:g}（{sides[d]}）时 {m:.4f}" for d, m in worse.items())
    return say(True, f"你的测量：Δ = 0 时 MSE {base:.4f}；{found}。"
                         "加法问题要求 z 只在标记处打开：把 z 固定在一边，模型就做不了这件事。")
