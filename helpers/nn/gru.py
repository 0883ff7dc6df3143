"""GRU, written from its equations (PyTorch's convention; errata E8, E9).

PyTorch stacks the three blocks in the order r, z, n (reset gate, update gate, candidate).
The candidate is h̃_t (PyTorch calls it n_t): a GRU has no cell state, so not C̃_t::

    r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)            重置门 Reset gate
    z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)            更新门 Update gate
    h̃_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))  候选状态 (r acts on W_hn h + b_hn)
    h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h̃_t                      z ≈ 1 keeps the old state

Cho et al. (2014) write the candidate tanh(W x_t + U (r_t ⊙ h_{t-1})) (reset *before* the
matrix), and some texts swap z and 1 − z in the last line; both are GRUs, but only the
convention above matches ``torch.nn.GRU``.
"""
from __future__ import annotations

import torch

from .recurrent import RecurrentBase, linear, split


def gru_cell(x: torch.Tensor, h: torch.Tensor, weight_ih: torch.Tensor, weight_hh: torch.Tensor,
             bias_ih: torch.Tensor | None = None, bias_hh: torch.Tensor | None = None,
             return_gates: bool = False):
    """One GRU step. x: (B, I), h: (B, H) -> h_t: (B, H), plus the gates if asked."""
    W_ir, W_iz, W_in = split(weight_ih, 3)      # each (H, I)
    W_hr, W_hz, W_hn = split(weight_hh, 3)      # each (H, H)
    b_ir, b_iz, b_in = split(bias_ih, 3)        # each (H,) or None
    b_hr, b_hz, b_hn = split(bias_hh, 3)
    # r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)              重置门
    r = torch.sigmoid(linear(x, W_ir, b_ir) + linear(h, W_hr, b_hr))       # (B, H)
    # z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)              更新门
    z = torch.sigmoid(linear(x, W_iz, b_iz) + linear(h, W_hz, b_hz))       # (B, H)
    # h̃_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))    候选状态
    n = torch.tanh(linear(x, W_in, b_in) + r * linear(h, W_hn, b_hn))      # (B, H)
    # h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h̃_t                        新旧混合
    h_new = z * h + (1 - z) * n
    if return_gates:
        return h_new, {"r": r, "z": z, "n": n}
    return h_new


class GRU(RecurrentBase):
    """From-scratch twin of ``torch.nn.GRU``; forward returns (output, h_n)."""

    gates = 3

    def cell(self, x, h, weight_ih, weight_hh, bias_ih, bias_hh):
        return gru_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh)


@torch.no_grad()
def replay_gates(layer: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, dict]:
    """Replay a trained one-layer, one-direction, ``batch_first`` GRU step by step (gru_cell).

    layer: ``torch.nn.GRU`` (or this module's ``GRU``); x: (B, T, I).
    Returns (h_T (B, H), gates) with gates["r"], gates["z"], gates["n"] each (B, T, H): what every
    gate did at every step, with the layer's own weights (h_T equals the layer's h_n).
    """
    if getattr(layer, "num_layers", 1) != 1 or getattr(layer, "bidirectional", False):
        raise ValueError("replay_gates needs a one-layer, one-direction GRU")
    if not getattr(layer, "batch_first", False):
        raise ValueError("replay_gates needs a batch_first=True GRU (x is (B, T, I))")
    if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[-1] != layer.input_size:
        got = tuple(getattr(x, "shape", ()))
        raise ValueError(f"x must be (B, T, {layer.input_size}), got {got}")
    x = x.to(layer.weight_ih_l0.dtype)
    h = torch.zeros(x.shape[0], layer.hidden_size, dtype=x.dtype)
    trace: dict = {"r": [], "z": [], "n": []}
    for t in range(x.shape[1]):
        h, gates = gru_cell(x[:, t], h, layer.weight_ih_l0, layer.weight_hh_l0,
                            layer.bias_ih_l0, layer.bias_hh_l0, return_gates=True)
        for k in trace:
            trace[k].append(gates[k])
    return h, {k: torch.stack(v, dim=1) for k, v in trace.items()}   # each (B, T, H)
