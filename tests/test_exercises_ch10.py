"""Chapter 10 (part 1) exercise checkers, table-driven: what students write, the verdict, and the
hint that must (or must not) appear; per-student variants; no failure message that hands back an
answer; the student edition (reference bodies stripped). No checker may raise."""
import math
import re

import numpy as np
import pytest
import torch

from helpers import modern
from helpers.exercises import ch10
from helpers.nn import scan
from helpers.nn.mingru import MinGRU, MinLSTM

from exercise_table import HOSTILE, assert_rejects_hostile, run_checker

pytestmark = pytest.mark.usefixtures("one_torch_thread")
_run = run_checker
VARIANTS = list(range(20))


def numbers_in(text):
    return [float(n) for n in re.findall(r"[-+]?\d+(?:\.\d+)?", text)]


# ----------------------------------------------------------------------------- exercise 1
def counted(T):
    """Rounds and combines counted by running the course's scan with a counting operator: with
    a = 2 everywhere, a position whose earlier partner is the identity padding (1, 0) does no real
    combine; every other position does one."""
    calls, real = [], scan.combine

    def counting(first, second):
        calls.append(int((first[0] != 1).sum()))
        return real(first, second)
    scan.combine = counting
    try:
        scan.linear_scan(torch.full((1, T, 1), 2.0, dtype=torch.float64), torch.ones(1, T, 1, dtype=torch.float64))
    finally:
        scan.combine = real
    return {"loop": T, "rounds": len(calls), "combines": sum(calls)}


RIGHT1 = {"loop": 100, "rounds": 7, "combines": 573}


@pytest.mark.parametrize("answer, ok, hint", [
    (RIGHT1, True, "573"),
    ({"loop": 100.0, "rounds": np.int64(7), "combines": torch.tensor(573)}, True, "正确"),
    ({"combines": " 573 ", "rounds": "7", "loop": 100}, True, "正确"),
    ({**RIGHT1, "rounds": 6, "combines": sum(100 - 2 ** r for r in range(6))}, False, "下取整"),
    ({**RIGHT1, "combines": 700}, False, "前面没有"),
    ({**RIGHT1, "combines": 99}, False, "循环的合成次数"),
    ({**RIGHT1, "loop": 7}, False, "每一步都要等"),
    ({**RIGHT1, "combines": 574}, False, "combines"),
    ({**RIGHT1, "loop": 99, "combines": 572}, False, "loop"),
    ({"loop": 100, "rounds": 7}, False, "键正好是"),
    ((100, 7, 573), False, "字典"),
    ({**RIGHT1, "rounds": 7.5}, False, "整数"),
    ({**RIGHT1, "rounds": float("nan")}, False, "rounds"),
    (None, False, "未作答"),
])
def test_scan_counts_table(capsys, answer, ok, hint):
    got, out = _run(capsys, ch10.check_scan_counts, answer, 0)
    assert got is ok and hint in out, out


def test_scan_counts_agree_with_the_scan():
    for T in (2, 3, 7, 64, 100, 1000, 4096):
        ref = ch10.scan_counts(T)
        assert ref == counted(T)
        assert ref["rounds"] == scan.scan_rounds(T) and ref["combines"] == scan.scan_work(T)


def test_scan_counts_variants(capsys):
    answers = {}
    for v in VARIANTS:
        T = ch10.scan_counts_inputs(v)["T"]
        right = counted(T)
        assert _run(capsys, ch10.check_scan_counts, right, v)[0], v
        for wrong, _ in ch10.scan_counts_mistakes(T):            # every named mistake is wrong
            assert wrong != right
            assert not _run(capsys, ch10.check_scan_counts, wrong, v)[0]
        answers[v] = right
    assert ch10.scan_counts_inputs(0) == {"T": 100}
    assert len({a["combines"] for a in answers.values()}) >= 18
    for v in VARIANTS[1:]:
        if answers[v - 1] != answers[v]:
            assert not _run(capsys, ch10.check_scan_counts, answers[v - 1], v)[0]


