"""Chapter 01 checkers, table-driven: many student answers each, with the expected verdict and
the hint that must (or must not) appear; per-student variants; no failure message that hands back
an answer. No checker may raise, whatever the answer."""
import math
import re

import numpy as np
import pytest
import torch

from helpers.exercises import ch01
from helpers.exercises._core import GradedAtSubmission, Verdict

from exercise_table import HOSTILE, assert_row

VARIANTS = list(range(20))


def run(capsys, fn, *args, **kwargs):
    result = fn(*args, **kwargs)
    out = capsys.readouterr().out
    assert isinstance(result, Verdict), f"{fn.__name__} returned {type(result).__name__}"
    for mark in ("✅", "❌", "⏳", "⚠"):
        assert mark not in out
    assert len(out) < 600, out
    return bool(result), out


def numbers_in(text):
    return [float(n) for n in re.findall(r"[-+]?\d+(?:\.\d+)?", text)]


# ----------------------------------------------------------------------------- exercise 1
W = dict(T=1314, input_len=24, horizon=12)          # variant 0; right answer: 1279

WINDOW_CASES = [
    # answer, ok, must appear, must not appear
    (1279, True, "1279", None),
    (1279.0, True, "1279", None),
    (1278.99999999999, True, "1279", None),
    (np.int64(1279), True, "1279", None),
    (np.float32(1279), True, "1279", None),
    (torch.tensor(1279), True, "1279", None),
    ("1279", True, "1279", None),
    (" 1279\n", True, "1279", None),
    (None, False, "未作答", "不对"),
    (1278, False, "off-by-one", "H 个"),
    (1280, False, "多了一个", "H 个"),
    (1290, False, "H 个", "off-by-one"),
    (1291, False, "H 个", "off-by-one"),
    (1303, False, "输入也要占 L", "H 个"),
    (1314, False, "起点", "off-by-one"),
    (36, False, "重叠", "off-by-one"),
    (13, False, "窗口个数不对", "off-by-one"),
    (1279.5, False, "不是整数", "off-by-one"),
    (1278.5, False, "不是整数", "off-by-one"),
    ("abc", False, "应是一个数", None),
    (float("inf"), False, "有限", None),
    (float("nan"), False, "有限", None),
    (10 ** 400, False, "窗口个数不对", None),
    ([1279], False, "应是一个数", None),
    (True, False, "应是一个数", None),
    (torch.tensor([1279, 1280]), False, "应是一个数", None),
]


@pytest.mark.parametrize("answer, ok, must, must_not", WINDOW_CASES, ids=[f"w{i}" for i in range(len(WINDOW_CASES))])
def test_window_count_table(capsys, answer, ok, must, must_not):
    got, out = run(capsys, ch01.check_window_count, answer, 0)
    assert_row(got, out, ok, must, must_not)


def test_window_count_variant_0_is_the_chapter():
    from helpers import data, timeseries as ts
    _, temps = data.load_seattle_temps()
    test_s = ts.split_by_time(temps, (0.7, 0.15, 0.15))[2]
    assert ch01.window_inputs(0) == {"T": len(test_s), "input_len": 24, "horizon": 12}
    X, _ = ts.make_windows(test_s, 24, 12)
    assert ch01.window_count(**ch01.window_inputs(0)) == len(X)


def test_window_count_variants(capsys):
    from helpers import timeseries as ts
    answers = {}
    for v in VARIANTS:
        ex = ch01.window_inputs(v)
        right = len(ts.make_windows(torch.zeros(ex["T"]), ex["input_len"], ex["horizon"])[0])   # counted, not the formula
        assert run(capsys, ch01.check_window_count, right, v)[0], v
        mistakes = ch01.window_mistakes(**ex)
        assert len(mistakes) == 7 and right not in mistakes, ex        # every named mistake is its own number
        for wrong, hint in mistakes.items():
            got, out = run(capsys, ch01.check_window_count, wrong, v)
            assert not got and hint in out
        answers[v] = right
    assert len(set(answers.values())) >= 18                             # the variants' answers differ
    for v in VARIANTS[1:]:                                              # a classmate's answer fails
        if answers[v - 1] != answers[v]:
            assert not run(capsys, ch01.check_window_count, answers[v - 1], v)[0]


