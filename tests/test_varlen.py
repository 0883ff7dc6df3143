"""helpers.varlen: padding, masks, packing (float64 equivalence with running each sequence alone),
the masked mean, scaling, the training loop on variable-length batches, and clear errors."""
import numpy as np
import pytest
import torch

from helpers import varlen


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _seqs(lengths=(5, 2, 7, 1), C=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, C, generator=g, dtype=torch.float64) for n in lengths]


def test_pad_places_frames_at_the_start_and_zeros_after():
    seqs = _seqs()
    x, lengths = varlen.pad(seqs, dtype=torch.float64)
    assert x.shape == (4, 7, 3) and lengths.tolist() == [5, 2, 7, 1] and lengths.dtype == torch.int64
    for b, s in enumerate(seqs):
        assert torch.equal(x[b, : len(s)], s) and torch.all(x[b, len(s):] == 0)
    x, _ = varlen.pad(seqs, total_length=10, value=-1.0)
    assert x.shape == (4, 10, 3) and x.dtype == torch.float32 and torch.all(x[1, 2:] == -1)
    x, _ = varlen.pad([s.numpy() for s in seqs])   # numpy arrays work too
    assert x.shape == (4, 7, 3)


def test_length_mask():
    m = varlen.length_mask(torch.tensor([3, 1, 4]), 5)
    assert m.dtype == torch.bool
    assert m.int().tolist() == [[1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 0]]


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_packed_batch_equals_each_sequence_alone_in_float64(cell):
    torch.manual_seed(0)
    model = varlen.SequenceClassifier(3, 5, hidden=8, cell=cell).double()
    seqs = _seqs()
    x, lengths = varlen.pad(seqs, total_length=12, dtype=torch.float64)
    with torch.no_grad():
        batch = model(x, lengths)
        alone = torch.cat([model(s[None], torch.tensor([len(s)])) for s in seqs])
        longer = model(varlen.pad(seqs, total_length=30, dtype=torch.float64)[0], lengths)
        plain = model(x, lengths, pack=False)
        # the same through torch.nn.GRU/LSTM by hand: last state after each sequence's own frames
        by_hand = torch.cat([model.head(model.rnn(s[None])[1][0][-1] if cell == "lstm" else model.rnn(s[None])[1][-1])
                             for s in seqs])
    assert torch.allclose(batch, alone, atol=1e-12, rtol=0)
    assert torch.allclose(batch, by_hand, atol=1e-12, rtol=0)
    assert torch.equal(batch, longer)
    # without packing the padded frames are read: only the full-length sequence is unaffected
    assert (plain[[0, 1, 3]] - alone[[0, 1, 3]]).abs().max() > 1e-4


def test_masked_mean_equals_mean_over_real_frames():
    seqs = _seqs(C=4)
    x, lengths = varlen.pad(seqs, dtype=torch.float64)
    got = varlen.masked_mean(x, lengths)
    want = torch.stack([s.mean(0) for s in seqs])
    assert torch.allclose(got, want, atol=1e-12, rtol=0)


def test_standardizer_uses_training_frames_only():
    train = [np.array([[0.0, 10.0], [2.0, 10.0]]), np.array([[4.0, 10.0]])]
    scale = varlen.Standardizer(train)
    assert torch.allclose(scale.mean, torch.tensor([2.0, 10.0], dtype=torch.float64))
    out = scale([np.array([[2.0, 10.0]])])[0]
    assert torch.allclose(out, torch.zeros(1, 2, dtype=torch.float64))   # constant channel: no division by 0
    with pytest.raises(ValueError, match="2 channels"):
        scale([np.zeros((3, 5))])


def test_training_learns_a_length_dependent_task():
    """Class = whether the sequence is long: only a model that sees the true length can solve it
    when the frames carry no information (all ones)."""
    seqs = [torch.ones(n, 1) for n in list(range(2, 8)) * 6]
    y = torch.tensor([int(len(s) >= 5) for s in seqs])
    torch.manual_seed(0)
    model = varlen.SequenceClassifier(1, 2, hidden=8)
    hist = varlen.train_classifier(model, seqs, y, epochs=60, batch_size=12, lr=2e-2, progress=False)
    assert hist.loss[-1] < hist.loss[0]
    assert varlen.accuracy(varlen.predict(model, seqs), y.numpy()) == 1.0


def test_confusion_and_accuracy():
    cm = varlen.confusion([0, 0, 1, 2, 2], [0, 1, 1, 2, 0], 3)
    assert cm.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]
    assert varlen.accuracy(np.array([0, 1, 1, 2, 0]), np.array([0, 0, 1, 2, 2])) == pytest.approx(0.6)


def test_summary_features():
    s = np.array([[1.0, 0.0], [3.0, 2.0]])
    f = varlen.summary_features([s])
    assert f.shape == (1, 13)
    assert f[0].tolist() == [2.0, 1.0, 1.0, 1.0, 1.0, 0.0, 3.0, 2.0, 1.0, 0.0, 3.0, 2.0, 2.0]


