"""A selective state-space layer, Mamba's S6 (Gu & Dao 2023), small and from scratch (chapter 10, part 2).

A state-space model maps an input channel x(t) through an N-dimensional state h(t)::

    h'(t) = A h(t) + B x(t),    y(t) = C h(t)            A diagonal (N,), negative: the state decays

Discretised with a step Δ (zero-order hold for A, the simpler Euler step Δ·B for B, as in
Mamba's reference code), one channel d, state index n::

    Ā_t = exp(Δ_t A)             (D, N)   how much of the old state survives
    h_t = Ā_t ⊙ h_{t−1} + Δ_t B_t x_t    the linear recurrence h_t = a_t ⊙ h_{t−1} + b_t of part 1
    y_t = C_t · h_t + D_skip x_t

S4-style models (Gu, Goel & Ré 2022; time-invariant, LTI) learn Δ, B, C as constants: the same Ā,
B̄ at every step, so the layer is a fixed convolution of its input and cannot gate on content. On
short selective copying it still learns, only several times slower (it must learn a weight for
every spacing). Mamba's S6 makes them functions of the input::

    Δ_t = softplus(W_Δ x_t + b_Δ)  (D,),   B_t = W_B x_t  (N,),   C_t = W_C x_t  (N,)

"selective": Δ_t ≈ 0 keeps the state and ignores x_t (Ā ≈ 1, write ≈ 0); a large Δ_t forgets
the state and writes x_t. The recurrence is still linear in h (Δ, B, C read x only, never h), so
the same parallel scan runs it (``mode="scan"``), equal to the loop (``mode="loop"``).

Shapes: x (B, T, D); delta (B, T, D) > 0; A (D, N) < 0; B, C (B, T, N) (selective) or (D, N)
(time-invariant); D_skip (D,) or None. Output y (B, T, D).
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .. import checks

MODES = ("loop", "scan")


def _check(x, delta, A, B, C, D):
    checks.float_tensor(x, "x")
    checks.shape(x, "x", (None, None, None), ("batch", "T", "D"))
    b, T, d = x.shape
    if T == 0:
        raise ValueError(f"x must hold at least one time step, got {tuple(x.shape)}")
    checks.float_tensor(delta, "delta", x.dtype)
    checks.shape(delta, "delta", (b, T, d), (f"batch={b}", f"T={T}", f"D={d}"))
    checks.float_tensor(A, "A", x.dtype)
    checks.shape(A, "A", (d, None), (f"D={d}", "N"))
    n = A.shape[1]
    for M, name in ((B, "B"), (C, "C")):
        checks.float_tensor(M, name, x.dtype)
        if M.dim() == 2:
            checks.shape(M, name, (d, n), (f"D={d}", f"N={n}"))
        else:
            checks.shape(M, name, (b, T, n), (f"batch={b}", f"T={T}", f"N={n}"))
    if D is not None:
        checks.float_tensor(D, "D", x.dtype)
        checks.shape(D, "D", (d,), (f"D={d}",))


def discretize(x, delta, A, B):
    """(a_t, b_t) of the recurrence, each (batch, T, D, N): a = exp(Δ A), b = Δ B x."""
    a = torch.exp(delta[..., None] * A)                                   # Ā_t = exp(Δ_t A)
    Bt = B[:, :, None, :] if B.dim() == 3 else B                           # (b, T, 1, N) or (D, N)
    b = delta[..., None] * Bt * x[..., None]                              # B̄_t x_t = Δ_t B_t x_t
    return a, b


def selective_scan(x, delta, A, B, C, D=None, mode: str = "scan", h0=None, return_state: bool = False):
    """y (batch, T, D) of the discretised SSM; "loop" runs t = 1..T one after another, "scan" uses
    ``helpers.nn.scan.linear_scan`` (ceil(log2 T) rounds). ``return_state`` also returns h_T (batch, D, N)."""
    _check(x, delta, A, B, C, D)
    checks.choice(mode, "mode", MODES)
    a, b = discretize(x, delta, A, B)
    bsz, T, d = x.shape
    n = A.shape[1]
    if h0 is None:
        h0 = x.new_zeros(bsz, d, n)
    else:
        checks.float_tensor(h0, "h0", x.dtype)
        checks.shape(h0, "h0", (bsz, d, n), (f"batch={bsz}", f"D={d}", f"N={n}"))
    Ct = C[:, :, None, :] if C.dim() == 3 else C
    if mode == "scan":
        from . import scan

        h = scan.linear_scan(a, b, h0)                                     # (batch, T, D, N)
        y = (h * Ct).sum(-1)                                               # y_t = C_t · h_t
        last = h[:, -1]
    else:
        hs, h = [], h0
        for t in range(T):
            h = a[:, t] * h + b[:, t]                                      # h_t = Ā_t ⊙ h_{t−1} + B̄_t x_t
            hs.append((h * (Ct[:, t] if C.dim() == 3 else Ct)).sum(-1))    # y_t = C_t · h_t
        y, last = torch.stack(hs, 1), h
    if D is not None:
        y = y + D * x                                                      # + D_skip x_t
    return (y, last) if return_state else y


class S6(nn.Module):
    """One selective SSM layer on D channels with an N-dimensional state per channel.

    ``selective=True``: Δ_t, B_t, C_t computed from x_t (Mamba's S6). ``selective=False``: Δ (D,),
    B, C (D, N) learned constants (an LTI, S4D-like layer), the same parameter count up to the
    projections. A is initialised as in S4D-real / Mamba: A_{d,n} = −(n + 1).
    """

    def __init__(self, d_model: int, d_state: int = 16, selective: bool = True, mode: str = "scan"):
        super().__init__()
        checks.positive_int(d_model, "d_model")
        checks.positive_int(d_state, "d_state")
        checks.choice(mode, "mode", MODES)
        self.selective, self.mode = bool(selective), mode
        D, N = d_model, d_state
        self.A_log = nn.Parameter(torch.log(torch.arange(1, N + 1, dtype=torch.float32)).repeat(D, 1))
        self.D = nn.Parameter(torch.ones(D))
        # Δ starts in [0.001, 0.1] (log-uniform), as in Mamba: softplus⁻¹ of it is the bias
        dt = torch.exp(torch.rand(D) * (math.log(0.1) - math.log(0.001)) + math.log(0.001))
        dt_bias = dt + torch.log(-torch.expm1(-dt))
        if self.selective:
            self.to_delta = nn.Linear(D, D)
            with torch.no_grad():
                self.to_delta.weight.mul_(0.1)
                self.to_delta.bias.copy_(dt_bias)
            self.to_B = nn.Linear(D, N, bias=False)
            self.to_C = nn.Linear(D, N, bias=False)
        else:
            self.delta_bias = nn.Parameter(dt_bias)
            self.B = nn.Parameter(torch.randn(D, N) / math.sqrt(N))
            self.C = nn.Parameter(torch.randn(D, N) / math.sqrt(N))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (batch, T, D) -> y (batch, T, D)."""
        A = -torch.exp(self.A_log).to(x.dtype)
        if self.selective:
            delta = F.softplus(self.to_delta(x))                           # Δ_t = softplus(W_Δ x_t + b_Δ)
            B, C = self.to_B(x), self.to_C(x)                              # B_t, C_t
        else:
            delta = F.softplus(self.delta_bias).expand_as(x)               # the same Δ at every step
            B, C = self.B, self.C
        return selective_scan(x, delta, A, B, C, self.D, mode=self.mode)

    def delta(self, x: torch.Tensor) -> torch.Tensor:
        """Δ_t (batch, T, D) this layer uses on x: what it decides to keep or write at each step."""
        if self.selective:
            return F.softplus(self.to_delta(x))
        return F.softplus(self.delta_bias).expand_as(x)


class SSMModel(nn.Module):
    """Embedding -> ``layers`` × [x + S6(LayerNorm(x)) gated by SiLU] -> LayerNorm -> linear."""

    def __init__(self, vocab_size: int, n_out: int, d_model: int = 32, d_state: int = 16, layers: int = 2,
                 selective: bool = True, mode: str = "scan"):
        super().__init__()
        for val, name in ((vocab_size, "vocab_size"), (n_out, "n_out"), (layers, "layers")):
            checks.positive_int(val, name)
        self.emb = nn.Embedding(vocab_size, d_model)
        self.norms = nn.ModuleList(nn.LayerNorm(d_model) for _ in range(layers))
        self.gates = nn.ModuleList(nn.Linear(d_model, d_model) for _ in range(layers))
        self.ssms = nn.ModuleList(S6(d_model, d_state, selective, mode) for _ in range(layers))
        self.ln = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (batch, T) ids -> logits (batch, T, n_out)."""
        h = self.emb(x)
        for norm, gate, ssm in zip(self.norms, self.gates, self.ssms):
            a = norm(h)
            h = h + ssm(a) * F.silu(gate(a))
        return self.head(self.ln(h))


# ----------------------------------------------------------------------------- the selective copying task
NOISE = 0


def selective_copy_batch(n: int, T: int = 32, K: int = 4, M: int = 8, generator: torch.Generator | None = None):
    """The selective copying task (Gu & Dao 2023, §3.1): K data tokens (values 1..M) at random,
    sorted positions among T − K noise tokens (0), then K recall tokens M + 1, ..., M + K (the j-th
    asks for the j-th data token); the model must output the K data tokens in order there.
    Vocabulary size M + K + 1.

    Returns x (n, T + K) ids and y (n, K) targets in 0..M−1 (data value − 1).
    """
    for val, name in ((n, "n"), (T, "T"), (K, "K"), (M, "M")):
        checks.positive_int(val, name)
    if K > T:
        raise ValueError(f"K data tokens must fit into T positions, got K={K} > T={T}")
    pos = torch.rand(n, T, generator=generator).argsort(1)[:, :K].sort(1).values    # K distinct sorted positions
    vals = torch.randint(1, M + 1, (n, K), generator=generator)
    x = torch.full((n, T + K), NOISE, dtype=torch.long)
    x.scatter_(1, pos, vals)
    x[:, T:] = torch.arange(M + 1, M + K + 1)
    return x, vals - 1


def copy_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Share of recalled tokens the model gets right (K per sequence)."""
    with torch.no_grad():
        K = y.shape[1]
        pred = model(x)[:, -K:].argmax(-1)
    return float((pred == y).to(torch.float64).mean())


def train_copy(selective: bool, steps: int = 150, T: int = 16, K: int = 2, M: int = 4, d_model: int = 16,
               d_state: int = 8, lr: float = 1e-2, batch_size: int = 64, seed: int = 0, n_test: int = 1000,
               mode: str = "loop") -> dict:
    """Train a one-layer ``SSMModel`` on selective copying and measure its test accuracy.

    Same budget for both kinds: ``steps`` Adam steps of ``batch_size`` fresh sequences, gradient
    norm clipped at 1. The loop mode is the default because on a small CPU it is faster than the
    scan for T ≈ 20 (the same result: tests/test_ssm.py). Seeds follow ``SEQCOURSE_SEED``.
    Returns {'model', 'accuracy', 'losses', 'seconds', 'params'}.
    """
    import time

    from ..env import generator

    checks.positive_int(steps, "steps")
    torch.manual_seed(generator(seed).initial_seed())
    model = SSMModel(M + K + 1, M, d_model=d_model, d_state=d_state, layers=1, selective=selective, mode=mode)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = generator(seed + 1)
    x_test, y_test = selective_copy_batch(n_test, T, K, M, generator(seed + 2))
    losses = []
    t0 = time.perf_counter()
    for _ in range(steps):
        x, y = selective_copy_batch(batch_size, T, K, M, g)
        loss = F.cross_entropy(model(x)[:, -K:].reshape(-1, M), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    seconds = time.perf_counter() - t0
    return {"model": model, "accuracy": copy_accuracy(model, x_test, y_test), "losses": losses,
            "seconds": seconds, "params": sum(p.numel() for p in model.parameters())}
