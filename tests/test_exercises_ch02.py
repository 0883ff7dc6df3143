"""Chapter 02 exercise checkers, table-driven: what students write, the verdict, and the hint
that must (or must not) appear; the experiment on real models of the chapter's corpus; per-student
variants; no failure message that hands back an answer. No checker may raise, whatever it is given."""
import copy
import re
from collections import Counter

import numpy as np
import pytest
import torch

from helpers.exercises import ch02
from helpers.vocab import Vocab

from exercise_table import HOSTILE, run_checker


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
    (_ordered(lambda w, c, f: (c[w], f[w])), False, "方向反了"),                      # ascending counts
    (_ordered(lambda w, c, f: (-c[w], -f[w])), False, "次数相同"),                    # ties reversed
    (_ordered(lambda w, c, f: w), False, "字典序"),                                    # sorted(set(words))
    (lambda s: {"<pad>": 0, "<unk>": 1, s[0][0]: 2}, False, "没有编号"),
    (lambda s: ["<pad>", "<unk>"] + sorted({w for x in s for w in x}), False, "字典"),
    (lambda s: {"<pad>": 0, "<unk>": 1, "我": "two"}, False, "字典"),
    (lambda s: {**reference(s), **{f"w{i}": i + 100 for i in range(100_000)}}, False, "..."),  # huge: short message
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
    assert len(out) < 600, out
    if not ok:      # the expected mapping of the checker's corpora is never printed
        for case in ch02.WORD_INDEX_CASES:
            assert str(Vocab(case).stoi) not in out and str(Vocab(case).itos) not in out, out
    if hint not in ("一致",):
        # the list(set()) hint fires only for the mistake it names
        assert "list(set" not in out, out


def test_word_to_index_list_set_gets_a_hash_order_hint(capsys):
    # list(set()) order depends on this process's hash seed; it may happen to look like another slip,
    # which then gets that slip's hint; it is never accepted
    got, out = _run(capsys, ch02.check_word_to_index, _list_set)
    assert got is False
    assert any(h in out for h in ("list(set", "字典序", "次数相同", "方向反了", "不一致")), out


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


def _mask_topk(vectors, i, k):
    mask = torch.zeros(len(vectors), dtype=torch.bool)
    mask[_cos_topk(vectors, i, k)] = True
    return mask


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
    (lambda v, i, k: sorted(_cos_topk(v, i, k).tolist()), False, "行号"),              # index order
    (lambda v, i, k: torch.nonzero(_mask_topk(v, i, k)).flatten(), False, "行号"),      # a mask: index order
    (lambda v, i, k: list(range(k)), False, "余弦最大"),                                # made up
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
    assert len(out) < 600, out
    if not ok:      # the right neighbours are never printed
        v = ch02._similar_case()
        for i, k in ch02.SIMILAR_QUERIES:
            if k > 1:
                assert str(ch02.most_similar(v, i, k)) not in out, out


def test_most_similar_case_separates_the_mistakes():
    """Every query's right order is neither index order nor its reverse, and each named mistake
    gives another answer (another set of rows, where k leaves a choice)."""
    v = ch02._similar_case()
    for i, k in ch02.SIMILAR_QUERIES:
        right = ch02.most_similar(v, i, k)
        assert right == _cos_topk(v, i, k).tolist()
        if k > 1:
            assert right != sorted(right) and right != sorted(right, reverse=True)
        for wrong in (_dot, _euclid, _with_self, _least):
            answer = wrong(v.clone(), i, k)
            assert answer != right, (wrong.__name__, i, k)
            if 1 < k < len(v) - 1:
                assert sorted(answer) != sorted(right), (wrong.__name__, i, k)
        # the mistakes differ from each other, so each gets its own hint
        answers = [tuple(w) for w, _ in ch02.similar_mistakes(v, i, k)]
        if k > 1 or (i, k) == ch02.SIMILAR_QUERIES[0]:
            assert len(set(answers)) == len(answers), (i, k)