def test_scan_counts_messages_give_no_answer_away(capsys):
    for v in VARIANTS[:6]:
        T = ch10.scan_counts_inputs(v)["T"]
        right = counted(T)
        wrongs = [w for w, _ in ch10.scan_counts_mistakes(T)] + [{**right, "combines": right["combines"] + 1}]
        for answer in wrongs:
            got, out = _run(capsys, ch10.check_scan_counts, answer, v)
            assert not got
            for n in numbers_in(out):
                assert n not in right.values() or n in (0, 1, 2), out


# ----------------------------------------------------------------------------- exercise 2
def right_combine(first, second):
    return second[0] * first[0], second[0] * first[1] + second[1]


@pytest.mark.parametrize("fn, ok, hint", [
    (right_combine, True, "结合律"),
    (scan.combine, False, "自己写"),                 # the course's own operator, shown in §2
    (ch10.combine_reference, False, "自己写"),
    (lambda f, s: (f[0] * s[0], s[1] + f[1] * s[0]), True, "结合律"),          # written the other way round
    (lambda f, s: [f[0] * s[0], torch.addcmul(s[1], s[0], f[1])], True, "结合律"),        # a list, addcmul
    (lambda f, s: (s[0].float() * f[0].float(), s[0].float() * f[1].float() + s[1].float()), True, "结合律"),
    (lambda f, s: (s[0] * f[0], f[0] * s[1] + f[1]), False, "顺序反了"),
    (lambda f, s: (s[0] * f[0], s[0] * f[1]), False, "b_t"),
    (lambda f, s: (s[0] * f[0], f[1] + s[1]), False, "a_t"),
    (lambda f, s: (s[0] + f[0], s[0] * f[1] + s[1]), False, "相乘"),
    (lambda f, s: (s[0], s[1]), False, "整理成"),
    (lambda f, s: s[0] * f[0], False, "一对"),
    (lambda f, s: (s[0] * f[0],), False, "一对"),
    (lambda f, s: (torch.ones(2, 2), s[1]), False, "形状"),
    (lambda f, s: (s[0] * f[0], s[0] * f[1] + s[1] + float("nan")), False, "不对"),
    (lambda f: f, False, "参数"),
    (lambda f, s: None, False, "返回值"),
    (lambda f, s: 1 / 0, False, "ZeroDivisionError"),
    (None, False, "未作答"),
])
def test_combine_table(capsys, fn, ok, hint):
    got, out = _run(capsys, ch10.check_combine, fn)
    assert got is ok and hint in out, out


def test_combine_mistakes_are_told_apart():
    first, second = ch10._combine_case()
    right = ch10.combine_reference(first, second)
    pairs = [w for w, _ in ch10.combine_mistakes(first, second)]
    for w in pairs:
        assert max((u - v).abs().max().item() for u, v in zip(w, right)) > 1e-2
    for i, w in enumerate(pairs):
        for w2 in pairs[i + 1:]:
            assert max((u - v).abs().max().item() for u, v in zip(w, w2)) > 1e-2


def test_combine_does_not_change_the_inputs(capsys):
    def mutating(f, s):
        f[0].mul_(0)
        return right_combine(f, s)
    # the checker hands copies: an in-place change cannot alter the inputs it compares against
    got, out = _run(capsys, ch10.check_combine, mutating)
    assert not got


# ----------------------------------------------------------------------------- exercise 3
def torch_counts(I, H):
    n = lambda m: sum(p.numel() for p in m.parameters())
    return {"gru": n(torch.nn.GRU(I, H)), "mingru": n(MinGRU(I, H)), "minlstm": n(MinLSTM(I, H))}


I3, H3 = 5, 24
RIGHT3 = torch_counts(I3, H3)


