"""Linear attention is an RNN (chapter 10, part 2): the masked form and the recurrent form.

Softmax attention (chapter 07) weighs value v_s by exp(q_t·k_s/√d). Linear attention
(Katharopoulos, Vyas, Pappas, Fleuret 2020, "Transformers are RNNs") replaces that similarity by
a product of feature maps, sim(q, k) = φ(q)·φ(k) with φ(x) = elu(x) + 1 > 0. Causal, position t::

    y_t = Σ_{s≤t} (φ(q_t)·φ(k_s)) v_s  /  Σ_{s≤t} φ(q_t)·φ(k_s)                 masked form

Because φ(q_t) does not depend on s it comes out of both sums::

    S_t = S_{t−1} + φ(k_t) v_tᵀ        (d_k × d_v matrix state)
    z_t = z_{t−1} + φ(k_t)             (d_k vector, for the denominator)
    y_t = S_tᵀ φ(q_t) / (z_t·φ(q_t))                                               recurrent form

The masked form computes a (T, T) matrix at once (parallel, for training); the recurrent form
carries a state whose size does not depend on t (for generation: no growing KV cache).

Decay (one exact step further). Multiply the state by a scalar γ_t ∈ (0, 1] before each write::

    S_t = γ_t S_{t−1} + φ(k_t) v_tᵀ,    z_t = γ_t z_{t−1} + φ(k_t)

A constant γ per head is the decay of RetNet's retention (Sun et al. 2023) -- only the decay:
retention has no feature map φ, no denominator (GroupNorm instead) and rotates q, k by position.
A scalar γ_t computed from the input, per head, is Mamba-2's gate (Dao & Gu 2024); gated linear
attention (GLA, Yang et al. 2023) gates with a data-dependent vector over d_k instead (not here).
Unrolled, position s reaches t with weight Π_{r=s+1..t} γ_r, so the masked form only gains a
decay mask D::

    D_{ts} = Π_{r=s+1..t} γ_r  (s ≤ t),  0  (s > t)
    y_t = Σ_s D_{ts} (φ(q_t)·φ(k_s)) v_s / Σ_s D_{ts} φ(q_t)·φ(k_s)

and the two forms stay equal. The recurrence is h_t = a_t ⊙ h_{t−1} + b_t with a_t = γ_t and
b_t = φ(k_t) v_tᵀ: part 1's scan runs it in parallel (``mode="scan"``).
``normalize=False`` drops the denominator (RetNet and Mamba-2 normalise the output otherwise).

Shapes: q, k (B, T, d_k), v (B, T, d_v); decay None, a number in (0, 1] or a (B, T) tensor.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .. import checks

MODES = ("loop", "scan")


def feature_map(x: torch.Tensor) -> torch.Tensor:
    """φ(x) = elu(x) + 1: positive, so the weights φ(q)·φ(k) and the denominator are > 0."""
    return torch.nn.functional.elu(x) + 1


def _check(q, k, v, decay):
    checks.float_tensor(q, "q")
    checks.float_tensor(k, "k", q.dtype)
    checks.float_tensor(v, "v", q.dtype)
    checks.shape(q, "q", (None, None, None), ("B", "T", "d_k"))
    B, T, dk = q.shape
    checks.shape(k, "k", (B, T, dk), (f"B={B}", f"T={T}", f"d_k={dk}"))
    checks.shape(v, "v", (B, T, None), (f"B={B}", f"T={T}", "d_v"))
    if T == 0:
        raise ValueError(f"q must hold at least one time step, got {tuple(q.shape)}")
    if decay is None:
        return None
    if isinstance(decay, (int, float)) and not isinstance(decay, bool):
        if not 0 < decay <= 1:
            raise ValueError(f"decay must be in (0, 1], got {decay!r}")
        return torch.full((B, T), float(decay), dtype=q.dtype, device=q.device)
    checks.float_tensor(decay, "decay", q.dtype)
    checks.shape(decay, "decay", (B, T), (f"B={B}", f"T={T}"))
    if not bool(((decay > 0) & (decay <= 1)).all()):
        raise ValueError("decay must lie in (0, 1] at every step (a gate γ_t = 0 would erase the state)")
    return decay


def decay_mask(decay: torch.Tensor) -> torch.Tensor:
    """D (B, T, T): D_{ts} = Π_{r=s+1..t} γ_r for s ≤ t, 0 above the diagonal (from cumulative log γ)."""
    c = torch.log(decay).cumsum(-1)                                    # Σ_{r≤t} log γ_r
    diff = c[:, :, None] - c[:, None, :]                               # Σ_{r=s+1..t} log γ_r
    T = decay.shape[1]
    future = torch.ones(T, T, dtype=torch.bool, device=decay.device).triu(1)
    return torch.exp(diff.masked_fill(future, float("-inf")))


def masked_form(q, k, v, decay=None, normalize: bool = True) -> torch.Tensor:
    """Causal linear attention as one (T, T) matrix per sequence: y (B, T, d_v)."""
    decay = _check(q, k, v, decay)
    fq, fk = feature_map(q), feature_map(k)
    # A_{ts} = φ(q_t)·φ(k_s), masked to s ≤ t (times D_{ts} with decay)
    A = fq @ fk.transpose(1, 2)                                        # (B, T, T)
    T = q.shape[1]
    if decay is None:
        A = A * torch.ones(T, T, dtype=q.dtype, device=q.device).tril()
    else:
        A = A * decay_mask(decay)
    y = A @ v                                                          # Σ_s A_ts v_s
    if normalize:
        y = y / A.sum(-1, keepdim=True)                                # / Σ_s A_ts
    return y


def recurrent_form(q, k, v, decay=None, normalize: bool = True, mode: str = "loop",
                   return_state: bool = False):
    """The same y (B, T, d_v), one step at a time with a d_k × d_v state S_t (and z_t).

    mode="loop": a Python loop over t; mode="scan": part 1's parallel scan of S_t = γ_t S_{t−1} + b_t
    (all T states at once, (B, T, d_k, d_v) in memory: that is the price of parallel training).
    ``return_state=True`` also returns the final (S_T, z_T).
    """
    decay = _check(q, k, v, decay)
    checks.choice(mode, "mode", MODES)
    fq, fk = feature_map(q), feature_map(k)
    B, T, dk = q.shape
    dv = v.shape[2]
    if mode == "scan":
        from . import scan

        b = fk[..., :, None] * v[..., None, :]                          # φ(k_t) v_tᵀ, (B, T, d_k, d_v)
        a = (torch.ones(B, T, dtype=q.dtype, device=q.device) if decay is None else decay)
        S = scan.linear_scan(a[..., None, None].expand_as(b), b)        # (B, T, d_k, d_v)
        z = scan.linear_scan(a[..., None].expand_as(fk), fk)            # (B, T, d_k)
        y = (fq[..., :, None] * S).sum(-2)                              # S_tᵀ φ(q_t)
        if normalize:
            y = y / (fq * z).sum(-1, keepdim=True)
        return (y, (S[:, -1], z[:, -1])) if return_state else y
    S = q.new_zeros(B, dk, dv)
    z = q.new_zeros(B, dk)
    ys = []
    for t in range(T):
        g = 1.0 if decay is None else decay[:, t, None]
        # S_t = γ_t S_{t−1} + φ(k_t) v_tᵀ ;  z_t = γ_t z_{t−1} + φ(k_t)
        S = (g[..., None] if decay is not None else g) * S + fk[:, t, :, None] * v[:, t, None, :]
        z = g * z + fk[:, t]
        # y_t = S_tᵀ φ(q_t) / (z_t·φ(q_t))
        y = (fq[:, t, :, None] * S).sum(1)
        if normalize:
            y = y / (fq[:, t] * z).sum(-1, keepdim=True)
        ys.append(y)
    y = torch.stack(ys, 1)
    return (y, (S, z)) if return_state else y


def state_numel(d_k: int, d_v: int, normalize: bool = True) -> int:
    """Numbers in one head's state: d_k·d_v (S) + d_k (z, only with the denominator). No T in it."""
    return d_k * d_v + (d_k if normalize else 0)


