"""Checkers for chapter 05 (LSTM). Each prints a verdict and returns a bool; none raises on a wrong answer."""
from __future__ import annotations

import torch

from ..lstm import lstm_cell
from ._core import close, run_student, verdict


def _data(seed: int = 5, B: int = 3, I: int = 4, H: int = 5):
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)
    x, h, c = r(B, I), r(B, H), r(B, H)
    W_ih, W_hh, b_ih, b_hh = r(4 * H, I), r(4 * H, H), r(4 * H), r(4 * H)
    return x, h, c, W_ih, W_hh, b_ih, b_hh


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


# ----------------------------------------------------------------------------- exercise 1
def check_lstm_step(fn) -> bool:
    """``fn(x, h, c, W_ih, W_hh, b_ih, b_hh) -> (h_t, C_t)``: one LSTM step in PyTorch's layout
    (blocks i, f, g, o stacked in the rows of W_ih / W_hh / biases; batch in rows)."""
    args = _data()
    ok, out = run_student(fn, args, "fn(x, h, c, W_ih, W_hh, b_ih, b_hh)",
                          "提示：x 是 (B, I)，W_ih 是 (4H, I)，用 W_ih.chunk(4) 切出 i, f, g, o 四块。")
    if not ok:
        return False
    if not (isinstance(out, (tuple, list)) and len(out) == 2 and all(isinstance(t, torch.Tensor) for t in out)):
        return verdict(False, "请返回两个张量 (h_t, C_t)。")
    x, h, c, W_ih, W_hh, b_ih, b_hh = args
    right_h, right_c = lstm_cell(x, (h, c), W_ih, W_hh, b_ih, b_hh)
    if out[0].shape != right_h.shape or out[1].shape != right_c.shape:
        return verdict(False, f"h_t 和 C_t 都应是形状 {tuple(right_h.shape)}，得到 "
                              f"{tuple(out[0].shape)} 和 {tuple(out[1].shape)}。")
    if close(out[0], right_h, 1e-9) and close(out[1], right_c, 1e-9):
        return verdict(True, "C_t = f⊙C_{t−1} + i⊙g，h_t = o⊙tanh(C_t)，和 helpers.lstm.lstm_cell 一致。")
    if close(out[0], right_c, 1e-9) and close(out[1], right_h, 1e-9):
        return verdict(False, "返回顺序反了：先 h_t，再 C_t。")
    mistakes = [
        (dict(order="ifog"), "门的顺序错了：PyTorch 按 i, f, g, o 堆叠，第三块是候选 g（C̃），第四块才是输出门 o。"),
        (dict(order="figo"), "门的顺序错了：第一块是输入门 i，第二块才是遗忘门 f（PyTorch 顺序 i, f, g, o）。"),
        (dict(order="gifo"), "门的顺序错了：PyTorch 的顺序是 i, f, g, o。"),
        (dict(bias=False), "漏了偏置：每个门都有 b_ih 和 b_hh 两个偏置（笔记的公式把它们省略了，勘误 E7）。"),
        (dict(act_g=torch.sigmoid), "候选 g = C̃_t 要用 tanh（取值 −1..1，可以加也可以减），不是 sigmoid。"),
        (dict(act_gate=torch.tanh), "三个门 i, f, o 要用 sigmoid（取值 0..1，表示“开多少”），不是 tanh。"),
        (dict(act_g=torch.sigmoid, act_gate=torch.tanh), "tanh 和 sigmoid 用反了：门用 σ，候选 g 用 tanh。"),
        (dict(recurrent_g=False), "候选 g 漏了循环项 W_hg h_{t−1}（笔记里的 c_hh h_{t−1} 是笔误，勘误 E7）。"),
        (dict(tanh_c=False), "输出是 h_t = o ⊙ tanh(C_t)：C_t 先过 tanh 再乘输出门。"),
        (dict(use_i=False), "新信息要乘输入门：C_t = f ⊙ C_{t−1} + i ⊙ g。"),
    ]
    for change, hint in mistakes:
        wrong_h, wrong_c = _lstm_variant(*args, **change)
        if close(out[0], wrong_h, 1e-9) and close(out[1], wrong_c, 1e-9):
            return verdict(False, hint)
    if close(out[1], right_c, 1e-9):
        return verdict(False, "C_t 对了，h_t 不对：h_t = o ⊙ tanh(C_t)，o 是第四块（输出门）。")
    return verdict(False, "数值不对。按 i, f, g, o 切块：门 = σ(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)，g 用 tanh，"
                          "C_t = f*c + i*g，h_t = o*tanh(C_t)。")


# ----------------------------------------------------------------------------- exercise 2
def direct_path_factor(f: torch.Tensor) -> torch.Tensor:
    """diag of ∂C_T/∂C_0 along the cell path only: ∏_{t=1..T} f_t, per unit. f: (T, H) -> (H,)."""
    return f.prod(dim=0)


def _forget_gates(seed: int = 6, T: int = 20, H: int = 4) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.sigmoid(torch.randn(T, H, generator=g, dtype=torch.float64) + 2.0)


def check_direct_path(fn) -> bool:
    """``fn(f) -> (H,)``: f (T, H) holds f_1..f_T of one sequence; return the diagonal of
    ∂C_T/∂C_0 along the direct cell path (C_t = f_t ⊙ C_{t−1} + ...), one number per unit."""
    f = _forget_gates()
    ok, out = run_student(fn, (f.clone(),), "fn(f)", "提示：f 是 (T, H)。")
    if not ok:
        return False
    right = direct_path_factor(f)
    if not isinstance(out, torch.Tensor) or out.shape != right.shape:
        return verdict(False, f"结果应是形状 {tuple(right.shape)} 的张量（每个隐藏单元一个数），得到 "
                              f"{getattr(out, 'shape', type(out).__name__)}。")
    if close(out, right, 1e-12):
        return verdict(True, "沿细胞通路，∂C_T/∂C_0 = diag(f_1 ⊙ f_2 ⊙ … ⊙ f_T)：没有 W，也没有激活函数的导数。")
    mistakes = [
        (f.sum(0), "每一步是“乘”f_t（链式法则），不是加：用 prod，不是 sum。"),
        (f[-1], "只用了最后一步的 f_T：从 C_0 到 C_T 要经过全部 T 个遗忘门。"),
        (f[1:].prod(0), "少乘了一步：C_1 = f_1 ⊙ C_0 + …，所以 f_1 也在链上（t = 1..T）。"),
        ((1 - f).prod(0), "∂C_t/∂C_{t−1} 沿细胞通路是 f_t，不是 1 − f_t（那是 GRU 里 z 的另一种写法）。"),
        (f.prod(1), "乘错了维度：对时间（dim=0）连乘，每个隐藏单元各自一个数。"),
    ]
    for wrong, hint in mistakes:
        if wrong.shape == right.shape and close(out, wrong, 1e-12):
            return verdict(False, hint)
    return verdict(False, "数值不对。沿细胞通路 ∂C_t/∂C_{t−1} = diag(f_t)，把 T 步连乘：f.prod(dim=0)。")
