"""Chapter 04 checkers, table-driven: what students write, the verdict, and the hint that must
(or must not) appear. Every checker must never raise, whatever it is given."""
import numpy as np
import pytest
import torch

from helpers import bptt
from helpers.exercises import ch04

from exercise_table import HOSTILE, assert_rejects_hostile, assert_row, run_checker


def _run(checker, answer, capsys):
    return run_checker(capsys, checker, answer)


ALL = (ch04.check_delta_step, ch04.check_must_vanish, ch04.check_clipped_grad, ch04.check_vanish_experiment)


@pytest.mark.parametrize("checker", ALL)
@pytest.mark.parametrize("answer", HOSTILE, ids=range(len(HOSTILE)))
def test_no_checker_raises_and_none_is_unanswered(checker, answer, capsys):
    assert_rejects_hostile(capsys, checker, answer)


# ----------------------------------------------------------------------------- exercise 1
DELTA = [
    (ch04.delta_step, True, "δ_{t,k}", None),
    (lambda d, h, W: ((1 - h ** 2) * (d @ W)).float(), True, "δ_{t,k}", None),            # float32
    (lambda d, h, W: ((1 - h ** 2) * (d @ W)).numpy(), True, "δ_{t,k}", None),            # numpy
    (lambda d, h, W: ((1 - h ** 2) * (d @ W)).tolist(), True, "δ_{t,k}", None),           # lists
    (lambda d, h, W: (d @ W).mul_(1 - h ** 2), True, "δ_{t,k}", None),                     # in place
    (lambda d, h, W: h.pow_(2).neg_().add_(1).mul_(d @ W), True, "δ_{t,k}", None),           # in place on h
    (lambda d, h, W: d @ W, False, "(1 − h_k²)", "数值不对"),
    (lambda d, h, W: (1 - h ** 2) * (d @ W.T), False, "转置", "(1 − h_k²)"),
    (lambda d, h, W: (1 - h) * (d @ W), False, "1 − h。", "转置"),
    (lambda d, h, W: h * (1 - h) * (d @ W), False, "sigmoid", "转置"),
    (lambda d, h, W: (1 - h ** 2) * d, False, "Wᵀ", "sigmoid"),
    (lambda d, h, W: W @ d, False, "运行出错", None),
    (lambda d, h, W: d, False, "数值不对", "sigmoid"),
    (lambda d, h, W: None, False, "没有返回值", None),
    (lambda d, h: d, False, "参数不对", None),
    (lambda d, h, W: (d @ W)[0], False, "形状", None),
    (lambda d, h, W: "x", False, "应是形状", None),
    (3, False, "函数", None),
]


@pytest.mark.parametrize("fn, ok, must, must_not", DELTA, ids=range(len(DELTA)))
def test_delta_step_table(fn, ok, must, must_not, capsys):
    got, out = _run(ch04.check_delta_step, fn, capsys)
    assert_row(got, out, ok, must, must_not)


def test_delta_step_matches_bptt_recursion():
    p = bptt.RNNParams.random(2, 4, 1, seed=1)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(5, 3, 2, dtype=torch.float64, generator=g), torch.randn(5, 3, 1, dtype=torch.float64, generator=g)
    r = bptt.bptt(p, x, y, steps=[4])                  # only the last loss: δ_k = δ_{4,k}
    h, _ = bptt.forward(p, x)
    for k in range(4):
        assert torch.allclose(ch04.delta_step(r.delta[k + 1], h[k + 1], p.W), r.delta[k], atol=1e-12)


