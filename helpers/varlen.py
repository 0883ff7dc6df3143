"""Classifying whole sequences of different lengths (chapter 09): padding, packing, masks, a GRU classifier.

- ``pad(seqs)``: a list of (T_i, C) arrays -> one (B, T_max, C) tensor plus the lengths.
- ``length_mask(lengths, T)``: (B, T) bool, True on real frames, False on padding.
- ``SequenceClassifier``: GRU -> the hidden state after each sequence's OWN last frame -> linear
  scores (``bidirectional=True``: both directions' final states, concatenated). ``forward(x, lengths, pack=True)`` packs with ``pack_padded_sequence`` so the GRU never
  sees the padding; ``pack=False`` is the mistake the chapter shows (the state after the padding).
- ``masked_mean(outputs, lengths)``: the mean of the outputs over real frames only.
- ``Standardizer``: per-channel mean/std from the training frames only (padding excluded).
- ``train_classifier`` / ``predict`` / ``accuracy`` / ``confusion``; ``summary_features`` for
  the scikit-learn baseline; ``plot_confusion`` draws a confusion matrix with Chinese labels.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from . import checks
from .train import fit


# ----------------------------------------------------------------------------- padding
def _as_sequences(seqs, name: str = "seqs") -> list[torch.Tensor]:
    if isinstance(seqs, (torch.Tensor, np.ndarray)) and getattr(seqs, "ndim", 0) == 3:
        seqs = list(seqs)
    if not isinstance(seqs, (list, tuple)) or not seqs:
        raise TypeError(f"{name} must be a non-empty list of (T, C) arrays or tensors, got {type(seqs).__name__}")
    out = []
    for i, s in enumerate(seqs):
        t = torch.as_tensor(np.asarray(s) if not isinstance(s, torch.Tensor) else s)
        if t.dim() != 2 or t.shape[0] < 1:
            raise ValueError(f"{name}[{i}] must be a (T, C) array with T >= 1, got shape {tuple(t.shape)}")
        if not t.is_floating_point():
            t = t.double()
        out.append(t)
    channels = {t.shape[1] for t in out}
    if len(channels) != 1:
        raise ValueError(f"every sequence in {name} must have the same number of channels C, got {sorted(channels)}")
    return out


def pad(seqs, total_length: int | None = None, value: float = 0.0,
        dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack (T_i, C) sequences into x (B, T, C), zero-padded at the END, and lengths (B,) int64.

    T = the longest sequence, or ``total_length`` if given (it must be >= the longest).
    """
    ts = _as_sequences(seqs)
    lengths = torch.tensor([len(t) for t in ts], dtype=torch.int64)
    T = int(lengths.max())
    if total_length is not None:
        checks.positive_int(total_length, "total_length")
        if total_length < T:
            raise ValueError(f"total_length must be >= the longest sequence ({T}), got {total_length}")
        T = total_length
    x = torch.full((len(ts), T, ts[0].shape[1]), float(value), dtype=dtype)
    for i, t in enumerate(ts):
        x[i, : len(t)] = t.to(dtype)
    return x, lengths


def _lengths(lengths, B: int | None = None, T: int | None = None) -> torch.Tensor:
    if not isinstance(lengths, torch.Tensor):
        lengths = torch.as_tensor(lengths)
    if lengths.dim() != 1 or lengths.is_floating_point() or lengths.dtype == torch.bool:
        raise TypeError(f"lengths must be a 1-d integer tensor, got dtype {lengths.dtype}, shape {tuple(lengths.shape)}")
    if B is not None and len(lengths) != B:
        raise ValueError(f"lengths must have one entry per sequence ({B}), got {len(lengths)}")
    if len(lengths) and (int(lengths.min()) < 1 or (T is not None and int(lengths.max()) > T)):
        raise ValueError(f"every length must be in 1..{T if T is not None else 'T'}, got min {int(lengths.min())}, "
                         f"max {int(lengths.max())}")
    return lengths.to(torch.int64)


