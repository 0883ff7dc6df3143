"""Hand-written BPTT equals autograd; the gradient-size tools behave as the theory says."""
import numpy as np
import pytest
import torch

from helpers import bptt


def autograd_grads(p, x, y, h0, loss, steps):
    q = bptt.RNNParams(*(getattr(p, n).clone().requires_grad_() for n in "UWbVc"))
    h0 = h0.clone().requires_grad_()
    L = bptt.total_loss(q, x, y, h0, loss, steps)
    L.backward()
    return L.item(), {**{n: getattr(q, n).grad for n in "UWbVc"}, "h0": h0.grad}


@pytest.mark.parametrize("loss", ["mse", "ce"])
@pytest.mark.parametrize("steps", [None, [-1], [0, 3]])
@pytest.mark.parametrize("seed", range(3))
def test_bptt_equals_autograd(loss, steps, seed):
    g = torch.Generator().manual_seed(seed)
    T, B, I, H, O = 6, 3, 4, 5, 3
    p = bptt.RNNParams.random(I, H, O, seed=seed)
    x = torch.randn(T, B, I, generator=g, dtype=torch.float64)
    y = (torch.randn(T, B, O, generator=g, dtype=torch.float64) if loss == "mse"
         else torch.randint(0, O, (T, B), generator=g))
    h0 = torch.randn(B, H, generator=g, dtype=torch.float64)
    res = bptt.bptt(p, x, y, h0, loss, steps)
    L, ref = autograd_grads(p, x, y, h0, loss, steps)
    assert abs(res.loss - L) < 1e-12
    for name, grad in ref.items():
        assert torch.allclose(res.grads[name], grad, atol=1e-10, rtol=0), name
    assert torch.allclose(res.dL_dh[0], ref["h0"], atol=1e-10)


def test_from_torch_matches_nn_rnn():
    torch.manual_seed(0)
    rnn, head = torch.nn.RNN(3, 4).double(), torch.nn.Linear(4, 2).double()
    p = bptt.RNNParams.from_torch(rnn, head)
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    h, o = bptt.forward(p, x)
    out, _ = rnn(x)
    assert torch.allclose(h[1:], out, atol=1e-12) and torch.allclose(o, head(out), atol=1e-12)
    with pytest.raises(ValueError, match="one-layer"):
        bptt.RNNParams.from_torch(torch.nn.RNN(3, 4, num_layers=2), head)


def test_delta_matrix_is_lower_triangular_and_sums_to_delta():
    p = bptt.RNNParams.random(2, 4, 1, seed=3)
    x = torch.randn(7, 1, 2, dtype=torch.float64)
    y = torch.randn(7, 1, 1, dtype=torch.float64)
    M = bptt.delta_matrix(p, x, y)
    assert M.shape == (7, 7)
    assert np.all(np.triu(M, 1) == 0) and np.all(np.diag(M) > 0)
    # with a single loss step t, δ_k = δ_{t,k}: the column norms of that row are ‖δ_k‖
    res = bptt.bptt(p, x, y, steps=[6])
    assert np.allclose(M[6], res.delta[:, 0].norm(dim=-1).numpy(), atol=1e-12)


@pytest.mark.parametrize("mode", ["sigma", "radius"])
def test_make_recurrent_matrix(mode):
    W = bptt.make_recurrent_matrix(16, 1.7, mode=mode, seed=4)
    size = bptt.sigma_max(W) if mode == "sigma" else bptt.spectral_radius(W)
    assert abs(size - 1.7) < 1e-10
    assert bptt.spectral_radius(W) <= bptt.sigma_max(W) + 1e-12
    assert torch.equal(W, bptt.make_recurrent_matrix(16, 1.7, mode=mode, seed=4))


def test_pytorch_default_init_radius_below_one_sigma_above():
    torch.manual_seed(0)
    W = torch.nn.RNN(64, 64).weight_hh_l0.detach().double()
    assert bptt.spectral_radius(W) < 1 < bptt.sigma_max(W)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "identity", "relu"])
def test_jacobian_norm_below_envelope(activation):
    W = bptt.make_recurrent_matrix(12, 1.3, seed=1)
    prof = bptt.rnn_gradient_profile(W, 40, activation=activation, input_scale=0.5, seed=2)
    assert prof.grad_norm[-1] == pytest.approx(1.0)
    assert np.all(prof.jacobian_norm <= prof.envelope * (1 + 1e-9))
    assert np.all(prof.grad_norm <= prof.jacobian_norm * (1 + 1e-9))


def test_vanishing_below_threshold_and_saturation():
    W = bptt.make_recurrent_matrix(32, 0.8, seed=0)
    prof = bptt.rnn_gradient_profile(W, 100, seed=0)
    assert prof.grad_norm[0] < 0.8 ** 100 * 1.0001       # σ_max < 1/γ: guaranteed to vanish
    big = bptt.make_recurrent_matrix(32, 3.0, mode="radius", seed=0)
    calm = bptt.rnn_gradient_profile(big, 100, input_scale=0.0, seed=0, activation="identity")
    sat = bptt.rnn_gradient_profile(big, 100, input_scale=30.0, seed=0)
    assert calm.grad_norm[0] > 1e10                      # linear and ρ = 3: explodes
    assert sat.grad_norm[0] < 1e-6                        # saturated tanh: vanishes despite ρ = 3
    assert sat.extra["saturated_fraction"] > 0.5


def test_zero_and_inf_come_back_as_numbers():
    tiny = bptt.rnn_gradient_profile(bptt.make_recurrent_matrix(8, 0.05, seed=0), 300, dtype=torch.float32)
    assert tiny.n_zero > 0 and not np.isnan(tiny.grad_norm).any()
    huge = bptt.rnn_gradient_profile(bptt.make_recurrent_matrix(8, 3.0, "radius", seed=0), 300,
                                     activation="identity", dtype=torch.float32)
    assert huge.n_inf > 0 and not np.isnan(huge.grad_norm).any()
    assert np.isinf(bptt.envelope(1.0, 10.0, 400)[0]) and bptt.envelope(1.0, 1e-3, 400)[0] == 0


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_gated_profiles(kind):
    prof = bptt.gated_gradient_profile(kind, 60, hidden_size=8, seed=0)
    assert prof.grad_norm.shape == (61,) and prof.grad_norm[-1] == pytest.approx(1.0)
    keep = bptt.gated_gradient_profile(kind, 60, hidden_size=8, gate_bias=6.0, seed=0)
    assert keep.grad_norm[0] > 10 * prof.grad_norm[0]     # gate ≈ 1 keeps the gradient alive
    if kind == "lstm":
        assert keep.extra["cell_grad_norm"].shape == (61,)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_input_grad_norm_equals_autograd(activation):
    """U = I: ∂L/∂x_k of h_k = f(W h_{k−1} + x_k), L = vᵀh_T, against autograd."""
    W = bptt.make_recurrent_matrix(6, 1.2, seed=1)
    prof = bptt.rnn_gradient_profile(W, 15, activation=activation, input_scale=1.5, seed=2, with_jacobian=False)
    g = bptt.generator(2)
    z = (torch.randn(15, 6, generator=g, dtype=torch.float64) * 1.5).requires_grad_()
    v = torch.randn(6, generator=g, dtype=torch.float64)
    f = bptt.ACTIVATIONS[activation][0]
    h = torch.zeros(6, dtype=torch.float64)
    for t in range(15):
        h = f(W @ h + z[t])
    (h @ (v / v.norm())).backward()
    np.testing.assert_allclose(prof.extra["input_grad_norm"], z.grad.norm(dim=1).numpy(), rtol=1e-10, atol=1e-300)