def test_plot_confusion_has_chinese_labels():
    import matplotlib
    matplotlib.use("Agg")
    fig = varlen.plot_confusion(np.eye(2, dtype=int), ["羽毛球", "跑步"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["羽毛球", "跑步"]
    import matplotlib.pyplot as plt
    plt.close(fig)


@pytest.mark.parametrize("call, err, match", [
    (lambda: varlen.pad([]), TypeError, "non-empty list"),
    (lambda: varlen.pad("abc"), TypeError, "non-empty list"),
    (lambda: varlen.pad([np.zeros(3)]), ValueError, r"\(T, C\)"),
    (lambda: varlen.pad([np.zeros((0, 2))]), ValueError, "T >= 1"),
    (lambda: varlen.pad([np.zeros((2, 2)), np.zeros((2, 3))]), ValueError, "same number of channels"),
    (lambda: varlen.pad([np.zeros((4, 2))], total_length=3), ValueError, "total_length must be >= "),
    (lambda: varlen.length_mask(torch.tensor([1.5]), 3), TypeError, "integer"),
    (lambda: varlen.length_mask(torch.tensor([4]), 3), ValueError, "1..3"),
    (lambda: varlen.length_mask(torch.tensor([0]), 3), ValueError, "1..3"),
    (lambda: varlen.SequenceClassifier(3, 2, cell="rnn"), ValueError, "cell must be one of"),
    (lambda: varlen.SequenceClassifier(0, 2), ValueError, "n_channels"),
    (lambda: varlen.SequenceClassifier(3, 2)(torch.zeros(2, 4, 5)), ValueError, r"x must be \(B, T, 3\)"),
    (lambda: varlen.SequenceClassifier(3, 2)(torch.zeros(2, 4, 3, dtype=torch.float64)), TypeError, "dtype"),
    (lambda: varlen.SequenceClassifier(3, 2)(torch.zeros(2, 4, 3), torch.tensor([4])), ValueError, "one entry per"),
    (lambda: varlen.train_classifier(varlen.SequenceClassifier(1, 2), [np.zeros((2, 1))], [5], epochs=1,
                                     progress=False), ValueError, "labels must be in 0..1"),
    (lambda: varlen.train_classifier(varlen.SequenceClassifier(1, 2), [np.zeros((2, 1))], [0, 1], epochs=1,
                                     progress=False), ValueError, "labels must be 1 integer"),
    (lambda: varlen.confusion([0, 3], [0, 1], 3), ValueError, "0..2"),
    (lambda: varlen.accuracy([0, 1], [0]), ValueError, "same length"),
    (lambda: varlen.plot_confusion(np.eye(2), ["a"]), ValueError, "one row per name"),
])
def test_clear_errors(call, err, match):
    with pytest.raises(err, match=match):
        call()


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_bidirectional_last_state_is_both_directions_and_packing_is_exact(cell):
    """h_n[-1] of a bidirectional RNN is the BACKWARD direction (its output at frame 0); the model
    concatenates [forward state after frame L-1, backward state after frame 0], which equals each
    sequence run alone, whatever the padding; without packing the backward half reads the padding."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    torch.manual_seed(1)
    model = varlen.SequenceClassifier(3, 5, hidden=6, cell=cell, bidirectional=True).double()
    assert model.head.in_features == 12
    seqs = _seqs()
    x, lengths = varlen.pad(seqs, total_length=9, dtype=torch.float64)
    with torch.no_grad():
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, h = model.rnn(packed)
        h = h[0] if cell == "lstm" else h
        out, out_lengths = pad_packed_sequence(out, batch_first=True)
        H = 6
        assert torch.equal(out_lengths, lengths)
        assert torch.allclose(h[-1], out[:, 0, H:], atol=1e-14, rtol=0)            # backward: frame 0
        assert torch.allclose(h[-2], out[torch.arange(4), lengths - 1, :H], atol=1e-14, rtol=0)
        state = model.last_state(x, lengths)
        assert torch.allclose(state, torch.cat([h[-2], h[-1]], 1), atol=1e-14, rtol=0)
        alone = torch.cat([model.last_state(s[None], torch.tensor([len(s)])) for s in seqs])
        assert torch.allclose(state, alone, atol=1e-12, rtol=0)
        longer = model.last_state(varlen.pad(seqs, total_length=20, dtype=torch.float64)[0], lengths)
        assert torch.equal(state, longer)
        plain = model.last_state(x, lengths, pack=False)
        # the longest sequence (7 of 9 frames) is changed too: its backward half read 2 padding frames
        assert (plain[:, H:] - alone[:, H:]).abs().amin(1).min() > 0
        # and the forward half of short sequences read padding after their last frame
        assert (plain[[0, 1, 3], :H] - alone[[0, 1, 3], :H]).abs().max() > 1e-4


def test_bidirectional_must_be_a_bool():
    with pytest.raises(TypeError, match="bidirectional"):
        varlen.SequenceClassifier(3, 5, bidirectional="yes")
