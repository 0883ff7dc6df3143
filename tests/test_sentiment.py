"""Tests for helpers.sentiment: de-duplicated data, left padding, buckets, model, baseline, gate trace."""
import numpy as np
import pytest
import torch

from helpers import sentiment
from helpers.data import load_reviews
from helpers.vocab import Vocab


@pytest.fixture(scope="module")
def small():
    return sentiment.prepare_reviews(n=600, max_len=30, seed=0)


def test_unique_reviews_drops_repeats_and_contradictions():
    unique, dropped = sentiment.unique_reviews()
    texts = [t for t, _ in unique]
    assert len(texts) == len(set(texts)) and dropped == len(load_reviews()) - len(unique)
    assert dropped > 10000                                     # the corpus repeats most reviews
    labels = {}
    for t, y in load_reviews():
        labels.setdefault(t, set()).add(y)
    kept = dict(unique)
    assert all(len(labels[t]) == 1 and kept[t] in labels[t] for t in texts[:500])
    cut, _ = sentiment.unique_reviews(max_len=10)
    assert len({t[:10] for t, _ in cut}) == len(cut) < len(unique)


def test_prepare_reviews_splits_without_overlap_and_is_reproducible(small):
    assert len(small.texts_train) == 480 and len(small.texts_test) == 120
    assert not set(small.texts_train) & set(small.texts_test)
    again = sentiment.prepare_reviews(n=600, max_len=30, seed=0)
    assert again.texts_test == small.texts_test and torch.equal(again.x_train, small.x_train)
    assert small.x_train.shape == (480, 30) and set(small.y_train.tolist()) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="n must be at most"):
        sentiment.prepare_reviews(n=10 ** 6)
    with pytest.raises(ValueError, match="test_fraction"):
        sentiment.prepare_reviews(n=100, test_fraction=1.5)


def test_encode_left_pads_and_cuts():
    vocab = Vocab(["好不错", "差"])
    x, lengths = sentiment.encode(["不错", "好不错好不错"], vocab, 4)
    assert x[0].tolist() == [0, 0] + vocab.encode("不错") and lengths.tolist() == [2, 4]
    assert x[1].tolist() == vocab.encode("好不错好")
    with pytest.raises(ValueError, match="non-empty strings"):
        sentiment.encode(["", "好"], vocab, 4)


def test_buckets_cover_every_index_once_with_similar_lengths(small):
    buckets = sentiment.length_buckets(small.len_train, 32, seed=0)
    flat = torch.cat(buckets)
    assert sorted(flat.tolist()) == list(range(480))
    maxima = [int(small.len_train[b].max()) for b in buckets]
    assert maxima == sorted(maxima)
    x = sentiment.trim(small.x_train[buckets[0]], small.len_train[buckets[0]])
    assert x.shape[1] == maxima[0] and (x[:, -1] != 0).all()


def test_model_reads_the_last_step_and_padding_is_harmless_after_trimming(small):
    torch.manual_seed(0)
    model = sentiment.SentimentModel("lstm", len(small.vocab), 8, 6)
    x = small.x_train[:5]
    assert model(x).shape == (5,)
    out, _ = model.rnn(model.embed(x))
    assert torch.allclose(model(x), model.head(out[:, -1]).squeeze(-1))
    with pytest.raises(TypeError, match="torch.long"):
        model(x.float())
    with pytest.raises(ValueError, match="kind must be one of"):
        sentiment.SentimentModel("cnn", 10)


def _direct_naive_bayes(data, features):
    """Naive Bayes written out with Python counters: features(text ids) -> list of hashable features."""
    from collections import Counter

    counts = [Counter(), Counter()]
    for row, y in zip(data.x_train.numpy(), data.y_train.numpy().astype(int)):
        counts[y].update(features(row[row > 0].tolist()))
    known = set(counts[0]) | set(counts[1])
    totals = [sum(c.values()) for c in counts]
    prior = np.log(np.bincount(data.y_train.numpy().astype(int)) / len(data.y_train))
    pred = []
    for row in data.x_test.numpy():
        feats = [f for f in features(row[row > 0].tolist()) if f in known]
        pred.append(np.argmax([prior[k] + sum(np.log((counts[k][f] + 1) / (totals[k] + len(known))) for f in feats)
                               for k in (0, 1)]))
    return float(np.mean(np.array(pred) == data.y_test.numpy()))


def test_naive_bayes_matches_a_direct_count(small):
    chars = lambda ids: ids
    pairs = lambda ids: ids + list(zip(ids[:-1], ids[1:]))
    assert sentiment.naive_bayes(small) == pytest.approx(_direct_naive_bayes(small, chars))
    assert sentiment.naive_bayes(small, ngram=2) == pytest.approx(_direct_naive_bayes(small, pairs))
    with pytest.raises(ValueError, match="alpha"):
        sentiment.naive_bayes(small, alpha=0)
    with pytest.raises(ValueError, match="ngram must be one of"):
        sentiment.naive_bayes(small, ngram=3)


def test_ngram_ids_number_bigrams_apart_from_characters():
    x = torch.tensor([[0, 0, 3, 4], [2, 2, 2, 1]])
    ids = sentiment.ngram_ids(x, vocab_size=5, ngram=2)
    assert ids[:, :4].tolist() == x.tolist()
    assert ids[0, 4:].tolist() == [0, 0, 5 + 3 * 5 + 4]                 # padding pairs give no feature
    assert ids[1, 4:].tolist() == [5 + 2 * 5 + 2] * 2 + [5 + 2 * 5 + 1]
    assert (ids[:, 4:][ids[:, 4:] > 0] >= 5).all()                        # never collide with a character id


def test_training_learns_and_is_reproducible(small):
    a = sentiment.train_sentiment("gru", small, epochs=2, embed_dim=8, hidden_size=8, progress=False)
    b = sentiment.train_sentiment("gru", small, epochs=2, embed_dim=8, hidden_size=8, progress=False)
    assert a[2] == b[2] and a[1].loss == b[1].loss and a[1].loss[1] < a[1].loss[0]
    assert 0.0 <= a[2] <= 1.0
    with pytest.raises(TypeError, match="SentimentData"):
        sentiment.train_sentiment("lstm", [1, 2])


def test_gate_trace_replays_the_trained_lstm(small):
    model, _, _ = sentiment.train_sentiment("lstm", small, epochs=1, embed_dim=8, hidden_size=6, progress=False)
    text = small.texts_test[0]
    trace = sentiment.lstm_gate_trace(model, text, small.vocab)
    assert trace["chars"] == list(text) and trace["f"].shape == (len(text), 6)
    assert ((trace["i"] > 0) & (trace["i"] < 1)).all() and (np.abs(trace["g"]) < 1).all()
    x, _ = sentiment.encode([text], small.vocab, len(text))
    with torch.no_grad():
        assert trace["prob"][-1] == pytest.approx(torch.sigmoid(model(x)).item(), abs=1e-5)
    with pytest.raises(TypeError, match="kind='lstm'"):
        sentiment.lstm_gate_trace(sentiment.SentimentModel("gru", 5), "好", small.vocab)


def test_gate_trace_figure_has_one_tick_per_character(small):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model, _, _ = sentiment.train_sentiment("lstm", small, epochs=1, embed_dim=8, hidden_size=6, progress=False)
    trace = sentiment.lstm_gate_trace(model, "好不错。", small.vocab)
    fig = sentiment.plot_gate_trace(trace, "标题")
    assert [t.get_text() for t in fig.axes[2].get_xticklabels()] == list("好不错。")
    plt.close("all")
