"""Chapter 03 exercise checkers, table-driven: what students write, the verdict, and the hint
that must (or must not) appear; per-student variants; no failure message that hands back an
answer. No checker may raise, whatever it is given."""
import re

import numpy as np
import pytest
import torch

from helpers import segmentation
from helpers.exercises import ch03

from exercise_table import HOSTILE, run_checker


_run = run_checker      # (capsys, checker, *args) -> (bool, printed text); the checker returns a Verdict
VARIANTS = list(range(20))


def numbers_in(text):
    """Every number printed in a message (as the student would copy it)."""
    return [float(n) for n in re.findall(r"[-+]?\d+(?:\.\d+)?", text)]


# ----------------------------------------------------------------------------- exercise 1
RIGHT = sum(p.numel() for p in torch.nn.RNN(10, 20, num_layers=2, bidirectional=True).parameters())


def _torch_count(config):
    rnn = torch.nn.RNN(config["input_size"], config["hidden_size"], num_layers=config["num_layers"],
                       bidirectional=config["bidirectional"])
    return sum(p.numel() for p in rnn.parameters())


PARAM_TABLE = [
    (RIGHT, True, str(RIGHT)),
    (float(RIGHT), True, str(RIGHT)),
    (RIGHT - 1e-9, True, str(RIGHT)),                                   # a whole number within rounding
    (np.int64(RIGHT), True, str(RIGHT)),
    (np.float32(RIGHT), True, str(RIGHT)),
    (torch.tensor(RIGHT), True, str(RIGHT)),
    (f" {RIGHT} ", True, str(RIGHT)),
    (RIGHT + 0.5, False, "不是整数"),
    (1480, False, "两套"),                                             # one direction
    (RIGHT - 2 * 2 * 20, False, "b_hh"),                                # one bias per direction
    (2 * 2 * (20 * 10 + 400 + 40), False, "输入不是 x"),                 # layer 2 reads x (10 dims)
    (2 * (20 * 10 + 400 + 40) + 2 * (20 * 20 + 400 + 40), False, "两个方向拼接"),   # layer 2 reads 20 dims
    (2 * (20 * 10 + 400 + 40), False, "第 1 层"),
    (7, False, "逐层"),
    ("1", False, "逐层"),
    ("many", False, "应是一个数"),
    (float("inf"), False, "有限"),
    (float("nan"), False, "有限"),
    (10**400, False, "逐层"),
    ([RIGHT], False, "应是一个数"),
    (True, False, "应是一个数"),
    (None, False, "未作答"),
]


@pytest.mark.parametrize("answer, ok, hint", PARAM_TABLE)
def test_param_count_table(capsys, answer, ok, hint):
    got, out = _run(capsys, ch03.check_param_count, answer, 0)
    assert got is ok and hint in out, out


def test_param_count_formula_agrees_with_torch():
    for args in [(10, 20, 2, True), (3, 5, 1, False), (4, 6, 3, True)]:
        I, H, L, bi = args
        assert ch03.rnn_param_count(*args) == _torch_count(dict(input_size=I, hidden_size=H, num_layers=L,
                                                                 bidirectional=bi))


def test_param_count_variants(capsys):
    answers = {}
    for v in VARIANTS:
        config = ch03.param_count_inputs(v)
        right = _torch_count(config)
        assert _run(capsys, ch03.check_param_count, right, v)[0], v
        # every mistake a hint names is a different number, none the right one: the hint is the right one
        mistakes = ch03.param_count_mistakes(**config)
        assert len(mistakes) == 5 and right not in mistakes, (v, config)
        answers[v] = right
    assert ch03.param_count_inputs(0) == {"input_size": 10, "hidden_size": 20, "num_layers": 2, "bidirectional": True}
    assert len(set(answers.values())) >= 18                               # variants differ
    for v in VARIANTS[1:]:                                                # a classmate's answer fails
        other = answers[v - 1]
        if other != answers[v]:
            assert not _run(capsys, ch03.check_param_count, other, v)[0]
    assert ch03.param_count_inputs(5) == ch03.param_count_inputs(5)       # stable


