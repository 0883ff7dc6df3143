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