def test_checkers_follow_the_submitter(capsys, monkeypatch):
    """At autograde the grader sets SEQHW_STUDENT: the checkers judge by that student's variant."""
    from helpers.exercises._core import variant
    monkeypatch.setenv("SEQHW_STUDENT", "student-17")
    v = variant()
    assert v != 0 and ch01.window_inputs() == ch01.window_inputs(v)
    right = ch01.window_count(**ch01.window_inputs(v))
    assert run(capsys, ch01.check_window_count, right)[0]
    assert not run(capsys, ch01.check_window_count, 1279)[0] or right == 1279
    assert run(capsys, ch01.check_teacher_forcing, _pair(ch01.teacher_forcing_inputs(v)))[0]
    assert ch01.calendar_inputs() == ch01.calendar_inputs(v)


def test_window_count_every_drawable_series_keeps_the_mistakes_apart():
    for T in range(300, 3001, 13):
        for L in range(6, 49):
            for H in range(3, 25):
                if abs(L - H) > 1:
                    mistakes = ch01.window_mistakes(T, L, H)
                    assert len(mistakes) == 7 and ch01.window_count(T, L, H) not in mistakes, (T, L, H)


def test_window_count_messages_give_no_answer_away(capsys):
    for v in VARIANTS[:8]:
        ex = ch01.window_inputs(v)
        right = ch01.window_count(**ex)
        for answer in [7, right + 5, right - 9, *ch01.window_mistakes(**ex)]:
            got, out = run(capsys, ch01.check_window_count, answer, v)
            assert not got
            for n in numbers_in(out):
                assert not run(capsys, ch01.check_window_count, n, v)[0], out
            assert "T − L − H + 1" not in out and "T - L - H + 1" not in out       # nor the formula


# ----------------------------------------------------------------------------- exercise 2
RIGHT_IN = ["<bos>", "二", "千", "零", "四", "十", "八"]
RIGHT_OUT = ["二", "千", "零", "四", "十", "八", "<eos>"]

TEACHER_CASES = [
    ((RIGHT_IN, RIGHT_OUT), True, "<eos>", None),
    ((tuple(RIGHT_IN), tuple(RIGHT_OUT)), True, "正确", None),
    (("<bos>二千零四十八", "二千零四十八<eos>"), True, "正确", None),
    (("<bos> 二 千 零 四 十 八\n", " 二 千 零 四 十 八 <eos>"), True, "正确", None),
    ({"tgt_in": RIGHT_IN, "tgt_out": RIGHT_OUT}, True, "正确", None),
    ([RIGHT_IN, RIGHT_OUT], True, "正确", None),
    (None, False, "未作答", None),
    ((RIGHT_OUT, RIGHT_IN), False, "弄反", "中间的字"),
    ((RIGHT_IN, RIGHT_IN), False, "不能一样", "弄反"),
    (("<bos>两千零四十八", "两千零四十八<eos>"), False, "两", "弄反"),
    (("二千零四十八", "二千零四十八<eos>"), False, "开始符", "结束符"),
    (("<bos>二千零四十八", "二千零四十八"), False, "结束符", "开始符"),
    (("<bos>二千零四十八<eos>", "二千零四十八<eos>"), False, "不该有 <eos>", "开始符"),
    (("<bos>二千零四十八", "<bos>二千零四十八<eos>"), False, "不该有 <bos>", "结束符"),
    (("<bos>八十四零千二", "八十四零千二<eos>"), False, "反转", "弄反"),
    (("<bos>二千四十八", "二千四十八<eos>"), False, "中间的字", "弄反"),
    (("<bos>2048", "2048<eos>"), False, "中间的字", "弄反"),
    ("<bos>二千零四十八", False, "两个序列", None),
    (RIGHT_IN, False, "两个序列", None),
    (42, False, "两个序列", None),
    (([1, 2], RIGHT_OUT), False, "tgt_in 应是", None),
    ((RIGHT_IN, 7), False, "tgt_out 应是", None),
    ((RIGHT_IN, RIGHT_OUT, RIGHT_OUT), False, "两个序列", None),
    (("<bos>" * 100_000, "x"), False, "中间的字", None),
]


