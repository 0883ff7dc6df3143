"""Checkers for chapter 07 (attention and the Transformer); chapter 08's are in ``ch08.py``.

Each checker prints one verdict line and returns a :class:`~helpers.exercises._core.Verdict`
(truthy when right, shows nothing in a notebook); none raises, whatever the answer.

1. ``check_attention(fn)``: scaled dot-product attention fn(Q, K, V) -> (T, d_v), tried on two
   sets of inputs of different shapes.
2. ``check_causal_mask(fn)``: fn(T) -> the boolean causal mask of nn.MultiheadAttention (True = masked).
3. ``check_equal_scores(answer, V)``: the output row when every score of the row is equal, for the
   student's own ``V`` (``equal_scores_inputs()``; variant 0: the chapter's V_demo).
4. ``check_long_numbers(answer, models, src_vocab, tgt_vocab)`` (experiment): exact-match accuracies
   of both trained models on the student's own 200 new 12-digit numbers (``long_numbers_inputs()``).
   The checker reads the same numbers with the student's models itself, so only the measured
   accuracies pass; it also reads 200 numbers of its own, so models fitted on the student's
   numbers are caught, and it asks for §1's conclusion, which untrained models do not show.

Graded exercises with a number or an experiment as answer draw their inputs from the student's
variant (``_core.variant``; 0 = the chapter as taught) and the checker recomputes for that variant.
The functions marked ``@reference`` compute expected answers and the named mistakes; the hub's
student edition ships without their bodies (the checker then says it is graded after submission).
"""
from __future__ import annotations

import numpy as np
import torch

from ..env import generator
from ._core import (Verdict, answer_dtype, checker, close, describe, quiet_false, read_number,
                    read_tensor, reference, run_student, unanswered, variant, variant_generator,
                    variant_seed, verdict)


def _v(v) -> int:
    return variant() if v is None else int(v)


# ----------------------------------------------------------------------------- exercise 1
ATTENTION_CASES = ((7, 4, 5, 6, 3), (11, 3, 7, 5, 2))     # (seed, T, S, d_k, d_v): d_k != d_v, T != S


def _qkv(seed: int = 7, T: int = 4, S: int = 5, d: int = 6, d_v: int = 3):
    g = generator(seed)
    return (torch.randn(T, d, generator=g, dtype=torch.float64), torch.randn(S, d, generator=g, dtype=torch.float64),
            torch.randn(S, d_v, generator=g, dtype=torch.float64))


@reference
def attention_answers(Q, K, V) -> dict:
    """The right output and those of the mistakes the hints name, for one (Q, K, V)."""
    def attend(scale, dim=-1, softmax=True):
        scores = Q @ K.T / scale
        return (torch.softmax(scores, dim=dim) if softmax else scores) @ V
    d_k, d_v = Q.shape[-1], V.shape[-1]
    return {"right": attend(d_k ** 0.5), "unscaled": attend(1.0), "by_d": attend(float(d_k)),
            "by_dv": attend(d_v ** 0.5), "dim0": attend(d_k ** 0.5, dim=0),
            "no_softmax": attend(d_k ** 0.5, softmax=False), "no_softmax_unscaled": attend(1.0, softmax=False)}


ATTENTION_HINTS = (
    ("unscaled", "打分忘了缩放：softmax 之前要除以 √d_k。"),
    ("by_d", "除以的是 d_k 本身，应除以它的平方根 √d_k。"),
    ("by_dv", "缩放用错了维数：d_k 是查询和键的宽度，不是值的宽度 d_v。"),
    ("dim0", "softmax 做错了维度：应让每个查询（每一行）的权重和为 1。"),
    ("no_softmax", "忘了 softmax：打分要先变成和为 1 的权重，再去加权平均值向量。"),
    ("no_softmax_unscaled", "忘了 softmax（也忘了缩放）：打分要先变成和为 1 的权重。"),
)


