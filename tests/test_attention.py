"""helpers.nn.attention equals PyTorch in float64: scaled dot-product attention and nn.MultiheadAttention."""
import random

import pytest
import torch
from torch import nn

from helpers.nn import attention as att

D = torch.float64


def test_sdpa_matches_torch_with_and_without_masks():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, n, 4, generator=g, dtype=D) for n in (5, 6, 6))
    out, w = att.scaled_dot_product_attention(q, k, v)
    assert torch.allclose(out, nn.functional.scaled_dot_product_attention(q, k, v), atol=1e-12)
    assert torch.allclose(w.sum(-1), torch.ones(2, 3, 5, dtype=D))
    allowed = torch.rand(5, 6, generator=g) > 0.3
    allowed[:, 0] = True
    ref = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    assert torch.allclose(att.scaled_dot_product_attention(q, k, v, attn_mask=allowed)[0], ref, atol=1e-12)
    addm = torch.randn(5, 6, generator=g, dtype=D)
    ref = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=addm)
    assert torch.allclose(att.scaled_dot_product_attention(q, k, v, attn_mask=addm)[0], ref, atol=1e-12)
    qc = torch.randn(2, 6, 4, generator=g, dtype=D)
    ref = nn.functional.scaled_dot_product_attention(qc, k[:, 0], v[:, 0], is_causal=True)
    out, w = att.scaled_dot_product_attention(qc, k[:, 0], v[:, 0], is_causal=True)
    assert torch.allclose(out, ref, atol=1e-12)
    assert (w.triu(1) == 0).all()


def test_sdpa_errors_name_expected_and_given():
    q = torch.randn(3, 4)
    with pytest.raises(ValueError, match="same feature size d_k, got 4 and 5"):
        att.scaled_dot_product_attention(q, torch.randn(3, 5), torch.randn(3, 5))
    with pytest.raises(ValueError, match="same length S, got 3 and 2"):
        att.scaled_dot_product_attention(q, torch.randn(3, 4), torch.randn(2, 4))
    with pytest.raises(ValueError, match=r"\(L, S\) = \(3, 3\) or \(1, 3\)"):
        att.scaled_dot_product_attention(q, q, q, attn_mask=torch.ones(2, 3, dtype=torch.bool))
    with pytest.raises(TypeError, match="floating-point"):
        att.scaled_dot_product_attention(q.long(), q, q)
    with pytest.raises(ValueError, match="not both"):
        att.scaled_dot_product_attention(q, q, q, attn_mask=att.causal_mask(3), is_causal=True)


def test_causal_mask_matches_torch_generate_square_subsequent_mask():
    for T in (1, 2, 7):
        ref = nn.Transformer.generate_square_subsequent_mask(T)
        assert torch.equal(att.causal_mask(T), torch.isinf(ref))
    with pytest.raises(ValueError):
        att.causal_mask(0)


def test_sinusoidal_positions():
    pe = att.sinusoidal_positions(50, 16)
    assert pe.shape == (50, 16)
    assert torch.allclose(pe[:, 0], torch.sin(torch.arange(50.0)))
    assert torch.allclose(pe[:, 1], torch.cos(torch.arange(50.0)))
    assert torch.allclose(pe[3, 14], torch.sin(torch.tensor(3.0 / 10000 ** (14 / 16))))
    assert att.sinusoidal_positions(4, 5).shape == (4, 5)          # odd d works
    assert len({tuple(r.tolist()) for r in pe}) == 50                 # every position distinct


def pair(seed, **kw):
    torch.manual_seed(seed)
    ref = nn.MultiheadAttention(**kw, dtype=D)
    mine = att.MultiheadAttention(**kw, dtype=D)
    mine.load_state_dict(ref.state_dict())
    return mine, ref


def test_parameter_names_and_shapes_match_torch():
    for kw in (dict(embed_dim=8, num_heads=2), dict(embed_dim=8, num_heads=4, bias=False),
               dict(embed_dim=6, num_heads=3, kdim=5, vdim=4), dict(embed_dim=4, num_heads=1, add_bias_kv=True)):
        ref, mine = nn.MultiheadAttention(**kw), att.MultiheadAttention(**kw)
        assert {n: p.shape for n, p in ref.named_parameters()} == {n: p.shape for n, p in mine.named_parameters()}
        ref.load_state_dict(mine.state_dict())        # both ways
        mine.load_state_dict(ref.state_dict())


