"""Checkers for chapter 06 (GRU). Each prints a verdict and returns a bool; none raises on a wrong answer."""
from __future__ import annotations

import torch

from ..gru import gru_cell
from ._core import close, run_student, unanswered, verdict


def _data(seed: int = 7, B: int = 3, I: int = 4, H: int = 5):
    g = torch.Generator().manual_seed(seed)
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


# ----------------------------------------------------------------------------- exercise 1
def check_gru_step(fn) -> bool:
    """``fn(x, h, W_ih, W_hh, b_ih, b_hh) -> h_t``: one GRU step in PyTorch's layout
    (blocks r, z, n stacked in the rows of W_ih / W_hh / biases; batch in rows)."""
    args = _data()
    ok, out = run_student(fn, args, "fn(x, h, W_ih, W_hh, b_ih, b_hh)",
                          "提示：x 是 (B, I)，W_ih 是 (3H, I)，用 W_ih.chunk(3) 切出 r, z, n 三块。")
    if not ok:
        return False
    right = gru_cell(*args)
    if not isinstance(out, torch.Tensor) or out.shape != right.shape:
        return verdict(False, f"请返回形状 {tuple(right.shape)} 的张量 h_t，得到 "
                              f"{getattr(out, 'shape', type(out).__name__)}。")
    if close(out, right, 1e-9):
        return verdict(True, "h̃ = tanh(W_in x + b_in + r⊙(W_hn h + b_hn))，h_t = z⊙h_{t−1} + (1−z)⊙h̃：与 torch.nn.GRU 一致。")
    mistakes = [
        (dict(swap_z=True), "z 和 1 − z 用反了：PyTorch 写 h_t = z ⊙ h_{t−1} + (1 − z) ⊙ h̃（z ≈ 1 保留旧状态）。"
                            "另一种写法也是 GRU，但和 torch.nn.GRU 的权重对不上（勘误 E9）。"),
        (dict(reset="cho"), "重置门放错了位置：你写的是 Cho 等人的 W_hn (r ⊙ h)；PyTorch 是 r ⊙ (W_hn h + b_hn)，"
                            "先乘矩阵、加偏置，再乘 r。"),
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
    for change, hint in mistakes:
        if close(out, _gru_variant(*args, **change), 1e-9):
            return verdict(False, hint)
    return verdict(False, "数值不对。按 r, z, n 切块：r, z = σ(...)，h̃ = tanh(W_in x + b_in + r*(W_hn h + b_hn))，"
                          "h_t = z*h + (1-z)*h̃。")


# ----------------------------------------------------------------------------- exercise 2
PARAM_CASE = (30, 64)      # (input_size I, hidden_size H)


def gate_param_count(gates: int, I: int, H: int) -> int:
    """One layer of torch.nn.LSTM (gates=4) or nn.GRU (gates=3): gates·(H·I + H·H + 2H)."""
    return gates * (H * I + H * H + 2 * H)


def check_param_counts(answer, case=PARAM_CASE) -> bool:
    """``answer``: {'lstm': n, 'gru': n}, the trainable numbers of nn.LSTM(I, H) and nn.GRU(I, H)."""
    if unanswered(answer):
        return False
    I, H = case
    if not isinstance(answer, dict) or set(answer) != {"lstm", "gru"}:
        return verdict(False, "请给出一个字典 {'lstm': 整数, 'gru': 整数}。")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in answer.values()):
        return verdict(False, "参数个数是整数，请用 int。")
    right = {"lstm": gate_param_count(4, I, H), "gru": gate_param_count(3, I, H)}
    if answer == right:
        return verdict(True, f"LSTM 4·(HI + HH + 2H) = {right['lstm']}，GRU 3·(…) = {right['gru']}：GRU 少 1/4。")
    if answer == {"lstm": right["gru"], "gru": right["lstm"]}:
        return verdict(False, "两个数对调了：LSTM 有 4 块（i, f, g, o），GRU 有 3 块（r, z, n）。")
    hints = []
    for kind, G in (("lstm", 4), ("gru", 3)):
        a = answer[kind]
        if a == right[kind]:
            continue
        if a == G * (H * I + H * H + H):
            hints.append(f"{kind}: 每块有两个偏置 b_ih 和 b_hh（PyTorch 保留两个），是 2H 不是 H。")
        elif a == G * (H * I + H * H):
            hints.append(f"{kind}: 漏了偏置：每块还有 b_ih、b_hh 各 H 个。")
        elif a == H * I + H * H + 2 * H:
            hints.append(f"{kind}: 只算了一块；要乘块数 {G}。")
        elif a == (3 if G == 4 else 4) * (H * I + H * H + 2 * H):
            hints.append(f"{kind}: 块数不对：LSTM 4 块（i, f, g, o），GRU 3 块（r, z, n）。")
        elif a == G * (H * I + H * H + 2 * H) + H + 1:
            hints.append(f"{kind}: 只数循环层本身，不含输出层。")
        else:
            hints.append(f"{kind}: {a} 不对。每块：W_i* 是 H×I，W_h* 是 H×H，再加两个偏置各 H 个。")
    return verdict(False, " ".join(hints))
