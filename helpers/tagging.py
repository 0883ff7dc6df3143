"""Part-of-speech tagging of People's Daily (Jan 1998): a many-to-many recurrent tagger and its baseline.

Data: ``helpers.data.load_pos_tagged()``, paragraphs as lists of (word, tag), e.g. ('希望', 'n').
Training and test paragraphs are distinct. For speed, each part is read as one stream of words
(paragraph after paragraph) and cut into windows of ``window`` words: every window is full, so
a batch needs no padding and no packed sequences, and a bidirectional layer reads exactly the
words of its window (only the stream's last window is padded; padding is never scored).

Model (many-to-many, one tag per word, equal lengths)::

    e_t = E[w_t]                                  词向量, (B, T, E)
    h_1 .. h_T = GRU(e_1 .. e_T)                  bidirectional: h_t = [h→_t ; h←_t]
    s_t = V h_t + c                               one score per tag, (B, T, n_tags)
    loss = mean over real words of cross-entropy(s_t, tag_t)

Baseline: tag each word with the tag it carried most often in the training paragraphs;
a word never seen in training (<unk>) gets the most frequent tag overall.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import torch
from torch import nn

from . import checks
from .data import load_pos_tagged
from .env import rng, set_seed
from .train import History, fit, sequence_cross_entropy
from .vocab import Vocab

LAYERS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
IGNORE = -100          # tag id of padding positions: cross_entropy(ignore_index=IGNORE) skips them


@dataclass
class TaggingData:
    """Encoded windows: x (N, window) word ids (0 = padding), y (N, window) tag ids (-100 = padding)."""

    vocab: Vocab
    tags: list                    # tag names; tag id = position in this list (most frequent first)
    train: list                   # training paragraphs, lists of (word, tag)
    test: list                    # test paragraphs
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def windows(paragraphs: list, vocab: Vocab, tag_index: dict, window: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The paragraphs as one stream of (word, tag), cut into (N, window) word ids and tag ids."""
    checks.positive_int(window, "window")
    words = torch.tensor(vocab.encode([w for p in paragraphs for w, _ in p]), dtype=torch.long)
    tags = torch.tensor([tag_index[t] for p in paragraphs for _, t in p], dtype=torch.long)
    n = -(-len(words) // window)                                  # ceil: the last window is padded
    x = torch.zeros(n * window, dtype=torch.long)
    y = torch.full((n * window,), IGNORE, dtype=torch.long)
    x[:len(words)], y[:len(tags)] = words, tags
    return x.view(n, window), y.view(n, window)


def prepare_pos(n_train: int = 3000, n_test: int = 1000, window: int = 40, min_freq: int = 2,
                seed: int = 0) -> TaggingData:
    """A seeded sample of ``n_train + n_test`` distinct paragraphs (train and test never share one).

    The word vocabulary comes from the training paragraphs only; words seen fewer than
    ``min_freq`` times there become <unk>, so that the model meets <unk> in training and learns
    to tag an unknown word from its context.
    """
    checks.positive_int(n_train, "n_train")
    checks.positive_int(n_test, "n_test")
    paragraphs = list(dict.fromkeys(tuple(p) for p in load_pos_tagged()))    # distinct, in order
    if n_train + n_test > len(paragraphs):
        raise ValueError(f"n_train + n_test must be at most {len(paragraphs)} paragraphs, got {n_train + n_test}")
    sample = [list(p) for p in rng(seed).sample(paragraphs, n_train + n_test)]
    train, test = sample[:n_train], sample[n_train:]
    vocab = Vocab([[w for w, _ in p] for p in train], min_freq=min_freq)
    counts = Counter(t for p in sample for _, t in p)
    tags = sorted(counts, key=lambda t: (-counts[t], t))
    tag_index = {t: i for i, t in enumerate(tags)}
    x_tr, y_tr = windows(train, vocab, tag_index, window)
    x_te, y_te = windows(test, vocab, tag_index, window)
    return TaggingData(vocab, tags, train, test, x_tr, y_tr, x_te, y_te)


# ----------------------------------------------------------------------------- baseline
def most_frequent_tag(data: TaggingData) -> tuple[float, dict]:
    """Word-level test accuracy of the most-frequent-tag baseline, and its word -> tag table."""
    if not isinstance(data, TaggingData):
        raise TypeError(f"data must be a TaggingData from prepare_pos(), got {type(data).__name__}")
    per_word: dict[str, Counter] = {}
    for piece in data.train:
        for w, t in piece:
            per_word.setdefault(w, Counter())[t] += 1
    overall = Counter(t for piece in data.train for _, t in piece).most_common(1)[0][0]
    table = {w: c.most_common(1)[0][0] for w, c in per_word.items()}
    pairs = [(w, t) for piece in data.test for w, t in piece]
    correct = sum(table.get(w, overall) == t for w, t in pairs)
    return correct / len(pairs), table


# ----------------------------------------------------------------------------- model
class Tagger(nn.Module):
    """Embedding -> recurrent layer (GRU by default) -> linear scores for every tag at every word.

    forward: x (B, T) word ids -> scores (B, T, n_tags)
    """

    def __init__(self, vocab_size: int, n_tags: int, kind: str = "gru", embed_dim: int = 64,
                 hidden_size: int = 32, bidirectional: bool = True):
        super().__init__()
        self.kind = checks.choice(kind, "kind", tuple(LAYERS))
        for v, name in ((vocab_size, "vocab_size"), (n_tags, "n_tags"), (embed_dim, "embed_dim"),
                        (hidden_size, "hidden_size")):
            checks.positive_int(v, name)
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.rnn = LAYERS[kind](embed_dim, hidden_size, batch_first=True, bidirectional=bidirectional)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), n_tags)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.dtype != torch.long or x.dim() != 2:
            raise TypeError(f"x must be a (B, T) torch.long tensor of word ids, got "
                            f"{getattr(x, 'dtype', type(x).__name__)} {tuple(getattr(x, 'shape', ()))}")
        e = self.embed(x)                       # (B, T, E)
        h, _ = self.rnn(e)                      # (B, T, D*H)
        # s_t = V h_t + c
        return self.head(h)                     # (B, T, n_tags)