# ----------------------------------------------------------------------------- a small language model
class LinearBlock(nn.Module):
    """GPT's pre-LayerNorm block (chapter 08) with multi-head linear attention and a learned decay."""

    def __init__(self, d_model: int, num_heads: int):
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"d_model must be divisible by num_heads, got {d_model} and {num_heads}")
        self.h, self.dk = num_heads, d_model // num_heads
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))
        # one decay per head, γ = sigmoid(θ), from 0.9 to 0.999 (RetNet's spread of per-head decays)
        g = torch.linspace(0.9, 0.999, num_heads)
        self.decay_logit = nn.Parameter(torch.log(g / (1 - g)))

    def heads(self, a):
        B, T, _ = a.shape
        q, k, v = self.qkv(a).chunk(3, -1)
        split = lambda t: t.reshape(B, T, self.h, self.dk).transpose(1, 2).reshape(B * self.h, T, self.dk)
        return split(q), split(k), split(v)

    def forward(self, x):
        B, T, d = x.shape
        q, k, v = self.heads(self.ln1(x))
        g = torch.sigmoid(self.decay_logit).to(x.dtype).repeat(B)[:, None].expand(B * self.h, T)
        y = masked_form(q, k, v, g).reshape(B, self.h, T, self.dk).transpose(1, 2).reshape(B, T, d)
        x = x + self.out(y)
        return x + self.mlp(self.ln2(x))

    def prefill(self, x):
        """All positions x (B, T, d) of a prompt -> (output, state after position T), by the
        recurrent form (O(T), where the masked form would build a T×T matrix per head)."""
        B, T, d = x.shape
        q, k, v = self.heads(self.ln1(x))
        g = torch.sigmoid(self.decay_logit).to(x.dtype).repeat(B)[:, None].expand(B * self.h, T)
        y, state = recurrent_form(q, k, v, g, return_state=True)
        x = x + self.out(y.reshape(B, self.h, T, self.dk).transpose(1, 2).reshape(B, T, d))
        return x + self.mlp(self.ln2(x)), state

    def step(self, x, state):
        """One position x (B, 1, d) with the state (S, z) of all earlier ones -> (output, new state)."""
        B, _, d = x.shape
        q, k, v = self.heads(self.ln1(x))                                  # (B·h, 1, d_k)
        g = torch.sigmoid(self.decay_logit).to(x.dtype).repeat(B)[:, None]  # (B·h, 1)
        S, z = state if state is not None else (x.new_zeros(B * self.h, self.dk, self.dk), x.new_zeros(B * self.h, self.dk))
        fq, fk = feature_map(q[:, 0]), feature_map(k[:, 0])
        S = g[..., None] * S + fk[:, :, None] * v[:, 0, None, :]
        z = g * z + fk
        y = (fq[:, :, None] * S).sum(1) / (fq * z).sum(-1, keepdim=True)
        x = x + self.out(y.reshape(B, 1, d))
        return x + self.mlp(self.ln2(x)), (S, z)


