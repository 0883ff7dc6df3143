"""Chapter 03 exercise checkers, table-driven: what students write, the verdict, and the hint
that must (or must not) appear. No checker may raise, whatever it is given."""
import numpy as np
import pytest
import torch

from helpers import segmentation
from helpers.exercises import ch03

from exercise_table import run_checker


_run = run_checker      # (capsys, checker, *args) -> (bool, printed text); the checker returns a Verdict


RIGHT = sum(p.numel() for p in torch.nn.RNN(10, 20, num_layers=2, bidirectional=True).parameters())


# ----------------------------------------------------------------------------- exercise 1
PARAM_TABLE = [
    (RIGHT, True, str(RIGHT)),
    (float(RIGHT), True, str(RIGHT)),
    (RIGHT - 1e-9, True, str(RIGHT)),                                   # a whole number within rounding
    (np.int64(RIGHT), True, str(RIGHT)),
    (np.float32(RIGHT), True, str(RIGHT)),
    (torch.tensor(RIGHT), True, str(RIGHT)),
    (f" {RIGHT} ", True, str(RIGHT)),
    (RIGHT + 0.5, False, "不是整数"),
    (ch03.rnn_param_count(10, 20, 2, False), False, "两套"),
    (RIGHT - 2 * 2 * 20, False, "b_hh"),
    (2 * 2 * (20 * 10 + 400 + 40), False, "2×hidden_size"),
    (ch03.rnn_param_count(10, 20, 1, True), False, "第 2 层"),
    (7, False, "逐层"),
    ("1", False, "应为"),
    ("many", False, "应是一个数"),
    (float("inf"), False, "有限"),
    (float("nan"), False, "有限"),
    (10**400, False, "应为"),
    ([RIGHT], False, "应是一个数"),
    (True, False, "应是一个数"),
    (None, False, "未作答"),
]


@pytest.mark.parametrize("answer, ok, hint", PARAM_TABLE)
def test_param_count_table(capsys, answer, ok, hint):
    got, out = _run(capsys, ch03.check_param_count, answer)
    assert got is ok and hint in out, out


def test_param_count_formula():
    for args in [(10, 20, 2, True), (3, 5, 1, False), (4, 6, 3, True)]:
        I, H, L, bi = args
        rnn = torch.nn.RNN(I, H, num_layers=L, bidirectional=bi)
        assert ch03.rnn_param_count(*args) == sum(p.numel() for p in rnn.parameters())


# ----------------------------------------------------------------------------- exercise 2
def _buffer32(x, h, U, W, b):
    out = torch.zeros(x.shape[0], W.shape[0])                          # float32 output buffer
    out[:] = torch.tanh(x @ U.T + h @ W.T + b)
    return out


def _in_place(x, h, U, W, b):
    h.copy_(torch.tanh(x @ U.T + h @ W.T + b))                          # overwrites its input
    return h


def _cells(x, h, U, W, b):
    cell = torch.nn.RNNCell(U.shape[1], U.shape[0])
    with torch.no_grad():
        cell.weight_ih.copy_(U)
        cell.weight_hh.copy_(W)
        cell.bias_ih.copy_(b)
        cell.bias_hh.zero_()
    return cell(x.float(), h.float()).detach()


