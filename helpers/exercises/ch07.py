"""Checkers for chapter 07 (attention and the Transformer); chapter 08's are in ``ch08.py``.

Each checker prints one verdict line and returns a :class:`~helpers.exercises._core.Verdict`
(truthy when right, shows nothing in a notebook); none raises, whatever the answer.

1. ``check_attention(fn)``: scaled dot-product attention fn(Q, K, V) -> (T, d_v).
2. ``check_causal_mask(fn)``: fn(T) -> the boolean causal mask of nn.MultiheadAttention (True = masked).
3. ``check_equal_scores(answer, V)``: the output row when every score of the row is equal.
4. ``check_long_numbers(answer, models, src_vocab, tgt_vocab)`` (experiment): the student's own
   exact-match accuracies of both trained models on 200 new 12-digit numbers; the checker redoes
   the experiment on its own 200 numbers and judges the student's numbers against it.
"""
from __future__ import annotations

import math

import torch

from ..env import generator
from ._core import (Verdict, answer_dtype, checker, close, describe, quiet_false, read_number,
                   read_tensor, run_student, unanswered, verdict)



# ----------------------------------------------------------------------------- exercise 1
def _qkv(seed: int = 7, T: int = 4, S: int = 5, d: int = 6, d_v: int = 3):
    g = generator(seed)
    return (torch.randn(T, d, generator=g, dtype=torch.float64), torch.randn(S, d, generator=g, dtype=torch.float64),
            torch.randn(S, d_v, generator=g, dtype=torch.float64))


def _attention(Q, K, V, scale=True, dim=-1, softmax=True):
    scores = Q @ K.T / (Q.shape[-1] ** 0.5 if scale else 1.0)
    weights = torch.softmax(scores, dim=dim) if softmax else scores
    return weights @ V


@checker
def check_attention(fn) -> Verdict:
    """fn(Q, K, V) with Q (T, d_k), K (S, d_k), V (S, d_v) must return softmax(Q Kᵀ/√d_k) V, shape (T, d_v)."""
    Q, K, V = _qkv()
    ok, out = run_student(fn, (Q, K, V), "my_attention(Q, K, V)",
                          "Q 是 (T, d_k)、K 是 (S, d_k)、V 是 (S, d_v)：打分是 Q @ K.T。")
    if not ok:
        return quiet_false()
    got = read_tensor(out, (Q.shape[0], V.shape[1]), "返回值")
    if got is None:
        return quiet_false()
    dtype = answer_dtype(out)
    if close(got, _attention(Q, K, V), dtype=dtype):
        return verdict(True, "softmax(QKᵀ/√d_k)V，每行权重和为 1。")
    if close(got, _attention(Q, K, V, scale=False), dtype=dtype):
        return verdict(False, "忘了除以 √d_k：打分应是 Q @ K.T / d_k ** 0.5（d_k 是 Q 的最后一维）。")
    if close(got, _attention(Q, K, V, dim=0), dtype=dtype):
        return verdict(False, "softmax 做错了维度：应对每一行（最后一维，dim=-1）归一化，让每个查询的权重和为 1。")
    if close(got, _attention(Q, K, V, softmax=False), dtype=dtype) or \
            close(got, _attention(Q, K, V, scale=True, softmax=False), dtype=dtype):
        return verdict(False, "忘了 softmax：打分要先变成和为 1 的权重，再乘 V。")
    return verdict(False, "结果与 softmax(QKᵀ/√d_k)V 不符。先检查打分 Q @ K.T 的形状是 (T, S)。")


# ----------------------------------------------------------------------------- exercise 2
@checker
def check_causal_mask(fn) -> Verdict:
    """fn(T) must return a (T, T) bool tensor, True strictly above the diagonal (j > i is masked)."""
    results = {}
    for T in (1, 4, 7):
        ok, out = run_student(fn, (T,), "my_mask(T)", "返回一个 (T, T) 的布尔张量。")
        if not ok:
            return quiet_false()
        if not isinstance(out, torch.Tensor):
            return verdict(False, f"应返回 torch.Tensor（布尔），得到 {describe(out)}。")
        if tuple(out.shape) != (T, T):
            return verdict(False, f"T = {T} 时形状应是 ({T}, {T})，得到 {tuple(out.shape)}。")
        results[T] = out
    want = {T: torch.ones(T, T, dtype=torch.bool).triu(1) for T in results}
    out = results[4]
    if out.dtype != torch.bool:
        as_bool = out != 0
        if all(torch.equal(results[T] != 0, want[T]) for T in results) and not out.is_floating_point():
            return verdict(False, "位置对了，但要用布尔张量（dtype=torch.bool）。")
        if out.is_floating_point() and torch.equal(torch.isinf(out), want[4]):
            return verdict(False, "这是浮点版本（-inf 表示不许看），也能用；本题要布尔版本：True = 不许看。")
        return verdict(False, f"应是布尔张量，得到 dtype {out.dtype}。")
    if all(torch.equal(results[T], want[T]) for T in results):
        return verdict(True, "对角线以上为 True：位置 i 看不到 j > i。")
    if all(torch.equal(results[T], ~want[T]) for T in results):
        return verdict(False, "这是“True = 允许看”的约定（F.scaled_dot_product_attention 用它）；"
                              "nn.MultiheadAttention 的布尔掩码 True = 不许看：取反。")
    if all(torch.equal(results[T], torch.ones(T, T, dtype=torch.bool).triu(0)) for T in results):
        return verdict(False, "对角线也被遮住了：位置 i 应该能看自己（triu 的偏移用 1）。")
    if all(torch.equal(results[T], torch.ones(T, T, dtype=torch.bool).tril(-1)) for T in results):
        return verdict(False, "遮住的是过去而不是未来：因果掩码遮住 j > i（对角线以上）。")
    return verdict(False, "应在对角线以上（j > i）为 True，其余为 False，"
                          "等于 torch.isinf(nn.Transformer.generate_square_subsequent_mask(T))。")


