"""Checkers for chapter 02 (word embedding). Each prints a verdict with a hint and returns a bool."""
from __future__ import annotations

from typing import Sequence

from ..vocab import Vocab
from ._core import as_int, unanswered, verdict


def _same_pattern(a: Sequence[int], b: Sequence[int]) -> bool:
    """True if a and b give equal indices to exactly the same positions (a consistent relabelling)."""
    return len(a) == len(b) and all((a[i] == a[j]) == (b[i] == b[j]) for i in range(len(a)) for j in range(len(a)))


def check_indices(answer, words: Sequence[str], vocab: Vocab) -> bool:
    """The index list of ``words`` under ``vocab`` (what vocab.encode(words) returns)."""
    if unanswered(answer):
        return False
    try:
        answer = [int(i) for i in answer]
    except (TypeError, ValueError):
        return verdict(False, f"答案应是一个整数列表，得到的是 {answer!r}。")
    right = vocab.encode(words)
    if answer == right:
        return verdict(True, f"{len(right)} 个词 → {right}。")
    if len(answer) != len(right):
        return verdict(False, f"每个词对应一个索引：应该有 {len(right)} 个，你给了 {len(answer)} 个。")
    if answer == [i - 2 for i in right]:
        return verdict(False, "索引整体小了 2：Vocab 的 0 号是 <pad>、1 号是 <unk>，真正的词从 2 号开始。")
    if _same_pattern(answer, right):
        return verdict(False, "相同的词得到了相同的索引，但编号顺序和 Vocab 不一样——"
                              "是不是用了 list(set(words))？它的顺序每个进程都可能不同。请用 vocab.encode(words)。")
    return verdict(False, "同一个词必须总是得到同一个索引；用 vocab[word] 或 vocab.encode(words) 查表。")


def check_embedding_parameters(answer, num_embeddings: int, embedding_dim: int) -> bool:
    """Number of trainable numbers in nn.Embedding(num_embeddings, embedding_dim)."""
    if unanswered(answer):
        return False
    value = as_int(answer)
    if value is None:
        return False
    V, d = num_embeddings, embedding_dim
    if value == V * d:
        return verdict(True, f"一张 {V} × {d} 的表，共 {V * d} 个数；nn.Embedding 没有偏置。")
    hints = {
        V * d + d: "nn.Embedding 只是一张查找表，没有偏置 b。",
        V * d + V: "nn.Embedding 只是一张查找表，没有偏置 b。",
        V + d: "每个词都有自己的一整行 d 个数：是乘，不是加。",
        V * V: "那是 one-hot 矩阵（V × V）的大小；嵌入表是 V × d。",
        d: "这只是一个词的向量长度；表里有 V 个词，每个一行。",
        V: "这只是词表的行数；每一行还有 d 个数。",
    }
    return verdict(False, hints.get(value, f"{value} 不对。提示：embedding.weight 的形状是 (V, d)。"))
