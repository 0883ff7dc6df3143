import numpy as np
import pytest
import torch

from helpers import timeseries as ts


def test_split_by_time_keeps_order_and_covers_series():
    x = np.arange(100, dtype=float)
    train, val, test = ts.split_by_time(x, (0.7, 0.15, 0.15))
    assert (len(train), len(val), len(test)) == (70, 15, 15)
    assert torch.equal(torch.cat([train, val, test]), torch.arange(100, dtype=torch.float32))
    assert train.max() < val.min() and val.max() < test.min()     # past -> future, no shuffling


@pytest.mark.parametrize("fractions", [(0.5, 0.6), (0.0, 1.0), (), (1.2, -0.2)])
def test_split_by_time_rejects_bad_fractions(fractions):
    with pytest.raises(ValueError, match="fractions"):
        ts.split_by_time(np.arange(10.0), fractions)


def test_split_by_time_rejects_2d_and_strings():
    with pytest.raises(ValueError, match="1-D"):
        ts.split_by_time(np.zeros((3, 4)))
    with pytest.raises(TypeError):
        ts.split_by_time("abc")


def test_make_windows_shapes_and_content():
    x = torch.arange(10, dtype=torch.float32)
    X, Y = ts.make_windows(x, input_len=3, horizon=2)
    assert X.shape == (10 - 3 - 2 + 1, 3) and Y.shape == (6, 2)
    assert X[0].tolist() == [0, 1, 2] and Y[0].tolist() == [3, 4]
    assert X[-1].tolist() == [5, 6, 7] and Y[-1].tolist() == [8, 9]     # last target ends at the last value


def test_make_windows_step_and_minimal_length():
    X, Y = ts.make_windows(np.arange(10.0), 3, 2, step=2)
    assert X[:, 0].tolist() == [0, 2, 4] and Y[-1].tolist() == [7, 8]
    X, Y = ts.make_windows(np.arange(5.0), 3, 2)                 # exactly one window
    assert X.shape == (1, 3) and Y.shape == (1, 2)


def test_make_windows_too_short_and_bad_sizes():
    with pytest.raises(ValueError, match="too short"):
        ts.make_windows(np.arange(4.0), 3, 2)
    with pytest.raises(ValueError):
        ts.make_windows(np.arange(10.0), 0, 1)
    with pytest.raises(TypeError):
        ts.make_windows(np.arange(10.0), 3, 1.5)


def test_standardizer_uses_train_only_and_inverts():
    train = torch.tensor([1.0, 2.0, 3.0])
    s = ts.Standardizer(train)
    z = s.transform(torch.tensor([2.0, 10.0]))
    assert z[0] == 0 and torch.allclose(s.inverse(z), torch.tensor([2.0, 10.0]))
    with pytest.raises(ValueError, match="constant"):
        ts.Standardizer(torch.ones(5))


def test_naive_and_seasonal_forecasts():
    X = torch.arange(12, dtype=torch.float32).view(2, 6)          # windows [0..5], [6..11]
    assert ts.naive_forecast(X, 3).tolist() == [[5, 5, 5], [11, 11, 11]]
    # period 4: x̂_{t+h} = x_{t+h-4}; for window [0..5] (t = 5) that is x_2, x_3
    assert ts.seasonal_naive_forecast(X, 2, period=4).tolist() == [[2, 3], [8, 9]]
    with pytest.raises(ValueError, match="horizon <= period"):
        ts.seasonal_naive_forecast(X, 5, period=4)
    with pytest.raises(ValueError, match=r"\(N, L\)"):
        ts.naive_forecast(torch.zeros(3), 2)


def test_seasonal_naive_is_exact_on_a_periodic_series():
    x = torch.sin(torch.arange(200, dtype=torch.float32) * 2 * torch.pi / 24)
    X, Y = ts.make_windows(x, 24, 12)
    assert torch.allclose(ts.seasonal_naive_forecast(X, 12, 24), Y, atol=1e-5)


