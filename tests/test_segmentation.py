"""BMES tagging helpers of chapter 03: chunks, encoding, the tagger, Viterbi, word F1, jieba."""
import numpy as np
import pytest
import torch

from helpers import segmentation as seg
from helpers.data import bmes_to_words, words_to_bmes
from helpers.vocab import Vocab


def test_chunks_cut_and_keep_alignment():
    out = seg.chunks([("我爱北京天安门", "SSBEBME")], 3)
    assert out == [("我爱北", "SSB"), ("京天安", "EBM"), ("门", "E")]
    with pytest.raises(ValueError, match="same length"):
        seg.chunks([("我爱", "S")], 3)


def test_encode_pads_with_pad_id_and_ignored_tag():
    vocab = Vocab(["我爱北京"])
    x, y = seg.encode([("我爱", "SS"), ("北京我", "BES")], vocab, 4)
    assert x.shape == (2, 4) and y.shape == (2, 4)
    assert x[0, 2:].tolist() == [0, 0] and y[0, 2:].tolist() == [seg.PAD_TAG] * 2
    assert y[1, :3].tolist() == [0, 2, 3]
    with pytest.raises(ValueError, match="more than length"):
        seg.encode([("我爱北京天", "SSBES")], vocab, 4)
    with pytest.raises(ValueError, match="BMES"):
        seg.encode([("我", "X")], vocab, 4)


def test_viterbi_only_returns_valid_tag_strings():
    rng = np.random.default_rng(0)
    for _ in range(20):
        tags = seg.viterbi(np.log(rng.dirichlet(np.ones(4), size=9)))
        assert tags[0] in "BS" and tags[-1] in "ES"
        assert words_to_bmes(bmes_to_words("字" * 9, tags)) == tags      # every word well formed
    # an argmax that would be invalid (B B) is repaired
    lp = np.log(np.array([[0.9, 0.0, 0.05, 0.05], [0.9, 0.0, 0.05, 0.05]]) + 1e-12)
    assert seg.viterbi(lp) == "BE"
    with pytest.raises(ValueError):
        seg.viterbi(np.zeros((3, 5)))


def test_word_prf_counts_spans():
    gold = [["我", "爱", "北京"]]
    assert seg.word_prf(gold, gold)["f1"] == 1.0
    r = seg.word_prf(gold, [["我爱", "北京"]])
    assert r["precision"] == pytest.approx(1 / 2) and r["recall"] == pytest.approx(1 / 3)
    assert r["f1"] == pytest.approx(2 * 0.5 * (1 / 3) / (0.5 + 1 / 3))
    with pytest.raises(ValueError, match="same text"):
        seg.word_prf(gold, [["你", "爱", "北京"]])


def test_tagger_shapes_and_training_learns_a_toy_rule():
    # toy language: "的" is always a single word, every other pair of characters is a word
    texts = ["天气的好的人民", "人民的天气", "好人的天气的人民"]
    words = [["天气", "的", "好", "的", "人民"], ["人民", "的", "天气"], ["好人", "的", "天气", "的", "人民"]]
    pairs = [(t, words_to_bmes(w)) for t, w in zip(texts, words)] * 20
    vocab = Vocab([t for t, _ in pairs])
    x, y = seg.encode(seg.chunks(pairs, 8), vocab, 8)
    torch.manual_seed(0)
    model = seg.RNNTagger(len(vocab), 8, 16, bidirectional=True)
    assert model(x[:2]).shape == (2, 8, 4)
    before = seg.tagging_loss(model, x, y).item()
    threads = torch.get_num_threads()
    seg.train_tagger(model, x, y, epochs=15, batch_size=16, lr=2e-2)
    assert torch.get_num_threads() == threads          # the thread setting is restored
    assert seg.tagging_loss(model, x, y).item() < before / 4
    assert seg.segment(model, texts[:2], vocab, length=8) == words[:2]
    with pytest.raises(TypeError, match="torch.long"):
        model(x.float())


def test_predict_tags_joins_pieces_longer_than_length():
    vocab = Vocab(["我爱北京"])
    model = seg.RNNTagger(len(vocab), 4, 4)
    tags = seg.predict_tags(model, ["我爱北京我爱北京我"], vocab, length=4)
    assert len(tags[0]) == 9 and set(tags[0]) <= set("BMES")
    with pytest.raises(ValueError, match="non-empty"):
        seg.predict_tags(model, [""], vocab)


def test_jieba_segment_joins_back_to_the_text():
    out = seg.jieba_segment(["我爱北京天安门"])
    assert "".join(out[0]) == "我爱北京天安门" and len(out[0]) >= 2
