"""The shared answer reading of helpers/exercises/_core.py, table-driven: what students write."""
import numpy as np
import pytest
import torch

from helpers.exercises import _core
from helpers.exercises._core import (Verdict, checker, close, read_bool, read_bools, read_int, read_number,
                                     read_tensor, read_text, run_student, verdict)


def test_verdict_is_bool_like_and_shows_nothing(capsys):
    v = verdict(False, "x")
    assert not v and v == False and isinstance(v, Verdict)  # noqa: E712
    assert verdict(True) and verdict(True) == True  # noqa: E712
    assert v._ipython_display_() is None
    out = capsys.readouterr().out
    assert "【不对】 x" in out and "【正确】" in out
    for mark in "✅❌⏳":
        assert mark not in out


@pytest.mark.parametrize("answer, expected", [
    (12, 12), (12.0, 12), (np.int64(12), 12), (np.float32(12.0), 12), (torch.tensor(12), 12),
    (np.array(12.0), 12), (" 12 ", 12), (1278.999999999, 1279), (10**30, 10**30),
])
def test_read_int_accepts(answer, expected):
    assert read_int(answer) == expected


@pytest.mark.parametrize("answer, message", [
    (1279.5, "不是整数"), ("twelve", "应是一个数"), (None, "应是一个数"), (True, "应是一个数"),
    (float("inf"), "有限"), (float("nan"), "有限"), ([12], "应是一个数"), (torch.ones(2), "应是一个数"),
    (-float("inf"), "有限"),
])
def test_read_int_rejects_with_a_reason(answer, message, capsys):
    assert read_int(answer) is None
    assert message in capsys.readouterr().out


@pytest.mark.parametrize("answer, expected", [
    (0.5, 0.5), (np.float64(0.25), 0.25), (torch.tensor(0.5, dtype=torch.float32), 0.5), ("3e-2", 0.03)])
def test_read_number(answer, expected):
    assert read_number(answer) == pytest.approx(expected)


def test_read_bool_and_bools(capsys):
    assert read_bool(np.bool_(True)) is True and read_bool(torch.tensor(False)) is False and read_bool(1) is True
    assert read_bool("yes") is None and "True 或 False" in capsys.readouterr().out
    assert read_bools([True, np.bool_(False), 1], 3) == [True, False, True]
    assert read_bools(np.array([True, False]), 2) == [True, False]
    assert read_bools([True], 3) is None and "应有 3 项" in capsys.readouterr().out
    assert read_bools([True, "x"], 2) is None and "第 2 项" in capsys.readouterr().out
    assert read_bools(True, 2) is None


def test_read_text():
    assert read_text("BMES\n") == "BMES" and read_text(np.str_(" a ")) == "a" and read_text(3) is None


@pytest.mark.parametrize("answer", [
    torch.ones(4, 5), torch.ones(4, 5, dtype=torch.float64), np.ones((4, 5)), np.ones((4, 5), np.float32),
    [[1.0] * 5] * 4, torch.ones(4, 5, requires_grad=True) * 1, torch.ones(4, 5, dtype=torch.int64)])
def test_read_tensor_accepts_what_students_write(answer):
    out = read_tensor(answer, (4, 5))
    assert out.dtype == torch.float64 and out.shape == (4, 5)


@pytest.mark.parametrize("answer, message", [
    (np.ones((5, 4)), "得到形状 (5, 4)"), ("abc", "得到 str"), (torch.ones(4, 5, dtype=torch.bool), "bool"),
    (torch.full((4, 5), float("inf")), "inf"), (torch.full((4, 5), float("nan")), "NaN"), ({"a": 1}, "dict")])
def test_read_tensor_rejects_with_what_was_given(answer, message, capsys):
    assert read_tensor(answer, (4, 5)) is None
    out = capsys.readouterr().out
    assert message in out and ("(4, 5)" in out or message in ("inf", "NaN"))


