"""Every checker reports (never raises) on an unanswered, non-callable, failing or non-integer answer."""
import pytest

from helpers.exercises import ch01, ch02, ch03, ch04, ch05, ch06
from helpers.exercises._core import as_int, run_student

FUNCTION_CHECKERS = [ch03.check_rnn_step, ch04.check_delta_step, ch05.check_lstm_step,
                     ch05.check_direct_path, ch06.check_gru_step]


def test_as_int_and_run_student(capsys):
    assert as_int("12") == 12 and as_int("twelve") is None
    assert "答案应是一个整数，得到的是 'twelve'" in capsys.readouterr().out
    assert run_student(lambda a, b: a + b, (1, 2), "fn(a, b)", "") == (True, 3)
    assert run_student(42, (), "fn()", "") == (False, None)
    assert "请传入一个函数 fn()，而不是 int" in capsys.readouterr().out
    assert run_student(lambda: 1 / 0, (), "fn()", "提示。") == (False, None)
    assert "运行出错：ZeroDivisionError" in capsys.readouterr().out


@pytest.mark.parametrize("check", FUNCTION_CHECKERS, ids=lambda f: f.__name__)
def test_function_checkers_report_bad_answers(check, capsys):
    assert check(None) is False and "还没有作答" in capsys.readouterr().out
    assert check("not a function") is False and "请传入一个函数" in capsys.readouterr().out

    def broken(*args):
        raise RuntimeError("boom")
    assert check(broken) is False and "运行出错：RuntimeError: boom" in capsys.readouterr().out


def test_integer_checkers_report_non_integers(capsys):
    assert ch01.check_window_count("many", T=100, input_len=24, horizon=12) is False
    assert ch02.check_embedding_parameters([1], num_embeddings=10, embedding_dim=3) is False
    assert capsys.readouterr().out.count("答案应是一个整数") == 2