def tagging_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the real (non-padding) words."""
    scores = model(x)                                                          # (B, T, n_tags)
    return sequence_cross_entropy(scores, y, ignore_index=IGNORE)


@torch.no_grad()
def predict(model: Tagger, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Predicted tag ids, (N, T)."""
    model.eval()
    return torch.cat([model(x[i:i + batch_size]).argmax(-1) for i in range(0, len(x), batch_size)])


def tag_accuracy(model: Tagger, x: torch.Tensor, y: torch.Tensor) -> float:
    """Share of real (non-padding) words whose predicted tag is right."""
    real = y != IGNORE
    return float((predict(model, x)[real] == y[real]).to(torch.float64).mean())


def train_tagger(data: TaggingData, kind: str = "gru", epochs: int = 4, embed_dim: int = 64,
                 hidden_size: int = 32, bidirectional: bool = True, lr: float = 2e-2, batch_size: int = 64,
                 clip: float | None = 1.0, seed: int = 0,
                 progress: bool = True) -> tuple[Tagger, History, float]:
    """Train a :class:`Tagger` with ``helpers.train.fit``; returns (model, history, test accuracy)."""
    if not isinstance(data, TaggingData):
        raise TypeError(f"data must be a TaggingData from prepare_pos(), got {type(data).__name__}")
    set_seed(seed)
    model = Tagger(len(data.vocab), len(data.tags), kind, embed_dim, hidden_size, bidirectional)
    history = fit(model, tagging_loss, (data.x_train, data.y_train), epochs=epochs, batch_size=batch_size,
                  lr=lr, clip=clip, seed=seed, desc=f"{kind.upper()} 词性标注", progress=progress)
    return model, history, tag_accuracy(model, data.x_test, data.y_test)
