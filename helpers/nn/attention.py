"""Attention, written from its equations (chapter 07): the piece the Transformer is built on.

Scaled dot-product attention (Vaswani et al. 2017) for queries Q (L, d_k), keys K (S, d_k), values V (S, d_v)::

    scores  = Q Kᵀ / √d_k                  (L, S)  how well query i matches key j
    weights = softmax(scores) row by row    (L, S)  each row sums to 1
    output  = weights V                     (L, d_v) a weighted average of the values

Multi-head attention projects the inputs n_h times into d_k = d / n_h dimensions (d = embed_dim),
attends in each head on its own (dividing by √d_k, the width of one head) and joins the heads with
one more linear map::

    head_i = softmax((X_q W_i^Q)(X_k W_i^K)ᵀ / √d_k) (X_v W_i^V),   W_i^Q, W_i^K, W_i^V: (d, d_k)
    MultiHead = Concat(head_1..head_{n_h}) W^O                       W^O: (d, d)

(each projection also adds its bias, ``in_proj_bias`` and ``out_proj.bias``).

``MultiheadAttention`` here is the from-scratch twin of ``torch.nn.MultiheadAttention``: the same
constructor arguments, parameter names (``in_proj_weight``, ``in_proj_bias``, ``out_proj.weight``,
``out_proj.bias``; ``q_proj_weight``/``k_proj_weight``/``v_proj_weight`` when kdim or vdim differ;
``bias_k``/``bias_v``), the same ``forward`` arguments and return values. So
``mine.load_state_dict(torch_mha.state_dict())`` works both ways.

Two mask conventions, both PyTorch's (a classic trap):
* ``torch.nn.MultiheadAttention`` (and the class here): a boolean ``attn_mask`` / ``key_padding_mask``
  entry True means *not allowed* (masked out); a float mask is *added* to the scores.
* ``torch.nn.functional.scaled_dot_product_attention`` (and ``scaled_dot_product_attention`` here):
  a boolean ``attn_mask`` entry True means *allowed* (takes part).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .. import checks


def causal_mask(T: int, device=None) -> torch.Tensor:
    """Boolean (T, T) mask, True above the diagonal: position i may not look at j > i (nn.MultiheadAttention's convention)."""
    checks.positive_int(T, "T")
    return torch.ones(T, T, dtype=torch.bool, device=device).triu(1)


def scaled_dot_product_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                                 attn_mask: torch.Tensor | None = None, is_causal: bool = False):
    """softmax(Q Kᵀ/√d_k + mask) V over the last two dimensions; returns (output, weights).

    query (..., L, d_k), key (..., S, d_k), value (..., S, d_v) -> output (..., L, d_v), weights (..., L, S).
    Same arguments and mask convention as ``torch.nn.functional.scaled_dot_product_attention``
    (which returns only the output): a boolean ``attn_mask`` is True where attention is *allowed*,
    a float one is added to the scores; ``is_causal=True`` lets position i see only j <= i.
    A row whose keys are all masked is softmax(−∞, …, −∞) = 0/0 = NaN here, as in
    ``nn.MultiheadAttention``; PyTorch's fused ``F.scaled_dot_product_attention`` returns 0 for it instead.
    """
    for t, name in ((query, "query"), (key, "key"), (value, "value")):
        checks.float_tensor(t, name, query.dtype)
        if t.dim() < 2:
            raise ValueError(f"{name} must have at least 2 dimensions (..., length, features), got {tuple(t.shape)}")
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(f"query and key must have the same feature size d_k, got {query.shape[-1]} and {key.shape[-1]}")
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(f"key and value must have the same length S, got {key.shape[-2]} and {value.shape[-2]}")
    L, S, d_k = query.shape[-2], key.shape[-2], query.shape[-1]
    # scores = Q Kᵀ / √d_k                                      (..., L, S)
    scores = query @ key.transpose(-2, -1) / math.sqrt(d_k)
    if is_causal:
        if attn_mask is not None:
            raise ValueError("give either attn_mask or is_causal=True, not both")
        # position i sees keys j <= i only: the rest gets −∞, so its weight is exp(−∞) = 0
        scores = scores.masked_fill(causal_mask(max(L, S), query.device)[:L, :S], float("-inf"))
    elif attn_mask is not None:
        if attn_mask.dim() < 2 or attn_mask.shape[-1] != S or attn_mask.shape[-2] not in (1, L):
            raise ValueError(f"attn_mask must end in (L, S) = ({L}, {S}) or (1, {S}) (it broadcasts), "
                             f"got {tuple(attn_mask.shape)}")
        if attn_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attn_mask, float("-inf"))      # True = allowed
        else:
            scores = scores + attn_mask
    # weights = softmax(scores), each row sums to 1             (..., L, S)
    weights = torch.softmax(scores, dim=-1)
    # output = weights V                                        (..., L, d_v)
    return weights @ value, weights


