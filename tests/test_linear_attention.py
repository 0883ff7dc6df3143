"""Linear attention (chapter 10, part 2): the masked and the recurrent form are the same function,
forward and gradients, in float64, with and without decay, for any T; the small LM's parallel
forward equals its step-by-step generation with a constant-size state."""
import pytest
import torch

from helpers.lm import GPT
from helpers.nn import linear_attention as la


def _inputs(B=2, T=7, dk=4, dv=3, seed=0, decay=None):
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(B, T, d, generator=g, dtype=torch.float64, requires_grad=True)
               for d in (dk, dk, dv))
    if decay == "gate":
        decay = (0.5 + 0.5 * torch.rand(B, T, generator=g, dtype=torch.float64)).requires_grad_()
    return q, k, v, decay


def _grads(out, tensors, seed=1):
    w = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    ts = [t for t in tensors if isinstance(t, torch.Tensor)]
    gs = torch.autograd.grad((out * w).sum(), ts, allow_unused=True)   # γ_1 multiplies S_0 = 0: unused at T = 1
    return [torch.zeros_like(t) if g is None else g for t, g in zip(ts, gs)]


@pytest.mark.parametrize("T", [1, 2, 5, 8, 13, 64])
@pytest.mark.parametrize("decay", [None, 0.9, "gate"])
@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("mode", ["loop", "scan"])
def test_masked_equals_recurrent(T, decay, normalize, mode):
    q, k, v, d = _inputs(T=T, decay=decay)
    d = 0.9 if decay == 0.9 else d
    y1 = la.masked_form(q, k, v, d, normalize)
    y2 = la.recurrent_form(q, k, v, d, normalize, mode=mode)
    assert y1.shape == y2.shape == (2, T, 3)
    assert (y1 - y2).abs().max() < 1e-10
    for g1, g2 in zip(_grads(y1, (q, k, v, d)), _grads(y2, (q, k, v, d))):
        assert (g1 - g2).abs().max() < 1e-10


def test_no_decay_is_katharopoulos_sum():
    """y_t = Σ_{s≤t} φ(q_t)·φ(k_s) v_s / Σ_{s≤t} φ(q_t)·φ(k_s), written out with loops."""
    q, k, v, _ = _inputs(B=1, T=5)
    fq, fk = la.feature_map(q[0]), la.feature_map(k[0])
    want = torch.stack([sum((fq[t] @ fk[s]) * v[0, s] for s in range(t + 1)) /
                        sum(fq[t] @ fk[s] for s in range(t + 1)) for t in range(5)])
    assert (la.masked_form(q, k, v)[0] - want).abs().max() < 1e-12


def test_decay_mask_is_product_of_gates():
    g = torch.tensor([[0.5, 0.8, 0.9, 0.7]], dtype=torch.float64)
    D = la.decay_mask(g)[0]
    assert D[3, 1].item() == pytest.approx(0.9 * 0.7, abs=1e-14)
    assert D[2, 2].item() == pytest.approx(1.0, abs=1e-14)
    assert D[1, 3].item() == 0.0


def test_decay_forgets_and_feature_map_positive():
    x = torch.linspace(-30, 30, 101, dtype=torch.float64)
    assert (la.feature_map(x) > 0).all()
    q, k, v, _ = _inputs(T=30)
    # a tiny decay leaves (almost) only the last position: y_t -> v_t
    y = la.masked_form(q, k, v, 1e-6)
    assert (y - v).abs().max() < 1e-4


def test_state_size_independent_of_T():
    for T in (4, 40):
        q, k, v, _ = _inputs(T=T)
        _, (S, z) = la.recurrent_form(q, k, v, return_state=True)
        assert S.shape == (2, 4, 3) and z.shape == (2, 4)
    assert la.state_numel(4, 3) == 16 and la.state_numel(4, 3, normalize=False) == 12


def test_lm_parallel_equals_step_by_step():
    torch.manual_seed(0)
    lm = la.LinearLM(50, d_model=16, num_heads=2, num_layers=2).double()
    x = torch.randint(0, 50, (3, 11))
    full = lm(x)
    state, steps = None, []
    for t in range(11):
        logits, state = lm.step(x[:, t:t + 1], state)
        steps.append(logits)
    assert (torch.cat(steps, 1) - full).abs().max() < 1e-10
    assert la.cache_bytes(state) == 2 * (3 * 2) * (8 * 8 + 8) * 8      # layers · (B·heads) · (d_k² + d_k) · 8 bytes
    logits, pre = lm.prefill(x)
    assert (logits - full).abs().max() < 1e-10
    for (S1, z1), (S2, z2) in zip(pre, state):
        assert (S1 - S2).abs().max() < 1e-10 and (z1 - z2).abs().max() < 1e-10


def test_lm_gradients_flow_through_decay():
    lm = la.LinearLM(20, d_model=8, num_heads=2, num_layers=1).double()
    x = torch.randint(0, 20, (2, 6))
    lm(x).sum().backward()
    assert lm.blocks[0].decay_logit.grad is not None and lm.blocks[0].decay_logit.grad.abs().sum() > 0


def test_kv_cache_grows_state_does_not():
    gpt = GPT(30, d_model=16, num_heads=2, num_layers=2, max_len=64).eval()
    lin = la.LinearLM(30, d_model=16, num_heads=2, num_layers=2).eval()
    x = torch.randint(0, 30, (1, 1))
    cache, state, kv, st = None, None, [], []
    for _ in range(20):
        _, cache = gpt.forward_cached(x, cache)
        _, state = lin.step(x, state)
        kv.append(la.cache_bytes(cache))
        st.append(la.cache_bytes(state))
    assert kv == [2 * 2 * 16 * 4 * (i + 1) for i in range(20)]         # 2 blocks × (K, V) × d × 4 bytes × S
    assert len(set(st)) == 1


@pytest.mark.parametrize("bad, match", [
    (dict(q=torch.zeros(2, 3, dtype=torch.float64)), "q"),
    (dict(k=torch.zeros(2, 4, 4, dtype=torch.float64)), "k"),
    (dict(v=torch.zeros(1, 5, 3, dtype=torch.float64)), "v"),
    (dict(decay=1.5), "decay"),
    (dict(decay=0.0), "decay"),
    (dict(decay=torch.zeros(2, 5, dtype=torch.float64)), "decay"),
    (dict(decay=torch.ones(2, 4, dtype=torch.float64)), "decay"),
    (dict(q=torch.zeros(2, 0, 4, dtype=torch.float64), k=torch.zeros(2, 0, 4, dtype=torch.float64),
          v=torch.zeros(2, 0, 3, dtype=torch.float64)), "time step"),
])
def test_bad_inputs_say_what_was_expected(bad, match):
    q, k, v, _ = _inputs(T=5)
    args = dict(q=q.detach(), k=k.detach(), v=v.detach(), decay=None)
    args.update(bad)
    with pytest.raises((ValueError, TypeError), match=match):
        la.masked_form(**args)
    with pytest.raises((ValueError, TypeError), match=match):
        la.recurrent_form(**args)


def test_bad_mode():
    q, k, v, _ = _inputs()
    with pytest.raises(ValueError, match="mode"):
        la.recurrent_form(q, k, v, mode="parallel")