@checker
def check_attention(fn) -> Verdict:
    """fn(Q, K, V) with Q (T, d_k), K (S, d_k), V (S, d_v) -> scaled dot-product attention (T, d_v)."""
    outputs = []
    for seed, T, S, d, d_v in ATTENTION_CASES:
        Q, K, V = _qkv(seed, T, S, d, d_v)
        ok, out = run_student(fn, (Q, K, V), "my_attention(Q, K, V)",
                              "Q 是 (T, d_k)、K 是 (S, d_k)、V 是 (S, d_v)。")
        if not ok:
            return quiet_false()
        got = read_tensor(out, (T, d_v), f"T={T}、S={S}、d_k={d}、d_v={d_v} 时的返回值")
        if got is None:
            return quiet_false()
        outputs.append((got, answer_dtype(out), attention_answers(Q, K, V)))
    if all(close(got, want["right"], dtype=dtype) for got, dtype, want in outputs):
        return verdict(True, "缩放点积注意力：每个查询对所有键的权重和为 1，输出是值向量的加权平均。")
    for key, hint in ATTENTION_HINTS:
        if all(close(got, want[key], dtype=dtype) for got, dtype, want in outputs):
            return verdict(False, hint)
    return verdict(False, "结果与缩放点积注意力不符。先检查打分表的形状是不是 (T, S)：每个查询对每个键一个分数。")


# ----------------------------------------------------------------------------- exercise 2
MASK_SIZES = (1, 4, 7, 12)


@reference
def mask_answers(T: int) -> dict:
    """The right boolean causal mask (True = may not look) and the masks of the named mistakes."""
    ones = torch.ones(T, T, dtype=torch.bool)
    right = ones.triu(1)
    return {"right": right, "allowed": ~right, "diagonal": ones.triu(0), "past": ones.tril(-1)}


MASK_HINTS = (
    ("allowed", "这是“True = 允许看”的约定（F.scaled_dot_product_attention 用它）；"
                "nn.MultiheadAttention 的布尔掩码 True = 不许看。"),
    ("diagonal", "对角线也被遮住了：位置 i 应该能看它自己。"),
    ("past", "遮住的是过去而不是未来：位置 i 不许看的是它后面的位置。"),
)


@checker
def check_causal_mask(fn) -> Verdict:
    """fn(T) must return a (T, T) bool tensor: True exactly where position i would look at a later j."""
    results = {}
    for T in MASK_SIZES:
        ok, out = run_student(fn, (T,), "my_mask(T)", "返回一个 (T, T) 的布尔张量。")
        if not ok:
            return quiet_false()
        if not isinstance(out, torch.Tensor):
            return verdict(False, f"应返回 torch.Tensor（布尔），得到 {describe(out)}。")
        if tuple(out.shape) != (T, T):
            return verdict(False, f"T = {T} 时形状应是 ({T}, {T})，得到 {tuple(out.shape)}。")
        results[T] = out.detach().cpu()
    want = {T: mask_answers(T) for T in results}
    if any(out.dtype != torch.bool for out in results.values()):
        if all(not out.is_floating_point() and out.dtype != torch.bool and torch.equal(out != 0, want[T]["right"])
               for T, out in results.items()):
            return verdict(False, "位置对了，但要用布尔张量（dtype=torch.bool）。")
        if all(out.is_floating_point() and torch.equal(torch.isinf(out), want[T]["right"])
               for T, out in results.items()):
            return verdict(False, "这是浮点版本（-inf 表示不许看），也能用；本题要布尔版本：True = 不许看。")
        dtypes = sorted({str(out.dtype) for out in results.values()})
        return verdict(False, f"应是布尔张量（dtype=torch.bool），得到 dtype {', '.join(dtypes)}。")
    if all(torch.equal(out, want[T]["right"]) for T, out in results.items()):
        return verdict(True, "因果掩码：位置 i 看得到自己和之前的位置，看不到之后的。")
    for key, hint in MASK_HINTS:
        if all(torch.equal(out, want[T][key]) for T, out in results.items()):
            return verdict(False, hint)
    wrong = [T for T, out in results.items() if not torch.equal(out, want[T]["right"])]
    return verdict(False, f"T = {wrong[0]} 时掩码不对：True 应恰好标出“位置 i 去看它之后的位置 j”的那些格子。")


