"""Chapter 07 checkers, table-driven: the right answer (and equivalent forms) passes for every
variant, each named mistake gets its own hint, made-up / a classmate's / test-set-fitted answers
fail, nothing raises, and no failure message contains a value that passes when handed back."""
import itertools
import re

import numpy as np
import pytest
import torch

from exercise_table import HOSTILE, assert_rejects_hostile, assert_row, run_checker
from helpers import seq2seq as s2s
from helpers.exercises import ch07
from helpers.exercises._core import GRADED_LATER, OK_MARK, TODO_MARK, WRONG_MARK, GradedAtSubmission

VARIANTS = range(21)                 # 0 = the chapter, 1..20 = twenty students


def run(capsys, fn, *args, **kw):
    got, out = run_checker(capsys, lambda *a: fn(*a, **kw), *args)
    assert out.count("【") == 1, out                   # exactly one verdict line
    return got, out


def numbers_in(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", text)]


# ----------------------------------------------------------------------------- exercise 1
def good_attention(Q, K, V):
    return torch.softmax(Q @ K.T / Q.shape[-1] ** 0.5, dim=-1) @ V


def by_hand(Q, K, V):                                  # exp / sum written out, in numpy
    s = Q.numpy() @ K.numpy().T / np.sqrt(Q.shape[1])
    w = np.exp(s - s.max(1, keepdims=True))
    return w / w.sum(1, keepdims=True) @ V.numpy()


def lookup_table():
    """An answer that returns the checker's first expected output whatever it is given."""
    Q, K, V = ch07._qkv(*ch07.ATTENTION_CASES[0])
    fixed = good_attention(Q, K, V)
    return lambda Q, K, V: fixed if Q.shape == fixed.shape else torch.zeros(Q.shape[0], V.shape[1])


ATTENTION_ROWS = [
    (good_attention, True, OK_MARK, None),
    (lambda Q, K, V: torch.nn.functional.scaled_dot_product_attention(Q[None], K[None], V[None])[0], True, OK_MARK, None),
    (lambda Q, K, V: torch.einsum("ts,sv->tv", torch.softmax(torch.einsum("td,sd->ts", Q, K) / Q.shape[1] ** 0.5, 1), V),
     True, OK_MARK, None),
    (by_hand, True, OK_MARK, None),
    (lambda Q, K, V: good_attention(Q.float(), K.float(), V.float()), True, OK_MARK, None),
    (lambda Q, K, V: torch.softmax(Q @ K.T, dim=-1) @ V, False, "忘了缩放", None),
    # in half precision the right answer passes and every wrong scaling is still named (a 20 %
    # tolerance for float16 once let them through)
    (lambda Q, K, V: good_attention(Q, K, V).half(), True, OK_MARK, None),
    (lambda Q, K, V: good_attention(Q.half(), K.half(), V.half()), True, OK_MARK, None),
    (lambda Q, K, V: (torch.softmax(Q @ K.T, dim=-1) @ V).half(), False, "忘了缩放", OK_MARK),
    (lambda Q, K, V: (torch.softmax(Q @ K.T / Q.shape[-1], dim=-1) @ V).half(), False, "平方根", OK_MARK),
    (lambda Q, K, V: (torch.softmax(Q @ K.T / V.shape[-1] ** 0.5, dim=-1) @ V).half(), False, "d_v", OK_MARK),
    (lambda Q, K, V: (torch.softmax(Q @ K.T / V.shape[-1] ** 0.5, dim=-1) @ V).bfloat16(), False, "d_v", OK_MARK),
    (lambda Q, K, V: torch.softmax(Q @ K.T / Q.shape[-1], dim=-1) @ V, False, "平方根", None),
    (lambda Q, K, V: torch.softmax(Q @ K.T / V.shape[-1] ** 0.5, dim=-1) @ V, False, "d_v", None),
    (lambda Q, K, V: torch.softmax(Q @ K.T / Q.shape[-1] ** 0.5, dim=0) @ V, False, "softmax 做错了维度", None),
    (lambda Q, K, V: (Q @ K.T / Q.shape[-1] ** 0.5) @ V, False, "忘了 softmax", None),
    (lambda Q, K, V: (Q @ K.T) @ V, False, "忘了 softmax", None),
    (lookup_table(), False, "不符", OK_MARK),
    (lambda Q, K, V: Q @ K.T, False, "形状", None),
    (lambda Q, K, V: None, False, "没有返回值", None),
    (lambda Q, K: None, False, "参数不对", None),
    (lambda Q, K, V: 1 / 0, False, "ZeroDivisionError", None),
    (lambda Q, K, V: torch.full((Q.shape[0], V.shape[1]), float("nan")), False, "NaN", None),
    (None, False, TODO_MARK, None),
    ("text", False, "函数", None),
]


@pytest.mark.parametrize("fn, ok, must, must_not", ATTENTION_ROWS)
def test_check_attention(capsys, fn, ok, must, must_not):
    got, out = run(capsys, ch07.check_attention, fn)
    assert_row(got, out, ok, must, must_not)
    for code in ("Q @ K.T", "** 0.5", "dim=-1", "torch.softmax"):       # no answer code in any message
        assert code not in out, out


@pytest.mark.parametrize("checker", (ch07.check_attention, ch07.check_causal_mask))
@pytest.mark.parametrize("answer", HOSTILE, ids=range(len(HOSTILE)))
def test_function_checkers_hostile(capsys, checker, answer):
    """The shared hostile list (a bare lambda, print, a tensor, ...): rejected, never raised."""
    assert_rejects_hostile(capsys, checker, answer)


# ----------------------------------------------------------------------------- exercise 2
MASK_ROWS = [
    (lambda T: torch.ones(T, T, dtype=torch.bool).triu(1), True, OK_MARK),
    (lambda T: torch.triu(torch.ones(T, T), diagonal=1).bool(), True, OK_MARK),
    (lambda T: torch.arange(T)[None, :] > torch.arange(T)[:, None], True, OK_MARK),
    (lambda T: torch.isinf(torch.nn.Transformer.generate_square_subsequent_mask(T)), True, OK_MARK),
    (lambda T: torch.ones(T, T).triu(1), False, "布尔张量"),
    (lambda T: torch.ones(T, T, dtype=torch.long).triu(1), False, "位置对了"),
    (lambda T: torch.nn.Transformer.generate_square_subsequent_mask(T), False, "浮点版本"),
    (lambda T: torch.ones(T, T, dtype=torch.bool).tril(), False, "True = 允许看"),
    (lambda T: torch.ones(T, T, dtype=torch.bool).triu(0), False, "对角线也被遮住"),
    (lambda T: torch.ones(T, T, dtype=torch.bool).tril(-1), False, "遮住的是过去"),
    (lambda T: torch.zeros(T, T, dtype=torch.bool), False, "掩码不对"),
    (lambda T: torch.ones(T, T, dtype=torch.bool).triu(1) if T < 10 else torch.zeros(T, T, dtype=torch.bool),
     False, "T = 12"),
    (lambda T: np.triu(np.ones((T, T), bool), 1), False, "torch.Tensor"),
    (lambda T: torch.ones(T, dtype=torch.bool), False, "形状应是"),
    (lambda T: 1 / 0, False, "运行出错"),
    (None, False, TODO_MARK),
]


@pytest.mark.parametrize("fn, ok, must", MASK_ROWS)
def test_check_causal_mask(capsys, fn, ok, must):
    got, out = run(capsys, ch07.check_causal_mask, fn)
    assert_row(got, out, ok, must)
    for code in ("triu", "tril", "isinf", "generate_square"):
        assert code not in out, out


# ----------------------------------------------------------------------------- exercise 3
def test_equal_scores_inputs_variant_0_is_the_chapter_and_variants_differ():
    assert torch.equal(ch07.equal_scores_inputs(0), torch.tensor(ch07.V_DEMO))
    assert torch.equal(ch07.equal_scores_inputs(5), ch07.equal_scores_inputs(5))      # stable
    shapes = {tuple(ch07.equal_scores_inputs(v).shape) for v in range(1, 21)}
    assert len(shapes) > 3
    for v in range(1, 200):
        V = ch07.equal_scores_inputs(v)
        assert V.shape[0] != V.shape[1] and V.min() >= 1


@pytest.mark.parametrize("v", VARIANTS)
def test_equal_scores_reference_passes_and_mistakes_are_named(capsys, v):
    V = ch07.equal_scores_inputs(v)
    S, d = V.shape
    for answer in (V.mean(0), V.mean(0).numpy().round(2), V.mean(0).tolist(), V.double().sum(0) / S,
                   torch.softmax(torch.zeros(S), 0) @ V, V.mean(0).half()):
        assert run(capsys, ch07.check_equal_scores, answer, V, v=v)[0]
    assert run(capsys, ch07.check_equal_scores, V.mean(0), v=v)[0]            # V may be left out
    for answer, hint in ((V.sum(0), "这是和"), (V.sum(0) / d, "特征数 d"), (torch.zeros(d), "分数为 0"),
                         (V[S - 1], "只挑一个位置"), (V.mean(0) + 0.05, "不对")):
        got, out = run(capsys, ch07.check_equal_scores, answer, V, v=v)
        assert_row(got, out, False, hint, OK_MARK)
    got, out = run(capsys, ch07.check_equal_scores, V.mean(1), V, v=v)      # mean over the wrong axis
    assert not got and "形状" in out


def test_equal_scores_named_mistakes_are_far_from_the_answer_in_every_variant():
    """Two decimals are accepted (tolerance 0.006); every named mistake stays well outside it."""
    for v in range(0, 500):
        V = ch07.equal_scores_inputs(v).double()
        want = ch07.equal_scores_answers(V)
        for key, value in want.items():
            if key != "right":
                assert float((value - want["right"]).abs().max()) > 3 * ch07.EQUAL_TOL, (v, key)


def test_equal_scores_classmates_answer_and_a_changed_V_fail(capsys):
    answers = {v: ch07.equal_scores_inputs(v).mean(0) for v in range(1, 21)}
    assert len({tuple(a.tolist()) for a in answers.values()}) == 20            # twenty different answers
    got, out = run(capsys, ch07.check_equal_scores, answers[1], ch07.equal_scores_inputs(1), v=2)
    assert not got
    got, out = run(capsys, ch07.check_equal_scores, answers[1], ch07.equal_scores_inputs(1), v=1)
    assert got
    mine = ch07.equal_scores_inputs(3)
    fake = torch.zeros_like(mine)                       # a V of the student's making: its mean is 0
    got, out = run(capsys, ch07.check_equal_scores, torch.zeros(mine.shape[1]), fake, v=3)
    assert not got and "不是本题给你的 V" in out


@pytest.mark.parametrize("answer", HOSTILE + [torch.zeros(10**6), "平均", [1.0, "a", 2.0]], ids=range(len(HOSTILE) + 3))
def test_equal_scores_hostile(capsys, answer):
    assert_rejects_hostile(capsys, lambda a: ch07.check_equal_scores(a, ch07.equal_scores_inputs(0), v=0), answer)
    out_len = len(capsys.readouterr().out)
    assert out_len < 400


def test_equal_scores_messages_hand_back_nothing_that_passes(capsys):
    for v in range(0, 6):
        V = ch07.equal_scores_inputs(v)
        for answer in (V.sum(0), torch.zeros(V.shape[1]), V[0], V.mean(0) + 1, [1.0] * V.shape[1]):
            got, out = run(capsys, ch07.check_equal_scores, answer, V, v=v)
            assert not got
            for x in numbers_in(out):
                assert not run(capsys, ch07.check_equal_scores, [x] * V.shape[1], V, v=v)[0]


# ----------------------------------------------------------------------------- exercise 4 (experiment)
class Reader:
    """A stand-in for a trained model: reads a numeral right when ``rule(numeral)`` says so."""

    def __init__(self, rule):
        self.rule = rule


def fake_translate(model, numerals, src_vocab, tgt_vocab, **kw):
    return [s2s.number_to_chinese(int(a)) if model.rule(a) else "错" for a in numerals]


TRAINED = {"无注意力": Reader(lambda a: int(a) % 37 == 0), "有注意力": Reader(lambda a: int(a) % 23 != 0)}


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(s2s, "translate", fake_translate)
    return TRAINED


def measured(models, v):
    pairs = ch07.long_numbers_inputs(v)
    return tuple(s2s.exact_match(s2s.translate(models[k], [a for a, _ in pairs], None, None), [b for _, b in pairs])
                 for k in ("无注意力", "有注意力"))


def test_long_numbers_inputs_are_new_twelve_digit_numbers_per_variant():
    assert ch07.long_numbers_inputs(0) == s2s.numeral_pairs(200, 10**11, 10**12 - 1, seed=2024)
    seen = set()
    for v in range(0, 21):
        pairs = ch07.long_numbers_inputs(v)
        assert len(pairs) == 200 and all(len(a) == 12 for a, _ in pairs)
        seen |= {a for a, _ in pairs}
    assert len(seen) == 21 * 200                       # no two students share a number
    chapter = s2s.numeral_pairs_by_length(550, range(1, 13), seed=0)
    assert not seen & {a for a, _ in chapter}           # none was in the chapter's training data


@pytest.mark.parametrize("v", VARIANTS)
def test_long_numbers_reference_passes_for_every_variant(capsys, fake, v):
    plain, attn = measured(fake, v)
    for answer in ((plain, attn), [round(plain, 3), round(attn, 3)], (np.float32(plain), torch.tensor(attn)),
                   np.array([plain, attn]), torch.tensor([plain, attn]), (f"{plain:.3f}", f"{attn:.3f}")):
        got, out = run(capsys, ch07.check_long_numbers, answer, fake, None, None, v=v)
        assert got, (answer, out)


def test_long_numbers_table(capsys, fake):
    plain, attn = measured(fake, 0)
    k = 0.005                                           # one number out of 200
    rows = [
        ((attn, plain), False, "顺序反了"),
        ((100 * plain, 100 * attn), False, "不是百分数"),
        ((round(200 * plain), round(200 * attn)), False, "不是百分数"),
        ((plain + k, attn), False, "无注意力的正确率偏高"),
        ((plain, attn - k), False, "有注意力的正确率偏低"),
        ((round(plain, 2), round(attn, 1)), False, "偏"),
        ((0.03, 0.97), False, "偏"),                      # made-up, plausible
        ((0.0, 1.0), False, "偏"),
        ((-0.1, 0.9), False, "负数"),
        (0.97, False, "元组"),
        ((0.1, 0.2, 0.7), False, "元组"),
        (("a", 0.9), False, "第一个数"),
        ((0.1, None), False, "第二个数"),
        (None, False, TODO_MARK),
    ]
    for answer, ok, must in rows:
        got, out = run(capsys, ch07.check_long_numbers, answer, fake, None, None, v=0)
        assert_row(got, out, ok, must, OK_MARK)


def test_long_numbers_a_classmates_numbers_fail(capsys, fake):
    answers = {v: measured(fake, v) for v in range(1, 21)}
    assert len(set(answers.values())) >= 15                              # the students' answers differ
    for mine, theirs in ((1, 2), (2, 3), (5, 9)):
        assert answers[mine] != answers[theirs]
        assert not run(capsys, ch07.check_long_numbers, answers[theirs], fake, None, None, v=mine)[0]


def test_long_numbers_untrained_and_test_set_fitted_models_fail(capsys, fake):
    untrained = {"无注意力": Reader(lambda a: False), "有注意力": Reader(lambda a: False)}
    got, out = run(capsys, ch07.check_long_numbers, measured(untrained, 4), untrained, None, None, v=4)
    assert not got and "不支持 §1 的结论" in out
    mine = {a for a, _ in ch07.long_numbers_inputs(4)}
    fitted = {"无注意力": Reader(lambda a: a in mine), "有注意力": TRAINED["有注意力"]}
    got, out = run(capsys, ch07.check_long_numbers, measured(fitted, 4), fitted, None, None, v=4)
    assert not got and "训练过" in out
    got, out = run(capsys, ch07.check_long_numbers, measured(fake, 4), {"有注意力": fake["有注意力"]}, None, None, v=4)
    assert not got and "models" in out


def test_long_numbers_messages_hand_back_nothing_that_passes(capsys, fake):
    plain, attn = measured(fake, 0)
    for answer in ((0.5, 0.5), (attn, plain), (plain + 0.01, attn - 0.02), (0.0, 0.0), (1.0, 1.0)):
        got, out = run(capsys, ch07.check_long_numbers, answer, fake, None, None, v=0)
        assert not got
        for pair in itertools.product(numbers_in(out) + [plain, attn], repeat=2):
            if pair == (plain, attn):
                continue
            assert not run(capsys, ch07.check_long_numbers, pair, fake, None, None, v=0)[0] or \
                (abs(pair[0] - plain) <= 6e-4 and abs(pair[1] - attn) <= 6e-4)
        assert f"{plain:.3f}" not in out and f"{attn:.3f}" not in out


@pytest.mark.parametrize("answer", HOSTILE, ids=range(len(HOSTILE)))
def test_long_numbers_hostile(capsys, fake, answer):
    assert_rejects_hostile(capsys, lambda a: ch07.check_long_numbers(a, fake, None, None, v=0), answer)


def test_long_numbers_with_real_untrained_models(capsys):
    """End to end with tiny untrained models: the checker reads the student's numbers itself;
    both read nothing right, so (0, 0) agrees with them but does not support the conclusion."""
    torch.manual_seed(0)
    pairs = s2s.numeral_pairs_by_length(3, range(1, 13))
    sv, tv = s2s.make_vocab([a for a, _ in pairs]), s2s.make_vocab([b for _, b in pairs])
    models = {"无注意力": s2s.Seq2Seq(len(sv), len(tv), 4, 8), "有注意力": s2s.AttentionSeq2Seq(len(sv), len(tv), 4, 8)}
    got, out = run(capsys, ch07.check_long_numbers, (0.0, 0.0), models, sv, tv, v=0)
    assert not got and "不支持 §1 的结论" in out
    got, out = run(capsys, ch07.check_long_numbers, (0.5, 0.0), models, sv, tv, v=0)
    assert not got and "无注意力的正确率偏高" in out


# ----------------------------------------------------------------------------- reference / student edition
def test_reference_functions_are_marked():
    for name in ("attention_answers", "mask_answers", "equal_scores_answers", "long_accuracies"):
        assert getattr(getattr(ch07, name), "__seqcourse_reference__", False), name
    for name in ("equal_scores_inputs", "long_numbers_inputs", "_qkv"):
        assert not getattr(getattr(ch07, name), "__seqcourse_reference__", False), name


def test_student_edition_checkers_say_graded_later(monkeypatch, capsys, fake):
    def gone(*a, **k):
        raise GradedAtSubmission()

    for name in ("attention_answers", "mask_answers", "equal_scores_answers", "long_accuracies"):
        monkeypatch.setattr(ch07, name, gone)
    V = ch07.equal_scores_inputs(0)
    for checker, args in ((ch07.check_attention, (good_attention,)),
                          (ch07.check_causal_mask, (lambda T: torch.ones(T, T, dtype=torch.bool).triu(1),)),
                          (ch07.check_equal_scores, (V.mean(0), V)),
                          (ch07.check_long_numbers, ((0.03, 0.97), fake, None, None))):
        got, out = run_checker(capsys, checker, *args)
        assert not got and GRADED_LATER in out and out.count("【") == 1, out
