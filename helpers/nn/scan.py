"""The linear recurrence h_t = a_t ⊙ h_{t-1} + b_t, as a loop and as a parallel scan (chapter 10).

A recurrence whose new state is *linear* in the old one (the coefficients a_t, b_t may depend on
the input x_t, never on h_{t-1}) can be computed without stepping through time. Write one step
as the pair (a_t, b_t), the map h ↦ a_t ⊙ h + b_t. Doing step s first and step t second is the
map h ↦ a_t ⊙ (a_s ⊙ h + b_s) + b_t, again of the same form::

    (a_s, b_s) • (a_t, b_t) = (a_t ⊙ a_s,  a_t ⊙ b_s + b_t)        s before t

This operator is associative, so the prefix "products" (a_1..t, b_1..t) can be formed in any
grouping; ``linear_scan`` uses the doubling scheme of Hillis & Steele (1986): in round k every
position t combines itself with position t − 2^k, so after ceil(log2 T) rounds position t holds the
composition of steps 1..t, and h_t = A_t ⊙ h_0 + B_t. Every round is one elementwise operation
on whole tensors (parallel over t); the loop needs T dependent steps. The doubling scheme does
T·ceil(log2 T) − (2^ceil(log2 T) − 1) combines in all, more *work* than the loop's T, in less
*depth* (rounds one after another); Blelloch's (1990) up-and-down sweep does O(T) work in
2·log2 T rounds.

``linear_scan_log`` is the log-space form of Heinsen (2023), used for minGRU by Feng et al.
(2024): with a*_t = Σ_{s≤t} log a_s, h_t = exp(a*_t + logcumsumexp_t(log b_s − a*_s)) (with h_0
prepended as the first value), one cumulative sum and one cumulative log-sum-exp; it needs
a_t > 0 and b_t > 0.

Shapes: time is ``dim`` (default 1, batch_first); a and b have the same shape (B, T, ...), h0
has that shape without the time dimension (default zeros); the result h has a's shape, with
h[:, t] = h_t (the state after step t). The state may be a vector or a matrix: every operation is
elementwise.
"""
from __future__ import annotations

import math

import torch

__all__ = ["combine", "linear_scan", "linear_scan_log", "linear_scan_loop", "scan_rounds", "scan_work"]


def _check(a, b, h0, dim: int, name_a: str = "a", name_b: str = "b") -> int:
    for value, name in ((a, name_a), (b, name_b)):
        if not isinstance(value, torch.Tensor) or not value.is_floating_point():
            got = f"{value.dtype} tensor" if isinstance(value, torch.Tensor) else type(value).__name__
            raise TypeError(f"{name} must be a floating-point tensor, got {got}")
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape (B, T, ...), "
                         f"got {tuple(a.shape)} and {tuple(b.shape)}")
    if isinstance(dim, bool) or not isinstance(dim, int) or not -a.dim() <= dim < a.dim():
        raise ValueError(f"dim must be an int in [{-a.dim()}, {a.dim()}) for a {a.dim()}-d tensor, got {dim!r}")
    dim = dim % a.dim()
    if a.shape[dim] < 1:
        raise ValueError(f"the time dimension (dim={dim}) must have length >= 1, got shape {tuple(a.shape)}")
    if h0 is not None:
        want = a.shape[:dim] + a.shape[dim + 1:]
        if not isinstance(h0, torch.Tensor) or h0.shape != want:
            got = tuple(h0.shape) if isinstance(h0, torch.Tensor) else type(h0).__name__
            raise ValueError(f"h0 must have shape {tuple(want)} (a's shape without time), got {got}")
    return dim


