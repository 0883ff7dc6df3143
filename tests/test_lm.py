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


def test_token_losses_and_perplexity_without_a_target(corpus):
    torch.manual_seed(0)
    m = lm.CharLSTM(len(corpus.vocab), 8, 16)
    x, y = lm.windows(corpus.val, 12, 10, seed=3)
    losses = lm.token_losses(m, x, y, batch_size=5)
    assert losses.shape == (12, 10)
    assert math.isclose(lm.perplexity(m, x, y), math.exp(losses.double().mean().item()), rel_tol=1e-6)
    keep = y != 1
    assert keep.sum() < y.numel()                          # this small vocabulary has <unk> targets
    want = math.exp(losses[keep].double().mean().item())
    assert math.isclose(lm.perplexity(m, x, y, exclude=1), want, rel_tol=1e-6)
    with pytest.raises(ValueError, match="every target is the excluded id 1"):
        lm.perplexity(m, x, torch.ones_like(y), exclude=1)


def test_sampling_probs_temperature_limits_top_k_and_top_p():
    z = torch.tensor([[0.0, 0.0, 2.0, 1.0, 0.5, 3.0]], dtype=torch.float64)
    p = lm.sampling_probs(z, 1.0)
    assert torch.equal(p[0, :2], torch.zeros(2, dtype=torch.float64))          # <pad>, <unk> never
    assert torch.allclose(p[0, 2:], torch.softmax(z[0, 2:], -1), atol=1e-15)
    assert p[0, 5] > lm.sampling_probs(z, 2.0)[0, 5]                          # flatter as τ grows
    cold = lm.sampling_probs(z, 1e-3)
    assert math.isclose(cold[0, 5].item(), 1.0, abs_tol=1e-12)              # τ -> 0: greedy
    hot = lm.sampling_probs(z, 1e6)
    assert torch.allclose(hot[0, 2:], torch.full((4,), 0.25, dtype=torch.float64), atol=1e-5)  # τ -> ∞: uniform
    top2 = lm.sampling_probs(z, 1.0, top_k=2)
    assert (top2 > 0).nonzero()[:, 1].tolist() == [2, 5]
    assert torch.allclose(top2[0, [2, 5]], torch.softmax(z[0, [2, 5]], -1), atol=1e-15)
    # top-p: the smallest set of the most probable whose mass reaches p
    full = lm.sampling_probs(z, 1.0, banned=())
    order = full[0].argsort(descending=True)
    for top_p in (0.1, 0.5, 0.8, 0.95, 1.0):
        kept = lm.sampling_probs(z, 1.0, top_p=top_p, banned=())[0] > 0
        n = int(kept.sum())
        assert kept[order[:n]].all()
        assert full[0, order[:n]].sum() >= top_p - 1e-12
        assert n == 1 or full[0, order[:n - 1]].sum() < top_p
    assert torch.allclose(lm.sampling_probs(z, 1.0, top_k=1), cold, atol=1e-12)
    for bad in (dict(temperature=0), dict(temperature=-1.0), dict(top_k=0), dict(top_p=0.0), dict(top_p=1.5)):
        with pytest.raises((ValueError, TypeError)):
            lm.sampling_probs(z, **{"temperature": 1.0, **bad})


def test_entropy_and_repeated_ngrams():
    assert math.isclose(float(lm.entropy_bits(torch.full((8,), 1 / 8))), 3.0, rel_tol=1e-6)
    assert float(lm.entropy_bits(torch.tensor([1.0, 0.0, 0.0]))) == 0.0
    assert lm.repeated_ngram_share([1, 2, 3, 4, 5], 3) == 0.0
    assert lm.repeated_ngram_share([1, 2, 1, 2, 1, 2], 2) == 3 / 5
    with pytest.raises(ValueError, match="at least n=3"):
        lm.repeated_ngram_share([1, 2], 3)


