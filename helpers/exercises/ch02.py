"""Checkers for chapter 02 (word embedding).

Each checker prints one verdict line and returns a :class:`~helpers.exercises._core.Verdict`
(truthy when right, shows nothing in a notebook); none raises, whatever the answer.

1. ``check_word_to_index(fn)``: a reproducible ``word2index`` (erratum E2): 0 = <pad>,
   1 = <unk>, then words by count (most first), ties by first appearance, from 2 on.
2. ``check_most_similar(fn)``: the k nearest rows by *cosine*, the word itself left out.
3. ``check_shuffled_contexts(model, real_model, vocab, domains, centers, contexts)`` (experiment):
   a skip-gram model trained on pairs whose contexts were shuffled with the student's permutation
   (``shuffle_permutation``); the checker measures the student's own model (trained? on their
   shuffled pairs? not on the real ones?) and its domain margin against the chapter's model.

Per-student variants: ``shuffle_permutation(n, v=None)`` gives variant ``v``'s permutation (0: the
chapter's); the checker recomputes for ``_core.variant()``. The two function exercises are judged
on fixed inputs here and on inputs drawn for the student's variant in the hidden tests
(scripts/nbgrader/grading.toml). Functions marked ``@reference`` compute expected answers (or the
wrong answers the hints name); the student edition ships without them.
"""
from __future__ import annotations

from collections import Counter

import torch

from ..embedding import domain_cosines
from ..env import generator
from ..vocab import Vocab
from ._core import (Verdict, checker, describe, quiet_false, reference, run_student,
                   unanswered, variant, variant_generator, verdict)



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


@reference
def word_to_index(sentences) -> dict:
    """The reference: what ``Vocab(sentences).stoi`` gives."""
    return Vocab(sentences).stoi


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
        right = word_to_index(case)
        if got == right:
            continue
        words = [w for s in case for w in s]
        real = {w: i for w, i in right.items() if i >= 2}
        given = {w: got.get(w) for w in real}
        shown = f"（句子 {case}，你的函数给出 {describe(got, limit=120)}）"
        if set(real) - set(got):
            return verdict(False, f"有的词没有编号：{sorted(set(real) - set(got))}。{shown}")
        if all(v == 1 for v in given.values()):
            return verdict(False, "每个词都得到了 1：1 号是 <unk>（词表外的词），不是真正的词的编号。" + shown)
        if len(set(given.values())) < len(given):
            return verdict(False, "有两个不同的词得到了同一个索引：每个词的索引必须不同。" + shown)
        if got.get(Vocab.PAD) != 0 or got.get(Vocab.UNK) != 1:
            if sorted(real, key=lambda w: given[w]) == sorted(real, key=lambda w: right[w]):
                return verdict(False, "词的顺序对了，但两个特殊符号 <pad>、<unk> 不在规定的位置。" + shown)
            return verdict(False, "字典里要有两个特殊符号 <pad> 和 <unk>，编号按题目的规定。" + shown)
        order = sorted(real, key=lambda w: given[w])
        if order == sorted(real, key=lambda w: right[w]):
            return verdict(False, "顺序对了，但编号不对：真正的词接在两个特殊符号后面，连续编号。" + shown)
        if order == [w for w in dict.fromkeys(sorted(set(words)))]:
            return verdict(False, "按字典序排序也能复现，但这里要求和 Vocab 一样：按出现次数排，"
                                  "次数相同再看第一次出现的先后。" + shown)
        counts = Counter(words)
        if [counts[w] for w in order] == sorted((counts[w] for w in order), reverse=True):
            return verdict(False, "按次数排对了，但次数相同的词的先后不对：看它们第一次出现的先后。" + shown)
        if [counts[w] for w in order] == sorted(counts[w] for w in order):
            return verdict(False, "次数的方向反了：出现最多的词编号应最小。" + shown)
        if order == [w for w in dict.fromkeys(list(set(words))) if w in real] and \
                order != sorted(real, key=lambda w: right[w]):
            return verdict(False, "这和 list(set(words)) 的顺序一样：它由字符串哈希决定，换一个进程就变（勘误 E2）。"
                                  "请按出现次数排序。" + shown)
        return verdict(False, "编号和 Vocab 的规则不一致：对照题目里的四条规则检查。" + shown)
    return verdict(True, "和 Vocab 的编号一致：只依赖次数和出现顺序，任何进程、任何机器上都一样。")


