"""Input checks shared by the helpers: every error names what was expected and what was given."""
from __future__ import annotations

from typing import Iterable

import torch


def positive_int(value, name: str) -> int:
    """Return ``value`` if it is an int >= 1, else raise ValueError (TypeError for non-ints)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a positive int, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int (>= 1), got {value}")
    return value


def choice(value, name: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise ValueError."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def probability(value, name: str) -> float:
    """Return ``value`` if it is a number in [0, 1), else raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def float_tensor(x, name: str, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Check that ``x`` is a floating-point tensor (of ``dtype`` if given); raise TypeError if not."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if dtype is not None and x.dtype != dtype:
        raise TypeError(
            f"{name} must have dtype {dtype} (the dtype of the layer's parameters), got {x.dtype}; "
            f"convert with .to({dtype}) or the layer with .to({x.dtype})"
        )
    return x


def shape(x: torch.Tensor, name: str, expected: tuple, labels: tuple[str, ...] | None = None) -> None:
    """Raise ValueError unless ``x.shape`` matches ``expected`` (None entries match any size).

    ``labels`` names the free dimensions in the message, e.g. ("T", "B", 8) -> "(T, B, 8)".
    """
    shown = labels if labels is not None else tuple("?" if e is None else e for e in expected)
    ok = x.dim() == len(expected) and all(e is None or e == s for e, s in zip(expected, x.shape))
    if not ok:
        want = "(" + ", ".join(str(s) for s in shown) + ")"
        raise ValueError(f"{name} must be {want}, got {tuple(x.shape)}")