def _configs(n=40):
    r = random.Random(0)
    for i in range(n):
        h = r.choice([1, 2, 4])
        E = h * r.choice([2, 3])
        yield i, dict(embed_dim=E, num_heads=h, bias=r.random() < 0.7, batch_first=r.random() < 0.5,
                      kdim=r.choice([None, None, E + 1]), vdim=r.choice([None, None, E + 2]),
                      add_bias_kv=r.random() < 0.2, add_zero_attn=r.random() < 0.2)


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
@pytest.mark.parametrize("i, kw", list(_configs()))
def test_random_configurations_equal_torch_in_float64(i, kw):
    r = random.Random(1000 + i)                      # sizes and masks of this configuration
    mine, ref = pair(i, **kw)
    N, L, S = r.randint(1, 3), r.randint(1, 5), r.randint(1, 6)
    E, h = kw["embed_dim"], kw["num_heads"]
    self_attn = kw["kdim"] is None and kw["vdim"] is None and r.random() < 0.5
    if self_attn:
        S = L

    def shaped(T, size):
        return torch.randn(N, T, size, dtype=D) if kw["batch_first"] else torch.randn(T, N, size, dtype=D)

    q = shaped(L, E)
    k = q if self_attn else shaped(S, kw["kdim"] or E)
    v = q if self_attn else shaped(S, kw["vdim"] or E)
    kpm = am = None
    causal = False
    if r.random() < 0.5:
        kpm = torch.zeros(N, S, dtype=torch.bool)
        for n in range(N):
            kpm[n, r.randint(1, S):] = True               # padding at the end, never everything
    choice = r.choice(["none", "bool", "float", "causal", "3d"])
    if choice == "bool":
        am = torch.rand(L, S) > 0.7
        am[:, 0] = False
    elif choice == "float":
        am = torch.randn(L, S, dtype=D)
    elif choice == "causal" and L == S:
        am, causal = att.causal_mask(L), True
    elif choice == "3d":
        am = torch.randn(N * h, L, S, dtype=D)
    if kpm is not None and am is not None and am.dtype == torch.bool and (kpm[:, None, :] | am).all(-1).any():
        am = None                                          # a fully masked row is NaN in both: skip
    avg = r.random() < 0.5
    ins = [t.clone().requires_grad_() for t in (q, k, v)]
    ins_ref = [t.clone().requires_grad_() for t in (q, k, v)]
    out, w = mine(*ins, key_padding_mask=kpm, attn_mask=am, average_attn_weights=avg, is_causal=causal)
    out_r, w_r = ref(*ins_ref, key_padding_mask=kpm, attn_mask=am, average_attn_weights=avg, is_causal=causal)
    assert out.shape == out_r.shape and w.shape == w_r.shape
    assert torch.allclose(out, out_r, atol=1e-10, rtol=0)
    assert torch.allclose(w, w_r, atol=1e-10, rtol=0)
    g = torch.randn_like(out)
    (out * g).sum().backward()
    (out_r * g).sum().backward()
    for a, b in zip(ins, ins_ref):
        if a.grad is not None or b.grad is not None:
            assert torch.allclose(a.grad, b.grad, atol=1e-10, rtol=0)
    grads_r = dict(ref.named_parameters())
    for name, p in mine.named_parameters():
        assert torch.allclose(p.grad, grads_r[name].grad, atol=1e-10, rtol=0), name
    # need_weights=False returns None and the same output
    out2, none = mine(q, k, v, key_padding_mask=kpm, attn_mask=am, need_weights=False, is_causal=causal)
    assert none is None and torch.allclose(out2, out_r, atol=1e-10, rtol=0)


def test_unbatched_inputs_match_torch():
    mine, ref = pair(0, embed_dim=6, num_heads=2)
    x = torch.randn(5, 6, dtype=D)
    kpm = torch.tensor([False, False, False, True, True])
    for avg in (True, False):
        o, w = mine(x, x, x, key_padding_mask=kpm, average_attn_weights=avg)
        o_r, w_r = ref(x, x, x, key_padding_mask=kpm, average_attn_weights=avg)
        assert o.shape == (5, 6) and w.shape == w_r.shape
        assert torch.allclose(o, o_r, atol=1e-10) and torch.allclose(w, w_r, atol=1e-10)


def test_dropout_only_in_training_mode():
    mine = att.MultiheadAttention(8, 2, dropout=0.5, dtype=D)
    x = torch.randn(4, 1, 8, dtype=D)
    mine.eval()
    assert torch.equal(mine(x, x, x)[0], mine(x, x, x)[0])
    mine.train()
    torch.manual_seed(0)
    a = mine(x, x, x)[0]
    torch.manual_seed(1)
    assert not torch.allclose(a, mine(x, x, x)[0])


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(embed_dim=6, num_heads=4), ValueError, "divisible by num_heads, got embed_dim=6, num_heads=4"),
    (dict(embed_dim=0, num_heads=1), ValueError, "embed_dim must be a positive int"),
    (dict(embed_dim=4, num_heads=2.0), TypeError, "num_heads must be a positive int"),
    (dict(embed_dim=4, num_heads=2, batch_first=1), TypeError, "batch_first must be True or False"),
    (dict(embed_dim=4, num_heads=2, dropout=1.5), ValueError, "dropout must be a number in"),
])
def test_constructor_errors(kwargs, err, match):
    with pytest.raises(err, match=match):
        att.MultiheadAttention(**kwargs)


