"""Chapter 04 checkers, table-driven: what students write, the verdict, and the hint that must
(or must not) appear. Every checker must never raise, whatever it is given. Per-student variants:
the reference answer passes for 20 variants, two variants' inputs differ, a classmate's answer
fails, and no failure message holds a value that passes when handed back."""
import math
import re

import numpy as np
import pytest
import torch

from helpers import bptt
from helpers.exercises import ch04
from helpers.widgets import explorer_data

from exercise_table import HOSTILE, assert_rejects_hostile, assert_row, run_checker

VARIANTS = range(20)


def _run(checker, answer, capsys, **kw):
    verdict = checker(answer, **kw)
    return bool(verdict), capsys.readouterr().out


ALL = (ch04.check_delta_step, ch04.check_must_vanish, ch04.check_clipped_grad, ch04.check_vanish_experiment)


@pytest.mark.parametrize("checker", ALL)
@pytest.mark.parametrize("answer", HOSTILE, ids=range(len(HOSTILE)))
def test_no_checker_raises_and_none_is_unanswered(checker, answer, capsys):
    assert_rejects_hostile(capsys, checker, answer)


def _numbers(text: str) -> list[float]:
    return [float(m) for m in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text)]


# ----------------------------------------------------------------------------- exercise 1
DELTA = [
    (ch04.delta_step, True, "δ_{t,k}", None),
    (lambda d, h, W: ((1 - h ** 2) * (d @ W)).float(), True, "δ_{t,k}", None),            # float32
    (lambda d, h, W: ((1 - h ** 2) * (d @ W)).numpy(), True, "δ_{t,k}", None),            # numpy
    (lambda d, h, W: ((1 - h ** 2) * (d @ W)).tolist(), True, "δ_{t,k}", None),           # lists
    (lambda d, h, W: (d @ W).mul_(1 - h ** 2), True, "δ_{t,k}", None),                     # in place
    (lambda d, h, W: h.pow_(2).neg_().add_(1).mul_(d @ W), True, "δ_{t,k}", None),           # in place on h
    (lambda d, h, W: (W.T @ d.T).T * (1 - h * h), True, "δ_{t,k}", None),                   # column form
    (lambda d, h, W: torch.einsum("bj,jk->bk", d, W) * (1 - torch.tanh(torch.atanh(h)) ** 2), True, "δ_{t,k}", None),
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
    (lambda d, h, W: torch.zeros(10 ** 6), False, "形状", None),                            # huge: short message
    (lambda d, h, W: torch.full_like(d, float("nan")), False, "NaN", None),
    (3, False, "函数", None),
]


@pytest.mark.parametrize("fn, ok, must, must_not", DELTA, ids=range(len(DELTA)))
def test_delta_step_table(fn, ok, must, must_not, capsys):
    got, out = _run(ch04.check_delta_step, fn, capsys)
    assert_row(got, out, ok, must, must_not)
    assert len(out) < 500


def test_delta_step_failure_messages_do_not_spell_the_answer(capsys):
    for fn, ok, _, _ in DELTA:
        if not ok:
            out = _run(ch04.check_delta_step, fn, capsys)[1]
            assert "delta_next @ W" not in out and "(1 - h_k**2)" not in out, out


def test_delta_step_matches_bptt_recursion():
    p = bptt.RNNParams.random(2, 4, 1, seed=1)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(5, 3, 2, dtype=torch.float64, generator=g), torch.randn(5, 3, 1, dtype=torch.float64, generator=g)
    r = bptt.bptt(p, x, y, steps=[4])                  # only the last loss: δ_k = δ_{4,k}
    h, _ = bptt.forward(p, x)
    for k in range(4):
        assert torch.allclose(ch04.delta_step(r.delta[k + 1], h[k + 1], p.W), r.delta[k], atol=1e-12)


@pytest.mark.parametrize("v", VARIANTS)
def test_delta_step_reference_passes_every_variant(v, capsys):
    assert _run(ch04.check_delta_step, ch04.delta_step, capsys, v=v)[0]