# ----------------------------------------------------------------------------- exercise 3
V_DEMO = ((1.0, 0.0, 2.0), (3.0, 1.0, 0.0), (0.0, 2.0, 2.0), (4.0, 1.0, 0.0))
EQUAL_TOL = 0.006            # answers typed with two decimals (1/3 -> 0.33) are right


@reference
def equal_scores_answers(V: torch.Tensor) -> dict:
    """The right output row for equal scores and those of the named mistakes."""
    S, d = V.shape
    return {"right": V.mean(0), "sum": V.sum(0), "zeros": torch.zeros(d, dtype=V.dtype),
            "by_d": V.sum(0) / d, **{f"row{i}": V[i] for i in range(S)}}


def equal_scores_inputs(v: int | None = None) -> torch.Tensor:
    """The value matrix V (S, d) of exercise 3: the chapter's V_demo (4, 3) at variant 0, otherwise
    whole numbers 1..9 with S in 3..6 rows and d in 2..4 columns, S != d, and a first column whose
    sum is not a multiple of S (so that no single row of V is the answer)."""
    v = _v(v)
    if v == 0:
        return torch.tensor(V_DEMO)
    g = variant_generator("ch07.equal_scores", v)
    while True:
        S = int(torch.randint(3, 7, (1,), generator=g))
        d = int(torch.randint(2, 5, (1,), generator=g))
        V = torch.randint(1, 10, (S, d), generator=g).float()
        if S != d and int(V[:, 0].sum()) % S != 0:
            return V


@checker
def check_equal_scores(answer, V=None, v: int | None = None) -> Verdict:
    """The output row when every score is equal, for the variant's V (the V the notebook printed)."""
    if unanswered(answer):
        return quiet_false()
    mine = equal_scores_inputs(v)
    if V is not None:
        given = read_tensor(V, None, "V")
        if given is None:
            return quiet_false()
        if tuple(given.shape) != tuple(mine.shape) or not torch.equal(given, mine.double()):
            return verdict(False, "传给检查器的 V 不是本题给你的 V：用 equal_scores_inputs() 给的那一个，不要改它。")
    S, d = mine.shape
    got = read_tensor(answer, (d,), f"这一行输出（每个特征一个数，共 d = {d} 个）")
    if got is None:
        return quiet_false()
    want = {k: w.double() for k, w in equal_scores_answers(mine.double()).items()}
    near = lambda key: close(got, want[key], tol=EQUAL_TOL)
    if near("right"):
        return verdict(True, "分数全相等时每个位置的权重都一样：这一位置“谁都没特别看”。")
    if near("sum"):
        return verdict(False, "这是和，不是加权平均：softmax 后的权重和为 1。")
    if near("by_d"):
        return verdict(False, "除以的是特征数 d：权重是按位置（V 的行）分的。")
    if near("zeros"):
        return verdict(False, "分数为 0 不等于权重为 0：softmax 之后每个权重都大于 0。")
    if any(near(f"row{i}") for i in range(S)):
        return verdict(False, "分数相等时 softmax 不会只挑一个位置：每个位置的权重都一样大。")
    return verdict(False, "不对：先想 softmax 把 S 个相等的分数变成什么样的权重，再用它们加权 V 的各行。")


# ----------------------------------------------------------------------------- exercise 4 (experiment)
LONG_N = 200                 # new 12-digit numbers per student
LONG_TOL = 6e-4              # accuracies are k/200: three decimals are exact
FRESH_TOL = 0.12             # two samples of 200 numbers: accuracies agree within sampling error
CONCLUSION = 0.5             # §1: attention ahead by more than this on 12-digit numbers
MODEL_NAMES = ("无注意力", "有注意力")


def long_numbers_inputs(v: int | None = None) -> list[tuple[str, str]]:
    """The student's 200 new 12-digit numbers as (digits, reading) pairs: seed 2024 at variant 0
    (the chapter's reference answer), a seed of the variant otherwise."""
    from ..seq2seq import numeral_pairs

    v = _v(v)
    seed = 2024 if v == 0 else variant_seed("ch07.long_numbers", v)
    return numeral_pairs(LONG_N, 10**11, 10**12 - 1, seed=seed)


