"""Chinese word segmentation as character tagging (BMES), the application of chapter 03.

Each character gets one tag: B = 词首 (begin), M = 词中 (middle), E = 词尾 (end),
S = 单字词 (a one-character word). A tagger reads the characters with an embedding and an
``nn.RNN`` (one direction, or both), and a linear layer scores the four tags at every step::

    e_t = Embedding(x_t)                              (B, T, E)
    h_t = tanh(U e_t + W h_{t-1} + b)                 (B, T, D·H)   D = 2 if bidirectional
    o_t = V h_t + c                                   (B, T, 4)     tag scores

Decoding keeps only tag sequences that make words (Viterbi over the allowed transitions
B→M/E, M→M/E, E→B/S, S→B/S). Words are scored by span: a predicted word counts when its
start and end match a gold word (precision, recall, F1 summed over all paragraphs).
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import torch
from torch import nn

from . import checks
from .data import bmes_to_words
from .train import fit, sequence_cross_entropy
from .vocab import Vocab

TAGS = "BMES"
TAG_INDEX = {t: i for i, t in enumerate(TAGS)}
PAD_TAG = -100                     # ignored by nn.CrossEntropyLoss

# allowed[a, b]: may tag b follow tag a?   rows/cols in the order B, M, E, S
ALLOWED = np.array([[0, 1, 1, 0],   # B → M, E
                    [0, 1, 1, 0],   # M → M, E
                    [1, 0, 0, 1],   # E → B, S
                    [1, 0, 0, 1]],  # S → B, S
                   dtype=bool)
START = np.array([1, 0, 0, 1], dtype=bool)   # a paragraph starts with B or S
END = np.array([0, 0, 1, 1], dtype=bool)     # and ends with E or S


def chunks(pairs: Iterable[tuple[str, str]], length: int) -> list[tuple[str, str]]:
    """Cut (characters, tags) paragraphs into pieces of at most ``length`` characters."""
    checks.positive_int(length, "length")
    out = []
    for chars, tags in pairs:
        if len(chars) != len(tags):
            raise ValueError(f"chars and tags must have the same length, got {len(chars)} and {len(tags)}")
        out.extend((chars[i:i + length], tags[i:i + length]) for i in range(0, len(chars), length))
    return out


def encode(pairs: Sequence[tuple[str, str]], vocab: Vocab, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad to ``length``: x (N, length) character ids (0 = <pad>), y (N, length) tag ids (-100 = pad)."""
    checks.positive_int(length, "length")
    x = torch.zeros(len(pairs), length, dtype=torch.long)
    y = torch.full((len(pairs), length), PAD_TAG, dtype=torch.long)
    for i, (chars, tags) in enumerate(pairs):
        if len(chars) > length:
            raise ValueError(f"pair {i} has {len(chars)} characters, more than length={length}; cut it with chunks()")
        bad = set(tags) - set(TAGS)
        if bad:
            raise ValueError(f"tags must be letters of {TAGS!r}, got {sorted(bad)} in pair {i}")
        x[i, :len(chars)] = torch.tensor(vocab.encode(chars), dtype=torch.long)
        y[i, :len(tags)] = torch.tensor([TAG_INDEX[t] for t in tags], dtype=torch.long)
    return x, y


class RNNTagger(nn.Module):
    """Embedding → nn.RNN (tanh; one or two directions) → Linear: four tag scores per character."""

    def __init__(self, vocab_size: int, embed_dim: int = 48, hidden_size: int = 96,
                 bidirectional: bool = False, num_layers: int = 1):
        super().__init__()
        checks.positive_int(vocab_size, "vocab_size")
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.rnn = nn.RNN(embed_dim, hidden_size, num_layers=num_layers, batch_first=True,
                          bidirectional=bidirectional)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), len(TAGS))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T) character ids -> (B, T, 4) tag scores."""
        if not isinstance(x, torch.Tensor) or x.dtype != torch.long or x.dim() != 2:
            raise TypeError(f"x must be a (B, T) torch.long tensor of character ids, got "
                            f"{getattr(x, 'dtype', type(x).__name__)} {tuple(getattr(x, 'shape', ()))}")
        h, _ = self.rnn(self.embed(x))          # (B, T, D·H)
        return self.head(h)                     # (B, T, 4)


def tagging_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the real (non-pad) characters; for helpers.train.fit."""
    scores = model(x)                                              # (B, T, 4)
    return sequence_cross_entropy(scores, y, ignore_index=PAD_TAG)