def linear_scan_loop(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None = None,
                     dim: int = 1) -> torch.Tensor:
    """h_t = a_t ⊙ h_{t-1} + b_t for t = 1..T, one step after another (T dependent steps)."""
    dim = _check(a, b, h0, dim)
    h = torch.zeros_like(a.select(dim, 0)) if h0 is None else h0
    out = []
    for a_t, b_t in zip(a.unbind(dim), b.unbind(dim)):     # unbind: one backward node, not T
        # h_t = a_t ⊙ h_{t-1} + b_t
        h = a_t * h + b_t
        out.append(h)
    return torch.stack(out, dim=dim)


def combine(first: tuple, second: tuple) -> tuple:
    """(a_s, b_s) • (a_t, b_t) = (a_t ⊙ a_s, a_t ⊙ b_s + b_t): step s, then step t, as one step."""
    a_s, b_s = first
    a_t, b_t = second
    return a_t * a_s, a_t * b_s + b_t


def _shift(x: torch.Tensor, k: int, dim: int, fill: float) -> torch.Tensor:
    """x moved k places later along dim: position t gets x[t − k]; the first k places get ``fill``."""
    pad = torch.full_like(x.narrow(dim, 0, k), fill)
    return torch.cat([pad, x.narrow(dim, 0, x.shape[dim] - k)], dim=dim)


def linear_scan(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None = None,
                dim: int = 1) -> torch.Tensor:
    """The same h as ``linear_scan_loop``, by a parallel scan in ceil(log2 T) rounds (any T >= 1).

    After round k, (A[t], B[t]) is the composition of steps max(1, t − 2^(k+1) + 1)..t; the
    identity step (1, 0) fills the places before the start. Out of place, so autograd works.
    """
    dim = _check(a, b, h0, dim)
    T = a.shape[dim]
    A, B = a, b
    k = 1
    while k < T:                                   # ceil(log2 T) rounds
        # (A_t, B_t) ← (A_{t−k}, B_{t−k}) • (A_t, B_t): every t at once
        A, B = combine((_shift(A, k, dim, 1.0), _shift(B, k, dim, 0.0)), (A, B))
        k *= 2
    # h_t = A_t ⊙ h_0 + B_t
    return B if h0 is None else A * h0.unsqueeze(dim) + B


def linear_scan_log(log_a: torch.Tensor, log_b: torch.Tensor, h0: torch.Tensor | None = None,
                    dim: int = 1) -> torch.Tensor:
    """The same h from log a_t and log b_t (a_t, b_t > 0; h0 > 0 if given): Heinsen's log-space scan.

    log h_t = a*_t + log(h_0 + Σ_{s≤t} exp(log b_s − a*_s)),  a*_t = Σ_{s≤t} log a_s
    """
    dim = _check(log_a, log_b, h0, dim, "log_a", "log_b")
    if h0 is not None:                              # h_0 becomes the value of a step 0 with a_0 = 1
        log_a = torch.cat([torch.zeros_like(log_a.narrow(dim, 0, 1)), log_a], dim=dim)
        log_b = torch.cat([h0.log().unsqueeze(dim), log_b], dim=dim)
    # a*_t = Σ_{s≤t} log a_s
    a_star = torch.cumsum(log_a, dim=dim)
    # log h_t = a*_t + logcumsumexp_t(log b_s − a*_s)
    log_h = a_star + torch.logcumsumexp(log_b - a_star, dim=dim)
    h = log_h.exp()
    return h if h0 is None else h.narrow(dim, 1, h.shape[dim] - 1)


def scan_rounds(T: int) -> int:
    """Rounds (depth) of ``linear_scan`` for T steps: ceil(log2 T) (0 for T = 1)."""
    if isinstance(T, bool) or not isinstance(T, int) or T < 1:
        raise ValueError(f"T must be an int >= 1, got {T!r}")
    return math.ceil(math.log2(T)) if T > 1 else 0


def scan_work(T: int) -> int:
    """Combines (work) ``linear_scan`` does for T steps: Σ over rounds k = 1, 2, 4, ... < T of (T − k)."""
    rounds = scan_rounds(T)
    return sum(T - 2 ** r for r in range(rounds))
