"""helpers.lm: the People's Daily corpus, windows, both models' causality, training, perplexity, generation."""
import math

import pytest
import torch

from helpers import lm


@pytest.fixture(scope="module")
def corpus():
    return lm.char_corpus(max_vocab=300, val_fraction=0.1, seed=0)


def test_paragraphs_are_the_segmentation_text_without_tags():
    from helpers.data import load_segmentation
    paras = lm.people_daily_paragraphs()
    seg = load_segmentation()
    assert len(paras) == len(seg) == 19484
    assert all(p == s for p, (s, _) in zip(paras[:500], seg[:500]))


def test_corpus_split_and_vocab(corpus):
    assert len(corpus.vocab) == 300 and corpus.vocab.itos[:2] == ["<pad>", "<unk>"]
    assert lm.NEWLINE in corpus.vocab
    assert sum(corpus.n_paragraphs) == 19484
    assert 0.05 < len(corpus.val) / (len(corpus.train) + len(corpus.val)) < 0.15
    assert corpus.train.dtype == torch.long and int(corpus.train.max()) < 300
    with pytest.raises(ValueError):
        lm.char_corpus(val_fraction=1.0)


def test_windows_are_shifted_by_one():
    s = torch.arange(100)
    x, y = lm.windows(s, 7, 10, seed=0)
    assert x.shape == y.shape == (7, 10)
    assert torch.equal(y[:, :-1], x[:, 1:]) and torch.equal(y[:, -1], x[:, -1] + 1)
    assert torch.equal(x, lm.windows(s, 7, 10, seed=0)[0])
    with pytest.raises(ValueError, match="longer than T=10"):
        lm.windows(torch.arange(10), 1, 10)


@pytest.mark.parametrize("make", [lambda V: lm.CharLSTM(V, 8, 16), lambda V: lm.GPT(V, 16, 2, 2, max_len=12)])
def test_models_are_causal(make):
    torch.manual_seed(0)
    m = make(50).eval()
    x = torch.randint(0, 50, (3, 12))
    x2 = x.clone()
    x2[:, 6] = (x2[:, 6] + 1) % 50
    with torch.no_grad():
        out, out2 = m(x), m(x2)
    assert out.shape == (3, 12, 50)
    assert torch.equal(out[:, :6], out2[:, :6])          # the past does not see the future
    assert not torch.allclose(out[:, 6:], out2[:, 6:])


def test_gpt_errors_and_no_positions_is_permutation_blind_at_the_first_layer():
    m = lm.GPT(20, 8, 2, 1, max_len=5)
    with pytest.raises(ValueError, match="at most max_len=5 positions, got T=6"):
        m(torch.zeros(1, 6, dtype=torch.long))
    with pytest.raises(ValueError, match="x must be"):
        m(torch.zeros(6, dtype=torch.long))
    assert lm.GPT(20, 8, 2, 1, positions=False).pos is None


def test_training_lowers_the_loss_and_perplexity_matches_the_loss(corpus):
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        m = lm.GPT(len(corpus.vocab), 16, 2, 1, max_len=16)
        x, y = lm.windows(corpus.val, 20, 16, seed=1)
        before = lm.perplexity(m, x, y)
        h = lm.train_lm(m, corpus, steps=40, batch_size=8, T=16, lr=1e-2, warmup=5, progress=False)
        after = lm.perplexity(m, x, y)
    finally:
        torch.set_num_threads(threads)
    assert len(h.loss) == 20 and h.steps[-1] == 40
    assert after < before
    with torch.no_grad():
        assert math.isclose(after, math.exp(lm.lm_loss(m, x, y).item()), rel_tol=1e-5)


def test_unigram_perplexity_is_below_vocabulary_size(corpus):
    assert 1 < lm.unigram_perplexity(corpus) < len(corpus.vocab)


def test_generate_is_reproducible_and_checks_arguments(corpus):
    torch.manual_seed(0)
    m = lm.CharLSTM(len(corpus.vocab), 8, 16)
    a = lm.generate(m, corpus.vocab, "中国", n_chars=10, seed=0, stop_at_newline=False)
    assert a.startswith("中国") and len(a) == 12 and "<unk>" not in a and "<pad>" not in a
    assert a == lm.generate(m, corpus.vocab, "中国", n_chars=10, seed=0, stop_at_newline=False)
    g = lm.GPT(len(corpus.vocab), 16, 2, 1, max_len=8)
    assert len(lm.generate(g, corpus.vocab, "中国人民", n_chars=12, seed=0, stop_at_newline=False)) == 16
    with pytest.raises(ValueError, match="temperature"):
        lm.generate(m, corpus.vocab, "中国", temperature=0)
    with pytest.raises(ValueError, match="prompt"):
        lm.generate(m, corpus.vocab, "")
