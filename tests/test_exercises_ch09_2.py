"""Chapter 09 part 2 checkers, table-driven: many student answers each, with the expected verdict and
the hint that must (or must not) appear. No checker may raise, whatever the answer, and no failure
message may print the reference number."""
import numpy as np
import pytest
import torch

from helpers.exercises import ch09_2

from exercise_table import HOSTILE, assert_rejects_hostile, assert_row, run_checker

# ----------------------------------------------------------------------------- exercise 1
PREV = np.array([10.0, 12.0, 11.0, 15.0, 14.0, 18.0, 17.0, 21.0])
ACTUAL = np.array([12.0, 11.0, 15.0, 14.0, 18.0, 17.0, 21.0, 20.0])


def _r2(pred, actual):
    return 1 - ((pred - actual) ** 2).sum() / ((actual - actual.mean()) ** 2).sum()


RIGHT_R2 = _r2(PREV, ACTUAL)
RET = np.log(ACTUAL / PREV)
RETURN_R2 = _r2(np.zeros_like(RET), RET)

R2_CASES = [
    (RIGHT_R2, True, "R²", None),
    (float(np.float32(RIGHT_R2)), True, "正确", None),
    (np.float64(RIGHT_R2), True, "正确", None),
    (torch.tensor(RIGHT_R2, dtype=torch.float32), True, "正确", None),
    (f"{RIGHT_R2:.6f}", True, "正确", None),
    (None, False, "未作答", "不对"),
    (RETURN_R2, False, "收益率上的 R²", "顺序反了"),
    (_r2(ACTUAL, PREV), False, "顺序反了", "收益率"),
    (1 - RIGHT_R2, False, "用 1 减去", "顺序反了"),
    (float(np.corrcoef(PREV, ACTUAL)[0, 1]), False, "相关系数", "顺序反了"),
    (1.5, False, "不会大于 1", "顺序反了"),
    (0.1234, False, "数值不对", "顺序反了"),
    (round(RIGHT_R2, 2), False, "数值不对", None),
    ("abc", False, "应是一个数", None),
    ([0.5], False, "应是一个数", None),
    (True, False, "应是一个数", None),
]


@pytest.mark.parametrize("answer, ok, must, must_not", R2_CASES, ids=[f"r2_{i}" for i in range(len(R2_CASES))])
def test_price_r2_table(capsys, answer, ok, must, must_not):
    got, out = run_checker(capsys, ch09_2.check_price_r2, answer, ACTUAL, PREV)
    assert_row(got, out, ok, must, must_not)
    if not ok:
        assert f"{RIGHT_R2:.2f}" not in out and f"{RIGHT_R2:.3f}" not in out   # no reference number


def test_price_r2_accepts_tensors_as_data(capsys):
    got, _ = run_checker(capsys, ch09_2.check_price_r2, RIGHT_R2, torch.tensor(ACTUAL), torch.tensor(PREV))
    assert got


# ----------------------------------------------------------------------------- exercise 2
FLAGS = np.array([1, 0, 1, 1, 0, 0, 1, 0, 0, 1], dtype=bool)
LABELS = np.array([1, 0, 0, 1, 0, 1, 1, 0, 0, 0], dtype=bool)     # TP 3, flagged 5, labelled 4

PR_CASES = [
    ((0.6, 0.75), True, "TP / 标记数", None),
    ([0.6, 0.75], True, "正确", None),
    ((3 / 5, 3 / 4), True, "正确", None),
    ((np.float64(0.6), torch.tensor(0.75)), True, "正确", None),
    ({"precision": 0.6, "recall": 0.75}, True, "正确", None),
    (("0.6", "0.75"), True, "正确", None),
    ((0.6001, 0.7501), True, "正确", None),
    (None, False, "未作答", "不对"),
    ((0.75, 0.6), False, "弄反", "精确率不对"),
    ((60, 75), False, "百分数", "弄反"),
    ((0.6, 0.6), False, "召回率不对", "精确率不对"),
    ((0.5, 0.75), False, "精确率不对", "召回率不对"),
    ((0.3, 0.3), False, "精确率不对", "弄反"),
    ((1.5, 0.2), False, "0 到 1", "弄反"),
    ((0.6,), False, "两个数", None),
    (0.6, False, "两个数", None),
    ("0.5, 0.5", False, "两个数", None),
    (("a", 0.75), False, "应是一个数", None),
    ((0.6, None), False, "应是一个数", None),
    ((float("nan"), 0.75), False, "有限", None),
]


