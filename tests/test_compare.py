"""helpers.compare (alternating timing, the update-gate plot) and helpers.nn.gru.replay_gates."""
import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")

from helpers import compare
from helpers.nn import gru
from helpers.adding import AddingModel, adding_loss


def test_time_alternating_reverses_the_order_every_round():
    calls = []
    fns = {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}
    times = compare.time_alternating(fns, repeats=4, number=2, warmup=1)
    assert calls == ["a", "b"] + ["a", "a", "b", "b", "b", "b", "a", "a"] * 2
    assert set(times) == {"a", "b"} and all(len(v) == 4 and min(v) >= 0 for v in times.values())


@pytest.mark.parametrize("kwargs, error", [
    (dict(fns={}), TypeError), (dict(fns={"a": 1}), TypeError), (dict(fns=[print]), TypeError),
    (dict(fns={"a": print}, repeats=0), ValueError), (dict(fns={"a": print}, number=0), ValueError),
    (dict(fns={"a": print}, warmup=-1), ValueError)])
def test_time_alternating_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error):
        compare.time_alternating(**kwargs)


def test_median_ms():
    assert compare.median_ms([0.003, 0.001, 0.002]) == pytest.approx(2.0)


def test_train_step_and_inference_leave_the_model_alone():
    torch.manual_seed(0)
    model = AddingModel("gru", 4)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = torch.rand(8, 5, 2), torch.rand(8)
    step = compare.train_step(model, adding_loss, x, y)
    for _ in range(3):
        step()
    compare.inference(model, x)()
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert model.training                                         # not switched to eval either


def test_speed_rows_report_medians_per_model():
    torch.manual_seed(0)
    models = {"LSTM": AddingModel("lstm", 4), "GRU": AddingModel("gru", 4)}
    rows = compare.speed_rows(models, adding_loss, torch.rand(6, 5, 2), torch.rand(6), repeats=3, number=1)
    assert [r["name"] for r in rows] == ["LSTM", "GRU"]
    for r in rows:
        assert r["train_ms"] > 0 and r["infer_ms_one"] > 0 and r["infer_ms_per_seq"] > 0
        assert r["train_ms"] == pytest.approx(compare.median_ms(r["raw"]["train"]))
        assert r["infer_ms_per_seq"] == pytest.approx(compare.median_ms(r["raw"]["batch"]) / 6)
    with pytest.raises(TypeError):
        compare.speed_rows({}, adding_loss, torch.rand(6, 5, 2), torch.rand(6))


def test_plot_update_gate_draws_one_line_per_unit_and_a_band_per_mark():
    z = np.random.default_rng(0).random((12, 5))
    ax = compare.plot_update_gate(z, [2, 9], [0, 3], title="t")
    assert len(ax.lines) == 2 + 2 and ax.get_title() == "t"
    with pytest.raises(ValueError, match=r"\(T, H\)"):
        compare.plot_update_gate(z[0], [1], [0])


def test_replay_gates_reproduces_nn_gru_and_returns_every_gate():
    torch.manual_seed(0)
    layer = torch.nn.GRU(2, 6, batch_first=True)
    x = torch.rand(4, 9, 2)
    h_T, gates = gru.replay_gates(layer, x)
    out, h_n = layer(x)
    assert torch.allclose(h_T, h_n[0], atol=1e-6)
    assert set(gates) == {"r", "z", "n"} and all(g.shape == (4, 9, 6) for g in gates.values())
    assert ((gates["z"] > 0) & (gates["z"] < 1)).all()
    # h_t = z ⊙ h_{t-1} + (1 − z) ⊙ h̃ at the last step
    h_prev = out[:, -2]
    assert torch.allclose(gates["z"][:, -1] * h_prev + (1 - gates["z"][:, -1]) * gates["n"][:, -1], h_T, atol=1e-6)


@pytest.mark.parametrize("layer, x, match", [
    (torch.nn.GRU(2, 3, num_layers=2, batch_first=True), torch.rand(1, 4, 2), "one-layer"),
    (torch.nn.GRU(2, 3, bidirectional=True, batch_first=True), torch.rand(1, 4, 2), "one-layer"),
    (torch.nn.GRU(2, 3), torch.rand(4, 1, 2), "batch_first"),
    (torch.nn.GRU(2, 3, batch_first=True), torch.rand(1, 4, 3), r"\(B, T, 2\)"),
    (torch.nn.GRU(2, 3, batch_first=True), torch.rand(4, 2), r"\(B, T, 2\)")])
def test_replay_gates_rejects_what_it_cannot_replay(layer, x, match):
    with pytest.raises(ValueError, match=match):
        gru.replay_gates(layer, x)
