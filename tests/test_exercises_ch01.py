"""Chapter 01 checkers, table-driven: many student answers each, with the expected verdict and
the hint that must (or must not) appear. No checker may raise, whatever the answer."""
import math

import numpy as np
import pytest
import torch

from helpers.exercises import ch01
from helpers.exercises._core import Verdict

from exercise_table import assert_row


def run(capsys, fn, *args, **kwargs):
    result = fn(*args, **kwargs)
    out = capsys.readouterr().out
    assert isinstance(result, Verdict), f"{fn.__name__} returned {type(result).__name__}"
    for mark in ("✅", "❌", "⏳", "⚠"):
        assert mark not in out
    return bool(result), out


# ----------------------------------------------------------------------------- exercise 1
W = dict(T=100, input_len=24, horizon=12)          # right answer: 65

WINDOW_CASES = [
    # answer, ok, must appear, must not appear
    (65, True, "65", None),
    (65.0, True, "65", None),
    (64.99999999999, True, "65", None),
    (np.int64(65), True, "65", None),
    (np.float32(65), True, "65", None),
    (torch.tensor(65), True, "65", None),
    ("65", True, "65", None),
    (None, False, "未作答", "不对"),
    (64, False, "off-by-one", "H 个"),
    (66, False, "多了一个", "H 个"),
    (76, False, "H 个", "off-by-one"),
    (77, False, "H 个", "off-by-one"),
    (89, False, "输入也要占 L", "H 个"),
    (100, False, "起点", "off-by-one"),
    (2, False, "重叠", "off-by-one"),
    (13, False, "得到 13", "off-by-one"),
    (65.5, False, "不是整数", "off-by-one"),
    (64.5, False, "不是整数", "off-by-one"),
    ("abc", False, "应是一个数", None),
    (float("inf"), False, "有限", None),
    (float("nan"), False, "有限", None),
    (10 ** 400, False, "期望一个整数", None),
    ([65], False, "应是一个数", None),
    (True, False, "应是一个数", None),
    (torch.tensor([65, 66]), False, "应是一个数", None),
]


@pytest.mark.parametrize("answer, ok, must, must_not", WINDOW_CASES, ids=[f"w{i}" for i in range(len(WINDOW_CASES))])
def test_window_count_table(capsys, answer, ok, must, must_not):
    got, out = run(capsys, ch01.check_window_count, answer, **W)
    assert_row(got, out, ok, must, must_not)


# ----------------------------------------------------------------------------- exercise 2
RIGHT_IN = ["<bos>", "二", "千", "零", "四", "十", "八"]
RIGHT_OUT = ["二", "千", "零", "四", "十", "八", "<eos>"]

TEACHER_CASES = [
    ((RIGHT_IN, RIGHT_OUT), True, "<eos>", None),
    ((tuple(RIGHT_IN), tuple(RIGHT_OUT)), True, "正确", None),
    (("<bos>二千零四十八", "二千零四十八<eos>"), True, "正确", None),
    (("<bos> 二 千 零 四 十 八\n", " 二 千 零 四 十 八 <eos>"), True, "正确", None),
    ({"tgt_in": RIGHT_IN, "tgt_out": RIGHT_OUT}, True, "正确", None),
    (None, False, "未作答", None),
    ((RIGHT_OUT, RIGHT_IN), False, "弄反", "中间的字"),
    ((RIGHT_IN, RIGHT_IN), False, "错开一位", "弄反"),
    (("<bos>两千零四十八", "两千零四十八<eos>"), False, "两", "弄反"),
    (("二千零四十八", "二千零四十八<eos>"), False, "以 <bos> 开头", "<eos> 结尾"),
    (("<bos>二千零四十八", "二千零四十八"), False, "<eos> 结尾", "<bos> 开头"),
    (("<bos>二千零四十八<eos>", "二千零四十八<eos>"), False, "不该有 <eos>", "<bos> 开头"),
    (("<bos>二千零四十八", "<bos>二千零四十八<eos>"), False, "不该有 <bos>", "<eos> 结尾"),
    (("<bos>八十四零千二", "八十四零千二<eos>"), False, "反转", "弄反"),
    (("<bos>二千四十八", "二千四十八<eos>"), False, "中间的字", "弄反"),
    ("<bos>二千零四十八", False, "两个序列", None),
    (RIGHT_IN, False, "两个序列", None),
    (42, False, "两个序列", None),
    (([1, 2], RIGHT_OUT), False, "tgt_in 应是", None),
    ((RIGHT_IN, 7), False, "tgt_out 应是", None),
    ((RIGHT_IN, RIGHT_OUT, RIGHT_OUT), False, "两个序列", None),
]


@pytest.mark.parametrize("answer, ok, must, must_not", TEACHER_CASES)
def test_teacher_forcing_table(capsys, answer, ok, must, must_not):
    got, out = run(capsys, ch01.check_teacher_forcing, answer, 2048)
    assert_row(got, out, ok, must, must_not)