@pytest.mark.parametrize("answer, ok, hint", [
    (RIGHT3, True, "GRU"),
    ({k: float(v) for k, v in RIGHT3.items()}, True, "正确"),
    ({k: str(v) for k, v in RIGHT3.items()}, True, "正确"),
    ({**RIGHT3, "gru": 3 * H3 * (I3 + H3) + 3 * H3}, False, "两套偏置"),
    ({**RIGHT3, "gru": 3 * H3 * I3 + 6 * H3}, False, "W_hh"),
    ({**RIGHT3, "mingru": 2 * H3 * I3}, False, "MinGRU 也有偏置"),
    ({**RIGHT3, "mingru": 2 * H3 * (I3 + H3 + 1)}, False, "H × H"),
    ({**RIGHT3, "minlstm": 3 * H3 * I3}, False, "MinLSTM 也有偏置"),
    ({**RIGHT3, "minlstm": RIGHT3["mingru"]}, False, "三块"),
    ({**RIGHT3, "mingru": 2 * H3 * I3, "minlstm": 3 * H3 * I3}, False, "MinLSTM 也有偏置"),
    (torch_counts(2, 32), False, "不对"),          # the (2, 32) row §4's table prints is not this answer
    ({**RIGHT3, "gru": 1}, False, "['gru']"),
    ({"gru": 1, "mingru": 2}, False, "键正好是"),
    ([1, 2, 3], False, "字典"),
    (None, False, "未作答"),
])
def test_min_params_table(capsys, answer, ok, hint):
    got, out = _run(capsys, ch10.check_min_params, answer, 0)
    assert got is ok and hint in out, out


def test_min_params_variants(capsys):
    answers = {}
    for v in VARIANTS:
        sizes = ch10.min_params_inputs(v)
        right = torch_counts(sizes["input_size"], sizes["hidden_size"])
        assert ch10.min_params(**sizes) == right
        assert _run(capsys, ch10.check_min_params, right, v)[0], v
        slips = ch10.min_params_mistakes(**sizes)
        for key in ch10.KEYS_PARAMS:                              # each slip names one mistake
            wrongs = [w for k, w, _ in slips if k == key]
            assert len(set(wrongs)) == len(wrongs), (v, sizes)
        for key, wrong, _ in slips:
            assert wrong != right[key]
            assert not _run(capsys, ch10.check_min_params, {**right, key: wrong}, v)[0]
        answers[v] = right
    assert len({a["gru"] for a in answers.values()}) >= 18
    for v in VARIANTS[1:]:
        if answers[v - 1] != answers[v]:
            assert not _run(capsys, ch10.check_min_params, answers[v - 1], v)[0]


def test_min_params_messages_give_no_answer_away(capsys):
    for v in VARIANTS[:6]:
        sizes = ch10.min_params_inputs(v)
        right = torch_counts(sizes["input_size"], sizes["hidden_size"])
        for key, wrong, _ in ch10.min_params_mistakes(**sizes):
            got, out = _run(capsys, ch10.check_min_params, {**right, key: wrong}, v)
            assert not got
            for n in numbers_in(out):
                assert n not in right.values(), out


# ----------------------------------------------------------------------------- exercise 4
def hand_made_minlstm(H=2, big=20.0):
    """A minLSTM whose weights solve the adding problem exactly (up to e^-big): channel 1 averages
    the marked values (f' = i' = 1/2 at a mark), channel 2 keeps the last one (f' = 0); elsewhere
    f' = 1. Then v1 + v2 = 4 h¹ − h² − 1."""
    model = modern.AddingMin("minlstm", hidden_size=H)
    W = torch.zeros(3 * H, 2)
    b = torch.zeros(3 * H)
    # rows: f (0..H), i (H..2H), h̃ (2H..3H); columns: value, mark
    b[0], W[0, 1] = big, -big                 # channel 1: f: +big off marks, 0 at marks
    b[H], W[H, 1] = -big, big                 #            i: −big off marks, 0 at marks
    b[1], W[1, 1] = big, -2 * big             # channel 2: f: −big at marks
    b[H + 1], W[H + 1, 1] = -big, 2 * big     #            i: +big at marks
    W[2 * H, 0] = W[2 * H + 1, 0] = 1.0       # h̃ = g(value) = value + 0.5
    with torch.no_grad():
        model.rnn.weight_ih.copy_(W)
        model.rnn.bias_ih.copy_(b)
        model.head.weight.copy_(torch.tensor([[4.0, -1.0]]))
        model.head.bias.fill_(-1.0)
    return model


