"""Chapter 09 (part 1) checkers, table-driven: what students write, the verdict, and the hint that
must (or must not) appear. No checker may raise, whatever it is given, and no failure message may
show the reference answer."""
import numpy as np
import pytest
import torch

from helpers import varlen
from helpers.exercises import ch09
from helpers.exercises._core import GRADED_LATER, OK_MARK, TODO_MARK, WRONG_MARK, GradedAtSubmission

from exercise_table import HOSTILE, assert_rejects_hostile, assert_row, run_checker


pytestmark = pytest.mark.usefixtures("one_torch_thread")

LENGTHS = torch.tensor([3, 1, 4])
T = 5
GOOD_MASK = torch.tensor([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 0]], dtype=torch.bool)
VARIANTS = range(20)


def mask_checker(answer):
    return ch09.check_mask(answer, v=0)


def channel_checker(answer):
    return ch09.check_channel_experiment(answer, None, [3, 4, 5], v=0)


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
    (np.array(GOOD_MASK.tolist(), dtype=np.float32), True, "布尔张量", None),
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
    assert torch.equal(ch09.mask_inputs(0)[0], LENGTHS) and ch09.mask_inputs(0)[1] == T
    got, out = run_checker(capsys, mask_checker, answer)
    assert_row(got, out, ok, must, must_not)
    if not ok:   # the reference mask is never shown
        assert str(GOOD_MASK.int().tolist()) not in out and "tensor([[ True" not in out


def test_check_mask_variants(capsys):
    """Every variant: the reference passes, each named mistake is rejected with its hint; the
    variants' masks differ and one variant's mask fails under another."""
    masks = {}
    for v in VARIANTS:
        lengths, T_v = ch09.mask_inputs(v)
        assert ch09.mask_inputs(v)[1] == T_v and torch.equal(ch09.mask_inputs(v)[0], lengths)  # stable
        right = ch09.reference_mask(lengths, T_v)
        assert torch.equal(right, varlen.length_mask(lengths, T_v))
        masks[v] = right
        got, out = run_checker(capsys, ch09.check_mask, right, v)
        assert got, (v, out)
        for wrong, hint in ch09.mask_mistakes(lengths, T_v):
            assert not torch.equal(wrong, right), v
            got, out = run_checker(capsys, ch09.check_mask, wrong, v)
            assert not got and hint in out, (v, out)
    assert len({(tuple(m.shape), tuple(m.flatten().tolist())) for m in masks.values()}) >= 15
    for v in range(1, 10):
        if not torch.equal(masks[v], masks[v + 1]) and masks[v].shape == masks[v + 1].shape:
            got, out = run_checker(capsys, ch09.check_mask, masks[v], v + 1)
            assert not got, out
        got, out = run_checker(capsys, ch09.check_mask, masks[v], 0)
        assert not got or torch.equal(masks[v], GOOD_MASK), out


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
    (lambda o, l: _good(o, l) + 1e-3, False, "高级索引"),
    (lambda o, l: o[:, 0], False, "第一帧"),
    (lambda o, l: o.mean(1), False, "高级索引"),
    (lambda o, l: o[torch.arange(len(l)), l], False, "IndexError"),
    (lambda o, l: None, False, "没有返回值"),
    (lambda o: o[:, -1], False, "参数不对"),
    (lambda o, l: o[:, -1, 0], False, "形状"),
    ("fn", False, "函数"),
    (None, False, TODO_MARK),
])
def test_check_last_output(capsys, fn, ok, must):
    got, out = run_checker(capsys, ch09.check_last_output, fn, 0)
    assert_row(got, out, ok, must)


