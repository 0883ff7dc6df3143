"""Chapter 10 (part 1): minGRU / minLSTM on the course's own tasks, and the scan's clock.

* ``AddingMin``: the adding problem's model of chapter 04 (``helpers.adding.AddingModel``) with a
  minGRU or minLSTM layer in place of the RNN/LSTM/GRU; same interface (x (B, T, 2) -> ŷ (B,)),
  so ``helpers.adding.adding_loss`` / ``evaluate`` and ``helpers.train.fit`` work unchanged.
* ``CharMinGRU``: chapter 08's character language model (``helpers.lm.CharLSTM``) with stacked
  minGRU layers in place of the LSTM; same interface (ids (B, T) -> logits (B, T, V)).
* ``time_scan``: the wall time of the loop and of the parallel scan for one (B, T, H) problem.
* ``time_per_step``: the wall time of one training step (forward, backward, Adam) of a model.
"""
from __future__ import annotations

import time

import torch
from torch import nn

from . import checks
from .adding import adding_loss, evaluate
from .data import adding_problem
from .env import set_seed
from .nn import scan
from .nn.mingru import MinGRU, MinLSTM
from .train import fit

CELLS = {"mingru": MinGRU, "minlstm": MinLSTM}
TEST_SEED_OFFSET = 10_000          # as helpers.adding: the test set comes from another seed

__all__ = ["AddingMin", "CELLS", "CharGRU", "CharMinGRU", "time_per_step", "time_scan", "train_adding_min"]


class AddingMin(nn.Module):
    """A minGRU / minLSTM layer and a linear head on h_T: x (B, T, 2) -> ŷ (B,)."""

    def __init__(self, cell: str = "mingru", hidden_size: int = 32, input_size: int = 2,
                 mode: str = "parallel"):
        super().__init__()
        self.kind = checks.choice(cell, "cell", tuple(CELLS))
        self.rnn = CELLS[cell](input_size, hidden_size)
        self.head = nn.Linear(hidden_size, 1)
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        checks.float_tensor(x, "x")
        _, h_T = self.rnn(x, mode=self.mode)          # (B, H)
        # ŷ = w · h_T + b
        return self.head(h_T).squeeze(-1)             # (B,)


def train_adding_min(cell: str, T: int, n_train: int = 4000, epochs: int = 8, hidden_size: int = 32,
                     lr: float = 1e-2, seed: int = 0, clip: float = 1.0, batch_size: int = 64,
                     n_test: int = 1000, progress: bool = True):
    """Train an :class:`AddingMin` with the budget of ``helpers.adding.train_adding`` (same data,
    same test set, Adam, clipping, mini-batches). Returns (model, history, test_mse)."""
    checks.positive_int(T, "T")
    x, y = adding_problem(n_train, T, seed=seed)
    x_test, y_test = adding_problem(n_test, T, seed=seed + TEST_SEED_OFFSET)
    set_seed(seed)
    model = AddingMin(cell, hidden_size)
    history = fit(model, adding_loss, (x, y), epochs=epochs, batch_size=batch_size, lr=lr, clip=clip,
                  seed=seed, eval_fn=lambda m: {"test_mse": evaluate(m, x_test, y_test)},
                  desc=f"{cell} T={T}", progress=progress)
    model.trained_on = {"T": T, "seed": seed}     # what it was trained on (chapter 10's checker reads T)
    return model, history, evaluate(model, x_test, y_test)