def test_forecaster_shapes_and_residual():
    torch.manual_seed(0)
    X = torch.randn(5, 8)
    m = ts.GRUForecaster(hidden_size=4, n_out=3)
    assert m(X).shape == (5, 3) and m.forward_all(X).shape == (5, 8, 3)
    assert torch.allclose(m(X), m.forward_all(X)[:, -1])
    # with a zero head, the residual model is exactly the naive forecast
    torch.nn.init.zeros_(m.head.weight); torch.nn.init.zeros_(m.head.bias)
    assert torch.equal(m(X), ts.naive_forecast(X, 3))
    plain = ts.GRUForecaster(4, 3, residual=False)
    torch.nn.init.zeros_(plain.head.weight); torch.nn.init.zeros_(plain.head.bias)
    assert torch.equal(plain(X), torch.zeros(5, 3))
    assert torch.equal(m(X.unsqueeze(-1)), m(X))                    # (N, L, 1) is the same series
    with pytest.raises(ValueError, match=r"\(N, L, F\)"):
        m(torch.randn(5, 8, 2))                                      # two channels, input_size 1


def test_one_step_targets():
    X = torch.tensor([[1.0, 2.0, 3.0]])
    Y = torch.tensor([[4.0, 5.0]])
    assert ts.one_step_targets(X, Y).tolist() == [[2, 3, 4]]


class _AddOne(torch.nn.Module):
    """A one-step 'model' that predicts last value + 1."""

    def forward(self, X):
        return X[:, -1:] + 1


def test_recursive_forecast_feeds_predictions_back():
    X = torch.tensor([[0.0, 0.0, 5.0]])
    assert ts.recursive_forecast(_AddOne(), X, 4).tolist() == [[6, 7, 8, 9]]


def test_recursive_forecast_needs_one_step_model():
    with pytest.raises(ValueError, match=r"\(N, 1\)"):
        ts.recursive_forecast(ts.GRUForecaster(4, n_out=2), torch.zeros(2, 5), 3)


def test_direct_forecast_and_mae_by_horizon():
    m = ts.GRUForecaster(4, n_out=3)
    X = torch.randn(6, 5)
    assert ts.direct_forecast(m, X).shape == (6, 3)
    pred = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    Y = torch.tensor([[1.0, 0.0], [1.0, 4.0]])
    assert ts.mae_by_horizon(pred, Y).tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="same shape"):
        ts.mae_by_horizon(pred, Y[:, :1])


# ----------------------------------------------------------------------------- multivariate windows
def test_windows_between_cuts_by_target_dates():
    T = 30
    target = torch.arange(T, dtype=torch.float32)
    feats = torch.stack([target, -target], dim=1)                   # (T, 2)
    X, Y, t = ts.windows_between(feats, target, input_len=4, horizon=3, start=20, stop=30)
    assert X.shape == (len(t), 4, 2) and Y.shape == (len(t), 3)
    assert int(t[0]) == 19 and int(t[-1]) + 3 == 29               # first target 20, last target 29
    assert Y[0].tolist() == [20, 21, 22] and X[0, :, 0].tolist() == [16, 17, 18, 19]
    assert torch.equal(X[:, -1, 0], t.float()) and torch.equal(X[..., 1], -X[..., 0])
    X0, _, t0 = ts.windows_between(feats, target, 4, 3, 0, 10)
    assert int(t0[0]) == 3                                         # the input needs L values first
    with pytest.raises(ValueError, match="no window"):
        ts.windows_between(feats, target, 4, 3, 0, 5)
    with pytest.raises(ValueError, match=r"\(T, F\)"):
        ts.windows_between(feats[:10], target, 4, 3, 0, 10)
    with pytest.raises(ValueError, match="start"):
        ts.windows_between(feats, target, 4, 3, 20, 10)


def test_seasonal_naive_from_series_reads_one_period_back():
    x = torch.arange(20, dtype=torch.float32)
    t = torch.tensor([9, 12])
    # x̂_{t+h} = x_{t+h-P}: with P = 5, t = 9, h = 1..3 -> x_5, x_6, x_7
    assert ts.seasonal_naive_from_series(x, t, 3, period=5).tolist() == [[5, 6, 7], [8, 9, 10]]
    with pytest.raises(ValueError, match="one period"):
        ts.seasonal_naive_from_series(x, torch.tensor([2]), 3, period=5)
    with pytest.raises(ValueError, match="horizon <= period"):
        ts.seasonal_naive_from_series(x, t, 6, period=5)
    # on a series with period P exactly, it is exact
    s = torch.sin(torch.arange(100, dtype=torch.float32) * 2 * torch.pi / 7)
    _, Y, tl = ts.windows_between(s[:, None], s, 10, 5, 50, 100)
    assert torch.allclose(ts.seasonal_naive_from_series(s, tl, 5, period=7), Y, atol=1e-4)


