"""Chapter 06 checkers, table-driven: many student answers each, with the verdict and the hint that
must (or must not) appear. No checker raises, whatever it is given. Per-student variants: the
reference answer passes for 20 variants, two variants differ, a classmate's answer fails, and no
failure message holds a value that passes when handed back."""
import copy
import math
import re

import numpy as np
import pytest
import torch

from helpers.adding import AddingModel
from helpers.data import adding_problem
from helpers.env import set_seed
from helpers.exercises import ch06
from helpers.exercises._core import Verdict
from helpers.nn.gru import gru_cell

HINTS = [hint for _, hint in ch06.GRU_MISTAKES]


VARIANTS = range(20)


def _numbers(text: str) -> list[float]:
    return [float(m) for m in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text)]


def _run(checker, *args, capsys, **kw):
    verdict = checker(*args, **kw)
    out = capsys.readouterr().out
    assert isinstance(verdict, Verdict)
    assert out.count("【") == 1 and out.startswith("【"), out   # exactly one verdict
    return bool(verdict), out


# ----------------------------------------------------------------------------- exercise 1: one GRU step
def _gru(order="rzn", bias=True, gate=torch.sigmoid, cand=torch.tanh, reset="pytorch", swap_z=False):
    """A student's GRU step written out by hand (not through the checker's own variant code)."""
    def fn(x, h, W_ih, W_hh, b_ih, b_hh):
        gi = x @ W_ih.T + (b_ih if bias else 0)
        gh = h @ W_hh.T + (b_hh if bias else 0)
        i_, h_ = dict(zip(order, gi.chunk(3, 1))), dict(zip(order, gh.chunk(3, 1)))
        r, z = gate(i_["r"] + h_["r"]), gate(i_["z"] + h_["z"])
        if reset == "pytorch":
            n = cand(i_["n"] + r * h_["n"])
        elif reset == "cho":
            W_hn, b_hn = W_hh.chunk(3)[2], b_hh.chunk(3)[2]
            n = cand(i_["n"] + (r * h) @ W_hn.T + b_hn)
        elif reset == "all":
            n = cand(r * (i_["n"] + h_["n"]))
        else:
            n = cand(i_["n"] + h_["n"])
        return (1 - z) * h + z * n if swap_z else z * h + (1 - z) * n
    return fn


def _float32(x, h, W_ih, W_hh, b_ih, b_hh):
    return _gru()(*(t.float() for t in (x, h, W_ih, W_hh, b_ih, b_hh)))


def _torch_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    cell = torch.nn.GRUCell(x.shape[1], h.shape[1])          # float32, as students usually build it
    with torch.no_grad():
        for p, v in zip((cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh), (W_ih, W_hh, b_ih, b_hh)):
            p.copy_(v)
        return cell(x.float(), h.float())


def _in_place(x, h, W_ih, W_hh, b_ih, b_hh):
    gi_r, gi_z, gi_n = (x @ W_ih.T + b_ih).chunk(3, 1)
    gh_r, gh_z, gh_n = (h @ W_hh.T + b_hh).chunk(3, 1)
    r, z = torch.sigmoid(gi_r + gh_r), torch.sigmoid(gi_z + gh_z)
    n = torch.tanh(gi_n + r * gh_n)
    h.mul_(z)                                                   # updates the argument in place
    h.add_((1 - z) * n)
    return h


def _raise(*a):
    raise RuntimeError("boom")


