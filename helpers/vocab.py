"""An order-stable vocabulary (erratum E2).

``list(set(words))`` orders words by their string hashes, and Python randomises string
hashing in every new process (PYTHONHASHSEED), so the same sentence gets different indices
each run and every embedding built on top changes. ``Vocab`` orders tokens by frequency,
ties broken by first appearance: the same corpus gives the same indices everywhere.
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence


def _check_sizes(min_freq, max_size) -> None:
    if not isinstance(min_freq, int) or min_freq < 1:
        raise ValueError(f"min_freq must be an int >= 1, got {min_freq!r}")
    if max_size is not None and (not isinstance(max_size, int) or max_size < 3):
        raise ValueError(f"max_size must be None or an int >= 3 (two specials + one token), got {max_size!r}")


class Vocab:
    """Token <-> index map. Index 0 is ``<pad>``, 1 is ``<unk>`` (unknown tokens map to it)."""

    PAD, UNK = "<pad>", "<unk>"

    def __init__(self, sequences: Iterable[Sequence[str]], min_freq: int = 1, max_size: int | None = None):
        if isinstance(sequences, str):
            raise TypeError("sequences must be an iterable of token sequences (e.g. a list of word lists), "
                            "got a single str")
        _check_sizes(min_freq, max_size)
        counts: Counter = Counter()                 # insertion order = order of first appearance
        for seq in sequences:
            for tok in seq:
                counts[tok] += 1
        self._index(counts, min_freq, max_size)

    @classmethod
    def from_counts(cls, counts: Counter, min_freq: int = 1, max_size: int | None = None) -> "Vocab":
        """The vocabulary of tokens counted elsewhere (e.g. with numpy). ``counts`` must list the
        tokens in order of first appearance, as a Counter filled while reading does: that order
        breaks ties between equally frequent tokens."""
        _check_sizes(min_freq, max_size)
        vocab = cls.__new__(cls)
        vocab._index(Counter(counts), min_freq, max_size)
        return vocab

    def _index(self, counts: Counter, min_freq: int, max_size: int | None) -> None:
        tokens = [t for t in counts if counts[t] >= min_freq and t not in (self.PAD, self.UNK)]
        tokens.sort(key=lambda t: -counts[t])       # stable: ties keep the order of first appearance
        if max_size is not None:
            tokens = tokens[: max_size - 2]
        self.itos = [self.PAD, self.UNK] + tokens
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        self.counts = counts

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        return self.stoi.get(token, 1)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Indices of ``tokens`` (a str is read as its characters, as a character model wants)."""
        return [self.stoi.get(t, 1) for t in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.itos):
                raise ValueError(f"index must be in [0, {len(self.itos)}), got {i}")
            out.append(self.itos[i])
        return out

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, first={self.itos[2:7]})"
