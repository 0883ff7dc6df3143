"""The adding problem as a benchmark: one small model and one trainer shared by chapters 04-06.

Task (Hochreiter & Schmidhuber 1997, see :func:`helpers.data.adding_problem`): read T pairs
(number, mark) and output the sum of the two marked numbers. One marked position lies in each
half of the sequence, so the model must carry a number across about T/2 steps. Predicting the
constant 1 gives MSE = 1/6 ≈ 0.167 (``ADDING_BASELINE_MSE``): a model that stays near that has
learned nothing.

Model: ``torch.nn.RNN`` (tanh) / ``nn.LSTM`` / ``nn.GRU`` with ``batch_first=True`` and a linear
head on the last hidden state::

    h_1 .. h_T = recurrent layer(x_1 .. x_T)
    ŷ          = w · h_T + b

Measured (one thread per run; 20 seed offsets ``SEQCOURSE_SEED=0..19``, i.e. 20 different
seeds) with ``n_train=4000, hidden_size=32, batch_size=64, lr=1e-2, clip=1.0``, test set =
1000 fresh sequences. "solved" = test MSE <= 0.01, epoch = first epoch with test MSE <= 0.05:

==========================================  ================================================
setting (T = 30)                            test MSE / epochs over the seeds
==========================================  ================================================
rnn, 8 epochs (the default budget)          at the baseline (0.15-0.19)
rnn, 12 epochs, keep_best                   0.119-0.178 over 80 runs: never solved
lstm, 8 epochs, forget_bias=0 (default)     2 of 20 not solved after 8 epochs (they leave
                                            the plateau at epoch 5-9); 20 of 20 by epoch 14
lstm, forget_bias=1, 14 epochs              solved in 20 of 20; epoch 4-7 (one seed: 11)
lstm, forget_bias=1, epochs=12,             0.0010-0.0064 over 80 runs (median 0.0022);
  stop_mse=0.003, keep_best=True            stops after 6-12 epochs (median 8)
lstm, lr_decay=0.85                         slower off the plateau; 1 of 20 not solved
lstm, n_train=2000, batch_size=32           3 of 80 not solved in 12 epochs
lstm T=60, forget_bias 0 / 1, 12 epochs     epoch 6-12, 1 of 10 not solved / epoch 6-9
==========================================  ================================================

So T = 30 is a length at which, with this budget, the plain RNN fails and the LSTM succeeds,
provided it trains until it has left the plateau: every model first sits at ≈ 0.167 (it
predicts the mean) and then drops suddenly once it has learned to find the marks, and *when*
that happens varies from seed to seed (early stopping on a validation set turns that into a
variable number of epochs instead of a failed run).
"""
from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from . import checks
from .data import ADDING_BASELINE_MSE, adding_problem
from .env import set_seed
from .train import BAR_FORMAT, History, batches

KINDS = ("rnn", "lstm", "gru")
LAYERS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
TEST_SEED_OFFSET = 10_000   # the test set is drawn from another seed than the training set
VAL_SEED_OFFSET = 20_000    # and the validation set (early stopping) from a third one

__all__ = ["ADDING_BASELINE_MSE", "AddingModel", "KINDS", "adding_loss", "evaluate", "lstm_gates", "mark_positions",
           "gate_summary", "memory_unit", "plot_memory_unit",
           "plot_runs", "train_adding"]


class AddingModel(nn.Module):
    """A one-layer recurrent network (``kind`` = 'rnn' | 'lstm' | 'gru') and a linear head on h_T.

    forward: x (B, T, input_size) -> ŷ (B,)
    """

    def __init__(self, kind: str = "lstm", hidden_size: int = 32, input_size: int = 2,
                 forget_bias: float = 0.0):
        super().__init__()
        self.kind = checks.choice(kind, "kind", KINDS)
        checks.positive_int(hidden_size, "hidden_size")
        checks.positive_int(input_size, "input_size")
        if isinstance(forget_bias, bool) or not isinstance(forget_bias, (int, float)):
            raise TypeError(f"forget_bias must be a number, got {type(forget_bias).__name__}")
        if forget_bias and kind != "lstm":
            raise ValueError(f"forget_bias is for kind='lstm' only, got kind={kind!r}")
        self.rnn = LAYERS[kind](input_size, hidden_size, batch_first=True)
        if forget_bias:
            H = hidden_size
            with torch.no_grad():   # gate order i, f, g, o: rows H..2H of b_hh are the forget gate's
                self.rnn.bias_hh_l0[H:2 * H] += forget_bias
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        checks.float_tensor(x, "x")
        checks.shape(x, "x", (None, None, self.rnn.input_size), ("B", "T", f"input_size={self.rnn.input_size}"))
        out, _ = self.rnn(x)                   # (B, T, H)
        # ŷ = w · h_T + b
        return self.head(out[:, -1]).squeeze(-1)   # (B,)


