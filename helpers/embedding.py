"""Word vectors: one-hot vs dense, and a small skip-gram with negative sampling (notes 一 §4.2).

Skip-gram (Mikolov et al. 2013) learns two tables, v (input / "center" vectors, the word
embeddings we keep) and u (output / "context" vectors). For a center word c, a word o seen
within ``window`` positions of it, and K "negative" words n_k drawn from the noise
distribution P(w) ∝ count(w)^0.75, it minimises

    ℓ = −log σ(u_o · v_c) − Σ_k log σ(−u_{n_k} · v_c)

so words that occur in similar contexts end up with similar v. Similarity is the cosine
cos(a, b) = a·b / (‖a‖ ‖b‖).
"""
from __future__ import annotations

import itertools
import math
import re
from typing import Sequence

import torch
from torch import nn

from . import checks
from .vocab import Vocab
from .env import rng

_HAS_HAN = re.compile(r"[\u4e00-\u9fff]")


def one_hot(indices: torch.Tensor, num_classes: int) -> torch.Tensor:
    """One-hot float vectors: (...,) int indices -> (..., num_classes) with a single 1 per row."""
    if not isinstance(indices, torch.Tensor) or indices.dtype != torch.long:
        raise TypeError(f"indices must be a torch.long tensor, got {type(indices).__name__}"
                        f"{'' if not isinstance(indices, torch.Tensor) else ' of dtype ' + str(indices.dtype)}")
    checks.positive_int(num_classes, "num_classes")
    if indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= num_classes):
        raise ValueError(f"indices must be in [0, {num_classes}), got values in "
                         f"[{int(indices.min())}, {int(indices.max())}]")
    return nn.functional.one_hot(indices, num_classes).float()


def cosine_matrix(A: torch.Tensor, B: torch.Tensor | None = None) -> torch.Tensor:
    """cos(a_i, b_j) = a_i·b_j / (‖a_i‖ ‖b_j‖) for all rows: (n, d), (m, d) -> (n, m). B defaults to A."""
    checks.float_tensor(A, "A")
    checks.shape(A, "A", (None, None), ("n", "d"))
    B = A if B is None else B
    checks.float_tensor(B, "B")
    checks.shape(B, "B", (None, A.shape[1]), ("m", A.shape[1]))
    A_n = A / A.norm(dim=1, keepdim=True).clamp_min(1e-12)     # (n, d), unit rows
    B_n = B / B.norm(dim=1, keepdim=True).clamp_min(1e-12)     # (m, d)
    return A_n @ B_n.T                                         # (n, m)


def keep_chinese_words(words: Sequence[str]) -> list[str]:
    """Drop tokens with no Chinese character (punctuation, spaces, digits, Latin words)."""
    return [w for w in words if _HAS_HAN.search(w)]


