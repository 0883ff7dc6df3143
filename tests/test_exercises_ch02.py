"""Chapter 02 exercise checkers, table-driven: what students write, the verdict, and the hint
that must (or must not) appear. No checker may raise, whatever it is given."""
from collections import Counter

import numpy as np
import pytest
import torch

from helpers.exercises import ch02
from helpers.vocab import Vocab

from exercise_table import run_checker


_run = run_checker      # (capsys, checker, *args) -> (bool, printed text); the checker returns a Verdict


# ----------------------------------------------------------------------------- exercise 1
def reference(sentences):
    counts, first = Counter(), {}
    for s in sentences:
        for w in s:
            counts[w] += 1
            first.setdefault(w, len(first))
    words = sorted(counts, key=lambda w: (-counts[w], first[w]))
    return {"<pad>": 0, "<unk>": 1, **{w: i for i, w in enumerate(words, start=2)}}


def _ordered(key, start=2, specials=True):
    def fn(sentences):
        counts, first = Counter(), {}
        for s in sentences:
            for w in s:
                counts[w] += 1
                first.setdefault(w, len(first))
        words = sorted(counts, key=lambda w: key(w, counts, first))
        out = {w: i for i, w in enumerate(words, start=start)}
        return {"<pad>": 0, "<unk>": 1, **out} if specials else out
    return fn


def _list_set(sentences):
    words = [w for s in sentences for w in s]
    return {"<pad>": 0, "<unk>": 1, **{w: i for i, w in enumerate(list(set(words)), start=2)}}


def _raises(sentences):
    raise KeyError("x")


WORD_INDEX_TABLE = [
    # (student function, expected ok, hint that must appear)
    (reference, True, "一致"),
    (lambda s: Vocab(s).stoi, True, "一致"),
    (lambda s: dict(reference(s)), True, "一致"),
    (_ordered(lambda w, c, f: (-c[w], f[w]), start=3), False, "编号不对"),            # off by one
    (_ordered(lambda w, c, f: (-c[w], f[w]), start=2, specials=False), False, "特殊符号"),
    (lambda s: {**{w: 1 for x in s for w in x}, "<pad>": 0, "<unk>": 1}, False, "<unk>"),   # all <unk>
    (lambda s: {**{w: 2 for x in s for w in x}, "<pad>": 0, "<unk>": 1}, False, "同一个索引"),
    (_ordered(lambda w, c, f: (c[w], f[w])), False, "从多到少"),                      # ascending counts
    (_ordered(lambda w, c, f: (-c[w], -f[w])), False, "次数相同"),                    # ties reversed
    (_ordered(lambda w, c, f: w), False, "字典序"),                                    # sorted(set(words))
    (lambda s: {"<pad>": 0, "<unk>": 1, s[0][0]: 2}, False, "没有编号"),
    (lambda s: ["<pad>", "<unk>"] + sorted({w for x in s for w in x}), False, "字典"),
    (lambda s: {"<pad>": 0, "<unk>": 1, "我": "two"}, False, "字典"),
    (lambda s: None, False, "没有返回值"),
    (_raises, False, "运行出错"),
    (lambda: {}, False, "参数不对"),
    ("word2index", False, "请传入一个函数"),
    (None, False, "未作答"),
]


@pytest.mark.parametrize("fn, ok, hint", WORD_INDEX_TABLE)
def test_word_to_index_table(capsys, fn, ok, hint):
    got, out = _run(capsys, ch02.check_word_to_index, fn)
    assert got is ok and hint in out, out
    if hint not in ("一致",):
        # the list(set()) hint fires only for the mistake it names
        assert "list(set" not in out, out


def test_word_to_index_list_set_gets_a_hash_order_hint(capsys):
    # list(set()) order depends on this process's hash seed; it may happen to look like another slip,
    # which then gets that slip's hint; it is never accepted
    got, out = _run(capsys, ch02.check_word_to_index, _list_set)
    assert got is False
    assert any(h in out for h in ("list(set", "字典序", "次数相同", "从多到少")), out


def test_word_to_index_cases_need_tie_breaking():
    # the checker's own corpora distinguish every order it names
    for case in ch02.WORD_INDEX_CASES:
        assert reference(case) == Vocab(case).stoi
    case = ch02.WORD_INDEX_CASES[1]
    assert _ordered(lambda w, c, f: (-c[w], -f[w]))(case) != reference(case)


def test_word_to_index_does_not_change_the_students_input(capsys):
    def destructive(sentences):
        out = reference(sentences)
        sentences.clear()
        return out
    assert _run(capsys, ch02.check_word_to_index, destructive)[0] is True


# ----------------------------------------------------------------------------- exercise 2
def _cos_topk(vectors, i, k):
    unit = vectors / vectors.norm(dim=1, keepdim=True)
    sims = unit @ unit[i]
    sims[i] = -float("inf")
    return sims.topk(k).indices


def _dot(vectors, i, k):
    s = vectors @ vectors[i]
    s[i] = -float("inf")
    return s.topk(k).indices.tolist()


def _euclid(vectors, i, k):
    d = (vectors - vectors[i]).norm(dim=1)
    d[i] = float("inf")
    return (-d).topk(k).indices.tolist()


def _with_self(vectors, i, k):
    unit = vectors / vectors.norm(dim=1, keepdim=True)
    return (unit @ unit[i]).topk(k).indices.tolist()


def _least(vectors, i, k):
    unit = vectors / vectors.norm(dim=1, keepdim=True)
    s = unit @ unit[i]
    s[i] = float("inf")
    return (-s).topk(k).indices.tolist()