# ----------------------------------------------------------------------------- exercise 3
@pytest.fixture(scope="module")
def corpus():
    """The chapter's corpus and models, built as the notebook builds them: the skip-gram trained on
    the real pairs (2 epochs), a model trained 1 epoch on variant 0's shuffled pairs (the reference
    answer), one on variant 1's (a classmate's), one on the real pairs for 1 epoch, and an untrained one."""
    import jieba
    from helpers import data, embedding as E
    from helpers.env import rng, set_seed
    from helpers.train import fit

    torch.set_num_threads(1)
    reviews = data.load_reviews()
    sentences = [E.keep_chinese_words(jieba.lcut(text)) for text, _ in rng(0).sample(reviews, 6000)]
    vocab = Vocab(sentences, min_freq=5)
    sequences = E.subsample([vocab.encode(s) for s in sentences], vocab, t=1e-3, seed=0)
    centers, contexts = E.skipgram_pairs(sequences, window=2)
    counts = torch.tensor([vocab.counts.get(w, 0) for w in vocab.itos], dtype=torch.float)

    def train(ctx, seed, epochs, cen=centers):
        set_seed(seed)
        m = E.SkipGram(len(vocab), dim=32, counts=counts, negatives=3)
        fit(m, lambda model, c, o: model(c, o), (cen, ctx), epochs=epochs, batch_size=4096, lr=0.03, desc="test")
        return m

    set_seed(1)
    untrained = E.SkipGram(len(vocab), dim=32, counts=counts, negatives=3)
    own = ch02.shuffle_permutation(len(contexts), 0)
    return dict(vocab=vocab, centers=centers, contexts=contexts, counts=counts,
                real=train(contexts, 0, 2), mine=train(contexts[own], 1, 1),
                classmate=train(contexts[ch02.shuffle_permutation(len(contexts), 1)], 1, 1),
                real1=train(contexts, 1, 1), both=train(contexts[own], 1, 1, cen=centers[own]),
                untrained=untrained)


DOMAINS_ZH = {"酒店": ["酒店", "房间", "前台", "卫生间", "早餐"],
              "图书": ["作者", "小说", "读者", "文笔", "故事"],
              "电脑": ["屏幕", "键盘", "电脑", "系统", "驱动"]}


def _with_centers(model, weight):
    out = copy.deepcopy(model)
    with torch.no_grad():
        out.center.weight.copy_(weight)
    return out


class _Exploding(torch.nn.Module):
    @property
    def center(self):
        raise RuntimeError("boom")


def _shuffled_cases(c):
    """(model, ok, hint) for the student's answer, the other arguments the chapter's."""
    from helpers import embedding as E
    g = torch.Generator().manual_seed(5)
    return [
        (c["mine"], True, "分布假设"),
        (c["classmate"], False, "不是在你的打乱训练对上"),                # a classmate's model
        (c["real"], False, "这就是用真实训练对"),
        (copy.deepcopy(c["real"]), False, "真实的训练对上学的"),
        (c["real1"], False, "真实的训练对上学的"),
        (c["both"], False, "真实的训练对上学的"),                          # centers and contexts shuffled together
        (c["untrained"], False, "没有训练过"),
        (_with_centers(c["untrained"], torch.randn(len(c["vocab"]), 32, generator=g)), False, "没有训练过"),  # random vectors
        (_with_centers(c["real"], torch.randn(len(c["vocab"]), 32, generator=g)), False, "没有训练过"),
        (_with_centers(c["real"], torch.randn(len(c["vocab"]), 32, generator=g) * float(c["real"].vectors.std())),
         False, "没有训练过"),
        (E.SkipGram(len(c["vocab"]), dim=16, counts=c["counts"], negatives=3), False, "16 维"),
        (c["mine"].vectors, False, "不是词向量张量"),                     # the old answer: a tensor
        (torch.randn(len(c["vocab"]), 32), False, "不是词向量张量"),
        ("vectors", False, "SkipGram"),
        (_Exploding(), False, "SkipGram"),
        (None, False, "未作答"),
    ]


def test_shuffled_contexts_table(capsys, corpus):
    c = corpus
    for i, (model, ok, hint) in enumerate(_shuffled_cases(c)):
        got, out = _run(capsys, ch02.check_shuffled_contexts, model, c["real"], c["vocab"], DOMAINS_ZH,
                        c["centers"], c["contexts"], 0)
        assert got is ok and hint in out, (i, out)
        assert len(out) < 600
        if not ok:      # no measured number (loss, margin) in a failure message
            assert not re.search(r"\d\.\d", out), out


def test_shuffled_contexts_follows_the_variant(capsys, corpus):
    c = corpus
    args = (c["real"], c["vocab"], DOMAINS_ZH, c["centers"], c["contexts"])
    assert _run(capsys, ch02.check_shuffled_contexts, c["classmate"], *args, 1)[0]      # right for its own variant
    assert not _run(capsys, ch02.check_shuffled_contexts, c["mine"], *args, 1)[0]       # variant 0's model fails there
    assert not _run(capsys, ch02.check_shuffled_contexts, c["classmate"], *args, 0)[0]