def test_forward_errors_name_expected_and_given():
    m = att.MultiheadAttention(8, 2, batch_first=True)
    x = torch.randn(2, 5, 8)
    with pytest.raises(ValueError, match=r"query must have 8 features .*got \(2, 5, 6\)"):
        m(torch.randn(2, 5, 6), x, x)
    with pytest.raises(ValueError, match=r"batch size N, got 2 and 3"):
        m(x, torch.randn(3, 5, 8), torch.randn(3, 5, 8))
    with pytest.raises(ValueError, match=r"query must be \(N, L, E\)"):
        m(torch.randn(8), x, x)
    with pytest.raises(ValueError, match=r"attn_mask must be \(L=5, S=5\), got \(4, 5\)"):
        m(x, x, x, attn_mask=torch.zeros(4, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"key_padding_mask must be \(N=2, S=5\), got \(5,\)"):
        m(x, x, x, key_padding_mask=torch.zeros(5, dtype=torch.bool))
    with pytest.raises(TypeError, match="dtype torch.float32"):
        m(x.double(), x, x)
    with pytest.raises(TypeError, match="bool or float"):
        m(x, x, x, attn_mask=torch.zeros(5, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="is_causal=True is only a hint"):
        m(x, x, x, is_causal=True)
    with pytest.raises(ValueError, match="all be batched"):
        m(x, x[0], x[0])


@pytest.mark.parametrize("E, h", [(12, 3), (8, 1), (16, 4), (6, 6)])
def test_heads_one_by_one_equal_the_fused_module(E, h):
    """Chapter 07's build-up: head_i = softmax((X W_i^Q)(X W_i^K)ᵀ / √d_k) X W_i^V with d_k = E / h and
    W_i the i-th block of d_k rows of in_proj_weight; Concat(heads) W^O + b^O is the module's output."""
    mine, ref = pair(h, embed_dim=E, num_heads=h, batch_first=True)
    N, T, d_k = 2, 5, E // h
    x = torch.randn(N, T, E, dtype=D)
    W_q, W_k, W_v = mine.in_proj_weight.chunk(3)
    b_q, b_k, b_v = mine.in_proj_bias.chunk(3)
    heads = []
    for i in range(h):
        r = slice(i * d_k, (i + 1) * d_k)
        q, k, v = x @ W_q[r].T + b_q[r], x @ W_k[r].T + b_k[r], x @ W_v[r].T + b_v[r]
        w = torch.softmax(q @ k.transpose(1, 2) / d_k ** 0.5, dim=-1)
        heads.append(w @ v)
    out = torch.cat(heads, dim=-1) @ mine.out_proj.weight.T + mine.out_proj.bias
    for m in (mine, ref):
        assert torch.allclose(out, m(x, x, x)[0], atol=1e-12, rtol=0)
    if h > 1:   # dividing by √E instead of √d_k (the classic mistake) gives another output
        wrong = torch.cat([torch.softmax((x @ W_q[i * d_k:(i + 1) * d_k].T + b_q[i * d_k:(i + 1) * d_k])
                                         @ (x @ W_k[i * d_k:(i + 1) * d_k].T + b_k[i * d_k:(i + 1) * d_k]).transpose(1, 2)
                                         / E ** 0.5, dim=-1) @ (x @ W_v[i * d_k:(i + 1) * d_k].T + b_v[i * d_k:(i + 1) * d_k])
                           for i in range(h)], dim=-1) @ mine.out_proj.weight.T + mine.out_proj.bias
        assert not torch.allclose(wrong, out, atol=1e-6)


def test_key_padding_gives_padding_no_weight_and_a_fully_masked_row_is_nan():
    """Chapter 07's padding demo: masked keys get weight 0 and the output equals attention without
    the padding; a row whose keys are all masked is NaN (softmax of all −∞), in PyTorch as here."""
    torch.manual_seed(0)
    q, k = torch.randn(2, 1, 4, dtype=D), torch.randn(2, 5, 4, dtype=D)
    real = torch.arange(5)[None, :] < torch.tensor([5, 3])[:, None]
    out, w = att.scaled_dot_product_attention(q, k, k, attn_mask=real[:, None, :])
    assert (w[1, :, 3:] == 0).all() and (w[0] > 0).all()
    assert torch.allclose(out[1], att.scaled_dot_product_attention(q[1], k[1, :3], k[1, :3])[0], atol=1e-12)
    none = torch.zeros(1, 5, dtype=torch.bool)
    assert att.scaled_dot_product_attention(q[1], k[1], k[1], attn_mask=none)[0].isnan().all()
    # PyTorch's fused F.scaled_dot_product_attention (pinned version) returns 0 for such a row instead
    # of NaN; chapter 07 says so next to its demo. nn.MultiheadAttention keeps the NaN.
    assert (nn.functional.scaled_dot_product_attention(q[1], k[1], k[1], attn_mask=none) == 0).all()
    mine, ref = pair(0, embed_dim=4, num_heads=2, batch_first=True)
    kpm = torch.tensor([[False] * 5, [True] * 5])                  # the second sequence is all padding
    x = torch.randn(2, 5, 4, dtype=D)
    for m in (mine, ref):
        o, _ = m(x, x, x, key_padding_mask=kpm)
        assert not o[0].isnan().any() and o[1].isnan().all()