def length_mask(lengths, T: int) -> torch.Tensor:
    """(B, T) bool mask: True where frame t < length (a real frame), False on padding."""
    checks.positive_int(T, "T")
    lengths = _lengths(lengths, T=T)
    return torch.arange(T)[None, :] < lengths[:, None]


def masked_mean(outputs: torch.Tensor, lengths) -> torch.Tensor:
    """Mean of outputs (B, T, H) over each sequence's real frames only -> (B, H)."""
    checks.float_tensor(outputs, "outputs")
    checks.shape(outputs, "outputs", (None, None, None), ("B", "T", "H"))
    mask = length_mask(_lengths(lengths, outputs.shape[0], outputs.shape[1]), outputs.shape[1]).to(outputs.dtype)
    return (outputs * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)


# ----------------------------------------------------------------------------- the model
class SequenceClassifier(nn.Module):
    """GRU (or LSTM) over (B, T, C) padded batches -> scores (B, n_classes) from the last real state."""

    def __init__(self, n_channels: int, n_classes: int, hidden: int = 64, cell: str = "gru",
                 bidirectional: bool = False):
        super().__init__()
        checks.positive_int(n_channels, "n_channels")
        checks.positive_int(n_classes, "n_classes")
        checks.positive_int(hidden, "hidden")
        checks.choice(cell, "cell", ("gru", "lstm"))
        if not isinstance(bidirectional, bool):
            raise TypeError(f"bidirectional must be True or False, got {bidirectional!r}")
        self.cell = cell
        self.rnn = (nn.GRU if cell == "gru" else nn.LSTM)(n_channels, hidden, batch_first=True,
                                                          bidirectional=bidirectional)
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), n_classes)

    def last_state(self, x: torch.Tensor, lengths=None, pack: bool = True) -> torch.Tensor:
        """The hidden state (B, H) after each sequence's last real frame (pack=True), or after the
        last column of the padded batch, padding included (pack=False).

        Bidirectional: (B, 2H) = [forward state after frame L_b - 1, backward state after frame 0].
        ``h_n[-1]`` alone is the BACKWARD direction (the top layer's second direction), so both
        halves ``h_n[-2]`` and ``h_n[-1]`` are concatenated. Without packing the backward direction
        starts at the end of the padding and reads all of it before the first real frame."""
        checks.float_tensor(x, "x", self.head.weight.dtype)
        checks.shape(x, "x", (None, None, self.rnn.input_size), ("B", "T", self.rnn.input_size))
        if lengths is None:
            lengths = torch.full((x.shape[0],), x.shape[1], dtype=torch.int64)
        lengths = _lengths(lengths, x.shape[0], x.shape[1])
        if pack:
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            _, h = self.rnn(packed)
        else:
            _, h = self.rnn(x)
        if self.cell == "lstm":
            h = h[0]
        if self.rnn.bidirectional:
            return torch.cat([h[-2], h[-1]], dim=1)
        return h[-1]

    def forward(self, x: torch.Tensor, lengths=None, pack: bool = True) -> torch.Tensor:
        return self.head(self.last_state(x, lengths, pack))


# ----------------------------------------------------------------------------- data scaling
class Standardizer:
    """Per-channel (x - mean) / std, with mean and std from the training frames only."""

    def __init__(self, train_seqs):
        frames = torch.cat(_as_sequences(train_seqs, "train_seqs")).double()
        self.mean = frames.mean(0)
        self.std = frames.std(0).clamp_min(1e-8)

    def __call__(self, seqs) -> list[torch.Tensor]:
        ts = _as_sequences(seqs)
        if ts[0].shape[1] != len(self.mean):
            raise ValueError(f"expected sequences with {len(self.mean)} channels, got {ts[0].shape[1]}")
        return [((t.double() - self.mean) / self.std) for t in ts]


# ----------------------------------------------------------------------------- training and evaluation
def _labels(y, n: int) -> torch.Tensor:
    y = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y)
    if y.dim() != 1 or y.is_floating_point() or len(y) != n:
        raise ValueError(f"labels must be {n} integer class ids, got dtype {y.dtype}, shape {tuple(y.shape)}")
    return y.to(torch.int64)


