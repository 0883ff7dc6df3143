"""Checkers for chapter 04 (BPTT and gradient problems).

Each checker prints one verdict line and returns a :class:`~helpers.exercises._core.Verdict`
(truthy when right, shows nothing in a notebook); none raises, whatever the answer.

1. ``check_delta_step(fn)``: one step of the δ recursion, fn(delta_next, h_k, W).
2. ``check_must_vanish(answer)``: for each case of ``vanish_cases()``, does the sufficient
   condition γ·σ_max < 1 guarantee vanishing?
3. ``check_clipped_grad(answer)``: the gradient of W after ``clip_grad_norm_`` over two
   parameters (the norm is the total over all parameters), numbers from ``clip_inputs()``.
4. ``check_vanish_experiment(answer)`` (experiment): explorer settings with γ·σ_max ≥ 1 (so
   σ_max > 1) whose gradient still vanishes, the ‖∂L/∂h_0‖ the student measured with the
   explorer seed ``experiment_seed()``, and the reason; the checker recomputes the explorer with
   the student's settings and seed.

Per-student variants (helpers.exercises._core.variant): every checker takes ``v=None`` (the
current student's variant; 0 outside the class hub = the chapter as taught) and recomputes the
expected answer for it. The inputs a student works on come from ``vanish_cases(v)``,
``clip_inputs(v)`` and ``experiment_seed(v)``; exercise 1 (a function) is tested on inputs drawn
for the variant. Functions marked ``@reference`` compute expected answers (or the wrong answers
that hints name); the student edition ships them without a body.
"""
from __future__ import annotations

import math

import torch

from ..env import generator
from ._core import (answer_dtype, checker, close, describe, quiet_false, read_bools,
                   read_number, read_tensor, read_text, reference, run_student, unanswered,
                   variant, variant_generator, variant_rng, verdict)


def _v(v) -> int:
    return variant() if v is None else int(v)


