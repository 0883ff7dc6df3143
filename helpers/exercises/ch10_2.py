"""Checkers for chapter 10, part 2 (linear attention and the selective SSM).

Each checker prints one verdict line and returns a :class:`~helpers.exercises._core.Verdict`
(truthy when right, shows nothing in a notebook); none raises, whatever the answer. A failure
message names the mistake but never prints the expected number.

1. ``check_cache_sizes(answer, v=None)``: (numbers in the KV cache, numbers in the linear
   attention state) for the settings of ``cache_inputs(v)``.
2. ``check_decay_step(step, v=None)`` (a function): one step of linear attention with a decay γ,
   run by the checker over a sequence of its own and compared with the masked form.
3. ``check_delta_ratio(answer, model, v=None)`` (an experiment on the student's own trained model):
   the mean Δ of its S6 layer (over the variant's channels) on data tokens divided by that on
   noise tokens, recomputed from the model the student passes; the model must copy well.
"""
from __future__ import annotations

import torch

from ..nn.linear_attention import masked_form
from ..nn.ssm import NOISE, SSMModel, copy_accuracy, selective_copy_batch
from ._core import (answer_dtype, checker, close, describe, quiet_false, read_int, read_number, reference, run_student,
                    unanswered, variant, variant_generator, variant_rng, verdict)

# ----------------------------------------------------------------------------- exercise 1
_SIZES = ((64, (2, 4, 8)), (96, (2, 4, 6)), (128, (2, 4, 8)), (192, (3, 4, 6)), (256, (4, 8)))


def cache_inputs(v: int | None = None) -> dict:
    """Settings of exercise 1: d_model, num_heads, num_layers, S (cached positions), batch 1.
    Variant 0: §3's model (chapter 08's GPT layout, 2 layers and 4 heads, width 96) after S = 2048 positions."""
    v = variant() if v is None else int(v)
    if v == 0:
        return {"d_model": 96, "num_heads": 4, "num_layers": 2, "S": 2048}
    r = variant_rng("ch10_2.cache_sizes", v)
    d, heads = _SIZES[int(r.integers(len(_SIZES)))]
    return {"d_model": d, "num_heads": int(heads[int(r.integers(len(heads)))]),
            "num_layers": int(r.integers(3, 7)), "S": int(r.integers(3, 65)) * 64}


@reference
def cache_sizes(d_model: int, num_heads: int, num_layers: int, S: int) -> tuple[int, int]:
    """(KV cache, linear state) in numbers: 2·layers·S·d and layers·heads·(d_k² + d_k)."""
    dk = d_model // num_heads
    return 2 * num_layers * S * d_model, num_layers * num_heads * (dk * dk + dk)


@reference
def cache_size_mistakes(d_model: int, num_heads: int, num_layers: int, S: int) -> dict:
    """The answers the hints name, by mistake."""
    dk = d_model // num_heads
    kv, st = cache_sizes(d_model, num_heads, num_layers, S)
    return {"kv_no_two": num_layers * S * d_model,              # K only (or V only)
            "kv_one_layer": 2 * S * d_model,
            "state_no_z": num_layers * num_heads * dk * dk,
            "state_full_d": num_layers * (d_model * d_model + d_model),   # one d×d state, not per head
            "state_one_layer": num_heads * (dk * dk + dk),
            "state_with_S": st * S}