def viterbi(log_probs: np.ndarray) -> str:
    """The best BMES string under the allowed transitions; log_probs (T, 4)."""
    log_probs = np.asarray(log_probs, dtype=np.float64)
    if log_probs.ndim != 2 or log_probs.shape[1] != 4 or log_probs.shape[0] == 0:
        raise ValueError(f"log_probs must be (T, 4) with T >= 1, got {log_probs.shape}")
    T = log_probs.shape[0]
    trans = np.where(ALLOWED, 0.0, -np.inf)
    score = np.where(START, log_probs[0], -np.inf)
    back = np.zeros((T, 4), dtype=np.int64)
    for t in range(1, T):
        cand = score[:, None] + trans                 # (prev, next)
        back[t] = cand.argmax(0)
        score = cand.max(0) + log_probs[t]
    score = np.where(END, score, -np.inf)
    best = [int(score.argmax())]
    for t in range(T - 1, 0, -1):
        best.append(int(back[t, best[-1]]))
    return "".join(TAGS[i] for i in reversed(best))


@torch.no_grad()
def predict_tags(model: nn.Module, texts: Sequence[str], vocab: Vocab, length: int = 64) -> list[str]:
    """BMES strings for whole paragraphs: the model reads ``length``-character pieces, Viterbi joins them."""
    checks.positive_int(length, "length")
    model.eval()
    pieces, owners = [], []
    for i, text in enumerate(texts):
        if not isinstance(text, str) or not text:
            raise ValueError(f"texts must be non-empty strings, got {text!r} at position {i}")
        for s in range(0, len(text), length):
            pieces.append((text[s:s + length], "S" * len(text[s:s + length])))
            owners.append(i)
    x, _ = encode(pieces, vocab, length)
    logp = torch.log_softmax(model(x), -1).numpy()                     # (N, length, 4)
    per_text: list[list[np.ndarray]] = [[] for _ in texts]
    for (chars, _), owner, lp in zip(pieces, owners, logp):
        per_text[owner].append(lp[:len(chars)])
    return [viterbi(np.concatenate(parts)) for parts in per_text]


def spans(words: Sequence[str]) -> set[tuple[int, int]]:
    """{(start, end)} character spans of consecutive words: ['我', '爱', '北京'] -> {(0,1), (1,2), (2,4)}."""
    out, start = set(), 0
    for w in words:
        out.add((start, start + len(w)))
        start += len(w)
    return out


def word_prf(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict:
    """Word-level precision, recall and F1 over many paragraphs (counts summed, then divided)."""
    if len(gold) != len(pred):
        raise ValueError(f"gold and pred must hold the same number of paragraphs, got {len(gold)} and {len(pred)}")
    correct = n_gold = n_pred = 0
    for i, (g, p) in enumerate(zip(gold, pred)):
        if "".join(g) != "".join(p):
            raise ValueError(f"paragraph {i}: gold and predicted words must join to the same text")
        sg, sp = spans(g), spans(p)
        correct += len(sg & sp)
        n_gold += len(sg)
        n_pred += len(sp)
    precision = correct / n_pred if n_pred else 0.0
    recall = correct / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def segment(model: nn.Module, texts: Sequence[str], vocab: Vocab, length: int = 64) -> list[list[str]]:
    """Words of each text, as the tagger cuts them."""
    return [bmes_to_words(t, tags) for t, tags in zip(texts, predict_tags(model, texts, vocab, length))]


def jieba_segment(texts: Sequence[str]) -> list[list[str]]:
    """jieba's words for each text (its default dictionary, HMM on)."""
    import jieba

    return [jieba.lcut(t) for t in texts]


def train_tagger(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, epochs: int = 3, batch_size: int = 128,
                 lr: float = 1e-2, seed: int = 0, desc: str = "训练"):
    """helpers.train.fit with the tagging loss (the thread count is ``helpers.env.setup``'s job)."""
    return fit(model, tagging_loss, (x, y), epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, desc=desc)