# ----------------------------------------------------------------------------- exercise 1
@reference
def delta_step(delta_next: torch.Tensor, h_k: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """δ_{t,k} = (1 − h_k²) ⊙ Wᵀ δ_{t,k+1}, batch in rows."""
    return (1 - h_k ** 2) * (delta_next @ W)


@reference
def delta_step_mistakes(d: torch.Tensor, h: torch.Tensor, W: torch.Tensor) -> list:
    """(wrong δ, hint) for the slips the checker names."""
    return [
        (d @ W, "漏了 tanh 的导数 (1 − h_k²)：δ 定义在预激活 a_k 上，要乘 f'(a_k)。"),
        ((1 - h ** 2) * (d @ W.T), "转置用反了：想一想列向量写法的 Wᵀδ，换成按行存放的批量（每行一个样本）该怎么写。"),
        ((1 - h) * (d @ W), "tanh 的导数是 1 − tanh²(a) = 1 − h²，不是 1 − h。"),
        (h * (1 - h) * (d @ W), "h(1 − h) 是 sigmoid 的导数；这里是 tanh。"),
        ((1 - h ** 2) * d, "漏了 Wᵀ：从 a_{k+1} 回到 h_k 要经过循环权重 W。"),
    ]


def delta_inputs(v: int | None = None):
    """(delta_next, h_k, W) the checker tests a student's function on: variant 0 the chapter's
    fixed draw (B = 3, H = 5), other variants their own draw and sizes."""
    v = _v(v)
    if v == 0:
        g, B, H = generator(4), 3, 5
    else:
        g = variant_generator("ch04.delta_step", v)
        B, H = (int(n) for n in torch.randint(2, 7, (2,), generator=g))
    d = torch.randn(B, H, generator=g, dtype=torch.float64)
    h = torch.tanh(torch.randn(B, H, generator=g, dtype=torch.float64))
    W = torch.randn(H, H, generator=g, dtype=torch.float64)
    return d, h, W


@checker
def check_delta_step(fn, v=None):
    """``fn(delta_next, h_k, W) -> delta_k``: one step of the δ recursion (tanh RNN, rows = batch)."""
    d, h, W = delta_inputs(v)
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
    for wrong, hint in delta_step_mistakes(d, h, W):
        if close(got, wrong, dtype=dtype):
            return verdict(False, hint)
    return verdict(False, "数值不对。对照题目里的公式检查每一项：tanh 的导数、循环权重、"
                          "以及按行存放的批量里矩阵乘法的方向。")


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


def vanish_cases(v: int | None = None) -> tuple:
    """The cases of exercise 2: variant 0 ``VANISH_CASES``; other variants six cases drawn for
    the variant, one of each kind the exercise is about (tanh or identity with σ_max < 1; sigmoid
    with 1 < σ_max < 4; sigmoid with σ_max > 4 and ρ < 4; tanh with σ_max > 1 > ρ; tanh or identity
    with ρ > 1) and one more (a sigmoid with σ_max < 4, or an identity with σ_max > 1 > ρ), in a
    shuffled order, numbers with one decimal, γ·σ_max never within 0.05 of 1."""
    v = _v(v)
    if v == 0:
        return VANISH_CASES
    rng = variant_rng("ch04.vanish_cases", v)
    pick = lambda lo, hi: round(float(rng.uniform(lo, hi)), 1)
    smooth = lambda: str(rng.choice(["tanh", "identity"]))
    cases = []
    s = pick(0.2, 0.9)
    cases.append((s, pick(0.1, s - 0.1) if s > 0.2 else 0.1, smooth()))
    s = pick(1.2, 3.8)
    cases.append((s, pick(0.5, s - 0.2), "sigmoid"))
    s = pick(4.2, 7.0)
    cases.append((s, pick(1.0, 3.8), "sigmoid"))
    s = pick(1.2, 2.5)
    cases.append((s, pick(0.4, 0.9), "tanh"))
    s = pick(1.6, 3.5)
    cases.append((s, pick(1.2, s - 0.2), smooth()))
    if rng.random() < 0.5:           # a sixth case: another guaranteed or another trap
        s = pick(0.3, 3.6)
        cases.append((s, pick(0.1, s - 0.2) if s > 0.3 else 0.1, "sigmoid"))
    else:
        s = pick(1.1, 1.9)
        cases.append((s, pick(0.3, 0.9), "identity"))
    order = rng.permutation(len(cases))
    return tuple(cases[int(i)] for i in order)


@reference
def must_vanish(sigma: float, activation: str) -> bool:
    """Sufficient condition (E6): γ·σ_max(W) < 1 guarantees vanishing."""
    return GAMMA[activation] * sigma < 1


@reference
def vanish_slip(case: tuple, said: bool) -> str:
    """The mistake behind a wrong True/False for ``case`` (a hint naming the kind of case, not which)."""
    sigma, rho, act = case
    if act == "sigmoid" and must_vanish(sigma, act):
        return "有 sigmoid 的情形判错了：sigmoid 的导数最大只有 1/4（γ = 1/4），要用 γ·σ_max 和 1 比，不是 σ_max。"
    if act == "sigmoid":
        return "有 sigmoid 的情形判成了“保证消失”，可是那里 γ·σ_max ≥ 1：充分条件不成立，理论不保证。"
    if must_vanish(sigma, act):
        return "有 γ·σ_max < 1 的情形你判成了“不保证”：充分条件成立时一定消失。"
    if rho < 1:
        return ("有 σ_max > 1、ρ < 1 的情形你判成了“保证消失”：谱半径 ρ 只管 Wⁿ 的长期增长率；"
                "本章能保证的只有上界 (γσ_max)^(T−k)，它要 γ·σ_max < 1。")
    return "有 γ·σ_max ≥ 1 的情形你判成了“保证消失”：充分条件不成立，理论不保证。"


@checker
def check_must_vanish(answer, v=None):
    """``answer``: a list of True/False, one per case of ``vanish_cases()``: does γ·σ_max < 1
    *guarantee* vanishing?"""
    if unanswered(answer):
        return quiet_false()
    cases = vanish_cases(v)
    got = read_bools(answer, len(cases), "答案")
    if got is None:
        return quiet_false()
    right = [must_vanish(s, a) for s, _, a in cases]
    if got == right:
        return verdict(True, "只有 γ·σ_max < 1 才“保证”消失；≥ 1 时可能爆炸，也可能因饱和而消失。")
    hints = []
    for case, said, r in zip(cases, got, right):
        if said != r:
            hint = vanish_slip(case, said)
            if hint not in hints:
                hints.append(hint)
    return verdict(False, "\n".join(hints))


# ----------------------------------------------------------------------------- exercise 3
# Two parameters' gradients; clip_grad_norm_ scales *all of them* by one factor from the total norm.
CLIP_GRADS = {"W": ((3.0, 4.0), (0.0, 0.0)), "b": (12.0,)}   # ‖g_W‖ = 5, ‖g_b‖ = 12, total 13
CLIP_MAX_NORM = 6.5
# An answer is right within CLIP_RTOL of its largest entry (a hand computation kept to three
# significant digits); every named mistake lies at least CLIP_SEPARATION away (checked per variant).
CLIP_RTOL, CLIP_SEPARATION = 5e-3, 5e-2


def _norm(g) -> float:
    return float(torch.as_tensor(g, dtype=torch.float64).norm())


def clip_inputs(v: int | None = None) -> tuple[dict, float]:
    """(grads, max_norm) of exercise 3: variant 0 the chapter's ``CLIP_GRADS``, 6.5; other
    variants whole-number gradients for W (2×2) and b (1 or 2 entries) and a max_norm (one
    decimal) between ‖g_W‖ and the total norm, so that clipping each parameter alone leaves g_W
    unchanged, and every named mistake is at least CLIP_SEPARATION from the right answer."""
    v = _v(v)
    if v == 0:
        return dict(CLIP_GRADS), CLIP_MAX_NORM
    rng = variant_rng("ch04.clip", v)
    while True:
        gW = rng.integers(-9, 10, size=(2, 2))
        gb = rng.integers(-12, 13, size=int(rng.integers(1, 3)))
        nW, total = float((gW ** 2).sum()) ** 0.5, float((gW ** 2).sum() + (gb ** 2).sum()) ** 0.5
        if nW < 3 or total < 1.6 * nW:
            continue
        # max_norm between 1.15 ‖g_W‖ and 0.85 of the total keeps every named mistake at least
        # CLIP_SEPARATION from the right answer (tests/test_exercises_ch04.py checks every variant);
        # an input maker never calls a reference (the student edition has none)
        max_norm = round(float(rng.uniform(nW * 1.15, total * 0.85)), 1)
        return {"W": tuple(tuple(float(x) for x in row) for row in gW), "b": tuple(float(x) for x in gb)}, max_norm


@reference
def clipped(grads: dict, max_norm: float) -> dict:
    """What ``torch.nn.utils.clip_grad_norm_`` leaves in every .grad: g · min(1, max_norm / ‖g‖_total)."""
    total = math.sqrt(sum(_norm(g) ** 2 for g in grads.values()))
    factor = min(1.0, max_norm / total) if total > 0 else 1.0
    return {k: torch.as_tensor(g, dtype=torch.float64) * factor for k, g in grads.items()}


@reference
def clip_mistakes(grads: dict, max_norm: float) -> list:
    """(wrong g_W, hint) for the slips the checker names."""
    gW = torch.as_tensor(grads["W"], dtype=torch.float64)
    norms = [_norm(g) for g in grads.values()]
    norm_W, total = _norm(gW), math.sqrt(sum(n * n for n in norms))
    return [
        (gW * min(1.0, max_norm / norm_W), "每个参数单独裁剪了：clip_grad_norm_ 把所有参数的梯度拼成一个向量，"
                                            "用它的总范数算一个共同的因子。"),
        (gW * max_norm / norm_W, "把 W 的梯度自己缩放到了长度 max_norm：要用所有参数拼起来的总范数。"),
        (gW * total / max_norm, "因子倒过来了：裁剪是缩小，不是放大。"),
        (gW * max_norm / sum(norms), "范数不能直接相加：总范数是把所有分量拼成一个向量后的长度。"),
        (gW * max_norm / total ** 2, "除了两次总范数。"),
    ]


@checker
def check_clipped_grad(answer, v=None):
    """``answer``: the 2×2 gradient of W after ``clip_grad_norm_([W, b], max_norm)`` for the
    gradients and max_norm of ``clip_inputs()``."""
    if unanswered(answer):
        return quiet_false()
    grads, max_norm = clip_inputs(v)
    got = read_tensor(answer, (2, 2), "W 的梯度")
    if got is None:
        return quiet_false()
    right = clipped(grads, max_norm)["W"]
    tol = CLIP_RTOL * float(right.abs().max())
    if close(got, right, tol):
        return verdict(True, "所有参数的梯度乘以同一个因子 max_norm / 总范数：方向不变，"
                             f"拼起来的总长度变成 {max_norm:g}。")
    for wrong, hint in clip_mistakes(grads, max_norm):
        if close(got, wrong, tol):
            return verdict(False, hint)
    return verdict(False, "数值不对。先算所有参数的梯度拼起来的总范数，再看每个梯度要乘的因子"
                          "（只在总范数超过 max_norm 时才缩小）。")


# ----------------------------------------------------------------------------- exercise 4 (experiment)
REASONS = {
    "A": "ρ(W) < 1：Wⁿ 的长期增长率是谱半径 ρ；σ_max > 1 只是一步能拉长的最大倍数（上界）",
    "B": "tanh 饱和：很多 f'(a) ≈ 0，雅可比矩阵 diag(f'(a)) W 被截断",
    "C": "γ·σ_max < 1：本章的充分条件成立，理论保证消失",
}
EXPERIMENT_KEYS = ("scale", "mode", "activation", "input_scale", "T")
ANSWER_KEYS = EXPERIMENT_KEYS + ("grad_norm", "reason")
VANISHED = 1e-3          # ‖∂L/∂h_0‖ below this counts as vanished (the explorer's verdict uses it too)
SATURATED = 0.05         # share of |f'(a)| < 1e-3 from which the explorer reports saturation
# The measured ‖∂L/∂h_0‖ is accepted within 0.6 % (it may be typed with three significant digits,
# as the explorer prints it: {:.2e}); the same settings with another explorer seed give a value off
# by far more (tests/test_exercises_ch04.py measures it over variants).
GRAD_RTOL = 0.006


def experiment_seed(v: int | None = None) -> int:
    """The explorer seed of exercise 4 (``explorer_data(..., seed=experiment_seed())``): 0 in
    variant 0 (the explorer as the chapter shows it), else a seed drawn for the variant."""
    v = _v(v)
    if v == 0:
        return 0
    return int(variant_rng("ch04.vanish_experiment", v).integers(1, 1_000_000))


def _read_settings(answer):
    """(settings for explorer_data, measured ‖∂L/∂h_0‖, reason letter) or None after a message."""
    example = ("{\"scale\": ..., \"mode\": \"sigma\", \"activation\": \"tanh\", \"input_scale\": 1.0, "
               "\"grad_norm\": ..., \"reason\": \"A\"}")
    if not isinstance(answer, dict):
        verdict(False, f"答案应是一个字典，例如 {example}，得到 {describe(answer)}。")
        return None
    unknown = sorted(set(map(str, answer)) - set(ANSWER_KEYS))
    if unknown:
        verdict(False, f"字典里有不认识的键 {describe(unknown)}；可用的键：{list(ANSWER_KEYS)}。")
        return None
    if "reason" not in answer:
        verdict(False, f"还缺原因：加上 \"reason\": \"A\"、\"B\" 或 \"C\"（{'；'.join(f'{k}：{v}' for k, v in REASONS.items())}）。")
        return None
    if "grad_norm" not in answer:
        verdict(False, "还缺你测到的 ‖∂L/∂h_0‖：加上 \"grad_norm\": ...（用 explorer_data(..., seed=seed) 算出的 ratio）。")
        return None
    reason = read_text(answer["reason"], "原因")
    if reason is None:
        return None
    reason = reason.upper()
    if reason not in REASONS:
        verdict(False, f"原因应是 \"A\"、\"B\" 或 \"C\"，得到 {describe(answer['reason'])}。")
        return None
    measured = read_number(answer["grad_norm"], "grad_norm（‖∂L/∂h_0‖）")
    if measured is None:
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
    return settings, measured, reason


@checker
def check_vanish_experiment(answer, v=None):
    """``answer``: {"scale", "mode", "activation", "input_scale", "T" (optional, default as the
    explorer), "grad_norm": the ‖∂L/∂h_0‖ measured with seed ``experiment_seed()``,
    "reason": "A" | "B" | "C"}. Right when the recomputed RNN (the student's settings, the
    variant's seed) has γ·σ_max ≥ 1, its gradient vanishes (‖∂L/∂h_0‖ < 1e-3), the reported
    ‖∂L/∂h_0‖ is the recomputed one and the reason holds for these settings."""
    from ..widgets import DEFAULTS, explorer_data

    if unanswered(answer):
        return quiet_false()
    read = _read_settings(answer)
    if read is None:
        return quiet_false()
    settings, measured, reason = read
    full = {k: DEFAULTS[k] for k in EXPERIMENT_KEYS}
    full.update(settings)
    try:
        d = explorer_data(("rnn",), seed=experiment_seed(v), **full)["rnn"]
    except (TypeError, ValueError) as err:
        return verdict(False, f"探索器算不了这组设置：{err}")
    gs = d["gamma"] * d["sigma_max"]
    # the recomputed numbers on lines of their own, so that a line never wraps inside a number;
    # never ‖∂L/∂h_0‖ itself: it is part of the answer
    shown = (f"\n  你的设置：scale = {full['scale']:g}，{full['mode']}，{full['activation']}，"
             f"输入尺度 {full['input_scale']:g}，T = {full['T']}"
             f"\n  重新计算：σ_max = {d['sigma_max']:.2f}，ρ = {d['spectral_radius']:.2f}，γ·σ_max = {gs:.2f}，"
             f"饱和比例 {d['saturated_fraction']:.0%}")
    if d["sigma_max"] <= 1:
        return verdict(False, f"σ_max 不大于 1：题目要 σ_max > 1 的设置。{shown}")
    if gs < 1:
        return verdict(False, "γ·σ_max < 1：这是理论保证消失的情形（sigmoid 的 γ = 1/4）。"
                              f"找一组 γ·σ_max ≥ 1、理论不保证、却仍然消失的设置。{shown}")
    if not d["ratio"] < VANISHED:
        return verdict(False, f"在这组设置下梯度没有消失：‖∂L/∂h_0‖ 不小于 {VANISHED:g}。{shown}")
    if not abs(measured - d["ratio"]) <= GRAD_RTOL * d["ratio"]:
        low = measured < d["ratio"]
        return verdict(False, f"你报告的 ‖∂L/∂h_0‖ 和用你的设置、你的种子（seed = experiment_seed()）重算的结果"
                              f"不一致（你的数{'偏小' if low else '偏大'}）：用 explorer_data(..., seed=seed) 重新测，"
                              f"把 [\"rnn\"][\"ratio\"] 填进来。{shown}")
    if reason == "C":
        return verdict(False, f"原因 C 不对：γ·σ_max ≥ 1，充分条件不成立。{shown}")
    if reason == "A" and d["spectral_radius"] >= 1:
        return verdict(False, f"原因 A 不成立：ρ ≥ 1。看看饱和比例，或者换一组 ρ < 1 的设置。{shown}")
    if reason == "B" and d["saturated_fraction"] <= SATURATED:
        return verdict(False, f"原因 B 不成立：f'(a) < 1e-3 的比例不到 {SATURATED:.0%}，"
                              f"没有明显饱和。看看谱半径 ρ。{shown}")
    return verdict(True, f"{REASONS[reason]}。{shown}")
