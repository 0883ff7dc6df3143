"""Chapter 09 part 3 checker, table-driven, for the chapter's inputs (variant 0) and 20 student variants."""
import re

import numpy as np
import pytest
import torch

from helpers.exercises import ch09_3

from exercise_table import HOSTILE, assert_rejects_hostile, assert_row, run_checker

VARIANTS = list(range(20))


def _student(v):
    """The reference cell, written out: MAE of x̂_t = x_{t−24} over the variant's hours."""
    x = ch09_3.traffic_volume()
    start, stop = ch09_3.traffic_mae_inputs(v)
    t = np.arange(start, stop)
    return float(np.abs(x[t] - x[t - 24]).mean())


@pytest.mark.parametrize("v", VARIANTS)
def test_reference_passes_and_named_mistakes_fail(capsys, v):
    right = _student(v)
    for answer in (right, round(right, 1), f"{right:.1f}", np.float32(right), torch.tensor(right)):
        assert run_checker(capsys, ch09_3.check_seasonal_mae, answer, v)[0], (v, answer)
    got = ch09_3.seasonal_mae_answers(*ch09_3.traffic_mae_inputs(v))
    for key, hint in (("weekly", "168"), ("rmse", "RMSE"), ("lag23", "一小时"), ("lag25", "一小时")):
        assert abs(got[key] - right) > 0.2                  # the printed precision separates them
        ok, out = run_checker(capsys, ch09_3.check_seasonal_mae, got[key], v)
        assert not ok and hint in out, (v, key, out)
        for number in re.findall(r"-?\d+\.\d+", out):
            assert not ch09_3.check_seasonal_mae(float(number), v)
        capsys.readouterr()


def test_variant_zero_is_the_whole_test_period_and_variants_differ(capsys):
    n = len(ch09_3.traffic_volume())
    start = ch09_3.test_start(n)
    assert ch09_3.traffic_mae_inputs(0) == (start, start + 24 * 28)
    whole = np.abs(ch09_3.traffic_volume()[start:] - ch09_3.traffic_volume()[start - 24:n - 24]).mean()
    assert abs(_student(0) - whole) > 1.0        # the chapter's table prints the whole period: not the answer
    right = {v: _student(v) for v in VARIANTS}
    assert len({round(r, 1) for r in right.values()}) >= 15
    pairs = [(a, b) for a in VARIANTS for b in VARIANTS if abs(right[a] - right[b]) > 0.2][:10]
    for a, b in pairs:
        assert not run_checker(capsys, ch09_3.check_seasonal_mae, right[a], b)[0]


ROWS = [(None, False, "未作答"), (-3.0, False, "负数"), (0.5, False, "标准化"), (12345.0, False, "数值不对"),
        ("abc", False, "应是一个数"), ([1.0], False, "应是一个数"), (True, False, "应是一个数")]


@pytest.mark.parametrize("answer, ok, must", ROWS)
def test_table(capsys, answer, ok, must):
    got, out = run_checker(capsys, ch09_3.check_seasonal_mae, answer, 0)
    assert_row(got, out, ok, must)


@pytest.mark.parametrize("answer", HOSTILE, ids=[f"h{i}" for i in range(len(HOSTILE))])
def test_hostile_answers_never_raise(capsys, answer):
    assert_rejects_hostile(capsys, lambda a: ch09_3.check_seasonal_mae(a, 0), answer)


def test_reference_is_marked_and_student_edition_says_graded_later(capsys, monkeypatch):
    from helpers.exercises._core import GRADED_LATER, GradedAtSubmission

    assert ch09_3.seasonal_mae_answers.__seqcourse_reference__
    assert not getattr(ch09_3.traffic_mae_inputs, "__seqcourse_reference__", False)

    def stripped(*args, **kwargs):
        raise GradedAtSubmission()

    monkeypatch.setattr(ch09_3, "seasonal_mae_answers", stripped)
    assert not ch09_3.check_seasonal_mae(300.0, 0) and GRADED_LATER in capsys.readouterr().out