def test_param_count_every_drawable_layer_keeps_the_mistakes_apart():
    """Not only 20 variants: every layer the variants can draw (the sizes the input maker allows)."""
    for I in range(3, 17):
        for H in range(5, 33):
            if I in (H, 2 * H, 2 * H - 2) or H % 4 == 0:
                continue
            for L in (2, 3):
                mistakes = ch03.param_count_mistakes(I, H, L, True)
                assert len(mistakes) == 5 and ch03.rnn_param_count(I, H, L, True) not in mistakes, (I, H, L)


def test_param_count_uses_the_students_variant(capsys, monkeypatch):
    monkeypatch.setenv("SEQHW_STUDENT", "alice")
    from helpers.exercises._core import variant
    right = _torch_count(ch03.param_count_inputs(variant()))
    assert _run(capsys, ch03.check_param_count, right)[0]
    assert not _run(capsys, ch03.check_param_count, RIGHT)[0] or right == RIGHT


def test_param_count_messages_give_no_answer_away(capsys):
    for v in VARIANTS[:6]:
        right = _torch_count(ch03.param_count_inputs(v))
        wrong = [7, right + 1, right - 1, right * 2, *ch03.param_count_mistakes(**ch03.param_count_inputs(v))]
        for answer in wrong:
            got, out = _run(capsys, ch03.check_param_count, answer, v)
            assert not got
            for n in numbers_in(out):
                assert n != right, out
                assert not _run(capsys, ch03.check_param_count, n, v)[0], out


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


def _columns(x, h, U, W, b):
    return torch.tanh(U @ x.T + W @ h.T + b[:, None]).T                 # column form, transposed back


class _Raises:
    def __call__(self, *a):
        raise RuntimeError("boom")


STEP_TABLE = [
    (lambda x, h, U, W, b: torch.tanh(x @ U.T + h @ W.T + b), True, "一致"),
    (lambda x, h, U, W, b: torch.tanh(x.float() @ U.float().T + h.float() @ W.float().T + b.float()), True, "一致"),
    (_buffer32, True, "一致"),
    (_in_place, True, "一致"),
    (_cells, True, "一致"),
    (_columns, True, "一致"),
    (lambda x, h, U, W, b: np.tanh(x.numpy() @ U.numpy().T + h.numpy() @ W.numpy().T + b.numpy()), True, "一致"),
    (lambda x, h, U, W, b: torch.tanh(x @ U.T + h @ W.T + b).tolist(), True, "一致"),
    (lambda x, h, U, W, b: x @ U.T + h @ W.T + b, False, "激活"),
    (lambda x, h, U, W, b: torch.tanh(x @ U.T + h @ W + b), False, "W 用反"),
    (lambda x, h, U, W, b: torch.tanh(x @ U.T + h @ W.T), False, "偏置"),
    (lambda x, h, U, W, b: torch.tanh(x @ U.T + b), False, "循环项"),
    (lambda x, h, U, W, b: torch.sigmoid(x @ U.T + h @ W.T + b), False, "sigmoid"),
    (lambda x, h, U, W, b: torch.tanh(x @ U.T + h @ W.T + b) + 1e-3, False, "数值不对"),
    (lambda x, h, U, W, b: torch.tanh(x @ U.T + h @ W.T + b).half(), True, "一致"),   # float16 precision
    (lambda x, h, U, W, b: (x @ U.T + h @ W.T + b).half(), False, "激活"),           # mistakes stay mistakes in float16
    (lambda x, h, U, W, b: torch.tanh(x @ U.T + h @ W + b).half(), False, "W 用反"),
    (lambda x, h, U, W, b: torch.tanh(x @ U.T + h @ W.T).half(), False, "偏置"),
    (lambda x, h, U, W, b: U @ x, False, "运行出错"),
    (lambda x, h, U, W, b: h[:, :3], False, "形状"),
    (lambda x, h, U, W, b: torch.full_like(h, float("inf")), False, "inf"),
    (lambda x, h, U, W, b: torch.full_like(h, float("nan")), False, "NaN"),
    (lambda x, h, U, W, b: torch.zeros(4000, 4000), False, "形状"),   # huge: a short message
    (lambda x, h, U, W, b: "h", False, "str"),
    (lambda x, h, U, W, b: None, False, "没有返回值"),
    (lambda x, h: h, False, "参数不对"),
    (_Raises(), False, "运行出错"),
    (3, False, "函数"),
    (None, False, "未作答"),
]


