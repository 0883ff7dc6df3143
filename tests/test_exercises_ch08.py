"""Chapter 08 checkers, table-driven: what students write, the verdict, and the hint that must
(or must not) appear. No checker may raise, whatever it is given."""
import math

import pytest
import torch

from exercise_table import HOSTILE, assert_rejects_hostile, assert_row, run_checker
from helpers import lm
from helpers.exercises import ch08

LOSS = 5.2


@pytest.fixture(scope="module")
def tiny():
    """A tiny untrained GPT and a few windows of a real stream (the checker only evaluates it)."""
    torch.manual_seed(0)
    corpus = lm.char_corpus(max_vocab=200, seed=0)
    model = lm.GPT(len(corpus.vocab), 16, 2, 1, max_len=24).eval()
    x, y = lm.windows(corpus.val, 40, 24, seed=1)
    return model, x, y


def _run(capsys, checker, *args):
    return run_checker(capsys, checker, *args)


@pytest.mark.parametrize("answer", HOSTILE, ids=range(len(HOSTILE)))
def test_no_checker_raises_and_none_is_unanswered(answer, capsys, tiny):
    assert_rejects_hostile(capsys, ch08.check_toy_perplexity, answer)
    assert_rejects_hostile(capsys, ch08.check_top_k_sampler, answer)
    assert_rejects_hostile(capsys, lambda a: ch08.check_bits_per_char(a, LOSS), answer)
    assert_rejects_hostile(capsys, lambda a: ch08.check_context_experiment(a, *tiny), answer)


# ----------------------------------------------------------------------------- exercise 1
TOY = 1 / math.sqrt(0.5 * 0.05)
TOY_LOSS = -(math.log(0.5) + math.log(0.05)) / 2


@pytest.mark.parametrize("answer, ok, must, must_not", [
    (TOY, True, "几何平均", None),
    (6.3246, True, "正确", None),
    ("6.3246", True, "正确", None),
    (torch.tensor(TOY, dtype=torch.float32), True, "正确", None),
    (math.exp(-(0.5 * math.log(0.5) + 0.5 * math.log(0.05))), True, "正确", None),
    (1 / 0.275, False, "1/(p 的算术平均)", "1/p 的算术平均"),
    (11.0, False, "1/p 的算术平均", None),
    (TOY_LOSS, False, "再取 exp", None),
    (TOY_LOSS / math.log(2), False, "比特", None),
    (6.0, False, "不对", "几何平均"),
    (0.0, False, "不对", "几何平均"),
    (-TOY, False, "不对", "几何平均"),
    ([TOY], False, "应是一个数", None),
    (None, False, "未作答", None),
])
def test_toy_perplexity_table(answer, ok, must, must_not, capsys):
    got, out = _run(capsys, ch08.check_toy_perplexity, answer)
    assert_row(got, out, ok, must, must_not)


# ----------------------------------------------------------------------------- exercise 2
def _topk(scale=lambda z, tau: z / tau, k_shift=0, generator_arg=True, as_tensor=False):
    """A student's top-k sampler written out by hand (not through the checker's own code)."""
    def sample(logits, tau, k, g):
        p = torch.softmax(scale(logits, tau), dim=-1)
        top = p.topk(k + k_shift)
        i = top.indices[torch.multinomial(top.values, 1, generator=g if generator_arg else None)]
        return i if as_tensor else int(i)
    return sample


def _masked(logits, tau, k, g):
    z = logits / tau
    z[z < z.topk(k).values[-1]] = float("-inf")                  # in place on the (copied) argument
    return torch.multinomial(torch.softmax(z, -1), 1, generator=g)


def _via_lm(logits, tau, k, g):
    return int(torch.multinomial(lm.sampling_probs(logits, tau, top_k=k, banned=()), 1, generator=g))


def _full(logits, tau, k, g):
    return int(torch.multinomial(torch.softmax(logits / tau, -1), 1, generator=g))


def _raise(*a):
    raise RuntimeError("boom")


HINTS = ["温度用反了", "没有用温度", "前 k =", "贪心", "生成器 g"]


