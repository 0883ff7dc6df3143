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


def test_defaults_train_exactly_like_helpers_train_fit():
    """train_adding has its own loop (for the options below); with the defaults it is fit()."""
    from helpers.adding import TEST_SEED_OFFSET
    from helpers.env import set_seed
    from helpers.train import fit

    model, history, mse = train_adding("lstm", 6, n_train=96, n_test=32, epochs=2, hidden_size=4, progress=False)
    x, y = adding_problem(96, 6, seed=0)
    x_test, y_test = adding_problem(32, 6, seed=TEST_SEED_OFFSET)
    set_seed(0)
    twin = AddingModel("lstm", 4)
    ref = fit(twin, adding_loss, (x, y), epochs=2, batch_size=64, lr=1e-2, clip=1.0, seed=0, progress=False,
              eval_fn=lambda m: {"test_mse": evaluate(m, x_test, y_test)})
    assert history.loss == ref.loss and history.grad_norm == ref.grad_norm and history.metrics == ref.metrics
    assert mse == evaluate(twin, x_test, y_test)


def test_stop_mse_stops_after_the_first_epoch_at_or_below_it_on_the_validation_set():
    full = train_adding("rnn", 5, n_train=200, n_test=50, n_val=50, epochs=4, hidden_size=4, progress=False,
                        keep_best=True)[1]
    val = [m["val_mse"] for m in full.metrics]
    assert len(val) == 4 and all("test_mse" in m for m in full.metrics)
    stop = sorted(val)[1]                                        # reached at some epoch, not only at the best
    first = next(e for e, v in enumerate(val) if v <= stop) + 1
    _, history, _ = train_adding("rnn", 5, n_train=200, n_test=50, n_val=50, epochs=4, hidden_size=4,
                                 progress=False, stop_mse=stop)
    assert len(history.loss) == first and history.loss == full.loss[:first]


def test_keep_best_restores_the_epoch_with_the_lowest_validation_mse():
    _, history, mse = train_adding("rnn", 5, n_train=200, n_test=50, n_val=50, epochs=4, hidden_size=4, lr=0.05,
                                   progress=False, keep_best=True)
    best = min(range(4), key=lambda e: history.metrics[e]["val_mse"])
    assert mse == pytest.approx(history.metrics[best]["test_mse"], abs=1e-7)


def test_lr_decay_changes_training_and_one_changes_nothing():
    kw = dict(n_train=128, n_test=32, epochs=3, hidden_size=4, progress=False)
    plain = train_adding("gru", 5, **kw)[1].loss
    assert train_adding("gru", 5, lr_decay=1.0, **kw)[1].loss == plain
    decayed = train_adding("gru", 5, lr_decay=0.5, **kw)[1].loss
    assert decayed[0] == plain[0] and decayed[1:] != plain[1:]


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(lr_decay=0), ValueError, "lr_decay must be a number > 0"),
    (dict(stop_mse=-1.0), ValueError, "stop_mse must be None or a number > 0"),
    (dict(stop_mse=True), ValueError, "stop_mse"),
    (dict(n_val=0), ValueError, "n_val must be a positive int"),
    (dict(epochs=0), ValueError, "epochs must be a positive int"),
    (dict(clip=0), ValueError, "clip must be None or a number > 0"),
])
def test_new_options_are_checked(kwargs, error, match):
    with pytest.raises(error, match=match):
        train_adding("lstm", 5, **kwargs)


def test_lstm_gates_replay_the_trained_layer():
    from helpers.adding import lstm_gates

    torch.manual_seed(0)
    model = AddingModel("lstm", hidden_size=5, forget_bias=1.0)
    x, _ = adding_problem(7, 9, seed=3)
    gates = lstm_gates(model, x)
    assert gates["i"].shape == gates["f"].shape == gates["c"].shape == (7, 9, 5)
    with torch.no_grad():
        assert gates["pred"] == pytest.approx(model(x).numpy(), abs=1e-5)
        _, (_, c_n) = model.rnn(x)
    assert gates["c"][:, -1] == pytest.approx(c_n[0].numpy(), abs=1e-5)
    with pytest.raises(TypeError, match="kind='lstm'"):
        lstm_gates(AddingModel("gru", hidden_size=3), x)


def test_gate_summary_and_memory_unit_find_a_planted_memory_unit():
    import numpy as np

    from helpers.adding import gate_summary, mark_positions, memory_unit

    x, _ = adding_problem(6, 12, seed=1)
    marks = mark_positions(x)
    assert marks.shape == (6, 2) and (marks[:, 0] < 6).all() and (marks[:, 1] >= 6).all()
    N, T, H = 6, 12, 4
    i = np.full((N, T, H), 0.2)
    f = np.full((N, T, H), 0.5)
    i[np.arange(N)[:, None], marks, 2] = 0.9            # unit 2 writes at the marks ...
    f[..., 2] = 0.99                                     # ... and keeps what it wrote
    i[np.arange(N)[:, None], marks, 0] = 1.0            # unit 0 writes more but forgets
    s = gate_summary({"i": i, "f": f}, x)
    assert s["i_marks"][:, 2] == pytest.approx(0.9) and s["i_rest"][:, 2] == pytest.approx(0.2)
    assert s["f_between"].shape == (N, H) and s["f_between"][:, 2] == pytest.approx(0.99)
    assert memory_unit(s) == 2


def test_figures_draw_runs_and_a_memory_unit():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.adding import lstm_gates, plot_memory_unit, plot_runs

    kw = dict(n_train=64, n_test=16, epochs=2, hidden_size=4, progress=False)
    runs = {"rnn": [train_adding("rnn", 6, **kw)], "lstm": [train_adding("lstm", 6, seed=s, **kw) for s in (0, 1)]}
    fig = plot_runs(runs)
    left, right = fig.axes
    assert len(left.lines) == 3 + 1 and len(right.lines) == 3 + 1          # one per run, plus the baseline
    x, _ = adding_problem(3, 6)
    fig2 = plot_memory_unit(lstm_gates(runs["lstm"][0][0], x), x, unit=1, n=2)
    assert len(fig2.axes[0].lines) == 2 + 2                                  # i and f, and the two marks
    plt.close("all")