def train_classifier(model: SequenceClassifier, seqs, labels, *, epochs: int = 30, batch_size: int = 32,
                     lr: float = 1e-2, clip: float | None = 1.0, pack: bool = True, seed: int = 0,
                     progress: bool = True, desc: str = "训练"):
    """Adam on the cross-entropy of whole-sequence labels; padded mini-batches, packed if ``pack``."""
    x, lengths = pad(seqs, dtype=model.head.weight.dtype)
    y = _labels(labels, len(x))
    if int(y.max()) >= model.head.out_features or int(y.min()) < 0:
        raise ValueError(f"labels must be in 0..{model.head.out_features - 1}, got {int(y.min())}..{int(y.max())}")

    def loss_fn(m, xb, lb, yb):
        T = int(lb.max())  # a mini-batch only needs its own longest sequence
        return nn.functional.cross_entropy(m(xb[:, :T], lb, pack=pack), yb)

    return fit(model, loss_fn, (x, lengths, y), epochs=epochs, batch_size=batch_size, lr=lr, clip=clip,
               seed=seed, progress=progress, desc=desc)


@torch.no_grad()
def predict(model: SequenceClassifier, seqs, pack: bool = True, total_length: int | None = None) -> np.ndarray:
    """Predicted class ids (N,) for a list of sequences (padded to ``total_length`` if given)."""
    model.eval()
    x, lengths = pad(seqs, total_length=total_length, dtype=model.head.weight.dtype)
    return model(x, lengths, pack=pack).argmax(1).numpy()


def accuracy(pred, labels) -> float:
    """Fraction of predictions equal to the labels."""
    pred, labels = np.asarray(pred), np.asarray(labels)
    if pred.shape != labels.shape or pred.ndim != 1 or not len(pred):
        raise ValueError(f"pred and labels must be 1-d of the same length, got {pred.shape} and {labels.shape}")
    return float((pred == labels).mean())


def confusion(labels, pred, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) counts: row = true class, column = predicted class."""
    checks.positive_int(n_classes, "n_classes")
    labels, pred = np.asarray(labels, dtype=np.int64), np.asarray(pred, dtype=np.int64)
    if labels.shape != pred.shape or labels.ndim != 1:
        raise ValueError(f"labels and pred must be 1-d of the same length, got {labels.shape} and {pred.shape}")
    if len(labels) and (min(labels.min(), pred.min()) < 0 or max(labels.max(), pred.max()) >= n_classes):
        raise ValueError(f"class ids must be in 0..{n_classes - 1}")
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (labels, pred), 1)
    return cm


def summary_features(seqs) -> np.ndarray:
    """Per channel: mean, std, min, max, first frame, last frame; plus the length -> (N, 6C + 1).

    A fixed-size description of each sequence, for a classical classifier (order inside a
    sequence is lost except for the first and last frame).
    """
    ts = [t.double().numpy() for t in _as_sequences(seqs)]
    return np.stack([np.concatenate([s.mean(0), s.std(0), s.min(0), s.max(0), s[0], s[-1], [len(s)]])
                     for s in ts])


# ----------------------------------------------------------------------------- plot
def plot_confusion(cm: np.ndarray, names: Sequence[str], title: str = "混淆矩阵"):
    """The confusion matrix as an image with the count in every cell; rows true, columns predicted."""
    import matplotlib.pyplot as plt

    from .plots.plotting import style

    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] != len(names):
        raise ValueError(f"cm must be square with one row per name ({len(names)}), got shape {cm.shape}")
    style()
    fig, ax = plt.subplots(figsize=(1.1 * len(names) + 2.2, 1.0 * len(names) + 1.4))
    ax.imshow(cm, cmap="Blues")
    ax.grid(False)
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("预测类别")
    ax.set_ylabel("真实类别")
    ax.set_title(title)
    top = cm.max() if cm.size else 0
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                    color="white" if cm[i, j] > top / 2 else "black")
    fig.tight_layout()
    return fig