@pytest.mark.parametrize("fn, ok, hint", STEP_TABLE)
def test_rnn_step_table(capsys, fn, ok, hint):
    got, out = _run(capsys, ch03.check_rnn_step, fn)
    assert got is ok and hint in out, out
    assert len(out) < 400, out


def test_rnn_step_mistakes_are_told_apart():
    x, h, U, W, b = ch03._step_case()
    right = ch03.rnn_step(x, h, U, W, b)
    wrongs = [w for w, _ in ch03.rnn_step_mistakes(x, h, U, W, b)]
    for i, w in enumerate(wrongs):
        assert (w - right).abs().max() > 1e-2
        for other in wrongs[i + 1:]:
            assert (w - other).abs().max() > 1e-2


# ----------------------------------------------------------------------------- exercise 3
BMES_TABLE = [
    ("BESBMMEBME", True, "BESBMMEBME"),
    ("BESBMMEBME\n", True, "BESBMMEBME"),                               # trailing newline
    ("  BESBMMEBME ", True, "BESBMMEBME"),
    ("BE S BMME BME", True, "BESBMMEBME"),
    ("BE/S/BMME/BME", True, "BESBMMEBME"),
    (np.str_("BESBMMEBME"), True, "BESBMMEBME"),
    ("besbmmebme", False, "大写"),
    ("BES", False, "每个字"),
    ("BEBBMMEBME", False, "多字词的第一个字"),                            # 是 tagged B
    ("BESBMMEBMS", False, "单字成词"),                                   # 人 tagged S
    ("BMSBMMEBME", False, "中间"),                                       # 们 tagged M
    ("BESBBMEBME", False, "第一个字"),                                   # 产 tagged B
    ("SSSSSSSSSS", False, "共 9 处"),                                    # every character a word
    ("BEXBMMEBME", False, "只能用"),
    ("B" * 100_000, False, "每个字"),              # huge: a short message
    (list("BESBMMEBME"), False, "字符串"),
    (5, False, "字符串"),
    (None, False, "未作答"),
]


@pytest.mark.parametrize("answer, ok, hint", BMES_TABLE)
def test_bmes_table(capsys, answer, ok, hint):
    got, out = _run(capsys, ch03.check_bmes, answer, 0)
    assert got is ok and hint in out, out
    assert len(out) < 400


def _tag_strings(text, n):
    return set(re.findall(r"[BMES]{%d}" % n, text))


def test_bmes_messages_give_no_answer_away(capsys):
    for v in VARIANTS[:8]:
        right = ch03.bmes_tags(ch03.bmes_inputs(v))
        n = len(right)
        wrong = ["S" * n, "B" * n, right[::-1], right[:-1] + ("S" if right[-1] != "S" else "E"),
                 right.lower(), "X" * n, right[:3]]
        for answer in wrong:
            if answer == right:
                continue
            got, out = _run(capsys, ch03.check_bmes, answer, v)
            assert not got, (v, answer)
            assert right not in out, out
            for tags in _tag_strings(out, n):
                assert not _run(capsys, ch03.check_bmes, tags, v)[0]
            # the hint names the student's own tag, never the right one
            if "标错了" in out:
                i = int(re.search(r"第 (\d+) 个字", out).group(1)) - 1
                assert f"你写的 {answer.upper()[i]}" in out


def test_bmes_variants(capsys):
    answers = {}
    for v in VARIANTS:
        words = ch03.bmes_inputs(v)
        tags = "".join("S" if len(w) == 1 else "B" + "M" * (len(w) - 2) + "E" for w in words)
        assert set(tags) == set("BMES") or v == 0 and set(tags) == set("BMES")
        assert _run(capsys, ch03.check_bmes, tags, v)[0], (v, words)
        answers[v] = tags
    assert answers[0] == "BESBMMEBME"
    assert len(set(answers.values())) >= 18
    for v in VARIANTS[1:]:
        if answers[v - 1] != answers[v]:
            assert not _run(capsys, ch03.check_bmes, answers[v - 1], v)[0]


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


class _Exploding(torch.nn.Module):
    @property
    def rnn(self):
        raise RuntimeError("boom")