def test_check_last_output_variants(capsys):
    """Every variant: correct functions pass, each named mistake is rejected with its hint, and
    a function that special-cases variant 0's answer fails elsewhere."""
    fixed = _good(*ch09.last_output_inputs(0))
    shapes = set()
    for v in VARIANTS:
        out, lengths = ch09.last_output_inputs(v)
        shapes.add((tuple(out.shape), tuple(lengths.tolist())))
        for fn in (_good, _loop, _gather):
            got, printed = run_checker(capsys, ch09.check_last_output, fn, v)
            assert got, (v, printed)
        for wrong, hint in ch09.last_output_mistakes(out, lengths):
            got, printed = run_checker(capsys, ch09.check_last_output, lambda o, l, w=wrong: w, v)
            assert not got and hint in printed, (v, printed)
        if v:
            got, printed = run_checker(capsys, ch09.check_last_output, lambda o, l: fixed, v)
            assert not got, printed
    assert len(shapes) >= 15


# ----------------------------------------------------------------------------- exercise 3 (experiment)
def _model(n_channels=3, n_classes=4, seed=0):
    torch.manual_seed(seed)
    return varlen.SequenceClassifier(n_channels, n_classes, hidden=4)


FIT = {"test_accuracy": 0.8, "train_loss": 0.01, "test_loss": 0.5}


@pytest.mark.parametrize("answer, model, channels, fit, ok, must", [
    (0.8, _model(), [3, 4, 5], FIT, True, OK_MARK),
    (np.float32(0.8), _model(), (3, 4, 5), FIT, True, OK_MARK),
    (np.array([3, 4, 5]), _model(), np.array([3, 4, 5]), dict(FIT, test_accuracy=0.8), False, "应是一个数"),
    (torch.tensor(0.8, dtype=torch.float64), _model(), [3, 4, 5], FIT, True, OK_MARK),
    (0.80, _model(), np.array([3, 4, 5]), FIT, True, OK_MARK),
    ("0.8", _model(), [3, 4, 5], FIT, True, OK_MARK),
    (0.81, _model(), [3, 4, 5], FIT, True, OK_MARK),            # rounded as printed: within half a case
    (0.775, _model(), [3, 4, 5], FIT, False, "不一致"),          # one test case off
    (0.9, _model(), [3, 4, 5], FIT, False, "不一致"),            # a made-up number
    (80, _model(), [3, 4, 5], FIT, False, "百分数"),
    (-0.1, _model(), [3, 4, 5], FIT, False, "百分之百"),
    (0.5, _model(), [3, 4, 5], dict(FIT, test_accuracy=0.5), False, "未训练"),
    (0.575, _model(), [3, 4, 5], dict(FIT, test_accuracy=0.575), False, "未训练"),
    (1.0, _model(), [3, 4, 5], dict(FIT, test_accuracy=1.0, train_loss=0.4, test_loss=0.01), False, "测试集上训练"),
    (0.95, _model(), [3, 4, 5], dict(FIT, test_accuracy=0.95, train_loss=0.021, test_loss=0.0115), False, "测试集上训练"),
    (0.925, _model(), [3, 4, 5], dict(FIT, test_accuracy=0.925, train_loss=0.277, test_loss=0.27), True, OK_MARK),
    (0.8, _model(6), list(range(6)), FIT, False, "不是这道题给你的"),
    (0.8, _model(1), 0, FIT, False, "不是这道题给你的"),
    (0.8, _model(), [5, 4, 3], FIT, False, "顺序"),
    (0.8, _model(2), [3, 4, 5], FIT, False, "不符"),
    (0.8, _model(3, 9), [3, 4, 5], FIT, False, "不符"),
    (0.8, "model", [3, 4, 5], FIT, False, "SequenceClassifier"),
    (0.8, _model(), [3, 3, 5], FIT, False, "不重复"),
    (0.8, _model(), [3, 4, 9], FIT, False, "不重复"),
    (0.8, _model(), "345", FIT, False, "不重复"),
    (0.8, _model(), list(range(10 ** 3)), FIT, False, "不重复"),
    ("abc", _model(), [3, 4, 5], FIT, False, WRONG_MARK),
    (float("nan"), _model(), [3, 4, 5], FIT, False, WRONG_MARK),
    (None, _model(), [3, 4, 5], FIT, False, TODO_MARK),
])
def test_check_channel_experiment_table(capsys, monkeypatch, answer, model, channels, fit, ok, must):
    monkeypatch.setattr(ch09, "measured_fit", lambda m, c: fit)
    got, out = run_checker(capsys, ch09.check_channel_experiment, answer, model, channels, 0)
    assert_row(got, out, ok, must)
    assert len(out) < 400


