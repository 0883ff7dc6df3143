"""Chapter 09 part 2 checkers, table-driven: many student answers each, with the expected verdict and
the hint that must (or must not) appear, for the chapter's inputs (variant 0) and for 20 student
variants. No checker may raise, whatever the answer; no failure message may print a number that
passes when handed back; made-up and re-submitted numbers fail."""
import re

import numpy as np
import pytest
import torch

from helpers import data, forecast_eval as fe, timeseries as ts
from helpers.exercises import ch09_2

from exercise_table import HOSTILE, assert_rejects_hostile, assert_row, run_checker

VARIANTS = list(range(20))


def _numbers(text: str) -> list[float]:
    return [float(m) for m in re.findall(r"-?\d+\.\d+|-?\d+", text)]


# ----------------------------------------------------------------------------- exercise 1
@pytest.mark.parametrize("v", VARIANTS)
def test_price_r2_reference_passes_every_variant_and_mistakes_fail(capsys, v):
    symbol, actual, previous = ch09_2.price_r2_inputs(v)
    assert symbol in ch09_2.SYMBOLS and len(actual) == len(previous) >= 16
    got = ch09_2.price_r2_answers(actual, previous)
    right = fe.r2(previous, actual)
    assert got["right"] == pytest.approx(right)
    for answer in (right, f"{right:.3f}", round(right, 3), np.float32(right), torch.tensor(right)):
        ok, out = run_checker(capsys, ch09_2.check_price_r2, answer, v)
        assert ok, (v, answer, out)
    hints = {"returns": "收益率上", "swapped": "顺序反了", "one_minus": "用 1 减去", "corr": "相关系数 r",
             "corr2": "r²"}
    for key, hint in hints.items():
        ok, out = run_checker(capsys, ch09_2.check_price_r2, got[key], v)
        assert not ok and hint in out, (v, key, out)
        for number in _numbers(out):                       # nothing printed passes when handed back
            assert not ch09_2.check_price_r2(number, v)
        capsys.readouterr()


def test_price_r2_variant_zero_is_the_chapter():
    symbol, actual, previous = ch09_2.price_r2_inputs(0)
    assert symbol == "AMZN" and len(actual) == 25
    assert ch09_2.price_r2_answers(actual, previous)["right"] == pytest.approx(0.807, abs=5e-4)


def test_price_r2_variants_differ_and_copying_fails(capsys):
    answers = {v: ch09_2.price_r2_answers(*ch09_2.price_r2_inputs(v)[1:])["right"] for v in VARIANTS}
    assert len({round(a, 3) for a in answers.values()}) >= 10
    copied = [(a, b) for a in VARIANTS for b in VARIANTS if abs(answers[a] - answers[b]) > 2e-3][:10]
    assert copied
    for a, b in copied:
        ok, _ = run_checker(capsys, ch09_2.check_price_r2, answers[a], b)
        assert not ok


R2_ROWS = [(None, False, "未作答"), (1.5, False, "不会大于 1"), (0.1234, False, "数值不对"), ("abc", False, "应是一个数"),
           ([0.5], False, "应是一个数"), (True, False, "应是一个数")]


@pytest.mark.parametrize("answer, ok, must", R2_ROWS)
def test_price_r2_table(capsys, answer, ok, must):
    got, out = run_checker(capsys, ch09_2.check_price_r2, answer, 0)
    assert_row(got, out, ok, must)
    assert "0.807" not in out


# ----------------------------------------------------------------------------- exercise 2
PR_ROWS = [
    ((0.6, 0.75), True, "TP / 标记数", None),
    ([0.6, 0.75], True, "正确", None),
    (np.array([0.6, 0.75]), True, "正确", None),
    ((3 / 5, 3 / 4), True, "正确", None),
    ((0.60, 0.75), True, "正确", None),
    ((np.float64(0.6), torch.tensor(0.75)), True, "正确", None),
    ({"precision": 0.6, "recall": 0.75}, True, "正确", None),
    (("0.6", "0.75"), True, "正确", None),
    (None, False, "未作答", "不对"),
    ((0.75, 0.6), False, "弄反", "精确率不对"),
    ((60, 75), False, "百分数", "弄反"),
    ((0.6, 0.6), False, "召回率不对", "精确率不对"),
    ((0.5, 0.75), False, "精确率不对", "召回率不对"),
    ((0.3, 0.3), False, "精确率不对", "弄反"),
    ((1.5, 0.2), False, "百分之百", "弄反"),
    ((0.6,), False, "两个数", None),
    (0.6, False, "两个数", None),
    ("0.5, 0.5", False, "两个数", None),
    (("a", 0.75), False, "应是一个数", None),
    ((0.6, None), False, "应是一个数", None),
    ((float("nan"), 0.75), False, "有限", None),
]