# ----------------------------------------------------------------------------- exercise 2
# Rows of _similar_case in an order where no query's right answer is in index order (ascending or
# descending), so an answer that returns the right rows sorted by index fails.
ROW_ORDER = [9, 4, 0, 6, 8, 11, 7, 2, 3, 1, 5, 10]
SIMILAR_QUERIES = ((0, 3), (4, 3), (9, 1), (7, 11))      # (i, k); k = 11 ranks every other row


def _similar_case():
    """Vectors whose cosine, dot-product and Euclidean neighbours all differ (the checker's data)."""
    rows = [[1.0, 0.0], [0.1, 0.0], [0.2, 0.02], [0.3, 0.06], [5.0, 4.0], [6.0, 6.0], [4.0, 5.0],
            [1.0, 0.5], [0.9, -0.6], [1.1, 0.4], [-1.0, 0.2], [-2.0, -1.1]]
    extra = torch.randn(12, 2, generator=generator(2), dtype=torch.float64) * 1e-3   # no exact ties
    return torch.cat([torch.tensor(rows, dtype=torch.float64), extra], dim=1)[ROW_ORDER]   # (12, 4)


@reference
def most_similar(vectors: torch.Tensor, i: int, k: int) -> list[int]:
    """Reference: indices of the k rows with the largest cosine to row i (row i left out), best first."""
    unit = vectors / vectors.norm(dim=1, keepdim=True)
    sims = unit @ unit[i]
    sims[i] = -float("inf")
    return [int(j) for j in sims.topk(k).indices]


@reference
def similar_mistakes(vectors, i, k):
    """[(wrong answer, hint)] for the mistakes the hints name."""
    unit = vectors / vectors.norm(dim=1, keepdim=True)
    cos, dot = unit @ unit[i], vectors @ vectors[i]
    dist = (vectors - vectors[i]).norm(dim=1)
    out = []
    cos_self = cos.clone()
    out.append(([int(j) for j in cos_self.topk(k).indices], "别把这个词自己算进去：它和自己最像。"))
    d = dot.clone()
    d[i] = -float("inf")
    out.append(([int(j) for j in d.topk(k).indices], "这是点积最大的几行：点积会偏向长度大的向量。"))
    e = dist.clone()
    e[i] = float("inf")
    out.append(([int(j) for j in (-e).topk(k).indices], "这是欧氏距离最近的几行；题目要的是余弦最大的。"))
    c = cos.clone()
    c[i] = float("inf")
    out.append(([int(j) for j in (-c).topk(k).indices], "这是余弦最小（最不像）的几行：方向反了。"))
    return out


def _indices(result):
    """A list of ints from what a student returns (list, tuple, tensor, array); None if not."""
    try:
        items = result.tolist() if hasattr(result, "tolist") else result
        if isinstance(items, (str, bytes)) or not hasattr(items, "__iter__"):
            return None
        out = []
        for j in items:
            if isinstance(j, bool) or float(j) != int(j):
                return None
            out.append(int(j))
            if len(out) > 10_000:
                return None
        return out
    except Exception:
        return None