def sinusoidal_positions(T: int, d: int, base: float = 10000.0) -> torch.Tensor:
    """Sinusoidal positional encoding (Vaswani et al. 2017), shape (T, d).

    PE[t, 2i] = sin(t / base^(2i/d)),  PE[t, 2i+1] = cos(t / base^(2i/d)).
    """
    checks.positive_int(T, "T")
    checks.positive_int(d, "d")
    t = torch.arange(T, dtype=torch.float64)[:, None]                       # (T, 1)
    freq = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)        # (ceil(d/2),)
    pe = torch.zeros(T, d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(t * freq)
    pe[:, 1::2] = torch.cos(t * freq)[:, : d // 2]
    return pe.to(torch.get_default_dtype())


class MultiheadAttention(nn.Module):
    """From-scratch twin of ``torch.nn.MultiheadAttention`` (same arguments, parameters and returns)."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None, dtype=None):
        super().__init__()
        self.embed_dim = checks.positive_int(embed_dim, "embed_dim")
        self.num_heads = checks.positive_int(num_heads, "num_heads")
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim must be divisible by num_heads, got embed_dim={embed_dim}, "
                             f"num_heads={num_heads}")
        for flag, name in ((bias, "bias"), (add_bias_kv, "add_bias_kv"), (add_zero_attn, "add_zero_attn"),
                           (batch_first, "batch_first")):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be True or False, got {flag!r}")
        self.kdim = embed_dim if kdim is None else checks.positive_int(kdim, "kdim")
        self.vdim = embed_dim if vdim is None else checks.positive_int(vdim, "vdim")
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout = checks.probability(dropout, "dropout")
        self.batch_first, self.add_zero_attn = batch_first, add_zero_attn
        self.head_dim = embed_dim // num_heads
        factory = {"device": device, "dtype": dtype}
        E = embed_dim
        if self._qkv_same_embed_dim:
            # W^Q, W^K, W^V stacked in one (3E, E) matrix, as PyTorch stores them
            self.in_proj_weight = nn.Parameter(torch.empty(3 * E, E, **factory))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = nn.Parameter(torch.empty(E, E, **factory))
            self.k_proj_weight = nn.Parameter(torch.empty(E, self.kdim, **factory))
            self.v_proj_weight = nn.Parameter(torch.empty(E, self.vdim, **factory))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = nn.Parameter(torch.empty(3 * E, **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = nn.Linear(E, E, bias=bias, **factory)                  # W^O
        if add_bias_kv:
            self.bias_k = nn.Parameter(torch.empty(1, 1, E, **factory))
            self.bias_v = nn.Parameter(torch.empty(1, 1, E, **factory))
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's initialisation: Xavier-uniform projections, zero biases, Xavier-normal bias_k/bias_v."""
        if self._qkv_same_embed_dim:
            nn.init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                nn.init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            nn.init.constant_(self.in_proj_bias, 0.0)
            nn.init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            nn.init.xavier_normal_(self.bias_k)
            nn.init.xavier_normal_(self.bias_v)

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"

    # ----- checks -------------------------------------------------------------------
    def _check_inputs(self, query, key, value):
        dtype = self.out_proj.weight.dtype
        for t, name in ((query, "query"), (key, "key"), (value, "value")):
            checks.float_tensor(t, name, dtype)
        if query.dim() not in (2, 3):
            raise ValueError(f"query must be {'(N, L, E)' if self.batch_first else '(L, N, E)'} or unbatched "
                             f"(L, E), got {tuple(query.shape)}")
        batched = query.dim() == 3
        if key.dim() != query.dim() or value.dim() != query.dim():
            raise ValueError(f"query, key and value must all be batched (3-D) or all unbatched (2-D), got "
                             f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
        for t, name, size in ((query, "query", self.embed_dim), (key, "key", self.kdim), (value, "value", self.vdim)):
            if t.shape[-1] != size:
                raise ValueError(f"{name} must have {size} features in its last dimension "
                                 f"({'embed_dim' if name == 'query' else name[0] + 'dim'}={size}), got {tuple(t.shape)}")
        if key.shape[:-1] != value.shape[:-1]:
            raise ValueError(f"key and value must have the same length and batch, got {tuple(key.shape)} and "
                             f"{tuple(value.shape)}")
        if batched:
            n_axis = 0 if self.batch_first else 1
            if key.shape[n_axis] != query.shape[n_axis]:
                raise ValueError(f"query and key must have the same batch size N, got {query.shape[n_axis]} "
                                 f"and {key.shape[n_axis]} (batch_first={self.batch_first})")
        return batched

    @staticmethod
    def _as_float_mask(mask: torch.Tensor, name: str, dtype) -> torch.Tensor:
        """Boolean True (masked out) -> −∞, False -> 0; a float mask is used as it is."""
        if mask.dtype == torch.bool:
            return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(mask, float("-inf"))
        if not mask.is_floating_point():
            raise TypeError(f"{name} must be a bool or float tensor, got dtype {mask.dtype}")
        return mask.to(dtype)

    # ----- forward ------------------------------------------------------------------
    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                key_padding_mask: torch.Tensor | None = None, need_weights: bool = True,
                attn_mask: torch.Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False):
        """Multi-head attention of ``query`` over ``key``/``value``; returns (attn_output, attn_weights).

        query (L, N, E), key (S, N, kdim), value (S, N, vdim) — (N, L, E) ... if batch_first — or
        unbatched (L, E), (S, kdim), (S, vdim). key_padding_mask (N, S) (or (S,)), True = that key is
        padding. attn_mask (L, S) or (N*num_heads, L, S), True = not allowed; float masks are added.
        attn_output has the shape of query; attn_weights is (N, L, S) averaged over the heads, or
        (N, num_heads, L, S) with average_attn_weights=False, or None with need_weights=False.
        """
        batched = self._check_inputs(query, key, value)
        if is_causal and attn_mask is None:
            raise ValueError("is_causal=True is only a hint, as in PyTorch: pass the causal attn_mask too "
                             "(helpers.nn.attention.causal_mask(L))")
        if not batched:                                          # add the batch dimension N = 1
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:                                   # (N, L, E) -> (L, N, E)
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        L, N, E = query.shape                                    # E = d, the model width
        S, n_h = key.shape[0], self.num_heads
        d_k = self.head_dim                                      # d_k = d / n_h, the width of one head
        dtype = query.dtype

        # Q = query W^Q + b^Q, K = key W^K + b^K, V = value W^V + b^V      (L or S, N, E)
        if self._qkv_same_embed_dim:
            W_q, W_k, W_v = self.in_proj_weight.chunk(3)
        else:
            W_q, W_k, W_v = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        b_q, b_k, b_v = (None,) * 3 if self.in_proj_bias is None else self.in_proj_bias.chunk(3)
        q = query @ W_q.T + (0 if b_q is None else b_q)
        k = key @ W_k.T + (0 if b_k is None else b_k)
        v = value @ W_v.T + (0 if b_v is None else b_v)

        # masks: one float mask (N*n_h, L, S') that is added to the scores
        mask = None
        if attn_mask is not None:
            if attn_mask.dim() == 2:
                checks.shape(attn_mask, "attn_mask", (L, S), (f"L={L}", f"S={S}"))
                mask = self._as_float_mask(attn_mask, "attn_mask", dtype).expand(N * n_h, L, S)
            else:
                checks.shape(attn_mask, "attn_mask", (N * n_h, L, S), (f"N*num_heads={N * n_h}", f"L={L}", f"S={S}"))
                mask = self._as_float_mask(attn_mask, "attn_mask", dtype)
        if key_padding_mask is not None:
            checks.shape(key_padding_mask, "key_padding_mask", (N, S), (f"N={N}", f"S={S}"))
            pad = self._as_float_mask(key_padding_mask, "key_padding_mask", dtype)       # (N, S)
            pad = pad[:, None, None, :].expand(N, n_h, 1, S).reshape(N * n_h, 1, S)
            mask = pad if mask is None else mask + pad
        if self.bias_k is not None:                              # one learned extra key/value
            k = torch.cat([k, self.bias_k.expand(1, N, E)])
            v = torch.cat([v, self.bias_v.expand(1, N, E)])
            mask = None if mask is None else nn.functional.pad(mask, (0, 1))

        # split the heads: (L, N, E) -> (N*n_h, L, d_k)
        q = q.reshape(L, N * n_h, d_k).transpose(0, 1)
        k = k.reshape(k.shape[0], N * n_h, d_k).transpose(0, 1)
        v = v.reshape(v.shape[0], N * n_h, d_k).transpose(0, 1)
        if self.add_zero_attn:                                   # one extra all-zero key/value
            k = torch.cat([k, k.new_zeros(N * n_h, 1, d_k)], dim=1)
            v = torch.cat([v, v.new_zeros(N * n_h, 1, d_k)], dim=1)
            mask = None if mask is None else nn.functional.pad(mask, (0, 1))

        # weights = softmax(Q Kᵀ/√d_k + mask) in every head, d_k = d / n_h    (N*n_h, L, S)
        scores = q @ k.transpose(1, 2) / math.sqrt(d_k)
        if mask is not None:
            scores = scores + mask
        weights = torch.softmax(scores, dim=-1)
        if self.dropout and self.training:
            weights = nn.functional.dropout(weights, p=self.dropout)
        # head_i = weights_i V_i; Concat(head_1..head_{n_h}) W^O + b^O        (L, N, E)
        heads = (weights @ v).transpose(0, 1).reshape(L, N, E)
        out = self.out_proj(heads)

        if batched and self.batch_first:
            out = out.transpose(0, 1)
        elif not batched:
            out = out.squeeze(1)
        if not need_weights:
            return out, None
        weights = weights.reshape(N, n_h, L, -1)
        if average_attn_weights:
            weights = weights.mean(dim=1)                        # (N, L, S)
        if not batched:
            weights = weights.squeeze(0)
        return out, weights
