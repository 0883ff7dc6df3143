"""Judging forecasts honestly (chapter 09, part 2): prices against the random walk, anomaly flags against labels.

Prices (notes 一 §1: stock prices):

- ``log_returns(prices)``: r_t = ln p_t − ln p_{t−1}. A forecaster is judged on returns, not prices.
- ``panel_windows(series, input_len, horizon, start, stop, scale)``: windows of the returns of
  several symbols cut by the targets' dates (train = past, test = future), pooled into one (N, L).
- ``naive_returns(log_price, t_last, horizon, strategy)``: sktime's ``NaiveForecaster`` refit on
  each window's history: "last" is the random walk p̂_{t+h} = p_t (predicted return 0), "drift"
  the straight line through the first and last value, "mean" the mean of the history.
- ``r2(pred, actual)`` = 1 − Σ(ŷ − y)² / Σ(y − ȳ)²; ``direction_accuracy(pred, actual)``: the share
  of correct signs with its 95 % Wilson interval (scipy's ``binomtest``).
- ``lag_correlation(pred, actual, lags)``: corr(ŷ_t, y_{t−k}); a forecast that copies yesterday
  peaks at k = 1 (it lags the series by one step).

Anomalies (notes 一 §1: sensor anomaly detection):

- ``inject_spikes(series, start, stop, sizes, seed)``: add labelled spikes at random days.
- ``online_residuals(model, z, start, stop, input_len, threshold)``: one-step errors, day by day;
  a flagged value is replaced by its forecast before it enters later windows (else the next
  forecast copies the spike and flags a second, false, day).
- ``precision_recall(flags, labels)``; ``diff_windows(z, idx, half)``: the features of a window
  centred on each day, for a library detector (scikit-learn's ``IsolationForest``).
- ``plot_detection(...)``, ``plot_price_lag(...)``: the chapter's two figures.
"""
from __future__ import annotations

import warnings
from typing import Mapping, Sequence

import numpy as np
import torch

from . import checks
from .env import rng

NAIVE_STRATEGIES = ("last", "drift", "mean")


def _array(values, name: str, ndim: int = 1) -> np.ndarray:
    """A float64 NumPy array of ``ndim`` dimensions from a list, array or tensor; clear error if not."""
    if isinstance(values, (str, bytes)) or values is None:
        raise TypeError(f"{name} must be a sequence of numbers (list, np.ndarray or torch.Tensor), "
                        f"got {type(values).__name__}")
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must hold numbers, got {type(values).__name__}") from None
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return arr


def _pair(pred, actual) -> tuple[np.ndarray, np.ndarray]:
    p, a = _array(pred, "pred", np.ndim(pred)), _array(actual, "actual", np.ndim(actual))
    if p.shape != a.shape or p.size == 0:
        raise ValueError(f"pred and actual must have the same non-empty shape, got {p.shape} and {a.shape}")
    return p.ravel(), a.ravel()


# ----------------------------------------------------------------------------- prices
def log_returns(prices) -> np.ndarray:
    """r_t = ln p_t − ln p_{t−1} for t = 1..T−1 (prices must be > 0).  (T,) -> (T − 1,)."""
    p = _array(prices, "prices")
    if len(p) < 2:
        raise ValueError(f"prices needs at least 2 values for one return, got {len(p)}")
    if (p <= 0).any():
        raise ValueError("prices must be > 0 for log returns")
    return np.diff(np.log(p))


