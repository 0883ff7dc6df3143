"""Backpropagation through time (BPTT), by hand, and the gradient-size tools of chapter 04.

Model (one layer, tanh, with an output layer), in the notes' letters, row-vector form::

    a_t = U x_t + W h_{t-1} + b          pre-activation: the hidden unit's *input*
    h_t = tanh(a_t)
    o_t = V h_t + c
    L   = Σ_t L_t,   L_t = loss(o_t, y_t)  (mean over the batch)

We fix the notes' loose definition (erratum E4) as: δ_{t,k} = ∂L_t/∂a_k, the gradient of
the step-t loss with respect to the hidden unit's *input* at step k ≤ t. Then::

    δ_{t,t}   = (1 − h_t²) ⊙ Vᵀ ∂L_t/∂o_t
    δ_{t,k}   = (1 − h_k²) ⊙ Wᵀ δ_{t,k+1}                 (k < t)
    δ_k       = Σ_{t ≥ k} δ_{t,k} = (1 − h_k²) ⊙ (Vᵀ ∂L_k/∂o_k + Wᵀ δ_{k+1})
    ∂L/∂U = Σ_k δ_k x_kᵀ,  ∂L/∂W = Σ_k δ_k h_{k-1}ᵀ,  ∂L/∂b = Σ_k δ_k
    ∂L/∂V = Σ_t ∂L_t/∂o_t h_tᵀ,  ∂L/∂c = Σ_t ∂L_t/∂o_t

The Jacobian ∂h_k/∂h_{k-1} = diag(1 − h_k²) W is a matrix (erratum E5), so the path from
step k to step t multiplies t − k such matrices; its size is bounded by
(γ σ_max(W))^{t−k}, γ = max|f'| (1 for tanh, 1/4 for sigmoid) (erratum E6).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch

from . import checks
from .env import generator, shifted

# name -> (f, f' as a function of (a, f(a)), γ = sup |f'|)
ACTIVATIONS = {
    "tanh": (torch.tanh, lambda a, h: 1 - h * h, 1.0),
    "sigmoid": (torch.sigmoid, lambda a, h: h * (1 - h), 0.25),
    "identity": (lambda a: a, lambda a, h: torch.ones_like(a), 1.0),
    "relu": (torch.relu, lambda a, h: (a > 0).to(a.dtype), 1.0),
}
LOSSES = ("mse", "ce")


# ----------------------------------------------------------------------------- the model
@dataclass
class RNNParams:
    """U (H, I), W (H, H), b (H,), V (O, H), c (O,) — the notes' letters."""

    U: torch.Tensor
    W: torch.Tensor
    b: torch.Tensor
    V: torch.Tensor
    c: torch.Tensor

    def __post_init__(self):
        H = self.W.shape[0]
        for name in ("U", "W", "b", "V", "c"):
            checks.float_tensor(getattr(self, name), name, self.W.dtype)
        checks.shape(self.W, "W", (H, H))
        checks.shape(self.U, "U", (H, None), (f"hidden_size={H}", "input_size"))
        checks.shape(self.b, "b", (H,), (f"hidden_size={H}",))
        checks.shape(self.V, "V", (None, H), ("output_size", f"hidden_size={H}"))
        checks.shape(self.c, "c", (self.V.shape[0],), (f"output_size={self.V.shape[0]}",))

    @classmethod
    def random(cls, input_size: int, hidden_size: int, output_size: int, seed: int = 0,
               dtype: torch.dtype = torch.float64) -> "RNNParams":
        """Parameters drawn like PyTorch's defaults, U(−1/√H, 1/√H), from a fixed seed."""
        for v, n in ((input_size, "input_size"), (hidden_size, "hidden_size"), (output_size, "output_size")):
            checks.positive_int(v, n)
        g = generator(seed)
        k = hidden_size ** -0.5
        draw = lambda *s: (torch.rand(*s, generator=g, dtype=dtype) * 2 - 1) * k
        return cls(draw(hidden_size, input_size), draw(hidden_size, hidden_size), draw(hidden_size),
                   draw(output_size, hidden_size), draw(output_size))

    @classmethod
    def from_torch(cls, rnn: torch.nn.RNN, head: torch.nn.Linear) -> "RNNParams":
        """Read U, W, b = b_ih + b_hh from a one-layer tanh ``nn.RNN`` and V, c from ``nn.Linear``."""
        if rnn.num_layers != 1 or rnn.bidirectional or rnn.nonlinearity != "tanh" or not rnn.bias:
            raise ValueError("expected a one-layer, unidirectional tanh nn.RNN with bias, got " + repr(rnn))
        d = lambda t: t.detach().clone()
        return cls(d(rnn.weight_ih_l0), d(rnn.weight_hh_l0), d(rnn.bias_ih_l0 + rnn.bias_hh_l0),
                   d(head.weight), d(head.bias))