@checker
def check_cache_sizes(answer, v: int | None = None):
    """answer = (numbers in the KV cache, numbers in the linear-attention state), batch 1."""
    if unanswered(answer):
        return quiet_false()
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return verdict(False, f"答案应是两个整数 (kv, state)，得到 {describe(answer)}。")
    kv = read_int(answer[0], "KV 缓存的数字个数")
    if kv is None:
        return quiet_false()
    st = read_int(answer[1], "线性注意力状态的数字个数")
    if st is None:
        return quiet_false()
    s = cache_inputs(v)
    right_kv, right_st = cache_sizes(**s)
    wrong = cache_size_mistakes(**s)
    if kv == right_kv and st == right_st:
        return verdict(True, "KV 缓存随 S 线性增长（每层每个位置存一个 k 和一个 v），线性注意力的状态"
                             "与 S 无关：每层每头一个 d_k×d_k 的矩阵 S 和一个 d_k 维的 z。")
    if (kv, st) == (right_st, right_kv):
        return verdict(False, "两个数的顺序反了：先 KV 缓存，再线性注意力的状态。")
    hints = []
    if kv != right_kv:
        if kv == wrong["kv_no_two"] == wrong["kv_one_layer"]:      # two layers: both slips give this number
            hints.append("KV 缓存只有应有的一半：每一层、每个位置都既存键 k 也存值 v")
        elif kv == wrong["kv_no_two"]:
            hints.append("KV 缓存少了一半：每个位置既存键 k 也存值 v")
        elif kv == wrong["kv_one_layer"]:
            hints.append("KV 缓存只算了一层：每一层都有自己的 K、V")
        else:
            hints.append("KV 缓存不对：它存每一层、每个已生成位置的 k 和 v（各 d_model 个数）")
    if st != right_st:
        if st == wrong["state_no_z"]:
            hints.append("状态少了分母用的 z：每层每头除了 d_k×d_k 的 S，还有一个 d_k 维的 z")
        elif st == wrong["state_full_d"]:
            hints.append("状态是每个头一个 d_k×d_k 的矩阵（d_k = d_model / 头数），不是一个 d_model×d_model 的矩阵")
        elif st == wrong["state_one_layer"]:
            hints.append("状态只算了一层：每一层都有自己的状态")
        elif st == wrong["state_with_S"]:
            hints.append("线性注意力的状态不随已生成的位置数 S 增长：它只在原地更新")
        else:
            hints.append("线性注意力的状态不对：每层、每头一个 S（d_k×d_k）和一个 z（d_k）")
    return verdict(False, "；".join(hints) + "。")


# ----------------------------------------------------------------------------- exercise 2
def decay_inputs(v: int | None = None) -> dict:
    """The sequence the checker of exercise 2 runs the student's step over (float64).
    Variant 0: T = 12, d_k = 4, d_v = 3, γ = 0.8; otherwise drawn per student."""
    v = variant() if v is None else int(v)
    if v == 0:
        g, T, dk, dv, gamma = torch.Generator().manual_seed(10), 12, 4, 3, 0.8
    else:
        r = variant_rng("ch10_2.decay_step", v)
        g = variant_generator("ch10_2.decay_step", v)
        T, dk, dv, gamma = int(r.integers(8, 17)), int(r.integers(3, 7)), int(r.integers(2, 6)), float(r.uniform(0.6, 0.95))
    q, k, v_ = (torch.randn(T, d, generator=g, dtype=torch.float64) for d in (dk, dk, dv))
    return {"q": q, "k": k, "v": v_, "gamma": gamma}


def _phi(x):
    return torch.nn.functional.elu(x) + 1


@reference
def decay_reference(q, k, v, gamma) -> torch.Tensor:
    """y (T, d_v) of causal linear attention with decay γ, in the masked form."""
    return masked_form(q[None], k[None], v[None], float(gamma))[0]


@reference
def decay_mistakes(q, k, v, gamma) -> dict:
    """Outputs of the steps the hints name."""
    def run(update, read_before=False, phi=_phi):
        S = torch.zeros(q.shape[1], v.shape[1], dtype=q.dtype)
        z = torch.zeros(q.shape[1], dtype=q.dtype)
        ys = []
        for t in range(q.shape[0]):
            if read_before:
                y = (phi(q[t]) @ S) / (phi(q[t]) @ z) if t else torch.zeros(v.shape[1], dtype=q.dtype)
            S, z = update(S, z, phi(k[t]), v[t])
            if not read_before:
                y = (phi(q[t]) @ S) / (phi(q[t]) @ z)
            ys.append(y)
        return torch.stack(ys)

    outer = lambda fk, vt: fk[:, None] * vt[None, :]
    # (decaying after the write, S = γ(S + φ(k)vᵀ) and z likewise, scales S and z by the same γ:
    # the output y_t is the same, so it is not a mistake this checker can or should reject)
    return {
        "z_not_decayed": run(lambda S, z, fk, vt: (gamma * S + outer(fk, vt), z + fk)),
        "no_decay": run(lambda S, z, fk, vt: (S + outer(fk, vt), z + fk)),
        "no_feature_map": run(lambda S, z, fk, vt: (gamma * S + outer(fk, vt), gamma * z + fk), phi=lambda x: x),
        "read_before_write": run(lambda S, z, fk, vt: (gamma * S + outer(fk, vt), gamma * z + fk), read_before=True),
    }


