"""Chapter 09 (part 1) checkers, table-driven: what students write, the verdict, and the hint that
must (or must not) appear. No checker may raise, whatever it is given, and no failure message may
show the reference answer."""
import numpy as np
import pytest
import torch

from helpers import varlen
from helpers.exercises import ch09
from helpers.exercises._core import OK_MARK, TODO_MARK, WRONG_MARK

from exercise_table import HOSTILE, assert_rejects_hostile, assert_row, run_checker


pytestmark = pytest.mark.usefixtures("one_torch_thread")

LENGTHS = torch.tensor([3, 1, 4])
T = 5
GOOD_MASK = torch.tensor([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 0]], dtype=torch.bool)


def mask_checker(answer):
    return ch09.check_mask(answer, LENGTHS, T)


def channel_checker(answer):
    return ch09.check_channel_experiment(answer, None, [3, 4, 5])


@pytest.mark.parametrize("checker", (mask_checker, ch09.check_last_output, channel_checker))
@pytest.mark.parametrize("answer", HOSTILE + [(None, None), {"a": 1}], ids=range(len(HOSTILE) + 2))
def test_no_checker_raises_and_none_is_unanswered(checker, answer, capsys):
    assert_rejects_hostile(capsys, checker, answer)


# ----------------------------------------------------------------------------- exercise 1
@pytest.mark.parametrize("answer, ok, must, must_not", [
    (GOOD_MASK, True, OK_MARK, None),
    (torch.arange(T)[None, :] < LENGTHS[:, None], True, "每行前 length", None),
    (GOOD_MASK.int(), True, "布尔张量", None),
    (GOOD_MASK.numpy(), True, OK_MARK, None),
    (GOOD_MASK.tolist(), True, OK_MARK, None),
    (~GOOD_MASK, False, "反了", None),
    (torch.arange(T)[None, :] <= LENGTHS[:, None], False, "差一位", None),
    (torch.arange(T)[None, :] < (LENGTHS.max() - LENGTHS)[:, None], False, "填充的长度", None),
    (torch.arange(T)[None, :] >= (T - LENGTHS)[:, None], False, "末尾", None),
    (torch.ones(3, T, dtype=torch.bool), False, "开头连续", "反了"),
    (GOOD_MASK.float() * 2, False, "两种值", None),
    (GOOD_MASK[:, :4], False, "形状", None),
    (GOOD_MASK.T.contiguous(), False, "形状", None),
    ("mask", False, WRONG_MARK, None),
    (None, False, TODO_MARK, None),
])
def test_check_mask(capsys, answer, ok, must, must_not):
    got, out = run_checker(capsys, mask_checker, answer)
    assert_row(got, out, ok, must, must_not)
    if not ok:   # the reference mask is never shown
        assert str(GOOD_MASK.int().tolist()) not in out and "tensor([[ True" not in out


# ----------------------------------------------------------------------------- exercise 2
def _good(outputs, lengths):
    return outputs[torch.arange(len(lengths)), lengths - 1]


def _loop(outputs, lengths):
    return torch.stack([outputs[b, int(n) - 1] for b, n in enumerate(lengths)])


def _gather(outputs, lengths):
    idx = (lengths - 1).view(-1, 1, 1).expand(-1, 1, outputs.shape[2])
    return outputs.gather(1, idx).squeeze(1)


def _in_place(outputs, lengths):
    lengths -= 1             # changes its input in place: the checker handed it a copy
    return outputs[torch.arange(len(lengths)), lengths]


@pytest.mark.parametrize("fn, ok, must", [
    (_good, True, OK_MARK),
    (_loop, True, OK_MARK),
    (_gather, True, OK_MARK),
    (lambda o, l: _good(o.float(), l), True, OK_MARK),
    (lambda o, l: _good(o, l).numpy(), True, OK_MARK),
    (_in_place, True, OK_MARK),
    (lambda o, l: o[:, -1], False, "outputs[:, -1]"),
    (lambda o, l: o[torch.arange(len(l)), l.clamp(max=o.shape[1] - 1)], False, "差一位"),
    (lambda o, l: o[:, 0], False, "第一帧"),
    (lambda o, l: o.mean(1), False, "lengths[b] - 1"),
    (lambda o, l: o[torch.arange(len(l)), l], False, "IndexError"),
    (lambda o, l: None, False, "没有返回值"),
    (lambda o: o[:, -1], False, "参数不对"),
    (lambda o, l: o[:, -1, 0], False, "形状"),
    ("fn", False, "函数"),
    (None, False, TODO_MARK),
])
def test_check_last_output(capsys, fn, ok, must):
    got, out = run_checker(capsys, ch09.check_last_output, fn)
    assert_row(got, out, ok, must)


