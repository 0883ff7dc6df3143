"""Checkers for chapter 08 (language models).

Each checker prints one verdict line and returns a :class:`~helpers.exercises._core.Verdict`
(truthy when right, shows nothing in a notebook); none raises, whatever the answer.

1. ``check_toy_perplexity(answer)``: the perplexity of a toy model that gives the right character
   one probability half of the time and another the other half (``toy_inputs()``; variant 0:
   0.5 and 0.05).
2. ``check_top_k_sampler(fn)``: fn(logits, tau, k, g) -> one index drawn from the top-k, temperature-τ
   distribution with the generator g; judged on thousands of draws with fixed generators.
3. ``check_bits_per_char(answer, model, corpus)``: bits per character of the trained LSTM on the
   student's validation windows (``bits_inputs(corpus)``; variant 0: §3's x_val, y_val); the
   checker evaluates the model on those windows itself.
4. ``check_context_experiment(answer, model, corpus)`` (experiment): the student's perplexities of
   the trained LSTM at the first position of each window and at its last position (31), on the
   student's 2,000 windows (``context_inputs(corpus)``); the checker measures the same windows
   itself and asks for the conclusion an untrained model does not show.

Exercises 1, 3 and 4 draw their inputs from the student's variant (``_core.variant``; 0 = the
chapter as taught) and the checker recomputes for that variant. The functions marked
``@reference`` compute expected answers and the named mistakes; the hub's student edition ships
without their bodies (the checker then says it is graded after submission).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ..env import generator
from ._core import (Verdict, checker, describe, measured, quiet_false, read_number, reference, run_student,
                    unanswered, variant, variant_rng, variant_seed, verdict)


def _v(v) -> int:
    return variant() if v is None else int(v)


# ----------------------------------------------------------------------------- exercise 1
TOY_P = (0.5, 0.05)          # variant 0: the probability of the right character, each half of the time
TOY_TOL = 0.006              # perplexities typed with two decimals are right


@reference
def toy_answers(p1: float, p2: float) -> dict[str, float]:
    """The right perplexity and the values of the mistakes the hints name."""
    loss = -(math.log(p1) + math.log(p2)) / 2
    return {"right": math.exp(loss), "loss": loss, "bits": loss / math.log(2),
            "mean_p": 1 / ((p1 + p2) / 2), "mean_inv": (1 / p1 + 1 / p2) / 2}


def toy_inputs(v: int | None = None) -> tuple[float, float]:
    """(p1, p2): the toy model gives the right character p1 half of the time and p2 the other half.
    Variant 0: (0.5, 0.05); otherwise p1 in 0.30..0.80 and p2 in 0.01..0.12 (two decimals); in
    that range every named mistake is far from the right answer (tests/test_exercises_ch08.py
    checks every pair)."""
    v = _v(v)
    if v == 0:
        return TOY_P
    g = variant_rng("ch08.toy_perplexity", v)
    return int(g.integers(30, 81)) / 100, int(g.integers(1, 13)) / 100


@checker
def check_toy_perplexity(answer, v: int | None = None) -> Verdict:
    """The perplexity of the variant's toy model (``toy_inputs()``), to two decimals or better."""
    if unanswered(answer):
        return quiet_false()
    value = read_number(answer, "困惑度")
    if value is None:
        return quiet_false()
    p1, p2 = toy_inputs(v)
    want = toy_answers(p1, p2)
    near = lambda key: abs(value - want[key]) <= TOY_TOL
    if near("right"):
        return verdict(True, "困惑度是 1/p 的几何平均：比 1/p 的算术平均小，比 1/(p 的平均) 大。")
    if near("mean_p"):
        return verdict(False, "这是 1/(p 的算术平均)：困惑度平均的是 log p（交叉熵），再取 exp。")
    if near("mean_inv"):
        return verdict(False, "这是 1/p 的算术平均：困惑度先平均 −log p，再取 exp，即几何平均。")
    if near("loss"):
        return verdict(False, "这是平均交叉熵（nats），困惑度还要再取 exp。")
    if near("bits"):
        return verdict(False, "这是以 2 为底的交叉熵（比特）；困惑度是 e 的 nats 次方（= 2 的比特次方）。")
    if value < 1:
        return verdict(False, "困惑度不会小于 1（每个字都以概率 1 猜对时才等于 1）。")
    return verdict(False, f"不对：这里一半的字 p = {p1}，一半 p = {p2}；从平均交叉熵出发再算一遍（保留两位小数）。")