HALF_TABLE = [
    # the student's model (made from the scoring table), the reported change, verdict, hint
    (lambda s: _half(s), -0.005, True, "F1 只变了"),
    (lambda s: _half(s), np.float32(-0.005), True, "F1 只变了"),
    (lambda s: _half(s), torch.tensor(-0.005), True, "F1 只变了"),
    (lambda s: _half(s), "-0.005", True, "F1 只变了"),
    (lambda s: _half(s), -0.00504, True, "F1 只变了"),                   # as printed with 4 decimals
    (lambda s: _half(s, 0.8549612), -0.0050, True, "F1 只变了"),          # rounded to 4 decimals
    (lambda s: _half(s, 0.865), 0.005, True, "F1 只变了"),
    (lambda s: _half(s), 0.005, False, "符号反了"),
    (lambda s: _half(s), -0.5, False, "百分点"),
    (lambda s: _half(s), 0.855, False, "F1 本身"),
    (lambda s: _half(s), 0.86, False, "原模型的 F1"),
    (lambda s: _half(s), -0.05, False, "不一致"),                            # made up
    (lambda s: _half(s), -0.0048, False, "不一致"),             # made up, close
    (lambda s: _half(s), -0.003, False, "不一致"),              # a classmate's number
    (lambda s: _half(s, 0.20), -0.66, False, "没训练过"),                 # untrained, honest number
    (lambda s: _half(s, 0.45), -0.41, False, "没训练过"),
    (lambda s: _half(s, 0.807), -0.053, False, "差得太多"),              # trained on the test paragraphs only
    (lambda s: _half(s, 0.95), 0.09, False, "见过测试段落"),              # fitted on the test paragraphs
    (lambda s: _half(s, 0.883), 0.023, False, "见过测试段落"),       # trained on train + test
    (lambda s: _half(s, 0.832), -0.028, False, "差得太多"),               # one epoch only
    (lambda s: s(_tagger(48), 0.85), -0.01, False, "减半为 32"),
    (lambda s: s(_tagger(64), 0.86), 0.0, False, "减半为 32"),
    (lambda s: FULL, 0.0, False, "原模型"),
    (lambda s: _half(s, bidirectional=False), -0.03, False, "方向数"),
    (lambda s: _half(s, num_layers=2), -0.005, False, "层数"),
    (lambda s: "model", -0.005, False, "RNNTagger"),
    (lambda s: torch.nn.Linear(2, 2), -0.005, False, "RNNTagger"),
    (lambda s: _Exploding(), -0.005, False, "RNNTagger"),
    (lambda s: _half(s), None, False, "未作答"),
    (lambda s: _half(s), "a bit", False, "应是一个数"),
    (lambda s: _half(s), float("nan"), False, "有限"),
    (lambda s: _half(s), float("inf"), False, "有限"),
    (lambda s: _half(s), torch.ones(10**6), False, "应是一个数"),
    (lambda s: None, -0.005, False, "未作答"),
]


@pytest.mark.parametrize("make, change, ok, hint", HALF_TABLE)
def test_half_hidden_table(capsys, scored, make, change, ok, hint):
    model = make(scored)
    got, out = _run(capsys, ch03.check_half_hidden, model, change, FULL, ["文本"], [["文本"]], None)
    assert got is ok and hint in out, out
    assert len(out) < 400


def test_half_hidden_rejects_an_untrained_full_model(capsys, scored):
    untrained_full = scored(_tagger(64), 0.2)
    got, out = _run(capsys, ch03.check_half_hidden, _half(scored, 0.3), 0.1, untrained_full, ["文本"], [["文本"]], None)
    assert not got and "没有训练过" in out


def test_half_hidden_failure_messages_give_no_number_back(capsys, scored):
    """Every number a failure message prints, handed back as the change, still fails."""
    for make, change, ok, _ in HALF_TABLE:
        model = make(scored)
        got, out = _run(capsys, ch03.check_half_hidden, model, change, FULL, ["文本"], [["文本"]], None)
        if got or not isinstance(model, torch.nn.Module):
            continue
        for n in numbers_in(out):
            assert not _run(capsys, ch03.check_half_hidden, model, n, FULL, ["文本"], [["文本"]], None)[0], out
            assert not _run(capsys, ch03.check_half_hidden, model, -n, FULL, ["文本"], [["文本"]], None)[0], out