def _check_sequence(p: RNNParams, x: torch.Tensor, h0: torch.Tensor | None) -> torch.Tensor:
    checks.float_tensor(x, "x", p.W.dtype)
    checks.shape(x, "x", (None, None, p.U.shape[1]), ("T", "B", f"input_size={p.U.shape[1]}"))
    if x.shape[0] == 0:
        raise ValueError(f"x must hold at least one time step, got {tuple(x.shape)}")
    B, H = x.shape[1], p.W.shape[0]
    if h0 is None:
        return x.new_zeros(B, H)
    checks.float_tensor(h0, "h0", p.W.dtype)
    checks.shape(h0, "h0", (B, H), (f"B={B}", f"hidden_size={H}"))
    return h0


def forward(p: RNNParams, x: torch.Tensor, h0: torch.Tensor | None = None):
    """x: (T, B, I) -> h: (T+1, B, H) with h[0] = h_0, o: (T, B, O)."""
    h = [_check_sequence(p, x, h0)]
    for x_t in x:
        # h_t = tanh(U x_t + W h_{t-1} + b)
        h.append(torch.tanh(x_t @ p.U.T + h[-1] @ p.W.T + p.b))
    h = torch.stack(h)
    # o_t = V h_t + c
    o = h[1:] @ p.V.T + p.c
    return h, o


def _loss_mask(T: int, steps) -> torch.Tensor:
    mask = torch.zeros(T, dtype=torch.bool)
    if steps is None:
        mask[:] = True
        return mask
    steps = list(steps)
    bad = [s for s in steps if not (isinstance(s, int) and -T <= s < T)]
    if bad:
        raise ValueError(f"steps must be time indices in [-{T}, {T}), got {bad}")
    mask[steps] = True
    return mask


def _check_targets(y, o: torch.Tensor, loss: str) -> None:
    T, B, O = o.shape
    if loss == "mse":
        checks.float_tensor(y, "y", o.dtype)
        checks.shape(y, "y", (T, B, O), (f"T={T}", f"B={B}", f"output_size={O}"))
    else:
        if not isinstance(y, torch.Tensor) or y.dtype != torch.long:
            raise TypeError(f"y must be a torch.long tensor of class indices for loss='ce', got "
                            f"{getattr(y, 'dtype', type(y).__name__)}")
        checks.shape(y, "y", (T, B), (f"T={T}", f"B={B}"))


def step_losses(o: torch.Tensor, y: torch.Tensor, loss: str = "mse") -> torch.Tensor:
    """L_t for every step, (T,): 'mse' = mean_b ½‖o_t − y_t‖², 'ce' = mean_b cross-entropy."""
    checks.choice(loss, "loss", LOSSES)
    _check_targets(y, o, loss)
    if loss == "mse":
        return 0.5 * ((o - y) ** 2).sum(-1).mean(-1)
    return -torch.log_softmax(o, -1).gather(-1, y.unsqueeze(-1)).squeeze(-1).mean(-1)


def total_loss(p: RNNParams, x, y, h0=None, loss: str = "mse", steps=None) -> torch.Tensor:
    """L = Σ_{t in steps} L_t (all steps by default); differentiable, for checking against autograd."""
    _, o = forward(p, x, h0)
    return step_losses(o, y, loss)[_loss_mask(x.shape[0], steps)].sum()


def _output_grads(o, y, loss, mask) -> torch.Tensor:
    """∂L_t/∂o_t for every step, (T, B, O); zero where a step carries no loss."""
    B = o.shape[1]
    if loss == "mse":
        g = (o - y) / B
    else:
        g = (torch.softmax(o, -1) - torch.nn.functional.one_hot(y, o.shape[-1]).to(o.dtype)) / B
    return g * mask.to(o.dtype)[:, None, None]


