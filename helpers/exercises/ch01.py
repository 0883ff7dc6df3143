"""Checkers for chapter 01 (sequence tasks).

Each checker prints one verdict line and returns a :class:`~helpers.exercises._core.Verdict`
(truthy when right, shows nothing in a notebook); none raises, whatever the answer.

1. ``check_window_count(answer)``: how many sliding windows the series of ``window_inputs()`` gives
   (variant 0: the chapter's test segment, T = 1314, L = 24, H = 12).
2. ``check_teacher_forcing(answer)``: the decoder input ``tgt_in`` and target ``tgt_out`` of the
   number ``teacher_forcing_inputs()`` (variant 0: 2048), as in the chapter's encoder-decoder.
3. ``check_io_modes(answer)``: each task of ``IO_TASKS`` in one of the five input/output modes.
4. ``check_calendar_experiment(model, mae_without, helps, calendar_model)`` (experiment): the
   student trains the daily direct forecaster without the day-of-year features (seed from
   ``calendar_inputs()``), measures its test MAE and says whether the features helped at the
   longer horizons; the checker re-evaluates the student's model and the chapter's on test
   windows it builds itself, and judges the model (trained? fitted on the test windows?), the
   numbers (its own?) and the conclusion (what those numbers say).

Per-student variants: every ``*_inputs(v=None)`` returns the exercise's inputs for variant ``v``
(default: the current student's, see ``_core.variant``; 0 = the chapter as taught), and the
checkers recompute the expected answer for that variant. Functions marked ``@reference`` compute
expected answers (or the wrong answers the hints name); the student edition ships without them.
"""
from __future__ import annotations

import functools
import re

import torch

from ..seq2seq import number_to_chinese
from ._core import (Verdict, checker, close, describe, read_bool, read_int, read_tensor, reference, unanswered,
                    variant, variant_rng, verdict)

MODES = ("one-to-one", "one-to-many", "many-to-one", "many-to-many-equal", "many-to-many-unequal")

# task -> what the task reads and writes (the hint shown when the student picks a wrong mode);
# the modes themselves are in the reference ``io_modes``
IO_TASKS = {
    "图像分类": "输入是一张图片（一个向量，不是序列），输出是一个类别，中间没有序列。",
    "看图说话": "输入是一张图片（一个向量，不是序列），输出是一句话（多个词）；讲义把它列在"
            "“不等长序列到序列”下，是因为它也用编码器-解码器结构，但按输入、输出各是不是序列来分，它不是那一类。",
    "情感分析": "输入是一串词，输出只有一个标签（好评/差评）。",
    "视频分类": "输入是一串视频帧，输出只有一个类别。",
    "词性标注": "每个词恰好得到一个词性标签：输出和输入一样长。",
    "机器翻译": "译文的长度一般和原文不同，要先读完整句、再逐词生成。",
}

BOS, EOS = "<bos>", "<eos>"


def _none() -> Verdict:
    """A falsy verdict whose message a reader (read_*, unanswered) already printed."""
    return Verdict(False)


# ----------------------------------------------------------------------------- exercise 1
def window_inputs(v: int | None = None) -> dict:
    """The series length T, input length L and horizon H of the window count: variant 0 is the
    chapter's test segment (T = len(test_s) = 1314, L = 24, H = 12); other variants draw them so
    that every mistake a hint names gives a different count."""
    v = variant() if v is None else int(v)
    if v == 0:
        return {"T": 1314, "input_len": 24, "horizon": 12}
    draw = variant_rng("ch01.window_count", v)
    while True:      # H >= 3 and |L − H| >= 2 keep the named mistakes apart (tests check all of them)
        T, L, H = int(draw.integers(300, 3001)), int(draw.integers(6, 49)), int(draw.integers(3, 25))
        if abs(L - H) > 1:
            return {"T": T, "input_len": L, "horizon": H}


@reference
def window_count(T: int, input_len: int, horizon: int) -> int:
    """The reference: how many windows of input_len inputs and horizon targets, sliding by 1."""
    return T - input_len - horizon + 1