def test_delta_step_variants_test_other_inputs(capsys):
    a, b = ch04.delta_inputs(1), ch04.delta_inputs(2)
    assert a[0].shape != b[0].shape or not torch.equal(a[0], b[0])
    assert all(torch.equal(x, y) for x, y in zip(ch04.delta_inputs(0), ch04.delta_inputs(0)))
    # a function that only returns the variant-0 answer (special-cased inputs) fails elsewhere
    fixed = ch04.delta_step(*ch04.delta_inputs(0))
    assert not _run(ch04.check_delta_step, lambda d, h, W: fixed, capsys, v=3)[0]


# ----------------------------------------------------------------------------- exercise 2
RIGHT = [ch04.must_vanish(s, a) for s, _, a in ch04.VANISH_CASES]
VANISH = [
    (RIGHT, True, "保证", None),
    (np.array(RIGHT), True, "保证", None),
    (tuple(RIGHT), True, "保证", None),
    (torch.tensor(RIGHT), True, "保证", None),
    ([int(r) for r in RIGHT], True, "保证", None),
    ([np.bool_(r) for r in RIGHT], True, "保证", None),
    ([True, False, False, False, False], False, "1/4", "谱半径"),        # case 3: sigmoid, γσ = 0.75
    ([True, False, True, False, True], False, "谱半径", "1/4"),          # case 5: ρ < 1 is not enough
    ([False, False, True, False, False], False, "一定消失", "谱半径"),    # case 1: 0.9 < 1
    ([True, False, True, True, False], False, "不保证", "1/4"),          # case 4: sigmoid, γσ = 1.25
    ([True, True, True, False, False], False, "谱半径", "1/4"),          # case 2: ρ < 1 trap too
    ([False, True, False, True, True], False, "1/4", None),               # every answer flipped
    ([True], False, "5 项", None),
    ([True] * 10 ** 5, False, "5 项", None),
    ([True, False, True, False, "no"], False, "第 5 项", None),
    ([True, False, True, False, float("nan")], False, "第 5 项", None),
    ("TFTFF", False, "列表", None),
]


def test_vanish_cases_follow_the_chapter():
    assert ch04.vanish_cases(0) == ch04.VANISH_CASES
    assert RIGHT == [True, False, True, False, False]
    # W4: case 5 is a tanh RNN (a linear RNN with ρ < 1 would vanish in the long run)
    assert ch04.VANISH_CASES[4] == (1.3, 0.7, "tanh")


@pytest.mark.parametrize("answer, ok, must, must_not", VANISH, ids=range(len(VANISH)))
def test_must_vanish_table(answer, ok, must, must_not, capsys):
    got, out = _run(ch04.check_must_vanish, answer, capsys)
    assert_row(got, out, ok, must, must_not)
    assert "情形 " not in out and len(out) < 800        # names the kind of slip, never which case


def _vanish_answer(v):
    return [ch04.must_vanish(s, a) for s, _, a in ch04.vanish_cases(v)]


@pytest.mark.parametrize("v", VARIANTS)
def test_must_vanish_reference_passes_every_variant(v, capsys):
    cases = ch04.vanish_cases(v)
    gamma = {"tanh": 1.0, "sigmoid": 0.25, "identity": 1.0}
    assert _run(ch04.check_must_vanish, [gamma[a] * s < 1 for s, _, a in cases], capsys, v=v)[0]
    for s, rho, act in cases:                          # the chapter's facts hold for every drawn case
        assert rho <= s and abs(ch04.GAMMA[act] * s - 1) >= 0.05


def test_must_vanish_variants_differ_and_classmates_answers_fail(capsys):
    assert ch04.vanish_cases(1) != ch04.vanish_cases(2)
    assert len({ch04.vanish_cases(v) for v in range(1, 40)}) == 39
    # every variant has a trap of each kind: a sigmoid that vanishes with σ_max > 1, and ρ < 1 < σ_max
    for v in range(1, 40):
        cases = ch04.vanish_cases(v)
        assert any(a == "sigmoid" and s > 1 and ch04.must_vanish(s, a) for s, _, a in cases)
        assert any(a == "tanh" and s > 1 > r for s, r, a in cases)
    pairs = [(v, v + 1) for v in range(1, 101)]
    same = [p for p in pairs if _vanish_answer(p[0]) == _vanish_answer(p[1])]
    assert len(same) <= 10, same                       # measured: about 3 % of pairs share the answer
    v, w = next(p for p in pairs if p not in same)
    assert not _run(ch04.check_must_vanish, _vanish_answer(v), capsys, v=w)[0]