@pytest.mark.parametrize("answer, ok, must, must_not", PR_ROWS, ids=[f"pr{i}" for i in range(len(PR_ROWS))])
def test_precision_recall_table(capsys, answer, ok, must, must_not):
    got, out = run_checker(capsys, ch09_2.check_precision_recall, answer, 0)
    assert_row(got, out, ok, must, must_not)
    if not ok:                                    # no reference number, unless it echoes the student's own answer
        for ref in ("0.75", "0.6"):
            assert ref not in out or ref in repr(answer), out


@pytest.mark.parametrize("v", VARIANTS)
def test_precision_recall_every_variant(capsys, v):
    flags, labels = ch09_2.precision_recall_inputs(v)
    p, r, _ = fe.precision_recall(flags, labels)
    assert run_checker(capsys, ch09_2.check_precision_recall, (p, r), v)[0]
    assert run_checker(capsys, ch09_2.check_precision_recall, (round(p, 2), round(r, 2)), v)[0]
    ok, out = run_checker(capsys, ch09_2.check_precision_recall, (r, p), v)
    assert not ok and "弄反" in out


def test_precision_recall_variants_differ_and_copying_fails(capsys):
    right = {v: fe.precision_recall(*ch09_2.precision_recall_inputs(v))[:2] for v in VARIANTS}
    assert len({(round(p, 2), round(r, 2)) for p, r in right.values()}) >= 8
    pairs = [(a, b) for a in VARIANTS for b in VARIANTS
             if max(abs(x - y) for x, y in zip(right[a], right[b])) > 0.01][:10]
    for a, b in pairs:
        assert not run_checker(capsys, ch09_2.check_precision_recall, right[a], b)[0]


# ----------------------------------------------------------------------------- exercise 3 (experiment)
def _chapter_split():
    days, weather = data.load_seattle_weather()
    temp = (weather["temp_max"] + weather["temp_min"]) / 2
    T = len(temp)
    train_end, val_end = round(0.7 * T), round(0.85 * T)
    scaler = ts.Standardizer(temp[:train_end])
    z = scaler.transform(torch.as_tensor(temp, dtype=torch.float32))
    return temp, T, train_end, val_end, scaler, z


def _threshold(detector, z, train_end, val_end, scaler):
    """The notebook's threshold, written out: the 99 % quantile of |one-step error| (°C) on validation."""
    X, Y = ts.make_windows(z[train_end - 14:val_end], 14, 1)
    with torch.no_grad():
        return float(np.quantile(np.abs(((detector(X) - Y)[:, 0] * scaler.std).numpy()), 0.99))


def _detector(seed, epochs, on_test_days=False):
    """The chapter's detector (GRU 16, residual), trained as §2 trains it for ``epochs`` (0: untrained);
    ``on_test_days``: on the test days instead of the training days, without KeepBest."""
    from helpers.env import set_seed
    from helpers.train import fit

    temp, T, train_end, val_end, scaler, z = _chapter_split()
    X_tr, Y_tr = ts.make_windows(z[val_end - 14:] if on_test_days else z[:train_end], 14, 1)
    X_val, Y_val = ts.make_windows(z[train_end - 14:val_end], 14, 1)
    set_seed(seed)
    model = ts.GRUForecaster(hidden_size=16, n_out=1, residual=True)
    if epochs:
        loss = lambda m, X, Y: torch.nn.functional.mse_loss(m.forward_all(X)[..., 0], ts.one_step_targets(X, Y))
        keep = None if on_test_days else ts.KeepBest(lambda m: float(torch.nn.functional.mse_loss(m(X_val), Y_val)))
        fit(model, loss, (X_tr, Y_tr), epochs=epochs, batch_size=64, lr=1e-2, eval_fn=keep, progress=False)
        if keep:
            keep.restore(model)
    model.eval()
    return {"detector": model, "series": temp, "start": val_end, "stop": T, "input_len": 14,
            "scaler": scaler, "threshold": _threshold(model, z, train_end, val_end, scaler)}


@pytest.fixture(scope="module")
def setting():
    """The chapter's series and split, with the chapter's detector really trained (15 epochs, ~1 s)."""
    return _detector(0, 15)


def _args(s):
    return (s["detector"], s["series"], s["start"], s["stop"], s["input_len"], s["scaler"], s["threshold"])


def _measure(s, sizes, seed):
    """The student's reference cell, written out (not the checker's code)."""
    x, labels, _ = fe.inject_spikes(s["series"], s["start"], s["stop"], sizes, seed=seed)
    z = s["scaler"].transform(torch.as_tensor(x, dtype=torch.float32))
    _, flags = fe.online_residuals(s["detector"], z, s["start"], s["stop"], s["input_len"],
                                   s["threshold"] / s["scaler"].std)
    test = slice(s["start"], s["stop"])
    return fe.precision_recall(flags[test], labels[test]), flags, labels


