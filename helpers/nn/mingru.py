"""minGRU and minLSTM (Feng, Tung, Ahmed, Bengio, Hajimirsadeghi 2024, "Were RNNs All We Needed?").

A GRU's gates read h_{t-1} (chapter 06, ``helpers.nn.gru``), so h_t is a *nonlinear* function of
h_{t-1} and the steps must run one after another. minGRU lets the gate and the candidate read
x_t only; what is left is the linear recurrence of ``helpers.nn.scan``::

    z_t = σ(W_z x_t + b_z)                      更新门 (reads x_t only)
    h̃_t = g(W_h x_t + b_h)                      候选状态 (no tanh, no reset gate)
    h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t       = a_t ⊙ h_{t-1} + b_t,  a_t = 1 − z_t, b_t = z_t ⊙ h̃_t

    minLSTM:  f_t = σ(W_f x_t + b_f),  i_t = σ(W_i x_t + b_i),  h̃_t = g(W_h x_t + b_h)
              f'_t = f_t / (f_t + i_t),  i'_t = i_t / (f_t + i_t)
              h_t = f'_t ⊙ h_{t-1} + i'_t ⊙ h̃_t

g(v) = v + 0.5 for v >= 0 and σ(v) for v < 0 keeps h̃_t > 0, so that the log-space scan (Heinsen
2023) can be used as in the paper's appendix and the reference implementation
lucidrains/minGRU-pytorch; with the plain scan g is not needed, but one model for all three modes
keeps them equal. Note z_t weighs the *new* value here (the paper's convention), the opposite of
PyTorch's GRU, whose z_t keeps the old state.

Three modes give the same h (tests/test_mingru.py, float64): ``"sequential"`` (a loop over t, as a
GRU runs), ``"parallel"`` (``scan.linear_scan``, ceil(log2 T) rounds) and ``"log"``
(``scan.linear_scan_log``). Shapes as the course's recurrent layers with ``batch_first=True``:
x (B, T, input_size) -> (output (B, T, H), h_n (B, H)); h0 (B, H) (must be > 0 in "log" mode).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from . import scan

MODES = ("sequential", "parallel", "log")

__all__ = ["MODES", "MinGRU", "MinLSTM", "g", "log_g"]


def g(v: torch.Tensor) -> torch.Tensor:
    """g(v) = v + 0.5 (v >= 0), σ(v) (v < 0): continuous, increasing, always > 0."""
    return torch.where(v >= 0, v + 0.5, torch.sigmoid(v))


def log_g(v: torch.Tensor) -> torch.Tensor:
    """log g(v), computed without taking the log of a tiny number (log σ(v) = −softplus(−v))."""
    return torch.where(v >= 0, (F.relu(v) + 0.5).log(), -F.softplus(-v))


class _MinRNN(nn.Module):
    """What minGRU and minLSTM share: input checks, the three modes, (output, h_n)."""

    gates = 2

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, batch_first: bool = True):
        super().__init__()
        for value, name in ((input_size, "input_size"), (hidden_size, "hidden_size")):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if batch_first is not True:
            raise ValueError("only batch_first=True is supported: x is (B, T, input_size)")
        self.input_size, self.hidden_size, self.batch_first = input_size, hidden_size, True
        # one matrix for all parts, rows in the order of ``parts`` (as torch.nn.GRU stacks r, z, n)
        self.weight_ih = nn.Parameter(torch.empty(self.gates * hidden_size, input_size))
        self.bias_ih = nn.Parameter(torch.empty(self.gates * hidden_size)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform(−1/√H, 1/√H), as torch.nn.GRU initialises its weights."""
        k = self.hidden_size ** -0.5
        for p in self.parameters():
            nn.init.uniform_(p, -k, k)

    def _check(self, x, h0):
        if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.dim() != 3 \
                or x.shape[-1] != self.input_size or x.shape[1] < 1:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must be a float tensor (B, T >= 1, {self.input_size}), got {got}")
        if h0 is not None and (not isinstance(h0, torch.Tensor) or h0.shape != (x.shape[0], self.hidden_size)):
            got = tuple(h0.shape) if isinstance(h0, torch.Tensor) else type(h0).__name__
            raise ValueError(f"h0 must be (B, H) = ({x.shape[0]}, {self.hidden_size}), got {got}")

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None,
                mode: str = "parallel") -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, T, I) -> (output (B, T, H), h_n (B, H)); mode: 'sequential' | 'parallel' | 'log'."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self._check(x, h0)
        proj = F.linear(x, self.weight_ih, self.bias_ih)          # (B, T, parts·H): every t at once
        if mode == "log":
            log_a, log_b = self.log_coefficients(proj)
            out = scan.linear_scan_log(log_a, log_b, h0)
        else:
            a, b = self.coefficients(proj)                          # each (B, T, H)
            run = scan.linear_scan_loop if mode == "sequential" else scan.linear_scan
            out = run(a, b, h0)
        return out, out[:, -1]


