"""helpers.forecast_eval: return metrics against the random walk, and anomaly flags against labels."""
import numpy as np
import pytest
import torch

from helpers import forecast_eval as fe


def test_log_returns_and_errors():
    r = fe.log_returns([100.0, 110.0, 99.0])
    assert np.allclose(r, [np.log(1.1), np.log(0.9)])
    with pytest.raises(ValueError, match="> 0"):
        fe.log_returns([1.0, 0.0])
    with pytest.raises(ValueError, match="at least 2"):
        fe.log_returns([1.0])
    with pytest.raises(TypeError, match="sequence of numbers"):
        fe.log_returns("123")
    with pytest.raises(ValueError, match="1-D"):
        fe.log_returns([[1.0, 2.0]])
    with pytest.raises(ValueError, match="finite"):
        fe.log_returns([1.0, np.nan])


def test_r2_mse_and_direction_accuracy():
    y = np.array([1.0, -2.0, 3.0, -4.0])
    assert fe.r2(y, y) == 1.0 and fe.mse(y, y) == 0.0
    assert np.isclose(fe.r2(np.full(4, y.mean()), y), 0.0)
    assert fe.r2(np.zeros(4), y) <= 0                            # the zero forecast never beats the mean
    acc, lo, hi = fe.direction_accuracy(np.array([1.0, 1.0, 1.0, 1.0]), y)
    assert acc == 0.5 and lo < 0.5 < hi
    from scipy.stats import binomtest
    ci = binomtest(2, 4).proportion_ci(method="wilson")
    assert np.isclose(lo, ci.low) and np.isclose(hi, ci.high)
    with pytest.raises(ValueError, match="same non-empty shape"):
        fe.r2(np.zeros(3), y)
    with pytest.raises(ValueError, match="constant"):
        fe.r2(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="confidence"):
        fe.direction_accuracy(y, y, confidence=1.5)


def test_lag_correlation_finds_a_copy_of_yesterday():
    g = np.random.default_rng(0)
    price = 100 + np.cumsum(g.normal(size=200))
    pred, actual = price[:-1], price[1:]                 # p̂_t = p_{t-1}
    lags = fe.lag_correlation(pred, actual, lags=(0, 1))
    assert np.isclose(lags[1], 1.0) and lags[0] < lags[1]
    with pytest.raises(ValueError, match="lags"):
        fe.lag_correlation(pred, actual, lags=(-1,))


def test_panel_windows_cut_by_target_dates():
    dates = [f"2000-{m:02d}-01" for m in range(1, 13)]
    series = {"A": (dates, np.arange(12.0)), "B": (dates[4:], np.arange(8.0) + 100)}
    X, Y, meta = fe.panel_windows(series, 3, 2, "2000-07-01", "2000-13-01", scale=2.0)
    # A: targets in months 7..12 (indices 6..11): t_last from 5 to 9; B: indices 2..7 of its own
    assert X.shape == (len(meta), 3) and Y.shape == (len(meta), 2) and X.dtype == torch.float32
    a = [t for s, t in meta if s == "A"]
    assert a == [5, 6, 7, 8, 9]
    assert torch.equal(X[0], torch.tensor([3.0, 4.0, 5.0]) / 2) and torch.equal(Y[0], torch.tensor([6.0, 7.0]) / 2)
    assert all(series[s][0][t + 1] >= "2000-07-01" for s, t in meta)
    with pytest.raises(ValueError, match="start < stop"):
        fe.panel_windows(series, 3, 2, "2001-01-01", "2000-01-01")
    with pytest.raises(ValueError, match="no symbol has a window"):
        fe.panel_windows(series, 11, 2, "2000-01-01", "2000-13-01")
    with pytest.raises(TypeError, match="dict symbol"):
        fe.panel_windows([], 3, 2, "2000-01-01", "2000-13-01")
    with pytest.raises(ValueError, match="dates for"):
        fe.panel_windows({"A": (dates[:5], np.arange(12.0))}, 3, 2, "2000-01-01", "2000-13-01")


