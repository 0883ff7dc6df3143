"""A small training loop shared by the notebooks: mini-batches, Adam, optional clipping, tqdm progress."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch
from tqdm.auto import tqdm

from . import checks
from .env import generator

# No elapsed time or rate in the bar: two runs of a notebook print the same text.
BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt}{postfix}"


def count_parameters(model: torch.nn.Module) -> int:
    """Number of trainable numbers in ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def batches(n: int, batch_size: int, shuffle: bool = True, seed: int = 0) -> list[torch.Tensor]:
    """Index tensors that cover range(n) in mini-batches (shuffled with ``seed`` if asked)."""
    checks.positive_int(n, "n")
    checks.positive_int(batch_size, "batch_size")
    order = torch.randperm(n, generator=generator(seed)) if shuffle else torch.arange(n)
    return list(order.split(batch_size))


def sequence_cross_entropy(scores: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """Mean cross-entropy over every position of every sequence, skipping padding.

    scores (B, T, C), targets (B, T) class ids; positions whose target is ``ignore_index`` don't count.
    """
    return torch.nn.functional.cross_entropy(scores.flatten(0, 1), targets.flatten(), ignore_index=ignore_index)


@dataclass
class History:
    loss: list = field(default_factory=list)          # mean training loss per epoch
    grad_norm: list = field(default_factory=list)     # mean gradient norm (before clipping) per epoch
    metrics: list = field(default_factory=list)       # eval_fn(model) per epoch

    @property
    def final_loss(self) -> float:
        return self.loss[-1]


def fit(model: torch.nn.Module, loss_fn: Callable, data: Sequence[torch.Tensor], *, epochs: int,
        batch_size: int = 64, lr: float = 1e-2, clip: float | None = None, seed: int = 0,
        eval_fn: Callable | None = None, desc: str = "训练", weight_decay: float = 0.0,
        progress: bool = True, bar=None) -> History:
    """Train ``model`` with Adam.

    data:    tensors with the examples along dim 0, e.g. (X, Y); mini-batches slice all of them.
    loss_fn: loss_fn(model, *batch) -> scalar loss.
    clip:    if given, clip the gradient's total norm to this value (torch.nn.utils.clip_grad_norm_).
    eval_fn: eval_fn(model) -> dict of numbers, run after each epoch (in eval mode, no grad).
    bar:     a progress bar made beforehand (fit_together makes one per model, in order).
    """
    checks.positive_int(epochs, "epochs")
    if not data or not all(isinstance(t, torch.Tensor) for t in data):
        raise TypeError(f"data must be a non-empty sequence of tensors, got {type(data).__name__}")
    n = len(data[0])
    if any(len(t) != n for t in data):
        raise ValueError(f"all tensors in data must have the same length, got {[len(t) for t in data]}")
    if clip is not None and not clip > 0:
        raise ValueError(f"clip must be None or a number > 0, got {clip!r}")
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    history = History()
    if bar is None:
        bar = tqdm(total=epochs, desc=desc, bar_format=BAR_FORMAT, disable=not progress, leave=True)
    for epoch in range(epochs):
        model.train()
        total, norms, count = 0.0, 0.0, 0
        for idx in batches(n, batch_size, shuffle=True, seed=seed * 100003 + epoch):
            loss = loss_fn(model, *(t[idx] for t in data))
            opt.zero_grad()
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip if clip else float("inf"))
            opt.step()
            total += loss.item() * len(idx)
            norms += float(norm) * len(idx)
            count += len(idx)
        history.loss.append(total / count)
        history.grad_norm.append(norms / count)
        postfix = {"loss": f"{total / count:.4f}"}
        if eval_fn is not None:
            model.eval()
            with torch.no_grad():
                metrics = eval_fn(model)
            history.metrics.append(metrics)
            postfix.update({k: f"{v:.4f}" for k, v in metrics.items()})
        bar.set_postfix(postfix, refresh=False)
        bar.update(1)
    bar.close()
    model.eval()
    return history