def test_check_channel_experiment_rejects_a_model_with_nan_weights(capsys):
    model = _model()
    with torch.no_grad():
        model.head.weight[0, 0] = float("nan")
    got, out = run_checker(capsys, ch09.check_channel_experiment, 0.8, model, [3, 4, 5], 0)
    assert not got and "NaN" in out


class _Exploding(varlen.SequenceClassifier):
    def forward(self, *args, **kwargs):
        raise RuntimeError("boom")


def test_check_channel_experiment_survives_a_model_whose_methods_raise(capsys):
    torch.manual_seed(0)
    got, out = run_checker(capsys, ch09.check_channel_experiment, 0.8, _Exploding(3, 4, hidden=4), [3, 4, 5], 0)
    assert not got and "boom" in out and len(out) < 400


@pytest.mark.parametrize("fit", [dict(FIT, test_accuracy=0.825), dict(FIT, test_accuracy=0.5),
                                 dict(FIT, test_accuracy=0.975, train_loss=0.5, test_loss=0.01)])
def test_check_channel_experiment_never_shows_the_recomputed_number(capsys, monkeypatch, fit):
    """No failure message carries a number that would pass when handed back."""
    monkeypatch.setattr(ch09, "measured_fit", lambda m, c: fit)
    for answer in (0.3, 0.6, fit["test_accuracy"]):
        got, out = run_checker(capsys, ch09.check_channel_experiment, answer, _model(), [3, 4, 5], 0)
        if got:
            continue
        for shown in {f"{fit['test_accuracy']:.{d}f}" for d in (1, 2, 3)} - {f"{answer:.1f}"}:
            assert shown not in out, out


def test_check_channel_experiment_variants(capsys, monkeypatch):
    """The variants' channel sets differ; a model for one variant's channels fails another's."""
    monkeypatch.setattr(ch09, "measured_fit", lambda m, c: FIT)
    drawn = [ch09.channel_inputs(v) for v in VARIANTS]
    assert drawn[0] == ([3, 4, 5], 3) and all(ch09.channel_inputs(v) == drawn[v] for v in VARIANTS)
    assert len({tuple(c) for c, _ in drawn}) >= 8 and len({s for _, s in drawn}) >= 15
    for v, (chans, _) in enumerate(drawn):
        assert 2 <= len(chans) <= 4 or v == 0
        got, out = run_checker(capsys, ch09.check_channel_experiment, 0.8, _model(len(chans)), chans, v)
        assert got, (v, out)
        other = next(c for c, _ in drawn if c != chans)
        got, out = run_checker(capsys, ch09.check_channel_experiment, 0.8, _model(len(other)), other, v)
        assert not got, (v, out)


def test_check_channel_experiment_in_the_student_edition(capsys, monkeypatch):
    """Without the reference (student edition) the checker says it is graded after submission."""
    def stripped(*args, **kwargs):
        raise GradedAtSubmission()

    monkeypatch.setattr(ch09, "measured_fit", stripped)
    got, out = run_checker(capsys, ch09.check_channel_experiment, 0.8, _model(), [3, 4, 5], 0)
    assert not got and GRADED_LATER in out
    for name in ("reference_mask", "mask_mistakes"):
        monkeypatch.setattr(ch09, name, stripped)
    got, out = run_checker(capsys, ch09.check_mask, GOOD_MASK, 0)
    assert not got and GRADED_LATER in out