@pytest.mark.parametrize("answer, ok, must, must_not", TEACHER_CASES)
def test_teacher_forcing_table(capsys, answer, ok, must, must_not):
    got, out = run(capsys, ch01.check_teacher_forcing, answer, 0)
    assert_row(got, out, ok, must, must_not)


def test_teacher_forcing_pair_matches_the_seq2seq_encoding():
    from helpers import seq2seq as s2s
    for v in VARIANTS[:5]:
        n = ch01.teacher_forcing_inputs(v)
        reading = s2s.number_to_chinese(n)
        vocab = s2s.make_vocab([reading])
        tgt_in, _ = s2s.encode_batch([reading], vocab, bos=True)
        tgt_out, _ = s2s.encode_batch([reading], vocab, eos=True)
        right_in, right_out = ch01.teacher_forcing_pair(n)
        assert vocab.decode(tgt_in[0].tolist()) in ("".join(right_in), " ".join(right_in), right_in)
        assert vocab.decode(tgt_out[0].tolist()) in ("".join(right_out), " ".join(right_out), right_out)


def _pair(n):
    from helpers import seq2seq as s2s
    reading = list(s2s.number_to_chinese(n))
    return ["<bos>"] + reading, reading + ["<eos>"]


def test_teacher_forcing_variants(capsys):
    answers = {}
    for v in VARIANTS:
        n = ch01.teacher_forcing_inputs(v)
        assert run(capsys, ch01.check_teacher_forcing, _pair(n), v)[0], (v, n)
        answers[v] = _pair(n)
    assert ch01.teacher_forcing_inputs(0) == 2048
    assert len({str(a) for a in answers.values()}) == len(VARIANTS)
    for v in VARIANTS[1:]:
        assert not run(capsys, ch01.check_teacher_forcing, answers[v - 1], v)[0]


def test_teacher_forcing_messages_give_no_answer_away(capsys):
    for v in VARIANTS[:6]:
        right_in, right_out = _pair(ch01.teacher_forcing_inputs(v))
        reading = right_in[1:]
        wrong = [(right_out, right_in), (reading, right_out), (right_in, reading), (right_in, right_in),
                 (["<bos>"] + reading[::-1], reading[::-1] + ["<eos>"]), (["<bos>", "一"], ["一", "<eos>"])]
        for answer in wrong:
            got, out = run(capsys, ch01.check_teacher_forcing, answer, v)
            assert not got
            assert "".join(reading) not in out and str(right_in) not in out and str(right_out) not in out, out


# ----------------------------------------------------------------------------- exercise 3
RIGHT_MODES = {"图像分类": "one-to-one", "看图说话": "one-to-many", "情感分析": "many-to-one",
               "视频分类": "many-to-one", "词性标注": "many-to-many-equal", "机器翻译": "many-to-many-unequal"}


class _BadKey:
    def __str__(self):
        raise RuntimeError("boom")


