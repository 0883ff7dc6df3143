"""One-step and multi-step forecasting of a univariate time series (notes 一 §2.1).

Given the last ``input_len`` values x_{t-L+1..t}, predict the next ``horizon`` values
x_{t+1..t+H}. Two ways to go several steps ahead:

- **recursive** (递归预测): train a one-step model f, then feed its own prediction back:
  x̂_{t+1} = f(x_{t-L+1..t}),  x̂_{t+2} = f(x_{t-L+2..t}, x̂_{t+1}),  ...  (errors can compound)
- **direct** (直接预测): train one model with H outputs, x̂_{t+1..t+H} = g(x_{t-L+1..t}),
  one output per horizon (no feedback, but each output is learned separately).

The baseline every forecast must beat is the naive forecast x̂_{t+h} = x_t ("repeat the last
value"). Splits are by time (train = the past, test = the future); nothing is shuffled across them.
"""
from __future__ import annotations

from typing import Sequence

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


class GRUForecaster(nn.Module):
    """GRU over the window, a linear head on the last hidden state: (N, L) -> (N, n_out).

    n_out = 1 gives the one-step model f (used recursively); n_out = H gives the direct model g.
    residual=True predicts the *change* from the last seen value, ŷ = x_t + (V h_t + c): the model
    starts from the naive forecast and learns a correction to it (easier on a smooth series).
    """

    def __init__(self, hidden_size: int = 32, n_out: int = 1, residual: bool = True) -> None:
        super().__init__()
        checks.positive_int(hidden_size, "hidden_size")
        checks.positive_int(n_out, "n_out")
        self.gru = nn.GRU(1, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, n_out)
        self.n_out = n_out
        self.residual = bool(residual)

    def forward_all(self, X: torch.Tensor) -> torch.Tensor:
        """The head applied at every time step: (N, L) -> (N, L, n_out).

        For the one-step model, output t predicts x_{t+1} from x_1..x_t, so one window gives
        L training targets instead of one (a many-to-many model of equal length).
        """
        checks.float_tensor(X, "X")
        checks.shape(X, "X", (None, None), ("N", "L"))
        H_all, _ = self.gru(X.unsqueeze(-1))            # (N, L, hidden)
        # ŷ_t = V h_t + c            (residual: ŷ_t = x_t + V h_t + c)
        out = self.head(H_all)                          # (N, L, n_out)
        return out + X.unsqueeze(-1) if self.residual else out

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Prediction from the last hidden state: (N, L) -> (N, n_out)."""
        return self.forward_all(X)[:, -1]               # (N, n_out)


def one_step_targets(X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """Next value after every position of each window: cat(X[:, 1:], Y[:, :1]).  -> (N, L)."""
    checks.float_tensor(X, "X")
    checks.shape(X, "X", (None, None), ("N", "L"))
    checks.shape(Y, "Y", (len(X), None), ("N", "H"))
    return torch.cat([X[:, 1:], Y[:, :1]], dim=1)


@torch.no_grad()
def recursive_forecast(model: nn.Module, X: torch.Tensor, horizon: int) -> torch.Tensor:
    """Feed predictions back: slide the window by one, append x̂, predict again.  (N, L) -> (N, H).

    ``model`` maps a window (N, L) to the next value (N, 1).
    """
    checks.float_tensor(X, "X")
    checks.shape(X, "X", (None, None), ("N", "L"))
    checks.positive_int(horizon, "horizon")
    window, preds = X.clone(), []
    for _ in range(horizon):
        # x̂_{t+1} = f(x_{t-L+1..t})
        step = model(window)                            # (N, 1)
        if step.shape != (len(X), 1):
            raise ValueError(f"recursive forecasting needs a one-step model returning (N, 1), got {tuple(step.shape)}")
        preds.append(step)
        window = torch.cat([window[:, 1:], step], dim=1)  # drop the oldest, append the prediction
    return torch.cat(preds, dim=1)                      # (N, H)


@torch.no_grad()
def direct_forecast(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    """One forward pass, one output per horizon: x̂_{t+1..t+H} = g(x_{t-L+1..t}).  (N, L) -> (N, H)."""
    checks.float_tensor(X, "X")
    checks.shape(X, "X", (None, None), ("N", "L"))
    return model(X)


def mae_by_horizon(pred: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """Mean absolute error for each horizon h: MAE_h = mean_i |ŷ_{i,h} − y_{i,h}|.  (N, H) -> (H,)."""
    checks.float_tensor(pred, "pred")
    checks.float_tensor(Y, "Y")
    if pred.shape != Y.shape:
        raise ValueError(f"pred and Y must have the same shape (N, H), got {tuple(pred.shape)} and {tuple(Y.shape)}")
    return (pred - Y).abs().mean(dim=0)