def test_reference_functions_are_marked():
    for fn in (ch09.reference_mask, ch09.mask_mistakes, ch09.reference_last, ch09.last_output_mistakes,
               ch09.measured_fit):
        assert getattr(fn, "__seqcourse_reference__", False), fn.__name__
    for fn in (ch09.mask_inputs, ch09.last_output_inputs, ch09.channel_inputs):
        assert not getattr(fn, "__seqcourse_reference__", False), fn.__name__


def _bm(chans):
    from helpers import data

    xtr, ytr = data.load_basic_motions("train")
    xte, yte = data.load_basic_motions("test")
    scale = varlen.Standardizer([s[:, chans] for s in xtr])
    return scale([s[:, chans] for s in xtr]), ytr, scale([s[:, chans] for s in xte]), yte


@pytest.fixture(scope="module")
def trained_models():
    """The reference recipe on variant 0's channels: trained on the training set, on the test set,
    and untrained (the real measurement, about 6 s)."""
    chans, seed = ch09.channel_inputs(0)
    xtr, ytr, xte, yte = _bm(chans)
    out = {}
    for name, (x, y) in (("train", (xtr, ytr)), ("test", (xte, yte))):
        torch.manual_seed(seed)
        model = varlen.SequenceClassifier(len(chans), 4, hidden=32)
        varlen.train_classifier(model, x, y, epochs=30, batch_size=8, seed=seed, progress=False)
        out[name] = (model, varlen.accuracy(varlen.predict(model, xte), yte))
    torch.manual_seed(seed)
    untrained = varlen.SequenceClassifier(len(chans), 4, hidden=32)
    out["untrained"] = (untrained, varlen.accuracy(varlen.predict(untrained, xte), yte))
    return chans, out


def test_check_channel_experiment_on_real_models(capsys, trained_models):
    """The reference solution passes; the model fitted on the test set fails (although its
    accuracy is right and high); the untrained model fails with its own honest number; a number
    re-submitted from another model fails."""
    chans, models = trained_models
    model, acc = models["train"]
    assert acc >= ch09.BEAT_UNTRAINED
    got, out = run_checker(capsys, ch09.check_channel_experiment, acc, model, chans, 0)
    assert got, out
    got, out = run_checker(capsys, ch09.check_channel_experiment, round(acc, 2), model, chans, 0)
    assert got, out
    got, out = run_checker(capsys, ch09.check_channel_experiment, acc - 0.025, model, chans, 0)
    assert not got and "不一致" in out
    cheat, cheat_acc = models["test"]
    assert cheat_acc >= ch09.BEAT_UNTRAINED
    got, out = run_checker(capsys, ch09.check_channel_experiment, cheat_acc, cheat, chans, 0)
    assert not got and "测试集上训练" in out
    untrained, untrained_acc = models["untrained"]
    got, out = run_checker(capsys, ch09.check_channel_experiment, untrained_acc, untrained, chans, 0)
    assert not got and "未训练" in out
    got, out = run_checker(capsys, ch09.check_channel_experiment, acc, untrained, chans, 0)
    if abs(acc - untrained_acc) > ch09.TOLERANCE:
        assert not got and "不一致" in out


def test_untrained_models_stay_below_the_bar():
    """The bar comes from the distribution of untrained models: 20 inits for 2, 3 and 4 channels
    (the variants' sizes), every one below BEAT_UNTRAINED (measured maximum 0.5)."""
    accs = []
    for k in (2, 3, 4):
        chans = list(range(k))
        _, _, xte, yte = _bm(chans)
        for seed in range(20):
            torch.manual_seed(seed)
            model = varlen.SequenceClassifier(k, 4, hidden=32)
            accs.append(varlen.accuracy(varlen.predict(model, xte), yte))
    assert max(accs) < ch09.BEAT_UNTRAINED and 0.15 < float(np.mean(accs)) < 0.35