def test_must_vanish_uses_sigma_not_rho_in_every_variant(capsys):
    """Wrong methods (judge by ρ, forget γ of the sigmoid) give a different answer in every variant."""
    for v in range(0, 30):
        cases = ch04.vanish_cases(v)
        by_rho = [ch04.GAMMA[a] * r < 1 for s, r, a in cases]
        no_gamma = [s < 1 for s, _, a in cases]
        for wrong in (by_rho, no_gamma):
            assert wrong != _vanish_answer(v)
            assert not _run(ch04.check_must_vanish, wrong, capsys, v=v)[0]


# ----------------------------------------------------------------------------- exercise 3
def _real_clip(v=0):
    grads, max_norm = ch04.clip_inputs(v)
    W = torch.zeros(2, 2, requires_grad=True)
    b = torch.zeros(len(grads["b"]), requires_grad=True)
    W.grad = torch.tensor(grads["W"])
    b.grad = torch.tensor(grads["b"])
    torch.nn.utils.clip_grad_norm_([W, b], max_norm=max_norm)
    return W.grad


CLIP = [
    (_real_clip(), True, "13", None),                                      # what PyTorch does
    ([[1.5, 2.0], [0.0, 0.0]], True, "同一个因子", None),
    (np.array([[1.5, 2.0], [0, 0]], dtype=np.float32), True, "同一个因子", None),
    (torch.tensor([[1.5, 2.0], [0.0, 0.0]], dtype=torch.float64), True, "同一个因子", None),
    (((1.5, 2), (0, 0)), True, "同一个因子", None),
    ([[1.5 + 1e-7, 2.0], [0, 0]], True, "同一个因子", None),                  # rounding
    ([[1.505, 1.995], [0, 0]], True, "同一个因子", None),                      # three significant digits
    ([[1.6, 2.0], [0, 0]], False, "数值不对", None),                          # 5 % off: not rounding
    ([[3.0, 4.0], [0.0, 0.0]], False, "单独裁剪", "倒过来"),                  # per-tensor clipping: ‖g_W‖ = 5 < 6.5
    ([[3.9, 5.2], [0, 0]], False, "自己缩放", "单独"),
    ([[6.0, 8.0], [0, 0]], False, "倒过来", "单独"),
    ([[3 * 6.5 / 17, 4 * 6.5 / 17], [0, 0]], False, "不能直接相加", "倒过来"),
    ([[3 * 6.5 / 169, 4 * 6.5 / 169], [0, 0]], False, "两次", "倒过来"),
    ([[1.0, 2.0], [0, 0]], False, "数值不对", "倒过来"),
    ([1.5, 2.0], False, "形状 (2, 2)", None),
    ([[1.5, float("nan")], [0, 0]], False, "NaN", None),
    (np.zeros((1000, 1000)), False, "形状 (2, 2)", None),
    (0.5, False, "形状 (2, 2)", None),                                      # the factor, not the gradient
    ("1.5 2", False, "应是形状", None),
]
CLIP[0] = (_real_clip(), True, "同一个因子", None)


@pytest.mark.parametrize("answer, ok, must, must_not", CLIP, ids=range(len(CLIP)))
def test_clipped_grad_table(answer, ok, must, must_not, capsys):
    got, out = _run(ch04.check_clipped_grad, answer, capsys)
    assert_row(got, out, ok, must, must_not)
    assert len(out) < 500


def test_clipped_matches_torch():
    for v in VARIANTS:
        grads, max_norm = ch04.clip_inputs(v)
        assert torch.allclose(ch04.clipped(grads, max_norm)["W"], _real_clip(v).double())


@pytest.mark.parametrize("v", VARIANTS)
def test_clipped_grad_reference_passes_every_variant(v, capsys):
    right = _real_clip(v)
    assert _run(ch04.check_clipped_grad, right, capsys, v=v)[0]
    # typed by hand with three significant digits: accepted
    typed = [[float(f"{x:.3g}") for x in row] for row in right.tolist()]
    assert _run(ch04.check_clipped_grad, typed, capsys, v=v)[0]
    # every named mistake is rejected, with its own hint, and lies outside the tolerance by far
    grads, max_norm = ch04.clip_inputs(v)
    for wrong, hint in ch04.clip_mistakes(grads, max_norm):
        got, out = _run(ch04.check_clipped_grad, wrong, capsys, v=v)
        assert not got and hint in out
        assert float((wrong - right.double()).abs().max()) > 10 * ch04.CLIP_RTOL * float(right.abs().max())