# ----------------------------------------------------------------------------- exercise 3 (experiment)
def _model(n_channels=3, n_classes=4):
    torch.manual_seed(0)
    return varlen.SequenceClassifier(n_channels, n_classes, hidden=4)


@pytest.mark.parametrize("answer, model, channels, ok, must", [
    (0.8, _model(), [3, 4, 5], True, OK_MARK),
    (np.float32(0.8), _model(), (3, 4, 5), True, OK_MARK),
    (torch.tensor(0.8, dtype=torch.float64), _model(), [3, 4, 5], True, OK_MARK),
    (0.8, _model(1), 0, True, OK_MARK),
    (0.7, _model(), [3, 4, 5], False, "不一致"),
    (80, _model(), [3, 4, 5], False, "百分数"),
    (-0.1, _model(), [3, 4, 5], False, "0 到 1"),
    (0.8, _model(6), list(range(6)), False, "少于 6 个"),
    (0.8, _model(2), [3, 4, 5], False, "不符"),
    (0.8, _model(3, 9), [3, 4, 5], False, "不符"),
    (0.8, "model", [3, 4, 5], False, "SequenceClassifier"),
    (0.8, _model(), [3, 3, 5], False, "不重复"),
    (0.8, _model(), [3, 4, 9], False, "不重复"),
    (0.8, _model(), "345", False, "不重复"),
    ("abc", _model(), [3, 4, 5], False, WRONG_MARK),
    (None, _model(), [3, 4, 5], False, TODO_MARK),
])
def test_check_channel_experiment_table(capsys, monkeypatch, answer, model, channels, ok, must):
    monkeypatch.setattr(ch09, "_test_accuracy", lambda m, c: 0.8)
    got, out = run_checker(capsys, ch09.check_channel_experiment, answer, model, channels)
    assert_row(got, out, ok, must)


def test_check_channel_experiment_rejects_a_model_no_better_than_guessing(capsys, monkeypatch):
    monkeypatch.setattr(ch09, "_test_accuracy", lambda m, c: 0.25)
    got, out = run_checker(capsys, ch09.check_channel_experiment, 0.25, _model(), [3, 4, 5])
    assert not got and "瞎猜" in out


def test_check_channel_experiment_never_shows_the_recomputed_number(capsys, monkeypatch):
    monkeypatch.setattr(ch09, "_test_accuracy", lambda m, c: 0.8125)
    got, out = run_checker(capsys, ch09.check_channel_experiment, 0.5, _model(), [3, 4, 5])
    assert not got and "0.81" not in out and "0.8125" not in out


def test_check_channel_experiment_runs_the_real_measurement(capsys):
    """An untrained-then-briefly-trained model on the real data: the checker's own number agrees."""
    from helpers import data

    xtr, ytr = data.load_basic_motions("train")
    xte, yte = data.load_basic_motions("test")
    chans = [0, 1]
    scale = varlen.Standardizer([s[:, chans] for s in xtr])
    model = _model(2)
    varlen.train_classifier(model, scale([s[:, chans] for s in xtr]), ytr, epochs=15, batch_size=8, progress=False)
    acc = varlen.accuracy(varlen.predict(model, scale([s[:, chans] for s in xte])), yte)
    got, out = run_checker(capsys, ch09.check_channel_experiment, acc, model, chans)
    assert got == (acc > 0.25), out
    got, out = run_checker(capsys, ch09.check_channel_experiment, min(1.0, acc + 0.05), model, chans)
    assert not got and "不一致" in out