@dataclass
class BPTTResult:
    loss: float
    grads: dict            # U, W, b, V, c, h0 — each the shape of its parameter
    delta: torch.Tensor    # (T, B, H): δ_k = ∂L/∂a_k
    dL_dh: torch.Tensor    # (T+1, B, H): ∂L/∂h_k, k = 0..T


def bptt(p: RNNParams, x: torch.Tensor, y: torch.Tensor, h0: torch.Tensor | None = None,
         loss: str = "mse", steps=None) -> BPTTResult:
    """Gradients of L = Σ_{t in steps} L_t with respect to every parameter, by the δ recursion."""
    checks.choice(loss, "loss", LOSSES)
    h, o = forward(p, x, h0)
    _check_targets(y, o, loss)
    mask = _loss_mask(x.shape[0], steps)
    L = step_losses(o, y, loss)[mask].sum().item()
    g_o = _output_grads(o, y, loss, mask)                  # (T, B, O)  ∂L_t/∂o_t
    T, B, H = x.shape[0], x.shape[1], p.W.shape[0]
    grads = {k: torch.zeros_like(getattr(p, k)) for k in ("U", "W", "b", "V", "c")}
    delta = torch.zeros(T, B, H, dtype=x.dtype)
    dL_dh = torch.zeros(T + 1, B, H, dtype=x.dtype)
    from_future = torch.zeros(B, H, dtype=x.dtype)          # Wᵀ δ_{k+1}, zero after the last step
    for k in range(T, 0, -1):                               # k = T, T−1, ..., 1
        # ∂L/∂h_k = Vᵀ ∂L_k/∂o_k + Wᵀ δ_{k+1}
        dL_dh[k] = g_o[k - 1] @ p.V + from_future
        # δ_k = (1 − h_k²) ⊙ ∂L/∂h_k
        delta[k - 1] = (1 - h[k] ** 2) * dL_dh[k]
        grads["U"] += delta[k - 1].T @ x[k - 1]             # δ_k x_kᵀ
        grads["W"] += delta[k - 1].T @ h[k - 1]             # δ_k h_{k−1}ᵀ
        grads["b"] += delta[k - 1].sum(0)
        grads["V"] += g_o[k - 1].T @ h[k]                   # ∂L_k/∂o_k h_kᵀ
        grads["c"] += g_o[k - 1].sum(0)
        from_future = delta[k - 1] @ p.W                    # Wᵀ δ_k, for step k − 1
    dL_dh[0] = from_future
    grads["h0"] = from_future
    return BPTTResult(L, grads, delta, dL_dh)


def delta_matrix(p: RNNParams, x: torch.Tensor, y: torch.Tensor, h0=None, loss: str = "mse") -> np.ndarray:
    """‖δ_{t,k}‖ (Frobenius norm over the batch) as a (T, T) array: row t = loss step, column k ≤ t.

    Entries with k > t are 0: a loss cannot reach into its own future.
    """
    checks.choice(loss, "loss", LOSSES)
    h, o = forward(p, x, h0)
    _check_targets(y, o, loss)
    T = x.shape[0]
    g_o = _output_grads(o, y, loss, torch.ones(T, dtype=torch.bool))
    out = np.zeros((T, T))
    for t in range(T):
        d = (1 - h[t + 1] ** 2) * (g_o[t] @ p.V)            # δ_{t,t}
        out[t, t] = d.norm().item()
        for k in range(t - 1, -1, -1):
            d = (1 - h[k + 1] ** 2) * (d @ p.W)             # δ_{t,k} = (1 − h_k²) ⊙ Wᵀ δ_{t,k+1}
            out[t, k] = d.norm().item()
    return out


# ----------------------------------------------------------------------------- recurrent matrices
def sigma_max(W: torch.Tensor) -> float:
    """Largest singular value σ_max(W) = ‖W‖₂: the most any vector can be stretched."""
    return torch.linalg.matrix_norm(W.to(torch.float64), ord=2).item()


def spectral_radius(W: torch.Tensor) -> float:
    """Largest |eigenvalue| ρ(W): the growth rate of Wⁿ for large n. Always ρ ≤ σ_max."""
    return torch.linalg.eigvals(W.to(torch.float64)).abs().max().item()


SCALE_MODES = ("sigma", "radius")