class LinearLM(nn.Module):
    """Chapter 08's small GPT with linear attention and per-head decay instead of softmax attention
    and learned positions (the decay already tells near from far). ``forward`` trains in parallel
    (masked form); ``step`` generates with a state of constant size (recurrent form)."""

    def __init__(self, vocab_size: int, d_model: int = 96, num_heads: int = 4, num_layers: int = 2):
        super().__init__()
        for val, name in ((vocab_size, "vocab_size"), (d_model, "d_model"), (num_heads, "num_heads"),
                          (num_layers, "num_layers")):
            checks.positive_int(val, name)
        self.emb = nn.Embedding(vocab_size, d_model)
        self.blocks = nn.ModuleList(LinearBlock(d_model, num_heads) for _ in range(num_layers))
        self.ln = nn.LayerNorm(d_model)
        self.out = nn.Linear(d_model, vocab_size)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T) ids -> logits (B, T, V), all positions at once."""
        checks.shape(x, "x", (None, None), ("B", "T"))
        h = self.emb(x)
        for block in self.blocks:
            h = block(h)
        return self.out(self.ln(h))

    @torch.no_grad()
    def prefill(self, x: torch.Tensor) -> tuple[torch.Tensor, list]:
        """A whole prompt x (B, T) at once: (logits (B, T, V), the state after it), as ``step`` would leave it."""
        checks.shape(x, "x", (None, None), ("B", "T"))
        h, state = self.emb(x), []
        for block in self.blocks:
            h, s = block.prefill(h)
            state.append(s)
        return self.out(self.ln(h)), state

    @torch.no_grad()
    def step(self, x: torch.Tensor, state: list | None = None) -> tuple[torch.Tensor, list]:
        """The logits of one new position x (B, 1) after the earlier ones summarised in ``state``
        (one (S, z) per block, each of fixed size): (logits (B, 1, V), new state)."""
        checks.shape(x, "x", (None, 1), ("B", "1"))
        h = self.emb(x)
        new = []
        for i, block in enumerate(self.blocks):
            h, s = block.step(h, None if state is None else state[i])
            new.append(s)
        return self.out(self.ln(h)), new


def cache_bytes(cache) -> int:
    """Bytes held by a generation cache: a KV cache [(K, V), ...] or a linear state [(S, z), ...]."""
    return sum(t.numel() * t.element_size() for pair in cache for t in pair)