@reference
def long_accuracies(models, pairs, src_vocab, tgt_vocab) -> tuple[float, float]:
    """Exact-match accuracies (without attention, with attention) of the models on ``pairs``."""
    from ..seq2seq import exact_match, translate

    return tuple(exact_match(translate(models[k], [a for a, _ in pairs], src_vocab, tgt_vocab),
                             [b for _, b in pairs]) for k in MODEL_NAMES)


def _fresh_pairs() -> list[tuple[str, str]]:
    from ..seq2seq import numeral_pairs

    return numeral_pairs(LONG_N, 10**11, 10**12 - 1, seed=31337)


@checker
def check_long_numbers(answer, models, src_vocab, tgt_vocab, v: int | None = None) -> Verdict:
    """answer = (accuracy without attention, accuracy with attention) of ``models`` on the
    variant's 200 numbers. The checker reads those numbers with the same models (only the
    measured accuracies pass, within the three decimals k/200 needs), reads 200 numbers of its
    own (a model fitted on the student's numbers reads those far better than new ones) and asks
    for §1's conclusion (attention ahead by more than 0.5). A failure names the direction of a
    difference, never the checker's numbers."""
    if unanswered(answer):
        return quiet_false()
    if isinstance(answer, (torch.Tensor, np.ndarray)) and answer.ndim == 1:
        answer = tuple(answer.tolist())
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return verdict(False, f"答案应是两个数的元组 (无注意力的正确率, 有注意力的正确率)，得到 {describe(answer)}。")
    plain = read_number(answer[0], "第一个数（无注意力的正确率）")
    if plain is None:
        return quiet_false()
    attn = read_number(answer[1], "第二个数（有注意力的正确率）")
    if attn is None:
        return quiet_false()
    if max(plain, attn) > 1.0:
        return verdict(False, "正确率请写成比例（小数），不是百分数，也不是个数。")
    if min(plain, attn) < 0:
        return verdict(False, "正确率不能是负数。")
    if not isinstance(models, dict) or any(k not in models for k in MODEL_NAMES):
        return verdict(False, f"models 应是 §1 的字典，含 {MODEL_NAMES[0]!r} 和 {MODEL_NAMES[1]!r} 两个模型，"
                              f"得到 {describe(models)}。")
    ref_plain, ref_attn = long_accuracies(models, long_numbers_inputs(v), src_vocab, tgt_vocab)
    near = lambda a, b: abs(a - b) <= LONG_TOL
    if near(plain, ref_attn) and near(attn, ref_plain) and not near(ref_plain, ref_attn):
        return verdict(False, "两个数的顺序反了：先写无注意力的，再写有注意力的。")
    off = [f"{name}的正确率{'偏高' if mine > ref else '偏低'}" for name, mine, ref in
           (("无注意力", plain, ref_plain), ("有注意力", attn, ref_attn)) if not near(mine, ref)]
    if off:
        return verdict(False, f"与用你的模型在 long_numbers_inputs() 给你的 {LONG_N} 个数上重读的结果不符："
                              f"{'；'.join(off)}。用的是这 {LONG_N} 个数、§1 的两个模型吗？小数保留三位。")
    # read only once the numbers match: the 200 fresh numbers tell a fitted model from a trained one
    fresh_plain, fresh_attn = long_accuracies(models, _fresh_pairs(), src_vocab, tgt_vocab)
    if ref_plain - fresh_plain > FRESH_TOL or ref_attn - fresh_attn > FRESH_TOL:
        return verdict(False, "你的模型读你这 200 个数比读它没见过的新数好得多：模型在这些数上训练过吗？"
                              "实验要用 §1 训练好的模型读它没见过的数。")
    if attn - plain <= CONCLUSION:
        return verdict(False, "你的两个数与模型一致，但不支持 §1 的结论（有注意力应大幅领先）："
                              "§1 的两个模型训练完整了吗？")
    return verdict(True, f"你的 {LONG_N} 个新数上：无注意力 {plain:.3f}，有注意力 {attn:.3f}。"
                         "换一批从没见过的数，结论不变：注意力大幅领先。")