def adding_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error of the model's prediction: mean_b (ŷ_b − y_b)²."""
    return nn.functional.mse_loss(model(x), y)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Test MSE of ``model`` on (x, y), in eval mode."""
    model.eval()
    return float(adding_loss(model, x, y))


def train_adding(kind: str, T: int, n_train: int = 4000, epochs: int = 8, hidden_size: int = 32,
                 lr: float = 1e-2, seed: int = 0, clip: float | None = 1.0, batch_size: int = 64,
                 n_test: int = 1000, forget_bias: float = 0.0, progress: bool = True, *,
                 lr_decay: float = 1.0, stop_mse: float | None = None, n_val: int = 1000,
                 keep_best: bool = False) -> tuple[AddingModel, History, float]:
    """Train an :class:`AddingModel` on the adding problem of length ``T``.

    Returns (model, history, test_mse). ``history.metrics`` holds ``{'test_mse': ...}`` after
    every epoch (and ``'val_mse'`` when a validation set is used), so learning curves can be
    plotted. Everything is seeded by ``seed``: the same call gives the same numbers.

    Adam with gradient clipping (total norm ``clip``) on mini-batches, the same loop as
    :func:`helpers.train.fit` (with the defaults below the numbers are identical). Options, all
    off by default:

    - ``forget_bias``: added to the LSTM's forget-gate bias at initialisation (f ≈ σ(1) = 0.73
      for 1 instead of 0.5), so the cell path forgets less before anything is learned.
    - ``lr_decay``: the learning rate of epoch e (from 0) is ``lr * lr_decay**e``.
    - ``stop_mse``: early stopping on a validation set (``n_val`` fresh sequences, another seed
      than training and test): stop after the first epoch whose validation MSE is <= stop_mse.
    - ``keep_best``: at the end, restore the weights of the epoch with the lowest validation MSE.
    ``epochs`` is then the most epochs trained; ``len(history.loss)`` is the number trained.
    """
    checks.choice(kind, "kind", KINDS)
    checks.positive_int(T, "T")
    checks.positive_int(n_train, "n_train")
    checks.positive_int(n_test, "n_test")
    checks.positive_int(n_val, "n_val")
    checks.positive_int(epochs, "epochs")
    for value, name in ((lr, "lr"), (lr_decay, "lr_decay")):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name} must be a number > 0, got {value!r}")
    if stop_mse is not None and (isinstance(stop_mse, bool) or not isinstance(stop_mse, (int, float))
                                 or not stop_mse > 0):
        raise ValueError(f"stop_mse must be None or a number > 0, got {stop_mse!r}")
    if clip is not None and not clip > 0:
        raise ValueError(f"clip must be None or a number > 0, got {clip!r}")
    x, y = adding_problem(n_train, T, seed=seed)                       # (N, T, 2), (N,)
    x_test, y_test = adding_problem(n_test, T, seed=seed + TEST_SEED_OFFSET)
    validate = stop_mse is not None or keep_best
    if validate:
        x_val, y_val = adding_problem(n_val, T, seed=seed + VAL_SEED_OFFSET)
    set_seed(seed)
    model = AddingModel(kind, hidden_size, forget_bias=forget_bias)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history, best = History(), (float("inf"), None)
    bar = tqdm(range(epochs), desc=f"{kind.upper()} T={T}", bar_format=BAR_FORMAT, disable=not progress,
               leave=True)
    for epoch in bar:
        for group in opt.param_groups:                                 # lr_e = lr · decay^e
            group["lr"] = lr * lr_decay ** epoch
        model.train()
        total, norms = 0.0, 0.0
        for idx in batches(n_train, batch_size, shuffle=True, seed=seed * 100003 + epoch):
            loss = adding_loss(model, x[idx], y[idx])
            opt.zero_grad()
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), clip if clip else float("inf"))
            opt.step()
            total += loss.item() * len(idx)
            norms += float(norm) * len(idx)
        history.loss.append(total / n_train)
        history.grad_norm.append(norms / n_train)
        metrics = {"test_mse": evaluate(model, x_test, y_test)}
        if validate:
            metrics["val_mse"] = evaluate(model, x_val, y_val)
            if metrics["val_mse"] < best[0]:
                best = (metrics["val_mse"], copy.deepcopy(model.state_dict()))
        history.metrics.append(metrics)
        bar.set_postfix({"loss": f"{total / n_train:.4f}", **{k: f"{v:.4f}" for k, v in metrics.items()}})
        if stop_mse is not None and metrics["val_mse"] <= stop_mse:
            break
    if keep_best:
        model.load_state_dict(best[1])
    model.eval()
    return model, history, evaluate(model, x_test, y_test)


# ----------------------------------------------------------------------------- what the LSTM learned
@torch.no_grad()
def lstm_gates(model: AddingModel, x: torch.Tensor) -> dict:
    """Replay a trained LSTM :class:`AddingModel` step by step with ``helpers.nn.lstm.lstm_cell``.

    x (N, T, 2) -> {'i', 'f', 'c': arrays (N, T, H) of the input gate, forget gate and cell state,
    'pred': (N,) the prediction w · h_T + b, equal to ``model(x)``}.
    """
    from .nn.lstm import lstm_cell

    if not isinstance(model, AddingModel) or model.kind != "lstm":
        raise TypeError("model must be an AddingModel with kind='lstm'")
    checks.float_tensor(x, "x")
    checks.shape(x, "x", (None, None, 2), ("N", "T", 2))
    rnn = model.rnn
    params = (rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0)
    h = c = torch.zeros(len(x), rnn.hidden_size)
    log = {"i": [], "f": [], "c": []}
    for t in range(x.shape[1]):
        h, c, gates = lstm_cell(x[:, t], (h, c), *params, return_gates=True)
        gates["c"] = c
        for k in log:
            log[k].append(gates[k])
    out = {k: torch.stack(v, dim=1).numpy() for k, v in log.items()}     # (N, T, H)
    out["pred"] = model.head(h).squeeze(-1).numpy()
    return out


def mark_positions(x: torch.Tensor) -> np.ndarray:
    """The two marked time steps of each sequence: x (N, T, 2) -> (N, 2), first mark first."""
    marks = [np.flatnonzero(row) for row in x[..., 1].numpy()]
    if any(len(m) != 2 for m in marks):
        raise ValueError("every sequence must have exactly two marks")
    return np.array(marks)


def gate_summary(gates: dict, x: torch.Tensor) -> dict:
    """Per sequence and unit: mean input gate at the two marks, mean input gate elsewhere, and
    mean forget gate strictly between the marks (where the first number must be kept; NaN when
    the marks are neighbours).

    gates from :func:`lstm_gates`, x (N, T, 2) -> {'i_marks', 'i_rest', 'f_between'}: arrays (N, H).
    """
    marks = mark_positions(x)
    i, f = gates["i"], gates["f"]                                            # (N, T, H)
    N, T, _ = i.shape
    at_mark = np.zeros((N, T), dtype=bool)
    at_mark[np.arange(N)[:, None], marks] = True
    between = (np.arange(T) > marks[:, :1]) & (np.arange(T) < marks[:, 1:])   # (N, T)
    mean = lambda a, m: (a * m[..., None]).sum(1) / m.sum(1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):                     # adjacent marks: NaN
        f_between = mean(f, between)
    return {"i_marks": mean(i, at_mark), "i_rest": mean(i, ~at_mark), "f_between": f_between}


def memory_unit(summary: dict) -> int:
    """The unit that writes at the marks and keeps what it wrote: the largest mean over sequences
    of (i at the marks − i elsewhere) · (f between the marks), from :func:`gate_summary`."""
    score = (summary["i_marks"] - summary["i_rest"]) * summary["f_between"]     # (N, H)
    return int(np.argmax(np.nanmean(score, axis=0)))


# ----------------------------------------------------------------------------- figures
def plot_runs(runs: dict, baseline: float = ADDING_BASELINE_MSE):
    """The spread of several seeds: ``runs`` = {kind: [(model, history, test_mse), ...]}.

    Left: test MSE after every epoch, one line per run. Right: each run's final test MSE as a dot.
    Returns the figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from .plots.plotting import style

    style()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [2.2, 1]})
    colors = {"rnn": "tab:red", "lstm": "tab:blue", "gru": "tab:green"}
    for col, (kind, results) in enumerate(runs.items()):
        for n, (_, history, mse) in enumerate(results):
            curve = [m["test_mse"] for m in history.metrics]
            left.semilogy(range(1, len(curve) + 1), curve, "o-", ms=3, lw=1.5, color=colors[kind], alpha=0.8,
                          label=kind.upper() if n == 0 else None)
            right.semilogy(col + 0.08 * (n - (len(results) - 1) / 2), mse, "o", ms=10, color=colors[kind])
    for ax in (left, right):
        ax.axhline(baseline, color="gray", ls="--", lw=1)
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_xlabel("训练轮数（epoch）")
    left.set_ylabel("测试 MSE（对数轴）")
    left.set_title("每条线是一个种子")
    left.legend(title=f"灰色虚线：基线 {baseline:.3f}")
    right.set_xticks(range(len(runs)), [k.upper() for k in runs])
    right.set_xlim(-0.5, len(runs) - 0.5)
    right.set_title("最终测试 MSE")
    fig.tight_layout()
    return fig


def plot_memory_unit(gates: dict, x: torch.Tensor, unit: int, n: int = 0):
    """Input and forget gate of one unit along sequence ``n``, the marked steps in red. Returns the figure."""
    import matplotlib.pyplot as plt

    from .plots.plotting import style

    style()
    fig, ax = plt.subplots(figsize=(8, 3.4))
    ax.plot(gates["i"][n, :, unit], "o-", ms=4, label=f"输入门 i（单元 {unit}）")
    ax.plot(gates["f"][n, :, unit], "s-", ms=4, label=f"遗忘门 f（单元 {unit}）")
    for m in mark_positions(x[n:n + 1])[0]:
        ax.axvline(m, color="red", alpha=0.3, lw=6)
    ax.set_xlabel("时间步 t（红色 = 被标记的位置）")
    ax.set_ylabel("门的取值")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(loc="center right")
    fig.tight_layout()
    return fig