def test_half_hidden_success_reports_the_re_scored_numbers(capsys, scored):
    got, out = _run(capsys, ch03.check_half_hidden, _half(scored), -0.005, FULL, ["文本"], [["文本"]], None)
    assert got and "0.8600" in out and "0.8550" in out and "-0.0050" in out


def test_half_hidden_tolerance_separates_the_named_mistakes():
    # printed precision (4 decimals) is accepted; sign and percent mistakes are rejected for every
    # change an honest run can give outside the smallest step F1 can take on 400 paragraphs
    assert ch03.F1_TOL >= 5e-5
    for measured in (-0.012, -0.004, -0.0003, 0.002):
        assert abs(-measured - measured) > ch03.F1_TOL
        assert abs(100 * measured / 100 - measured) <= ch03.F1_TOL
        assert abs(100 * measured - measured) > ch03.F1_TOL


def test_half_hidden_seed_variants():
    seeds = {v: ch03.half_hidden_inputs(v)["seed"] for v in VARIANTS}
    assert seeds[0] == 0 and len(set(seeds.values())) == len(seeds)
    assert all(ch03.half_hidden_inputs(v)["hidden_size"] == 32 for v in VARIANTS)


def test_half_hidden_on_real_models(capsys):
    """No monkeypatching: two tiny untrained taggers on a real paragraph; the checker runs end to end
    and rejects them (an untrained model cannot carry the experiment)."""
    from helpers.vocab import Vocab
    text = "我们是共产主义接班人"
    vocab = Vocab([text])
    full = segmentation.RNNTagger(len(vocab), embed_dim=4, hidden_size=8, bidirectional=True)
    half = segmentation.RNNTagger(len(vocab), embed_dim=4, hidden_size=4, bidirectional=True)
    gold = [["我们", "是", "共产主义", "接班人"]]
    f1 = [segmentation.word_prf(gold, segmentation.segment(m, [text], vocab))["f1"] for m in (full, half)]
    got, out = _run(capsys, ch03.check_half_hidden, half, f1[1] - f1[0], full, [text], gold, vocab)
    assert "【不对】" in out and not got


def test_reference_functions_are_marked():
    for fn in (ch03.rnn_param_count, ch03.param_count_mistakes, ch03.rnn_step, ch03.rnn_step_mistakes,
               ch03.bmes_tags, ch03.tagger_f1):
        assert getattr(fn, "__seqcourse_reference__", False), fn.__name__
    for fn in (ch03.param_count_inputs, ch03.bmes_inputs, ch03.half_hidden_inputs):
        assert not getattr(fn, "__seqcourse_reference__", False), fn.__name__


def test_student_edition_says_graded_later(capsys, monkeypatch):
    """With the reference bodies stripped (as on the hub), the checkers say so and never pass."""
    from helpers.exercises._core import GradedAtSubmission

    def stripped(*a, **k):
        raise GradedAtSubmission()
    for name in ("rnn_param_count", "param_count_mistakes", "rnn_step", "rnn_step_mistakes", "bmes_tags", "tagger_f1"):
        monkeypatch.setattr(ch03, name, stripped)
    for check, answer in ((ch03.check_param_count, RIGHT), (ch03.check_bmes, "BESBMMEBME"),
                          (ch03.check_rnn_step, lambda x, h, U, W, b: torch.tanh(x @ U.T + h @ W.T + b))):
        got, out = _run(capsys, check, answer)
        assert not got and "已收到" in out
    # the property checks of the experiment still speak before the reference is needed
    got, out = _run(capsys, ch03.check_half_hidden, _tagger(48), -0.01, FULL, ["文本"], [["文本"]], None)
    assert not got and "减半为 32" in out


def test_checkers_never_raise_on_strange_answers(capsys):
    strange = HOSTILE + [np.float32(1), {"a": 1}, [None], torch.ones(3)]
    for answer in strange:
        for check in (ch03.check_param_count, ch03.check_rnn_step, ch03.check_bmes):
            assert not check(answer)
        assert not ch03.check_half_hidden(answer, answer, FULL, ["文本"], [["文本"]], None)
    capsys.readouterr()