def test_teacher_forcing_pair_matches_the_seq2seq_encoding():
    from helpers import seq2seq as s2s
    vocab = s2s.make_vocab(["二千零四十八"])
    tgt_in, _ = s2s.encode_batch(["二千零四十八"], vocab, bos=True)
    tgt_out, _ = s2s.encode_batch(["二千零四十八"], vocab, eos=True)
    right_in, right_out = ch01.teacher_forcing_pair(2048)
    assert vocab.decode(tgt_in[0].tolist()) in ("".join(right_in), " ".join(right_in), right_in)
    assert vocab.decode(tgt_out[0].tolist()) in ("".join(right_out), " ".join(right_out), right_out)


# ----------------------------------------------------------------------------- exercise 3
RIGHT_MODES = {t: m for t, (m, _) in ch01.IO_TASKS.items()}

IO_CASES = [
    (RIGHT_MODES, True, "都归对了", None),
    ({t: f"  {m.upper()} \n" for t, m in RIGHT_MODES.items()}, True, "都归对了", None),
    ({f"{t} ": m for t, m in RIGHT_MODES.items()}, True, "都归对了", None),
    (None, False, "未作答", None),
    ({**RIGHT_MODES, "词性标注": "many-to-many-unequal", "看图说话": "many-to-one"}, False, "2 个任务", None),
    ({**RIGHT_MODES, "看图说话": "many-to-many-unequal"}, False, "编码器-解码器", "一样长"),
    ({**RIGHT_MODES, "词性标注": "many-to-many-unequal"}, False, "一样长", "看图说话"),
    ({"图像分类": "one-to-one"}, False, "还缺", None),
    ({**RIGHT_MODES, "机器翻译": "seq2seq"}, False, "只能是", None),
    ({**RIGHT_MODES, "机器翻译": 3}, False, "只能是", None),
    (["one-to-one"], False, "字典", None),
    ("one-to-one", False, "字典", None),
]


@pytest.mark.parametrize("answer, ok, must, must_not", IO_CASES)
def test_io_modes_table(capsys, answer, ok, must, must_not):
    got, out = run(capsys, ch01.check_io_modes, answer)
    assert_row(got, out, ok, must, must_not)


def test_io_tasks_agree_with_the_chapter_text():
    """W15: the chapter lists 看图说话 under unequal-length seq2seq; the hint must explain the mode."""
    assert ch01.IO_TASKS["看图说话"][0] == "one-to-many"
    assert "讲义" in ch01.IO_TASKS["看图说话"][1]


# ----------------------------------------------------------------------------- exercise 4
H = 14
WITH = torch.linspace(1.5, 2.3, H)                  # the chapter's direct GRU with the calendar
NAIVE = torch.linspace(1.6, 3.3, H)
WORSE = WITH + 0.3                                  # without the calendar: worse at every h
BETTER = WITH - 0.1                                 # without the calendar: better

CALENDAR_CASES = [
    ((WORSE, True), True, "一致", None),
    ((WORSE.numpy(), True), True, "一致", None),
    ((WORSE.numpy().astype(np.float32), np.bool_(True)), True, "一致", None),
    ((WORSE.tolist(), 1), True, "一致", None),
    ((BETTER, False), True, "一致", None),
    ((WORSE, False), False, "确实", "一致"),
    ((BETTER, True), False, "没有", "一致"),
    ((None, True), False, "未作答", None),
    ((WORSE, None), False, "未作答", None),
    ((WITH, True), False, "带日历特征", None),
    ((WITH.clone().float(), False), False, "带日历特征", None),
    ((NAIVE, False), False, "朴素预测", None),
    ((WORSE / 10 - 1, True), False, "不像训练过", None),
    ((WORSE * 50, True), False, "不像训练过", None),
    ((WORSE[:5], True), False, "形状", None),
    ((torch.full((H,), float("nan")), True), False, "NaN", None),
    ((torch.full((H,), float("inf")), True), False, "inf", None),
    (("abc", True), False, "应是", None),
    ((WORSE, "yes"), False, "True 或 False", None),
]


@pytest.mark.parametrize("answer, ok, must, must_not", CALENDAR_CASES)
def test_calendar_experiment_table(capsys, answer, ok, must, must_not):
    got, out = run(capsys, ch01.check_calendar_experiment, *answer, WITH, NAIVE)
    assert_row(got, out, ok, must, must_not)


def test_calendar_experiment_judges_only_the_late_horizons(capsys):
    # worse early, better late: the calendar does not help at h = 7..14
    mixed = WITH.clone()
    mixed[:6] += 1.0
    mixed[6:] -= 0.2
    got, out = run(capsys, ch01.check_calendar_experiment, mixed, False, WITH, NAIVE)
    assert got is True, out
    assert math.isclose(float(mixed[6:].mean()), float(out.split("不带日历 ")[1].split(" °C")[0]), abs_tol=0.01)


def test_verdicts_display_nothing():
    assert Verdict(False)._ipython_display_() is None