def test_naive_returns_match_the_strategies():
    lp = np.log(np.array([10.0, 11.0, 12.5, 12.0, 13.0, 15.0]))
    last = fe.naive_returns(lp, [3, 4], 2, "last")
    assert np.array_equal(last, np.zeros((2, 2)))                       # the random walk: return 0
    drift = fe.naive_returns(lp, [3], 2, "drift")
    assert np.allclose(drift, (lp[3] - lp[0]) / 3)                      # the mean return so far
    mean = fe.naive_returns(lp, [3], 2, "mean")
    assert np.allclose(mean[0], [lp[:4].mean() - lp[3], 0.0])
    with pytest.raises(ValueError, match="strategy"):
        fe.naive_returns(lp, [3], 2, "seasonal")
    with pytest.raises(ValueError, match="t_last"):
        fe.naive_returns(lp, [6], 2)


def test_inject_spikes_labels_and_reproducibility():
    x = np.zeros(50)
    y, labels, size = fe.inject_spikes(x, 10, 40, [5.0, 2.0, 2.0], seed=3)
    assert labels.sum() == 3 and set(np.abs(y[labels])) == {5.0, 2.0}
    assert (y[~labels] == 0).all() and not labels[:10].any() and not labels[40:].any()
    assert np.array_equal(size[labels], np.abs(y[labels])) and x.sum() == 0           # input untouched
    y2, labels2, _ = fe.inject_spikes(x, 10, 40, [5.0, 2.0, 2.0], seed=3)
    assert np.array_equal(y, y2) and np.array_equal(labels, labels2)
    with pytest.raises(ValueError, match="do not fit"):
        fe.inject_spikes(x, 10, 12, [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="> 0"):
        fe.inject_spikes(x, 10, 40, [-1.0])
    with pytest.raises(ValueError, match="start < stop"):
        fe.inject_spikes(x, 40, 10, [1.0])


class _Yesterday(torch.nn.Module):
    def forward(self, X):
        return X[:, -1:]


def test_online_residuals_keep_a_spike_out_of_later_windows():
    z = np.zeros(30)
    z[20] = 10.0
    errors, flags = fe.online_residuals(_Yesterday(), z, 5, 30, 3, threshold=1.0)
    assert flags[20] and flags.sum() == 1                 # the day after the spike is not flagged
    assert errors[20] == 10.0 and errors[21] == 0.0 and errors[:5].sum() == 0
    with pytest.raises(ValueError, match="start < stop"):
        fe.online_residuals(_Yesterday(), z, 2, 30, 3, 1.0)
    with pytest.raises(ValueError, match="threshold"):
        fe.online_residuals(_Yesterday(), z, 5, 30, 3, 0.0)

    class Wrong(torch.nn.Module):
        def forward(self, X):
            return X
    with pytest.raises(ValueError, match=r"\(1, 1\)"):
        fe.online_residuals(Wrong(), z, 5, 30, 3, 1.0)


def test_precision_recall_and_diff_windows():
    flags = np.array([1, 1, 0, 0, 1], dtype=bool)
    labels = np.array([1, 0, 1, 0, 1], dtype=bool)
    assert fe.precision_recall(flags, labels) == (2 / 3, 2 / 3, 3)
    assert fe.precision_recall(np.zeros(5, bool), labels) == (0.0, 0.0, 0)
    with pytest.raises(ValueError, match="bool arrays"):
        fe.precision_recall(flags.astype(int), labels)
    z = np.arange(10.0) ** 2
    w = fe.diff_windows(z, [3, 5], half=2)
    assert w.shape == (2, 4) and np.array_equal(w[0], np.diff(z[1:6]))
    with pytest.raises(ValueError, match="positions"):
        fe.diff_windows(z, [1], half=2)


def test_plots_draw_and_check_lengths():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from helpers.plots.plotting import style

    style()                                      # the course font draws the Chinese labels
    ax = fe.plot_price_lag(["2008-01-01", "2008-02-01", "2008-03-01"], [1.0, 2.0, 3.0], {"rw": [1.0, 1.0, 2.0]})
    assert len(ax.lines) == 2
    with pytest.raises(ValueError, match="same length"):
        fe.plot_price_lag(["2008-01-01"], [1.0, 2.0], {})
    fig = fe.plot_detection(np.arange(20.0), np.zeros(20), 1.0, np.zeros(20, bool), np.zeros(20, bool), 5, 20)
    assert len(fig.axes) == 2
    plt.close("all")


# ----------------------------------------------------------------------------- issue 24 additions
def test_closed_form_naive_equals_sktime():
    lp = np.log(np.array([10.0, 11.0, 9.5, 12.0, 12.5, 11.0, 13.0, 14.0]))
    for strategy in fe.NAIVE_STRATEGIES:
        np.testing.assert_allclose(fe.closed_form_naive(lp, [2, 5, 6], 3, strategy),
                                   fe.naive_returns(lp, [2, 5, 6], 3, strategy), atol=1e-10)
    with pytest.raises(ValueError, match="t_last"):
        fe.closed_form_naive(lp, [0], 2)


def test_cluster_bootstrap_is_wider_when_clusters_move_together():
    g = np.random.default_rng(0)
    common = np.repeat(g.normal(size=25), 5)               # 25 months x 5 stocks that move together
    values = (common + 0.3 * g.normal(size=125) > 0).astype(float)
    months = np.repeat(np.arange(25), 5)
    m, lo, hi = fe.cluster_bootstrap_mean(values, months)
    _, lo1, hi1 = fe.cluster_bootstrap_mean(values, np.arange(125))
    assert lo < m < hi and (hi - lo) > 1.5 * (hi1 - lo1)
    r, rlo, rhi = fe.cluster_bootstrap_ratio(np.ones(10) * 2, np.ones(10), np.arange(10))
    assert r == rlo == rhi == 2.0
    with pytest.raises(ValueError, match="clusters"):
        fe.cluster_bootstrap_mean(values, months[:-1])


def test_r2_oos_and_rolling_origin():
    y = np.array([1.0, -1.0, 2.0, 0.0])
    assert fe.r2_oos(y, y, np.zeros(4)) == 1.0 and fe.r2_oos(np.zeros(4), y, np.zeros(4)) == 0.0
    dates = [f"{2000 + i // 12}-{i % 12 + 1:02d}-01" for i in range(36)]
    r = np.where(np.arange(36) % 2 == 0, 0.1, -0.05)
    out = fe.rolling_origin_by_year({"X": (dates, r)}, "2001-01-01", "2003-01-01")
    assert set(out) == {"2001", "2002"} and all(n == 12 for _, n in out.values())
    with pytest.raises(ValueError, match="no forecast"):
        fe.rolling_origin_by_year({"X": (dates, r)}, "2010-01-01", "2011-01-01")


def test_replace_rule_and_baselines():
    z = torch.zeros(40)
    z[25] = 10.0
    _, with_rule = fe.online_residuals(fe.Persistence(), z, 20, 40, 5, 3.0)
    _, without = fe.online_residuals(fe.Persistence(), z, 20, 40, 5, 3.0, replace=False)
    assert np.flatnonzero(with_rule).tolist() == [25] and np.flatnonzero(without).tolist() == [25, 26]
    shift = torch.zeros(40)
    shift[25:] = 10.0                                       # a level shift: the rule keeps flagging it
    assert fe.online_residuals(fe.Persistence(), shift, 20, 40, 5, 3.0)[1].sum() == 15
    assert fe.online_residuals(fe.Persistence(), shift, 20, 40, 5, 3.0, replace=False)[1].sum() == 1
    x = np.zeros(20)
    x[10] = 5.0
    assert fe.rolling_median_scores(x, [9, 10, 11], 3).tolist() == [0.0, 5.0, 0.0]
    q, lo, hi = fe.quantile_interval(np.arange(100.0), 0.5)
    assert lo <= q <= hi
    with pytest.raises(TypeError, match="replace"):
        fe.online_residuals(fe.Persistence(), z, 20, 40, 5, 3.0, replace="no")


def test_runs_and_event_scores():
    labels = np.zeros(20, dtype=bool)
    labels[5:8] = True
    flags = np.zeros(20, dtype=bool)
    flags[[9, 15]] = True
    assert fe.runs(labels) == [(5, 8)]
    assert fe.event_scores(flags, labels, 0) == {"events": 1, "found": 0, "false_runs": 2, "first_flag_delay": None}
    assert fe.event_scores(flags, labels, 2) == {"events": 1, "found": 1, "false_runs": 1, "first_flag_delay": 4}
    with pytest.raises(ValueError, match="tolerance"):
        fe.event_scores(flags, labels, -1)