GRU_STEP_CASES = [
    # (answer, accepted, text that must appear, texts that must not appear)
    (_gru(), True, "一致", ()),
    (lambda *a: gru_cell(*a), True, "一致", ()),
    (_float32, True, "一致", ()),
    (_torch_cell, True, "一致", ()),
    (_in_place, True, "一致", ()),
    (lambda *a: _gru()(*a).numpy(), True, "一致", ()),
    (lambda *a: _gru()(*a).tolist(), True, "一致", ()),
    (_gru(swap_z=True), False, "z 和 1 − z 用反了", ()),
    (_gru(reset="cho"), False, "重置门放错了位置", ()),
    (_gru(reset="all"), False, "不乘输入部分", ()),
    (_gru(reset="none"), False, "漏了重置门", ()),
    (_gru(order="zrn"), False, "第一块是重置门 r", ()),
    (_gru(bias=False), False, "漏了偏置", ()),
    (_gru(cand=torch.sigmoid), False, "候选 h̃ 要用 tanh", ()),
    (_gru(gate=torch.tanh), False, "门 r 和 z 要用 sigmoid", ()),
    (_gru(gate=torch.tanh, cand=torch.sigmoid), False, "tanh 和 sigmoid 用反了", ()),
    (_gru(swap_z=True, reset="cho"), False, "两处不同", ()),
    (lambda *a: _gru(swap_z=True)(*(t.float() for t in a)), False, "z 和 1 − z 用反了", ()),
    # a near-zero or otherwise unrelated answer never gets a mistake's hint
    (lambda x, h, *w: torch.zeros_like(h), False, "全是 0", HINTS),
    (lambda x, h, *w: 1e-9 * torch.ones_like(h), False, "全是 0", HINTS),
    (lambda x, h, *w: h, False, "就是 h_{t−1}", HINTS),
    (lambda x, h, *w: h + 0.5, False, "数值不对", HINTS),
    (lambda *a: _gru()(*a) + 1e-3, False, "数值不对", HINTS),
    (lambda x, h, *w: torch.full_like(h, math.inf), False, "inf", HINTS),
    (lambda x, h, *w: torch.full_like(h, math.nan), False, "NaN", HINTS),
    (lambda *a: a[0] @ a[2], False, "运行出错", ()),
    (_raise, False, "运行出错", ()),
    (lambda *a: a[1][:, :2], False, "形状", ()),
    (lambda *a: None, False, "没有返回值", ()),
    (lambda x: x, False, "参数不对", ()),
    (lambda *a: "h", False, "应是形状", ()),
    (lambda *a: (a[1], a[1]), False, "形状", ()),
    ("gru", False, "函数", ()),
    (None, False, "未作答", ()),
]


@pytest.mark.parametrize("answer, accepted, must, must_not", GRU_STEP_CASES)
def test_gru_step_table(answer, accepted, must, must_not, capsys):
    ok, out = _run(ch06.check_gru_step, answer, capsys=capsys)
    assert ok is accepted and must in out, out
    assert not any(text in out for text in must_not), out
    if not accepted:                                  # no failure message spells the answer's code
        assert "z*h + (1-z)" not in out and "r*(W_hn h" not in out, out


@pytest.mark.parametrize("v", VARIANTS)
def test_gru_step_reference_passes_every_variant(v, capsys):
    assert _run(ch06.check_gru_step, _gru(), capsys=capsys, v=v)[0]
    assert not _run(ch06.check_gru_step, _gru(swap_z=True), capsys=capsys, v=v)[0]


def test_gru_step_variants_test_other_inputs(capsys):
    a, b = ch06.gru_step_inputs(1), ch06.gru_step_inputs(2)
    assert a[0].shape != b[0].shape or not torch.equal(a[0], b[0])
    fixed = gru_cell(*ch06._data())
    assert not _run(ch06.check_gru_step, lambda *a: fixed, capsys=capsys, v=5)[0]     # special-cased inputs


def test_gru_step_checker_keeps_its_own_copy():
    x, h, *_ = ch06._data()
    ch06.check_gru_step(_in_place)
    assert torch.equal(ch06._data()[1], h)                # the checker's data are not touched


def test_each_mistake_differs_from_the_right_step():
    args = ch06._data()
    right = gru_cell(*args)
    for change, _ in ch06.GRU_MISTAKES:
        assert (ch06._gru_variant(*args, **change) - right).abs().max() > 1e-3, change


def test_torch_gru_cell_agrees_with_the_checkers_data():
    x, h, W_ih, W_hh, b_ih, b_hh = ch06._data()
    layer = torch.nn.GRUCell(4, 5).double()
    with torch.no_grad():
        for p, v in zip((layer.weight_ih, layer.weight_hh, layer.bias_ih, layer.bias_hh), (W_ih, W_hh, b_ih, b_hh)):
            p.copy_(v)
    assert torch.allclose(layer(x, h), _gru()(x, h, W_ih, W_hh, b_ih, b_hh), atol=1e-12)


# ----------------------------------------------------------------------------- exercise 2: parameter counts
I, H = ch06.PARAM_CASE
RIGHT = {"lstm": 4 * (H * I + H * H + 2 * H), "gru": 3 * (H * I + H * H + 2 * H)}