def test_every_variant_keeps_the_clip_mistakes_apart():
    """Exhaustive over all variants: each named mistake lies >= CLIP_SEPARATION from the answer."""
    from helpers.exercises._core import VARIANTS as ALL_VARIANTS

    for v in range(ALL_VARIANTS + 1):              # every mistake is g_W times another factor
        grads, m = ch04.clip_inputs(v)
        nW = math.sqrt(sum(x * x for row in grads["W"] for x in row))
        nb = math.sqrt(sum(x * x for x in grads["b"]))
        total = math.hypot(nW, nb)
        right = m / total
        assert right < 1
        for wrong in (min(1, m / nW), m / nW, total / m, m / (nW + nb), m / total ** 2):
            assert abs(wrong - right) > ch04.CLIP_SEPARATION * right, v
    for v in range(200):                            # and the checker's own mistakes agree
        grads, max_norm = ch04.clip_inputs(v)
        right = ch04.clipped(grads, max_norm)["W"]
        scale = float(right.abs().max())
        for wrong, hint in ch04.clip_mistakes(grads, max_norm):
            assert float((wrong - right).abs().max()) > ch04.CLIP_SEPARATION * scale, (v, hint)


def test_input_makers_work_without_the_references(monkeypatch):
    """The student edition has no reference bodies: the cells' input makers must still work."""
    from helpers.exercises._core import GradedAtSubmission

    def gone(*a, **k):
        raise GradedAtSubmission()

    for name in ("delta_step", "delta_step_mistakes", "must_vanish", "vanish_slip", "clipped", "clip_mistakes"):
        monkeypatch.setattr(ch04, name, gone)
    for v in (0, 1, 2, 3):
        ch04.delta_inputs(v), ch04.vanish_cases(v), ch04.clip_inputs(v), ch04.experiment_seed(v)


def test_clipped_grad_variants_differ_and_classmates_answers_fail(capsys):
    assert ch04.clip_inputs(1) != ch04.clip_inputs(2)
    for v in range(1, 20):
        grads, max_norm = ch04.clip_inputs(v)
        nW = float(torch.tensor(grads["W"]).norm())
        total = float(torch.cat([torch.tensor(grads["W"]).flatten(), torch.tensor(grads["b"])]).norm())
        assert nW < max_norm < total                   # clipping each parameter alone is a visible slip
        assert not _run(ch04.check_clipped_grad, _real_clip(v), capsys, v=v + 1)[0]


@pytest.mark.parametrize("v", (0, 1, 2))
def test_clipped_grad_messages_hand_back_nothing(v, capsys):
    right = _real_clip(v)
    grads, max_norm = ch04.clip_inputs(v)
    wrongs = [w for w, _ in ch04.clip_mistakes(grads, max_norm)] + [right * 1.1, right * 0 + 1.0]
    for wrong in wrongs:
        got, out = _run(ch04.check_clipped_grad, wrong, capsys, v=v)
        assert not got
        for x in _numbers(out):
            if x != 0:
                assert not np.isclose(right.double().numpy(), x, rtol=1e-2).any(), out


# ----------------------------------------------------------------------------- exercise 4 (experiment)
def _measured(v=0, **settings):
    return explorer_data(("rnn",), seed=ch04.experiment_seed(v), **settings)["rnn"]["ratio"]


A = dict(scale=1.5)
B = dict(scale=3.0, mode="radius", input_scale=4.0)


def _exp(settings, reason, v=0, **extra):
    return {**settings, "grad_norm": _measured(v, **settings), "reason": reason, **extra}


