"""Checkers for chapter 04 (BPTT and gradient problems).

Each checker prints one verdict line and returns a :class:`~helpers.exercises._core.Verdict`
(truthy when right, shows nothing in a notebook); none raises, whatever the answer.

1. ``check_delta_step(fn)``: one step of the δ recursion, fn(delta_next, h_k, W).
2. ``check_must_vanish(answer)``: for each case of ``VANISH_CASES``, does the sufficient
   condition γ·σ_max < 1 guarantee vanishing?
3. ``check_clipped_grad(answer)``: the gradient of W after ``clip_grad_norm_`` over two
   parameters (the norm is the total over all parameters).
4. ``check_vanish_experiment(answer)`` (experiment): explorer settings with γ·σ_max ≥ 1 (so
   σ_max > 1) whose gradient still vanishes, and the reason; the checker recomputes the
   explorer with the student's settings.
"""
from __future__ import annotations

import math

import torch

from ..env import generator
from ._core import (answer_dtype, checker, close, describe, quiet_false, read_bools,
                   read_number, read_tensor, read_text, run_student, unanswered, verdict)



# ----------------------------------------------------------------------------- exercise 1
def delta_step(delta_next: torch.Tensor, h_k: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """δ_{t,k} = (1 − h_k²) ⊙ Wᵀ δ_{t,k+1}, batch in rows: (1 − h_k²) * (δ_{t,k+1} @ W)."""
    return (1 - h_k ** 2) * (delta_next @ W)


@checker
def check_delta_step(fn):
    """``fn(delta_next, h_k, W) -> delta_k``: one step of the δ recursion (tanh RNN, rows = batch)."""
    g = generator(4)
    B, H = 3, 5
    d = torch.randn(B, H, generator=g, dtype=torch.float64)
    h = torch.tanh(torch.randn(B, H, generator=g, dtype=torch.float64))
    W = torch.randn(H, H, generator=g, dtype=torch.float64)
    ok, out = run_student(fn, (d, h, W), "fn(delta_next, h_k, W)", "提示：delta_next 是 (B, H)，W 是 (H, H)。")
    if not ok:
        return quiet_false()
    right = delta_step(d, h, W)
    got = read_tensor(out, tuple(right.shape), "函数的返回值")
    if got is None:
        return quiet_false()
    dtype = answer_dtype(out)
    if close(got, right, dtype=dtype):
        return verdict(True, "δ_{t,k} = (1 − h_k²) ⊙ Wᵀ δ_{t,k+1}。")
    mistakes = [
        (d @ W, "漏了 tanh 的导数 (1 − h_k²)：δ 定义在预激活 a_k 上，要乘 f'(a_k)。"),
        ((1 - h ** 2) * (d @ W.T), "转置用反了：列向量写法的 Wᵀδ，在按行存放的批量里是 delta_next @ W。"),
        ((1 - h) * (d @ W), "tanh 的导数是 1 − tanh²(a) = 1 − h²，不是 1 − h。"),
        (h * (1 - h) * (d @ W), "h(1 − h) 是 sigmoid 的导数；这里是 tanh：1 − h²。"),
        ((1 - h ** 2) * d, "漏了 Wᵀ：从 a_{k+1} 回到 h_k 要经过循环权重 W。"),
    ]
    for wrong, hint in mistakes:
        if close(got, wrong, dtype=dtype):
            return verdict(False, hint)
    return verdict(False, "数值不对。δ_{t,k} = (1 − h_k²) ⊙ (Wᵀ δ_{t,k+1})，"
                          "批量按行时写 (1 - h_k**2) * (delta_next @ W)。")


# ----------------------------------------------------------------------------- exercise 2
# (σ_max(W), ρ(W), activation) -> does γ·σ_max < 1 guarantee ‖∂h_T/∂h_k‖ ≤ (γσ_max)^(T−k) → 0?
VANISH_CASES = (
    (0.9, 0.6, "tanh"),
    (1.5, 0.9, "tanh"),
    (3.0, 2.0, "sigmoid"),
    (5.0, 3.0, "sigmoid"),
    (1.3, 0.7, "tanh"),        # ρ < 1 but σ_max > 1, tanh: the chapter's bound guarantees nothing
)
GAMMA = {"tanh": 1.0, "sigmoid": 0.25, "identity": 1.0, "relu": 1.0}


def must_vanish(sigma: float, activation: str) -> bool:
    """Sufficient condition (E6): γ·σ_max(W) < 1 guarantees vanishing."""
    return GAMMA[activation] * sigma < 1


@checker
def check_must_vanish(answer, cases=VANISH_CASES):
    """``answer``: a list of True/False, one per case: does γ·σ_max < 1 *guarantee* vanishing?"""
    if unanswered(answer):
        return quiet_false()
    got = read_bools(answer, len(cases), "答案")
    if got is None:
        return quiet_false()
    right = [must_vanish(s, a) for s, _, a in cases]
    if got == right:
        return verdict(True, "只有 γ·σ_max < 1 才“保证”消失；≥ 1 时可能爆炸，也可能因饱和而消失。")
    hints = []
    for i, (a, r) in enumerate(zip(got, right)):
        if a == r:
            continue
        s, rho, act = cases[i]
        gs = GAMMA[act] * s
        if act == "sigmoid" and r:
            hints.append(f"情形 {i + 1}：sigmoid 的导数最大只有 1/4（γ = 0.25），γ·σ_max = {gs:g} < 1，所以必然消失。")
        elif r:
            hints.append(f"情形 {i + 1}：γ·σ_max = {gs:g} < 1，充分条件成立，一定消失。")
        elif rho < 1:
            hints.append(f"情形 {i + 1}：γ·σ_max = {gs:g} ≥ 1，本章的充分条件不成立。谱半径 ρ = {rho} < 1 "
                         f"只管 Wⁿ 的长期增长率；有限步内、且 f' 随输入变化时，能保证的只有上界 (γσ_max)^(T−k)。")
        else:
            hints.append(f"情形 {i + 1}：γ·σ_max = {gs:g} ≥ 1，充分条件不成立，理论不保证消失。")
    return verdict(False, "\n".join(hints))


# ----------------------------------------------------------------------------- exercise 3
# Two parameters' gradients; clip_grad_norm_ scales *all of them* by one factor from the total norm.
CLIP_GRADS = {"W": ((3.0, 4.0), (0.0, 0.0)), "b": (12.0,)}   # ‖g_W‖ = 5, ‖g_b‖ = 12, total 13
CLIP_MAX_NORM = 6.5


def clipped(grads: dict, max_norm: float) -> dict:
    """What ``torch.nn.utils.clip_grad_norm_`` leaves in every .grad: g · min(1, max_norm / ‖g‖_total)."""
    total = math.sqrt(sum(float(torch.as_tensor(g, dtype=torch.float64).pow(2).sum()) for g in grads.values()))
    factor = min(1.0, max_norm / total) if total > 0 else 1.0
    return {k: torch.as_tensor(g, dtype=torch.float64) * factor for k, g in grads.items()}


@checker
def check_clipped_grad(answer, grads=CLIP_GRADS, max_norm=CLIP_MAX_NORM):
    """``answer``: the 2×2 gradient of W after ``clip_grad_norm_([W, b], max_norm)``."""
    if unanswered(answer):
        return quiet_false()
    gW = torch.as_tensor(grads["W"], dtype=torch.float64)
    got = read_tensor(answer, tuple(gW.shape), "W 的梯度")
    if got is None:
        return quiet_false()
    right = clipped(grads, max_norm)["W"]
    dtype = answer_dtype(answer)
    total = math.sqrt(sum(float(torch.as_tensor(g, dtype=torch.float64).pow(2).sum()) for g in grads.values()))
    if close(got, right, dtype=dtype):
        return verdict(True, f"总范数 √(5² + 12²) = {total:g}，所有梯度乘以 {max_norm:g}/{total:g} = "
                             f"{max_norm / total:g}：方向不变，总长度变成 {max_norm:g}。")
    norm_W = float(gW.norm())
    norms = [float(torch.as_tensor(g, dtype=torch.float64).norm()) for g in grads.values()]
    mistakes = [
        (gW * min(1.0, max_norm / norm_W), "每个参数单独裁剪了：clip_grad_norm_ 把所有参数的梯度拼成一个向量，"
                                            "用它的总范数算一个共同的因子。"),
        (gW * max_norm / norm_W, "把 W 的梯度自己缩放到了长度 max_norm：要用所有参数拼起来的总范数。"),
        (gW * total / max_norm, "因子倒过来了：是缩小，乘 max_norm / ‖g‖，不是 ‖g‖ / max_norm。"),
        (gW * max_norm / sum(norms), "范数不能直接相加：总范数是 √(‖g_W‖² + ‖g_b‖²)。"),
        (gW * max_norm / total**2, "除了两次总范数：因子是 max_norm / ‖g‖。"),
    ]
    for wrong, hint in mistakes:
        if close(got, wrong, dtype=dtype):
            return verdict(False, hint)
    return verdict(False, f"数值不对：期望 {right.tolist()}，得到 {got.tolist()}。"
                          "先算所有梯度拼起来的总范数，再把每个梯度乘以 min(1, max_norm / 总范数)。")


def check_clip_factor(answer, grad_norm: float = 250.0, max_norm: float = 5.0):
    """Kept for older notebooks: the single clipping factor min(1, max_norm / ‖g‖)."""
    if unanswered(answer):
        return quiet_false()
    value = read_number(answer, "裁剪因子")
    if value is None:
        return quiet_false()
    right = min(1.0, max_norm / grad_norm)
    if abs(value - right) < 1e-3 * right:
        return verdict(True, f"所有分量乘以 max_norm/‖g‖ = {right:g}：方向不变，长度变成 {max_norm:g}。")
    if abs(value - grad_norm / max_norm) < 1e-6 * grad_norm:
        return verdict(False, "倒过来了：是缩小，因子是 max_norm / ‖g‖。")
    if abs(value - max_norm) < 1e-9:
        return verdict(False, f"{max_norm:g} 是裁剪后的范数，不是乘的因子。")
    return verdict(False, "clip_grad_norm_ 在 ‖g‖ > max_norm 时把整个梯度乘以 max_norm / ‖g‖。")


# ----------------------------------------------------------------------------- exercise 4 (experiment)
REASONS = {
    "A": "ρ(W) < 1：Wⁿ 的长期增长率是谱半径 ρ；σ_max > 1 只是一步能拉长的最大倍数（上界）",
    "B": "tanh 饱和：很多 f'(a) ≈ 0，雅可比矩阵 diag(f'(a)) W 被截断",
    "C": "γ·σ_max < 1：本章的充分条件成立，理论保证消失",
}
EXPERIMENT_KEYS = ("scale", "mode", "activation", "input_scale", "T")
VANISHED = 1e-3          # ‖∂L/∂h_0‖ below this counts as vanished (the explorer's verdict uses it too)
SATURATED = 0.05         # share of |f'(a)| < 1e-3 from which the explorer reports saturation


def _read_settings(answer):
    """(settings for explorer_data, reason letter) or None after a message."""
    if not isinstance(answer, dict):
        verdict(False, "答案应是一个字典，例如 {\"scale\": 1.5, \"mode\": \"sigma\", \"activation\": \"tanh\", "
                       f"\"input_scale\": 1.0, \"reason\": \"A\"}}，得到 {describe(answer)}。")
        return None
    unknown = sorted(set(map(str, answer)) - set(EXPERIMENT_KEYS) - {"reason"})
    if unknown:
        verdict(False, f"字典里有不认识的键 {unknown}；可用的键：{list(EXPERIMENT_KEYS) + ['reason']}。")
        return None
    if "reason" not in answer:
        verdict(False, f"还缺原因：加上 \"reason\": \"A\"、\"B\" 或 \"C\"（{'；'.join(f'{k}：{v}' for k, v in REASONS.items())}）。")
        return None
    reason = read_text(answer["reason"], "原因")
    if reason is None:
        return None
    reason = reason.upper()
    if reason not in REASONS:
        verdict(False, f"原因应是 \"A\"、\"B\" 或 \"C\"，得到 {describe(answer['reason'])}。")
        return None
    settings = {}
    for key in ("scale", "input_scale"):
        if key in answer:
            value = read_number(answer[key], key)
            if value is None:
                return None
            settings[key] = value
    if "T" in answer:
        value = read_number(answer["T"], "T")
        if value is None:
            return None
        if value != int(value) or not 1 <= value <= 1000:
            verdict(False, f"T 应是 1 到 1000 的整数，得到 {describe(answer['T'])}。")
            return None
        settings["T"] = int(value)
    for key in ("mode", "activation"):
        if key in answer:
            value = read_text(answer[key], key)
            if value is None:
                return None
            settings[key] = value
    return settings, reason


@checker
def check_vanish_experiment(answer):
    """``answer``: {"scale", "mode", "activation", "input_scale", "T" (optional, default as the
    explorer), "reason": "A" | "B" | "C"}. Right when the recomputed RNN has γ·σ_max ≥ 1, its
    gradient vanishes (‖∂L/∂h_0‖ < 1e-3) and the reason holds for these settings."""
    from ..widgets import DEFAULTS, explorer_data

    if unanswered(answer):
        return quiet_false()
    read = _read_settings(answer)
    if read is None:
        return quiet_false()
    settings, reason = read
    full = {k: DEFAULTS[k] for k in EXPERIMENT_KEYS}
    full.update(settings)
    try:
        d = explorer_data(("rnn",), **full)["rnn"]
    except (TypeError, ValueError) as err:
        return verdict(False, f"探索器算不了这组设置：{err}")
    gs = d["gamma"] * d["sigma_max"]
    # the recomputed numbers on lines of their own, so that a line never wraps inside a number
    shown = (f"\n  你的设置：scale = {full['scale']:g}，{full['mode']}，{full['activation']}，"
             f"输入尺度 {full['input_scale']:g}，T = {full['T']}"
             f"\n  重新计算：σ_max = {d['sigma_max']:.2f}，ρ = {d['spectral_radius']:.2f}，γ·σ_max = {gs:.2f}"
             f"\n  ‖∂L/∂h_0‖ = {d['ratio']:.1e}，饱和比例 {d['saturated_fraction']:.0%}")
    if d["sigma_max"] <= 1:
        return verdict(False, f"σ_max = {d['sigma_max']:.2f} 不大于 1：题目要 σ_max > 1 的设置。{shown}")
    if gs < 1:
        return verdict(False, f"γ·σ_max = {gs:.2f} < 1：这是理论保证消失的情形（sigmoid 的 γ = 1/4）。"
                              f"找一组 γ·σ_max ≥ 1、理论不保证、却仍然消失的设置。{shown}")
    if not d["ratio"] < VANISHED:
        return verdict(False, f"在这组设置下梯度没有消失：‖∂L/∂h_0‖ = {d['ratio']:.1e}（要求 < {VANISHED:g}）。{shown}")
    if reason == "C":
        return verdict(False, f"原因 C 不对：γ·σ_max = {gs:.2f} ≥ 1，充分条件不成立。{shown}")
    if reason == "A" and d["spectral_radius"] >= 1:
        return verdict(False, f"原因 A 不成立：ρ = {d['spectral_radius']:.2f} ≥ 1。"
                              f"看看饱和比例，或者换一组 ρ < 1 的设置。{shown}")
    if reason == "B" and d["saturated_fraction"] <= SATURATED:
        return verdict(False, f"原因 B 不成立：只有 {d['saturated_fraction']:.0%} 的 f'(a) < 1e-3，"
                              f"没有明显饱和。看看谱半径 ρ。{shown}")
    return verdict(True, f"{REASONS[reason]}。{shown}")
