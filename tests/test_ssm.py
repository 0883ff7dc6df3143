"""The selective SSM (Mamba's S6, chapter 10 part 2): the scan equals the loop, forward and
gradients in float64, for any T, selective and time-invariant; Δ ≈ 0 keeps the state, a large Δ
overwrites it; the selective-copying data are what they claim."""
import pytest
import torch

from helpers.nn import ssm


def _inputs(b=2, T=9, D=3, N=4, seed=0, selective=True):
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)
    x = r(b, T, D).requires_grad_()
    delta = torch.nn.functional.softplus(r(b, T, D)).detach().requires_grad_()
    A = (-torch.rand(D, N, generator=g, dtype=torch.float64) * 2 - 0.1).requires_grad_()
    shape = (b, T, N) if selective else (D, N)
    B, C = r(*shape).requires_grad_(), r(*shape).requires_grad_()
    Dskip = r(D).requires_grad_()
    return x, delta, A, B, C, Dskip


@pytest.mark.parametrize("T", [1, 2, 3, 8, 17, 100])
@pytest.mark.parametrize("selective", [True, False])
def test_scan_equals_loop(T, selective):
    args = _inputs(T=T, selective=selective)
    y1, h1 = ssm.selective_scan(*args, mode="loop", return_state=True)
    y2, h2 = ssm.selective_scan(*args, mode="scan", return_state=True)
    assert y1.shape == (2, T, 3) and h1.shape == (2, 3, 4)
    assert (y1 - y2).abs().max() < 1e-10 and (h1 - h2).abs().max() < 1e-10
    w = torch.randn(y1.shape, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    grads = lambda y: [torch.zeros_like(t) if g is None else g
                       for t, g in zip(args, torch.autograd.grad((y * w).sum(), args, allow_unused=True))]
    for a, b in zip(grads(y1), grads(y2)):
        assert (a - b).abs().max() < 1e-10


def test_loop_is_the_written_recurrence():
    x, delta, A, B, C, Dskip = (t.detach() for t in _inputs(b=1, T=4, D=2, N=3))
    h = torch.zeros(2, 3, dtype=torch.float64)
    want = []
    for t in range(4):
        for d in range(2):
            for n in range(3):
                h[d, n] = torch.exp(delta[0, t, d] * A[d, n]) * h[d, n] + delta[0, t, d] * B[0, t, n] * x[0, t, d]
        want.append(h @ C[0, t] + Dskip * x[0, t])
    got = ssm.selective_scan(x, delta, A, B, C, Dskip, mode="loop")[0]
    assert (got - torch.stack(want)).abs().max() < 1e-12


def test_initial_state_is_carried():
    args = [t.detach() for t in _inputs(T=10)]
    y_full, h_full = ssm.selective_scan(*args, return_state=True)
    first = [t[:, :6] if t.dim() == 3 else t for t in args]
    second = [t[:, 6:] if t.dim() == 3 else t for t in args]
    _, h_mid = ssm.selective_scan(*first, return_state=True)
    y2, h2 = ssm.selective_scan(*second, h0=h_mid, return_state=True)
    assert (y2 - y_full[:, 6:]).abs().max() < 1e-12 and (h2 - h_full).abs().max() < 1e-12


def test_delta_selects_keep_or_write():
    x, _, A, B, C, _ = (t.detach() for t in _inputs(b=1, T=2, D=1, N=2))
    h0 = torch.ones(1, 1, 2, dtype=torch.float64)
    keep = torch.full((1, 2, 1), 1e-9, dtype=torch.float64)
    _, h = ssm.selective_scan(x, keep, A, B, C, return_state=True, h0=h0)
    assert (h - h0).abs().max() < 1e-7                              # Δ ≈ 0: state kept, input ignored
    write = torch.full((1, 2, 1), 50.0, dtype=torch.float64)
    _, h = ssm.selective_scan(x, write, A, B, C, return_state=True, h0=h0)
    want = 50.0 * B[0, 1] * x[0, 1, 0]
    assert (h[0, 0] - want).abs().max() < 1e-6 * want.abs().max()   # large Δ: old state gone, x_T written


@pytest.mark.parametrize("selective", [True, False])
def test_layer_modes_agree_and_lti_is_time_invariant(selective):
    torch.manual_seed(0)
    layer = ssm.S6(4, 3, selective=selective).double()
    x = torch.randn(2, 12, 4, dtype=torch.float64)
    y = layer(x)
    layer.mode = "loop"
    assert (layer(x) - y).abs().max() < 1e-10
    d = layer.delta(x)
    assert (d > 0).all()
    if not selective:
        assert (d - d[:1, :1]).abs().max() == 0                     # the same Δ at every step and sequence
    else:
        assert (d - d[:1, :1]).abs().max() > 0


def test_model_shapes_and_gradients():
    m = ssm.SSMModel(12, 8, d_model=8, d_state=4, layers=2)
    x, y = ssm.selective_copy_batch(5, 12, 3, 8, torch.Generator().manual_seed(0))
    out = m(x)
    assert out.shape == (5, 15, 8)
    out.sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    assert 0 <= ssm.copy_accuracy(m, x, y) <= 1


def test_selective_copy_batch():
    x, y = ssm.selective_copy_batch(200, 16, 4, 6, torch.Generator().manual_seed(1))
    assert x.shape == (200, 20) and y.shape == (200, 4)
    data = x[:, :16]
    assert ((data != ssm.NOISE).sum(1) == 4).all()
    assert (x[:, 16:] == torch.arange(7, 11)).all()
    assert torch.equal(data[data != ssm.NOISE].reshape(200, 4) - 1, y)          # in order
    assert y.min() >= 0 and y.max() <= 5
    first = (data != ssm.NOISE).float().argmax(1)
    assert first.unique().numel() > 5                                          # positions vary


@pytest.mark.parametrize("bad, match", [
    (dict(x=torch.zeros(2, 3)), "x"),
    (dict(delta=torch.zeros(2, 9, 2, dtype=torch.float64)), "delta"),
    (dict(A=torch.zeros(4, 4, dtype=torch.float64)), "A"),
    (dict(B=torch.zeros(2, 9, 5, dtype=torch.float64)), "B"),
    (dict(C=torch.zeros(3, 5, dtype=torch.float64)), "C"),
    (dict(D=torch.zeros(4, dtype=torch.float64)), "D"),
])
def test_bad_inputs(bad, match):
    x, delta, A, B, C, D = (t.detach() for t in _inputs())
    args = dict(x=x, delta=delta, A=A, B=B, C=C, D=D)
    args.update(bad)
    with pytest.raises((ValueError, TypeError), match=match):
        ssm.selective_scan(**args)
    with pytest.raises(ValueError, match="K"):
        ssm.selective_copy_batch(3, T=2, K=3)