EXPERIMENT = [
    (_exp(A, "A"), True, "谱半径", None),                           # tanh, σ_max 1.5, ρ < 1
    ({**_exp(dict(scale=1.5, mode="sigma", activation="tanh", input_scale=1.0, T=100), " a\n")},
     True, "谱半径", None),
    ({"scale": np.float32(1.5), "T": np.int64(100), "grad_norm": np.float32(_measured(**A)), "reason": "A"},
     True, "谱半径", None),
    ({**A, "grad_norm": float(f"{_measured(**A):.2e}"), "reason": "A"}, True, "谱半径", None),   # as printed
    ({**B, "grad_norm": f"{_measured(**B):.2e}", "reason": "B"}, True, "饱和", None),
    ({**A, "grad_norm": str(_measured(**A)), "reason": "A"}, True, "谱半径", None),
    (_exp(dict(scale=1.5, activation="identity"), "A"), True, "谱半径", None),   # linear, ρ < 1
    (_exp(B, "B"), True, "饱和", None),
    (_exp(A, "B"), False, "原因 B 不成立", "原因 A"),
    (_exp(B, "A"), False, "原因 A 不成立", "原因 B"),
    (_exp(A, "C"), False, "原因 C 不对", None),
    (_exp(dict(scale=3.0, activation="sigmoid"), "C"), False, "理论保证消失的情形", None),
    (_exp(dict(scale=0.9), "A"), False, "不大于 1", None),
    (_exp(dict(scale=3.0, mode="radius", input_scale=1.0), "B"), False, "没有消失", None),
    (_exp(dict(scale=1.1, mode="radius", activation="identity"), "A"), False, "没有消失", None),
    # made-up or wrongly measured numbers
    ({**A, "grad_norm": 1e-30, "reason": "A"}, False, "不一致", None),
    ({**A, "grad_norm": 1e-4, "reason": "A"}, False, "偏大", None),
    ({**A, "grad_norm": 0.0, "reason": "A"}, False, "偏小", None),
    ({**A, "grad_norm": _measured(**A) * 1.2, "reason": "A"}, False, "不一致", None),
    ({**A, "grad_norm": _measured(**A) * 1.02, "reason": "A"}, False, "不一致", None),
    ({**A, "grad_norm": _measured(T=50, **A), "reason": "A"}, False, "不一致", None),   # measured at another T
    ({**A, "grad_norm": explorer_data(("rnn",), seed=7, **A)["rnn"]["ratio"], "reason": "A"}, False, "不一致", None),
    ({**A, "grad_norm": _measured(**B), "reason": "A"}, False, "不一致", None),       # the other experiment's number
    ({"scale": 1.5, "reason": "A"}, False, "还缺你测到的", None),
    ({"scale": 1.5, "grad_norm": 1e-30}, False, "还缺原因", None),
    ({**_exp(A, "A"), "reason": "D"}, False, "\"A\"、\"B\" 或 \"C\"", None),
    ({**_exp(A, "A"), "reason": 1}, False, "字符串", None),
    ({**A, "grad_norm": "tiny", "reason": "A"}, False, "应是一个数", None),
    ({**A, "grad_norm": float("nan"), "reason": "A"}, False, "有限", None),
    ({**_exp(A, "A"), "scale": "big"}, False, "应是一个数", None),
    ({**_exp(A, "A"), "scale": float("inf")}, False, "有限", None),
    ({**_exp(A, "A"), "scale": -1.0}, False, "算不了", None),
    ({**_exp(A, "A"), "mode": "norm"}, False, "算不了", None),
    ({**_exp(A, "A"), "T": 2.5}, False, "整数", None),
    ({**_exp(A, "A"), "T": 10 ** 6}, False, "整数", None),
    ({"sigma": 1.5, "grad_norm": 1e-30, "reason": "A"}, False, "不认识的键", None),
    ({**{f"k{i}": i for i in range(10 ** 4)}, "reason": "A"}, False, "不认识的键", None),
    ([1.5, "A"], False, "字典", None),
]


@pytest.mark.parametrize("answer, ok, must, must_not", EXPERIMENT, ids=range(len(EXPERIMENT)))
def test_vanish_experiment_table(answer, ok, must, must_not, capsys):
    got, out = _run(ch04.check_vanish_experiment, answer, capsys)
    assert_row(got, out, ok, must, must_not)
    assert len(out) < 1000


def test_vanish_experiment_messages_hand_back_nothing(capsys):
    """No number in a failure message, handed back as the measurement, passes."""
    for answer, ok, _, _ in EXPERIMENT:
        if ok or not isinstance(answer, dict) or "grad_norm" not in answer:
            continue
        out = _run(ch04.check_vanish_experiment, answer, capsys)[1]
        for x in _numbers(out):
            again = {**answer, "grad_norm": x, "reason": "A"}
            assert not _run(ch04.check_vanish_experiment, again, capsys)[0] or answer["reason"] == "A" \
                and abs(x - _measured(**{k: answer[k] for k in answer if k not in ("grad_norm", "reason")})) \
                > 1, (answer, x)