def draws_random_numbers(model: torch.nn.Module) -> bool:
    """Whether training ``model`` draws from PyTorch's global generator (dropout), which threads share."""
    return any(isinstance(m, torch.nn.modules.dropout._DropoutNd) and m.p > 0
               or isinstance(getattr(m, "dropout", None), float) and m.dropout > 0
               for m in model.modules())


def side_by_side(jobs: dict, models: dict, total: int, progress: bool = True) -> dict:
    """Run ``jobs[name](bar)`` for every name, each in its own thread, and return name -> result.

    Meant for training independent models (``models[name]``) at the same time: with one PyTorch
    thread per model (helpers.env.set_threads), two models use two CPU cores (where a machine or a
    class server's limit gives a kernel one core, the threads share it and it takes as long as one
    after the other). A job must touch nothing but its own model and read-only data, and draw no
    random numbers from PyTorch's global generator (no dropout, no random loss or evaluation);
    then every model runs the same operations in the same order as alone, and the result is
    exactly that of running the jobs one after another (tests/test_plotting_and_train.py). The jobs
    do run one after another when PyTorch already uses several threads, or when a model has
    dropout; a global-generator draw that slips through anyway is reported with a warning. The bars
    (``total`` updates each, labelled with the name) are made here, in order, so the output does
    not depend on which thread starts first; an error in one job, or an interrupt (the kernel's stop
    button), stops every job at its next bar update (a step of train_lm, an epoch of fit)."""
    import threading
    import warnings
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    if set(jobs) != set(models):
        raise ValueError(f"need one job per model: models {list(models)}, jobs {list(jobs)}")
    if len({id(m) for m in models.values()}) != len(models):
        raise ValueError(f"each job needs its own model: {list(models)} share one")
    if not jobs:
        return {}
    stop = threading.Event()

    class Bar(tqdm):                      # a bar whose update stops its job once stop is set
        def update(self, n=1):
            if stop.is_set():
                raise KeyboardInterrupt("stopped")
            return super().update(n)

    def bar(name):
        return Bar(total=total, desc=name, bar_format=BAR_FORMAT, disable=not progress, leave=True)

    if torch.get_num_threads() > 1 or any(draws_random_numbers(m) for m in models.values()):
        return {name: job(bar(name)) for name, job in jobs.items()}
    bars, rng = {name: bar(name) for name in jobs}, torch.random.get_rng_state()
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        try:
            futures = {name: pool.submit(job, bars[name]) for name, job in jobs.items()}
            wait(futures.values(), return_when=FIRST_EXCEPTION)
            failed = [f.exception() for f in futures.values() if f.done() and f.exception() is not None]
            if failed:
                raise failed[0]
            results = {name: f.result() for name, f in futures.items()}
        except BaseException:
            stop.set()
            for b in bars.values():
                b.close()
            raise
    if not torch.equal(rng, torch.random.get_rng_state()):
        warnings.warn("the jobs drew random numbers from PyTorch's global generator while running side by side: "
                      "the result can change from run to run; draw from a torch.Generator of each job instead",
                      RuntimeWarning, stacklevel=2)
    return results


def fit_together(models: dict, loss_fn: Callable, data: Sequence[torch.Tensor], **kwargs) -> dict:
    """``fit(model, loss_fn, data, desc=name, **kwargs)`` for every model of ``models`` (name ->
    model), at the same time, one thread each (see side_by_side); returns name -> History, exactly
    the histories (and weights) of fitting them one after another. ``loss_fn`` and ``eval_fn``
    serve every model at once, so they must keep no state between calls (not ts.KeepBest)."""
    checks.positive_int(kwargs.get("epochs"), "epochs")
    progress = kwargs.pop("progress", True)
    jobs = {name: (lambda bar, m=m: fit(m, loss_fn, data, bar=bar, **kwargs)) for name, m in models.items()}
    return side_by_side(jobs, models, kwargs["epochs"], progress)
