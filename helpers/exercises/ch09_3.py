"""Checkers for chapter 09, part 3 (ECG with a real label, traffic volume).

1. ``traffic_mae_inputs(v)`` -> (start, stop): the hours [start, stop) of the traffic test period
   whose forecasts are judged (v = 0: its first four weeks, not the whole period that the chapter's
   table prints; otherwise four weeks drawn for the student). ``check_seasonal_mae(answer, v=None)``: the mean absolute error (cars per hour) of the
   daily seasonal-naive forecast x̂_t = x_{t−24} over those hours. The checker recomputes it from
   the data; a failure message names the mistake, never a number that would pass.
"""
from __future__ import annotations

import numpy as np

from ._core import checker, close, quiet_false, read_number, reference, unanswered, variant, variant_rng, verdict

TEST_FRACTION = 0.85            # the test period starts at 85 % of the hours (cut at midnight)


def traffic_volume() -> np.ndarray:
    """The chapter's series: hourly volume with the 104 missing hours filled by linear interpolation."""
    from .. import data

    return data.load_traffic_hourly()["traffic_volume"].interpolate().to_numpy(dtype=np.float64)


def test_start(n: int) -> int:
    return int(n * TEST_FRACTION) // 24 * 24


def traffic_mae_inputs(v: int | None = None) -> tuple[int, int]:
    """(start, stop) hours of exercise 1 in variant ``v``: four weeks of the test period."""
    v = variant() if v is None else int(v)
    n = len(traffic_volume())
    start = test_start(n)
    if v == 0:
        return start, start + 24 * 28
    g = variant_rng("ch09_3.traffic_mae", v)
    days = (n - start) // 24 - 28
    first = start + 24 * int(g.integers(0, days + 1))
    return first, first + 24 * 28


@reference
def seasonal_mae_answers(start: int, stop: int) -> dict:
    """The right MAE of x̂_t = x_{t−24} over [start, stop), and the values of the named mistakes."""
    x = traffic_volume()
    t = np.arange(start, stop)
    err = x[t] - x[t - 24]
    return {"right": float(np.abs(err).mean()), "weekly": float(np.abs(x[t] - x[t - 168]).mean()),
            "rmse": float(np.sqrt((err ** 2).mean())), "lag23": float(np.abs(x[t] - x[t - 23]).mean()),
            "lag25": float(np.abs(x[t] - x[t - 25]).mean())}


@checker
def check_seasonal_mae(answer, v: int | None = None):
    """answer: mean |x_t − x_{t−24}| over the hours of ``traffic_mae_inputs(v)``, in cars per hour."""
    if unanswered(answer):
        return quiet_false()
    value = read_number(answer, "MAE")
    if value is None:
        return quiet_false()
    got = seasonal_mae_answers(*traffic_mae_inputs(v))
    tol = 0.051                                           # the notebook prints one decimal
    if close(value, got["right"], tol=tol):
        return verdict(True, "“和昨天同一小时一样”的误差：工作日和周末的差别让它比“和上周同一小时一样”差得多。")
    if close(value, got["weekly"], tol=tol):
        return verdict(False, "这是“上周同一小时”（周期 168）的误差；这道题要的是“昨天同一小时”（周期 24）。")
    if close(value, got["rmse"], tol=tol):
        return verdict(False, "这是均方根误差（RMSE）；题目要的是平均绝对误差：先取绝对值再平均。")
    if close(value, got["lag23"], tol=tol) or close(value, got["lag25"], tol=tol):
        return verdict(False, "错了一小时：x̂_t 应是恰好 24 小时之前的值。")
    if value < 0:
        return verdict(False, "平均绝对误差不会是负数。")
    if value < 10:
        return verdict(False, "单位不对：要的是每小时的车辆数，不是标准化之后的数。")
    return verdict(False, "数值不对：只在 traffic_mae_inputs() 给出的那些小时上，对 |x_t − x_{t−24}| 取平均。")