_STEP_SIGNATURE = "step(S, z, q_t, k_t, v_t, gamma) -> (y_t, S, z)"


@checker
def check_decay_step(step, v: int | None = None):
    """step(S, z, q_t, k_t, v_t, gamma) -> (y_t, S_new, z_new): one step of linear attention with decay.

    The checker starts from S = 0 (d_k×d_v), z = 0 (d_k), runs ``step`` over its own sequence and
    compares every y_t with the masked form."""
    if unanswered(step):
        return quiet_false()
    inp = decay_inputs(v)
    q, k, vv, gamma = inp["q"], inp["k"], inp["v"], inp["gamma"]
    S = torch.zeros(q.shape[1], vv.shape[1], dtype=torch.float64)
    z = torch.zeros(q.shape[1], dtype=torch.float64)
    ys = []
    for t in range(q.shape[0]):
        ok, out = run_student(step, (S, z, q[t], k[t], vv[t], gamma), _STEP_SIGNATURE)
        if not ok:
            return quiet_false()
        if not isinstance(out, (tuple, list)) or len(out) != 3:
            return verdict(False, f"step 应返回三个值 (y_t, S, z)，得到 {describe(out)}。")
        y, S, z = (torch.as_tensor(o, dtype=torch.float64) if not isinstance(o, torch.Tensor) else o.detach().to(torch.float64)
                   for o in out)
        if y.shape != (vv.shape[1],) or S.shape != (q.shape[1], vv.shape[1]) or z.shape != (q.shape[1],):
            return verdict(False, f"形状不对：y_t 应是 ({vv.shape[1]},)，S 应是 ({q.shape[1]}, {vv.shape[1]})，"
                                  f"z 应是 ({q.shape[1]},)；得到 {tuple(y.shape)}、{tuple(S.shape)}、{tuple(z.shape)}。")
        ys.append(y)
    ys = torch.stack(ys)
    precision = answer_dtype(out[0])                     # a float32 step is judged by float32 rounding
    if close(ys, decay_reference(q, k, vv, gamma), dtype=precision):
        return verdict(True, "逐步更新 S_t = γ S_(t−1) + φ(k_t) v_tᵀ 与一次算出的带衰减掩码的形式完全相同："
                             "衰减只是把掩码里的 1 换成了 γ 的幂。")
    wrong = decay_mistakes(q, k, vv, gamma)
    hints = {"z_not_decayed": "分母用的 z 没有衰减：S 和 z 要乘同一个 γ，否则分子分母的权重不一致",
             "no_decay": "没有用到 γ：每一步先把旧状态乘以 γ",
             "no_feature_map": "q、k 要先经过特征映射 φ(x) = elu(x) + 1（保证权重为正）",
             "read_before_write": "输出用了更新前的状态：y_t 要读包含第 t 步写入的 S_t、z_t"}
    for name, out in wrong.items():
        if close(ys, out, dtype=precision):
            return verdict(False, hints[name] + "。")
    return verdict(False, "输出与带衰减的线性注意力不一致。先令 γ = 1，和 §1 的循环形式逐步比较；"
                          "再对照 §2 的更新式，逐项检查状态、分母和输出各用了哪一步的量。")


# ----------------------------------------------------------------------------- exercise 3
def probe_inputs(v: int | None = None) -> tuple[torch.Tensor, list[int]]:
    """Exercise 3's probe: 256 selective-copying sequences (the chapter's task settings) and the
    S6 channels to average Δ over. Variant 0: all 16 channels; otherwise 6 channels and the
    sequences drawn per student."""
    v = variant() if v is None else int(v)
    if v == 0:
        return selective_copy_batch(256, 16, 2, 4, torch.Generator().manual_seed(7))[0], list(range(16))
    g = variant_generator("ch10_2.delta_ratio", v)
    x = selective_copy_batch(256, 16, 2, 4, g)[0]
    channels = sorted(int(c) for c in variant_rng("ch10_2.delta_ratio", v).choice(16, 6, replace=False))
    return x, channels