@reference
def window_mistakes(T: int, input_len: int, horizon: int) -> dict:
    """{wrong count: hint} for the mistakes the hints name (none equal to the right count)."""
    L, H = input_len, horizon
    targets = "你忘了目标也要占 H 个值：最后一个窗口之后还必须剩下 H 个未来值。"
    hints = {
        T - L - H: "差一个（off-by-one）：少数了一个窗口。第一个窗口的起点是 0，最后一个可能的起点也要算上。",
        T - L - H + 2: "多了一个（off-by-one）：最后一个窗口的目标必须以序列的最后一个值结束，不能越过它。",
        T - L: targets,
        T - L + 1: targets,
        T - H + 1: "你忘了输入也要占 L 个值：第一个窗口的目标从第 L + 1 个值才开始。",
        T: "不是每个时刻都能当起点：窗口（L 个输入 + H 个目标）必须整个落在序列里。",
        T // (L + H): "窗口每次只滑动 1 步、可以重叠，不是把序列切成不重叠的块。",
    }
    right = T - L - H + 1
    return {n: hint for n, hint in hints.items() if n != right}


@checker
def check_window_count(answer, v: int | None = None):
    """How many (input, target) windows does the series of ``window_inputs(v)`` give (sliding by 1)?"""
    if unanswered(answer):
        return _none()
    value = read_int(answer, "窗口个数")
    if value is None:
        return _none()
    ex = window_inputs(v)
    T, L, H = ex["T"], ex["input_len"], ex["horizon"]
    right = window_count(T, L, H)
    if value == right:
        return verdict(True, f"T = {T}、L = {L}、H = {H} 的序列切出 {right} 个窗口。")
    hint = window_mistakes(T, L, H).get(value)
    if hint is None:
        hint = (f"窗口个数不对（T = {T}, L = {L}, H = {H}）。"
                "想一想：第一个窗口从第 0 个值开始，最后一个窗口的目标必须以第 T 个值结束。")
    return verdict(False, hint)


# ----------------------------------------------------------------------------- exercise 2
def _tokens(part, name: str):
    """A list of tokens from a list/tuple of strings or from one string ('<bos>二千…', spaces allowed)."""
    if isinstance(part, str):
        return re.findall(r"<[a-z]+>|\S", part.strip())
    if isinstance(part, (list, tuple)) and all(isinstance(t, str) for t in part):
        return [t.strip() for t in part if t.strip()]
    verdict(False, f"{name} 应是一个字符列表（如 ['<bos>', '二', ...]）或一个字符串，得到 {describe(part)}。")
    return None


def teacher_forcing_inputs(v: int | None = None) -> int:
    """The number whose decoder input and target the student writes: 2048 in variant 0 (the
    chapter); other variants draw a number from 1,000 to 99,999 whose reading is not a palindrome
    (so a reversed reading is a different answer)."""
    v = variant() if v is None else int(v)
    if v == 0:
        return 2048
    draw = variant_rng("ch01.teacher_forcing", v)
    while True:
        n = int(draw.integers(1000, 100_000))
        reading = number_to_chinese(n)
        if reading != reading[::-1]:
            return n


@reference
def teacher_forcing_pair(n: int) -> tuple[list[str], list[str]]:
    """(tgt_in, tgt_out) of the number n: <bos> + reading, and reading + <eos>."""
    reading = list(number_to_chinese(n))
    return [BOS] + reading, reading + [EOS]


