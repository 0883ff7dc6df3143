"""The gradient explorer without a browser: the pure update function, the widget, the latency bench."""
import io

import numpy as np
import pytest
import torch
from PIL import Image

from helpers import bptt, widgets


def test_explorer_data_rnn_matches_the_profile_and_envelope():
    d = widgets.explorer_data(scale=0.9, T=50)["rnn"]
    W = bptt.make_recurrent_matrix(32, 0.9, "sigma", 0)
    p = bptt.rnn_gradient_profile(W, 50, with_jacobian=False)
    np.testing.assert_allclose(d["grad_norm"], p.grad_norm, rtol=1e-12)
    np.testing.assert_array_equal(d["k"], np.arange(51))
    assert d["grad_norm"][-1] == pytest.approx(1.0)
    np.testing.assert_allclose(d["envelope"], 0.9 ** (50 - np.arange(51)))
    assert d["sigma_max"] == pytest.approx(0.9)
    # the envelope bounds the measured gradient (tanh: γ = 1)
    assert np.all(d["grad_norm"] <= d["envelope"] * (1 + 1e-9))
    assert len(d["zero_k"]) == 0 and len(d["inf_k"]) == 0


def test_mode_radius_sets_the_spectral_radius():
    d = widgets.explorer_data(scale=1.2, mode="radius", T=20)["rnn"]
    assert d["spectral_radius"] == pytest.approx(1.2)
    assert d["sigma_max"] > 1.2


def test_tiny_scale_long_T_underflows_to_marked_zeros():
    d = widgets.explorer_data(scale=0.1, T=300, dtype="float32")["rnn"]
    assert len(d["zero_k"]) > 0
    assert np.all(d["grad_norm"][d["zero_k"]] == 0)
    assert d["zero_k"].max() < 300 and d["ratio"] == 0


def test_float32_large_radius_overflows_to_marked_inf():
    d = widgets.explorer_data(scale=3.0, mode="radius", activation="identity", T=200, dtype="float32")["rnn"]
    assert len(d["inf_k"]) > 0 and np.isinf(d["grad_norm"][d["inf_k"]]).all()
    assert not np.isnan(d["grad_norm"]).any()
    # the same setting in float64 stays finite: the overflow is float32's range
    d64 = widgets.explorer_data(scale=3.0, mode="radius", activation="identity", T=200)["rnn"]
    assert len(d64["inf_k"]) == 0


def test_saturation_vanishes_despite_large_scale():
    d = widgets.explorer_data(scale=2.0, input_scale=4.0, T=100)["rnn"]
    assert d["sigma_max"] * d["gamma"] > 1
    assert d["ratio"] < 1e-10
    assert d["saturated_fraction"] > 0.1


def test_sigmoid_threshold_is_four():
    d = widgets.explorer_data(scale=3.5, activation="sigmoid", T=100)["rnn"]
    assert d["gamma"] == 0.25
    assert d["ratio"] < 0.875 ** 100 * 1.0001          # γσ = 0.875 < 1: must vanish


def test_lstm_and_gru_use_the_gated_profile():
    data = widgets.explorer_data(models=("rnn", "lstm", "gru"), scale=1.0, T=40, gate_bias=2.0)
    assert set(data) == {"rnn", "lstm", "gru"}
    for kind in ("lstm", "gru"):
        ref = bptt.gated_gradient_profile(kind, 40, scale=1.0, gate_bias=2.0)
        np.testing.assert_allclose(data[kind]["grad_norm"], ref.grad_norm, rtol=1e-10)
        assert data[kind]["envelope"] is None


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("kw", [{"scale": None}, {"scale": 1.5, "mode": "radius", "input_scale": 2.0, "gate_bias": -1.0}])
def test_gated_profile_fast_equals_autograd(kind, kw):
    a = bptt.gated_gradient_profile(kind, 30, hidden_size=8, **kw)
    b = widgets.gated_profile_fast(kind, 30, hidden_size=8, **kw)
    np.testing.assert_allclose(b.grad_norm, a.grad_norm, rtol=1e-10)
    if kind == "lstm":
        np.testing.assert_allclose(b.extra["cell_grad_norm"], a.extra["cell_grad_norm"], rtol=1e-10)
    assert b.sigma_max == pytest.approx(a.sigma_max)