def test_close_is_relative_and_dtype_aware():
    right = torch.randn(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 100
    assert close(right.float().double(), right, dtype=torch.float32)
    assert not close(right.float().double(), right, dtype=torch.float64)
    assert not close(right + 1, right, dtype=torch.float32)
    assert not close(torch.zeros(3), torch.zeros(4)) and not close(torch.tensor([float("nan")]), torch.zeros(1))
    assert close(torch.zeros(2), torch.zeros(2)) and close(1.0, 1.0 + 1e-12)
    assert not close("x", 1.0)


def test_run_student_copies_arguments_and_reports(capsys):
    x = torch.ones(3)

    def in_place(t):
        t *= 2
        return t
    ok, out = run_student(in_place, (x,), "fn(x)")
    assert ok and torch.equal(out, 2 * torch.ones(3)) and torch.equal(x, torch.ones(3))
    assert run_student(lambda a: None, (1,), "fn(a)") == (False, None)
    assert "没有返回值" in capsys.readouterr().out
    assert run_student(lambda a, b: a, (1,), "fn(a)") == (False, None)
    assert "参数不对" in capsys.readouterr().out
    assert run_student(42, (), "fn()") == (False, None)
    assert "请传入一个函数 fn()" in capsys.readouterr().out
    assert run_student(lambda: 1 / 0, (), "fn()", "提示。") == (False, None)
    assert "运行出错：ZeroDivisionError" in capsys.readouterr().out
    assert run_student(None, (), "fn()") == (False, None)
    assert "未作答" in capsys.readouterr().out


def test_checker_decorator_turns_surprises_into_verdicts(capsys):
    @checker
    def check(answer):
        return 1 / answer > 0

    assert not check(0) and "无法检查这个答案" in capsys.readouterr().out
    assert check(2) and isinstance(check(2), Verdict)
    assert _core.NOT_ANSWERED


# ----------------------------------------------------------------------------- measured (memo)
def _counted():
    from helpers.exercises._core import measured

    calls = []

    @measured
    def measure(model, x, v=None):
        calls.append(1)
        with torch.no_grad():
            return {"out": float(model(x).sum()), "v": v}

    return measure, calls


def test_measured_reuses_a_result_only_for_the_same_contents(monkeypatch):
    measure, calls = _counted()
    torch.manual_seed(0)
    model, x = torch.nn.Linear(3, 2), torch.randn(4, 3)
    first = measure(model, x)
    assert measure(model, x.clone()) == first and len(calls) == 1      # same model, equal data
    first["out"] = "changed by the caller"                             # each caller gets a copy
    assert measure(model, x)["out"] != "changed by the caller" and len(calls) == 1
    with torch.no_grad():                                              # retrained in place
        model.weight[0, 0] += 1e-6
    measure(model, x)
    assert len(calls) == 2
    other = torch.nn.Linear(3, 2)
    other.load_state_dict(model.state_dict())                          # another object, same contents
    measure(other, x)
    assert len(calls) == 2
    x2 = x.clone(); x2[0, 0] += 1
    measure(model, x2); measure(model, x, v=3)                         # other data, other argument
    assert len(calls) == 4
    monkeypatch.setenv("SEQHW_STUDENT", "someone")                     # another student's variant
    measure(model, x)
    monkeypatch.setenv("SEQCOURSE_SEED", "3")                          # another seed offset
    measure(model, x)
    assert len(calls) == 6


def test_measured_does_not_memoise_what_it_cannot_read_exactly():
    measure, calls = _counted()
    model, x = torch.nn.Linear(3, 2), torch.randn(4, 3)
    handle = model.register_forward_hook(lambda m, a, out: out * 0)
    assert measure(model, x)["out"] == 0 and measure(model, x)["out"] == 0
    handle.remove()
    assert measure(model, x)["out"] != 0 and len(calls) == 3
    model.forward = lambda inp: inp.sum(-1, keepdim=True)              # a forward patched on the object
    measure(model, x); measure(model, x)
    assert len(calls) == 5
    fn_arg = lambda: None                                              # a function argument
    measure(model, x, v=fn_arg); measure(model, x, v=fn_arg)
    assert len(calls) == 7


def test_measured_sees_a_changed_setting_and_the_chapters_arguments_have_a_key():
    """A setting that is not a tensor (GRUForecaster.residual, a submodule's training flag) is part
    of the key, and what the ch08 and ch09_2 checkers measure is memoised at all (no function or
    unreadable object among the arguments, which would silently turn the memo off)."""
    from helpers import lm
    from helpers import timeseries as ts
    from helpers.exercises._core import memo_key

    torch.manual_seed(0)
    detector = ts.GRUForecaster(hidden_size=4, n_out=1, residual=True).eval()
    series = np.linspace(0.0, 1.0, 50)
    scaler = ts.Standardizer(series[:30])
    key = memo_key((detector, series, 40, 14, scaler), {})
    assert key is not None
    detector.residual = False
    assert memo_key((detector, series, 40, 14, scaler), {}) not in (None, key)
    detector.residual = True
    next(iter(detector.children())).train()              # one submodule back in training mode
    assert memo_key((detector, series, 40, 14, scaler), {}) not in (None, key)
    model = lm.CharLSTM(30, 8, 8)
    x = torch.randint(0, 30, (4, 6))
    assert memo_key((model, x, x), {}) is not None
    assert memo_key((lm.GPT(30, d_model=8, num_heads=2, num_layers=1, max_len=8), x, x), {}) is not None