IO_CASES = [
    (RIGHT_MODES, True, "都归对了", None),
    ({t: f"  {m.upper()} \n" for t, m in RIGHT_MODES.items()}, True, "都归对了", None),
    ({f"{t} ": m for t, m in RIGHT_MODES.items()}, True, "都归对了", None),
    ({**RIGHT_MODES, "语音识别": "many-to-many-unequal"}, True, "都归对了", None),       # an extra task is ignored
    (None, False, "未作答", None),
    ({**RIGHT_MODES, "词性标注": "many-to-many-unequal", "看图说话": "many-to-one"}, False, "2 个任务", None),
    ({**RIGHT_MODES, "看图说话": "many-to-many-unequal"}, False, "编码器-解码器", "一样长"),
    ({**RIGHT_MODES, "词性标注": "many-to-many-unequal"}, False, "一样长", "看图说话"),
    ({**RIGHT_MODES, "情感分析": "many-to-many-equal"}, False, "只有一个标签", None),
    ({t: "many-to-one" for t in RIGHT_MODES}, False, "4 个任务", None),                  # one mode for all
    ({"图像分类": "one-to-one"}, False, "还缺", None),
    ({**RIGHT_MODES, "机器翻译": "seq2seq"}, False, "只能是", None),
    ({**RIGHT_MODES, "机器翻译": 3}, False, "只能是", None),
    ({**RIGHT_MODES, "机器翻译": "x" * 100_000}, False, "只能是", None),
    ({_BadKey(): 1}, False, "字典", None),
    (["one-to-one"], False, "字典", None),
    ("one-to-one", False, "字典", None),
]


@pytest.mark.parametrize("answer, ok, must, must_not", IO_CASES)
def test_io_modes_table(capsys, answer, ok, must, must_not):
    got, out = run(capsys, ch01.check_io_modes, answer)
    assert_row(got, out, ok, must, must_not)


def test_io_hints_do_not_name_the_mode(capsys):
    """W15: the chapter lists 看图说话 under unequal-length seq2seq; the hint explains it without
    handing the student the mode to write."""
    assert "讲义" in ch01.IO_TASKS["看图说话"]
    for task, hint in ch01.IO_TASKS.items():
        assert not any(m in hint for m in ch01.MODES), task
    assert ch01.io_modes() == RIGHT_MODES and set(ch01.IO_TASKS) == set(RIGHT_MODES)


# ----------------------------------------------------------------------------- exercise 4
@pytest.fixture(scope="module")
def daily():
    """Real models on the chapter's daily data, trained as the notebook trains them (25 epochs,
    KeepBest on the validation windows): the calendar model (the chapter's direct_d), an honest
    temperature-only model for two seeds, an untrained one, and one fitted on the test windows."""
    from helpers import timeseries as ts
    from helpers.env import set_seed
    from helpers.train import fit

    w = ch01.daily_windows()
    sc = w["scaler"]
    (Xtr, Ytr), (Xva, Yva), (Xte, Yte) = w["train"], w["val"], w["test"]
    z = {name: sc.transform(Y) for name, Y in (("train", Ytr), ("val", Yva), ("test", Yte))}

    def train(seed, ch, on="train", keep_on="val", epochs=25):
        set_seed(seed)
        m = ts.GRUForecaster(hidden_size=32, n_out=14, input_size=ch)
        Xk = {"val": Xva, "test": Xte}[keep_on]
        keep = ts.KeepBest(lambda m: float(ts.mae_by_horizon(m(Xk[..., :ch]), z[keep_on]).mean()))
        X = {"train": Xtr, "test": Xte}[on]
        fit(m, lambda m, X, Y: torch.nn.functional.mse_loss(m(X), Y), (X[..., :ch], z[on]), epochs=epochs,
            batch_size=64, lr=1e-2, seed=seed, eval_fn=keep, desc="test")
        keep.restore(m)
        return m

    def mae(m, part="test"):
        X, Y = w[part]
        return ts.mae_by_horizon(sc.inverse(ts.direct_forecast(m, X[..., :m.gru.input_size])), Y)

    torch.set_num_threads(1)
    cal, temp, temp2 = train(0, 3), train(0, 1), train(1, 1)
    set_seed(0)
    untrained = ts.GRUForecaster(hidden_size=32, n_out=14, input_size=1)
    test_fitted = train(0, 1, on="test")
    return dict(cal=cal, temp=temp, temp2=temp2, untrained=untrained, test_fitted=test_fitted, mae=mae,
                std=sc.std, naive=ch01.naive_mae())


