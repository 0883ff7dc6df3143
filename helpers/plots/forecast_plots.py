"""Tables and figures of chapter 01's forecasts: plotting boilerplate kept out of the notebook.

- ``mae_table(mae, unit)``: MAE per horizon as a pandas DataFrame (one column per forecaster),
  so columns holding Chinese names line up in the browser (f-string padding does not).
- ``plot_error_by_horizon(mae, ...)``: the error-vs-horizon figure, one line per forecaster.
- ``plot_forecast_window(past, future, forecasts, ...)``: one test window, the legend outside the
  axes so that it never covers the curves.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

# one look per kind of forecaster, whatever the order: baselines dashed, models in colour with markers
_KINDS = (("季节", {"color": "0.45", "ls": ":"}), ("朴素", {"color": "black", "ls": "--"}),
          ("递归", {"color": "tab:blue", "marker": "o"}), ("直接", {"color": "tab:orange", "marker": "s"}))
_OTHERS = ({"color": "tab:green", "marker": "^"}, {"color": "tab:red", "marker": "v"},
           {"color": "tab:purple", "marker": "D"}, {"color": "tab:brown", "marker": "x"})


def _styles(names) -> list[dict]:
    """A line style per forecaster name: by kind (季节性朴素, 朴素, 递归, 直接), else the next free colour."""
    out, others = [], iter(_OTHERS * 4)
    for name in names:
        style = next((st for key, st in _KINDS if key in name), None)
        out.append(dict(style) if style is not None else dict(next(others)))
    return out


def _numbers(values, name: str) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or len(arr) == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of numbers, got shape {arr.shape}")
    return arr


def _curves(mae: Mapping[str, Sequence[float]]) -> dict[str, np.ndarray]:
    if not isinstance(mae, Mapping) or not mae:
        raise TypeError(f"mae must be a non-empty dict name -> MAE per horizon, got {type(mae).__name__}")
    curves = {str(k): _numbers(v, f"mae[{k!r}]") for k, v in mae.items()}
    lengths = {len(v) for v in curves.values()}
    if len(lengths) != 1:
        raise ValueError(f"every forecaster needs one MAE per horizon (same length), got lengths {sorted(lengths)}")
    return curves


def mae_table(mae: Mapping[str, Sequence[float]], unit: str = "°C", decimals: int = 2):
    """MAE per horizon h (rows h = 1..H) and forecaster (columns) as a pandas DataFrame."""
    import pandas as pd

    curves = _curves(mae)
    H = len(next(iter(curves.values())))
    table = pd.DataFrame(curves, index=pd.Index(range(1, H + 1), name="步长 h"))
    table.columns.name = f"MAE（{unit}）"
    return table.round(decimals)


def plot_error_by_horizon(mae: Mapping[str, Sequence[float]], *, unit: str = "°C", step_name: str = "小时",
                          title: str = "测试段：误差随预测步长的变化", highlight: tuple[int, int] | None = None,
                          figsize=(9, 4.2)):
    """MAE against the horizon h = 1..H, one line per forecaster; returns (fig, ax).

    highlight=(h_from, h_to) shades the horizons a claim is about.
    """
    curves = _curves(mae)
    H = len(next(iter(curves.values())))
    fig, ax = plt.subplots(figsize=figsize)
    h = np.arange(1, H + 1)
    if highlight is not None:
        ax.axvspan(highlight[0] - 0.5, highlight[1] + 0.5, color="0.92", zorder=0)
    for (name, m), style in zip(curves.items(), _styles(curves)):
        ax.plot(h, m, label=name, ms=5, lw=1.8, **style)
    ax.set(xlabel=f"预测步长 h（{step_name}）", ylabel=f"平均绝对误差（{unit}）", title=title)
    ax.set_xticks(h if H <= 16 else h[::2])
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    return fig, ax


def plot_forecast_window(past, future, forecasts: Mapping[str, Sequence[float]], *, unit: str = "°C",
                         step_name: str = "小时", title: str = "一个测试窗口上的多步预测", figsize=(9, 3.8)):
    """The input window (steps −L+1..0), the true future (1..H) and each forecast; returns (fig, ax)."""
    past, future = _numbers(past, "past"), _numbers(future, "future")
    curves = _curves(forecasts)
    if len(next(iter(curves.values()))) != len(future):
        raise ValueError(f"each forecast needs {len(future)} values (one per future step)")
    fig, ax = plt.subplots(figsize=figsize)
    t_past, t_future = np.arange(-len(past) + 1, 1), np.arange(1, len(future) + 1)
    ax.plot(t_past, past, "k.-", label=f"过去 {len(past)} {step_name}（输入）")
    ax.plot(t_future, future, "k.-", alpha=0.35, lw=3, label="真实未来")
    for (name, f), style in zip(curves.items(), _styles(curves)):
        ax.plot(t_future, f, label=name, ms=4, **style)
    ax.axvline(0.5, color="gray", lw=0.8)
    ax.set(xlabel=f"相对现在的{step_name}", ylabel=f"气温（{unit}）", title=title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    return fig, ax