PARAM_CASES = [
    (RIGHT, True, "GRU 少 1/4", ()),
    ({"lstm": np.int64(RIGHT["lstm"]), "gru": np.int32(RIGHT["gru"])}, True, "GRU 少 1/4", ()),
    ({"lstm": float(RIGHT["lstm"]), "gru": RIGHT["gru"] - 1e-9}, True, "GRU 少 1/4", ()),
    ({"LSTM": RIGHT["lstm"], " gru ": RIGHT["gru"]}, True, "GRU 少 1/4", ()),
    ({"lstm": torch.tensor(RIGHT["lstm"]), "gru": np.array(RIGHT["gru"])}, True, "GRU 少 1/4", ()),
    ({"lstm": RIGHT["gru"], "gru": RIGHT["lstm"]}, False, "对调", ()),
    ({"lstm": 4 * (H * I + H * H + H), "gru": RIGHT["gru"]}, False, "两个偏置", ("gru：",)),
    ({"lstm": RIGHT["lstm"], "gru": 3 * (H * I + H * H)}, False, "漏了偏置", ("lstm：",)),
    ({"lstm": H * I + H * H + 2 * H, "gru": RIGHT["gru"]}, False, "只算了一块", ()),
    ({"lstm": RIGHT["lstm"], "gru": RIGHT["lstm"] + 1}, False, "不对", ("对调",)),
    ({"lstm": 4 * (2 * H * I + 2 * H), "gru": RIGHT["gru"]}, False, "H×H", ()),
    ({"lstm": 3 * (H * I + H * H + 2 * H), "gru": RIGHT["gru"]}, False, "块数不对", ()),
    ({"lstm": RIGHT["lstm"] + H + 1, "gru": RIGHT["gru"]}, False, "输出层", ()),
    ({"lstm": RIGHT["lstm"] + 0.5, "gru": RIGHT["gru"]}, False, "不是整数", ()),
    ({"lstm": math.inf, "gru": RIGHT["gru"]}, False, "有限", ()),
    ({"lstm": math.nan, "gru": RIGHT["gru"]}, False, "有限", ()),
    ({"lstm": "很多", "gru": RIGHT["gru"]}, False, "应是一个数", ()),
    ({"lstm": True, "gru": RIGHT["gru"]}, False, "应是一个数", ()),
    ({"lstm": 10 ** 400, "gru": RIGHT["gru"]}, False, "不对", ()),
    ({"lstm": RIGHT["lstm"]}, False, "键", ()),
    ([1, 2], False, "字典", ()),
    (RIGHT["lstm"], False, "字典", ()),
    (None, False, "未作答", ()),
]


@pytest.mark.parametrize("answer, accepted, must, must_not", PARAM_CASES)
def test_param_counts_table(answer, accepted, must, must_not, capsys):
    ok, out = _run(ch06.check_param_counts, answer, capsys=capsys)
    assert ok is accepted and must in out, out
    assert not any(text in out for text in must_not), out


def test_param_count_formula_matches_torch():
    for v in (0, 1, 2):
        I, H = ch06.param_case(v)
        assert ch06.gate_param_count(4, I, H) == sum(p.numel() for p in torch.nn.LSTM(I, H).parameters())
        assert ch06.gate_param_count(3, I, H) == sum(p.numel() for p in torch.nn.GRU(I, H).parameters())


def test_param_counts_messages_hand_back_nothing(capsys):
    for answer, accepted, *_ in PARAM_CASES:
        if accepted or not isinstance(answer, dict):
            continue
        out = _run(ch06.check_param_counts, answer, capsys=capsys)[1]
        assert "HI + HH + 2H" not in out, out
        assert len(out) < 500
        for x in _numbers(out):
            assert x not in (RIGHT["lstm"], RIGHT["gru"]), out


@pytest.mark.parametrize("v", VARIANTS)
def test_param_counts_reference_passes_every_variant(v, capsys):
    I_, H_ = ch06.param_case(v)
    counts = {"lstm": sum(p.numel() for p in torch.nn.LSTM(I_, H_).parameters()),
              "gru": sum(p.numel() for p in torch.nn.GRU(I_, H_).parameters())}
    assert _run(ch06.check_param_counts, counts, capsys=capsys, v=v)[0]
    slips = {"lstm": 4 * (H_ * I_ + H_ * H_ + H_), "gru": 3 * (H_ * I_ + H_ * H_)}
    ok, out = _run(ch06.check_param_counts, slips, capsys=capsys, v=v)
    assert not ok and "两个偏置" in out and "漏了偏置" in out