def test_spike_inputs_variant_zero_is_the_chapter():
    assert ch09_2.spike_inputs(0) == ([4.0] * 8, 1)
    assert len({tuple(ch09_2.spike_inputs(v)[0]) + (ch09_2.spike_inputs(v)[1],) for v in range(1, 20)}) == 19


@pytest.mark.parametrize("v", VARIANTS)
def test_spike_experiment_reference_and_mistakes(capsys, setting, v):
    sizes, seed = ch09_2.spike_inputs(v)
    (precision, recall, n_flag), _, _ = _measure(setting, sizes, seed)
    big = _measure(setting, [12.0] * 4 + [6.0] * 4, 0)
    _, flags0, labels0 = big
    _, _, size0 = fe.inject_spikes(setting["series"], setting["start"], setting["stop"], [12.0] * 4 + [6.0] * 4, seed=0)
    test = slice(setting["start"], setting["stop"])
    rec_big = fe.precision_recall(flags0[test], (labels0 & (size0 == 12))[test])[1]
    lower = recall < rec_big
    for answer in (recall, round(recall, 2), f"{recall:.2f}", torch.tensor(recall)):
        ok, out = run_checker(capsys, ch09_2.check_spike_experiment, answer, lower, *_args(setting), v)
        assert ok, (v, answer, out)
    ok, out = run_checker(capsys, ch09_2.check_spike_experiment, recall, not lower, *_args(setting), v)
    assert not ok and "结论" in out
    # made-up pairs that are merely self-consistent fail unless they happen to be the measurement
    for made_up in (0.0, 0.125, 0.5, 0.875, 1.0):
        if abs(made_up - recall) > 0.01:
            for said in (True, False):
                ok, out = run_checker(capsys, ch09_2.check_spike_experiment, made_up, said, *_args(setting), v)
                assert not ok, (v, made_up, out)
                for number in _numbers(out):
                    assert not ch09_2.check_spike_experiment(number, said, *_args(setting), v)
                capsys.readouterr()
    if abs(precision - recall) > 0.01:
        ok, out = run_checker(capsys, ch09_2.check_spike_experiment, precision, lower, *_args(setting), v)
        assert not ok and "精确率" in out


def test_spike_experiment_copying_another_variant_fails(capsys, setting):
    recalls = {v: _measure(setting, *ch09_2.spike_inputs(v))[0][1] for v in range(8)}
    pairs = [(a, b) for a in recalls for b in recalls if abs(recalls[a] - recalls[b]) > 0.01]
    assert pairs, recalls
    for a, b in pairs[:6]:
        for said in (True, False):
            assert not run_checker(capsys, ch09_2.check_spike_experiment, recalls[a], said, *_args(setting), b)[0]


EXP_ROWS = [(None, True, "未作答"), (0.25, None, "未作答"), (25, True, "百分数"), (1.5e3, True, "百分之百"),
            (-0.25, True, "百分之百"), ("abc", True, "应是一个数"), (0.25, "yes", "召回率变低了吗")]


@pytest.mark.parametrize("recall, said, must", EXP_ROWS)
def test_spike_experiment_table(capsys, setting, recall, said, must):
    got, out = run_checker(capsys, ch09_2.check_spike_experiment, recall, said, *_args(setting), 0)
    assert_row(got, out, False, must)


def test_spike_experiment_changed_threshold_fails_even_with_its_own_recall(capsys, setting):
    """A threshold moved to make the experiment come out (1e-6 flags everything, 1e9 nothing) must fail,
    although the recall handed in is what that threshold really gives."""
    sizes, seed = ch09_2.spike_inputs(0)
    for thr in (1e-6, 1e9, 0.5 * setting["threshold"], 2 * setting["threshold"], float("nan"), "5"):
        s = dict(setting, threshold=thr)
        recall = _measure(s, sizes, seed)[0][1] if isinstance(thr, float) and thr == thr else 0.5
        for said in (True, False):
            ok, out = run_checker(capsys, ch09_2.check_spike_experiment, recall, said, *_args(s), 0)
            assert not ok and "threshold" in out, (thr, out)
    s = dict(setting, series=setting["series"] + 3.0)             # another series: the threshold no longer matches
    ok, out = run_checker(capsys, ch09_2.check_spike_experiment, 0.5, True, *_args(s), 0)
    assert not ok


