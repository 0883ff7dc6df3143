"""Fair timing of two models (chapter 06, LSTM vs GRU) and the update-gate plot.

A single timing says little: the first model to run pays for warm-up (caches, allocator), and a
busy machine slows whatever runs at that moment. So :func:`time_alternating` runs the candidates
in rounds, reverses their order every round (A B, B A, A B, ...), and keeps every measurement;
the notebook reports the median. Nothing here asserts which model is faster: that depends on
the machine, the library version and the sizes, and the course prints the measured numbers only.
"""
from __future__ import annotations

import copy
import statistics
import time
from typing import Callable

import numpy as np
import torch

from . import checks

__all__ = ["time_alternating", "median_ms", "train_step", "inference", "speed_rows",
           "plot_update_gate"]


def time_alternating(fns: dict, repeats: int = 5, number: int = 3, warmup: int = 1) -> dict:
    """Seconds per call of each function in ``fns`` (name -> no-argument callable).

    Every function first runs ``warmup`` times untimed. Then, in each of ``repeats`` rounds, each
    function runs ``number`` times in a row and the mean of those calls is one measurement; the
    order of the functions is reversed every other round, so none is always first.
    Returns {name: [seconds per call, one per round]}.
    """
    if not isinstance(fns, dict) or not fns or not all(callable(f) for f in fns.values()):
        raise TypeError(f"fns must be a non-empty dict of name -> callable, got {fns!r}")
    checks.positive_int(repeats, "repeats")
    checks.positive_int(number, "number")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be an int >= 0, got {warmup!r}")
    names = list(fns)
    for name in names:
        for _ in range(warmup):
            fns[name]()
    times: dict = {name: [] for name in names}
    for round_ in range(repeats):
        for name in (names if round_ % 2 == 0 else names[::-1]):
            start = time.perf_counter()
            for _ in range(number):
                fns[name]()
            times[name].append((time.perf_counter() - start) / number)
    return times


def median_ms(seconds: list) -> float:
    """The median of a list of seconds, in milliseconds."""
    return 1000.0 * statistics.median(seconds)


def train_step(model: torch.nn.Module, loss_fn: Callable, x: torch.Tensor, y: torch.Tensor,
               lr: float = 1e-2) -> Callable:
    """A no-argument function that does one Adam training step (forward, backward, update).

    It trains a private copy of ``model``, so timing never changes the model passed in.
    """
    model = copy.deepcopy(model).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def step():
        optimizer.zero_grad()
        loss_fn(model, x, y).backward()
        optimizer.step()

    return step


def inference(model: torch.nn.Module, x: torch.Tensor) -> Callable:
    """A no-argument function that runs ``model(x)`` in eval mode without gradients."""
    model = copy.deepcopy(model).eval()

    def run():
        with torch.no_grad():
            model(x)

    return run


def speed_rows(models: dict, loss_fn: Callable, x: torch.Tensor, y: torch.Tensor,
               repeats: int = 5, number: int = 3) -> list:
    """Median training-step time and inference time per sequence of each model (alternated).

    models: name -> model taking x (B, T, I). Inference is timed twice: the whole batch at once
    (ms per sequence = batch time / B) and one sequence alone (the latency of a single request).
    Returns one dict per model with the medians and the raw measurements.
    """
    if not isinstance(models, dict) or not models:
        raise TypeError("models must be a non-empty dict of name -> model, "
                        f"got {type(models).__name__}")
    B = x.shape[0]
    fns = {}
    for name, model in models.items():
        fns[(name, "train")] = train_step(model, loss_fn, x, y)
        fns[(name, "batch")] = inference(model, x)
        fns[(name, "one")] = inference(model, x[:1])
    times = time_alternating(fns, repeats=repeats, number=number)
    rows = []
    for name in models:
        rows.append({"name": name,
                     "train_ms": median_ms(times[(name, "train")]),
                     "infer_ms_per_seq": median_ms(times[(name, "batch")]) / B,
                     "infer_ms_one": median_ms(times[(name, "one")]),
                     "raw": {k: times[(name, k)] for k in ("train", "batch", "one")}})
    return rows


def plot_update_gate(z: np.ndarray, marks, units, title: str = "", ax=None):
    """Plot z_t of the given hidden units over time, with the marked positions shaded red.

    z: (T, H) update-gate values; marks: the marked time steps; units: which columns to draw.
    """
    import matplotlib.pyplot as plt

    z = np.asarray(z)
    if z.ndim != 2:
        raise ValueError(f"z must be (T, H), got shape {z.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.8))
    for u in units:
        ax.plot(z[:, u], "o-", ms=4, label=f"单元 {u}")
    for m in marks:
        ax.axvline(m, color="red", alpha=0.3, lw=8)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("时间步 t（红色 = 被标记的位置）")
    ax.set_ylabel("更新门 z")
    if title:
        ax.set_title(title)
    ax.legend(loc="lower left")
    return ax