@checker
def check_most_similar(fn):
    """``fn(vectors, i, k) -> list of k row indices`` with the largest cosine to row i, best first."""
    vectors = _similar_case()
    for i, k in SIMILAR_QUERIES:
        ok, result = run_student(fn, (vectors, i, k), "fn(vectors, i, k)",
                                 "提示：先想清楚余弦和点积差在哪里。")
        if not ok:
            return quiet_false()
        got = _indices(result)
        if got is None:
            return verdict(False, f"应返回 {k} 个整数索引的列表，得到 {describe(result)}。")
        right = most_similar(vectors, i, k)
        if got == right:
            continue
        where = f"（i = {i}, k = {k}，你的函数给出 {describe(got, limit=80)}）"
        if len(got) != k:
            return verdict(False, f"应返回 {k} 个索引（k = {k}），得到 {len(got)} 个。" + where)
        alternatives = similar_mistakes(vectors, i, k)
        for wrong, hint in alternatives:
            if got == wrong:
                return verdict(False, hint + where)
        if sorted(got) == sorted(right):
            if got == sorted(got):
                return verdict(False, f"是这 {k} 行，但你按行号排了序；要按余弦从大到小排，最像的在最前面。" + where)
            return verdict(False, f"是这 {k} 行，但顺序不对：要按余弦从大到小排，最像的在最前面。" + where)
        for wrong, hint in alternatives:
            if sorted(got) == sorted(wrong) and 1 < k < len(vectors) - 1:
                return verdict(False, hint + where)
        return verdict(False, "不是余弦最大的那几行：对照余弦的定义检查。" + where)
    return verdict(True, "按余弦找最近邻：先把每行归一化为单位长度，点积就是余弦。")


# ----------------------------------------------------------------------------- exercise 3
# Measured on the chapter's corpus (542k pairs, V = 4365, d = 32, negatives 3, lr 0.03, batch 4096),
# mean loss on a fixed sample of pairs with fixed negatives:
#                                 own shuffled pairs   other shuffled pairs   real pairs   margin
#   untrained                     2.77                 2.77                   2.77         -0.04
#   1 epoch on own shuffled pairs 2.189 ... 2.191      2.262 ... 2.264        2.26         -0.03 ... +0.04
#   3 epochs on own shuffled      2.10                 2.37                   2.38          0.04
#   1 epoch on real pairs         2.45                 2.45                   1.97          0.42
#   2 epochs on real (chapter)    2.63                 2.63                   1.85          0.45
#   real model, random centers    3.6 ... 5.1          same                   same          ~0
# A model remembers a little of the very pairs it saw: on its own shuffled pairs its loss is lower
# by 0.07 (1 epoch) than on another shuffle; a classmate's model (another shuffle) or a model
# trained on the real pairs shows no such gap.
TRAINED_LOSS = 2.5       # below: trained at all (untrained: (1 + K) log 2 = 2.77)
OWN_GAP = 0.035          # other − own shuffle at least this: trained on this student's shuffled pairs
REAL_GAP = 0.1           # own − real above this: the model learned the real pairs
MARGIN_BAR = 0.15
SAMPLE = 60_000          # pairs the checker evaluates (a fixed stride through all of them)


def shuffle_permutation(n: int, v: int | None = None) -> torch.Tensor:
    """The permutation of the ``n`` contexts the student trains on: variant 0 is the chapter's
    ``torch.randperm(n, generator=generator(1))``; other variants draw their own."""
    v = variant() if v is None else int(v)
    g = generator(1) if v == 0 else variant_generator("ch02.shuffled_contexts", v)
    return torch.randperm(int(n), generator=g)


def _other_permutation(n: int, v: int) -> torch.Tensor:
    return torch.randperm(int(n), generator=variant_generator("ch02.shuffled_contexts.other", v))


def _skipgram_shape(model):
    """(V, d) of a SkipGram-like model (center and context embeddings of one shape), or None."""
    try:
        center, context = getattr(model, "center", None), getattr(model, "context", None)
        if not isinstance(center, torch.nn.Embedding) or not isinstance(context, torch.nn.Embedding):
            return None
        if center.weight.shape != context.weight.shape or not callable(model):
            return None
        return tuple(center.weight.shape)
    except Exception:
        return None


