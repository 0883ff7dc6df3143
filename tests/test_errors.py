"""Bad input gets a clear error naming what was expected and what was given."""
import pytest
import torch

from helpers import bptt, data, train
from helpers.nn.gru import GRU
from helpers.nn.lstm import LSTM
from helpers.nn.rnn import RNN
from helpers.vocab import Vocab


@pytest.mark.parametrize("Layer", [RNN, LSTM, GRU])
def test_constructor_errors(Layer):
    with pytest.raises(ValueError, match=r"hidden_size must be a positive int \(>= 1\), got 0"):
        Layer(3, 0)
    with pytest.raises(ValueError, match="input_size must be a positive int.*got -2"):
        Layer(-2, 4)
    with pytest.raises(ValueError, match="num_layers must be a positive int.*got 0"):
        Layer(3, 4, num_layers=0)
    with pytest.raises(TypeError, match="hidden_size must be a positive int, got float 4.0"):
        Layer(3, 4.0)
    with pytest.raises(ValueError, match=r"dropout must be a number in \[0, 1\), got 1.5"):
        Layer(3, 4, dropout=1.5)


def test_unknown_nonlinearity():
    with pytest.raises(ValueError, match="nonlinearity must be one of 'tanh', 'relu', got 'sigmoid'"):
        RNN(3, 4, nonlinearity="sigmoid")


@pytest.mark.parametrize("Layer", [RNN, LSTM, GRU])
def test_input_errors(Layer):
    layer = Layer(8, 4).double()
    with pytest.raises(ValueError, match=r"input must be \(T, B, 8\) or \(T, 8\) for input_size=8.*got \(5, 3, 6\)"):
        layer(torch.zeros(5, 3, 6, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"got \(2, 5, 3, 8\)"):
        layer(torch.zeros(2, 5, 3, 8, dtype=torch.float64))
    with pytest.raises(TypeError, match="input must have dtype torch.float64.*got torch.float32"):
        layer(torch.zeros(5, 3, 8))
    with pytest.raises(TypeError, match="input must be a floating-point tensor, got dtype torch.int64"):
        layer(torch.zeros(5, 3, 8, dtype=torch.long))
    with pytest.raises(TypeError, match="input must be a torch.Tensor, got list"):
        layer([[0.0] * 8])
    with pytest.raises(ValueError, match="at least one time step"):
        layer(torch.zeros(0, 3, 8, dtype=torch.float64))
    bf = Layer(8, 4, batch_first=True).double()
    with pytest.raises(ValueError, match=r"input must be \(B, T, 8\)"):
        bf(torch.zeros(5, 3, 6, dtype=torch.float64))


@pytest.mark.parametrize("Layer", [RNN, GRU])
def test_initial_state_errors(Layer):
    layer = Layer(3, 4, num_layers=2, bidirectional=True).double()
    x = torch.zeros(5, 2, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"h_0 must be \(num_layers\*num_directions=4, batch=2, hidden_size=4\), got \(2, 2, 4\)"):
        layer(x, torch.zeros(2, 2, 4, dtype=torch.float64))
    with pytest.raises(TypeError, match="h_0 must have dtype torch.float64"):
        layer(x, torch.zeros(4, 2, 4))
    with pytest.raises(TypeError, match="single tensor h_0"):
        layer(x, (torch.zeros(4, 2, 4, dtype=torch.float64),) * 2)


def test_lstm_state_errors():
    layer = LSTM(3, 4).double()
    x = torch.zeros(5, 2, 3, dtype=torch.float64)
    h = torch.zeros(1, 2, 4, dtype=torch.float64)
    with pytest.raises(TypeError, match=r"hx must be a tuple \(h_0, c_0\)"):
        layer(x, h)
    with pytest.raises(ValueError, match=r"c_0 must be .*hidden_size=4\), got \(1, 2, 5\)"):
        layer(x, (h, torch.zeros(1, 2, 5, dtype=torch.float64)))


def test_bptt_errors():
    with pytest.raises(ValueError, match="mode must be one of 'sigma', 'radius', got 'norm'"):
        bptt.make_recurrent_matrix(4, 1.0, mode="norm")
    with pytest.raises(ValueError, match="scale must be a finite number >= 0, got -1"):
        bptt.make_recurrent_matrix(4, -1)
    p = bptt.RNNParams.random(3, 4, 2)
    with pytest.raises(ValueError, match=r"x must be \(T, B, input_size=3\), got \(5, 2, 4\)"):
        bptt.bptt(p, torch.zeros(5, 2, 4, dtype=torch.float64), torch.zeros(5, 2, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"y must be \(T=5, B=2, output_size=2\), got \(5, 2, 3\)"):
        bptt.bptt(p, torch.zeros(5, 2, 3, dtype=torch.float64), torch.zeros(5, 2, 3, dtype=torch.float64))
    with pytest.raises(TypeError, match="y must be a torch.long tensor"):
        bptt.bptt(p, torch.zeros(5, 2, 3, dtype=torch.float64), torch.zeros(5, 2, dtype=torch.float64), loss="ce")
    with pytest.raises(ValueError, match="loss must be one of 'mse', 'ce', got 'l1'"):
        bptt.bptt(p, torch.zeros(5, 2, 3, dtype=torch.float64), torch.zeros(5, 2, 2, dtype=torch.float64), loss="l1")
    with pytest.raises(ValueError, match="activation must be one of"):
        bptt.rnn_gradient_profile(torch.eye(3, dtype=torch.float64), 5, activation="softplus")
    with pytest.raises(ValueError, match=r"steps must be time indices in \[-5, 5\), got \[7\]"):
        bptt.bptt(p, torch.zeros(5, 2, 3, dtype=torch.float64), torch.zeros(5, 2, 2, dtype=torch.float64), steps=[7])


def test_data_and_train_errors():
    with pytest.raises(ValueError, match="T must be >= 2"):
        data.adding_problem(10, 1)
    with pytest.raises(ValueError, match="fractions must be numbers in"):
        data.split(range(10), (0.5, 0.6))
    with pytest.raises(ModuleNotFoundError, match="pip install"):
        data.package_file("no_such_package_xyz", "a.txt")
    with pytest.raises(ValueError, match="same length"):
        data.bmes_to_words("abc", "BE")
    with pytest.raises(TypeError, match="got a single str"):
        Vocab("abc")
    with pytest.raises(ValueError, match="all tensors in data must have the same length, got \\[3, 4\\]"):
        train.fit(torch.nn.Linear(1, 1), lambda m, x, y: 0, (torch.zeros(3, 1), torch.zeros(4, 1)), epochs=1)
