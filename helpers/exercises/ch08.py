"""Checkers for chapter 08 (language models).

Each checker prints one verdict line and returns a :class:`~helpers.exercises._core.Verdict`
(truthy when right, shows nothing in a notebook); none raises, whatever the answer.

1. ``check_toy_perplexity(answer)``: the perplexity of a toy model that gives the right character
   p = 0.5 half of the time and p = 0.05 the other half (a geometric mean, not an arithmetic one).
2. ``check_top_k_sampler(fn)``: fn(logits, tau, k, g) -> one index drawn from the top-k, temperature-τ
   distribution with the generator g; judged on thousands of draws with fixed generators.
3. ``check_bits_per_char(answer, loss)``: bits per character from a mean cross-entropy in nats.
4. ``check_context_experiment(answer, model, x, y)`` (experiment): the student's own perplexities of
   a trained model at the first position of each window and at positions 16..T-1; the checker
   measures the same windows itself.
"""
from __future__ import annotations

import math

import torch

from ..env import generator
from ..lm import token_losses
from ._core import (Verdict, checker, describe, quiet_false, read_number, run_student, unanswered,
                    verdict)

# ----------------------------------------------------------------------------- exercise 1
TOY_P = (0.5, 0.05)             # the probability of the right character, each half of the time


def _toy_answers() -> dict[str, float]:
    p1, p2 = TOY_P
    loss = -(math.log(p1) + math.log(p2)) / 2
    return {"right": math.exp(loss), "loss": loss, "bits": loss / math.log(2),
            "mean_p": 1 / ((p1 + p2) / 2), "mean_inv": (1 / p1 + 1 / p2) / 2}


@checker
def check_toy_perplexity(answer) -> Verdict:
    """PPL = exp(−mean log p) = 1 / sqrt(0.5 · 0.05) ≈ 6.32: the geometric mean of 1/p."""
    if unanswered(answer):
        return quiet_false()
    value = read_number(answer, "困惑度")
    if value is None:
        return quiet_false()
    want = _toy_answers()
    near = lambda key: math.isclose(value, want[key], rel_tol=2e-3)
    if near("right"):
        return verdict(True, f"exp(−(log 0.5 + log 0.05)/2) = 1/√(0.5·0.05) = {want['right']:.2f}："
                             "困惑度是 1/p 的几何平均（不是算术平均 11，也不是 1/(p 的平均) ≈ 3.64）。")
    if near("mean_p"):
        return verdict(False, "这是 1/(p 的算术平均)：困惑度平均的是 log p（交叉熵），再取 exp，即几何平均。")
    if near("mean_inv"):
        return verdict(False, "这是 1/p 的算术平均：困惑度先平均 −log p，再取 exp，即 1/p 的几何平均。")
    if near("loss"):
        return verdict(False, f"{value:.3f} 是平均交叉熵（nats），困惑度还要再取 exp。")
    if near("bits"):
        return verdict(False, f"{value:.3f} 是以 2 为底的交叉熵（比特），困惑度是 2 的这么多次方，即 exp(nats)。")
    return verdict(False, f"困惑度 = exp(−平均 log p)；这里一半的字 p = {TOY_P[0]}，一半 p = {TOY_P[1]}，"
                          f"得到 {value} 不对。")


# ----------------------------------------------------------------------------- exercise 2
SAMPLER_CASES = (            # (logits, tau, k): a sharp and a flat temperature, a small and a large k
    ([2.0, 0.5, 1.2, -1.0, 0.0, 1.8, -0.4], 0.5, 3),
    ([2.0, 0.5, 1.2, -1.0, 0.0, 1.8, -0.4], 2.0, 3),
    ([0.3, -0.2, 1.0, 0.8, -1.5, 0.1], 1.0, 5),
)
N_DRAWS = 3000
TV_TOL = 0.05                # total-variation distance allowed between the draws and the distribution


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
    for i, (z, tau, k) in enumerate(SAMPLER_CASES):
        logits = torch.tensor(z, dtype=torch.float64)
        freq = _frequencies(fn, logits, tau, k, seed=100 + i)
        if freq is None:
            return quiet_false()
        want = top_k_probs(logits, tau, k)
        outside = float(freq[want == 0].sum())
        if outside > 0:
            return verdict(False, f"抽到了前 k = {k} 个以外的字（占 {outside:.1%}）：先只保留概率最大的 k 个，"
                                  f"其余的概率设为 0（或 logits 设为 −inf），再抽样。")
        tv = lambda p: 0.5 * float((freq - p).abs().sum())
        if tv(want) <= TV_TOL:
            continue
        if tv(top_k_probs(logits, tau, k, scale="multiply")) <= TV_TOL:
            return verdict(False, "温度用反了：是 logits / tau（τ < 1 更尖），不是 logits * tau。")
        if tv(top_k_probs(logits, tau, k, scale="none")) <= TV_TOL:
            return verdict(False, f"没有用温度：τ = {tau} 时分布应变{'尖' if tau < 1 else '平'}，先算 logits / tau。")
        if len(set(freq.nonzero().flatten().tolist())) == 1:
            return verdict(False, "每次都抽到同一个字：这是贪心（取最大），不是抽样；用 torch.multinomial(probs, 1, generator=g)。")
        return verdict(False, f"抽样的频率与 softmax(logits / τ) 在前 k 个里重新归一化后的分布不符"
                              f"（τ = {tau}，k = {k}，总变差距离 {tv(want):.3f} > {TV_TOL}）。")
    # the draws must come from g: the same seed gives the same sequence, another seed another one
    draws = []
    for seed in (7, 7, 8):
        g = generator(seed)
        logits = torch.tensor(SAMPLER_CASES[2][0], dtype=torch.float64)
        seq = [_draw(fn, logits, 1.0, 5, g) for _ in range(40)]
        if None in seq:
            return quiet_false()
        draws.append(seq)
    if draws[0] != draws[1] or draws[0] == draws[2]:
        return verdict(False, "分布对了，但没有用传入的生成器 g：torch.multinomial(probs, 1, generator=g)，"
                              "这样同一个种子才写出同样的句子。")
    return verdict(True, f"{N_DRAWS} 次抽样的频率与前 k 个、温度 τ 的分布一致，同一个种子抽出同样的序列。")