def test_param_counts_variants_differ_and_classmates_answers_fail(capsys):
    assert ch06.param_case(0) == (30, 64)
    cases = [ch06.param_case(v) for v in range(1, 60)]
    assert len(set(cases)) == len(cases)
    for v in range(1, 20):
        I_, H_ = ch06.param_case(v + 1)
        theirs = {"lstm": ch06.gate_param_count(4, I_, H_), "gru": ch06.gate_param_count(3, I_, H_)}
        assert not _run(ch06.check_param_counts, theirs, capsys=capsys, v=v)[0]


# ----------------------------------------------------------------------------- exercise 3: the experiment
# The checker trains the chapter's GRU again itself; the tests replace that model with a small one
# whose head is fitted by least squares (fast), and the chapter's T = 30 × 1000 test sequences by
# T = 10 × 200 (the chapter's real run is checked by the notebook under nbval).
def _fit_head(model, x, y):
    with torch.no_grad():
        h = model.rnn(x)[0][:, -1]
        A = torch.cat([h, torch.ones(len(h), 1)], 1).double()
        sol = torch.linalg.lstsq(A, y.double()[:, None]).solution[:, 0].float()
        model.head.weight.copy_(sol[:-1][None])
        model.head.bias.copy_(sol[-1:])
    return model


@pytest.fixture(scope="module")
def small_model():
    """A GRU adding model whose head is fitted to its own h_T on training sequences: a low test
    MSE that moving the update gate clearly destroys, as in the trained model of the notebook."""
    set_seed(0)
    return _fit_head(AddingModel("gru", 16), *adding_problem(2000, 10, seed=99))


@pytest.fixture
def fitted(small_model, monkeypatch):
    monkeypatch.setattr(ch06, "chapter_model", lambda: small_model)
    monkeypatch.setattr(ch06, "GATE_SHIFT_T", 10)
    monkeypatch.setattr(ch06, "GATE_SHIFT_N", 200)
    x, y, _ = ch06.gate_shift_inputs(0)
    return small_model, (x, y)


def _measure(model, data, deltas, **kw):
    return {d: ch06.gate_shift_mse(model, d, data, **kw) for d in deltas}


def _untrained():
    set_seed(3)
    return AddingModel("gru", 16)


def _shift_cases(model, data):
    right = _measure(model, data, (-4, 0, 4))
    both = _measure(model, data, (-4, 0, 4), both=True)
    block_r = _measure(model, data, (-4, 0, 4), block=0)
    block_n = _measure(model, data, (-4, 0, 4), block=2)
    set_seed(5)
    test_fitted = _fit_head(AddingModel("gru", 16), *data)                # a model fitted on the test set
    return [
        (right, True, "你的测量", ()),
        (_measure(model, data, (-4, -2, 0, 2, 4)), True, "你的测量", ()),
        ({d: float(f"{m:.4f}") for d, m in right.items()}, True, "你的测量", ()),   # typed as printed
        ({np.float32(d): np.float32(v) for d, v in right.items()}, True, "你的测量", ()),
        ({torch.tensor(float(d)): torch.tensor(v) for d, v in right.items()}, True, "你的测量", ()),
        ({str(d): v for d, v in right.items()}, True, "你的测量", ()),
        (both, False, "2Δ", ()),
        (block_r, False, "重置门 r", ()),
        (block_n, False, "候选 n", ()),
        ({**right, 4: right[4] * 1.5}, False, "偏大", ()),
        ({**right, 4: right[4] * 1.001 + 2e-4}, False, "不一致", ()),
        ({**right, 0: right[0] * 0.5}, False, "偏小", ()),
        (_measure(_untrained(), data, (-4, 0, 4)), False, "不一致", ()),          # an untrained model
        (_measure(test_fitted, data, (-4, 0, 4)), False, "不一致", ()),           # fitted on the test set
        ({-4: 0.9, 0: 0.001, 4: 0.5}, False, "不一致", ()),                        # made up, self-consistent
        ({-4: right[-4], 4: right[4]}, False, "至少要测", ()),
        ({0: right[0], 2: 1.0, 4: right[4]}, False, "至少要测", ()),
        (_measure(model, data, (-3, 0, 3)), False, "至少要测", ()),
        ({**right, 4: math.nan}, False, "有限", ()),
        ({**right, "四": 1.0}, False, "键", ()),
        ({float(i): 0.1 for i in range(10 ** 4)}, False, "太多", ()),
        ({}, False, "字典", ()),
        ([right[-4], right[0], right[4]], False, "字典", ()),
        (0.3, False, "字典", ()),
        (None, False, "未作答", ()),
    ]