def test_gated_profile_fast_float32_close():
    a = bptt.gated_gradient_profile("lstm", 30, hidden_size=8, dtype=torch.float32)
    b = widgets.gated_profile_fast("lstm", 30, hidden_size=8, dtype=torch.float32)
    np.testing.assert_allclose(b.grad_norm, a.grad_norm, rtol=1e-4)


@pytest.mark.parametrize("kw, err", [
    ({"models": ("rnn", "transformer")}, ValueError), ({"models": ()}, ValueError), ({"T": 0}, ValueError),
    ({"T": 2.5}, TypeError), ({"mode": "norm"}, ValueError), ({"activation": "gelu"}, ValueError),
    ({"dtype": "float16"}, ValueError), ({"scale": -1.0}, ValueError), ({"input_scale": float("nan")}, ValueError),
    ({"gate_bias": float("inf")}, ValueError)])
def test_explorer_data_rejects_bad_settings(kw, err):
    with pytest.raises(err):
        widgets.explorer_data(**kw)


def test_axis_limits_and_ticks():
    data = widgets.explorer_data(scale=0.5, T=110)
    kmax, lo, hi = widgets.axis_limits(data)
    assert kmax == 110 and hi >= 1
    assert widgets.x_ticks(110) == list(range(0, 111, 20)) and len(widgets.x_ticks(300)) <= 9
    assert 10.0 ** lo <= data["rnn"]["grad_norm"][data["rnn"]["grad_norm"] > 0].min()
    ticks = widgets.y_ticks(-100, 5)
    assert len(ticks) <= 8 and all(-100 <= t <= 5 for t in ticks) and 0 in ticks


