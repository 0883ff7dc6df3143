"""Tests for helpers.adding: the shared adding-problem model and trainer."""
import pytest
import torch

from helpers.adding import ADDING_BASELINE_MSE, AddingModel, adding_loss, evaluate, train_adding
from helpers.data import adding_problem


@pytest.mark.parametrize("kind, layer", [("rnn", torch.nn.RNN), ("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU)])
def test_model_wraps_the_torch_layer_and_predicts_one_number_per_sequence(kind, layer):
    model = AddingModel(kind, hidden_size=8)
    assert type(model.rnn) is layer and model.rnn.batch_first and model.rnn.hidden_size == 8
    x, _ = adding_problem(5, 7)
    assert model(x).shape == (5,)


def test_prediction_reads_the_last_hidden_state():
    torch.manual_seed(0)
    model = AddingModel("gru", hidden_size=4)
    x, _ = adding_problem(3, 6)
    out, _ = model.rnn(x)
    expected = out[:, -1] @ model.head.weight[0] + model.head.bias[0]
    assert torch.allclose(model(x), expected, atol=1e-6)


def test_forget_bias_shifts_only_the_forget_gate_block():
    torch.manual_seed(0)
    plain = AddingModel("lstm", hidden_size=4)
    torch.manual_seed(0)
    shifted = AddingModel("lstm", hidden_size=4, forget_bias=2.0)
    diff = shifted.rnn.bias_hh_l0 - plain.rnn.bias_hh_l0        # gate order i, f, g, o
    assert torch.allclose(diff[4:8], torch.full((4,), 2.0))
    assert torch.all(diff[:4] == 0) and torch.all(diff[8:] == 0)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="kind must be one of"):
        AddingModel("transformer")
    with pytest.raises(ValueError, match="forget_bias is for kind='lstm' only"):
        AddingModel("gru", forget_bias=1.0)
    with pytest.raises(TypeError, match="hidden_size must be a positive int"):
        AddingModel("rnn", hidden_size=3.5)
    with pytest.raises(ValueError, match=r"x must be \(B, T, input_size=2\), got \(4, 3\)"):
        AddingModel("rnn")(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="lr must be a number > 0"):
        train_adding("rnn", 5, lr=0)


def test_loss_is_the_mean_squared_error():
    model = AddingModel("rnn", hidden_size=4)
    x, y = adding_problem(10, 5)
    assert torch.isclose(adding_loss(model, x, y), ((model(x) - y) ** 2).mean())
    with torch.no_grad():
        assert evaluate(model, x, y) == pytest.approx(float(((model(x) - y) ** 2).mean()))


def test_training_is_reproducible_and_records_the_test_mse_each_epoch():
    a = train_adding("lstm", 6, n_train=64, n_test=32, epochs=2, hidden_size=4, progress=False)
    b = train_adding("lstm", 6, n_train=64, n_test=32, epochs=2, hidden_size=4, progress=False)
    assert a[2] == b[2] and a[1].loss == b[1].loss
    assert len(a[1].loss) == 2 and [sorted(m) for m in a[1].metrics] == [["test_mse"], ["test_mse"]]
    assert a[1].metrics[-1]["test_mse"] == pytest.approx(a[2])
    c = train_adding("lstm", 6, n_train=64, n_test=32, epochs=2, hidden_size=4, seed=1, progress=False)
    assert c[2] != a[2]


def test_a_plain_rnn_learns_the_short_adding_problem():
    _, history, mse = train_adding("rnn", 5, n_train=1000, n_test=500, epochs=6, progress=False)
    assert mse < 0.6 * ADDING_BASELINE_MSE
    assert history.loss[-1] < history.loss[0]