STEP_TABLE = [
    (lambda x, h, U, W, b: torch.tanh(x @ U.T + h @ W.T + b), True, "一致"),
    (lambda x, h, U, W, b: torch.tanh(x.float() @ U.float().T + h.float() @ W.float().T + b.float()), True, "一致"),
    (_buffer32, True, "一致"),
    (_in_place, True, "一致"),
    (_cells, True, "一致"),
    (lambda x, h, U, W, b: np.tanh(x.numpy() @ U.numpy().T + h.numpy() @ W.numpy().T + b.numpy()), True, "一致"),
    (lambda x, h, U, W, b: torch.tanh(x @ U.T + h @ W.T + b).tolist(), True, "一致"),
    (lambda x, h, U, W, b: x @ U.T + h @ W.T + b, False, "激活"),
    (lambda x, h, U, W, b: torch.tanh(x @ U.T + h @ W + b), False, "W 用反"),
    (lambda x, h, U, W, b: torch.tanh(x @ U.T + h @ W.T), False, "偏置"),
    (lambda x, h, U, W, b: torch.tanh(x @ U.T + b), False, "循环项"),
    (lambda x, h, U, W, b: torch.sigmoid(x @ U.T + h @ W.T + b), False, "sigmoid"),
    (lambda x, h, U, W, b: torch.tanh(x @ U.T + h @ W.T + b) + 1e-3, False, "数值不对"),
    (lambda x, h, U, W, b: U @ x, False, "运行出错"),
    (lambda x, h, U, W, b: h[:, :3], False, "形状"),
    (lambda x, h, U, W, b: torch.full_like(h, float("inf")), False, "inf"),
    (lambda x, h, U, W, b: torch.full_like(h, float("nan")), False, "NaN"),
    (lambda x, h, U, W, b: "h", False, "str"),
    (lambda x, h, U, W, b: None, False, "没有返回值"),
    (lambda x, h: h, False, "参数不对"),
    (3, False, "函数"),
    (None, False, "未作答"),
]


@pytest.mark.parametrize("fn, ok, hint", STEP_TABLE)
def test_rnn_step_table(capsys, fn, ok, hint):
    got, out = _run(capsys, ch03.check_rnn_step, fn)
    assert got is ok and hint in out, out


# ----------------------------------------------------------------------------- exercise 3
BMES_TABLE = [
    ("BESBMMEBME", True, "BESBMMEBME"),
    ("BESBMMEBME\n", True, "BESBMMEBME"),                               # trailing newline
    ("  BESBMMEBME ", True, "BESBMMEBME"),
    ("BE S BMME BME", True, "BESBMMEBME"),
    (np.str_("BESBMMEBME"), True, "BESBMMEBME"),
    ("besbmmebme", False, "大写"),
    ("BES", False, "每个字"),
    ("BEBBMMEBME", False, "单字"),                                       # 是 tagged B
    ("BESBMMEBMS", False, "最后一个字"),
    ("BMSBMMEBME", False, "多字词"),
    ("BESBBMEBME", False, "中间"),                                       # 产 should be M
    ("BEXBMMEBME", False, "只能用"),
    (list("BESBMMEBME"), False, "字符串"),
    (5, False, "字符串"),
    (None, False, "未作答"),
]


@pytest.mark.parametrize("answer, ok, hint", BMES_TABLE)
def test_bmes_table(capsys, answer, ok, hint):
    got, out = _run(capsys, ch03.check_bmes, answer)
    assert got is ok and hint in out, out


def test_bmes_m_is_not_told_b_or_e(capsys):
    # 是 (a one-character word) tagged M: the hint names S, not "B 或 E"
    got, out = _run(capsys, ch03.check_bmes, "BEMBMMEBME")
    assert not got and "应是 S" in out and "你写了 M" in out and "B 或 E" not in out


def test_bmes_does_not_give_the_whole_answer_away(capsys):
    got, out = _run(capsys, ch03.check_bmes, "BEBBMMEBME")
    assert not got and "BESBMMEBME" not in out


# ----------------------------------------------------------------------------- exercise 4 (experiment)
def _tagger(hidden, bidirectional=True, num_layers=1):
    return segmentation.RNNTagger(10, embed_dim=4, hidden_size=hidden, bidirectional=bidirectional,
                                  num_layers=num_layers)


FULL = _tagger(64)
F1 = {}


@pytest.fixture
def scored(monkeypatch):
    """Score models by a table instead of segmenting (the checker's re-scoring is what is tested)."""
    monkeypatch.setattr(segmentation, "segment", lambda model, texts, vocab, length=64: [id(model)])
    monkeypatch.setattr(segmentation, "word_prf", lambda gold, pred: {"f1": F1[pred[0]]})

    def score(model, f1):
        F1[id(model)] = f1
        return model
    F1.clear()
    score(FULL, 0.86)
    return score