def test_sample_batches_and_greedy_is_argmax(corpus):
    torch.manual_seed(0)
    m = lm.GPT(len(corpus.vocab), 16, 2, 1, max_len=8).eval()
    start = lm.windows(corpus.val, 3, 4, seed=0)[0]
    ids, ent = lm.sample(m, start, 6, temperature=0.7, context=8, seed=1)
    assert ids.shape == (3, 10) and ent.shape == (3, 6) and torch.equal(ids[:, :4], start)
    assert (ids[:, 4:] > 1).all() and (ent > 0).all()
    assert torch.equal(ids, lm.sample(m, start, 6, temperature=0.7, context=8, seed=1)[0])
    greedy, g_ent = lm.sample(m, start, 6, top_k=1, context=8, seed=5)
    assert torch.equal(g_ent, torch.zeros_like(g_ent))
    seq = start.clone()
    with torch.no_grad():
        for _ in range(6):                                   # argmax over the characters a model may write
            z = m(seq[:, -8:])[:, -1]
            z[:, :2] = -float("inf")
            seq = torch.cat([seq, z.argmax(-1, keepdim=True)], 1)
    assert torch.equal(greedy, seq)
    text = lm.generate(m, corpus.vocab, "中国", n_chars=5, top_k=1, stop_at_newline=False)
    assert text == lm.generate(m, corpus.vocab, "中国", n_chars=5, top_k=1, seed=99, stop_at_newline=False)


def test_kv_cache_gives_the_full_forward_logits():
    torch.manual_seed(0)
    m = lm.GPT(30, 16, 4, 2, max_len=12).double().eval()
    x = torch.randint(0, 30, (2, 12))
    with torch.no_grad():
        full = m(x)
    logits, cache = m.forward_cached(x[:, :5])                # a prompt at once, then one at a time
    steps = [logits]
    for t in range(5, 12):
        logits, cache = m.forward_cached(x[:, t:t + 1], cache)
        steps.append(logits)
    assert (torch.cat(steps, 1) - full).abs().max() < 1e-10
    assert len(cache) == 2 and cache[0][0].shape == (2, 12, 16)  # grows with the length
    with pytest.raises(ValueError, match="max_len=12"):
        m.forward_cached(x[:, :1], cache)


def test_corpus_vocabulary_and_ids_equal_the_vocab_class():
    """char_corpus counts characters with numpy: the same vocabulary (order, counts) and the same
    ids as Vocab over the training paragraphs and Vocab.encode."""
    from helpers.data import split
    from helpers.vocab import Vocab

    c = lm.char_corpus(max_vocab=500, val_fraction=0.1, seed=3)
    train_p, val_p = split(lm.people_daily_paragraphs(), (0.9, 0.1), seed=3)
    v = Vocab([list(p) + [lm.NEWLINE] for p in train_p], max_size=500)
    assert c.vocab.itos == v.itos and c.vocab.stoi == v.stoi and c.vocab.counts == v.counts
    for part, paragraphs in ((c.train, train_p), (c.val, val_p)):
        assert torch.equal(part, torch.tensor(v.encode(lm.NEWLINE.join(paragraphs) + lm.NEWLINE)))
    with pytest.raises(ValueError):
        lm.char_corpus(max_vocab=2)


@pytest.mark.parametrize("make", [lambda V: lm.CharLSTM(V, 8, 16), lambda V: lm.GPT(V, 16, 2, 2, max_len=12)])
def test_token_losses_at_some_positions_equal_the_full_ones(make):
    torch.manual_seed(0)
    m = make(40)
    x, y = torch.randint(0, 40, (70, 12)), torch.randint(0, 40, (70, 12))
    full = lm.token_losses(m, x, y, batch_size=16)
    with torch.no_grad():
        ref = torch.nn.functional.cross_entropy(m(x).transpose(1, 2), y, reduction="none")
    assert torch.allclose(full, ref, atol=1e-5, rtol=0)
    part = lm.token_losses(m, x, y, positions=[0, -1, 5])
    assert part.shape == (70, 3) and torch.allclose(part, full[:, [0, -1, 5]], atol=1e-5, rtol=0)
    assert not m.out._forward_pre_hooks                       # the cut is undone
    assert m(x).shape == (70, 12, 40)
    with pytest.raises(ValueError):
        lm.token_losses(m, x, y[:, :5])