# ----------------------------------------------------------------------------- exercise 3
@checker
def check_bits_per_char(answer, loss: float) -> Verdict:
    """Bits per character = loss / ln 2 (loss: mean cross-entropy in nats)."""
    if unanswered(answer):
        return quiet_false()
    value = read_number(answer, "每字比特数")
    if value is None:
        return quiet_false()
    want = loss / math.log(2)
    near = lambda x: math.isclose(value, x, rel_tol=1e-3)
    if near(want):
        return verdict(True, f"{loss:.3f} / ln 2 = {want:.3f} 比特/字；2 的这么多次方 = {2 ** want:.1f}，就是困惑度。")
    if near(loss * math.log(2)):
        return verdict(False, "乘反了：1 比特 = ln 2 ≈ 0.693 nats，所以比特数 = nats / ln 2（比 nats 大）。")
    if near(loss / math.log(10)):
        return verdict(False, "除以的是 ln 10：那是以 10 为底的单位；比特以 2 为底，除以 ln 2。")
    if near(math.exp(loss)):
        return verdict(False, "这是困惑度 exp(loss)；每字比特数是 loss / ln 2 = log2(困惑度)。")
    if near(loss):
        return verdict(False, "这还是 nats（以 e 为底）；换成比特要除以 ln 2。")
    return verdict(False, f"每字比特数 = loss / ln 2，loss = {loss:.4f} nats；得到 {value} 不对。")


# ----------------------------------------------------------------------------- exercise 4
LATE = 16                    # "long context": positions 16..T-1 have read at least 17 characters


def context_perplexities(model, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(perplexity at position 0 of every window, perplexity over positions LATE..T-1)."""
    losses = token_losses(model, x, y).double()
    return math.exp(float(losses[:, 0].mean())), math.exp(float(losses[:, LATE:].mean()))


@checker
def check_context_experiment(answer, model, x: torch.Tensor, y: torch.Tensor) -> Verdict:
    """answer = (ppl at position 0, ppl over positions 16..T-1) of ``model`` on the windows (x, y)."""
    if unanswered(answer):
        return quiet_false()
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return verdict(False, f"答案应是两个数 (第 0 个位置的困惑度, 第 {LATE} 个以后位置的困惑度)，"
                              f"得到 {describe(answer)}。")
    first = read_number(answer[0], "第一个数（位置 0 的困惑度）")
    if first is None:
        return quiet_false()
    late = read_number(answer[1], f"第二个数（位置 {LATE}..{x.shape[1] - 1} 的困惑度）")
    if late is None:
        return quiet_false()
    ref_first, ref_late = context_perplexities(model, x, y)
    near = lambda a, b: math.isclose(a, b, rel_tol=1e-3)
    if near(first, ref_first) and near(late, ref_late):
        return verdict(True, f"位置 0（只看到 1 个字）：{ref_first:.0f}；位置 {LATE} 以后：{ref_late:.0f}。"
                             f"上文越长越好猜，相差 {ref_first / ref_late:.1f} 倍。")
    if near(first, ref_late) and near(late, ref_first):
        return verdict(False, "两个数的顺序反了：先写位置 0 的，再写长上文位置的。")
    if near(first, math.log(ref_first)) or near(late, math.log(ref_late)):
        return verdict(False, "这是平均交叉熵（nats）；困惑度还要取 exp。")
    losses = token_losses(model, x, y).double()
    mean_exp = float(losses[:, LATE:].exp().mean())
    if near(late, mean_exp) or near(first, float(losses[:, 0].exp().mean())):
        return verdict(False, "先对各位置的交叉熵取平均，再取 exp；不要先取 exp 再平均（那会被几个很难的字主导）。")
    if not near(first, ref_first):
        return verdict(False, "位置 0 的困惑度不对：用 x、y 的第 0 列（y[:, 0]）的交叉熵取平均再 exp。")
    return verdict(False, f"长上文的困惑度不对：取第 {LATE} 列到最后一列（[:, {LATE}:]）的交叉熵，平均后再 exp。")