@checker
def check_teacher_forcing(answer, v: int | None = None):
    """answer = (tgt_in, tgt_out): the decoder's inputs and targets for the number
    ``teacher_forcing_inputs(v)`` (teacher forcing)."""
    if unanswered(answer):
        return _none()
    if isinstance(answer, dict) and set(answer) == {"tgt_in", "tgt_out"}:
        answer = (answer["tgt_in"], answer["tgt_out"])
    if not isinstance(answer, (list, tuple)) or len(answer) != 2 or isinstance(answer[0], str) and len(answer[0]) == 1:
        return verdict(False, f"答案应是两个序列 (tgt_in, tgt_out)，得到 {describe(answer)}。")
    tgt_in, tgt_out = _tokens(answer[0], "tgt_in"), None
    if tgt_in is None:
        return _none()
    tgt_out = _tokens(answer[1], "tgt_out")
    if tgt_out is None:
        return _none()
    n = teacher_forcing_inputs(v)
    right_in, right_out = teacher_forcing_pair(n)
    reading = right_in[1:]
    if tgt_in == right_in and tgt_out == right_out:
        return verdict(True, f"解码器第 j 步读入正确的上一个字 tgt_in[j]，要预测 tgt_out[j]："
                             f"读入 {right_in[0]} 时预测 {right_out[0]}，读入 {right_in[-1]} 时预测 {EOS}。")
    as_er = ([t.replace("两", "二") for t in tgt_in], [t.replace("两", "二") for t in tgt_out])
    if "两" in "".join(tgt_in + tgt_out) and as_er == (right_in, right_out):
        return verdict(False, "口语里常说“两”，但本课程（和训练数据）统一用“二”，请按这个约定写。")
    if tgt_in == right_out and tgt_out == right_in:
        return verdict(False, "两个弄反了：想一想解码器第一步读入什么（那时还没有上一个字），"
                              "最后一步又要学会预测什么。")
    if tgt_in == tgt_out:
        return verdict(False, "输入和目标不能一样：第 j 步的目标，是第 j + 1 步才读入的那个字。")
    middle_in = [t for t in tgt_in if t not in (BOS, EOS)]
    middle_out = [t for t in tgt_out if t not in (BOS, EOS)]
    if middle_in == middle_out == reading[::-1]:
        return verdict(False, "只有编码器的输入（阿拉伯数字）被反转了；解码器按正常顺序写出读法。")
    problems = []
    if tgt_in[:1] != [BOS]:
        problems.append("tgt_in 的第一步缺了开始符：第一步还没有“上一个字”可读")
    if EOS in tgt_in:
        problems.append("tgt_in 里不该有 <eos>：它只当目标，模型读到它时已经写完了")
    if tgt_out[-1:] != [EOS]:
        problems.append("tgt_out 的最后缺了结束符：模型要学会写完就停")
    if BOS in tgt_out:
        problems.append("tgt_out 里不该有 <bos>：开始符只当输入，不是要预测的字")
    if middle_in != reading or middle_out != reading:
        problems.append(f"中间的字应是 {n} 的中文读法（按本章的读法约定，例如用“二”不用“两”，中间的 0 读“零”）")
    if not problems:
        problems.append("开始符、结束符或中间的字的位置不对：对照上面打印的“解码器输入 / 解码器目标”")
    return verdict(False, "；".join(problems) + "。")


# ----------------------------------------------------------------------------- exercise 3
def _mode(value):
    """A mode name with surrounding whitespace and letter case ignored; None if it is not a string."""
    return value.strip().lower() if isinstance(value, str) else None


@reference
def io_modes() -> dict:
    """The reference: each task of ``IO_TASKS`` and its input/output mode."""
    return {"图像分类": "one-to-one", "看图说话": "one-to-many", "情感分析": "many-to-one",
            "视频分类": "many-to-one", "词性标注": "many-to-many-equal", "机器翻译": "many-to-many-unequal"}


@checker
def check_io_modes(answer):
    """answer: dict task -> one of MODES, for every task in IO_TASKS."""
    if unanswered(answer):
        return _none()
    if not isinstance(answer, dict):
        return verdict(False, f"答案应是一个字典 {{任务: 模式}}，得到 {describe(answer)}。")
    try:
        answer = {str(k).strip(): v for k, v in answer.items()}
    except Exception:
        return verdict(False, f"答案应是一个字典 {{任务: 模式}}，得到 {describe(answer)}。")
    missing = [t for t in IO_TASKS if t not in answer]
    if missing:
        return verdict(False, f"还缺这些任务：{'、'.join(missing)}。")
    bad = [(t, answer[t]) for t in IO_TASKS if _mode(answer[t]) not in MODES]
    if bad:
        return verdict(False, f"模式只能是 {', '.join(MODES)} 之一；「{bad[0][0]}」得到 {describe(bad[0][1])}。")
    right = io_modes()
    wrong = [(t, _mode(answer[t])) for t in IO_TASKS if _mode(answer[t]) != right[t]]
    if not wrong:
        return verdict(True, "六个任务都归对了。")
    lines = [f"「{t}」不是 {m}：{IO_TASKS[t]}" for t, m in wrong]
    return verdict(False, f"{len(wrong)} 个任务归错了：\n   " + "\n   ".join(lines))


