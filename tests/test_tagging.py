"""Tests for helpers.tagging: distinct train/test paragraphs, windows, the baseline and the GRU tagger."""
from collections import Counter

import pytest
import torch

from helpers import tagging
from helpers.vocab import Vocab


@pytest.fixture(scope="module")
def small():
    return tagging.prepare_pos(n_train=120, n_test=40, window=10, seed=0)


def test_paragraphs_are_distinct_and_reproducible(small):
    assert len(small.train) == 120 and len(small.test) == 40
    assert not {tuple(p) for p in small.train} & {tuple(p) for p in small.test}
    again = tagging.prepare_pos(n_train=120, n_test=40, window=10, seed=0)
    assert again.test == small.test and torch.equal(again.x_train, small.x_train)
    with pytest.raises(ValueError, match="at most"):
        tagging.prepare_pos(n_train=10 ** 6)


def test_windows_hold_the_stream_in_order_and_pad_only_the_end():
    vocab = Vocab([["我", "爱", "北京"]])
    tag_index = {"r": 0, "v": 1, "ns": 2}
    paragraphs = [[("我", "r"), ("爱", "v")], [("北京", "ns"), ("我", "r"), ("爱", "v")]]
    x, y = tagging.windows(paragraphs, vocab, tag_index, 2)
    assert x.shape == (3, 2) and y.shape == (3, 2)
    assert x.flatten()[:5].tolist() == vocab.encode(["我", "爱", "北京", "我", "爱"]) and x[2, 1] == 0
    assert y.flatten().tolist() == [0, 1, 2, 0, 1, tagging.IGNORE]


def test_vocab_comes_from_training_words_only(small):
    train_counts = Counter(w for p in small.train for w, _ in p)
    assert all(train_counts[w] >= 2 for w in small.vocab.itos[2:])
    real = small.y_train != tagging.IGNORE
    assert int(real.sum()) == sum(len(p) for p in small.train)


def test_most_frequent_tag_baseline_counts_by_hand(small):
    acc, table = tagging.most_frequent_tag(small)
    per_word = {}
    for p in small.train:
        for w, t in p:
            per_word.setdefault(w, Counter())[t] += 1
    overall = Counter(t for p in small.train for _, t in p).most_common(1)[0][0]
    pairs = [(w, t) for p in small.test for w, t in p]
    expected = sum((per_word[w].most_common(1)[0][0] if w in per_word else overall) == t for w, t in pairs)
    assert acc == pytest.approx(expected / len(pairs)) and table["的"] == "u"
    with pytest.raises(TypeError, match="TaggingData"):
        tagging.most_frequent_tag([])


def test_tagger_scores_every_word_and_rejects_bad_input(small):
    torch.manual_seed(0)
    model = tagging.Tagger(len(small.vocab), len(small.tags), hidden_size=4)
    assert model(small.x_train[:3]).shape == (3, 10, len(small.tags))
    uni = tagging.Tagger(len(small.vocab), len(small.tags), hidden_size=4, bidirectional=False)
    # unidirectional: the score at step t does not depend on later words
    x = small.x_train[:1].clone()
    before = uni(x)[0, :5]
    x[0, 5:] = 1
    assert torch.allclose(uni(x)[0, :5], before)
    with pytest.raises(TypeError, match="torch.long"):
        model(small.x_train[:2].float())
    with pytest.raises(ValueError, match="kind must be one of"):
        tagging.Tagger(10, 3, kind="cnn")


def test_loss_ignores_padding(small):
    torch.manual_seed(0)
    model = tagging.Tagger(len(small.vocab), len(small.tags), hidden_size=4)
    x, y = small.x_train[-1:], small.y_train[-1:]
    real = y != tagging.IGNORE
    scores = model(x)
    manual = torch.nn.functional.cross_entropy(scores[real], y[real])
    assert torch.isclose(tagging.tagging_loss(model, x, y), manual)


def test_training_learns_and_is_reproducible(small):
    a = tagging.train_tagger(small, epochs=3, embed_dim=16, hidden_size=8, batch_size=16, progress=False)
    b = tagging.train_tagger(small, epochs=3, embed_dim=16, hidden_size=8, batch_size=16, progress=False)
    assert a[2] == b[2] and a[1].loss == b[1].loss and a[1].loss[-1] < a[1].loss[0]
    real = small.y_test != tagging.IGNORE
    pred = tagging.predict(a[0], small.x_test)
    assert a[2] == pytest.approx(float((pred[real] == small.y_test[real]).double().mean()))
    assert a[2] > 0.3                        # far above chance (1/41)
