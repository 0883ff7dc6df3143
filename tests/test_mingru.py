"""minGRU / minLSTM: the parallel and log-space modes equal the sequential loop (float64, forward
and gradients of every parameter, ~1e-10); the sequential loop equals the equations written
step by step; parameter counts; errors."""
import math

import pytest
import torch

from helpers.nn import gru
from helpers.nn.mingru import MODES, MinGRU, MinLSTM, g, log_g

TOL = 1e-10
CLASSES = {"mingru": MinGRU, "minlstm": MinLSTM}


def make(kind, I=3, H=4, seed=0):
    torch.manual_seed(seed)
    return CLASSES[kind](I, H).double()


def data(T, B=2, I=3, H=4, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(B, T, I, generator=gen, dtype=torch.float64) * 2
    h0 = torch.rand(B, H, generator=gen, dtype=torch.float64) + 0.1       # > 0 for the log mode
    return x, h0


def by_hand(model, x, h0):
    """The paper's equations, one step at a time, written independently of the module's code."""
    H = model.hidden_size
    W, b = model.weight_ih, model.bias_ih
    h = torch.zeros(x.shape[0], H, dtype=x.dtype) if h0 is None else h0
    out = []
    for t in range(x.shape[1]):
        k = x[:, t] @ W.T + b
        if isinstance(model, MinGRU):
            z, cand = torch.sigmoid(k[:, :H]), k[:, H:]
            cand = torch.where(cand >= 0, cand + 0.5, torch.sigmoid(cand))
            h = (1 - z) * h + z * cand
        else:
            f, i, cand = torch.sigmoid(k[:, :H]), torch.sigmoid(k[:, H:2 * H]), k[:, 2 * H:]
            cand = torch.where(cand >= 0, cand + 0.5, torch.sigmoid(cand))
            h = f / (f + i) * h + i / (f + i) * cand
        out.append(h)
    return torch.stack(out, 1)


@pytest.mark.parametrize("kind", CLASSES)
@pytest.mark.parametrize("T", (1, 2, 3, 7, 64, 100))
@pytest.mark.parametrize("with_h0", [True, False])
def test_modes_equal_forward(kind, T, with_h0):
    model = make(kind, seed=T)
    x, h0 = data(T, seed=T)
    h0 = h0 if with_h0 else None
    ref, h_n = model(x, h0, mode="sequential")
    assert ref.shape == (2, T, 4) and torch.equal(h_n, ref[:, -1])
    assert (ref - by_hand(model, x, h0)).abs().max() < TOL
    for mode in ("parallel", "log"):
        out, h_n = model(x, h0, mode=mode)
        assert (out - ref).abs().max() < TOL, mode
        assert (h_n - ref[:, -1]).abs().max() < TOL


@pytest.mark.parametrize("kind", CLASSES)
@pytest.mark.parametrize("T", (1, 2, 3, 7, 64, 100))
def test_modes_equal_gradients(kind, T):
    model = make(kind, seed=10 + T)
    x, h0 = data(T, seed=10 + T)
    w = torch.randn(2, T, 4, generator=torch.Generator().manual_seed(T), dtype=torch.float64)
    grads = {}
    for mode in MODES:
        xs, hs = x.clone().requires_grad_(), h0.clone().requires_grad_()
        out, _ = model(xs, hs, mode=mode)
        params = [model.weight_ih, model.bias_ih]
        grads[mode] = torch.autograd.grad((out * w).sum(), params + [xs, hs])
    for mode in ("parallel", "log"):
        for g_ref, g_mode in zip(grads["sequential"], grads[mode]):
            assert (g_mode - g_ref).abs().max() < TOL * max(1.0, g_ref.abs().max().item()), mode


def test_g_and_log_g():
    v = torch.linspace(-30, 30, 601, dtype=torch.float64)
    assert (g(v) > 0).all()
    mid = v > -10                       # below that log(σ(v)) itself loses digits; log_g does not
    assert (log_g(v[mid]) - g(v[mid]).log()).abs().max() < 1e-12
    assert abs(log_g(torch.tensor(-30.0, dtype=torch.float64)) - (-30 - torch.log1p(torch.exp(torch.tensor(-30.0, dtype=torch.float64))))) < 1e-12
    assert torch.all(g(v)[1:] > g(v)[:-1])                            # increasing
    assert abs(g(torch.tensor(0.0)) - 0.5) < 1e-12                     # continuous at 0: σ(0) = 0.5


def test_parameter_counts_beside_gru():
    I, H = 32, 64
    gru_layer = torch.nn.GRU(I, H, batch_first=True)
    n = {name: sum(p.numel() for p in m.parameters())
         for name, m in (("gru", gru_layer), ("mingru", MinGRU(I, H)), ("minlstm", MinLSTM(I, H)),
                         ("scratch_gru", gru.GRU(I, H, batch_first=True)))}
    assert n["gru"] == n["scratch_gru"] == 3 * H * (I + H) + 6 * H
    assert n["mingru"] == 2 * H * (I + 1)
    assert n["minlstm"] == 3 * H * (I + 1)
    assert n["mingru"] < n["gru"] / 3


def test_gates_do_not_read_the_state():
    """Changing h0 changes h_t only through the linear path: h_t(h0) − h_t(0) = Π a_s ⊙ h0."""
    model = make("mingru")
    x, h0 = data(9)
    out1, _ = model(x, h0, mode="sequential")
    out0, _ = model(x, None, mode="sequential")
    with torch.no_grad():
        k_z = (x @ model.weight_ih.T + model.bias_ih)[..., :4]
        a = 1 - torch.sigmoid(k_z)
    assert ((out1 - out0) - torch.cumprod(a, 1) * h0[:, None]).abs().max() < TOL
    # a GRU's difference is not of that form: its gates read h_{t-1}
    torch.manual_seed(0)
    layer = gru.GRU(3, 4, batch_first=True).double()
    d1 = layer(x, h0[None])[0] - layer(x)[0]
    d2 = layer(x, 2 * h0[None])[0] - layer(x)[0]
    assert (d2 - 2 * d1).abs().max() > 1e-3                           # not linear in h0


def test_errors():
    model = make("mingru")
    x, h0 = data(5)
    with pytest.raises(ValueError, match="mode must be"):
        model(x, mode="fast")
    with pytest.raises(ValueError, match=r"x must be a float tensor \(B, T >= 1, 3\)"):
        model(x[..., :2])
    with pytest.raises(ValueError, match="x must be"):
        model(x.long())
    with pytest.raises(ValueError, match="x must be"):
        model(x[:, :0])
    with pytest.raises(ValueError, match=r"h0 must be \(B, H\)"):
        model(x, h0[:1])
    with pytest.raises(ValueError, match="hidden_size"):
        MinGRU(3, 0)
    with pytest.raises(ValueError, match="batch_first"):
        MinLSTM(3, 4, batch_first=False)


def test_no_bias():
    model = MinGRU(3, 4, bias=False).double()
    x, h0 = data(7)
    assert sum(p.numel() for p in model.parameters()) == 2 * 4 * 3
    ref, _ = model(x, h0, mode="sequential")
    assert (model(x, h0)[0] - ref).abs().max() < TOL


# ----------------------------------------------------------------------------- helpers.modern (chapter glue)
def test_modern_models_shapes_and_causality():
    from helpers import modern
    torch.manual_seed(0)
    model = modern.AddingMin("mingru", 8)
    x = torch.rand(5, 12, 2)
    assert model(x).shape == (5,)
    seq = modern.AddingMin("mingru", 8, mode="sequential")
    seq.load_state_dict(model.state_dict())
    assert (seq(x) - model(x)).abs().max() < 1e-5
    with pytest.raises(ValueError, match="cell"):
        modern.AddingMin("gru")
    for lm_model in (modern.CharMinGRU(50, 8, 16, num_layers=2), modern.CharGRU(50, 8, 16)):
        ids = torch.randint(0, 50, (2, 10))
        ids2 = ids.clone()
        ids2[0, 6] = (ids2[0, 6] + 1) % 50
        with torch.no_grad():
            changed = (lm_model(ids2) - lm_model(ids)).abs().amax(-1)[0] > 0
        assert lm_model(ids).shape == (2, 10, 50)
        assert not changed[:6].any() and changed[6]                 # sees the past only


def test_modern_timers():
    from helpers import modern
    t = modern.time_scan(16, batch=2, hidden=3, repeat=1, backward=True, cpu=True, methods=("loop", "scan"))
    assert set(t) == {"loop", "scan"} and all(v > 0 for v in t.values())
    with pytest.raises(ValueError, match="methods"):
        modern.time_scan(16, methods=("fast",))
    model = modern.AddingMin("mingru", 4)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    from helpers.adding import adding_loss
    secs = modern.time_per_step(model, adding_loss, (torch.rand(4, 6, 2), torch.rand(4)), repeat=2)
    assert secs > 0
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())   # timing does not train


def test_train_adding_min_records_what_it_trained_on():
    """chapter 10's experiment checker rejects a model trained on another T by reading this stamp."""
    from helpers import modern
    model, history, mse = modern.train_adding_min("minlstm", 5, n_train=64, epochs=1, n_test=32, seed=3,
                                                  progress=False)
    assert model.trained_on == {"T": 5, "seed": 3} and math.isfinite(mse)