def test_shuffled_contexts_bad_chapter_arguments(capsys, corpus):
    c = corpus
    cases = [((c["untrained"], c["vocab"], DOMAINS_ZH, c["centers"], c["contexts"]), "本章在真实训练对上训练好的"),
             (("skipgram", c["vocab"], DOMAINS_ZH, c["centers"], c["contexts"]), "第二个参数"),
             ((c["real"], c["vocab"], DOMAINS_ZH, None, c["contexts"]), "centers 和 contexts"),
             ((c["real"], c["vocab"], DOMAINS_ZH, c["centers"], c["contexts"][:10]), "centers 和 contexts")]
    for args, hint in cases:
        got, out = _run(capsys, ch02.check_shuffled_contexts, c["mine"], *args, 0)
        assert not got and hint in out, out


def test_shuffled_contexts_bars_separate_the_measured_models(corpus):
    c = corpus
    m = {k: ch02.shuffled_losses(c[k], c["centers"], c["contexts"], 0)
         for k in ("mine", "classmate", "real", "real1", "untrained")}
    assert m["mine"]["own"] < ch02.TRAINED_LOSS - 0.2 < m["untrained"]["own"] - 0.2
    assert m["mine"]["other"] - m["mine"]["own"] > ch02.OWN_GAP + 0.02
    assert abs(m["classmate"]["other"] - m["classmate"]["own"]) < ch02.OWN_GAP - 0.02
    for k in ("real", "real1"):
        assert m[k]["own"] - m[k]["real"] > ch02.REAL_GAP + 0.2
    assert m["mine"]["own"] - m["mine"]["real"] < ch02.REAL_GAP - 0.1
    assert abs(ch02.domain_margin(c["mine"].vectors, c["vocab"], DOMAINS_ZH)) < ch02.MARGIN_BAR - 0.05


def test_shuffle_permutation_variants():
    from helpers.env import generator
    assert torch.equal(ch02.shuffle_permutation(1000, 0), torch.randperm(1000, generator=generator(1)))
    perms = [ch02.shuffle_permutation(1000, v) for v in range(20)]
    assert all(sorted(p.tolist()) == list(range(1000)) for p in perms)
    assert len({tuple(p.tolist()) for p in perms}) == 20
    assert torch.equal(ch02.shuffle_permutation(1000, 7), ch02.shuffle_permutation(1000, 7))


def test_shuffle_permutation_follows_the_submitter(monkeypatch):
    from helpers.exercises._core import variant
    monkeypatch.setenv("SEQHW_STUDENT", "student-17")
    assert torch.equal(ch02.shuffle_permutation(500), ch02.shuffle_permutation(500, variant()))
    assert not torch.equal(ch02.shuffle_permutation(500), ch02.shuffle_permutation(500, 0))


def test_pair_loss_leaves_the_random_state_alone(corpus):
    state = torch.get_rng_state()
    ch02.pair_loss(corpus["mine"], corpus["centers"], corpus["contexts"])
    assert torch.equal(state, torch.get_rng_state())


def test_reference_functions_are_marked():
    for fn in (ch02.word_to_index, ch02.most_similar, ch02.similar_mistakes, ch02.shuffled_losses):
        assert getattr(fn, "__seqcourse_reference__", False), fn.__name__
    assert not getattr(ch02.shuffle_permutation, "__seqcourse_reference__", False)


def test_student_edition_says_graded_later(capsys, monkeypatch):
    from helpers.exercises._core import GradedAtSubmission

    def stripped(*a, **k):
        raise GradedAtSubmission()
    for name in ("word_to_index", "most_similar", "similar_mistakes", "shuffled_losses"):
        monkeypatch.setattr(ch02, name, stripped)
    for check, fn in ((ch02.check_word_to_index, reference), (ch02.check_most_similar, _cos_topk)):
        got, out = _run(capsys, check, fn)
        assert not got and "已收到" in out


def test_checkers_never_raise_on_strange_answers(capsys):
    strange = HOSTILE + [np.float32(1), {"a": 1}, [None], b"x"]
    for answer in strange:
        for check in (ch02.check_word_to_index, ch02.check_most_similar):
            assert not check(answer)
        assert not ch02.check_shuffled_contexts(answer, answer, VOCAB_SMALL, {}, answer, answer)
    capsys.readouterr()


VOCAB_SMALL = Vocab([["a", "b"]])
