"""One-step and multi-step forecasting of a univariate time series (notes 一 §2.1).

Given the last ``input_len`` values x_{t-L+1..t}, predict the next ``horizon`` values
x_{t+1..t+H}. Two ways to go several steps ahead:

- **recursive** (递归预测): train a one-step model f, then feed its own prediction back:
  x̂_{t+1} = f(x_{t-L+1..t}),  x̂_{t+2} = f(x_{t-L+2..t}, x̂_{t+1}),  ...  (errors can compound)
- **direct** (直接预测): train one model with H outputs, x̂_{t+1..t+H} = g(x_{t-L+1..t}),
  one output per horizon (no feedback, but each output is learned separately).

The baseline every forecast must beat is the naive forecast x̂_{t+h} = x_t ("repeat the last
value"), and on a seasonal series the seasonal naive x̂_{t+h} = x_{t+h−P} (P = 24 hours, or
365 days for "the same day last year"). Splits are by time (train = the past, test = the future);
nothing is shuffled across them.

Multivariate input: a window can carry F values per step, the target first, then covariates
known in advance (for example the day of the year as sin/cos), X (N, L, F). Recursive
forecasting then appends the prediction together with the next step's known covariates.
"""
from __future__ import annotations

import copy
import math
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from . import checks


def _as_series(series, name: str = "series") -> torch.Tensor:
    """A 1-D float32 tensor from a list, NumPy array or tensor."""
    if isinstance(series, (str, bytes)) or not hasattr(series, "__len__"):
        raise TypeError(f"{name} must be a 1-D sequence of numbers (list, np.ndarray or torch.Tensor), "
                        f"got {type(series).__name__}")
    t = torch.as_tensor(np.asarray(series, dtype=np.float32) if not isinstance(series, torch.Tensor)
                        else series, dtype=torch.float32)
    if t.dim() != 1:
        raise ValueError(f"{name} must be 1-D (T,), got shape {tuple(t.shape)}")
    return t