# ----------------------------------------------------------------------------- exercise 3
@checker
def check_equal_scores(answer, V: torch.Tensor) -> Verdict:
    """The output row when every score is equal: uniform weights, so the mean of the rows of V."""
    if unanswered(answer):
        return quiet_false()
    V = torch.as_tensor(V, dtype=torch.float64)
    got = read_tensor(answer, (V.shape[1],), "这一行输出")
    if got is None:
        return quiet_false()
    dtype = answer_dtype(answer)
    if close(got, V.mean(dim=0), dtype=dtype):
        return verdict(True, "权重都是 1/S，输出是所有值向量的平均：这一位置“谁都没特别看”。")
    if close(got, V.sum(dim=0), dtype=dtype):
        return verdict(False, "这是和，不是平均：softmax 后每个权重是 1/S（S = V 的行数），和为 1。")
    if close(got, torch.zeros(V.shape[1]), dtype=dtype):
        return verdict(False, "分数为 0 不等于权重为 0：softmax(0, 0, …, 0) = (1/S, …, 1/S)。")
    if any(close(got, row, dtype=dtype) for row in V):
        return verdict(False, "分数相等时 softmax 不会只挑一个位置：每个位置的权重都是 1/S。")
    return verdict(False, f"分数全相等时权重都是 1/S；结果应是 V 各行的平均，得到 {got.tolist()}。")


# ----------------------------------------------------------------------------- exercise 4 (experiment)
def _long_accuracies(models, src_vocab, tgt_vocab, n: int = 200, seed: int = 31337):
    from ..seq2seq import exact_match, numeral_pairs, translate

    pairs = numeral_pairs(n, 10**11, 10**12 - 1, seed=seed)
    return tuple(exact_match(translate(models[k], [a for a, _ in pairs], src_vocab, tgt_vocab),
                             [b for _, b in pairs]) for k in ("无注意力", "有注意力"))


@checker
def check_long_numbers(answer, models, src_vocab, tgt_vocab) -> Verdict:
    """answer = (accuracy without attention, accuracy with attention) on the student's 200 new 12-digit
    numbers. The checker redoes the experiment on its own 200 numbers: the student's numbers must
    agree with it within sampling error (±0.1), and they must support §1's conclusion (attention
    ahead by more than 0.5). A failure names only the direction of a difference, never the checker's
    own numbers, so that they cannot be copied back."""
    if unanswered(answer):
        return quiet_false()
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return verdict(False, f"答案应是两个数的元组 (无注意力的正确率, 有注意力的正确率)，得到 {describe(answer)}。")
    plain, attn = (read_number(a, "正确率") for a in answer)
    if plain is None or attn is None:
        return quiet_false()
    if max(plain, attn) > 1.0:
        if max(plain, attn) <= 100:
            return verdict(False, "正确率请写成 0 到 1 之间的比例（例如 0.97），不是百分数。")
        return verdict(False, f"正确率应在 0 到 1 之间，得到 {plain} 和 {attn}。")
    if min(plain, attn) < 0:
        return verdict(False, f"正确率不能是负数，得到 {plain} 和 {attn}。")
    ref_plain, ref_attn = _long_accuracies(models, src_vocab, tgt_vocab)
    tol = 0.1
    if abs(plain - ref_attn) <= tol and abs(attn - ref_plain) <= tol and abs(ref_attn - ref_plain) > 2 * tol:
        return verdict(False, "两个数的顺序反了：先写无注意力的，再写有注意力的。")
    off = [f"{name}的正确率比检查器测到的{'高' if mine > ref else '低'}了 {tol} 以上"
           for name, mine, ref in (("无注意力", plain, ref_plain), ("有注意力", attn, ref_attn))
           if abs(mine - ref) > tol]
    if off:
        return verdict(False, f"与检查器在它自己的 200 个 12 位数上测到的相差超过 {tol}：{'；'.join(off)}。"
                              f"确认用的是 12 位数（10**11 到 10**12 - 1）和 §1 训练好的模型。")
    if attn - plain <= 0.5:
        return verdict(False, f"你的数字与检查器的一致，但不支持 §1 的结论（有注意力应比无注意力高出 0.5 以上，"
                              f"这里只差 {attn - plain:.2f}）：§1 的两个模型训练完整了吗？")
    return verdict(True, f"你测到 {plain:.2f} 与 {attn:.2f}，与检查器在另一批 200 个数上测到的 {ref_plain:.2f} 与 "
                         f"{ref_attn:.2f} 相差不到 {tol}：换一批新数，结论不变（注意力大幅领先）。")
