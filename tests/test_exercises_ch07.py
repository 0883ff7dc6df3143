"""Chapter 07 checkers: the right answer passes, each named mistake gets its own hint, nothing raises."""
import math

import numpy as np
import pytest
import torch

from helpers.exercises import ch07
from helpers.exercises._core import OK_MARK, TODO_MARK, WRONG_MARK


def run(capsys, fn, *args):
    v = fn(*args)
    return bool(v), capsys.readouterr().out


def good_attention(Q, K, V):
    return torch.softmax(Q @ K.T / Q.shape[-1] ** 0.5, dim=-1) @ V


@pytest.mark.parametrize("fn, ok, hint", [
    (good_attention, True, OK_MARK),
    (lambda Q, K, V: (torch.softmax(Q.float() @ K.float().T / Q.shape[-1] ** 0.5, -1) @ V.float()), True, OK_MARK),
    (lambda Q, K, V: torch.softmax(Q @ K.T, dim=-1) @ V, False, "忘了除以 √d"),
    (lambda Q, K, V: torch.softmax(Q @ K.T / Q.shape[-1] ** 0.5, dim=0) @ V, False, "softmax 做错了维度"),
    (lambda Q, K, V: (Q @ K.T / Q.shape[-1] ** 0.5) @ V, False, "忘了 softmax"),
    (lambda Q, K, V: Q @ K.T, False, "形状"),
    (lambda Q, K, V: None, False, "没有返回值"),
    (lambda Q, K: None, False, "参数不对"),
    (lambda Q, K, V: 1 / 0, False, "ZeroDivisionError"),
    (None, False, TODO_MARK),
    ("text", False, "函数"),
])
def test_check_attention(capsys, fn, ok, hint):
    result, out = run(capsys, ch07.check_attention, fn)
    assert result is ok and hint in out


@pytest.mark.parametrize("fn, ok, hint", [
    (lambda T: torch.ones(T, T, dtype=torch.bool).triu(1), True, OK_MARK),
    (lambda T: torch.ones(T, T).triu(1), False, "布尔张量"),
    (lambda T: torch.nn.Transformer.generate_square_subsequent_mask(T), False, "浮点版本"),
    (lambda T: torch.ones(T, T, dtype=torch.bool).tril(), False, "True = 允许看"),
    (lambda T: torch.ones(T, T, dtype=torch.bool).triu(0), False, "对角线也被遮住"),
    (lambda T: torch.ones(T, T, dtype=torch.bool).tril(-1), False, "遮住的是过去"),
    (lambda T: torch.zeros(T, T, dtype=torch.bool), False, "对角线以上"),
    (lambda T: np.triu(np.ones((T, T), bool), 1), False, "torch.Tensor"),
    (lambda T: torch.ones(T, dtype=torch.bool), False, "形状应是"),
    (None, False, TODO_MARK),
])
def test_check_causal_mask(capsys, fn, ok, hint):
    result, out = run(capsys, ch07.check_causal_mask, fn)
    assert result is ok and hint in out


V_DEMO = torch.tensor([[1.0, 0.0, 2.0], [3.0, 1.0, 0.0], [0.0, 2.0, 2.0], [4.0, 1.0, 0.0]])


@pytest.mark.parametrize("answer, ok, hint", [
    (V_DEMO.mean(0), True, OK_MARK),
    ([2.0, 1.0, 1.0], True, OK_MARK),
    (np.array([2.0, 1.0, 1.0], dtype=np.float32), True, OK_MARK),
    (V_DEMO.sum(0), False, "这是和"),
    (torch.zeros(3), False, "分数为 0 不等于权重为 0"),
    (V_DEMO[1], False, "只挑一个位置"),
    ([1.0, 1.0, 1.0], False, "平均"),
    ([1.0, 2.0], False, "形状"),
    ("平均", False, WRONG_MARK),
    (None, False, TODO_MARK),
])
def test_check_equal_scores(capsys, answer, ok, hint):
    result, out = run(capsys, ch07.check_equal_scores, answer, V_DEMO)
    assert result is ok and hint in out


@pytest.fixture(scope="module")
def fake_models():
    """Stand-ins for the trained models: translate() is patched by monkeypatching _long_accuracies."""
    return {"无注意力": None, "有注意力": None}


@pytest.mark.parametrize("answer, ok, hint", [
    ((0.03, 0.97), True, OK_MARK),
    ([0.1, 0.9], True, OK_MARK),
    ((np.float32(0.05), torch.tensor(0.95)), True, OK_MARK),
    ((0.97, 0.03), False, "顺序反了"),
    ((3, 97), False, "不是百分数"),
    ((0.5, 0.5), False, "相差超过"),
    ((0.3, 0.96), False, "无注意力的正确率比检查器测到的高了 0.1 以上"),
    ((0.04, 0.5), False, "有注意力的正确率比检查器测到的低了 0.1 以上"),
    ((-0.1, 0.9), False, "负数"),
    (0.97, False, "元组"),
    (("a", 0.9), False, WRONG_MARK),
    (None, False, TODO_MARK),
])
def test_check_long_numbers(capsys, monkeypatch, fake_models, answer, ok, hint):
    monkeypatch.setattr(ch07, "_long_accuracies", lambda *a, **k: (0.04, 0.96))
    result, out = run(capsys, ch07.check_long_numbers, answer, fake_models, None, None)
    assert result is ok and hint in out


@pytest.mark.parametrize("answer", [(0.5, 0.5), (0.9, 0.1), (0.0, 0.0), (1.0, 1.0), (0.3, 0.877), (0.123, 0.6)])
def test_check_long_numbers_never_reveals_its_own_numbers(capsys, monkeypatch, fake_models, answer):
    """A failing answer learns the direction of its error, not the checker's numbers (graded homework)."""
    monkeypatch.setattr(ch07, "_long_accuracies", lambda *a, **k: (0.123, 0.877))
    result, out = run(capsys, ch07.check_long_numbers, answer, fake_models, None, None)
    assert not result and WRONG_MARK in out
    assert "0.12" not in out and "0.88" not in out and "0.87" not in out, out


def test_check_long_numbers_checks_the_conclusion(capsys, monkeypatch, fake_models):
    """Numbers that agree with the checker but do not show attention far ahead are not a pass."""
    monkeypatch.setattr(ch07, "_long_accuracies", lambda *a, **k: (0.35, 0.75))
    result, out = run(capsys, ch07.check_long_numbers, (0.35, 0.75), fake_models, None, None)
    assert not result and "不支持 §1 的结论" in out


def test_check_long_numbers_runs_the_real_experiment(capsys):
    """End to end with tiny untrained models: the checker translates its own 12-digit numbers; both
    read nothing right, so (0, 0) agrees with it but does not support the conclusion."""
    from helpers import seq2seq as s2s
    torch.manual_seed(0)
    pairs = s2s.numeral_pairs_by_length(3, range(1, 13))
    sv, tv = s2s.make_vocab([a for a, _ in pairs]), s2s.make_vocab([b for _, b in pairs])
    models = {"无注意力": s2s.Seq2Seq(len(sv), len(tv), 4, 8), "有注意力": s2s.AttentionSeq2Seq(len(sv), len(tv), 4, 8)}
    result, out = run(capsys, ch07.check_long_numbers, (0.0, 0.0), models, sv, tv)
    assert not result and "不支持 §1 的结论" in out
    result, out = run(capsys, ch07.check_long_numbers, (0.5, 0.0), models, sv, tv)
    assert not result and "无注意力的正确率比检查器测到的高" in out
