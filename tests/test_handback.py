"""The hand-back guard itself (tests/handback.py): it catches a checker that leaks, lets an honest
one through, and is installed on every checker of helpers.exercises."""
import inspect

import numpy as np
import pytest
import torch

import handback
from conftest import HANDBACK_WRAPPED
from helpers.exercises._core import checker, verdict


@checker
def _leaky_number(answer):
    return verdict(answer == 42, "差一点：正确答案是 42。")


@checker
def _leaky_percent(answer):
    return verdict(abs(answer - 0.375) < 1e-9, "应是 37.5%。")


@checker
def _leaky_dict(answer):
    return verdict(answer.get("loss") == 1.25 and answer.get("reason") == "A", f"重算的损失是 1.25，你的是 {answer.get('loss')}")


@checker
def _leaky_tensor(answer):
    right = torch.tensor([[1.5, -2.0], [0.25, 3.0]])
    return verdict(torch.allclose(torch.as_tensor(answer, dtype=torch.float32), right),
                   f"应得到 {right.flatten().tolist()}")


@checker
def _honest(answer):
    return verdict(answer == 42, f"不对：你的 {answer} 偏{'小' if answer < 42 else '大'}。")


@pytest.mark.parametrize("leaky, wrong", [(_leaky_number, 41), (_leaky_percent, 0.5),
                                          (_leaky_dict, {"loss": 2.0, "reason": "A"}),
                                          (_leaky_tensor, torch.zeros(2, 2)), (_leaky_tensor, np.zeros((2, 2)))])
def test_the_guard_catches_a_message_that_hands_back_a_pass(leaky, wrong, capsys):
    with pytest.raises(handback.HandBack, match="hands back"):
        handback.probe(leaky)(wrong)


def test_the_guard_lets_an_honest_checker_through(capsys):
    guarded = handback.probe(_honest)
    assert not guarded(41) and guarded(42)
    assert "偏小" in capsys.readouterr().out          # the student still sees the message


def test_a_wrong_reason_with_the_right_number_is_not_a_hand_back(capsys):
    assert not handback.probe(_leaky_dict)({"loss": 1.25, "reason": "B"})


def test_the_guard_catches_a_message_that_quotes_reference_code(capsys):
    from helpers.exercises import ch04

    line = sorted(handback.reference_lines())[0]

    @checker
    def quoting(fn):
        return verdict(False, f"参考实现是：{line}")

    with pytest.raises(handback.HandBack, match="quotes reference code"):
        handback.probe(quoting)(lambda x: x)
    assert any("delta_next @ W" in x for x in handback.reference_lines()), "ch04's delta_step body is missing"
    assert ch04.delta_step.__seqcourse_reference__


def test_a_real_checkers_printed_numbers_are_handed_back(capsys):
    """Through the installed guard: a real checker's message with numbers is probed."""
    from helpers.exercises import ch04

    before = dict(handback.TRIED)
    answer = {"scale": 1.5, "T": 2.5, "grad_norm": 1e-30, "reason": "A"}
    assert not ch04.check_vanish_experiment(answer)
    assert "2.5" in capsys.readouterr().out
    assert handback.TRIED["messages"] == before["messages"] + 1
    assert handback.TRIED["answers"] >= before["answers"] + 3 * 3     # 1, 1000, 2.5 in scale, T, grad_norm


def test_every_checker_is_guarded():
    import importlib
    import pkgutil

    import helpers.exercises as pkg

    found = []
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"helpers.exercises.{info.name}")
        for name, fn in inspect.getmembers(module, callable):
            if name.startswith("check_") and fn.__module__ == module.__name__:
                assert getattr(fn, "__handback_probe__", False), f"{info.name}.{name} is not guarded"
                found.append(name)
    assert len(found) == len(HANDBACK_WRAPPED) >= 40, (len(found), len(HANDBACK_WRAPPED))