def panel_windows(series: Mapping[str, tuple], input_len: int, horizon: int, start: str, stop: str,
                  scale: float = 1.0):
    """Windows of several return series whose H targets fall in [start, stop), pooled.

    series: {symbol: (dates, returns)} with dates 'YYYY-MM-DD' ascending (the date of each return).
    -> X (N, L), Y (N, H) float32 (returns divided by ``scale``), and meta: a list of
    (symbol, index of the window's last input in that symbol's returns), one per window.
    The inputs of the first windows may reach back before ``start`` (a forecaster sees the past).
    """
    from .timeseries import windows_between

    if not isinstance(series, Mapping) or not series:
        raise TypeError(f"series must be a non-empty dict symbol -> (dates, returns), got {type(series).__name__}")
    checks.positive_int(input_len, "input_len")
    checks.positive_int(horizon, "horizon")
    if not isinstance(start, str) or not isinstance(stop, str) or not start < stop:
        raise ValueError(f"start and stop must be dates 'YYYY-MM-DD' with start < stop, got {start!r}, {stop!r}")
    if not scale > 0:
        raise ValueError(f"scale must be a number > 0, got {scale!r}")
    Xs, Ys, meta = [], [], []
    for symbol, (dates, returns) in series.items():
        r = _array(returns, f"series[{symbol!r}] returns")
        if len(dates) != len(r):
            raise ValueError(f"series[{symbol!r}]: {len(dates)} dates for {len(r)} returns")
        lo = sum(d < start for d in dates)
        hi = sum(d < stop for d in dates)
        if hi - lo < horizon or hi < input_len + horizon:
            continue                                      # no window of this symbol in the period
        z = torch.tensor(r / scale, dtype=torch.float32)
        X, Y, t_last = windows_between(z[:, None], z, input_len, horizon, max(lo, input_len), hi)
        Xs.append(X[..., 0])
        Ys.append(Y)
        meta += [(symbol, int(t)) for t in t_last]
    if not Xs:
        raise ValueError(f"no symbol has a window of input_len={input_len}, horizon={horizon} "
                         f"with its targets in [{start}, {stop})")
    return torch.cat(Xs), torch.cat(Ys), meta