# ----------------------------------------------------------------------------- exercise 4
# Measured on the chapter's daily data (direct GRU, hidden 32, 25 epochs, KeepBest on validation),
# late = mean test MAE over h = 7..14, relative to the naive forecast's (3.06 °C):
#   temperature only, trained (16 runs: 8 seeds, and variants 0-7 as the reference cell trains
#   them): 0.86 ... 0.92;  untrained (residual: ≈ naive): 0.99 ... 1.02;  one epoch only: 0.96;
#   with the calendar (the chapter's model, 3 seeds): 0.73 ... 0.75.
# Test MAE / validation MAE (all horizons): honest temperature-only models 0.970 ... 1.029; trained
# on the test windows 0.55 ... 0.89 (0.89: validation still used to pick the epoch).
TRAINED_BAR = 0.95       # late MAE / naive late MAE: at most this for a trained model
TEST_FIT_BAR = 0.93      # test / validation MAE below this: the model has seen the test windows
MAE_TOL = 0.006          # the notebook's MAE table prints 2 decimals
LATE_FROM = 7            # the question is about h = 7..14


def calendar_inputs(v: int | None = None) -> dict:
    """The student's settings for the calendar experiment: the seed of ``set_seed`` (variant 0:
    0, the chapter's); hidden size, epochs and learning rate as the chapter's direct model."""
    v = variant() if v is None else int(v)
    seed = 0 if v == 0 else 1 + int(variant_rng("ch01.calendar", v).integers(1, 10_000))
    return {"seed": seed, "hidden_size": 32, "epochs": 25, "lr": 1e-2}


@functools.lru_cache(maxsize=1)
def daily_windows() -> dict:
    """The chapter's daily windows (Seattle 2012-2015, L = 21, H = 14, split by the target's date),
    built here from the installed data so that the checker does not depend on the student's
    variables: {"val": (X, Y °C), "test": (X, Y °C), "train": (X, Y °C), "scaler": Standardizer}."""
    from .. import data, timeseries as ts

    days, weather = data.load_seattle_weather()
    temp = (weather["temp_max"] + weather["temp_min"]) / 2
    L, H, T = 21, 14, len(temp)
    train_end, val_end = round(0.7 * T), round(0.85 * T)
    scaler = ts.Standardizer(temp[:train_end])
    z = scaler.transform(torch.as_tensor(temp, dtype=torch.float32))
    features = torch.cat([z[:, None], ts.day_of_year_features(days)], dim=1)
    out = {"scaler": scaler}
    for name, (a, b) in {"train": (0, train_end), "val": (train_end, val_end), "test": (val_end, T)}.items():
        X, Y, _ = ts.windows_between(features, z, L, H, a, b)
        out[name] = (X, scaler.inverse(Y))
    return out


def _forecaster(model, channels: int | None = None):
    """(input_size, n_out) of a GRUForecaster-like model, or None."""
    try:
        gru, head = getattr(model, "gru", None), getattr(model, "head", None)
    except Exception:
        return None
    if not isinstance(gru, torch.nn.GRU) or not isinstance(head, torch.nn.Linear) or not callable(model):
        return None
    return gru.input_size, head.out_features


@reference
def forecaster_mae(model, part: str = "test") -> torch.Tensor:
    """MAE (°C) per horizon of a direct forecaster on the chapter's daily windows (``part``), fed
    as many input channels as it takes (1: temperature only; 3: with the calendar)."""
    from .. import timeseries as ts

    windows = daily_windows()
    X, Y = windows[part]
    channels = model.gru.input_size
    with torch.no_grad():
        pred = ts.direct_forecast(model, X[..., :channels])
    return ts.mae_by_horizon(windows["scaler"].inverse(pred), Y).double()


@reference
def naive_mae(part: str = "test") -> torch.Tensor:
    """MAE (°C) per horizon of the naive forecast (repeat the last value) on the daily windows."""
    from .. import timeseries as ts

    windows = daily_windows()
    X, Y = windows[part]
    return ts.mae_by_horizon(ts.naive_forecast(windows["scaler"].inverse(X[..., 0]), Y.shape[1]), Y).double()