def _helps(d, mae_temp):
    return bool(d["mae"](d["cal"])[6:].mean() < mae_temp[6:].mean())


class _Exploding(torch.nn.Module):
    @property
    def gru(self):
        raise RuntimeError("boom")


def _calendar_cases(d):
    """(model, mae_without, helps, calendar_model), ok, must appear."""
    R, C = d["temp"], d["cal"]
    mae = d["mae"](R)
    helps = _helps(d, mae)
    mae_c, naive = d["mae"](C), d["naive"]
    mine = d["mae"](d["temp2"])
    return [
        ((R, mae, helps, C), True, "一致"),
        ((R, mae.numpy(), helps, C), True, "一致"),
        ((R, mae.numpy().astype(np.float32), np.bool_(helps), C), True, "一致"),
        ((R, mae.tolist(), int(helps), C), True, "一致"),
        ((R, [round(float(x), 2) for x in mae], helps, C), True, "一致"),           # typed as the table prints
        ((R, mae.double(), helps, C), True, "一致"),
        ((R, mae, not helps, C), False, "不一致"),
        ((R, mae_c, helps, C), False, "带日历特征"),
        ((R, naive, helps, C), False, "朴素预测"),
        ((R, mae / d["std"], helps, C), False, "标准化"),
        ((R, d["mae"](R, "val"), helps, C), False, "验证段"),
        ((R, mae + 0.3, False, C), False, "不一致"),                                 # made up, self-consistent
        ((R, mae_c + 0.45, True, C), False, "不一致"),                               # made up, looks right
        ((R, mine, _helps(d, mine), C), False, "不一致"),                            # a classmate's numbers
        ((R, mae + 0.02, helps, C), False, "不一致"),                                # beyond the printed precision
        ((d["temp2"], mine, _helps(d, mine), C), True, "一致"),                      # another seed, honest
        ((d["untrained"], d["mae"](d["untrained"]), False, C), False, "没有训练好"),
        ((d["test_fitted"], d["mae"](d["test_fitted"]), True, C), False, "测试窗口上训练过"),
        ((C, mae_c, False, C), False, "还看着日历"),
        ((R, mae, helps, d["untrained"]), False, "第四个参数"),                      # not the calendar model
        ((R, mae, helps, R), False, "第四个参数"),
        ((R, mae, helps, None), False, "第四个参数"),
        ((None, mae, helps, C), False, "未作答"),
        ((R, None, helps, C), False, "未作答"),
        ((R, mae, None, C), False, "未作答"),
        ((R, mae[:5], helps, C), False, "形状"),
        ((R, torch.full((14,), float("nan")), helps, C), False, "NaN"),
        ((R, torch.zeros(10 ** 6), helps, C), False, "形状"),
        ((R, "abc", helps, C), False, "应是"),
        ((R, mae, "yes", C), False, "True 或 False"),
        (("model", mae, helps, C), False, "GRUForecaster"),
        ((_Exploding(), mae, helps, C), False, "GRUForecaster"),
        ((torch.nn.Linear(2, 2), mae, helps, C), False, "GRUForecaster"),
    ]


def test_calendar_experiment_table(capsys, daily):
    for i, (args, ok, must) in enumerate(_calendar_cases(daily)):
        got, out = run(capsys, ch01.check_calendar_experiment, *args)
        assert got is ok and must in out, (i, out)