def _in_place(vectors, i, k):
    vectors /= vectors.norm(dim=1, keepdim=True)          # changes the argument: the checker keeps its own copy
    sims = vectors @ vectors[i]
    sims[i] = -2
    return sims.argsort(descending=True)[:k].tolist()


MOST_SIMILAR_TABLE = [
    (ch02.most_similar, True, "余弦"),
    (lambda v, i, k: _cos_topk(v, i, k), True, "余弦"),                               # a tensor of indices
    (lambda v, i, k: _cos_topk(v, i, k).numpy(), True, "余弦"),                       # numpy int64
    (lambda v, i, k: tuple(_cos_topk(v, i, k).tolist()), True, "余弦"),
    (lambda v, i, k: [float(j) for j in _cos_topk(v, i, k)], True, "余弦"),            # whole floats
    (_in_place, True, "余弦"),
    (_dot, False, "点积"),
    (_euclid, False, "欧氏"),
    (_with_self, False, "自己"),
    (_least, False, "最小"),
    (lambda v, i, k: list(reversed(_cos_topk(v, i, k).tolist())), False, "从大到小"),
    (lambda v, i, k: _cos_topk(v, i, k + 1).tolist(), False, "个索引"),
    (lambda v, i, k: "0, 1, 2", False, "整数索引"),
    (lambda v, i, k: None, False, "没有返回值"),
    (lambda v, i, k: v[i + 100], False, "运行出错"),
    (lambda v, i: [0], False, "参数不对"),
    (3, False, "请传入一个函数"),
    (None, False, "未作答"),
]


@pytest.mark.parametrize("fn, ok, hint", MOST_SIMILAR_TABLE)
def test_most_similar_table(capsys, fn, ok, hint):
    got, out = _run(capsys, ch02.check_most_similar, fn)
    assert got is ok and hint in out, out


def test_most_similar_case_separates_the_mistakes():
    v = ch02._similar_case()
    right = ch02.most_similar(v, 0, 3)
    for wrong in (_dot, _euclid, _with_self, _least):
        assert sorted(wrong(v.clone(), 0, 3)) != sorted(right), wrong.__name__


# ----------------------------------------------------------------------------- exercise 3
DOMAINS = {"a": ["a1", "a2", "a3"], "b": ["b1", "b2", "b3"], "c": ["c1", "c2", "c3"]}
WORDS = [w for ws in DOMAINS.values() for w in ws] + ["x", "y"]
VOCAB = Vocab([WORDS])


def _real_vectors():
    g = torch.Generator().manual_seed(0)
    vectors = torch.randn(len(VOCAB), 8, generator=g) * 0.3
    for d, ws in enumerate(DOMAINS.values()):
        for w in ws:
            vectors[VOCAB[w], d] += 3.0                                  # one direction per domain
    return vectors


def _shuffled_vectors():
    return torch.randn(len(VOCAB), 8, generator=torch.Generator().manual_seed(1))


def _anti_vectors():
    # anti-structure: every domain's words point away from each other (margin far below 0)
    vectors = torch.zeros(len(VOCAB), 8)
    vectors[:, 7] = 1.0
    for ws in DOMAINS.values():
        for j, w in enumerate(ws):
            vectors[VOCAB[w], j] = 3.0
    return vectors


def _zero_rows():
    v = _shuffled_vectors()
    v[VOCAB["a1"]] = 0
    return v


SHUFFLED_TABLE = [
    (_shuffled_vectors(), True, "分布假设"),
    (_shuffled_vectors().numpy(), True, "分布假设"),                                  # numpy float32
    (_shuffled_vectors().double(), True, "分布假设"),
    (_shuffled_vectors().tolist(), True, "分布假设"),
    (_real_vectors(), False, "真实训练对"),
    (_real_vectors() + 0.05 * _shuffled_vectors(), False, "结构还在"),
    (_anti_vectors(), False, "接近 0"),
    (_zero_rows(), False, "全是 0"),
    (_shuffled_vectors()[:, :4], False, "形状"),
    (torch.full((len(VOCAB), 8), float("nan")), False, "NaN"),
    (torch.full((len(VOCAB), 8), float("inf")), False, "inf"),
    ("vectors", False, "str"),
    (None, False, "未作答"),
]


@pytest.mark.parametrize("answer, ok, hint", SHUFFLED_TABLE)
def test_shuffled_contexts_table(capsys, answer, ok, hint):
    got, out = _run(capsys, ch02.check_shuffled_contexts, answer, _real_vectors(), VOCAB, DOMAINS)
    assert got is ok and hint in out, out


def test_domain_margin_matches_the_chapter_claim():
    assert ch02.domain_margin(_real_vectors(), VOCAB, DOMAINS) > 0.5
    assert abs(ch02.domain_margin(_shuffled_vectors(), VOCAB, DOMAINS)) < 0.15
    assert ch02.domain_margin(_anti_vectors(), VOCAB, DOMAINS) < -0.15


def test_checkers_never_raise_on_strange_answers(capsys):
    strange = [float("inf"), float("nan"), 10**400, object(), np.float32(1), {"a": 1}, [None], b"x"]
    for answer in strange:
        for check in (ch02.check_word_to_index, ch02.check_most_similar):
            assert not check(answer)
        assert not ch02.check_shuffled_contexts(answer, _real_vectors(), VOCAB, DOMAINS)
    capsys.readouterr()