@pytest.mark.parametrize("seed", (0, 1))
def test_spike_experiment_untrained_or_naive_detector_fails_with_its_own_numbers(capsys, seed):
    """An untrained detector (seed 1's is the closest to the naive forecast of the seeds measured)
    and the naive forecast itself, each with its own threshold and the recall it really gives: the
    numbers are consistent, the detector is not the chapter's."""
    sizes, inj = ch09_2.spike_inputs(0)
    temp, T, train_end, val_end, scaler, z = _chapter_split()
    naive = {"detector": fe.Persistence(), "series": temp, "start": val_end, "stop": T, "input_len": 14,
             "scaler": scaler, "threshold": _threshold(fe.Persistence(), z, train_end, val_end, scaler)}
    for s in (_detector(seed, 0), naive):
        recall = _measure(s, sizes, inj)[0][1]
        for said in (True, False):
            ok, out = run_checker(capsys, ch09_2.check_spike_experiment, recall, said, *_args(s), 0)
            assert not ok and "没有训练好" in out, out


def test_spike_experiment_test_fitted_detector_fails_with_its_own_numbers(capsys):
    """The fitted-on-test row: the chapter's detector trained on the TEST days (the days the spikes
    are injected into) instead of the training days. Measured over seeds 0-2: its validation MSE is
    0.109-0.112, no better than 0.96 of the naive forecast's, so the trained-detector gate refuses
    it (a detector trained on training + test days passes the gate: 0.099-0.101, and gains about
    5 % on the test days, within the spread of seeds; nothing to refuse there)."""
    s = _detector(0, 15, on_test_days=True)
    sizes, inj = ch09_2.spike_inputs(0)
    recall = _measure(s, sizes, inj)[0][1]
    for said in (True, False):
        ok, out = run_checker(capsys, ch09_2.check_spike_experiment, recall, said, *_args(s), 0)
        assert not ok and "没有训练好" in out, out


def test_spike_experiment_hostile_detectors(capsys, setting):
    class Broken(torch.nn.Module):
        def forward(self, X):
            raise RuntimeError("boom")

    args = list(_args(setting))
    for detector in ("detector", None, Broken()):
        args[0] = detector
        ok, out = run_checker(capsys, ch09_2.check_spike_experiment, 0.5, True, *args, 0)
        assert not ok and out.strip()


# ----------------------------------------------------------------------------- hostile answers
@pytest.mark.parametrize("answer", HOSTILE, ids=[f"h{i}" for i in range(len(HOSTILE))])
def test_hostile_answers_never_raise(capsys, setting, answer):
    assert_rejects_hostile(capsys, lambda a: ch09_2.check_price_r2(a, 0), answer)
    assert_rejects_hostile(capsys, lambda a: ch09_2.check_precision_recall(a, 0), answer)
    assert_rejects_hostile(capsys, lambda a: ch09_2.check_spike_experiment(a, True, *_args(setting), 0), answer)


@pytest.mark.parametrize("answer", HOSTILE, ids=[f"hp{i}" for i in range(len(HOSTILE))])
def test_hostile_inside_pairs_never_raise(capsys, setting, answer):
    assert_rejects_hostile(capsys, lambda a: ch09_2.check_precision_recall((a, 0.75), 0),
                           answer if answer is not None else 0.1)
    assert_rejects_hostile(capsys, lambda a: ch09_2.check_spike_experiment(0.25, a, *_args(setting), 0),
                           answer if answer is not None else "x")


def test_huge_answer_message_is_short(capsys):
    ok, out = run_checker(capsys, ch09_2.check_precision_recall, list(range(10 ** 6)), 0)
    assert not ok and len(out) < 400


# ----------------------------------------------------------------------------- student edition
def test_reference_functions_are_marked():
    for fn in (ch09_2.price_r2_answers, ch09_2.precision_recall_answer, ch09_2.spike_answers):
        assert getattr(fn, "__seqcourse_reference__", False), fn.__name__
    for fn in (ch09_2.price_r2_inputs, ch09_2.precision_recall_inputs, ch09_2.spike_inputs):
        assert not getattr(fn, "__seqcourse_reference__", False), fn.__name__


def test_student_edition_says_graded_later(capsys, monkeypatch, setting):
    from helpers.exercises._core import GRADED_LATER, GradedAtSubmission

    def stripped(*args, **kwargs):
        raise GradedAtSubmission()

    for name in ("price_r2_answers", "precision_recall_answer", "spike_answers"):
        monkeypatch.setattr(ch09_2, name, stripped)
    for call in (lambda: ch09_2.check_price_r2(0.8, 0), lambda: ch09_2.check_precision_recall((0.6, 0.75), 0),
                 lambda: ch09_2.check_spike_experiment(0.5, True, *_args(setting), 0)):
        got = call()
        assert not got and GRADED_LATER in capsys.readouterr().out
