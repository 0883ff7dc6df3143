"""helpers.nn.scan: the parallel scan and the log-space scan equal the loop (float64, forward and
gradients, ~1e-10) for every T, including non-powers of two; errors name what was expected."""
import math

import pytest
import torch

from helpers.nn import scan

TOL = 1e-10
TS = (1, 2, 3, 5, 7, 8, 9, 64, 100, 257)


def inputs(T, seed, shape=(3,), positive=False, h0=True):
    gen = torch.Generator().manual_seed(seed)
    a = torch.rand(2, T, *shape, generator=gen, dtype=torch.float64) * 0.6 + 0.4     # in (0.4, 1)
    b = torch.randn(2, T, *shape, generator=gen, dtype=torch.float64)
    h = torch.randn(2, *shape, generator=gen, dtype=torch.float64)
    if positive:
        b, h = b.abs() + 0.1, h.abs() + 0.1
    return a, b, (h if h0 else None)


def closed_form(a, b, h0):
    """h_t = (Π_{s≤t} a_s) h_0 + Σ_{s≤t} (Π_{s<r≤t} a_r) b_s, written with cumprod (no recurrence)."""
    T = a.shape[1]
    P = torch.cumprod(a, dim=1)                                    # Π_{r≤t} a_r
    out = []
    for t in range(T):
        ratio = P[:, t:t + 1] / P[:, :t + 1]                       # Π_{s<r≤t} a_r for every s ≤ t
        h = (ratio * b[:, :t + 1]).sum(1)
        out.append(h if h0 is None else h + P[:, t] * h0)
    return torch.stack(out, 1)


@pytest.mark.parametrize("T", TS)
@pytest.mark.parametrize("with_h0", [True, False])
def test_parallel_equals_loop_forward(T, with_h0):
    a, b, h0 = inputs(T, T, h0=with_h0)
    ref = scan.linear_scan_loop(a, b, h0)
    assert ref.shape == a.shape
    assert (scan.linear_scan(a, b, h0) - ref).abs().max() < TOL
    assert (closed_form(a, b, h0) - ref).abs().max() < TOL
    # the first step by hand
    first = b[:, 0] if h0 is None else a[:, 0] * h0 + b[:, 0]
    assert (ref[:, 0] - first).abs().max() < TOL


@pytest.mark.parametrize("T", (1, 2, 3, 7, 64, 100))
@pytest.mark.parametrize("fn", ["parallel", "log"])
def test_gradients_equal_loop(T, fn):
    a, b, h0 = inputs(T, 100 + T, positive=fn == "log")
    w = torch.randn(a.shape, generator=torch.Generator().manual_seed(T), dtype=torch.float64)
    leaves = [a.clone().requires_grad_(), b.clone().requires_grad_(), h0.clone().requires_grad_()]
    ref = torch.autograd.grad((scan.linear_scan_loop(*leaves) * w).sum(), leaves)
    mine = [t.clone().requires_grad_() for t in (a, b, h0)]
    if fn == "parallel":
        out = scan.linear_scan(*mine)
        grads = torch.autograd.grad((out * w).sum(), mine)
    else:
        out = scan.linear_scan_log(mine[0].log(), mine[1].log(), mine[2])
        grads = torch.autograd.grad((out * w).sum(), mine)
    for g_ref, g in zip(ref, grads):
        assert (g - g_ref).abs().max() < TOL * max(1.0, g_ref.abs().max().item())


@pytest.mark.parametrize("T", TS)
def test_log_space_equals_loop(T):
    a, b, h0 = inputs(T, 200 + T, positive=True)
    for h in (h0, None):
        ref = scan.linear_scan_loop(a, b, h)
        got = scan.linear_scan_log(a.log(), b.log(), h)
        assert ((got - ref).abs() / ref.abs()).max() < TOL


def test_matrix_state_and_other_dim():
    a, b, h0 = inputs(13, 7, shape=(4, 5))
    ref = scan.linear_scan_loop(a, b, h0)
    assert (scan.linear_scan(a, b, h0) - ref).abs().max() < TOL
    # time along dim 0 (T, B, ...) gives the same numbers
    got = scan.linear_scan(a.transpose(0, 1), b.transpose(0, 1), h0, dim=0).transpose(0, 1)
    assert (got - ref).abs().max() < TOL
    assert (scan.linear_scan(a, b, h0, dim=-3) - ref).abs().max() < TOL


def test_gradcheck_small():
    a, b, h0 = inputs(6, 3)
    args = tuple(t.clone().requires_grad_() for t in (a, b, h0))
    assert torch.autograd.gradcheck(scan.linear_scan, args)


def test_combine_is_associative_and_composes_steps():
    gen = torch.Generator().manual_seed(0)
    p, q, r = [(torch.randn(4, generator=gen, dtype=torch.float64),
                torch.randn(4, generator=gen, dtype=torch.float64)) for _ in range(3)]
    left = scan.combine(scan.combine(p, q), r)
    right = scan.combine(p, scan.combine(q, r))
    for x, y in zip(left, right):
        assert (x - y).abs().max() < TOL
    h = torch.randn(4, generator=gen, dtype=torch.float64)
    a, b = scan.combine(p, q)                 # p first, then q
    assert (a * h + b - (q[0] * (p[0] * h + p[1]) + q[1])).abs().max() < TOL
    # not commutative: the order of the steps matters
    a2, b2 = scan.combine(q, p)
    assert (b2 - b).abs().max() > 1e-3


@pytest.mark.parametrize("T", [1, 2, 3, 4, 5, 7, 8, 9, 64, 100, 1000, 4096])
def test_rounds_and_work(T):
    assert scan.scan_rounds(T) == (math.ceil(math.log2(T)) if T > 1 else 0)
    # count the combines of the doubling scheme directly: position t combines in round k iff t >= k
    work, k = 0, 1
    while k < T:
        work += sum(1 for t in range(T) if t >= k)
        k *= 2
    assert scan.scan_work(T) == work
    assert scan.scan_work(T) >= T - 1           # never less work than the loop's T − 1 combines


def test_rounds_counted_from_the_code(monkeypatch):
    calls = []
    real = scan.combine
    monkeypatch.setattr(scan, "combine", lambda p, q: calls.append(1) or real(p, q))
    for T in (1, 2, 3, 7, 64, 100):
        calls.clear()
        a, b, _ = inputs(T, 0)
        scan.linear_scan(a, b)
        assert len(calls) == scan.scan_rounds(T)


def test_errors():
    a, b, h0 = inputs(5, 0)
    with pytest.raises(ValueError, match="same shape"):
        scan.linear_scan(a, b[:, :4])
    with pytest.raises(TypeError, match="floating-point"):
        scan.linear_scan([1.0], b)
    with pytest.raises(TypeError, match="floating-point"):
        scan.linear_scan_loop(a.long(), b)
    with pytest.raises(ValueError, match="h0 must have shape"):
        scan.linear_scan(a, b, h0[:1])
    with pytest.raises(ValueError, match="dim must be"):
        scan.linear_scan(a, b, dim=3)
    with pytest.raises(ValueError, match="length >= 1"):
        scan.linear_scan(a[:, :0], b[:, :0])
    with pytest.raises(ValueError, match="T must be"):
        scan.scan_rounds(0)