def _pixels(jpeg: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"), dtype=np.int16)


def test_widget_sliders_update_image_and_data():
    box = widgets.gradient_explorer(T=50)
    ex = box.explorer
    assert ex.T.value == 50 and ex.data["rnn"]["k"][-1] == 50
    first = ex.image.value
    assert first[:2] == b"\xff\xd8"                       # a JPEG
    ex.scale.value = 1.5                                   # what a slider move does
    assert ex.data["rnn"]["sigma_max"] == pytest.approx(1.5)
    assert ex.image.value != first
    assert np.abs(_pixels(ex.image.value) - _pixels(first)).mean() > 0.1
    ex.T.value = 200
    assert ex.data["rnn"]["k"][-1] == 200
    ex.mode.value = "radius"
    assert ex.data["rnn"]["spectral_radius"] == pytest.approx(1.5)
    assert "σ_max" in ex.status.value and "无法计算" not in ex.status.value


def test_widget_marks_overflow_in_status_and_on_plot():
    box = widgets.gradient_explorer(scale=3.0, mode="radius", activation="identity", T=200, dtype="float32")
    ex = box.explorer
    assert len(ex.data["rnn"]["inf_k"]) > 0
    assert "inf" in ex.status.value
    xs, ys = ex.figure.infs["rnn"].get_data()
    assert len(xs) == len(ex.data["rnn"]["inf_k"]) and np.all(np.asarray(ys) == 10.0 ** ex.figure.limits[2])
    ex.scale.value = 0.1
    ex.activation.value = "tanh"
    assert len(ex.data["rnn"]["zero_k"]) > 0 and "下溢" in ex.status.value
    xs, _ = ex.figure.zeros["rnn"].get_data()
    assert len(xs) == len(ex.data["rnn"]["zero_k"])


def test_widget_with_lstm_has_gate_bias_and_both_curves():
    ex = widgets.gradient_explorer(models=("rnn", "lstm"), T=40).explorer
    assert ex.gate_bias in ex.controls
    ex.gate_bias.value = 4.0
    assert set(ex.data) == {"rnn", "lstm"}
    assert len(ex.figure.lines["lstm"].get_xdata()) == 41


def test_gradient_explorer_rejects_unknown_settings():
    with pytest.raises(TypeError, match="unknown settings"):
        widgets.gradient_explorer(sigma=1.0)
    with pytest.raises(ValueError):
        widgets.gradient_explorer(models=("cnn",))


def test_benchmark_latency_reports_percentiles():
    r = widgets.benchmark_latency(n=6)
    assert r["n"] == 6 and 0 < r["p50_ms"] <= r["p95_ms"] <= r["max_ms"]
    assert r["full_redraws"] == 0          # the static part is drawn once, before the moves


def test_extreme_settings_never_fail_or_warn():
    import itertools
    import warnings

    ex = widgets.gradient_explorer().explorer
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # a warning would show up as "无法计算" in the status
        for scale, T, mode, act, dt in itertools.product((0.1, 3.0), (10, 300), ("sigma", "radius"),
                                                         widgets.EXPLORER_ACTIVATIONS, ("float32", "float64")):
            for control, value in ((ex.scale, scale), (ex.T, T), (ex.mode, mode), (ex.activation, act), (ex.dtype, dt)):
                control.value = value
            assert "无法计算" not in ex.status.value, (scale, T, mode, act, dt, ex.status.value)
            _, lo, hi = ex.figure.limits
            assert widgets.Y_FLOOR <= lo < 0 < hi <= widgets.Y_CEIL and 10.0 ** lo > 0


def test_verdict_names_sufficient_and_necessary():
    d = widgets.explorer_data(scale=0.5, T=50)["rnn"]
    assert "充分条件" in widgets.verdict(d) and "消失" in widgets.verdict(d)
    d = widgets.explorer_data(scale=1.1, mode="radius", activation="identity", T=200)["rnn"]
    assert "必要条件" in widgets.verdict(d) and "爆炸" in widgets.verdict(d)


# ----------------------------------------------------------------------------- attention (issue 13)
OFFSETS = range(6)      # SEQCOURSE_SEED offsets: the explorer's random W and inputs move with them


def test_attention_gradient_equals_autograd():
    for dtype, tol in ((torch.float64, 1e-10), (torch.float32, 1e-4)):
        p = bptt.attention_gradient_profile(40, 8, 1.3, "radius", 2.0, seed=3, dtype=dtype)
        Wq, Wk, Wv, x, v = (t.to(dtype) for t in bptt.attention_setup(40, 8, 1.3, "radius", 2.0, seed=3))
        x = x.clone().requires_grad_()
        y, alpha = bptt.attention_forward(Wq, Wk, Wv, x)
        (y @ v).backward()
        np.testing.assert_allclose(p.grad_norm, x.grad.norm(dim=1).double().numpy(), rtol=tol)
        np.testing.assert_allclose(p.extra["weights"], alpha.double().detach().numpy(), rtol=tol)
        assert p.extra["weights"].sum() == pytest.approx(1.0)
        np.testing.assert_array_equal(p.k, np.arange(1, 41))


def test_attention_reads_the_same_inputs_as_the_rnn():
    _, _, _, x, v = bptt.attention_setup(30, 8, 1.0, input_scale=1.5, seed=2)
    g = bptt.generator(2)
    z = torch.randn(30, 8, generator=g, dtype=torch.float64) * 1.5
    assert torch.equal(x, z)
    for W in bptt.attention_setup(30, 8, 1.7, mode="radius", seed=2)[:3]:
        assert bptt.spectral_radius(W) == pytest.approx(1.7)


@pytest.mark.parametrize("offset", OFFSETS)
def test_attention_flat_where_the_rnn_decays_at_the_defaults(offset, monkeypatch):
    """Issue 13 item 5, at the explorer's defaults (scale 1, σ_max mode, T = 100), every offset."""
    monkeypatch.setenv("SEQCOURSE_SEED", str(offset))
    data = widgets.explorer_data(models=("rnn", "lstm", "attention"))
    att, rnn = data["attention"], data["rnn"]
    assert att["k"][0] == 1 and att["k"][-1] == 100 and att["envelope"] is None
    g = att["input_grad_norm"][:-1]
    assert 1 / 3 < att["far_near"] < 3                      # measured 0.90-1.09 over offsets 0-5
    assert g.max() / g.min() < 30                           # measured ≤ 9.9
    assert rnn["far_near"] < 1e-20                          # measured ≤ 1.7e-34
    assert att["grad_norm"][0] > 1e20 * rnn["input_grad_norm"][0]
    assert len(att["zero_k"]) == len(att["inf_k"]) == 0


def test_rnn_input_gradient_is_f_prime_times_hidden_gradient():
    d = widgets.explorer_data(scale=0.9, T=30, activation="identity")["rnn"]
    np.testing.assert_allclose(d["input_grad_norm"], d["grad_norm"][1:], rtol=1e-12)   # f' = 1
    assert widgets.far_near(np.ones(20)) == pytest.approx(1.0) and np.isnan(widgets.far_near(np.ones(3)))


def test_widget_with_attention():
    ex = widgets.gradient_explorer(models=("rnn", "attention"), T=60).explorer
    assert ex.gate_bias not in ex.controls                  # no gates in these two models
    assert set(ex.data) == {"rnn", "attention"} and len(ex.figure.lines["attention"].get_xdata()) == 60
    assert "注意力" in ex.status.value and "无法计算" not in ex.status.value
    ex.scale.value = 2.5
    assert ex.data["attention"]["sigma_max"] == pytest.approx(2.5)
    ex3 = widgets.gradient_explorer(models=("rnn", "lstm", "attention")).explorer
    assert ex3.gate_bias in ex3.controls


# ----------------------------------------------------------------------------- projector size (issue 12)
def test_image_is_rendered_large_and_fills_the_output_width():
    ex = widgets.gradient_explorer().explorer
    w, h = Image.open(io.BytesIO(ex.image.value)).size
    assert w >= 1000 and h >= 450
    assert ex.figure.label_font.size / w * 800 >= 16       # 16 px or more even when shown 800 px wide
    assert ex.image.layout.width == "100%"
    assert ex.figure.label_font.size >= 16                  # tick labels: 16 px or more in the image
    assert all(c.layout.width in ("98%", None, "auto") for c in ex.controls)
    assert ex.scale.max >= 4.0                              # the sigmoid threshold 1/γ = 4 is reachable


def test_status_never_wraps_inside_a_number():
    import re

    ex = widgets.gradient_explorer(models=("rnn", "lstm", "attention")).explorer
    html = ex.status.value
    outside = re.sub(r"<span style='white-space:nowrap'>.*?</span>", "", html.replace("<br>", ""))
    outside = re.sub(r"<[^>]*>", "", outside)               # tags such as <div style='font-size:1.05em'>
    assert outside.strip("；") == "", outside                # every clause (and number) sits in a nowrap span
    assert "e-" in html


# ----------------------------------------------------------------------------- chapter 04's numbers, every offset
CHAPTER_CASES = [   # (settings, check on the RNN's data): what notebook 04 asserts and its tips promise
    (dict(scale=0.9), lambda d: d["ratio"] < 0.9 ** 100),
    (dict(scale=1.5, activation="identity"), lambda d: d["ratio"] < 1e-4),
    (dict(scale=1.1, mode="radius", activation="identity"), lambda d: d["ratio"] > 1e2),
    (dict(scale=3.0, mode="radius", input_scale=1.0), lambda d: d["ratio"] > 1e3 and d["saturated_fraction"] < 0.2),
    (dict(scale=3.0, mode="radius", input_scale=4.0), lambda d: d["ratio"] < 1e-5 and d["saturated_fraction"] > 0.25),
    (dict(scale=3.0, activation="sigmoid"), lambda d: d["ratio"] < 0.75 ** 100),
    (dict(scale=1.5), lambda d: d["ratio"] < 1e-3 and d["spectral_radius"] < 1),          # tip 1, exercise 4 (A)
    (dict(scale=1.1, mode="radius", activation="identity", T=300), lambda d: d["ratio"] > 1e6),   # tip 3
    (dict(scale=4.5, activation="sigmoid"), lambda d: d["gamma"] * d["sigma_max"] > 1),   # tip 5: reachable
    (dict(scale=2.0, mode="radius", activation="identity", T=200, dtype="float32"), lambda d: len(d["inf_k"]) > 0),
    (dict(scale=0.1, T=300, dtype="float32"), lambda d: len(d["zero_k"]) > 0),             # tip 6
]


@pytest.mark.parametrize("offset", OFFSETS)
def test_chapter_04_cases_hold_for_every_offset(offset, monkeypatch):
    monkeypatch.setenv("SEQCOURSE_SEED", str(offset))
    for settings, check in CHAPTER_CASES:
        kw = {"T": 100, **settings}
        assert widgets.SCALE_RANGE[0] <= kw["scale"] <= widgets.SCALE_RANGE[1]      # a slider can reach it
        d = widgets.explorer_data(**kw)["rnn"]
        assert check(d), (offset, settings, d["ratio"], d["saturated_fraction"])


# ----------------------------------------------------------------------------- chapter 10: minGRU and linear attention
def test_linear_attention_gradient_equals_autograd():
    from helpers.nn import linear_attention as la

    for dtype, tol in ((torch.float64, 1e-10), (torch.float32, 1e-4)):
        p = bptt.linear_attention_gradient_profile(40, 8, 1.3, "radius", 2.0, seed=3, dtype=dtype)
        Wq, Wk, Wv, x, v = (t.to(dtype) for t in bptt.attention_setup(40, 8, 1.3, "radius", 2.0, seed=3))
        x = x.clone().requires_grad_()
        y = la.masked_form((x @ Wq.T)[None], (x @ Wk.T)[None], (x @ Wv.T)[None])[0, -1]   # the layer at T
        (y @ v).backward()
        np.testing.assert_allclose(p.grad_norm, x.grad.norm(dim=1).double().numpy(), rtol=tol)
        assert p.extra["weights"].sum() == pytest.approx(1.0)


@pytest.mark.parametrize("gate_bias", [-2.0, 0.0, 3.0])
def test_mingru_gradient_equals_autograd(gate_bias):
    T, H = 30, 8
    p = bptt.mingru_gradient_profile(T, H, 1.2, "sigma", 1.5, gate_bias, seed=4)
    g = bptt.generator(4)
    x = torch.randn(T, H, generator=g, dtype=torch.float64) * 1.5
    v = torch.randn(H, generator=g, dtype=torch.float64)
    v = v / v.norm()
    Wz = bptt.make_recurrent_matrix(H, 1.2, "sigma", 5)
    Wh = torch.randn(H, H, dtype=torch.float64)                     # the candidate never reaches ∂h_t/∂h_{t−1}
    hs = [torch.zeros(H, dtype=torch.float64, requires_grad=True)]
    for t in range(T):
        z = torch.sigmoid(Wz @ x[t] - gate_bias)
        h = (1 - z) * hs[-1] + z * (Wh @ x[t])                          # minGRU: z and h̃ read x_t only
        h.retain_grad()
        hs.append(h)
    (hs[-1] @ v).backward()
    want = np.array([t.grad.norm().item() for t in hs])
    np.testing.assert_allclose(p.grad_norm, want, rtol=1e-10)
    assert np.all(np.diff(p.grad_norm) >= 0)                        # every factor 1 − z_t < 1: never grows


@pytest.mark.parametrize("offset", OFFSETS)
def test_chapter_10_paths(offset, monkeypatch):
    """Which paths keep gradients alive (chapter 10 §5): linear attention flat like attention,
    minGRU a product of gates (kept alive by the gate bias, never exploding), the RNN decaying."""
    monkeypatch.setenv("SEQCOURSE_SEED", str(offset))
    models = ("rnn", "lstm", "mingru", "attention", "linear_attention")
    data = widgets.explorer_data(models=models)
    lin = data["linear_attention"]
    assert lin["k"][0] == 1 and 1 / 3 < lin["far_near"] < 3
    assert data["rnn"]["far_near"] < 1e-20
    kept = widgets.explorer_data(models=("mingru",), gate_bias=4.0)["mingru"]
    assert data["mingru"]["ratio"] < 1e-10 < 1e-2 < kept["ratio"] <= 1
    big = widgets.explorer_data(models=("mingru",), scale=5.0, input_scale=5.0)["mingru"]
    assert big["grad_norm"].max() <= 1 + 1e-12 and len(big["inf_k"]) == 0


def test_widget_with_chapter_10_models():
    ex = widgets.gradient_explorer(models=("rnn", "lstm", "mingru", "attention", "linear_attention"), T=50).explorer
    assert ex.gate_bias in ex.controls
    assert set(ex.figure.lines) == {"rnn", "lstm", "mingru", "attention", "linear_attention"}
    assert "minGRU" in ex.status.value and "线性注意力" in ex.status.value and "无法计算" not in ex.status.value
    before = ex.data["mingru"]["ratio"]
    ex.gate_bias.value = 4.0
    assert ex.data["mingru"]["ratio"] > before
    img = Image.open(io.BytesIO(ex.image.value))
    assert img.size == (1000, 480)