def test_gate_shift_table(fitted, capsys):
    model, data = fitted
    for answer, accepted, must, must_not in _shift_cases(model, data):
        ok, out = _run(ch06.check_gate_shift, answer, model, data, capsys=capsys)
        assert ok is accepted and must in out, (answer, out)
        assert not any(text in out for text in must_not), out
        assert len(out) < 1000


def test_gate_shift_messages_hand_back_nothing(fitted, capsys):
    """No number of a failure message, handed back as a measurement, passes."""
    model, data = fitted
    right = _measure(model, data, (-4, 0, 4))
    for answer, accepted, *_ in _shift_cases(model, data):
        if accepted or not isinstance(answer, dict) or set(answer) != {-4, 0, 4}:
            continue
        out = _run(ch06.check_gate_shift, answer, model, data, capsys=capsys)[1]
        for x in _numbers(out):
            for d in (-4, 0, 4):
                assert abs(x - right[d]) > ch06.MSE_ABS_TOL or x in (-4, 0, 4), out


def test_gate_shift_does_not_trust_the_model_or_data_it_is_handed(fitted, capsys):
    model, data = fitted
    right = _measure(model, data, (-4, 0, 4))
    other = _untrained()
    ok, out = _run(ch06.check_gate_shift, _measure(other, data, (-4, 0, 4)), other, data, capsys=capsys)
    assert not ok and "不是第 4 节训练好的 GRU" in out
    shifted_in_place = copy.deepcopy(model)
    with torch.no_grad():
        shifted_in_place.rnn.bias_hh_l0[16:32] += 4
    ok, out = _run(ch06.check_gate_shift, right, shifted_in_place, data, capsys=capsys)
    assert not ok and "副本" in out
    ok, out = _run(ch06.check_gate_shift, right, model, (data[0][:50], data[1][:50]), capsys=capsys)
    assert not ok and "data 不是" in out
    assert _run(ch06.check_gate_shift, right, None, None, capsys=capsys)[0]      # model and data are optional


def test_gate_shift_reads_back_the_students_numbers(fitted, capsys):
    model, data = fitted
    right = _measure(model, data, (-4, 0, 4))
    ok, out = _run(ch06.check_gate_shift, right, model, data, capsys=capsys)
    assert ok and f"{right[0]:.4f}" in out and f"{right[4]:.4f}" in out


def test_gate_shift_bar_needs_a_visible_effect(fitted, monkeypatch, capsys):
    model, data = fitted
    monkeypatch.setattr(ch06, "gate_shift_inputs", lambda v=None: (data[0], data[1], (-0.01, 0.0, 0.01)))
    ok, out = _run(ch06.check_gate_shift, _measure(model, data, (-0.01, 0, 0.01)), model, data, capsys=capsys)
    assert not ok and "看不出效果" in out


@pytest.mark.parametrize("v", VARIANTS)
def test_gate_shift_reference_passes_every_variant(v, fitted, capsys):
    model, _ = fitted
    x, y, deltas = ch06.gate_shift_inputs(v)
    answer = _measure(model, (x, y), deltas)
    assert _run(ch06.check_gate_shift, answer, model, (x, y), capsys=capsys, v=v)[0]
    if v:                                            # a classmate's (variant v + 1) correct numbers fail
        xc, yc, dc = ch06.gate_shift_inputs(v + 1)
        theirs = _measure(model, (xc, yc), dc)
        assert not _run(ch06.check_gate_shift, theirs, model, (x, y), capsys=capsys, v=v)[0]


def test_gate_shift_variants_differ():
    a, b = ch06.gate_shift_inputs(1), ch06.gate_shift_inputs(2)
    assert not torch.equal(a[0], b[0])
    assert len({ch06.gate_shift_inputs(v)[2] for v in range(1, 30)}) > 3


def test_gate_shift_never_changes_the_model(fitted):
    model, data = fitted
    before = {k: v.clone() for k, v in model.state_dict().items()}
    ch06.gate_shift_mse(model, 4.0, data, both=True)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_reference_functions_are_marked():
    for name in ("gru_step_reference", "_gru_variant", "gate_param_count", "param_count_slip",
                 "shift_update_gate", "gate_shift_mse"):
        assert getattr(getattr(ch06, name), "__seqcourse_reference__", False), name
    for name in ("gru_step_inputs", "param_case", "gate_shift_inputs", "chapter_model"):
        assert not getattr(getattr(ch06, name), "__seqcourse_reference__", False), name