def make_recurrent_matrix(n: int, scale: float, mode: str = "sigma", seed: int = 0,
                          dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """A random Gaussian (n, n) matrix rescaled so that σ_max (mode='sigma') or ρ (mode='radius') = scale."""
    checks.positive_int(n, "n")
    checks.choice(mode, "mode", SCALE_MODES)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale >= 0 or scale == float("inf"):
        raise ValueError(f"scale must be a finite number >= 0, got {scale!r}")
    W, size = _base_matrix(n, mode, shifted(seed))
    return (W * (scale / size)).to(dtype)


@lru_cache(maxsize=256)
def _base_matrix(n: int, mode: str, shifted_seed: int) -> tuple[torch.Tensor, float]:
    """The unscaled Gaussian matrix and its σ_max or ρ, drawn once per (n, mode, seed): a slider
    move of the explorer only rescales it (the same numbers as drawing it again). Never mutated."""
    W = torch.randn(n, n, generator=torch.Generator().manual_seed(shifted_seed), dtype=torch.float64) / n ** 0.5
    return W, (sigma_max(W) if mode == "sigma" else spectral_radius(W))


def recurrent_matrix_norms(n: int, scale: float, mode: str = "sigma", seed: int = 0) -> tuple[float, float]:
    """(σ_max, ρ) of ``make_recurrent_matrix(n, scale, mode, seed)`` without a new decomposition:
    both scale linearly with the matrix, so they are computed once for the unscaled one."""
    W, size = _base_matrix(n, mode, shifted(seed))
    s, r = _base_norms(n, mode, shifted(seed))
    return s * (scale / size), r * (scale / size)


@lru_cache(maxsize=256)
def _base_norms(n: int, mode: str, shifted_seed: int) -> tuple[float, float]:
    W, _ = _base_matrix(n, mode, shifted_seed)
    return sigma_max(W), spectral_radius(W)


def envelope(gamma: float, sigma: float, T: int) -> np.ndarray:
    """(γ σ_max)^(T − k) for k = 0..T: the bound on ‖∂h_T/∂h_k‖ (inf/0 where float64 over/underflows)."""
    with np.errstate(over="ignore", under="ignore"):
        return np.float64(gamma * sigma) ** (T - np.arange(T + 1, dtype=np.float64))


def _clean(norms: np.ndarray) -> np.ndarray:
    """NaN only appears as inf·0 after an overflow: report it as inf so plots can mark it."""
    norms = np.asarray(norms, dtype=np.float64)
    return np.where(np.isnan(norms), np.inf, norms)


@dataclass
class GradientProfile:
    """‖∂L/∂h_k‖ for k = 0..T (L = vᵀ h_T, ‖v‖ = 1, so the value at k = T is 1)."""

    k: np.ndarray
    grad_norm: np.ndarray                # ‖∂L/∂h_k‖
    jacobian_norm: np.ndarray | None     # ‖∂h_T/∂h_k‖₂ (plain RNN only)
    envelope: np.ndarray | None          # (γ σ_max)^(T−k) (plain RNN only)
    sigma_max: float
    spectral_radius: float
    gamma: float
    extra: dict = field(default_factory=dict)

    @property
    def n_zero(self) -> int:
        return int((self.grad_norm == 0).sum())

    @property
    def n_inf(self) -> int:
        return int(np.isinf(self.grad_norm).sum())


def _check_profile_args(T, activation, input_scale, hidden_size):
    checks.positive_int(T, "T")
    checks.positive_int(hidden_size, "hidden_size")
    checks.choice(activation, "activation", tuple(ACTIVATIONS))
    if isinstance(input_scale, bool) or not isinstance(input_scale, (int, float)) or not input_scale >= 0:
        raise ValueError(f"input_scale must be a number >= 0, got {input_scale!r}")


def rnn_gradient_profile(W: torch.Tensor, T: int, activation: str = "tanh", input_scale: float = 1.0,
                         seed: int = 0, dtype: torch.dtype = torch.float64,
                         with_jacobian: bool = True, norms: tuple[float, float] | None = None) -> GradientProfile:
    """Run h_k = f(W h_{k−1} + s·z_k), z_k ~ N(0, I), for T steps and measure how ∂L/∂h_k shrinks or grows.

    Backwards, by the chain rule with the Jacobian ∂h_k/∂h_{k−1} = diag(f'(a_k)) W::

        ∂L/∂h_{k−1} = Wᵀ (f'(a_k) ⊙ ∂L/∂h_k)

    ``dtype=torch.float32`` shows what training precision does: overflow to inf, underflow to 0.
    ``extra`` holds ``saturated_fraction`` (share of |f'(a_k)| < 1e-3) and ``input_grad_norm``,
    ‖∂L/∂x_k‖ for k = 1..T (the input enters unweighted, U = I, so ∂L/∂x_k = f'(a_k) ⊙ ∂L/∂h_k).
    ``norms``: (σ_max(W), ρ(W)) if already known (the explorer's :func:`recurrent_matrix_norms`).
    """
    checks.float_tensor(W, "W")
    checks.shape(W, "W", (W.shape[0], W.shape[0]), ("H", "H"))
    _check_profile_args(T, activation, input_scale, W.shape[0])
    f, df, gamma = ACTIVATIONS[activation]
    H = W.shape[0]
    g = generator(seed)
    z = torch.randn(T, H, generator=g, dtype=torch.float64).to(dtype) * input_scale
    v = torch.randn(H, generator=g, dtype=torch.float64)
    v = (v / v.norm()).to(dtype)
    W = W.to(dtype)
    with np.errstate(all="ignore"):
        h = torch.zeros(H, dtype=dtype)
        derivs = []
        for t in range(T):
            a = W @ h + z[t]
            h = f(a)
            derivs.append(df(a, h))                        # f'(a_k), k = 1..T
        D = torch.stack(derivs)                            # (T, H)
        grads = [v]
        for k in range(T, 0, -1):
            grads.append(W.T @ (D[k - 1] * grads[-1]))     # ∂L/∂h_{k−1}
        grad_norm = torch.stack(grads[::-1]).norm(dim=1)   # k = 0..T
        jac = None
        if with_jacobian:
            J = torch.eye(H, dtype=dtype)
            Js = [J]
            for k in range(T, 0, -1):
                J = J @ (D[k - 1][:, None] * W)            # ∂h_T/∂h_{k−1} = ∂h_T/∂h_k · diag(f'(a_k)) W
                Js.append(J)
            Js = torch.stack(Js[::-1]).to(torch.float64)          # (T+1, H, H)
            finite = torch.isfinite(Js).all(dim=(1, 2))
            jac = np.full(T + 1, np.inf)                           # an overflowed matrix has norm inf
            jac[finite.numpy()] = torch.linalg.matrix_norm(Js[finite], ord=2).numpy()
        # U = I, so ∂L/∂x_k = ∂L/∂a_k = f'(a_k) ⊙ ∂L/∂h_k (k = 1..T)
        grads_h = torch.stack(grads[::-1])                 # (T+1, H), row k = ∂L/∂h_k
        input_norm = (D * grads_h[1:]).norm(dim=1)
    s, r = norms if norms is not None else (sigma_max(W), spectral_radius(W))
    return GradientProfile(np.arange(T + 1), _clean(grad_norm.to(torch.float64).numpy()),
                           None if jac is None else _clean(jac), envelope(gamma, s, T), s, r, gamma,
                           {"saturated_fraction": float((D.abs() < 1e-3).to(torch.float64).mean()),
                            "input_grad_norm": _clean(input_norm.to(torch.float64).numpy())})


def gated_setup(kind: str, T: int, hidden_size: int, scale: float | None, mode: str, input_scale: float,
                gate_bias: float, seed: int) -> tuple[torch.Tensor, ...]:
    """The random LSTM/GRU experiment behind the gated gradient profiles (float64).

    Returns (weight_ih, weight_hh, bias_ih, bias_hh, z, v): PyTorch-layout weights drawn like
    PyTorch's init (recurrent blocks rescaled to ``scale`` if given, ``gate_bias`` added to the
    forget gate (LSTM) or update gate (GRU)), inputs z (T, 1, H) and the unit read-out v (H,).
    """
    checks.choice(kind, "kind", ("lstm", "gru"))
    _check_profile_args(T, "tanh", input_scale, hidden_size)
    H, G = hidden_size, (4 if kind == "lstm" else 3)
    w_ih, w_hh, b_ih, b_hh, z, v = (t.clone() for t in _gated_draws(G, T, H, shifted(seed)))
    if scale is not None:
        w_hh = torch.cat([make_recurrent_matrix(H, scale, mode, seed + 1 + i) for i in range(G)])
    b_hh[H:2 * H] += gate_bias      # block 1: forget gate (i, f, g, o) / update gate (r, z, n)
    return w_ih, w_hh, b_ih, b_hh, z * input_scale, v / v.norm()


@lru_cache(maxsize=64)
def _gated_draws(G: int, T: int, H: int, shifted_seed: int) -> tuple[torch.Tensor, ...]:
    """PyTorch-like init of a G-block gated layer and the unit inputs, drawn once per setting
    (the explorer redraws the same numbers on every slider move otherwise). Never mutated."""
    gen = torch.Generator().manual_seed(shifted_seed)
    k = H ** -0.5
    draw = lambda *s: ((torch.rand(*s, generator=gen, dtype=torch.float64) * 2 - 1) * k)
    w_ih, w_hh, b_ih, b_hh = draw(G * H, H), draw(G * H, H), draw(G * H), draw(G * H)
    z = torch.randn(T, 1, H, generator=gen, dtype=torch.float64)
    v = torch.randn(H, generator=gen, dtype=torch.float64)
    return w_ih, w_hh, b_ih, b_hh, z, v


def gated_gradient_profile(kind: str, T: int, hidden_size: int = 32, scale: float | None = None,
                           mode: str = "sigma", input_scale: float = 1.0, gate_bias: float = 0.0,
                           seed: int = 0, dtype: torch.dtype = torch.float64) -> GradientProfile:
    """‖∂L/∂h_k‖ for a random LSTM or GRU, by autograd (L = vᵀ h_T).

    Inputs as in :func:`rnn_gradient_profile` (x_k = s·z_k with input_size = hidden_size).
    ``scale`` (if given) rescales every recurrent block W_h* like :func:`make_recurrent_matrix`.
    ``gate_bias`` is added to the forget-gate bias (LSTM) or update-gate bias (GRU): a large
    value pushes f_t (or z_t) towards 1, "keep the memory". For an LSTM, ``extra['cell_grad_norm']``
    holds ‖∂L/∂C_k‖.
    """
    from .nn.gru import gru_cell
    from .nn.lstm import lstm_cell

    H = hidden_size
    w_ih, w_hh, b_ih, b_hh, z, v = (t.to(dtype) for t in gated_setup(kind, T, hidden_size, scale, mode,
                                                                      input_scale, gate_bias, seed))
    hs, cs = [torch.zeros(1, H, dtype=dtype, requires_grad=True)], []
    c = torch.zeros(1, H, dtype=dtype, requires_grad=True)
    cs.append(c)
    h = hs[0]
    for t in range(T):
        if kind == "lstm":
            h, c = lstm_cell(z[t], (h, c), w_ih, w_hh, b_ih, b_hh)
            c.retain_grad()
            cs.append(c)
        else:
            h = gru_cell(z[t], h, w_ih, w_hh, b_ih, b_hh)
        h.retain_grad()
        hs.append(h)
    (h @ v).sum().backward()
    norm = lambda ts: _clean(np.array([0.0 if t.grad is None else t.grad.to(torch.float64).norm().item()
                                       for t in ts]))
    extra = {"cell_grad_norm": norm(cs)} if kind == "lstm" else {}
    Wh = w_hh[2 * H:3 * H]                 # the candidate block (g for the LSTM, n for the GRU)
    return GradientProfile(np.arange(T + 1), norm(hs), None, None, sigma_max(Wh), spectral_radius(Wh),
                           1.0, extra)


def attention_setup(T: int, hidden_size: int = 32, scale: float = 1.0, mode: str = "sigma",
                    input_scale: float = 1.0, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """The random self-attention experiment of the explorer (float64).

    Returns (W_q, W_k, W_v, x, v): three (H, H) projections, each drawn by
    :func:`make_recurrent_matrix` with the explorer's scale setting (σ_max or ρ = ``scale``),
    the inputs x (T, H) = s·z_k drawn exactly as in :func:`rnn_gradient_profile` (same generator
    calls, so the RNN and the attention layer read the same sequence) and the unit read-out v.
    """
    _check_profile_args(T, "tanh", input_scale, hidden_size)
    H = hidden_size
    g = generator(seed)
    x = torch.randn(T, H, generator=g, dtype=torch.float64) * input_scale
    v = torch.randn(H, generator=g, dtype=torch.float64)
    Wq, Wk, Wv = (make_recurrent_matrix(H, scale, mode, seed + 1 + i) for i in range(3))
    return Wq, Wk, Wv, x, v / v.norm()


def attention_forward(Wq, Wk, Wv, x):
    """One self-attention layer, read at the last position T (scaled dot-product, one head).

    Returns (y_T, weights): y_T (H,) and the attention weights α (T,) of position T.
    """
    H = Wq.shape[0]
    # q_T = W_q x_T;  K = X W_kᵀ;  V = X W_vᵀ            (rows = positions)
    q, K, V = Wq @ x[-1], x @ Wk.T, x @ Wv.T
    # α = softmax(K q_T / √H)
    alpha = torch.softmax(K @ q / H ** 0.5, dim=0)        # (T,)
    # y_T = Σ_k α_k v_k
    return alpha @ V, alpha


def attention_gradient_profile(T: int, hidden_size: int = 32, scale: float = 1.0, mode: str = "sigma",
                               input_scale: float = 1.0, seed: int = 0,
                               dtype: torch.dtype = torch.float64,
                               norms: tuple[float, float] | None = None) -> GradientProfile:
    """‖∂L/∂x_k‖ for k = 1..T through one self-attention layer, L = vᵀ y_T (loss on the last position).

    Backwards by hand (s = K q_T / √H the scores, α = softmax(s))::

        ∂L/∂α_k = v_kᵀ v            (v_k = W_v x_k, v the read-out)
        ∂L/∂s_k = α_k (∂L/∂α_k − Σ_j α_j ∂L/∂α_j)
        ∂L/∂x_k = W_vᵀ (α_k v) + W_kᵀ (∂L/∂s_k q_T / √H)  [+ W_qᵀ Kᵀ ∂L/∂s / √H at k = T]

    Every x_k is one step away from y_T: nothing multiplies along the distance T − k, so the
    profile is flat in k (it only scales like α_k ≈ 1/T). ``k`` runs 1..T; ``extra['weights']`` is α.
    sigma_max / spectral_radius are those of W_q (all three are scaled alike).
    """
    Wq, Wk, Wv, x, v = (t.to(dtype) for t in attention_setup(T, hidden_size, scale, mode, input_scale, seed))
    H = hidden_size
    with np.errstate(all="ignore"):
        q, K, V = Wq @ x[-1], x @ Wk.T, x @ Wv.T
        alpha = torch.softmax(K @ q / H ** 0.5, dim=0)
        d_alpha = V @ v                                   # ∂L/∂α_k
        d_s = alpha * (d_alpha - alpha @ d_alpha)         # ∂L/∂s_k (softmax backward)
        dx = alpha[:, None] * (v @ Wv)[None, :]           # via the values: row k = (W_vᵀ α_k v)ᵀ
        dx = dx + (d_s[:, None] * (q @ Wk)[None, :]) / H ** 0.5      # via the keys
        dx[-1] = dx[-1] + ((d_s @ K) @ Wq) / H ** 0.5     # via the query (position T only)
        grad_x = dx.to(torch.float64).norm(dim=1).numpy()
    s, r = norms if norms is not None else (sigma_max(Wq), spectral_radius(Wq))
    return GradientProfile(np.arange(1, T + 1), _clean(grad_x), None, None, s, r, 1.0,
                           {"weights": alpha.to(torch.float64).numpy()})


def mingru_gradient_profile(T: int, hidden_size: int = 32, scale: float = 1.0, mode: str = "sigma",
                            input_scale: float = 1.0, gate_bias: float = 0.0, seed: int = 0,
                            dtype: torch.dtype = torch.float64) -> GradientProfile:
    """‖∂L/∂h_k‖ for k = 0..T through minGRU (chapter 10), L = vᵀ h_T, by its closed form.

    minGRU: z_t = σ(W_z x_t + b_z), h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t, where neither z_t nor
    h̃_t reads h_{t−1}. So the Jacobian is diagonal, ∂h_t/∂h_{t−1} = diag(1 − z_t): no W, no f'::

        ∂L/∂h_k = v ⊙ Π_{t=k+1..T} (1 − z_t)

    Each factor lies in (0, 1): the gradient can fade but never explode. W_z is drawn like the
    RNN's W at ``scale`` (here it only scales how strongly x_t moves the gate), b_z = −``gate_bias``
    (a larger gate bias keeps more, 1 − z → 1, as the LSTM's forget-gate bias does); the inputs
    x_k = s·z_k are the RNN's (same generator calls). ``extra['gate_keep']`` is the mean of 1 − z_t.
    """
    _check_profile_args(T, "tanh", input_scale, hidden_size)
    H = hidden_size
    g = generator(seed)
    x = torch.randn(T, H, generator=g, dtype=torch.float64).to(dtype) * input_scale
    v = torch.randn(H, generator=g, dtype=torch.float64)
    v = (v / v.norm()).to(dtype)
    Wz = make_recurrent_matrix(H, scale, mode, seed + 1, dtype)
    with np.errstate(all="ignore"):
        keep = 1 - torch.sigmoid(x @ Wz.T - gate_bias)              # 1 − z_t, (T, H)
        # suffix products Π_{t=k+1..T}(1 − z_t) for k = 0..T (the empty product at k = T is 1)
        suffix = torch.cat([torch.flip(torch.cumprod(torch.flip(keep, [0]), 0), [0]),
                            torch.ones(1, H, dtype=dtype)])
        grad = (suffix * v).to(torch.float64).norm(dim=1).numpy()
    return GradientProfile(np.arange(T + 1), _clean(grad), None, None, 0.0, 0.0, 1.0,
                           {"gate_keep": float(keep.to(torch.float64).mean())})


def _elu1_prime(a: torch.Tensor) -> torch.Tensor:
    """φ'(a) for φ(a) = elu(a) + 1: 1 where a > 0, e^a elsewhere."""
    return torch.where(a > 0, torch.ones_like(a), torch.exp(torch.clamp(a, max=0)))


def linear_attention_gradient_profile(T: int, hidden_size: int = 32, scale: float = 1.0, mode: str = "sigma",
                                      input_scale: float = 1.0, seed: int = 0,
                                      dtype: torch.dtype = torch.float64,
                                      norms: tuple[float, float] | None = None) -> GradientProfile:
    """‖∂L/∂x_k‖ for k = 1..T through one causal linear-attention layer (chapter 10), L = vᵀ y_T.

    The same W_q, W_k, W_v and inputs as :func:`attention_gradient_profile`; the weight
    exp(q·k/√H) is replaced by w_k = φ(q_T)·φ(k_k), φ = elu + 1 (Katharopoulos et al. 2020)::

        y_T = Σ_k w_k v_k / Σ_k w_k = S_Tᵀ φ(q_T) / z_Tᵀ φ(q_T),  S_T = Σ_k φ(k_k) v_kᵀ  (the RNN form)
        ∂L/∂v_k = (w_k / Σw) v,   ∂L/∂w_k = (vᵀ v_k − L) / Σw
        ∂L/∂x_k = W_vᵀ ∂L/∂v_k + W_kᵀ (∂L/∂w_k φ(q_T) ⊙ φ'(k_k))  [+ W_qᵀ (φ'(q_T) ⊙ Σ_j ∂L/∂w_j φ(k_j)) at k = T]

    As a recurrence S_t = S_{t−1} + φ(k_t) v_tᵀ: ∂S_t/∂S_{t−1} = I, so every x_k reaches y_T
    without a product over the distance: flat in k, like softmax attention.
    """
    Wq, Wk, Wv, x, v = (t.to(dtype) for t in attention_setup(T, hidden_size, scale, mode, input_scale, seed))
    with np.errstate(all="ignore"):
        aq, K, V = Wq @ x[-1], x @ Wk.T, x @ Wv.T
        fq = torch.nn.functional.elu(aq) + 1
        fK = torch.nn.functional.elu(K) + 1
        w = fK @ fq                                        # w_k = φ(q_T)·φ(k_k), (T,)
        total = w.sum()
        Vv = V @ v                                         # vᵀ v_k
        L = (w @ Vv) / total
        d_w = (Vv - L) / total                             # ∂L/∂w_k
        dx = (w / total)[:, None] * (v @ Wv)[None, :]      # via the values
        dx = dx + (d_w[:, None] * fq[None, :] * _elu1_prime(K)) @ Wk      # via the keys
        dx[-1] = dx[-1] + (_elu1_prime(aq) * (d_w @ fK)) @ Wq             # via the query (k = T)
        grad_x = dx.to(torch.float64).norm(dim=1).numpy()
    s, r = norms if norms is not None else (sigma_max(Wq), spectral_radius(Wq))
    return GradientProfile(np.arange(1, T + 1), _clean(grad_x), None, None, s, r, 1.0,
                           {"weights": (w / total).to(torch.float64).numpy()})