def test_train_lm_uses_fused_adam_with_the_same_steps_as_the_loop():
    """The fused Adam + foreach clipping in train_lm are the per-parameter formulas, vectorised."""
    corpus = lm.char_corpus(max_vocab=100, seed=0)
    losses = []
    assert lm._FAST_ADAM == {"fused": True}
    for fast in (lm._FAST_ADAM, {"foreach": False}):
        torch.manual_seed(0)
        m = lm.CharLSTM(100, 8, 16)
        old, lm._FAST_ADAM = lm._FAST_ADAM, fast
        try:
            lm.train_lm(m, corpus, steps=5, batch_size=4, T=8, progress=False)
        finally:
            lm._FAST_ADAM = old
        losses.append(torch.cat([p.detach().flatten() for p in m.parameters()]))
    assert torch.allclose(losses[0], losses[1], atol=1e-6, rtol=0)


def _pair(V):
    torch.manual_seed(0)
    return {"lstm": lm.CharLSTM(V, 16, 24), "gpt": lm.GPT(V, d_model=16, num_heads=2, num_layers=1, max_len=16)}


def test_train_together_equals_training_one_after_another(corpus):
    """The two threads change nothing: the same weights and histories, bit for bit."""
    V, kw = len(corpus.vocab), dict(steps=30, batch_size=8, T=16, seed=3, progress=False)
    lr = {"lstm": 2e-2, "gpt": 3e-3}
    alone, together, threads = _pair(V), _pair(V), torch.get_num_threads()
    torch.set_num_threads(1)              # as helpers.env.setup sets it: one thread per model
    try:
        want = {name: lm.train_lm(m, corpus, lr=lr[name], **kw) for name, m in alone.items()}
        got = lm.train_together(together, corpus, lr=lr, **kw)
    finally:
        torch.set_num_threads(threads)
    assert list(got) == list(want)
    for name in alone:
        assert got[name] == want[name]
        a, b = alone[name].state_dict(), together[name].state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), name
        assert not together[name].training


def test_train_together_checks_its_arguments_and_passes_errors_on(corpus):
    V = len(corpus.vocab)
    with pytest.raises(ValueError, match="one learning rate per model"):
        lm.train_together(_pair(V), corpus, lr={"lstm": 1e-2}, steps=2, progress=False)
    with pytest.raises(ValueError, match="steps"):
        lm.train_together(_pair(V), corpus, lr={"lstm": 1e-2, "gpt": 1e-3}, steps=0, progress=False)


def test_train_together_trains_models_with_dropout_one_after_another(corpus, monkeypatch):
    """Dropout draws from the generator the threads would share: such models train in turn,
    so the result does not depend on how the threads interleave."""
    V = len(corpus.vocab)
    models = {"a": lm.GPT(V, d_model=16, num_heads=2, num_layers=1, max_len=16, dropout=0.1),
              "b": lm.CharLSTM(V, 16, 24)}
    from helpers.train import draws_random_numbers
    assert draws_random_numbers(models["a"]) and not draws_random_numbers(models["b"])
    import threading
    seen = []
    real = lm.train_lm
    monkeypatch.setattr(lm, "train_lm", lambda *a, **k: seen.append(threading.current_thread()) or real(*a, **k))
    lm.train_together(models, corpus, lr={"a": 1e-3, "b": 1e-2}, steps=2, batch_size=2, T=8, progress=False)
    assert seen == [threading.main_thread()] * 2


def test_train_together_stops_every_model_when_one_fails(corpus, monkeypatch):
    """An error in one model's thread (or the kernel's stop button) stops the others at their next step."""
    import collections

    models, real, calls = _pair(len(corpus.vocab)), lm.lm_loss, collections.Counter()

    def loss(model, x, y):
        calls[type(model).__name__] += 1
        if isinstance(model, lm.GPT) and calls["GPT"] == 5:
            raise RuntimeError("boom")
        return real(model, x, y)

    monkeypatch.setattr(lm, "lm_loss", loss)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            lm.train_together(models, corpus, lr={"lstm": 1e-2, "gpt": 1e-3}, steps=5000, batch_size=2, T=8,
                              progress=False)
    finally:
        torch.set_num_threads(threads)
    assert calls["GPT"] == 5 and calls["CharLSTM"] < 5000