def pair_loss(model, centers, contexts, seed: int = 2024) -> float:
    """The model's mean skip-gram loss on a fixed sample of (center, context) pairs, with negatives
    drawn from a fixed seed (the global random state is left as it was)."""
    n = len(centers)
    idx = torch.arange(0, n, max(1, n // SAMPLE))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        with torch.no_grad():
            return float(model(centers[idx], contexts[idx]))


def domain_margin(vectors: torch.Tensor, vocab: Vocab, domains: dict) -> float:
    """Mean cosine within domains minus mean cosine across domains (the claim of §5.2)."""
    within, across = domain_cosines(vectors, vocab, domains)
    return sum(within) / len(within) - sum(across) / len(across)


@reference
def shuffled_losses(model, centers, contexts, v: int) -> dict:
    """The checker's measurements of a model: loss on the student's own shuffled pairs, on another
    shuffle, and on the real pairs."""
    own = shuffle_permutation(len(contexts), v)
    other = _other_permutation(len(contexts), v)
    return {"own": pair_loss(model, centers, contexts[own]), "other": pair_loss(model, centers, contexts[other]),
            "real": pair_loss(model, centers, contexts)}


@checker
def check_shuffled_contexts(model, real_model, vocab: Vocab, domains: dict, centers, contexts,
                            v: int | None = None) -> Verdict:
    """The student's skip-gram model trained on their shuffled pairs (centers, contexts[perm] with
    perm = ``shuffle_permutation(len(contexts))``): is the domain structure gone?

    Judged on the student's own model, measured by the checker: it must be trained (loss on its
    shuffled pairs well below an untrained model's), on this student's shuffled pairs (it fits
    them better than another shuffle, as only a model that saw them does) and not on the real
    pairs; then its domain margin must be small and well below the chapter's model's.
    """
    if unanswered(model):
        return quiet_false()
    v = variant() if v is None else int(v)
    shape, real_shape = _skipgram_shape(model), _skipgram_shape(real_model)
    if real_shape is None:
        return verdict(False, f"第二个参数应是本章训练好的 skipgram 模型，得到 {describe(real_model)}。")
    if shape is None:
        return verdict(False, f"请交你训练的 E.SkipGram 模型（不是词向量张量），得到 {describe(model)}。")
    if model is real_model:
        return verdict(False, "这就是用真实训练对训练的 skipgram；请用打乱后的上下文训练一个新模型。")
    if shape != real_shape:
        return verdict(False, f"模型的形状应和本章的一样（{real_shape[0]} 个词、{real_shape[1]} 维），"
                              f"你的是 {shape[0]} 个词、{shape[1]} 维。")
    if not isinstance(centers, torch.Tensor) or not isinstance(contexts, torch.Tensor) or \
            centers.shape != contexts.shape or centers.dim() != 1:
        return verdict(False, "第五、六个参数应是本章的 centers 和 contexts（未打乱的）。")
    real = shuffled_losses(real_model, centers, contexts, v)
    if not real["real"] < real["own"] - REAL_GAP:
        return verdict(False, "第二个参数应是本章在真实训练对上训练好的 skipgram 模型。")
    mine = shuffled_losses(model, centers, contexts, v)
    if mine["real"] < mine["own"] - REAL_GAP:
        return verdict(False, "这个模型是在真实的训练对上学的：只打乱 contexts（centers 不动；"
                              "也不要用同一个排列同时打乱两者，那样词对没变），再训练一个新模型。")
    if not mine["own"] < TRAINED_LOSS:
        return verdict(False, "这个模型看起来没有训练过（它在打乱后的训练对上的损失和刚初始化时差不多）："
                              "用 fit 在 (centers, contexts[perm]) 上训练它。")
    if not mine["other"] - mine["own"] >= OWN_GAP:
        return verdict(False, "这个模型不是在你的打乱训练对上训练的：请用 shuffle_permutation(len(contexts)) "
                              "给出的排列打乱 contexts，再训练。")
    theirs = domain_margin(real_model.center.weight.detach(), vocab, domains)
    ours = domain_margin(model.center.weight.detach(), vocab, domains)
    if abs(ours) < MARGIN_BAR and theirs - ours >= MARGIN_BAR:
        return verdict(True, f"领域内减跨领域的平均余弦：真实上下文 {theirs:.2f}，打乱上下文 {ours:.2f}。"
                             "没有真实的上下文，就学不到“同领域的词更近”：意思来自上下文（分布假设）。")
    if theirs - ours < MARGIN_BAR:
        return verdict(False, "你的向量里领域结构还在：检查训练数据是不是真的打乱了上下文。")
    return verdict(False, "打乱上下文后，领域内和跨领域的余弦差应接近 0；检查训练是否正常结束（损失是否有限）。")