@pytest.mark.parametrize("fn, ok, must, must_not", [
    (_topk(), True, "一致", None),
    (_topk(as_tensor=True), True, "一致", None),
    (_masked, True, "一致", None),
    (_via_lm, True, "一致", None),
    (_topk(scale=lambda z, tau: z.float() / tau), True, "一致", None),
    (_topk(scale=lambda z, tau: z * tau), False, "温度用反了", None),
    (_topk(scale=lambda z, tau: z), False, "没有用温度", None),
    (_topk(k_shift=1), False, "前 k =", None),
    (_full, False, "前 k =", None),
    (lambda logits, tau, k, g: int(logits.argmax()), False, "贪心", None),
    (_topk(generator_arg=False), False, "生成器 g", None),
    (_topk(scale=lambda z, tau: -z / tau), False, "前 k =", None),
    (lambda logits, tau, k, g: int(logits.topk(k).indices[torch.randint(k, (1,), generator=g)]), False, "不符", None),
    (lambda logits, tau, k, g: 1.0, False, "整数下标", None),
    (lambda logits, tau, k, g: True, False, "整数下标", None),
    (lambda logits, tau, k, g: torch.tensor([0.5]), False, "整数下标", None),
    (lambda logits, tau, k, g: 99, False, "0..", None),
    (lambda logits, tau, k, g: -1, False, "0..", None),
    (lambda logits, tau, k, g: None, False, "没有返回值", None),
    (lambda logits, tau: 0, False, "参数不对", None),
    (_raise, False, "运行出错", None),
    ("sample", False, "函数", None),
    (None, False, "未作答", None),
])
def test_top_k_sampler_table(fn, ok, must, must_not, capsys):
    got, out = _run(capsys, ch08.check_top_k_sampler, fn)
    assert_row(got, out, ok, must, must_not)
    assert out.count("【") == 1, out                     # one verdict line, whatever happened
    if ok:
        assert not any(h in out for h in HINTS), out


def test_sampler_that_fails_late_still_gives_one_verdict(capsys):
    calls = []

    def flaky(logits, tau, k, g):
        calls.append(1)
        if len(calls) > 50:
            raise ValueError("late")
        return _topk()(logits, tau, k, g)
    got, out = _run(capsys, ch08.check_top_k_sampler, flaky)
    assert not got and "运行出错" in out and out.count("【") == 1


# ----------------------------------------------------------------------------- exercise 3
@pytest.mark.parametrize("answer, ok, must, must_not", [
    (LOSS / math.log(2), True, "比特/字", None),
    (math.log2(math.exp(LOSS)), True, "正确", None),
    (str(LOSS / math.log(2)), True, "正确", None),
    (LOSS * math.log(2), False, "乘反了", None),
    (LOSS / math.log(10), False, "ln 10", None),
    (math.exp(LOSS), False, "困惑度", None),
    (LOSS, False, "还是 nats", None),
    (7.0, False, "不对", "乘反了"),
    (None, False, "未作答", None),
])
def test_bits_per_char_table(answer, ok, must, must_not, capsys):
    got, out = _run(capsys, ch08.check_bits_per_char, answer, LOSS)
    assert_row(got, out, ok, must, must_not)


# ----------------------------------------------------------------------------- exercise 4
def test_context_experiment_table(capsys, tiny):
    model, x, y = tiny
    losses = lm.token_losses(model, x, y).double()
    first, late = math.exp(float(losses[:, 0].mean())), math.exp(float(losses[:, 16:].mean()))
    cases = [
        ((first, late), True, "上文越长", None),
        ([first, late], True, "正确", None),
        ((torch.tensor(first), torch.tensor(late)), True, "正确", None),
        ((late, first), False, "顺序反了", None),
        ((math.log(first), math.log(late)), False, "取 exp", None),
        ((first, float(losses[:, 16:].exp().mean())), False, "先对各位置", None),
        ((first, math.exp(float(losses.mean()))), False, "长上文的困惑度不对", None),
        ((math.exp(float(losses[:, 1].mean())), late), False, "位置 0 的困惑度不对", None),
        ((first,), False, "两个数", None),
        ((first, "abc"), False, "第二个数", None),
        (first, False, "两个数", None),
        (None, False, "未作答", None),
    ]
    for answer, ok, must, must_not in cases:
        got, out = _run(capsys, ch08.check_context_experiment, answer, model, x, y)
        assert_row(got, out, ok, must, must_not)


def test_context_perplexities_match_lm(tiny):
    model, x, y = tiny
    first, late = ch08.context_perplexities(model, x, y)
    assert math.isclose(first, lm.perplexity(model, x[:, :1], y[:, :1]), rel_tol=1e-5)
    assert first > 1 and late > 1
