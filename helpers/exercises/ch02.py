"""Checkers for chapter 02 (word embedding).

Each checker prints one verdict line and returns a :class:`~helpers.exercises._core.Verdict`
(truthy when right, shows nothing in a notebook); none raises, whatever the answer.

1. ``check_word_to_index(fn)``: a reproducible ``word2index`` (erratum E2): 0 = <pad>,
   1 = <unk>, then words by count (most first), ties by first appearance, from 2 on.
2. ``check_most_similar(fn)``: the k nearest rows by *cosine*, the word itself left out.
3. ``check_shuffled_contexts(answer, ...)`` (experiment): word vectors trained on pairs whose
   contexts were shuffled; the checker measures the student's own vectors (domain margin) and
   compares them with the vectors trained on the real pairs.
"""
from __future__ import annotations

from collections import Counter

import torch

from ..embedding import domain_cosines
from ..env import generator
from ..vocab import Vocab
from ._core import (Verdict, checker, describe, quiet_false, read_tensor, run_student, unanswered,
                   verdict)



# ----------------------------------------------------------------------------- exercise 1
WORD_INDEX_CASES = [
    [["我", "爱", "北京"], ["我", "爱", "上海"]],
    [["好", "好", "学习"], ["天天", "向上"], ["学习", "好"]],                       # ties: 学习 before 天天
    [["c", "b", "a", "b"], ["a", "d", "c", "c"]],                                   # alphabetical ≠ first seen
]


def _as_mapping(result) -> dict | None:
    """A {word: int} dict from what a student returns (a dict, or a list such as itos)."""
    if isinstance(result, dict):
        try:
            return {str(k): int(v) for k, v in result.items()}
        except (TypeError, ValueError):
            return None
    return None


@checker
def check_word_to_index(fn):
    """``fn(sentences) -> {word: index}`` must give what ``Vocab(sentences).stoi`` gives."""
    for case in WORD_INDEX_CASES:
        ok, result = run_student(fn, (case,), "fn(sentences)",
                                 "提示：先用 collections.Counter 数次数，再排序。")
        if not ok:
            return quiet_false()
        got = _as_mapping(result)
        if got is None:
            return verdict(False, f"函数应返回一个字典 {{词: 索引}}，得到 {describe(result)}。")
        right = Vocab(case).stoi
        if got == right:
            continue
        words = [w for s in case for w in s]
        real = {w: i for w, i in right.items() if i >= 2}
        given = {w: got.get(w) for w in real}
        shown = f"句子 {case}：应得到 {right}，你的函数给出 {got}。"
        if set(real) - set(got):
            return verdict(False, f"有的词没有编号：{sorted(set(real) - set(got))}。{shown}")
        if all(v == 1 for v in given.values()):
            return verdict(False, "每个词都得到了 1：1 号是 <unk>（词表外的词），真正的词从 2 号开始编号。" + shown)
        if len(set(given.values())) < len(given):
            return verdict(False, "有两个不同的词得到了同一个索引：每个词的索引必须不同。" + shown)
        if got.get(Vocab.PAD) != 0 or got.get(Vocab.UNK) != 1:
            if sorted(real, key=lambda w: given[w]) == sorted(real, key=lambda w: right[w]):
                return verdict(False, "词的顺序对了，但少了两个特殊符号：0 号是 <pad>，1 号是 <unk>，词从 2 号开始。" + shown)
            return verdict(False, "字典里要有 '<pad>': 0 和 '<unk>': 1，真正的词从 2 号开始。" + shown)
        order = sorted(real, key=lambda w: given[w])
        if order == sorted(real, key=lambda w: right[w]):
            return verdict(False, "顺序对了，但编号不对：<pad> 0、<unk> 1，词从 2 号起连续编号。" + shown)
        if order == [w for w in dict.fromkeys(sorted(set(words)))]:
            return verdict(False, "按字典序排序也能复现，但这里要求和 Vocab 一样：按出现次数从多到少，"
                                  "次数相同再按第一次出现的先后。" + shown)
        counts = Counter(words)
        if [counts[w] for w in order] == sorted((counts[w] for w in order), reverse=True):
            return verdict(False, "按次数排对了，但次数相同的词要按第一次出现的先后排。" + shown)
        if [counts[w] for w in order] == sorted(counts[w] for w in order):
            return verdict(False, "次数要从多到少排（reverse）：出现最多的词编号最小。" + shown)
        if order == [w for w in dict.fromkeys(list(set(words))) if w in real] and \
                order != sorted(real, key=lambda w: right[w]):
            return verdict(False, "这和 list(set(words)) 的顺序一样：它由字符串哈希决定，换一个进程就变（勘误 E2）。"
                                  "请按出现次数排序。" + shown)
        return verdict(False, shown)
    return verdict(True, "和 Vocab 的编号一致：只依赖次数和出现顺序，任何进程、任何机器上都一样。")


# ----------------------------------------------------------------------------- exercise 2
def _similar_case():
    """Vectors whose cosine, dot-product and Euclidean neighbours of row 0 all differ (the checker's data)."""
    rows = [[1.0, 0.0], [0.1, 0.0], [0.2, 0.02], [0.3, 0.06], [5.0, 4.0], [6.0, 6.0], [4.0, 5.0],
            [1.0, 0.5], [0.9, -0.6], [1.1, 0.4], [-1.0, 0.2], [-2.0, -1.1]]
    extra = torch.randn(12, 2, generator=generator(2), dtype=torch.float64) * 1e-3   # no exact ties
    return torch.cat([torch.tensor(rows, dtype=torch.float64), extra], dim=1)         # (12, 4)