@pytest.mark.parametrize("answer, ok, must, must_not", PR_CASES, ids=[f"pr{i}" for i in range(len(PR_CASES))])
def test_precision_recall_table(capsys, answer, ok, must, must_not):
    got, out = run_checker(capsys, ch09_2.check_precision_recall, answer, FLAGS, LABELS)
    assert_row(got, out, ok, must, must_not)
    if not ok:
        assert "0.75" not in out and "0.6 " not in out


def test_precision_recall_with_nothing_flagged(capsys):
    got, _ = run_checker(capsys, ch09_2.check_precision_recall, (0.0, 0.0), np.zeros(10, bool), LABELS)
    assert got


# ----------------------------------------------------------------------------- exercise 3 (experiment)
EXP_CASES = [
    # recall_small, smaller, recall_big, ok, must, must_not
    (0.25, True, 1.0, True, "2 / 8", "按你自己"),
    (0.25, np.bool_(True), 1.0, True, "一致", None),
    (torch.tensor(0.375), True, 1.0, True, "3 / 8", None),
    (1.0, False, 1.0, True, "调小", None),
    (0.5, True, 0.75, True, "一致", None),
    (0.25, False, 1.0, False, "按你自己", "一致"),
    (1.0, True, 1.0, False, "按你自己", "一致"),
    (None, True, 1.0, False, "未作答", None),
    (0.25, None, 1.0, False, "未作答", None),
    (25, True, 1.0, False, "百分数", None),
    (1.5e3, True, 1.0, False, "0 到 1", None),
    (-0.25, True, 1.0, False, "0 到 1", None),
    (0.3, True, 1.0, False, "几分之几", None),
    ("abc", True, 1.0, False, "应是一个数", None),
    (0.25, "yes", 1.0, False, "召回率变低了吗", None),
]


@pytest.mark.parametrize("recall, smaller, big, ok, must, must_not", EXP_CASES,
                         ids=[f"exp{i}" for i in range(len(EXP_CASES))])
def test_spike_experiment_table(capsys, recall, smaller, big, ok, must, must_not):
    got, out = run_checker(capsys, ch09_2.check_spike_experiment, recall, smaller, big, 8)
    assert_row(got, out, ok, must, must_not)
    if not ok:
        assert f"{big:.2f}" not in out or f"{big:.2f}" == f"{float(recall) if isinstance(recall, float) else -1:.2f}"


# ----------------------------------------------------------------------------- hostile answers
@pytest.mark.parametrize("answer", HOSTILE, ids=[f"h{i}" for i in range(len(HOSTILE))])
def test_hostile_answers_never_raise(capsys, answer):
    assert_rejects_hostile(capsys, lambda a: ch09_2.check_price_r2(a, ACTUAL, PREV), answer)
    assert_rejects_hostile(capsys, lambda a: ch09_2.check_precision_recall(a, FLAGS, LABELS), answer)
    assert_rejects_hostile(capsys, lambda a: ch09_2.check_spike_experiment(a, True, 1.0, 8), answer)


@pytest.mark.parametrize("answer", HOSTILE, ids=[f"hp{i}" for i in range(len(HOSTILE))])
def test_hostile_inside_pairs_never_raise(capsys, answer):
    assert_rejects_hostile(capsys, lambda a: ch09_2.check_precision_recall((a, 0.75), FLAGS, LABELS),
                           answer if answer is not None else 0.1)
    assert_rejects_hostile(capsys, lambda a: ch09_2.check_spike_experiment(0.25, a, 1.0, 8),
                           answer if answer is not None else "x")