def naive_returns(log_price, t_last: Sequence[int], horizon: int, strategy: str = "last") -> np.ndarray:
    """Returns predicted by sktime's ``NaiveForecaster(strategy)``, refit on each window's history.

    log_price (T,): ln p of one symbol; t_last: for each window, the index t of its last known
    price (the forecaster sees ln p_0..ln p_t). -> (N, H): r̂_{t+h} = ln p̂_{t+h} − ln p̂_{t+h−1}
    (with ln p̂_t = ln p_t). "last": every r̂ = 0 (the random walk); "drift": the mean return of
    the history; "mean": the forecast pulls the price back to its historical mean.
    """
    import pandas as pd
    from sktime.forecasting.naive import NaiveForecaster

    lp = _array(log_price, "log_price")
    checks.positive_int(horizon, "horizon")
    checks.choice(strategy, "strategy", NAIVE_STRATEGIES)
    t_last = [int(t) for t in t_last]
    if t_last and (min(t_last) < 1 or max(t_last) >= len(lp)):
        raise ValueError(f"t_last must lie in [1, {len(lp) - 1}] (a history of >= 2 prices), got "
                         f"[{min(t_last)}, {max(t_last)}]")
    out = np.zeros((len(t_last), horizon))
    fh = list(range(1, horizon + 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)    # sktime 1.2 announces a default change
        for i, t in enumerate(t_last):
            history = pd.Series(lp[: t + 1])
            path = NaiveForecaster(strategy=strategy).fit(history).predict(fh=fh).to_numpy()
            out[i] = np.diff(np.concatenate([[lp[t]], path]))
    return out


def mse(pred, actual) -> float:
    """Mean squared error: mean (ŷ − y)²."""
    p, a = _pair(pred, actual)
    return float(((p - a) ** 2).mean())


def r2(pred, actual) -> float:
    """Coefficient of determination: R² = 1 − Σ(ŷ − y)² / Σ(y − ȳ)² (<= 0: no better than the mean)."""
    p, a = _pair(pred, actual)
    total = ((a - a.mean()) ** 2).sum()
    if total == 0:
        raise ValueError("actual is constant: R² is undefined")
    return float(1 - ((p - a) ** 2).sum() / total)


def direction_accuracy(pred, actual, confidence: float = 0.95) -> tuple[float, float, float]:
    """Share of windows whose predicted sign matches the actual sign, with its Wilson interval.

    Days with an actual return of exactly 0 count as "down" (not up). -> (accuracy, low, high).
    """
    from scipy.stats import binomtest

    p, a = _pair(pred, actual)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    hits = int(((p > 0) == (a > 0)).sum())
    ci = binomtest(hits, len(a)).proportion_ci(confidence_level=confidence, method="wilson")
    return hits / len(a), float(ci.low), float(ci.high)


def lag_correlation(pred, actual, lags: Sequence[int] = (0, 1, 2)) -> dict[int, float]:
    """corr(ŷ_t, y_{t−k}) for each lag k >= 0: which past value does the forecast follow?"""
    p, a = _pair(pred, actual)
    out = {}
    for k in lags:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < len(a) - 2:
            raise ValueError(f"lags must be ints in [0, {len(a) - 3}], got {k!r}")
        out[int(k)] = float(np.corrcoef(p[k:], a[: len(a) - k])[0, 1])
    return out


# ----------------------------------------------------------------------------- anomalies
def inject_spikes(series, start: int, stop: int, sizes: Sequence[float], seed: int = 0):
    """Add one spike of each size (random sign) at distinct random positions in [start, stop).

    -> (series with spikes (float64 copy), labels (T,) bool, size (T,) the |size| added at each
    labelled position, 0 elsewhere). Positions and signs come from ``helpers.env.rng(seed)``.
    """
    x = _array(series, "series").copy()
    sizes = [float(s) for s in _array(sizes, "sizes")]
    if not 0 <= start < stop <= len(x):
        raise ValueError(f"need 0 <= start < stop <= {len(x)}, got start={start}, stop={stop}")
    if not sizes or any(s <= 0 for s in sizes):
        raise ValueError(f"sizes must be a non-empty list of numbers > 0, got {sizes}")
    if len(sizes) > stop - start:
        raise ValueError(f"{len(sizes)} spikes do not fit into {stop - start} positions")
    g = rng(seed)
    positions = g.sample(range(start, stop), len(sizes))
    labels, size = np.zeros(len(x), dtype=bool), np.zeros(len(x))
    for p, s in zip(positions, sizes):
        x[p] += s if g.random() < 0.5 else -s
        labels[p], size[p] = True, s
    return x, labels, size


@torch.no_grad()
def online_residuals(model: torch.nn.Module, z, start: int, stop: int, input_len: int, threshold: float,
                     replace: bool = True):
    """One-step errors e_t = z_t − f(z̃_{t−L..t−1}) for t in [start, stop), flagging |e_t| > threshold.

    z̃ is z with every flagged value replaced by its forecast (``replace=True``), so that a spike
    does not enter the next windows; with ``replace=False`` z̃ = z. ``model`` maps windows (1, L)
    to (1, 1). -> (errors (T,), flags (T,) bool), both 0/False outside [start, stop).
    """
    zt = torch.as_tensor(_array(z, "z"), dtype=torch.float32)
    checks.positive_int(input_len, "input_len")
    if not input_len <= start < stop <= len(zt):
        raise ValueError(f"need input_len <= start < stop <= {len(zt)}, got start={start}, stop={stop}")
    if not threshold > 0:
        raise ValueError(f"threshold must be a number > 0, got {threshold!r}")
    if not isinstance(replace, (bool, np.bool_)):
        raise TypeError(f"replace must be True or False, got {type(replace).__name__}")
    clean = zt.clone()
    errors, flags = np.zeros(len(zt)), np.zeros(len(zt), dtype=bool)
    for t in range(start, stop):
        forecast = model(clean[None, t - input_len: t])
        if forecast.shape != (1, 1):
            raise ValueError(f"model must map a window (1, L) to (1, 1), got {tuple(forecast.shape)}")
        errors[t] = float(zt[t] - forecast[0, 0])
        if abs(errors[t]) > threshold:
            flags[t] = True
            if replace:
                clean[t] = forecast[0, 0]                 # keep the spike out of later windows
    return errors, flags


def precision_recall(flags, labels) -> tuple[float, float, int]:
    """precision = TP / flagged, recall = TP / labelled (both 0 when nothing is flagged / labelled).

    -> (precision, recall, number flagged).
    """
    f, l = np.asarray(flags), np.asarray(labels)
    if f.dtype != bool or l.dtype != bool or f.shape != l.shape or f.ndim != 1:
        raise ValueError(f"flags and labels must be 1-D bool arrays of the same length, got "
                         f"{f.dtype} {f.shape} and {l.dtype} {l.shape}")
    tp = int((f & l).sum())
    return (tp / int(f.sum()) if f.any() else 0.0), (tp / int(l.sum()) if l.any() else 0.0), int(f.sum())


def diff_windows(z, idx: Sequence[int], half: int = 3) -> np.ndarray:
    """Day-to-day changes in the window z_{t−half..t+half} centred on each t in idx.  -> (N, 2·half).

    A spike shows as a jump up and straight back down (or the reverse) wherever it sits in the
    window; the window looks ``half`` days ahead, so a detector on it works offline (after the fact).
    """
    x = _array(z, "z")
    checks.positive_int(half, "half")
    idx = np.asarray(idx, dtype=np.int64)
    if idx.ndim != 1 or len(idx) == 0 or idx.min() < half or idx.max() + half >= len(x):
        raise ValueError(f"idx must be a non-empty 1-D list of positions in [{half}, {len(x) - half - 1}]")
    offsets = np.arange(-half, half + 1)
    return np.diff(x[idx[:, None] + offsets[None, :]], axis=1)


# ----------------------------------------------------------------------------- figures
def plot_price_lag(dates, actual, forecasts: Mapping[str, Sequence[float]], title: str = "", ax=None):
    """Actual prices and one-step price forecasts over the same dates (a copy of yesterday lags by one)."""
    import matplotlib.pyplot as plt

    a = _array(actual, "actual")
    if len(dates) != len(a):
        raise ValueError(f"dates and actual must have the same length, got {len(dates)} and {len(a)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3.4))
    ax.plot(range(len(a)), a, color="black", lw=2, label="实际价格")
    for (name, values), style in zip(forecasts.items(), ({"ls": "--", "color": "tab:red"},
                                                         {"ls": ":", "color": "tab:blue"},
                                                         {"ls": "-.", "color": "tab:green"})):
        ax.plot(range(len(a)), _array(values, f"forecasts[{name!r}]"), marker=".", label=name, **style)
    ticks = list(range(0, len(a), max(1, len(a) // 8)))
    ax.set_xticks(ticks, [dates[i][:7] for i in ticks])
    ax.set(ylabel="价格（美元）", title=title)
    ax.legend(loc="upper left", fontsize=9)
    return ax


def plot_detection(x, errors, threshold: float, flags, labels, start: int, stop: int,
                   unit: str = "°C", title: str = ""):
    """Two panels over [start, stop): the series (labelled and flagged points marked), the error and ±threshold."""
    import matplotlib.pyplot as plt

    x, e = _array(x, "x"), _array(errors, "errors")
    f, l = np.asarray(flags, dtype=bool), np.asarray(labels, dtype=bool)
    t = np.arange(start, stop)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 5.4), sharex=True)
    top.plot(t, x[t], lw=0.8, color="0.3", label="序列（含注入的尖峰）")
    top.scatter(t[l[t]], x[t][l[t]], s=80, facecolors="none", edgecolors="tab:red", lw=1.5, label="注入的异常（标签）")
    top.scatter(t[f[t]], x[t][f[t]], s=18, color="tab:blue", zorder=3, label="检测器标记")
    top.set(ylabel=f"数值（{unit}）", title=title)
    top.legend(loc="upper left", fontsize=8, ncol=3)
    bottom.plot(t, e[t], lw=0.8, color="tab:orange", label="一步预测误差")
    bottom.axhline(threshold, color="tab:red", ls="--", lw=1, label=f"阈值 ±{threshold:.1f}")
    bottom.axhline(-threshold, color="tab:red", ls="--", lw=1)
    bottom.set(xlabel="天（从 2012-01-01 起）", ylabel=f"误差（{unit}）")
    bottom.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- honest uncertainty
def closed_form_naive(log_price, t_last: Sequence[int], horizon: int, strategy: str = "last") -> np.ndarray:
    """The returns of ``naive_returns`` without refitting sktime for each window (same numbers).

    "last": 0; "drift": the mean of the history's returns, (ln p_t − ln p_0) / t, at every step
    (the historical-mean benchmark of Welch & Goyal 2008); "mean": one jump to the mean log price
    of the history at h = 1, then 0 (the path stays flat).  -> (N, H).
    """
    lp = _array(log_price, "log_price")
    checks.positive_int(horizon, "horizon")
    checks.choice(strategy, "strategy", NAIVE_STRATEGIES)
    t = np.asarray([int(v) for v in t_last], dtype=np.int64)
    if len(t) and (t.min() < 1 or t.max() >= len(lp)):
        raise ValueError(f"t_last must lie in [1, {len(lp) - 1}] (a history of >= 2 prices), got "
                         f"[{t.min()}, {t.max()}]")
    out = np.zeros((len(t), horizon))
    if strategy == "drift":
        out[:] = ((lp[t] - lp[0]) / t)[:, None]
    elif strategy == "mean":
        csum = np.cumsum(lp)
        out[:, 0] = csum[t] / (t + 1) - lp[t]
    return out


def _clusters(clusters, n: int) -> tuple[np.ndarray, int]:
    c = np.asarray(clusters)
    if c.ndim != 1 or len(c) != n:
        raise ValueError(f"clusters must be 1-D with one label per value ({n}), got shape {c.shape}")
    _, idx = np.unique(c, return_inverse=True)
    if idx.max() < 1:
        raise ValueError("clusters must hold at least 2 different labels to resample")
    return idx, int(idx.max()) + 1


def _boot_weights(n_clusters: int, n_boot: int, seed: int) -> np.ndarray:
    checks.positive_int(n_boot, "n_boot")
    g = np.random.default_rng(int(seed))
    draws = g.integers(0, n_clusters, size=(n_boot, n_clusters))
    return np.stack([np.bincount(d, minlength=n_clusters) for d in draws])     # (B, K) times drawn


def cluster_bootstrap_ratio(loss, base_loss, clusters, n_boot: int = 2000, seed: int = 0,
                            confidence: float = 0.95) -> tuple[float, float, float]:
    """Σ loss / Σ base_loss with a percentile interval from resampling whole clusters (e.g. months).

    Values in one cluster (five stocks in the same month) move together; resampling them as a
    block keeps that dependence, which treating every value as independent would ignore.
    -> (ratio, low, high).
    """
    a, b = _pair(loss, base_loss)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    idx, k = _clusters(clusters, len(a))
    sa, sb = np.bincount(idx, a, k), np.bincount(idx, b, k)
    w = _boot_weights(k, n_boot, seed)
    ratios = (w @ sa) / (w @ sb)
    alpha = (1 - confidence) / 2
    return float(a.sum() / b.sum()), float(np.quantile(ratios, alpha)), float(np.quantile(ratios, 1 - alpha))


def cluster_bootstrap_mean(values, clusters, n_boot: int = 2000, seed: int = 0,
                           confidence: float = 0.95) -> tuple[float, float, float]:
    """The mean of ``values`` with a percentile interval from resampling whole clusters.  -> (mean, low, high)."""
    v = _array(np.ravel(values) if not isinstance(values, (str, bytes)) and values is not None else values,
               "values")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    idx, k = _clusters(clusters, len(v))
    s, n = np.bincount(idx, v, k), np.bincount(idx, minlength=k).astype(float)
    w = _boot_weights(k, n_boot, seed)
    means = (w @ s) / (w @ n)
    alpha = (1 - confidence) / 2
    return float(v.mean()), float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


def r2_oos(pred, actual, benchmark) -> float:
    """Out-of-sample R² against a benchmark forecast (Campbell & Thompson 2008):
    1 − Σ(y − ŷ)² / Σ(y − b)², with b the historical mean known at forecast time (> 0: beats it)."""
    p, a = _pair(pred, actual)
    b, _ = _pair(benchmark, actual)
    denom = ((a - b) ** 2).sum()
    if denom == 0:
        raise ValueError("the benchmark is exact: R²_OS is undefined")
    return float(1 - ((a - p) ** 2).sum() / denom)


def rolling_origin_by_year(series: Mapping[str, tuple], first: str, stop: str, min_history: int = 12) -> dict:
    """Rolling-origin evaluation (Hyndman & Athanasopoulos, FPP3 §5.10) of two one-step forecasts.

    For every month t with a target in [first, stop) and at least ``min_history`` earlier returns,
    the random walk forecasts r̂_t = 0 and the historical mean forecasts the mean of r_1..r_{t−1}
    (the origin moves forward one month at a time). -> {year: (MSE hist-mean / MSE random walk,
    number of forecasts)} with all symbols pooled.
    """
    if not isinstance(series, Mapping) or not series:
        raise TypeError(f"series must be a non-empty dict symbol -> (dates, returns), got {type(series).__name__}")
    checks.positive_int(min_history, "min_history")
    rw, hm = {}, {}
    for symbol, (dates, returns) in series.items():
        r = _array(returns, f"series[{symbol!r}] returns")
        if len(dates) != len(r):
            raise ValueError(f"series[{symbol!r}]: {len(dates)} dates for {len(r)} returns")
        means = np.cumsum(r)[:-1] / np.arange(1, len(r))          # mean of r_0..r_{t-1}, for t = 1..
        for t in range(min_history, len(r)):
            if first <= dates[t] < stop:
                year = dates[t][:4]
                rw[year] = rw.get(year, []) + [r[t] ** 2]
                hm[year] = hm.get(year, []) + [(r[t] - means[t - 1]) ** 2]
    if not rw:
        raise ValueError(f"no forecast with its target in [{first}, {stop})")
    return {y: (float(np.sum(hm[y]) / np.sum(rw[y])), len(rw[y])) for y in sorted(rw)}


# ----------------------------------------------------------------------------- anomaly baselines
class Persistence(torch.nn.Module):
    """The naive one-step forecast x̂_t = x̃_{t−1} (FPP3's first benchmark): (N, L) -> (N, 1)."""

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        checks.float_tensor(X, "X")
        checks.shape(X, "X", (None, None), ("N", "L"))
        return X[:, -1:].clone()


def rolling_median_scores(z, idx: Sequence[int], half: int = 3) -> np.ndarray:
    """|z_t − median(z_{t−half..t−1}, z_{t+1..t+half})| for each t in idx (a Hampel-type filter; offline).  -> (N,)."""
    x = _array(z, "z")
    checks.positive_int(half, "half")
    idx = np.asarray(idx, dtype=np.int64)
    if idx.ndim != 1 or len(idx) == 0 or idx.min() < half or idx.max() + half >= len(x):
        raise ValueError(f"idx must be a non-empty 1-D list of positions in [{half}, {len(x) - half - 1}]")
    offsets = np.concatenate([np.arange(-half, 0), np.arange(1, half + 1)])
    return np.abs(x[idx] - np.median(x[idx[:, None] + offsets[None, :]], axis=1))


def quantile_interval(values, q: float, n_boot: int = 2000, seed: int = 0,
                      confidence: float = 0.95) -> tuple[float, float, float]:
    """The q-quantile of ``values`` with a bootstrap percentile interval (how sure is a threshold?)."""
    v = _array(np.ravel(values) if not isinstance(values, (str, bytes)) and values is not None else values,
               "values")
    if not 0 < q < 1 or not 0 < confidence < 1:
        raise ValueError(f"q and confidence must be in (0, 1), got {q!r}, {confidence!r}")
    g = np.random.default_rng(int(seed))
    boots = np.quantile(v[g.integers(0, len(v), size=(n_boot, len(v)))], q, axis=1)
    alpha = (1 - confidence) / 2
    return float(np.quantile(v, q)), float(np.quantile(boots, alpha)), float(np.quantile(boots, 1 - alpha))


def runs(mask) -> list[tuple[int, int]]:
    """The maximal runs of True in a 1-D bool array as [start, stop) pairs."""
    m = np.asarray(mask)
    if m.dtype != bool or m.ndim != 1:
        raise ValueError(f"mask must be a 1-D bool array, got {m.dtype} {m.shape}")
    edges = np.diff(np.concatenate([[0], m.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def event_scores(flags, labels, tolerance: int = 0) -> dict:
    """Event-wise scoring: a labelled event counts as found if any flag lies within it (± tolerance).

    Flagged runs that touch no event (± tolerance) are false-alarm events. This is *not*
    point-adjust (Kim et al. 2022): the point-wise precision and recall are reported beside it,
    unchanged. -> {"events", "found", "false_runs", "first_flag_delay"} (delay of the first flag
    after the start of the first found event, in samples; None if none was found).
    """
    f, l = np.asarray(flags), np.asarray(labels)
    if f.dtype != bool or l.dtype != bool or f.shape != l.shape or f.ndim != 1:
        raise ValueError(f"flags and labels must be 1-D bool arrays of the same length, got "
                         f"{f.dtype} {f.shape} and {l.dtype} {l.shape}")
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, np.integer)) or tolerance < 0:
        raise ValueError(f"tolerance must be an int >= 0, got {tolerance!r}")
    events = runs(l)
    near = np.zeros(len(l), dtype=bool)
    found, delay = 0, None
    for a, b in events:
        lo, hi = max(0, a - tolerance), min(len(l), b + tolerance)
        near[lo:hi] = True
        hit = np.flatnonzero(f[lo:hi])
        if len(hit):
            found += 1
            if delay is None:
                delay = int(lo + hit[0] - a)
    false_runs = sum(1 for a, b in runs(f) if not near[a:b].any())
    return {"events": len(events), "found": found, "false_runs": false_runs, "first_flag_delay": delay}