# ----------------------------------------------------------------------------- exercise 2
SAMPLER_CASES = (            # (logits, tau, k): a sharp and a flat temperature, a small and a large k
    ([2.0, 0.5, 1.2, -1.0, 0.0, 1.8, -0.4], 0.5, 3),
    ([2.0, 0.5, 1.2, -1.0, 0.0, 1.8, -0.4], 2.0, 3),
    ([0.3, -0.2, 1.0, 0.8, -1.5, 0.1], 1.0, 5),
)
N_DRAWS = 3000
TV_TOL = 0.05                # total-variation distance allowed between the draws and the distribution


@reference
def top_k_probs(logits: torch.Tensor, tau: float, k: int, scale: str = "divide") -> torch.Tensor:
    """The top-k temperature distribution (scale="multiply"/"none": the named mistakes' versions)."""
    z = {"divide": logits / tau, "multiply": logits * tau, "none": logits}[scale]
    p = torch.softmax(z, -1)
    keep = torch.zeros_like(p, dtype=torch.bool)
    keep[p.topk(k).indices] = True
    return torch.where(keep, p, 0.0) / (p * keep).sum()


def _draw(fn, logits, tau, k, g) -> int | None:
    """One index from the student's sampler, called with the checker's own generator ``g`` (not a
    copy: its state must advance from draw to draw); None after a message."""
    try:
        out = fn(logits.clone(), tau, k, g)
    except Exception as err:
        verdict(False, f"运行出错：{type(err).__name__}: {err}。")
        return None
    if isinstance(out, torch.Tensor) and out.numel() == 1 and not out.is_floating_point() \
            and out.dtype != torch.bool:
        out = int(out.item())
    if isinstance(out, bool) or not isinstance(out, int):
        verdict(False, f"应返回一个整数下标（int，或只含一个整数的张量），得到 {describe(out)}。")
        return None
    if not 0 <= out < len(logits):
        verdict(False, f"下标应在 0..{len(logits) - 1} 之间，得到 {out}。")
        return None
    return out


def _frequencies(fn, logits, tau, k, seed) -> torch.Tensor | None:
    """The frequencies of N_DRAWS indices drawn with one generator, or None after a message."""
    g = generator(seed)
    counts = torch.zeros(len(logits), dtype=torch.float64)
    for _ in range(N_DRAWS):
        i = _draw(fn, logits, tau, k, g)
        if i is None:
            return None
        counts[i] += 1
    return counts / N_DRAWS


@checker
def check_top_k_sampler(fn) -> Verdict:
    """fn(logits, tau, k, g) must draw from softmax(logits / tau) restricted to the k largest, renormalised."""
    z, tau, k = SAMPLER_CASES[0]
    ok, _ = run_student(fn, (torch.tensor(z, dtype=torch.float64), tau, k, generator(0)),
                        "sample(logits, tau, k, g)",
                        "logits 是一维张量，tau 是温度，k 是保留的个数，g 是 torch.Generator。")
    if not ok:
        return quiet_false()
    wants = [{scale: top_k_probs(torch.tensor(z, dtype=torch.float64), tau, k, scale)
              for scale in ("divide", "multiply", "none")} for z, tau, k in SAMPLER_CASES]
    for i, (z, tau, k) in enumerate(SAMPLER_CASES):
        logits = torch.tensor(z, dtype=torch.float64)
        freq = _frequencies(fn, logits, tau, k, seed=100 + i)
        if freq is None:
            return quiet_false()
        want = wants[i]["divide"]
        outside = float(freq[want == 0].sum())
        if outside > 0:
            return verdict(False, f"抽到了前 k = {k} 个以外的字：只能在概率最大的 k 个字里抽。")
        tv = lambda p: 0.5 * float((freq - p).abs().sum())
        if tv(want) <= TV_TOL:
            continue
        if tv(wants[i]["multiply"]) <= TV_TOL:
            return verdict(False, "温度用反了：τ < 1 应让分布更尖，τ > 1 更平。")
        if tv(wants[i]["none"]) <= TV_TOL:
            return verdict(False, f"没有用温度：τ = {tau} 时分布应变{'尖' if tau < 1 else '平'}。")
        if len(set(freq.nonzero().flatten().tolist())) == 1:
            return verdict(False, "每次都抽到同一个字：这是贪心（取最大），不是按概率抽样。")
        return verdict(False, f"抽样的频率与前 k 个字、温度 τ 的分布不符（τ = {tau}，k = {k}）：概率在保留的 k 个字里"
                              f"重新归一化了吗？")
    # the draws must come from g: the same seed gives the same sequence, another seed another one
    draws = []
    for seed in (7, 7, 8):
        g = generator(seed)
        logits = torch.tensor(SAMPLER_CASES[2][0], dtype=torch.float64)
        seq = []
        for _ in range(40):
            i = _draw(fn, logits, 1.0, 5, g)
            if i is None:
                return quiet_false()
            seq.append(i)
        draws.append(seq)
    if draws[0] != draws[1] or draws[0] == draws[2]:
        return verdict(False, "分布对了，但随机数没有只来自传入的生成器 g：同一个种子应写出同样的句子。")
    return verdict(True, f"{N_DRAWS} 次抽样的频率与前 k 个、温度 τ 的分布一致，同一个种子抽出同样的序列。")




