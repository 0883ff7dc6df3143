"""The machinery shared by the from-scratch RNN, LSTM and GRU layers.

A layer here mirrors ``torch.nn.RNN`` / ``LSTM`` / ``GRU``: the same constructor
arguments, the same parameter names (``weight_ih_l0``, ``bias_hh_l1_reverse``, ...)
and shapes, the same ``forward(input, hx=None)`` and return values. So
``Scratch(...).load_state_dict(torch_layer.state_dict())`` works both ways, and a
student can swap one for the other.

What differs between the three models is only the *cell* (one time step): each
subclass names its cell function and how many gate blocks its weights stack.
The loop over layers, directions and time steps lives here once.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .. import checks


def linear(x: torch.Tensor, W: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    """x Wᵀ + b, with b optional (a layer built with ``bias=False`` has none)."""
    out = x @ W.T
    return out if b is None else out + b


def split(t: torch.Tensor | None, n: int) -> tuple:
    """Split stacked gate weights/biases into ``n`` equal blocks along dim 0 (Nones if ``t`` is None)."""
    return (None,) * n if t is None else t.chunk(n, dim=0)


class RecurrentBase(nn.Module):
    """Multi-layer, optionally bidirectional recurrent layer; subclasses set ``gates`` and ``cell``."""

    gates = 1          # how many (hidden_size)-row blocks weight_ih stacks: RNN 1, LSTM 4, GRU 3
    has_cell_state = False

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None):
        super().__init__()
        self.input_size = checks.positive_int(input_size, "input_size")
        self.hidden_size = checks.positive_int(hidden_size, "hidden_size")
        self.num_layers = checks.positive_int(num_layers, "num_layers")
        for flag, name in ((bias, "bias"), (batch_first, "batch_first"), (bidirectional, "bidirectional")):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be True or False, got {flag!r}")
        self.bias, self.batch_first, self.bidirectional = bias, batch_first, bidirectional
        self.dropout = checks.probability(dropout, "dropout")
        self.num_directions = 2 if bidirectional else 1
        factory = {"device": device, "dtype": dtype}
        H, G = hidden_size, self.gates
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else H * self.num_directions
            for suffix in self._suffixes():
                names = self._param_names(layer, suffix)
                shapes = [(G * H, layer_in), (G * H, H), (G * H,), (G * H,)]
                for name, shp in list(zip(names, shapes))[: 4 if bias else 2]:
                    self.register_parameter(name, nn.Parameter(torch.empty(shp, **factory)))
        self.reset_parameters()

    # ----- parameters ---------------------------------------------------------------
    def _suffixes(self) -> tuple[str, ...]:
        return ("", "_reverse") if self.bidirectional else ("",)

    @staticmethod
    def _param_names(layer: int, suffix: str) -> tuple[str, str, str, str]:
        return tuple(f"{kind}_l{layer}{suffix}" for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def reset_parameters(self) -> None:
        """PyTorch's initialisation: every parameter ~ U(−1/√H, 1/√H)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-bound, bound)

    def cell_params(self, layer: int, direction: int = 0) -> tuple:
        """(weight_ih, weight_hh, bias_ih, bias_hh) of one layer and direction (biases None if bias=False)."""
        names = self._param_names(layer, self._suffixes()[direction])
        return tuple(getattr(self, n, None) for n in names)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    # ----- one time step (subclasses) -----------------------------------------------
    def cell(self, x, state, weight_ih, weight_hh, bias_ih, bias_hh):
        raise NotImplementedError

    # ----- forward ------------------------------------------------------------------
    def _check_input(self, input: torch.Tensor) -> None:
        dtype = next(self.parameters()).dtype
        checks.float_tensor(input, "input", dtype)
        I = self.input_size
        if input.dim() not in (2, 3) or input.shape[-1] != I:
            batched = f"(B, T, {I})" if self.batch_first else f"(T, B, {I})"
            raise ValueError(
                f"input must be {batched} or (T, {I}) for input_size={I} (batch_first={self.batch_first}), "
                f"got {tuple(input.shape)}")
        steps = input.shape[1] if input.dim() == 3 and self.batch_first else input.shape[0]
        if steps == 0:
            raise ValueError(f"input must hold at least one time step, got {tuple(input.shape)}")

    def _check_state(self, h: torch.Tensor, name: str, batch: int | None) -> None:
        dtype = next(self.parameters()).dtype
        checks.float_tensor(h, name, dtype)
        LD = self.num_layers * self.num_directions
        if batch is None:
            checks.shape(h, name, (LD, self.hidden_size), (f"num_layers*num_directions={LD}",
                                                           f"hidden_size={self.hidden_size}"))
        else:
            checks.shape(h, name, (LD, batch, self.hidden_size),
                         (f"num_layers*num_directions={LD}", f"batch={batch}", f"hidden_size={self.hidden_size}"))

    def _initial_state(self, hx, x: torch.Tensor, batch: int | None):
        """Check ``hx`` and return it batched as (h0, c0 or None), each (L*D, B, H)."""
        LD, B, H = self.num_layers * self.num_directions, x.shape[1], self.hidden_size
        if hx is None:
            zeros = x.new_zeros(LD, B, H)
            return zeros, (zeros if self.has_cell_state else None)
        if self.has_cell_state:
            if not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                raise TypeError(f"hx must be a tuple (h_0, c_0) for an LSTM, got {type(hx).__name__}")
            h0, c0 = hx
            self._check_state(h0, "h_0", batch)
            self._check_state(c0, "c_0", batch)
        else:
            if isinstance(hx, (tuple, list)):
                raise TypeError(f"hx must be a single tensor h_0 for {type(self).__name__}, got a {type(hx).__name__}")
            h0, c0 = hx, None
            self._check_state(h0, "h_0", batch)
        if batch is None:  # unbatched: add the batch dimension
            h0 = h0.unsqueeze(1)
            c0 = None if c0 is None else c0.unsqueeze(1)
        return h0, c0

    def forward(self, input: torch.Tensor, hx=None):
        """Run the whole sequence.

        input: (T, B, input_size), or (B, T, input_size) if batch_first, or (T, input_size) unbatched.
        hx:    h_0 of shape (num_layers*num_directions, B, hidden_size) — for an LSTM a tuple (h_0, c_0).
        Returns (output, h_n) — for an LSTM (output, (h_n, c_n)) — exactly as PyTorch does:
        output (T, B, num_directions*hidden_size) (batch-first if batch_first), h_n like h_0.
        """
        self._check_input(input)
        batched = input.dim() == 3
        x = input if batched else input.unsqueeze(1)             # (T, B, I)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        h0, c0 = self._initial_state(hx, x, x.shape[1] if batched else None)

        h_n, c_n = [], []
        layer_input = x
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                idx = layer * self.num_directions + direction
                state = (h0[idx], c0[idx]) if self.has_cell_state else h0[idx]
                seq = layer_input if direction == 0 else layer_input.flip(0)   # reverse reads T..1
                hs = []
                for x_t in seq:                                                # x_t: (B, I)
                    state = self.cell(x_t, state, *self.cell_params(layer, direction))
                    hs.append(state[0] if self.has_cell_state else state)
                out = torch.stack(hs)                                          # (T, B, H)
                outputs.append(out if direction == 0 else out.flip(0))
                h_n.append(state[0] if self.has_cell_state else state)
                if self.has_cell_state:
                    c_n.append(state[1])
            layer_input = torch.cat(outputs, dim=2)                            # (T, B, D*H)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = nn.functional.dropout(layer_input, self.dropout, training=True)

        output, h_n = layer_input, torch.stack(h_n)
        c_n = torch.stack(c_n) if self.has_cell_state else None
        if not batched:
            output, h_n = output.squeeze(1), h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, (h_n, c_n)) if self.has_cell_state else (output, h_n)