def _half(score, f1=0.855, **kw):
    return score(_tagger(32, **kw), f1)


@pytest.mark.parametrize("make, change, ok, hint", [
    (lambda s: _half(s), -0.005, True, "F1 只变了"),
    (lambda s: _half(s), np.float32(-0.005), True, "F1 只变了"),
    (lambda s: _half(s), torch.tensor(-0.005), True, "F1 只变了"),
    (lambda s: _half(s), "-0.005", True, "F1 只变了"),
    (lambda s: _half(s, 0.87), 0.01, True, "F1 只变了"),
    (lambda s: _half(s), 0.005, False, "符号反了"),
    (lambda s: _half(s), -0.5, False, "百分点"),
    (lambda s: _half(s), 0.855, False, "F1 本身"),
    (lambda s: _half(s), -0.05, False, "重新评估"),
    (lambda s: _half(s, 0.30), -0.56, False, "没训练好"),
    (lambda s: _half(s, 0.80), -0.06, False, "合理范围"),
    (lambda s: s(_tagger(48), 0.85), -0.01, False, "减半为 32"),
    (lambda s: s(_tagger(64), 0.86), 0.0, False, "减半为 32"),
    (lambda s: _half(s, bidirectional=False), -0.03, False, "方向数"),
    (lambda s: _half(s, num_layers=2), -0.005, False, "层数"),
    (lambda s: "model", -0.005, False, "RNNTagger"),
    (lambda s: torch.nn.Linear(2, 2), -0.005, False, "RNNTagger"),
    (lambda s: _half(s), None, False, "未作答"),
    (lambda s: _half(s), "a bit", False, "应是一个数"),
    (lambda s: _half(s), float("nan"), False, "有限"),
    (lambda s: _half(s), float("inf"), False, "有限"),
    (lambda s: None, -0.005, False, "未作答"),
])
def test_half_hidden_table(capsys, scored, make, change, ok, hint):
    model = make(scored)
    got, out = _run(capsys, ch03.check_half_hidden, model, change, FULL, ["文本"], [["文本"]], None)
    assert got is ok and hint in out, out


def test_half_hidden_reports_the_re_scored_numbers(capsys, scored):
    got, out = _run(capsys, ch03.check_half_hidden, _half(scored), -0.005, FULL, ["文本"], [["文本"]], None)
    assert got and "0.8600" in out and "0.8550" in out and "-0.0050" in out


def test_half_hidden_on_real_models(capsys):
    """No monkeypatching: two tiny untrained taggers on a real paragraph; the checker runs end to end."""
    from helpers.vocab import Vocab
    text = "我们是共产主义接班人"
    vocab = Vocab([text])
    full = segmentation.RNNTagger(len(vocab), embed_dim=4, hidden_size=8, bidirectional=True)
    half = segmentation.RNNTagger(len(vocab), embed_dim=4, hidden_size=4, bidirectional=True)
    gold = [["我们", "是", "共产主义", "接班人"]]
    f1 = [segmentation.word_prf(gold, segmentation.segment(m, [text], vocab))["f1"] for m in (full, half)]
    got, out = _run(capsys, ch03.check_half_hidden, half, f1[1] - f1[0], full, [text], gold, vocab)
    assert ("【正确】" in out or "【不对】" in out) and "F1：原模型" in out


def test_checkers_never_raise_on_strange_answers(capsys):
    strange = [float("inf"), float("nan"), 10**400, object(), np.float32(1), {"a": 1}, [None], b"x", torch.ones(3)]
    for answer in strange:
        for check in (ch03.check_param_count, ch03.check_rnn_step, ch03.check_bmes):
            assert not check(answer)
        assert not ch03.check_half_hidden(answer, answer, FULL, ["文本"], [["文本"]], None)
    capsys.readouterr()