# ----------------------------------------------------------------------------- inputs of 3 and 4
T_CTX = 32                   # the chapter's context length


def _stream(corpus) -> torch.Tensor:
    """The validation stream of ``corpus`` (the chapter's ``lm.char_corpus``), checked."""
    val = getattr(corpus, "val", None)
    if not isinstance(val, torch.Tensor) or val.dim() != 1 or val.dtype != torch.long or len(val) <= 10 * T_CTX:
        raise TypeError(f"corpus 应是 §1 的 corpus（lm.char_corpus 的结果），得到 {describe(corpus)}")
    return val


def _window_seed(key: str, v: int, chapter_seed: int) -> int:
    return chapter_seed if v == 0 else variant_seed(key, v) % 2**31


def _windows(corpus, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    from ..lm import windows

    return windows(_stream(corpus), n, T_CTX, seed=seed)


def _model_ok(model) -> bool:
    return isinstance(model, torch.nn.Module)


def _unigram_bits(corpus) -> float:
    """The bar a trained model must clear: the unigram model's bits per character (§1's baseline)."""
    from ..lm import unigram_perplexity

    return math.log2(unigram_perplexity(corpus))


# ----------------------------------------------------------------------------- exercise 3
BITS_N = 300                 # validation windows, as §3's x_val
BITS_TOL = 6e-4              # the notebook prints three decimals


def bits_inputs(corpus, v: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, y): the student's 300 validation windows of exercise 3. Variant 0: §3's x_val, y_val
    (seed 1); otherwise 300 other windows of the same validation text."""
    return _windows(corpus, BITS_N, _window_seed("ch08.bits", _v(v), 1))


@reference
@measured
def bits_answers(model, x, y) -> dict[str, float]:
    """The right bits per character of ``model`` on (x, y) and the values of the named mistakes."""
    from ..lm import perplexity

    loss = math.log(perplexity(model, x, y))
    return {"right": loss / math.log(2), "times": loss * math.log(2), "ln10": loss / math.log(10),
            "ppl": math.exp(loss), "nats": loss}


BITS_HINTS = (
    ("times", "乘反了：1 比特 = ln 2 ≈ 0.693 nats，同一个量用比特表示，数值比 nats 大。"),
    ("ln10", "这是以 10 为底的单位；比特以 2 为底。"),
    ("ppl", "这是困惑度；每字比特数是以 2 为底的交叉熵。"),
    ("nats", "这还是 nats（以 e 为底）；要换成以 2 为底的比特。"),
)


@checker
def check_bits_per_char(answer, model, corpus, v: int | None = None) -> Verdict:
    """Bits per character of ``model`` (§3's trained LSTM) on the variant's windows
    (``bits_inputs(corpus)``), to three decimals. The checker evaluates the model itself."""
    if unanswered(answer):
        return quiet_false()
    value = read_number(answer, "每字比特数")
    if value is None:
        return quiet_false()
    if not _model_ok(model):
        return verdict(False, f"第二个参数应是 §3 训练好的模型 models[\"LSTM\"]，得到 {describe(model)}。")
    v = _v(v)
    want = bits_answers(model, *bits_inputs(corpus, v))
    near = lambda x: abs(value - x) <= BITS_TOL
    if near(want["right"]):
        if want["right"] >= _unigram_bits(corpus):
            return verdict(False, "换算对了，但这个模型还不如只看字频的一元模型（没有训练过？）："
                                  "用 §3 训练好的 models[\"LSTM\"]。")
        return verdict(True, "比特数 = nats / ln 2；2 的这么多次方就是困惑度。")
    for key, hint in BITS_HINTS:
        if near(want[key]):
            return verdict(False, hint)
    if v != 0:
        chapter = bits_answers(model, *bits_inputs(corpus, 0))
        if any(near(x) for x in chapter.values()):
            return verdict(False, "用的是 §3 的 x_val、y_val：这道题用 bits_inputs(corpus) 给你的片段。")
    return verdict(False, "不对：用 bits_inputs(corpus) 给你的片段算出 LSTM 的平均交叉熵（nats），再换成比特，保留三位小数。")


# ----------------------------------------------------------------------------- exercise 4
LAST = T_CTX - 1             # the last position of a window: it has read 32 characters
CTX_N = 2000                 # windows
CTX_TOL = 0.006              # the notebook prints two decimals
CTX_RATIO = 1.1              # the conclusion: position 0 at least this much harder than the last
                             # (measured: trained LSTM 1.25-1.56 over 12 variants; untrained 1.00)


def context_inputs(corpus, v: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, y): the student's 2,000 validation windows of exercise 4 (variant 0: seed 5, the chapter's)."""
    return _windows(corpus, CTX_N, _window_seed("ch08.context", _v(v), 5))


@reference
@measured
def context_answer(model, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(perplexity at position 0, perplexity at the last position) of ``model`` on (x, y)."""
    from ..lm import token_losses

    losses = token_losses(model, x, y, positions=[0, LAST]).double()
    return math.exp(float(losses[:, 0].mean())), math.exp(float(losses[:, 1].mean()))


@reference
@measured
def context_mistakes(model, x: torch.Tensor, y: torch.Tensor) -> dict[str, tuple[float, float]]:
    """The pairs the named mistakes give on (x, y)."""
    from ..lm import token_losses

    losses = token_losses(model, x, y).double()
    ppl = lambda part: math.exp(float(part.mean()))
    first, last = ppl(losses[:, 0]), ppl(losses[:, LAST])
    return {"swapped": (last, first), "nats": (math.log(first), math.log(last)),
            "exp_mean": (float(losses[:, 0].exp().mean()), float(losses[:, LAST].exp().mean())),
            "last_is_30": (first, ppl(losses[:, LAST - 1])), "last_all": (first, ppl(losses)),
            "last_16_on": (first, ppl(losses[:, 16:])), "first_is_1": (ppl(losses[:, 1]), last)}


CONTEXT_HINTS = (
    ("swapped", "两个数的顺序反了：先写位置 0 的，再写最后一个位置的。"),
    ("nats", "这是平均交叉熵（nats）；困惑度还要取 exp。"),
    ("exp_mean", "先对交叉熵取平均，再取 exp；不要先取 exp 再平均（那会被几个很难的字主导）。"),
    ("last_is_30", "第二个数用的是倒数第二个位置；最后一个位置是每段片段的最后一列。"),
    ("last_all", "第二个数应只用最后一个位置，不是所有位置的平均。"),
    ("last_16_on", "第二个数应只用最后一个位置，不是第 16 个以后所有位置的平均。"),
    ("first_is_1", "第一个数用的是位置 1；位置 0 是每段片段的第一列。"),
)


def _pair(answer):
    if isinstance(answer, (torch.Tensor, np.ndarray)) and answer.ndim == 1:
        answer = tuple(answer.tolist())
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        verdict(False, f"答案应是两个数 (位置 0 的困惑度, 最后一个位置的困惑度)，得到 {describe(answer)}。")
        return None
    first = read_number(answer[0], "第一个数（位置 0 的困惑度）")
    if first is None:
        return None
    last = read_number(answer[1], "第二个数（最后一个位置的困惑度）")
    if last is None:
        return None
    return first, last


@checker
def check_context_experiment(answer, model, corpus, v: int | None = None) -> Verdict:
    """answer = (ppl at position 0, ppl at the last position 31) of ``model`` on the variant's
    windows (``context_inputs(corpus)``), to two decimals. The checker measures the same windows
    itself and asks for the conclusion (position 0 clearly harder), which an untrained model does
    not show. A failure names which number is off, never the checker's numbers."""
    if unanswered(answer):
        return quiet_false()
    pair = _pair(answer)
    if pair is None:
        return quiet_false()
    if not _model_ok(model):
        return verdict(False, f"第二个参数应是 §3 训练好的模型 models[\"LSTM\"]，得到 {describe(model)}。")
    x, y = context_inputs(corpus, v)
    want = {"right": context_answer(model, x, y)}
    near = lambda key: all(abs(a - b) <= CTX_TOL for a, b in zip(pair, want[key]))
    if near("right"):
        first, last = want["right"]
        if first / last < CTX_RATIO:
            return verdict(False, "你的两个数与模型一致，但位置 0 并不比最后一个位置难：这个模型还没学会用上文，"
                                  "用 §3 训练好的 models[\"LSTM\"]。")
        return verdict(True, "位置 0（只看到 1 个字）比最后一个位置（看到 32 个字）难得多：上文越长越好猜。")
    want.update(context_mistakes(model, x, y))
    for key, hint in CONTEXT_HINTS:
        if near(key):
            return verdict(False, hint)
    which = [name for name, mine, ref in zip(("第一个数（位置 0）", "第二个数（最后一个位置）"), pair, want["right"])
             if abs(mine - ref) > CTX_TOL]
    return verdict(False, f"{'和'.join(which)}不对：用 context_inputs(corpus) 给你的片段和 §3 的 LSTM，"
                          f"交叉熵先平均再取 exp，保留两位小数。")