@pytest.fixture(scope="module")
def trained():
    torch.set_num_threads(1)
    exp = ch10.minlstm_experiment_inputs(0)
    return modern.train_adding_min("minlstm", exp["T"], seed=exp["seed"], epochs=6, lr=3e-2, progress=False)[0]


def test_experiment_hand_made_solution_passes_every_variant(capsys):
    model = hand_made_minlstm()
    for v in VARIANTS:
        T = ch10.minlstm_experiment_inputs(v)["T"]
        assert ch10.experiment_mse(model, T, v) < 1e-6
        assert _run(capsys, ch10.check_minlstm_experiment, model, v)[0], v


def test_experiment_trained_model_passes_and_untrained_fails(capsys, trained):
    got, out = _run(capsys, ch10.check_minlstm_experiment, trained, 0)
    assert got, out
    for seed in range(5):
        torch.manual_seed(seed)
        untrained = modern.AddingMin("minlstm")
        got, out = _run(capsys, ch10.check_minlstm_experiment, untrained, 0)
        assert not got and "平台" in out
        assert ch10.experiment_mse(untrained, 30, 0) > 3 * ch10.EXPERIMENT_BAR


def test_experiment_wrong_models(capsys):
    got, out = _run(capsys, ch10.check_minlstm_experiment, modern.AddingMin("mingru"), 0)
    assert not got and "minLSTM" in out
    from helpers.adding import AddingModel
    got, out = _run(capsys, ch10.check_minlstm_experiment, AddingModel("lstm"), 0)
    assert not got and "AddingMin" in out
    for made_up in (0.001, (0.001, 0.002), {"mse": 0.001}, "0.001"):          # made-up numbers
        got, out = _run(capsys, ch10.check_minlstm_experiment, made_up, 0)
        assert not got
    other_T = hand_made_minlstm()                     # solves every T, but says it was trained on T = 10
    other_T.trained_on = {"T": 10, "seed": 0}
    got, out = _run(capsys, ch10.check_minlstm_experiment, other_T, 0)
    assert not got and "另一个长度" in out and not numbers_in(out)
    other_T.trained_on = {"T": 30, "seed": 5}          # the right T, another seed: judged on its test MSE
    assert _run(capsys, ch10.check_minlstm_experiment, other_T, 0)[0]
    broken = hand_made_minlstm()
    with torch.no_grad():
        broken.head.bias.fill_(float("nan"))
    got, out = _run(capsys, ch10.check_minlstm_experiment, broken, 0)
    assert not got and "NaN" in out


def test_experiment_variants_and_messages(capsys):
    seen = {tuple(ch10.minlstm_experiment_inputs(v).values()) for v in VARIANTS}
    assert len(seen) >= 15 and ch10.minlstm_experiment_inputs(0) == {"T": 30, "seed": 0}
    # the checker's test set is not the one the student's training call draws its test set from
    x1, _ = ch10._test_set(30, 0)
    from helpers.data import adding_problem
    x2, _ = adding_problem(ch10.EXPERIMENT_N_TEST, 30, seed=0 + modern.TEST_SEED_OFFSET)
    assert not torch.equal(x1, x2)
    torch.manual_seed(0)
    got, out = _run(capsys, ch10.check_minlstm_experiment, modern.AddingMin("minlstm"), 0)
    assert not got and not numbers_in(out.replace("1/6", ""))