@checker
def check_calendar_experiment(model, mae_without, helps, calendar_model):
    """Experiment: the daily direct GRU without the day-of-year features.

    model: the student's trained forecaster on the temperature alone (input_size=1, n_out=14);
    mae_without: its test MAE per horizon (°C), as the student measured it; helps: the student's
    reading, True if the calendar features lowered the mean MAE over h = 7..14; calendar_model: the
    chapter's direct model with the features (direct_d). The checker re-evaluates both models on
    the chapter's test windows, which it builds itself, and judges the student's own model.
    """
    if unanswered(model):
        return _none()
    shape = _forecaster(model)
    theirs = _forecaster(calendar_model)
    if theirs is None or theirs[0] != 3:
        return verdict(False, f"第四个参数应是本章带日历特征的直接模型 direct_d（input_size=3），得到 {describe(calendar_model)}。")
    if shape is None:
        return verdict(False, f"model 应是你训练的 ts.GRUForecaster，得到 {describe(model)}。")
    if model is calendar_model or shape[0] != 1:
        return verdict(False, "这个模型还看着日历特征；请训练一个只看气温的新模型"
                              "（input_size=1，窗口取 Xd_train[..., :1]）。")
    if shape[1] != theirs[1]:
        return verdict(False, f"直接模型每个步长一个输出：n_out 应是 {theirs[1]}，你的模型是 {shape[1]}。")
    naive = naive_mae("test")
    late = slice(LATE_FROM - 1, len(naive))
    with_cal = forecaster_mae(calendar_model, "test")
    if with_cal[late].mean() > TRAINED_BAR * naive[late].mean():
        return verdict(False, "第四个参数应是本章训练好的 direct_d；这个带日历的模型看起来没有训练过。")
    mine = forecaster_mae(model, "test")
    if not torch.isfinite(mine).all() or mine[late].mean() > TRAINED_BAR * naive[late].mean():
        return verdict(False, "你的模型在 h = 7..14 上并不比“重复最后值”准多少，看起来没有训练好："
                              "用和 direct_d 一样的轮数、学习率和 KeepBest 训练它。")
    if mine.mean() < TEST_FIT_BAR * forecaster_mae(model, "val").mean():
        return verdict(False, "你的模型在测试段上比在验证段上准得多：它是不是在测试窗口上训练过？"
                              "只用 Xd_train、Yd_train 训练，用验证段挑轮数。")
    if unanswered(mae_without) or unanswered(helps):
        return _none()
    H = len(naive)
    ours = read_tensor(mae_without, (H,), f"不用日历特征的 MAE（每个步长一个，共 {H} 个）")
    if ours is None:
        return _none()
    said = read_bool(helps, "“日历特征有帮助吗”")
    if said is None:
        return _none()
    if not close(ours, mine, tol=MAE_TOL):
        scaler = daily_windows()["scaler"]
        named = [(with_cal, "这是本章带日历特征的直接模型的误差；要交的是你训练的只看气温的模型的 MAE。"),
                 (naive, "这是朴素预测（重复最后值）的误差；要交的是你训练的模型的 MAE。"),
                 (mine / scaler.std, "这像是标准化单位下的误差：先用 scaler_d.inverse 换回 °C 再算 MAE。"),
                 (forecaster_mae(model, "val"), "这是验证段上的误差；题目要测试段（Xd_test）上的。")]
        for wrong, hint in named:
            if close(ours, wrong, tol=MAE_TOL):
                return verdict(False, hint)
        return verdict(False, "这些 MAE 和你交上来的模型在测试段上重新算出的不一致：要交的是这个模型"
                              "在 Xd_test[..., :1] 上每个步长的 MAE（°C）。")
    without, with_ = float(mine[late].mean()), float(with_cal[late].mean())
    measured = with_ < without
    if said != measured:
        return verdict(False, f"你的结论和你自己量到的数字不一致：比较两个模型在 h = {LATE_FROM}..{H} 上的平均 MAE。")
    why = ("日历告诉模型现在是一年中的哪一天，它就能在长步长上把预测拉回这个季节的常见气温；"
           "只看过去几周的气温，季节要靠模型自己猜。") if measured else \
          "在你的这次运行里，只看过去几周的气温就够猜出季节了（可以换个种子再试一次，看结论是否稳定）。"
    return verdict(True, f"h = {LATE_FROM}..{H} 的平均 MAE：带日历 {with_:.2f} °C，不带日历 {without:.2f} °C，"
                         f"你的结论与你的数字一致。{why}")