# ----------------------------------------------------------------------------- exercise 2
RIGHT = [ch04.must_vanish(s, a) for s, _, a in ch04.VANISH_CASES]
VANISH = [
    (RIGHT, True, "保证", None),
    (np.array(RIGHT), True, "保证", None),
    ([int(r) for r in RIGHT], True, "保证", None),
    ([np.bool_(r) for r in RIGHT], True, "保证", None),
    ([True, False, False, False, False], False, "1/4", "谱半径"),        # case 3: sigmoid, γσ = 0.75
    ([True, False, True, False, True], False, "谱半径", "1/4"),          # case 5: ρ < 1 is not enough
    ([False, False, True, False, False], False, "一定消失", "谱半径"),    # case 1: 0.9 < 1
    ([True, False, True, True, False], False, "不保证", "1/4"),          # case 4: sigmoid, γσ = 1.25
    ([True, True, True, False, False], False, "情形 2", "情形 1"),
    ([True], False, "5 项", None),
    ([True, False, True, False, "no"], False, "第 5 项", None),
    ("TFTFF", False, "列表", None),
]


def test_vanish_cases_follow_the_chapter():
    assert RIGHT == [True, False, True, False, False]
    # W4: case 5 is a tanh RNN (a linear RNN with ρ < 1 would vanish in the long run)
    assert ch04.VANISH_CASES[4] == (1.3, 0.7, "tanh")


@pytest.mark.parametrize("answer, ok, must, must_not", VANISH, ids=range(len(VANISH)))
def test_must_vanish_table(answer, ok, must, must_not, capsys):
    got, out = _run(ch04.check_must_vanish, answer, capsys)
    assert got is ok and must in out, out
    if must_not:
        assert must_not not in out, out