def split_by_time(series, fractions: Sequence[float] = (0.7, 0.15, 0.15)) -> tuple[torch.Tensor, ...]:
    """Cut ``series`` into consecutive pieces (train = earliest, test = latest); no shuffling.

    fractions: positive numbers summing to 1, e.g. (0.7, 0.15, 0.15) -> (train, val, test).
    """
    x = _as_series(series)
    fractions = tuple(fractions)
    if not fractions or any(not 0 < f <= 1 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions must be numbers in (0, 1] that sum to 1, got {fractions}")
    parts, start = [], 0
    for i, f in enumerate(fractions):
        end = len(x) if i == len(fractions) - 1 else start + round(f * len(x))
        parts.append(x[start:end])
        start = end
    return tuple(parts)


class Standardizer:
    """z = (x − μ) / σ with μ, σ taken from the training part only (no peeking at the future)."""

    def __init__(self, train) -> None:
        x = _as_series(train, "train")
        if len(x) < 2:
            raise ValueError(f"train must have at least 2 values to estimate a spread, got {len(x)}")
        self.mean = float(x.mean())
        self.std = float(x.std())
        if self.std == 0:
            raise ValueError("train is constant (standard deviation 0); cannot standardise")

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        # z = (x − μ) / σ
        return (x - self.mean) / self.std

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        # x = z σ + μ
        return z * self.std + self.mean


def make_windows(series, input_len: int, horizon: int = 1, step: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """(input, target) pairs of a series, the window sliding by ``step`` values.

    X[i] = x[s i : s i+L],  Y[i] = x[s i+L : s i+L+H]  ->  X (N, L), Y (N, H),
    N = ⌊(T − L − H) / s⌋ + 1  (with step s = 1: N = T − L − H + 1, every possible window).
    """
    x = _as_series(series)
    checks.positive_int(input_len, "input_len")
    checks.positive_int(horizon, "horizon")
    checks.positive_int(step, "step")
    n = len(x) - input_len - horizon + 1
    if n < 1:
        raise ValueError(f"series of length {len(x)} is too short for input_len={input_len} and "
                         f"horizon={horizon}: need at least {input_len + horizon} values")
    windows = x.unfold(0, input_len + horizon, step)     # (N, L + H)
    return windows[:, :input_len].clone(), windows[:, input_len:].clone()


def naive_forecast(X: torch.Tensor, horizon: int) -> torch.Tensor:
    """Repeat the last observed value: x̂_{t+h} = x_t for h = 1..H.  X (N, L) -> (N, H)."""
    checks.float_tensor(X, "X")
    checks.shape(X, "X", (None, None), ("N", "L"))
    checks.positive_int(horizon, "horizon")
    return X[:, -1:].expand(-1, horizon).clone()


def seasonal_naive_forecast(X: torch.Tensor, horizon: int, period: int) -> torch.Tensor:
    """Repeat the value one period earlier: x̂_{t+h} = x_{t+h−P} (P = 24 for "same hour yesterday").

    Needs horizon <= period <= L, so that every x_{t+h−P} lies inside the window.  X (N, L) -> (N, H).
    """
    checks.float_tensor(X, "X")
    checks.shape(X, "X", (None, None), ("N", "L"))
    checks.positive_int(horizon, "horizon")
    checks.positive_int(period, "period")
    L = X.shape[1]
    if not horizon <= period <= L:
        raise ValueError(f"need horizon <= period <= input length, got horizon={horizon}, period={period}, L={L}")
    # x_{t+h−P} sits at window position L − P + h − 1 (0-based) for h = 1..H
    return X[:, L - period: L - period + horizon].clone()


def seasonal_naive_from_series(series, t_last: torch.Tensor, horizon: int, period: int) -> torch.Tensor:
    """x̂_{t+h} = x_{t+h−P} read from the whole series (for a period longer than the window).

    t_last (N,): index of each window's last observed value t. Needs t + 1 − P >= 0.  -> (N, H).
    """
    x = _as_series(series)
    checks.positive_int(horizon, "horizon")
    checks.positive_int(period, "period")
    t_last = torch.as_tensor(t_last, dtype=torch.long)
    if horizon > period:
        raise ValueError(f"need horizon <= period, got horizon={horizon}, period={period}")
    if len(t_last) and int(t_last.min()) + 1 - period < 0:
        raise ValueError(f"the earliest window (t = {int(t_last.min())}) has no value one period "
                         f"(P = {period}) before its first target")
    if len(t_last) and int(t_last.max()) >= len(x):
        raise ValueError(f"t_last must index the series (length {len(x)}), got {int(t_last.max())}")
    h = torch.arange(1, horizon + 1)
    return x[t_last[:, None] + h[None, :] - period]          # (N, H)


def windows_between(features, target, input_len: int, horizon: int, start: int, stop: int,
                    step: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every window whose H targets lie in target[start:stop]; its inputs may reach back before start.

    features (T, F) (column 0 is usually the target itself), target (T,).
    -> X (N, L, F), Y (N, H), t_last (N,) the index of each window's last input value.
    Cutting by the targets' dates keeps the test targets in the future while the first test
    windows still see the days just before the test period as input (as a forecaster would).
    """
    f = torch.as_tensor(np.asarray(features, dtype=np.float32) if not isinstance(features, torch.Tensor)
                        else features, dtype=torch.float32)
    y = _as_series(target, "target")
    if f.dim() != 2 or len(f) != len(y):
        raise ValueError(f"features must be (T, F) with T = len(target) = {len(y)}, got {tuple(f.shape)}")
    checks.positive_int(input_len, "input_len")
    checks.positive_int(horizon, "horizon")
    checks.positive_int(step, "step")
    if not 0 <= start < stop <= len(y):
        raise ValueError(f"need 0 <= start < stop <= {len(y)}, got start={start}, stop={stop}")
    first, last = max(start - 1, input_len - 1), stop - 1 - horizon   # t ranges over [first, last]
    if last < first:
        raise ValueError(f"no window of input_len={input_len}, horizon={horizon} has its targets in "
                         f"[{start}, {stop})")
    t_last = torch.arange(first, last + 1, step)
    offsets = torch.arange(-input_len + 1, 1)
    X = f[t_last[:, None] + offsets[None, :]]                           # (N, L, F)
    Y = y[t_last[:, None] + torch.arange(1, horizon + 1)[None, :]]      # (N, H)
    return X, Y, t_last


def day_of_year_features(dates: Sequence[str]) -> torch.Tensor:
    """The season as two smooth numbers: (sin, cos) of 2π·d/365.25 for day of year d.  -> (T, 2).

    dates: strings 'YYYY/MM/DD' or 'YYYY-MM-DD'. 31 December and 1 January land next to each
    other (a plain day number would jump from 365 to 1). Known in advance for any future day.
    """
    import datetime as dt

    days = []
    for d in dates:
        if not isinstance(d, str):
            raise TypeError(f"dates must be strings 'YYYY/MM/DD', got {type(d).__name__}")
        try:
            days.append(dt.date(*map(int, d.replace("-", "/").split("/")[:3])).timetuple().tm_yday)
        except (TypeError, ValueError):
            raise ValueError(f"dates must look like 'YYYY/MM/DD', got {d!r}") from None
    angle = torch.tensor(days, dtype=torch.float32) * (2 * math.pi / 365.25)
    return torch.stack([torch.sin(angle), torch.cos(angle)], dim=1)


class GRUForecaster(nn.Module):
    """GRU over the window, a linear head on the last hidden state: (N, L) -> (N, n_out).

    n_out = 1 gives the one-step model f (used recursively); n_out = H gives the direct model g.
    residual=True predicts the *change* from the last seen value, ŷ = x_t + (V h_t + c): the model
    starts from the naive forecast and learns a correction to it (easier on a smooth series).
    input_size = F > 1: windows (N, L, F), the target in channel 0, covariates after it.
    """

    def __init__(self, hidden_size: int = 32, n_out: int = 1, residual: bool = True,
                 input_size: int = 1) -> None:
        super().__init__()
        checks.positive_int(hidden_size, "hidden_size")
        checks.positive_int(n_out, "n_out")
        checks.positive_int(input_size, "input_size")
        self.gru = nn.GRU(input_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, n_out)
        self.n_out = n_out
        self.input_size = input_size
        self.residual = bool(residual)

    def _steps(self, X: torch.Tensor) -> torch.Tensor:
        """Windows as (N, L, F): a univariate (N, L) gets F = 1."""
        checks.float_tensor(X, "X")
        if X.dim() == 2 and self.input_size == 1:
            return X.unsqueeze(-1)
        checks.shape(X, "X", (None, None, self.input_size), ("N", "L", "F"))
        return X

    def forward_all(self, X: torch.Tensor) -> torch.Tensor:
        """The head applied at every time step: (N, L) or (N, L, F) -> (N, L, n_out).

        For the one-step model, output t predicts x_{t+1} from x_1..x_t, so one window gives
        L training targets instead of one (a many-to-many model of equal length).
        """
        steps = self._steps(X)                          # (N, L, F)
        H_all, _ = self.gru(steps)                      # (N, L, hidden)
        # ŷ_t = V h_t + c            (residual: ŷ_t = x_t + V h_t + c)
        out = self.head(H_all)                          # (N, L, n_out)
        return out + steps[..., :1] if self.residual else out

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Prediction from the last hidden state: (N, L) -> (N, n_out)."""
        return self.forward_all(X)[:, -1]               # (N, n_out)


def one_step_targets(X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """Next value after every position of each window: cat(X[:, 1:], Y[:, :1]).  -> (N, L).

    For windows (N, L, F) the target is channel 0: cat(X[:, 1:, 0], Y[:, :1]).
    """
    checks.float_tensor(X, "X")
    if X.dim() == 3:
        X = X[..., 0]
    checks.shape(X, "X", (None, None), ("N", "L"))
    checks.shape(Y, "Y", (len(X), None), ("N", "H"))
    return torch.cat([X[:, 1:], Y[:, :1]], dim=1)


@torch.no_grad()
def recursive_forecast(model: nn.Module, X: torch.Tensor, horizon: int,
                       future: torch.Tensor | None = None) -> torch.Tensor:
    """Feed predictions back: slide the window by one, append x̂, predict again.  (N, L) -> (N, H).

    ``model`` maps a window (N, L) to the next value (N, 1). With windows (N, L, F) the covariates
    of the coming steps must be known in advance: future (N, H, F − 1), and step h appends the
    row [x̂_{t+h}, future[:, h − 1]].
    """
    checks.float_tensor(X, "X")
    checks.positive_int(horizon, "horizon")
    if X.dim() == 3:
        if future is None:
            raise ValueError("windows (N, L, F) need future (N, H, F - 1): the covariates of the coming steps")
        checks.float_tensor(future, "future")
        checks.shape(future, "future", (len(X), horizon, X.shape[2] - 1), ("N", "H", "F - 1"))
    else:
        checks.shape(X, "X", (None, None), ("N", "L"))
        if future is not None:
            raise ValueError("future covariates need windows (N, L, F); X is (N, L)")
    window, preds = X.clone(), []
    for h in range(horizon):
        # x̂_{t+1} = f(x_{t-L+1..t})
        step = model(window)                            # (N, 1)
        if step.shape != (len(X), 1):
            raise ValueError(f"recursive forecasting needs a one-step model returning (N, 1), got {tuple(step.shape)}")
        preds.append(step)
        new = step if X.dim() == 2 else torch.cat([step, future[:, h]], dim=1)[:, None]
        window = torch.cat([window[:, 1:], new], dim=1)  # drop the oldest, append the prediction
    return torch.cat(preds, dim=1)                      # (N, H)


@torch.no_grad()
def direct_forecast(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    """One forward pass, one output per horizon: x̂_{t+1..t+H} = g(x_{t-L+1..t}).  (N, L[, F]) -> (N, H)."""
    checks.float_tensor(X, "X")
    if X.dim() != 3:
        checks.shape(X, "X", (None, None), ("N", "L"))
    return model(X)


def mae_by_horizon(pred: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """Mean absolute error for each horizon h: MAE_h = mean_i |ŷ_{i,h} − y_{i,h}|.  (N, H) -> (H,)."""
    checks.float_tensor(pred, "pred")
    checks.float_tensor(Y, "Y")
    if pred.shape != Y.shape:
        raise ValueError(f"pred and Y must have the same shape (N, H), got {tuple(pred.shape)} and {tuple(Y.shape)}")
    return (pred - Y).abs().mean(dim=0)


class KeepBest:
    """``eval_fn`` for ``helpers.train.fit`` that remembers the weights with the lowest validation error.

        keep = KeepBest(lambda m: val_mae(m))
        fit(model, loss_fn, data, epochs=40, eval_fn=keep)
        keep.restore(model)        # early stopping on the validation set, without stopping early

    ``val_error(model) -> float`` is called after every epoch (fit runs it without gradients).
    """

    def __init__(self, val_error: Callable[[nn.Module], float], name: str = "val") -> None:
        if not callable(val_error):
            raise TypeError(f"val_error must be a function model -> float, got {type(val_error).__name__}")
        self.val_error, self.name = val_error, name
        self.best, self.epoch, self.state, self._epochs = math.inf, -1, None, 0

    def __call__(self, model: nn.Module) -> dict:
        error = float(self.val_error(model))
        if error < self.best:                      # NaN never counts as better
            self.best, self.epoch = error, self._epochs
            self.state = copy.deepcopy(model.state_dict())
        self._epochs += 1
        return {self.name: error}

    def restore(self, model: nn.Module) -> nn.Module:
        """Load the best weights seen so far into ``model`` (and return it)."""
        if self.state is None:
            raise RuntimeError("KeepBest has not seen a finite validation error yet: train with eval_fn=keep first")
        model.load_state_dict(self.state)
        return model
