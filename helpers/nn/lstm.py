"""LSTM, written from its equations, with every bias the notes leave out (erratum E7).

Hochreiter & Schmidhuber (1997) had no forget gate (C_t = C_{t-1} + i_t ⊙ g_t, i.e. f ≡ 1: the
"constant error carousel"); Gers, Schmidhuber & Cummins (2000) added f_t, which is what
``torch.nn.LSTM`` and this module compute.

PyTorch stacks the four blocks of ``weight_ih`` / ``weight_hh`` / biases in the order
i, f, g, o (input gate, forget gate, candidate, output gate); g is the notes' C̃_t::

    i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)        输入门 Input gate
    f_t = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)        遗忘门 Forget gate
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)     候选记忆 C̃_t (the recurrent weight W_hg is the notes' missing term)
    o_t = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)        输出门 Output gate
    C_t = f_t ⊙ C_{t-1} + i_t ⊙ g_t                        细胞状态 Cell state
    h_t = o_t ⊙ tanh(C_t)                                  隐藏状态 Hidden state
"""
from __future__ import annotations

import torch

from .recurrent import RecurrentBase, linear, split


def lstm_cell(x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor], weight_ih: torch.Tensor,
              weight_hh: torch.Tensor, bias_ih: torch.Tensor | None = None,
              bias_hh: torch.Tensor | None = None, return_gates: bool = False):
    """One LSTM step. x: (B, I), state = (h, C) each (B, H) -> (h_t, C_t), plus the gates if asked."""
    h, c = state
    W_ii, W_if, W_ig, W_io = split(weight_ih, 4)        # each (H, I)
    W_hi, W_hf, W_hg, W_ho = split(weight_hh, 4)        # each (H, H)
    b_ii, b_if, b_ig, b_io = split(bias_ih, 4)          # each (H,) or None
    b_hi, b_hf, b_hg, b_ho = split(bias_hh, 4)
    # i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)        输入门
    i = torch.sigmoid(linear(x, W_ii, b_ii) + linear(h, W_hi, b_hi))     # (B, H)
    # f_t = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)        遗忘门
    f = torch.sigmoid(linear(x, W_if, b_if) + linear(h, W_hf, b_hf))     # (B, H)
    # g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)     候选记忆 C̃_t
    g = torch.tanh(linear(x, W_ig, b_ig) + linear(h, W_hg, b_hg))        # (B, H)
    # o_t = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)        输出门
    o = torch.sigmoid(linear(x, W_io, b_io) + linear(h, W_ho, b_ho))     # (B, H)
    # C_t = f_t ⊙ C_{t-1} + i_t ⊙ g_t                        细胞状态：加法更新
    c = f * c + i * g
    # h_t = o_t ⊙ tanh(C_t)                                  隐藏状态
    h = o * torch.tanh(c)
    if return_gates:
        return h, c, {"i": i, "f": f, "g": g, "o": o}
    return h, c


class LSTM(RecurrentBase):
    """From-scratch twin of ``torch.nn.LSTM`` (no ``proj_size``); forward returns (output, (h_n, c_n))."""

    gates = 4
    has_cell_state = True

    def cell(self, x, state, weight_ih, weight_hh, bias_ih, bias_hh):
        return lstm_cell(x, state, weight_ih, weight_hh, bias_ih, bias_hh)