def test_day_of_year_features():
    f = ts.day_of_year_features(["2015/01/01", "2014-12-31", "2015/07/02"])
    assert f.shape == (3, 2)
    assert torch.allclose(f.norm(dim=1), torch.ones(3))
    assert (f[0] - f[1]).norm() < 0.05                             # new year's eve next to new year
    assert f[2, 1] < -0.99                                         # midsummer: cos ≈ −1
    with pytest.raises(ValueError, match="YYYY/MM/DD"):
        ts.day_of_year_features(["2015/13/40"])
    with pytest.raises(TypeError):
        ts.day_of_year_features([20150101])


def test_multivariate_forecaster_and_recursive_with_future_covariates():
    torch.manual_seed(0)
    X = torch.randn(6, 8, 3)
    one = ts.GRUForecaster(hidden_size=4, n_out=1, input_size=3)
    assert one(X).shape == (6, 1) and one.forward_all(X).shape == (6, 8, 1)
    future = torch.randn(6, 5, 2)
    pred = ts.recursive_forecast(one, X, 5, future)
    assert pred.shape == (6, 5)
    # by hand: the second step sees the first prediction and the first future covariates
    window = torch.cat([X[:, 1:], torch.cat([pred[:, :1], future[:, 0]], 1)[:, None]], 1)
    with torch.no_grad():
        assert torch.allclose(one(window)[:, 0], pred[:, 1])
    with pytest.raises(ValueError, match="future"):
        ts.recursive_forecast(one, X, 5)
    with pytest.raises(ValueError, match="future"):
        ts.recursive_forecast(one, X, 5, torch.randn(6, 4, 2))
    uni = ts.GRUForecaster(4, 1)
    with pytest.raises(ValueError, match="future"):
        ts.recursive_forecast(uni, X[..., 0], 5, future)
    assert ts.one_step_targets(X, torch.randn(6, 2)).shape == (6, 8)
    direct = ts.GRUForecaster(4, n_out=5, input_size=3)
    assert ts.direct_forecast(direct, X).shape == (6, 5)


def test_keep_best_restores_the_best_epoch():
    from helpers.train import fit

    torch.manual_seed(0)
    model = torch.nn.Linear(1, 1)
    errors = iter([3.0, 1.0, float("nan"), 2.0])
    seen = []

    def val_error(m):
        seen.append(m.weight.detach().clone())
        return next(errors)

    keep = ts.KeepBest(val_error)
    X = torch.randn(32, 1)
    fit(model, lambda m, x: (m(x) - 2 * x).pow(2).mean(), (X,), epochs=4, eval_fn=keep, progress=False)
    assert keep.best == 1.0 and keep.epoch == 1
    keep.restore(model)
    assert torch.equal(model.weight, seen[1])
    with pytest.raises(RuntimeError, match="KeepBest"):
        ts.KeepBest(lambda m: float("nan")).restore(model)
    with pytest.raises(TypeError):
        ts.KeepBest(3.0)


# ----------------------------------------------------------------------------- forecast_plots
def test_forecast_tables_and_plots():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.plots import forecast_plots as fp
    from helpers.plots.plotting import style

    style()                                                        # the Chinese font

    mae = {"朴素（重复最后值）": torch.tensor([1.0, 2.0, 3.0]), "GRU 直接": np.array([0.5, 1.0, 1.5])}
    table = fp.mae_table(mae)
    assert list(table.columns) == list(mae) and list(table.index) == [1, 2, 3]
    assert table.loc[3, "GRU 直接"] == 1.5
    fig, ax = fp.plot_error_by_horizon(mae, highlight=(2, 3))
    assert len(ax.get_lines()) == 2 and ax.get_legend() is not None
    fig2, ax2 = fp.plot_forecast_window(np.arange(5.0), np.arange(3.0), mae)
    assert len(ax2.get_lines()) == 2 + 2 + 1                       # past, truth, 2 forecasts, "now" line
    plt.close("all")
    with pytest.raises(ValueError, match="same length"):
        fp.mae_table({"a": [1.0, 2.0], "b": [1.0]})
    with pytest.raises(TypeError):
        fp.plot_error_by_horizon({})
    with pytest.raises(ValueError, match="one per future step"):
        fp.plot_forecast_window(np.arange(5.0), np.arange(4.0), mae)