class CharGRU(nn.Module):
    """Embedding -> one ``torch.nn.GRU`` layer -> linear (chapter 08's CharLSTM with a GRU)."""

    def __init__(self, vocab_size: int, emb_size: int = 64, hidden_size: int = 128):
        super().__init__()
        for v, name in ((vocab_size, "vocab_size"), (emb_size, "emb_size"), (hidden_size, "hidden_size")):
            checks.positive_int(v, name)
        self.emb = nn.Embedding(vocab_size, emb_size)
        self.gru = nn.GRU(emb_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, vocab_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T) character ids -> logits (B, T, V)."""
        checks.shape(x, "x", (None, None), ("B", "T"))
        h, _ = self.gru(self.emb(x))             # (B, T, H)
        return self.out(h)


class CharMinGRU(nn.Module):
    """Embedding -> ``num_layers`` minGRU layers (each x + minGRU(LayerNorm(x))) -> linear."""

    def __init__(self, vocab_size: int, emb_size: int = 64, hidden_size: int = 128, num_layers: int = 2):
        super().__init__()
        for v, name in ((vocab_size, "vocab_size"), (emb_size, "emb_size"), (hidden_size, "hidden_size"),
                        (num_layers, "num_layers")):
            checks.positive_int(v, name)
        self.emb = nn.Embedding(vocab_size, emb_size)
        self.inp = nn.Linear(emb_size, hidden_size)
        self.norms = nn.ModuleList(nn.LayerNorm(hidden_size) for _ in range(num_layers))
        self.layers = nn.ModuleList(MinGRU(hidden_size, hidden_size) for _ in range(num_layers))
        self.ln = nn.LayerNorm(hidden_size)
        self.out = nn.Linear(hidden_size, vocab_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T) character ids -> logits (B, T, V)."""
        checks.shape(x, "x", (None, None), ("B", "T"))
        h = self.inp(self.emb(x))                                  # (B, T, H)
        for norm, layer in zip(self.norms, self.layers):
            h = h + layer(norm(h))[0]                              # residual, as in a Transformer block
        return self.out(self.ln(h))


def _clock(fn, repeat: int, cpu: bool = False) -> float:
    """Best of ``repeat`` runs after one warm-up: wall time, or with ``cpu`` this process's CPU
    time (``time.process_time``), which other programs on a busy machine do not inflate."""
    now = time.process_time if cpu else time.perf_counter
    fn()                                            # warm-up (allocations, first-call costs)
    best = float("inf")
    for _ in range(repeat):
        start = now()
        fn()
        best = min(best, now() - start)
    return best


def time_scan(T: int, batch: int = 16, hidden: int = 64, repeat: int = 3, backward: bool = False,
              seed: int = 0, cpu: bool = False, methods: tuple = ("loop", "scan", "log")) -> dict:
    """Best-of-``repeat`` seconds of ``linear_scan_loop``, ``linear_scan`` and ``linear_scan_log``
    on one random float32 problem a, b: (batch, T, hidden); with ``backward`` forward + backward;
    with ``cpu`` CPU time instead of wall time (see ``_clock``)."""
    checks.positive_int(T, "T")
    gen = torch.Generator().manual_seed(seed)
    a = torch.rand(batch, T, hidden, generator=gen) * 0.5 + 0.5
    b = torch.rand(batch, T, hidden, generator=gen) + 0.1
    runs = {"loop": lambda a, b: scan.linear_scan_loop(a, b),
            "scan": lambda a, b: scan.linear_scan(a, b),
            "log": lambda a, b: scan.linear_scan_log(a.log(), b.log())}
    unknown = set(methods) - set(runs)
    if unknown:
        raise ValueError(f"methods must be among {tuple(runs)}, got {tuple(methods)}")
    out = {}
    for name, run in ((m, runs[m]) for m in methods):
        if backward:
            def step(run=run):
                aa, bb = a.clone().requires_grad_(), b.clone().requires_grad_()
                run(aa, bb).sum().backward()
        else:
            def step(run=run):
                with torch.no_grad():
                    run(a, b)
        out[name] = _clock(step, repeat, cpu)
    return out


def time_per_step(model: nn.Module, loss_fn, batch: tuple, lr: float = 1e-3, repeat: int = 5,
                  cpu: bool = False) -> float:
    """Best-of-``repeat`` seconds of one training step (forward, backward, Adam) on ``batch``."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    state = {k: v.clone() for k, v in model.state_dict().items()}

    def step():
        loss = loss_fn(model, *batch)
        opt.zero_grad()
        loss.backward()
        opt.step()

    model.train()
    seconds = _clock(step, repeat, cpu)
    model.load_state_dict(state)                    # timing does not train the model
    model.eval()
    return seconds