def test_calendar_bars_separate_the_models_measured(daily):
    naive = daily["naive"][6:].mean()
    ratio = {k: float(daily["mae"](daily[k])[6:].mean() / naive) for k in ("temp", "temp2", "untrained", "cal")}
    assert ratio["temp"] < ch01.TRAINED_BAR - 0.03 and ratio["temp2"] < ch01.TRAINED_BAR - 0.03
    assert ratio["untrained"] > ch01.TRAINED_BAR + 0.03
    for k in ("temp", "temp2"):
        m = daily[k]
        assert daily["mae"](m).mean() / daily["mae"](m, "val").mean() > ch01.TEST_FIT_BAR + 0.03
    tf = daily["test_fitted"]
    assert daily["mae"](tf).mean() / daily["mae"](tf, "val").mean() < ch01.TEST_FIT_BAR - 0.03


def test_calendar_failure_messages_give_no_number_back(capsys, daily):
    for args, ok, _ in _calendar_cases(daily):
        got, out = run(capsys, ch01.check_calendar_experiment, *args)
        if got:
            continue
        for n in numbers_in(out):
            assert not run(capsys, ch01.check_calendar_experiment, args[0], torch.full((14,), n), args[2], args[3])[0]


def test_calendar_variants_change_the_seed():
    seeds = {v: ch01.calendar_inputs(v)["seed"] for v in VARIANTS}
    assert seeds[0] == 0 and len(set(seeds.values())) == len(seeds)
    assert all(ch01.calendar_inputs(v)["hidden_size"] == 32 for v in VARIANTS)


def test_calendar_windows_are_the_chapters():
    from helpers import data, timeseries as ts
    w = ch01.daily_windows()
    assert tuple(w["test"][0].shape) == (206, 21, 3) and tuple(w["test"][1].shape) == (206, 14)
    days, weather = data.load_seattle_weather()
    temp = (weather["temp_max"] + weather["temp_min"]) / 2
    # the last target is the last day, in °C
    assert math.isclose(float(w["test"][1][-1, -1]), float(temp[-1]), abs_tol=1e-4)


def test_reference_functions_are_marked():
    for fn in (ch01.window_count, ch01.window_mistakes, ch01.teacher_forcing_pair, ch01.io_modes,
               ch01.forecaster_mae, ch01.naive_mae):
        assert getattr(fn, "__seqcourse_reference__", False), fn.__name__
    for fn in (ch01.window_inputs, ch01.teacher_forcing_inputs, ch01.calendar_inputs, ch01.daily_windows):
        assert not getattr(fn, "__seqcourse_reference__", False), fn.__name__


def test_student_edition_says_graded_later(capsys, monkeypatch):
    def stripped(*a, **k):
        raise GradedAtSubmission()
    for name in ("window_count", "window_mistakes", "teacher_forcing_pair", "io_modes", "forecaster_mae", "naive_mae"):
        monkeypatch.setattr(ch01, name, stripped)
    for check, answer in ((ch01.check_window_count, 1279), (ch01.check_teacher_forcing, (RIGHT_IN, RIGHT_OUT)),
                          (ch01.check_io_modes, RIGHT_MODES)):
        got, out = run(capsys, check, answer)
        assert not got and "已收到" in out
    from helpers import timeseries as ts
    # the experiment's property checks still speak before the reference is needed
    got, out = run(capsys, ch01.check_calendar_experiment, ts.GRUForecaster(n_out=14, input_size=3), [1.0] * 14,
                   True, ts.GRUForecaster(n_out=14, input_size=3))
    assert not got and "还看着日历" in out


def test_checkers_never_raise_on_strange_answers(capsys):
    from helpers import timeseries as ts
    C = ts.GRUForecaster(n_out=14, input_size=3)
    for answer in HOSTILE:
        for check in (ch01.check_window_count, ch01.check_teacher_forcing, ch01.check_io_modes):
            assert not check(answer)
        assert not ch01.check_calendar_experiment(answer, answer, answer, C)
        assert not ch01.check_calendar_experiment(answer, answer, answer, answer)
    capsys.readouterr()


def test_verdicts_display_nothing():
    assert Verdict(False)._ipython_display_() is None
