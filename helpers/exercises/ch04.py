"""Checkers for chapter 04 (BPTT and gradient problems). Each prints a verdict and returns a bool."""
from __future__ import annotations

import torch

from ._core import close, run_student, unanswered, verdict


# ----------------------------------------------------------------------------- exercise 1
def delta_step(delta_next: torch.Tensor, h_k: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """δ_{t,k} = (1 − h_k²) ⊙ Wᵀ δ_{t,k+1}, batch in rows: (1 − h_k²) * (δ_{t,k+1} @ W)."""
    return (1 - h_k ** 2) * (delta_next @ W)


def check_delta_step(fn) -> bool:
    """``fn(delta_next, h_k, W) -> delta_k``: one step of the δ recursion (tanh RNN, rows = batch)."""
    g = torch.Generator().manual_seed(4)
    B, H = 3, 5
    d = torch.randn(B, H, generator=g, dtype=torch.float64)
    h = torch.tanh(torch.randn(B, H, generator=g, dtype=torch.float64))
    W = torch.randn(H, H, generator=g, dtype=torch.float64)
    ok, out = run_student(fn, (d, h, W), "fn(delta_next, h_k, W)", "提示：delta_next 是 (B, H)，W 是 (H, H)。")
    if not ok:
        return False
    right = delta_step(d, h, W)
    if not isinstance(out, torch.Tensor) or out.shape != right.shape:
        return verdict(False, f"结果应该是形状 {tuple(right.shape)} 的张量，得到 {getattr(out, 'shape', type(out).__name__)}。")
    if close(out, right, 1e-9):
        return verdict(True, "δ_{t,k} = (1 − h_k²) ⊙ Wᵀ δ_{t,k+1}。")
    mistakes = [
        (d @ W, "漏了 tanh 的导数 (1 − h_k²)：δ 定义在预激活 a_k 上，要乘 f'(a_k)。"),
        ((1 - h ** 2) * (d @ W.T), "转置用反了：列向量写法的 Wᵀδ，在按行存放的批量里是 delta_next @ W。"),
        ((1 - h) * (d @ W), "tanh 的导数是 1 − tanh²(a) = 1 − h²，不是 1 − h。"),
        (h * (1 - h) * (d @ W), "h(1 − h) 是 sigmoid 的导数；这里是 tanh：1 − h²。"),
        ((1 - h ** 2) * d, "漏了 Wᵀ：从 a_{k+1} 回到 h_k 要经过循环权重 W。"),
    ]
    for wrong, hint in mistakes:
        if close(out, wrong, 1e-9):
            return verdict(False, hint)
    return verdict(False, "数值不对。δ_{t,k} = (1 − h_k²) ⊙ (Wᵀ δ_{t,k+1})，批量按行时写 (1 - h_k**2) * (delta_next @ W)。")


# ----------------------------------------------------------------------------- exercise 2
# (σ_max(W), ρ(W), activation) -> must the gradient vanish for every input?  (γσ_max < 1)
VANISH_CASES = (
    (0.9, 0.6, "tanh"),
    (1.5, 0.9, "tanh"),
    (3.0, 2.0, "sigmoid"),
    (5.0, 3.0, "sigmoid"),
    (1.3, 0.7, "identity"),
)
GAMMA = {"tanh": 1.0, "sigmoid": 0.25, "identity": 1.0}


def must_vanish(sigma: float, activation: str) -> bool:
    """Sufficient condition (E6): γ·σ_max(W) < 1 guarantees vanishing."""
    return GAMMA[activation] * sigma < 1


def check_must_vanish(answer, cases=VANISH_CASES) -> bool:
    """``answer``: a list of True/False, one per case — does theory *guarantee* vanishing?"""
    if unanswered(answer):
        return False
    if not isinstance(answer, (list, tuple)) or len(answer) != len(cases) or not all(isinstance(a, bool) for a in answer):
        return verdict(False, f"请给出 {len(cases)} 个 True/False 组成的列表，每种情形一个。")
    right = [must_vanish(s, a) for s, _, a in cases]
    if list(answer) == right:
        return verdict(True, "只有 γ·σ_max < 1 才“保证”消失；≥ 1 时可能爆炸，也可能因饱和而消失。")
    wrong = [i for i, (a, r) in enumerate(zip(answer, right)) if a != r]
    hints = []
    for i in wrong:
        s, rho, act = cases[i]
        if act == "sigmoid" and right[i]:
            hints.append(f"情形 {i + 1}：sigmoid 的导数最大只有 1/4（γ = 0.25），γ·σ_max = {0.25 * s:g} < 1，所以必然消失。")
        elif act == "sigmoid":
            hints.append(f"情形 {i + 1}：γ·σ_max = {0.25 * s:g} ≥ 1，充分条件不成立，理论不保证消失。")
        elif not right[i] and rho < 1:
            hints.append(f"情形 {i + 1}：谱半径 ρ = {rho} < 1 不够：有限步内的放大由最大奇异值 σ_max = {s} 决定。")
        else:
            hints.append(f"情形 {i + 1}：γ·σ_max = {GAMMA[act] * s:g}，和 1 比一比。")
    return verdict(False, " ".join(hints))


# ----------------------------------------------------------------------------- exercise 3
def check_clip_factor(answer, grad_norm: float = 250.0, max_norm: float = 5.0) -> bool:
    """clip_grad_norm_(max_norm=5) on a gradient of norm 250: by what factor is every entry multiplied?"""
    if unanswered(answer):
        return False
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        return verdict(False, f"请给出一个数，而不是 {type(answer).__name__}。")
    right = min(1.0, max_norm / grad_norm)
    if abs(answer - right) < 1e-3 * right:
        return verdict(True, f"所有分量乘以 max_norm/‖g‖ = {right:g}：方向不变，长度变成 {max_norm:g}。")
    if abs(answer - grad_norm / max_norm) < 1e-6:
        return verdict(False, "倒过来了：是缩小，因子是 max_norm / ‖g‖。")
    if abs(answer - max_norm) < 1e-9:
        return verdict(False, f"{max_norm:g} 是裁剪后的范数，不是乘的因子。")
    return verdict(False, "clip_grad_norm_ 在 ‖g‖ > max_norm 时把整个梯度乘以 max_norm / ‖g‖。")