def skipgram_pairs(sequences: Sequence[Sequence[int]], window: int = 2, skip: int | None = 1
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """(center, context) index pairs: every word paired with each word at most ``window`` positions away.

    Indices equal to ``skip`` (default 1 = <unk>) are dropped first, so rare words neither
    serve as centers nor as contexts. Returns two long tensors of shape (P,).
    """
    checks.positive_int(window, "window")
    centers, contexts = [], []
    for seq in sequences:
        seq = [int(i) for i in seq if skip is None or int(i) != skip]
        for i, c in enumerate(seq):
            for j in range(max(0, i - window), min(len(seq), i + window + 1)):
                if j != i:
                    centers.append(c)
                    contexts.append(seq[j])
    if not centers:
        raise ValueError("no (center, context) pairs: every sequence has fewer than 2 known words")
    return torch.tensor(centers, dtype=torch.long), torch.tensor(contexts, dtype=torch.long)


def subsample(sequences: Sequence[Sequence[int]], vocab: Vocab, t: float = 1e-3, seed: int = 0
              ) -> list[list[int]]:
    """Drop frequent words at random (Mikolov et al. 2013): keep w with probability min(1, √(t / f(w))).

    f(w) is the word's share of all tokens; the, 的, 了 ... then stop dominating the pairs.
    """
    if not t > 0:
        raise ValueError(f"t must be a number > 0, got {t!r}")
    total = sum(vocab.counts.values())
    draw = rng(seed)
    keep = {}
    for tok, i in vocab.stoi.items():
        f = vocab.counts.get(tok, 0) / total
        # P(keep w) = min(1, √(t / f(w)))
        keep[i] = 1.0 if f == 0 else min(1.0, math.sqrt(t / f))
    return [[i for i in seq if draw.random() < keep.get(int(i), 1.0)] for seq in sequences]


class SkipGram(nn.Module):
    """Skip-gram with negative sampling: center vectors v (the embedding) and context vectors u."""

    def __init__(self, vocab_size: int, dim: int, counts: torch.Tensor, negatives: int = 5, power: float = 0.75):
        super().__init__()
        checks.positive_int(vocab_size, "vocab_size")
        checks.positive_int(dim, "dim")
        checks.positive_int(negatives, "negatives")
        if not isinstance(counts, torch.Tensor) or counts.shape != (vocab_size,):
            raise ValueError(f"counts must be a tensor of shape ({vocab_size},), got "
                             f"{tuple(counts.shape) if isinstance(counts, torch.Tensor) else type(counts).__name__}")
        self.center = nn.Embedding(vocab_size, dim)      # v, (V, d)
        self.context = nn.Embedding(vocab_size, dim)     # u, (V, d)
        nn.init.uniform_(self.center.weight, -0.5 / dim, 0.5 / dim)
        nn.init.zeros_(self.context.weight)             # word2vec's initialisation
        # P(w) ∝ count(w)^0.75
        noise = counts.double().clamp_min(0) ** power
        if not noise.sum() > 0:
            raise ValueError("counts must contain at least one positive count")
        self.register_buffer("noise", (noise / noise.sum()).float())
        self.negatives = negatives

    def forward(self, center: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """Mean loss over a batch of pairs; negatives are drawn with torch's global RNG (seed it)."""
        v = self.center(center)                                         # (B, d)
        u_o = self.context(context)                                     # (B, d)
        neg = torch.multinomial(self.noise, center.numel() * self.negatives, replacement=True)
        u_n = self.context(neg.view(-1, self.negatives))                # (B, K, d)
        # ℓ = −log σ(u_o·v_c) − Σ_k log σ(−u_{n_k}·v_c)
        pos = nn.functional.logsigmoid((u_o * v).sum(-1))               # (B,)
        negs = nn.functional.logsigmoid(-(u_n @ v.unsqueeze(-1)).squeeze(-1)).sum(-1)   # (B,)
        return -(pos + negs).mean()

    @property
    def vectors(self) -> torch.Tensor:
        """The learned word vectors v, detached: (V, d)."""
        return self.center.weight.detach()


def nearest_neighbors(vectors: torch.Tensor, vocab: Vocab, word: str, k: int = 5) -> list[tuple[str, float]]:
    """The ``k`` words with the largest cosine to ``word`` (itself, <pad> and <unk> excluded)."""
    checks.positive_int(k, "k")
    if word not in vocab:
        raise KeyError(f"'{word}' is not in the vocabulary (size {len(vocab)}); pick a more frequent word")
    if vectors.shape[0] != len(vocab):
        raise ValueError(f"vectors must have one row per vocabulary entry ({len(vocab)}), got {vectors.shape[0]}")
    i = vocab[word]
    sims = cosine_matrix(vectors[i:i + 1], vectors)[0].clone()        # (V,)
    sims[[0, 1, i]] = -float("inf")
    top = sims.topk(min(k, len(vocab) - 3))
    return [(vocab.itos[j], float(s)) for s, j in zip(top.values, top.indices)]


def pca_2d(X: torch.Tensor) -> torch.Tensor:
    """Project rows onto their first two principal components (via SVD of the centred data): (n, d) -> (n, 2)."""
    checks.float_tensor(X, "X")
    checks.shape(X, "X", (None, None), ("n", "d"))
    if X.shape[0] < 2 or X.shape[1] < 2:
        raise ValueError(f"X must have at least 2 rows and 2 columns, got {tuple(X.shape)}")
    Xc = X - X.mean(dim=0, keepdim=True)                              # (n, d)
    # Xc = U S Vᵀ; the coordinates on the top-2 directions are Xc V[:, :2]
    _, _, Vh = torch.linalg.svd(Xc, full_matrices=False)
    Z = Xc @ Vh[:2].T                                                 # (n, 2)
    # fix the sign of each axis (SVD may flip it) so that the plot is the same on every machine
    signs = torch.sign(Z[Z.abs().argmax(dim=0), torch.arange(2)])
    return Z * signs


def domain_cosines(vectors: torch.Tensor, vocab: Vocab, domains: dict) -> tuple[list[float], list[float]]:
    """Cosines of every pair of words within a domain, and of every pair across two domains.

    ``domains`` maps a name to a list of words (all in ``vocab``). Returns (within, across).
    """
    missing = [w for ws in domains.values() for w in ws if w not in vocab]
    if missing:
        raise KeyError(f"words not in the vocabulary: {missing}")
    unit = vectors / vectors.norm(dim=1, keepdim=True).clamp_min(1e-12)          # (V, d)

    def cos(a: str, b: str) -> float:
        return float(unit[vocab[a]] @ unit[vocab[b]])
    groups = list(domains.values())
    within = [cos(a, b) for ws in groups for a, b in itertools.combinations(ws, 2)]
    across = [cos(a, b) for w1, w2 in itertools.combinations(groups, 2) for a in w1 for b in w2]
    return within, across


def neighbours_in_domain(vectors: torch.Tensor, vocab: Vocab, word: str, domains: dict, k: int = 10) -> float:
    """Share of ``word``'s k nearest neighbours that lie closer to ``word``'s own domain than to any other.

    A neighbour's closeness to a domain is its mean cosine to that domain's words (``word`` itself
    left out of its own domain, so that "close to ``word``" alone does not count).
    """
    own = [d for d, ws in domains.items() if word in ws]
    if len(own) != 1:
        raise ValueError(f"'{word}' must belong to exactly one domain of {list(domains)}")
    unit = vectors / vectors.norm(dim=1, keepdim=True).clamp_min(1e-12)          # (V, d)
    near = [vocab[w] for w, _ in nearest_neighbors(vectors, vocab, word, k=k)]
    closeness = {d: (unit[near] @ unit[[vocab[w] for w in ws if w != word]].T).mean(1)   # (k,) per domain
                 for d, ws in domains.items()}
    others = torch.stack([c for d, c in closeness.items() if d != own[0]]).max(0).values
    return float((closeness[own[0]] > others).float().mean())