def _layer_delta(model, x, channels):
    """Δ (batch, T, len(channels)) of the model's first S6 layer on ids x, as the model computes it."""
    with torch.no_grad():
        a = model.norms[0](model.emb(x))
        return model.ssms[0].delta(a)[..., channels]


@reference
def delta_ratio(model, x, channels, T: int = 16) -> float:
    """mean Δ over data-token positions / mean Δ over noise positions (the first T positions)."""
    d = _layer_delta(model, x, channels)[:, :T].mean(-1)        # mean over the given channels
    data = x[:, :T] != NOISE
    return float(d[data].mean() / d[~data].mean())


@reference
def delta_ratio_mistakes(model, x, channels, T: int = 16) -> dict:
    d = _layer_delta(model, x, channels).mean(-1)
    data = x != NOISE
    right = delta_ratio(model, x, channels, T)
    all_channels = list(range(model.ssms[0].D.shape[0]))
    with torch.no_grad():
        raw = model.ssms[0].to_delta(model.norms[0](model.emb(x)))[..., channels].mean(-1)
    # (counting the two recall positions as noise moves the ratio by < 1 % for some probes: within
    # the printed precision, so it is not a named mistake; counting them as data is)
    out = {"inverted": 1 / right,
           "all_channels": delta_ratio(model, x, all_channels, T),
           "recall_as_data": float(torch.cat([d[:, :T][data[:, :T]], d[:, T:].reshape(-1)]).mean() / d[:, :T][~data[:, :T]].mean())}
    out["before_softplus"] = float(raw[:, :T][data[:, :T]].mean() / raw[:, :T][~data[:, :T]].mean())
    if channels == all_channels:
        del out["all_channels"]
    return out


@checker
def check_delta_ratio(answer, model, v: int | None = None):
    """answer: mean Δ on data tokens / mean Δ on noise tokens of ``model``'s S6 layer, averaged
    over the channels of ``probe_inputs(v)`` on its sequences (the first 16 positions; the recall
    positions count as neither). ``model`` must be the student's trained selective model: the
    checker re-measures its copy accuracy on the probe sequences."""
    if unanswered(answer):
        return quiet_false()
    value = read_number(answer, "Δ 的比值")
    if value is None:
        return quiet_false()
    if not isinstance(model, SSMModel):
        return verdict(False, f"第二个参数应是你在 §4 训练的 SSMModel，得到 {describe(model)}。")
    if not model.ssms[0].selective:
        return verdict(False, "这是时不变（LTI）模型：它的 Δ 在每一步都相同，比值恒为 1。请用选择性模型。")
    x, channels = probe_inputs(v)
    K = 2
    data = x[:, :16] != NOISE
    y = x[:, :16][data].reshape(-1, K) - 1
    if copy_accuracy(model, x, y) < 0.9:
        return verdict(False, "这个模型复制得不好（没训练好，或不是 §4 训练的那个）：请用训练好的选择性模型。")
    right = delta_ratio(model, x, channels)
    tol = lambda ref: max(6e-3 * abs(ref), 1e-3)   # 3 significant digits are within 0.5 %
    if close(value, right, tol=tol(right)):
        return verdict(True, "在数据 token 上 Δ 大得多：模型在那里把状态“打开”写入，在噪声上 Δ 接近 0、几乎不动状态。"
                       if right > 1 else "比值算对了。")
    wrong = delta_ratio_mistakes(model, x, channels)
    hints = {"inverted": "比值倒过来了：分子是数据 token 位置的平均 Δ，分母是噪声位置的",
             "all_channels": "只对 probe_inputs() 给出的那几个通道取平均，不是全部通道",
             "recall_as_data": "最后的回忆提示位置既不是数据也不是噪声：只比较回忆提示之前的位置",
             "before_softplus": "这是 softplus 之前的数：Δ = softplus(W_Δ x + b_Δ)，请用 layer.delta(...)"}
    for name, wrong_value in wrong.items():
        if close(value, wrong_value, tol=tol(wrong_value)):
            return verdict(False, hints[name] + "。")
    # no number in this message: "the first 16 positions" once handed back 16, which was within
    # the tolerance of one variant's ratio (tests/handback.py)
    return verdict(False, "比值不对：取 S6 层的 Δ（对给定的通道取平均），在回忆提示之前的位置里分别求数据 token 和"
                          "噪声 token 位置的平均，再相除。")