def test_minlstm_fitted_on_the_checkers_own_test_set_gains_nothing(capsys):
    """The fitted-on-test row. The checker's 500 test sequences come from a public helper
    (``ch10._test_set``), so a student can train on them. The adding problem's sequences are
    i.i.d. draws and a minLSTM of this size cannot memorise 500 of them: trained only on the
    checker's set, its MSE on fresh sequences is the same (measured, seeds 0 and 1: 0.0006/0.0006
    and 0.0004/0.0004). It solved the task, so it passes; the row checks the fresh MSE too."""
    from helpers.adding import adding_loss, adding_problem
    from helpers.env import set_seed
    from helpers.train import fit

    T = ch10.minlstm_experiment_inputs(0)["T"]
    x, y = ch10._test_set(T, 0)
    set_seed(0)
    model = modern.AddingMin("minlstm", 32)
    fit(model, adding_loss, (x, y), epochs=48, batch_size=64, lr=3e-2, clip=1.0, seed=0, progress=False)
    model.trained_on = {"T": T, "seed": 0}
    assert _run(capsys, ch10.check_minlstm_experiment, model, 0)[0]
    xf, yf = adding_problem(500, T, seed=987654)
    model.eval()
    with torch.no_grad():
        fresh = float(torch.nn.functional.mse_loss(model(xf).reshape(-1), yf.reshape(-1)))
    assert fresh <= ch10.EXPERIMENT_BAR / 5, fresh


# ----------------------------------------------------------------------------- all checkers
CHECKS = [ch10.check_scan_counts, ch10.check_combine, ch10.check_min_params, ch10.check_minlstm_experiment]


@pytest.mark.parametrize("answer", HOSTILE + [{"loop": 10 ** 400, "rounds": 1, "combines": 1},
                                              {"gru": object(), "mingru": 1, "minlstm": 1}])
def test_hostile_answers(capsys, answer):
    for check in CHECKS:
        assert_rejects_hostile(capsys, check, answer)


def test_huge_answers_print_short_messages(capsys):
    huge = torch.zeros(1000, 1000)
    for check in CHECKS:
        got, out = _run(capsys, check, huge)
        assert not got and len(out) < 400
    got, out = _run(capsys, ch10.check_combine, lambda f, s: (huge, huge))
    assert not got and len(out) < 400


def test_reference_functions_are_marked():
    for fn in (ch10.scan_counts, ch10.scan_counts_mistakes, ch10.combine_reference, ch10.combine_mistakes,
               ch10.min_params, ch10.min_params_mistakes, ch10.experiment_mse):
        assert getattr(fn, "__seqcourse_reference__", False), fn.__name__
    for fn in (ch10.scan_counts_inputs, ch10.min_params_inputs, ch10.minlstm_experiment_inputs):
        assert not getattr(fn, "__seqcourse_reference__", False), fn.__name__


def test_student_edition_says_graded_later(capsys, monkeypatch):
    from helpers.exercises._core import GradedAtSubmission

    def stripped(*a, **k):
        raise GradedAtSubmission()
    for name in ("scan_counts", "scan_counts_mistakes", "combine_reference", "combine_mistakes",
                 "min_params", "min_params_mistakes", "experiment_mse"):
        monkeypatch.setattr(ch10, name, stripped)
    for check, answer in ((ch10.check_scan_counts, RIGHT1), (ch10.check_combine, right_combine),
                          (ch10.check_min_params, RIGHT3), (ch10.check_minlstm_experiment, hand_made_minlstm())):
        got, out = _run(capsys, check, answer)
        assert not got and "已收到" in out
    # the property checks still speak before the reference is needed
    got, out = _run(capsys, ch10.check_minlstm_experiment, modern.AddingMin("mingru"), 0)
    assert not got and "minLSTM" in out


def test_uses_the_students_variant(capsys, monkeypatch):
    monkeypatch.setenv("SEQHW_STUDENT", "alice")
    from helpers.exercises._core import variant
    v = variant()
    assert v != 0
    right = counted(ch10.scan_counts_inputs(v)["T"])
    assert _run(capsys, ch10.check_scan_counts, right)[0]
    if right != RIGHT1:
        assert not _run(capsys, ch10.check_scan_counts, RIGHT1)[0]
