"""The plain (Elman) RNN, written from its equations.

Notation of the notes: U is the input weight, W the recurrent weight, V the output weight.
PyTorch calls U ``weight_ih`` and W ``weight_hh`` and keeps two biases, b_ih and b_hh,
whose sum is the notes' b. The bias is shared by all time steps (erratum E3: no b_t)::

    h_t = f(U x_t + b_ih + W h_{t-1} + b_hh)        f = tanh (or relu)
    o_t = V h_t + c                                  output layer (nn.Linear), not part of nn.RNN
"""
from __future__ import annotations

import torch

from .. import checks
from .recurrent import RecurrentBase, linear

NONLINEARITIES = ("tanh", "relu")


def rnn_cell(x: torch.Tensor, h: torch.Tensor, weight_ih: torch.Tensor, weight_hh: torch.Tensor,
             bias_ih: torch.Tensor | None = None, bias_hh: torch.Tensor | None = None,
             nonlinearity: str = "tanh") -> torch.Tensor:
    """One RNN step. x: (B, I), h: (B, H) -> h_t: (B, H)."""
    U, W = weight_ih, weight_hh
    # a_t = U x_t + b_ih + W h_{t-1} + b_hh           加权求和（隐藏单元的输入）
    a = linear(x, U, bias_ih) + linear(h, W, bias_hh)      # (B, H)
    # h_t = f(a_t)                                      激活
    return torch.tanh(a) if nonlinearity == "tanh" else torch.relu(a)


def rnn_output(h: torch.Tensor, V: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
    """The output equation the notes name but never write: o_t = V h_t + c. h: (..., H) -> (..., O)."""
    # o_t = V h_t + c
    return linear(h, V, c)


class RNN(RecurrentBase):
    """From-scratch twin of ``torch.nn.RNN`` (same arguments, parameters, forward and returns)."""

    gates = 1

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device=None, dtype=None):
        self.nonlinearity = checks.choice(nonlinearity, "nonlinearity", NONLINEARITIES)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device, dtype)

    def cell(self, x, h, weight_ih, weight_hh, bias_ih, bias_hh):
        return rnn_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh, self.nonlinearity)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else s + f", nonlinearity={self.nonlinearity!r}"