def most_similar(vectors: torch.Tensor, i: int, k: int) -> list[int]:
    """Reference: indices of the k rows with the largest cosine to row i (row i left out), best first."""
    unit = vectors / vectors.norm(dim=1, keepdim=True)
    sims = unit @ unit[i]
    sims[i] = -float("inf")
    return [int(j) for j in sims.topk(k).indices]


def _alternatives(vectors, i, k):
    unit = vectors / vectors.norm(dim=1, keepdim=True)
    cos, dot = unit @ unit[i], vectors @ vectors[i]
    dist = (vectors - vectors[i]).norm(dim=1)
    out = []
    cos_self = cos.clone()
    out.append(([int(j) for j in cos_self.topk(k).indices], "别把这个词自己算进去：它和自己的余弦总是 1。"))
    d = dot.clone()
    d[i] = -float("inf")
    out.append(([int(j) for j in d.topk(k).indices], "这是点积最大的几行：点积会偏向长度大的向量，要除以两个长度（余弦）。"))
    e = dist.clone()
    e[i] = float("inf")
    out.append(([int(j) for j in (-e).topk(k).indices], "这是欧氏距离最近的几行；题目要的是余弦最大的。"))
    c = cos.clone()
    c[i] = float("inf")
    out.append(([int(j) for j in (-c).topk(k).indices], "这是余弦最小（最不像）的几行：要从大到小取。"))
    return out


@checker
def check_most_similar(fn):
    """``fn(vectors, i, k) -> list of k row indices`` with the largest cosine to row i, best first."""
    vectors = _similar_case()
    for i, k in ((0, 3), (4, 2), (9, 1)):
        ok, result = run_student(fn, (vectors, i, k), "fn(vectors, i, k)",
                                 "提示：先把每行除以它的长度 vectors.norm(dim=1, keepdim=True)。")
        if not ok:
            return quiet_false()
        try:
            got = [int(j) for j in (result.tolist() if hasattr(result, "tolist") else result)]
        except (TypeError, ValueError):
            return verdict(False, f"应返回 {k} 个整数索引的列表，得到 {describe(result)}。")
        right = most_similar(vectors, i, k)
        if got == right:
            continue
        if len(got) != k:
            return verdict(False, f"应返回 {k} 个索引（k = {k}），得到 {len(got)} 个：{got}。")
        alternatives = _alternatives(vectors, i, k)
        for wrong, hint in alternatives:
            if got == wrong:
                return verdict(False, hint + f"（i = {i}, k = {k}：应为 {right}，得到 {got}）")
        if sorted(got) == sorted(right):
            return verdict(False, f"是这 {k} 行，但要按余弦从大到小排：应为 {right}，得到 {got}。")
        for wrong, hint in alternatives:
            if sorted(got) == sorted(wrong) and k > 1:
                return verdict(False, hint + f"（i = {i}, k = {k}：应为 {right}，得到 {got}）")
        return verdict(False, f"i = {i}, k = {k}：余弦最大的几行应为 {right}，得到 {got}。")
    return verdict(True, "按余弦找最近邻：先把每行归一化为单位长度，点积就是余弦。")


# ----------------------------------------------------------------------------- exercise 3
def domain_margin(vectors: torch.Tensor, vocab: Vocab, domains: dict) -> float:
    """Mean cosine within domains minus mean cosine across domains (the claim of §5.2)."""
    within, across = domain_cosines(vectors, vocab, domains)
    return sum(within) / len(within) - sum(across) / len(across)


@checker
def check_shuffled_contexts(answer, real_vectors, vocab: Vocab, domains: dict) -> Verdict:
    """The student's vectors trained on shuffled (center, context) pairs: is the domain structure gone?

    ``answer`` is the (V, d) tensor of center vectors the student trained; ``real_vectors`` are the
    chapter's vectors trained on the real pairs. Judged on the student's own result: their domain
    margin must be small (|margin| < 0.15) and well below the real one (by at least 0.15).
    """
    if unanswered(answer):
        return quiet_false()
    real = read_tensor(real_vectors, what="real_vectors")
    shape = tuple(real.shape) if real is not None else None
    vectors = read_tensor(answer, shape, what="你训练出的词向量")
    if vectors is None or real is None:
        return quiet_false()
    if float(vectors.norm(dim=1)[2:].min()) == 0.0:
        return verdict(False, "有的词向量全是 0：是不是把上下文向量 u（初始化为 0）交上来了？请交 model.vectors。")
    if torch.allclose(vectors, real):
        return verdict(False, "这就是用真实训练对学到的那组向量；请用打乱后的上下文重新训练一个新模型。")
    mine, theirs = domain_margin(vectors, vocab, domains), domain_margin(real, vocab, domains)
    said = f"领域内减跨领域的平均余弦：真实上下文 {theirs:.2f}，打乱上下文 {mine:.2f}。"
    if abs(mine) < 0.15 and theirs - mine >= 0.15:
        return verdict(True, said + "没有真实的上下文，就学不到“同领域的词更近”：意思来自上下文（分布假设）。")
    if theirs - mine < 0.15:
        return verdict(False, said + "结构还在：这些向量看起来仍是在真实的词对上学的。只打乱 contexts（不要用同一个"
                                     "排列同时打乱 centers，那样词对没变），再训练一个新模型。")
    return verdict(False, said + "打乱上下文后，领域差应接近 0；检查训练是否正常结束（损失是否有限）。")