def _reference_cell() -> str:
    """The notebook's reference cell of exercise 4 (the one the hub's Oracle runs per student)."""
    import json
    from pathlib import Path

    nb = json.loads((Path(__file__).resolve().parents[1] / "notebooks" / "04_bptt.ipynb").read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    found = [c for c in cells if c.startswith("# 参考答案") and "check_vanish_experiment(answer_A)" in c]
    assert len(found) == 1, "the reference cell of exercise 4 is not found once"
    return found[0]


def _run_reference(v, capsys, cell=None):
    """Run the notebook's reference cell as variant ``v``; the answers it checks (A, B)."""
    import functools

    ns = {"explorer_data": explorer_data, "seed": ch04.experiment_seed(v),
          "check_vanish_experiment": functools.partial(ch04.check_vanish_experiment, v=v)}
    exec(cell or _reference_cell(), ns)
    capsys.readouterr()
    return ns["answer_A"], ns["answer_B"]


def test_experiment_reference_cell_passes_every_variant(capsys):
    """The CI of stop 27 failed because the notebook's fixed settings (σ_max = 1.5 for reason A)
    had ρ ≥ 1 for about 3 % of the variants (one of the hub test's 20 random identities hit one).
    The reference cell now adjusts its settings as a student would; it must pass for every
    variant. All 9973 pass (the search alone, 55 s; measured when the cell was written); the test
    runs the cell and its checks on every 25th variant (about 5 s) plus the 13 that failed before."""
    from helpers.exercises._core import VARIANTS as COUNT

    cell = _reference_cell()
    before = [31, 68, 76, 81, 82, 119, 144, 187, 201, 222, 283, 324, 377]
    for v in sorted(set(range(0, COUNT + 1, 25)) | set(before)):
        _run_reference(v, capsys, cell)         # its asserts are the checker's verdicts


def test_experiment_variants_differ_and_classmates_measurements_fail(capsys):
    seeds = [ch04.experiment_seed(v) for v in range(40)]
    assert seeds[0] == 0 and len(set(seeds)) == 40
    for v in range(1, 20):
        for settings, reason in ((A, "A"), (B, "B")):
            mine, theirs = _measured(v, **settings), _measured(v + 1, **settings)
            assert abs(mine - theirs) > 2 * ch04.GRAD_RTOL * mine       # far outside the tolerance
            assert not _run(ch04.check_vanish_experiment, {**settings, "grad_norm": theirs, "reason": reason},
                            capsys, v=v)[0]


@pytest.mark.parametrize("offset", range(6))
def test_experiment_reference_answers_hold_for_every_offset(offset, monkeypatch, capsys):
    """The checker recomputes with the student's seed offset: the notebook's answers must pass on each."""
    monkeypatch.setenv("SEQCOURSE_SEED", str(offset))
    for v in (0, 31, 377):
        _run_reference(v, capsys)


def test_student_edition_checkers_say_graded_later(monkeypatch, capsys):
    """With the reference bodies gone (the hub's student edition), a checker prints GRADED_LATER."""
    from helpers.exercises._core import GRADED_LATER, GradedAtSubmission

    def gone(*a, **k):
        raise GradedAtSubmission()

    for name in ("delta_step", "must_vanish", "clipped"):
        monkeypatch.setattr(ch04, name, gone)
    for checker, answer in ((ch04.check_delta_step, lambda d, h, W: d), (ch04.check_must_vanish, RIGHT),
                            (ch04.check_clipped_grad, [[1.5, 2.0], [0, 0]])):
        got, out = _run(checker, answer, capsys)
        assert not got and GRADED_LATER in out


def test_reference_functions_are_marked():
    for name in ("delta_step", "delta_step_mistakes", "must_vanish", "vanish_slip", "clipped", "clip_mistakes"):
        assert getattr(getattr(ch04, name), "__seqcourse_reference__", False), name
    for name in ("delta_inputs", "vanish_cases", "clip_inputs", "experiment_seed"):
        assert not getattr(getattr(ch04, name), "__seqcourse_reference__", False), name