class MinGRU(_MinRNN):
    """minGRU: h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t with z_t, h̃_t from x_t alone.

    Parameters: weight_ih (2H, I) = [W_z; W_h], bias_ih (2H,) = [b_z; b_h]: 2·H·(I + 1) in all.
    """

    parts = ("z", "h̃")

    def coefficients(self, proj: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """a_t, b_t of h_t = a_t ⊙ h_{t-1} + b_t from proj = [W_z x_t + b_z, W_h x_t + b_h]."""
        k_z, k_h = proj.chunk(2, dim=-1)             # each (B, T, H)
        # z_t = σ(W_z x_t + b_z)                     更新门，只看 x_t
        z = torch.sigmoid(k_z)
        # h̃_t = g(W_h x_t + b_h)                     候选状态，只看 x_t
        h_tilde = g(k_h)
        # h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t      a_t = 1 − z_t,  b_t = z_t ⊙ h̃_t
        return 1 - z, z * h_tilde

    def log_coefficients(self, proj: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """log a_t = log(1 − z_t) = −softplus(k_z), log b_t = log z_t + log h̃_t = −softplus(−k_z) + log g(k_h)."""
        k_z, k_h = proj.chunk(2, dim=-1)
        return -F.softplus(k_z), -F.softplus(-k_z) + log_g(k_h)


class MinLSTM(_MinRNN):
    """minLSTM: h_t = f'_t ⊙ h_{t-1} + i'_t ⊙ h̃_t, the gates normalised to f'_t + i'_t = 1.

    Parameters: weight_ih (3H, I) = [W_f; W_i; W_h], bias_ih (3H,): 3·H·(I + 1) in all.
    """

    gates = 3
    parts = ("f", "i", "h̃")

    def coefficients(self, proj: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """a_t = f'_t, b_t = i'_t ⊙ h̃_t."""
        k_f, k_i, k_h = proj.chunk(3, dim=-1)        # each (B, T, H)
        # f_t = σ(W_f x_t + b_f),  i_t = σ(W_i x_t + b_i)    遗忘门、输入门，只看 x_t
        f, i = torch.sigmoid(k_f), torch.sigmoid(k_i)
        # f'_t = f_t / (f_t + i_t),  i'_t = i_t / (f_t + i_t)   归一化：f'_t + i'_t = 1
        f_n, i_n = f / (f + i), i / (f + i)
        # h_t = f'_t ⊙ h_{t-1} + i'_t ⊙ h̃_t,  h̃_t = g(W_h x_t + b_h)
        return f_n, i_n * g(k_h)

    def log_coefficients(self, proj: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """log f'_t = −softplus(d), log i'_t = −softplus(−d), d = log(i_t / f_t) = softplus(−k_f) − softplus(−k_i)."""
        k_f, k_i, k_h = proj.chunk(3, dim=-1)
        d = F.softplus(-k_f) - F.softplus(-k_i)
        return -F.softplus(d), -F.softplus(-d) + log_g(k_h)