def test_student_edition_checkers_say_graded_later(monkeypatch, capsys):
    from helpers.exercises._core import GRADED_LATER, GradedAtSubmission

    def gone(*a, **k):
        raise GradedAtSubmission()

    for name in ("gru_step_reference", "gate_param_count"):
        monkeypatch.setattr(ch06, name, gone)
    for checker, answer in ((ch06.check_gru_step, _gru()), (ch06.check_param_counts, RIGHT)):
        verdict = checker(answer)
        assert not verdict and GRADED_LATER in capsys.readouterr().out


# ----------------------------------------------------------------------------- no checker raises
ODD = [None, 0, -1, 1e308, math.inf, math.nan, "", "x", b"x", [], {}, (), [[1, 2]], object(), torch.zeros(0),
       np.zeros((2, 2)), torch.full((3, 5), math.nan), {1: 2}, {"lstm": None, "gru": None}, lambda: 0, print]


@pytest.mark.parametrize("answer", ODD, ids=range(len(ODD)))
def test_no_checker_raises(answer, fitted, capsys):
    model, data = fitted
    for call in (lambda: ch06.check_gru_step(answer), lambda: ch06.check_param_counts(answer),
                 lambda: ch06.check_gate_shift(answer, model, data)):
        verdict = call()
        assert isinstance(verdict, Verdict) and not verdict
        assert capsys.readouterr().out.strip()            # always says something


# ----------------------------------------------------------------------------- what the class sees
OWN = ("一致", "用反了", "放错了", "不乘输入部分", "漏了", "第一块", "要用", "两处不同", "全是 0", "就是 h",
       "数值不对", "少 1/4", "对调", "只算了一块", "块数不对", "输出层", "2Δ", "重置门 r", "候选 n", "不一致",
       "至少要测", "看不出效果", "你的测量")


def test_fit_breaks_only_after_punctuation_and_keeps_every_character():
    message = "Δ = -4：你报告 MSE 0.3073，同一个模型重算得到 0.3074。" * 4
    text = ch06.fit(message)
    assert text.replace("\n", "") == message
    assert all(ch06.width(line) <= ch06.LINE_WIDTH for line in text.splitlines())
    assert all(line[-1] in "，；。：" for line in text.splitlines()[:-1])


def test_own_verdicts_fit_a_projected_line_and_hold_no_emoji(fitted, capsys):
    model, data = fitted
    calls = [(ch06.check_gru_step, (a,)) for a, *_ in GRU_STEP_CASES]
    calls += [(ch06.check_param_counts, (a,)) for a, *_ in PARAM_CASES]
    calls += [(ch06.check_gate_shift, (a, model, data)) for a, *_ in _shift_cases(model, data)]
    for checker, args in calls:
        checker(*args)
        out = capsys.readouterr().out
        assert not any(ord(ch) > 0x2FFFF or 0x1F000 <= ord(ch) <= 0x1FAFF or 0x2600 <= ord(ch) <= 0x27BF
                       for ch in out), out
        if any(text in out for text in OWN):
            for line in out.splitlines():
                assert ch06.width(line) <= ch06.LINE_WIDTH + ch06.width("【不对】 "), line


def test_every_variant_keeps_the_param_slips_apart():
    """Exhaustive over all variants: every named slip gives its own number, none the right one."""
    from helpers.exercises._core import VARIANTS as ALL_VARIANTS

    for v in range(ALL_VARIANTS + 1):
        I_, H_ = ch06.param_case(v)
        for G in (3, 4):
            right = ch06.gate_param_count(G, I_, H_)
            slips = [G * (H_ * I_ + H_ * H_ + H_), G * (H_ * I_ + H_ * H_), H_ * I_ + H_ * H_ + 2 * H_,
                     (7 - G) * (H_ * I_ + H_ * H_ + 2 * H_), right + H_ + 1]
            assert right not in slips and len(set(slips)) == len(slips), (v, G)


def test_input_makers_work_without_the_references(monkeypatch):
    from helpers.exercises._core import GradedAtSubmission

    def gone(*a, **k):
        raise GradedAtSubmission()

    for name in ("gru_step_reference", "_gru_variant", "gate_param_count", "param_count_slip",
                 "shift_update_gate", "gate_shift_mse"):
        monkeypatch.setattr(ch06, name, gone)
    for v in (0, 1, 2):
        ch06.gru_step_inputs(v), ch06.param_case(v), ch06.gate_shift_inputs(v)