# ----------------------------------------------------------------------------- exercise 3
def _real_clip():
    W = torch.zeros(2, 2, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    W.grad = torch.tensor(ch04.CLIP_GRADS["W"])
    b.grad = torch.tensor(ch04.CLIP_GRADS["b"])
    torch.nn.utils.clip_grad_norm_([W, b], max_norm=ch04.CLIP_MAX_NORM)
    return W.grad


CLIP = [
    (_real_clip(), True, "13", None),                                      # what PyTorch does
    ([[1.5, 2.0], [0.0, 0.0]], True, "0.5", None),
    (np.array([[1.5, 2.0], [0, 0]], dtype=np.float32), True, "0.5", None),
    (torch.tensor([[1.5, 2.0], [0.0, 0.0]], dtype=torch.float64), True, "0.5", None),
    (((1.5, 2), (0, 0)), True, "0.5", None),
    ([[1.5 + 1e-7, 2.0], [0, 0]], False, "数值不对", None),                   # float64 list: not rounding
    ([[3.0, 4.0], [0.0, 0.0]], False, "单独裁剪", "倒过来"),                  # per-tensor clipping: ‖g_W‖ = 5 < 6.5
    ([[3.9, 5.2], [0, 0]], False, "自己缩放", "单独"),
    ([[6.0, 8.0], [0, 0]], False, "倒过来", "单独"),
    ([[3 * 6.5 / 17, 4 * 6.5 / 17], [0, 0]], False, "不能直接相加", "倒过来"),
    ([[1.0, 2.0], [0, 0]], False, "期望", "倒过来"),
    ([1.5, 2.0], False, "形状 (2, 2)", None),
    ([[1.5, float("nan")], [0, 0]], False, "NaN", None),
    (0.5, False, "形状 (2, 2)", None),                                      # the factor, not the gradient
    ("1.5 2", False, "应是形状", None),
]


@pytest.mark.parametrize("answer, ok, must, must_not", CLIP, ids=range(len(CLIP)))
def test_clipped_grad_table(answer, ok, must, must_not, capsys):
    got, out = _run(ch04.check_clipped_grad, answer, capsys)
    assert got is ok and must in out, out
    if must_not:
        assert must_not not in out, out


def test_clipped_matches_torch():
    assert torch.allclose(ch04.clipped(ch04.CLIP_GRADS, ch04.CLIP_MAX_NORM)["W"], _real_clip().double())


@pytest.mark.parametrize("answer, ok, hint", [
    (0.02, True, "0.02"), (np.float32(0.02), True, "0.02"), (50.0, False, "倒过来"), (5, False, "裁剪后的范数"),
    (0.5, False, "max_norm / ‖g‖"), ("a", False, "一个数"), (float("inf"), False, "有限")])
def test_clip_factor_kept_for_old_notebooks(answer, ok, hint, capsys):
    got, out = _run(ch04.check_clip_factor, answer, capsys)
    assert got is ok and hint in out, out


# ----------------------------------------------------------------------------- exercise 4 (experiment)
EXPERIMENT = [
    ({"scale": 1.5, "reason": "A"}, True, "谱半径", None),                           # tanh, σ_max 1.5, ρ < 1
    ({"scale": 1.5, "mode": "sigma", "activation": "tanh", "input_scale": 1.0, "T": 100, "reason": " a\n"},
     True, "谱半径", None),
    ({"scale": np.float32(1.5), "T": np.int64(100), "reason": "A"}, True, "谱半径", None),
    ({"scale": 1.5, "activation": "identity", "reason": "A"}, True, "谱半径", None),   # linear, ρ < 1
    ({"scale": 3.0, "mode": "radius", "input_scale": 4.0, "reason": "B"}, True, "饱和", None),
    ({"scale": 1.5, "reason": "B"}, False, "原因 B 不成立", "原因 A"),
    ({"scale": 3.0, "mode": "radius", "input_scale": 4.0, "reason": "A"}, False, "原因 A 不成立", "原因 B"),
    ({"scale": 1.5, "reason": "C"}, False, "原因 C 不对", None),
    ({"scale": 3.0, "activation": "sigmoid", "reason": "C"}, False, "理论保证消失的情形", None),
    ({"scale": 0.9, "reason": "A"}, False, "不大于 1", None),
    ({"scale": 3.0, "mode": "radius", "input_scale": 1.0, "reason": "B"}, False, "没有消失", None),
    ({"scale": 1.1, "mode": "radius", "activation": "identity", "reason": "A"}, False, "没有消失", None),
    ({"scale": 1.5}, False, "还缺原因", None),
    ({"scale": 1.5, "reason": "D"}, False, "\"A\"、\"B\" 或 \"C\"", None),
    ({"scale": 1.5, "reason": 1}, False, "字符串", None),
    ({"scale": "big", "reason": "A"}, False, "应是一个数", None),
    ({"scale": float("inf"), "reason": "A"}, False, "有限", None),
    ({"scale": -1.0, "reason": "A"}, False, "算不了", None),
    ({"scale": 1.5, "mode": "norm", "reason": "A"}, False, "算不了", None),
    ({"scale": 1.5, "T": 2.5, "reason": "A"}, False, "整数", None),
    ({"scale": 1.5, "T": 10 ** 6, "reason": "A"}, False, "整数", None),
    ({"sigma": 1.5, "reason": "A"}, False, "不认识的键", None),
    ([1.5, "A"], False, "字典", None),
]


@pytest.mark.parametrize("answer, ok, must, must_not", EXPERIMENT, ids=range(len(EXPERIMENT)))
def test_vanish_experiment_table(answer, ok, must, must_not, capsys):
    got, out = _run(ch04.check_vanish_experiment, answer, capsys)
    assert got is ok and must in out, out
    if must_not:
        assert must_not not in out, out


@pytest.mark.parametrize("offset", range(6))
def test_experiment_reference_answers_hold_for_every_offset(offset, monkeypatch, capsys):
    """The checker recomputes with the student's seed offset: the notebook's answers must pass on each."""
    monkeypatch.setenv("SEQCOURSE_SEED", str(offset))
    assert _run(ch04.check_vanish_experiment, {"scale": 1.5, "reason": "A"}, capsys)[0]
    assert _run(ch04.check_vanish_experiment, {"scale": 3.0, "mode": "radius", "input_scale": 4.0, "reason": "B"},
                capsys)[0]
