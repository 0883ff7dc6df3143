"""Chapter 10 part 2 checkers, table-driven: the reference answer and equivalent ones pass, every
mistake a hint names fails with that hint, hostile answers never raise, variants differ and a
classmate's answer fails, and no failure message prints a number that passes when handed back."""
import re

import numpy as np
import pytest
import torch

from helpers.exercises import ch10_2
from helpers.exercises._core import GradedAtSubmission
from helpers.nn import linear_attention as la
from helpers.nn import ssm

from exercise_table import HOSTILE, assert_rejects_hostile, assert_row, run_checker

VARIANTS = range(20)


def _numbers(text):
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", text)]


# ----------------------------------------------------------------------------- exercise 1
def _right_sizes(v):
    s = ch10_2.cache_inputs(v)
    dk = s["d_model"] // s["num_heads"]
    return 2 * s["num_layers"] * s["S"] * s["d_model"], s["num_layers"] * s["num_heads"] * (dk * dk + dk)


def test_cache_sizes_variant_0_is_the_chapter_model():
    # the notebook's §3 measures these bytes (4 per number) with cache_bytes
    assert _right_sizes(0) == (3145728 // 4, 19200 // 4)


KV, ST = _right_sizes(0)
SIZE_CASES = [
    ((KV, ST), True, "KV 缓存随 S 线性增长", None),
    ([float(KV), np.int64(ST)], True, "KV 缓存随 S 线性增长", None),
    ((torch.tensor(KV), f"{ST}"), True, "KV 缓存随 S 线性增长", None),
    (None, False, "未作答", None),
    ((ST, KV), False, "顺序反了", None),
    ((KV // 2, ST), False, "只有应有的一半", "状态"),       # two layers: K only and one layer coincide
    ((KV // 2, ST), False, "每一层、每个位置", "少了一半"),
    ((KV, 2 * 4 * 24 * 24), False, "z", "KV 缓存"),
    ((KV, 2 * (96 * 96 + 96)), False, "每个头一个", None),
    ((KV, 4 * (24 * 24 + 24)), False, "只算了一层", None),
    ((KV, ST * 2048), False, "不随已生成的位置数 S 增长", None),
    ((KV + 1, ST), False, "KV 缓存不对", "状态"),
    ((KV, ST + 1), False, "线性注意力的状态不对", "KV"),
    ((KV, ST, 0), False, "两个整数", None),
    ((KV, ST + 0.5), False, "整数", None),
    ("abc", False, "两个整数", None),
]


@pytest.mark.parametrize("answer, ok, must, must_not", SIZE_CASES, ids=[f"size_{i}" for i in range(len(SIZE_CASES))])
def test_cache_sizes_table(capsys, answer, ok, must, must_not):
    got, out = run_checker(capsys, ch10_2.check_cache_sizes, answer, 0)
    assert_row(got, out, ok, must, must_not)
    if not ok and "整数" not in must:             # (a malformed answer is echoed back as given)
        assert str(KV) not in out and str(ST) not in out


@pytest.mark.parametrize("v", VARIANTS)
def test_cache_sizes_every_variant(capsys, v):
    right = _right_sizes(v)
    assert run_checker(capsys, ch10_2.check_cache_sizes, right, v)[0]
    s = ch10_2.cache_inputs(v)
    wrong = ch10_2.cache_size_mistakes(**s)
    assert len({*wrong.values()} & {*right}) == 0            # no mistake lands on a right number
    for name, hint in (("kv_no_two", "少了一半"), ("kv_one_layer", "只算了一层")):
        got, out = run_checker(capsys, ch10_2.check_cache_sizes, (wrong[name], right[1]), v)
        assert not got and str(right[0]) not in out
        if v:
            assert hint in out                                # from 3 layers on the two slips differ
    for name in ("state_no_z", "state_full_d", "state_one_layer", "state_with_S"):
        got, out = run_checker(capsys, ch10_2.check_cache_sizes, (right[0], wrong[name]), v)
        assert not got and str(right[1]) not in out


def test_cache_sizes_variants_differ_and_copying_fails(capsys):
    answers = {_right_sizes(v) for v in range(1, 21)}
    assert len(answers) >= 18
    for v in range(1, 20):
        if _right_sizes(v) != _right_sizes(v + 1):
            assert not run_checker(capsys, ch10_2.check_cache_sizes, _right_sizes(v), v + 1)[0]


@pytest.mark.parametrize("answer", HOSTILE)
def test_cache_sizes_hostile(capsys, answer):
    assert_rejects_hostile(capsys, ch10_2.check_cache_sizes, answer)


# ----------------------------------------------------------------------------- exercise 2
def step_right(S, z, q_t, k_t, v_t, gamma):
    fq, fk = la.feature_map(q_t), la.feature_map(k_t)
    S = gamma * S + torch.outer(fk, v_t)
    z = gamma * z + fk
    return S.T @ fq / (z @ fq), S, z


def step_numpy(S, z, q_t, k_t, v_t, gamma):                     # the same step, written in NumPy
    phi = lambda x: np.where(x > 0, x + 1, np.exp(np.minimum(x, 0)))
    S, z, q_t, k_t, v_t = (np.asarray(a) for a in (S, z, q_t, k_t, v_t))
    S = gamma * S + np.outer(phi(k_t), v_t)
    z = gamma * z + phi(k_t)
    return (phi(q_t) @ S) / (z @ phi(q_t)), S, z


def step_after_write(S, z, q_t, k_t, v_t, gamma):
    fq, fk = la.feature_map(q_t), la.feature_map(k_t)
    S, z = gamma * (S + torch.outer(fk, v_t)), gamma * (z + fk)
    return S.T @ fq / (z @ fq), S, z


def step_z_kept(S, z, q_t, k_t, v_t, gamma):
    fq, fk = la.feature_map(q_t), la.feature_map(k_t)
    S, z = gamma * S + torch.outer(fk, v_t), z + fk
    return S.T @ fq / (z @ fq), S, z


def step_no_decay(S, z, q_t, k_t, v_t, gamma):
    return step_right(S, z, q_t, k_t, v_t, 1.0)


def step_no_phi(S, z, q_t, k_t, v_t, gamma):
    S, z = gamma * S + torch.outer(k_t, v_t), gamma * z + k_t
    return S.T @ q_t / (z @ q_t), S, z


def step_read_before(S, z, q_t, k_t, v_t, gamma):
    fq, fk = la.feature_map(q_t), la.feature_map(k_t)
    y = S.T @ fq / (z @ fq) if z.abs().sum() > 0 else torch.zeros(v_t.shape, dtype=v_t.dtype)
    return y, gamma * S + torch.outer(fk, v_t), gamma * z + fk


def step_raises(S, z, q_t, k_t, v_t, gamma):
    raise RuntimeError("boom")


DECAY_CASES = [
    (step_right, True, "完全相同", None),
    (step_numpy, True, "完全相同", None),
    (lambda S, z, q, k, v, g: tuple(t.float() for t in step_right(S, z, q, k, v, g)), True, "完全相同", None),
    (None, False, "未作答", None),
    (step_after_write, True, "完全相同", None),        # S and z both scaled by γ: the same y_t
    (step_z_kept, False, "z 没有衰减", None),
    (step_no_decay, False, "没有用到 γ", None),
    (step_no_phi, False, "特征映射", None),
    (step_read_before, False, "更新前的状态", None),
    (step_raises, False, "运行出错", None),
    (lambda S, z, q, k, v: None, False, "参数不对", None),
    (lambda S, z, q, k, v, g: (v, S), False, "三个值", None),
    (lambda S, z, q, k, v, g: (v, S.T, z), False, "形状不对", None),
    (lambda S, z, q, k, v, g: (torch.zeros_like(v), S, z), False, "不一致", None),
    (42, False, "函数", None),
]


@pytest.mark.parametrize("answer, ok, must, must_not", DECAY_CASES, ids=[f"decay_{i}" for i in range(len(DECAY_CASES))])
def test_decay_step_table(capsys, answer, ok, must, must_not):
    got, out = run_checker(capsys, ch10_2.check_decay_step, answer, 0)
    assert_row(got, out, ok, must, must_not)


def test_decay_step_failure_messages_give_no_update_rule(capsys):
    """No failure message writes out the update (the exercise's answer): names of mistakes only."""
    for answer, ok, _, _ in DECAY_CASES:
        if ok:
            continue
        out = run_checker(capsys, ch10_2.check_decay_step, answer, 0)[1]
        for piece in ("φ(k_t) v_tᵀ", "y_t = ", "S_t = ", "除以 φ", "torch.outer", "feature_map("):
            assert piece not in out, out


@pytest.mark.parametrize("v", VARIANTS)
def test_decay_step_every_variant_and_mistakes_differ(capsys, v):
    assert run_checker(capsys, ch10_2.check_decay_step, step_right, v)[0]
    inp = ch10_2.decay_inputs(v)
    right = ch10_2.decay_reference(inp["q"], inp["k"], inp["v"], inp["gamma"])
    for name, wrong in ch10_2.decay_mistakes(inp["q"], inp["k"], inp["v"], inp["gamma"]).items():
        assert (wrong - right).abs().max() > 1e-3, name        # every named mistake is visible
    for bad in (step_z_kept, step_no_decay, step_no_phi, step_read_before):
        assert not run_checker(capsys, ch10_2.check_decay_step, bad, v)[0]


def test_decay_inputs_differ_per_variant():
    a, b = ch10_2.decay_inputs(1), ch10_2.decay_inputs(2)
    assert a["q"].shape != b["q"].shape or not torch.equal(a["q"], b["q"]) or a["gamma"] != b["gamma"]


def test_decay_step_special_casing_the_chapter_inputs_fails(capsys):
    """A function that replays variant 0's answers instead of computing fails for another variant."""
    inp = ch10_2.decay_inputs(0)
    y0 = la.masked_form(inp["q"][None], inp["k"][None], inp["v"][None], inp["gamma"])[0]
    t = {"i": 0}

    def replay(S, z, q, k, v, g):
        out = (y0[t["i"] % len(y0)], S, z)
        t["i"] += 1
        return out

    run_checker(capsys, ch10_2.check_decay_step, replay, 0)            # replays variant 0: may pass there
    t["i"] = 0
    assert not run_checker(capsys, ch10_2.check_decay_step, replay, 3)[0]


@pytest.mark.parametrize("answer", HOSTILE)
def test_decay_step_hostile(capsys, answer):
    if callable(answer):
        got, out = run_checker(capsys, ch10_2.check_decay_step, answer)
        assert not got and out.strip()
    else:
        assert_rejects_hostile(capsys, ch10_2.check_decay_step, answer)


# ----------------------------------------------------------------------------- exercise 3
@pytest.fixture(scope="module")
def trained():
    torch.set_num_threads(1)
    return ssm.train_copy(True)["model"]


def _ratio(model, v):
    x, ch = ch10_2.probe_inputs(v)
    with torch.no_grad():
        d = model.ssms[0].delta(model.norms[0](model.emb(x)))[:, :16, ch].mean(-1)
    data = x[:, :16] != ssm.NOISE
    return (d[data].mean() / d[~data].mean()).item()


def test_delta_ratio_table(capsys, trained):
    r = _ratio(trained, 0)
    assert r > 3                                        # the trained model opens Δ on data tokens
    wrong = ch10_2.delta_ratio_mistakes(trained, *ch10_2.probe_inputs(0))
    rows = [(r, True, "Δ 大得多"), (float(f"{r:.3g}"), True, "Δ 大得多"), (torch.tensor(r), True, "Δ 大得多"),
            (None, False, "未作答"), (1 / r, False, "倒过来"), (wrong["recall_as_data"], False, "回忆提示"), (wrong["before_softplus"], False, "softplus"),
            (r * 1.05, False, "比值不对"), (1.0, False, "比值不对"), ("abc", False, "一个数")]
    for answer, ok, must in rows:
        got, out = run_checker(capsys, ch10_2.check_delta_ratio, answer, trained, 0)
        assert_row(got, out, ok, must)
        if not ok:
            for x in _numbers(out):
                assert not np.isclose(x, r, rtol=6e-3), out


def test_delta_ratio_judges_the_model(capsys, trained):
    r = _ratio(trained, 0)
    torch.manual_seed(0)
    untrained = ssm.SSMModel(7, 4, d_model=16, d_state=8, layers=1)
    got, out = run_checker(capsys, ch10_2.check_delta_ratio, _ratio(untrained, 0), untrained, 0)
    assert not got and "复制得不好" in out
    lti = ssm.SSMModel(7, 4, d_model=16, d_state=16, layers=1, selective=False)
    got, out = run_checker(capsys, ch10_2.check_delta_ratio, 1.0, lti, 0)
    assert not got and "时不变" in out
    got, out = run_checker(capsys, ch10_2.check_delta_ratio, r, "my model", 0)
    assert not got and "SSMModel" in out


def test_delta_ratio_variants(capsys, trained):
    ratios = {}
    for v in range(21):
        r = _ratio(trained, v)
        ratios[v] = r
        assert run_checker(capsys, ch10_2.check_delta_ratio, float(f"{r:.3g}"), trained, v)[0]
        x, ch = ch10_2.probe_inputs(v)
        for name, w in ch10_2.delta_ratio_mistakes(trained, x, ch).items():
            assert abs(w - r) > 0.012 * abs(r), (v, name)          # a mistake never lands within the tolerance
    copied = [v for v in range(1, 20) if abs(ratios[v] - ratios[v + 1]) > 0.012 * abs(ratios[v + 1])]
    assert len(copied) >= 17
    for v in copied:
        assert not run_checker(capsys, ch10_2.check_delta_ratio, ratios[v], trained, v + 1)[0]


@pytest.mark.parametrize("answer", HOSTILE)
def test_delta_ratio_hostile(capsys, answer, trained):
    check = lambda a: ch10_2.check_delta_ratio(a, trained)
    check.__name__ = "check_delta_ratio"
    assert_rejects_hostile(capsys, check, answer)


# ----------------------------------------------------------------------------- student edition
def test_reference_functions_are_marked():
    for fn in (ch10_2.cache_sizes, ch10_2.cache_size_mistakes, ch10_2.decay_reference, ch10_2.decay_mistakes,
               ch10_2.delta_ratio, ch10_2.delta_ratio_mistakes):
        assert getattr(fn, "__seqcourse_reference__", False), fn.__name__
    for fn in (ch10_2.cache_inputs, ch10_2.decay_inputs, ch10_2.probe_inputs):
        assert not getattr(fn, "__seqcourse_reference__", False), fn.__name__


def test_student_edition_says_graded_later(capsys, monkeypatch, trained):
    def stripped(*a, **k):
        raise GradedAtSubmission()
    for name in ("cache_sizes", "cache_size_mistakes", "decay_reference", "decay_mistakes", "delta_ratio",
                 "delta_ratio_mistakes"):
        monkeypatch.setattr(ch10_2, name, stripped)
    for check, args in ((ch10_2.check_cache_sizes, ((KV, ST),)), (ch10_2.check_decay_step, (step_right,)),
                        (ch10_2.check_delta_ratio, (10.0, trained))):
        got, out = run_checker(capsys, check, *args)
        assert not got and "已收到" in out
    # the property checks still speak before the reference is needed
    got, out = run_checker(capsys, ch10_2.check_delta_ratio, 1.0, ssm.SSMModel(7, 4, selective=False))
    assert not got and "时不变" in out
