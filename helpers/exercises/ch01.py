"""Checkers for chapter 01 (sequence tasks).

Each checker prints one verdict line and returns a :class:`~helpers.exercises._core.Verdict`
(truthy when right, shows nothing in a notebook); none raises, whatever the answer.

1. ``check_window_count(answer, T, input_len, horizon)``: how many sliding windows a series gives.
2. ``check_teacher_forcing(answer, n)``: the decoder input ``tgt_in`` and target ``tgt_out`` of
   the number n (teacher forcing, as in the chapter's encoder-decoder).
3. ``check_io_modes(answer)``: each task of ``IO_TASKS`` in one of the five input/output modes.
4. ``check_calendar_experiment(mae_without, helps, mae_with, mae_naive)`` (experiment): the
   student trains the daily direct forecaster without the day-of-year features and says whether
   the features helped at the longer horizons; the checker judges that against the student's
   own numbers.
"""
from __future__ import annotations

import re

import torch

from ..seq2seq import number_to_chinese
from ._core import Verdict, checker, close, describe, read_bool, read_int, read_tensor, unanswered, verdict

MODES = ("one-to-one", "one-to-many", "many-to-one", "many-to-many-equal", "many-to-many-unequal")

# task -> (correct mode, hint shown when the student picks another mode)
IO_TASKS = {
    "图像分类": ("one-to-one", "一张图片（一个输入）→ 一个类别（一个输出），中间没有序列。"),
    "看图说话": ("one-to-many", "输入是一张图片（一个向量，不是序列），输出是一句话（多个词）；"
                            "讲义把它列在“不等长序列到序列”下，是因为它也用编码器-解码器结构，"
                            "但按输入输出模式它是 one-to-many。"),
    "情感分析": ("many-to-one", "输入是一串词，输出只有一个标签（好评/差评）。"),
    "视频分类": ("many-to-one", "输入是一串视频帧，输出只有一个类别。"),
    "词性标注": ("many-to-many-equal", "每个词恰好得到一个词性标签：输出和输入一样长。"),
    "机器翻译": ("many-to-many-unequal", "译文的长度一般和原文不同，要先编码整句、再逐词生成（Encoder-Decoder）。"),
}

BOS, EOS = "<bos>", "<eos>"


def _none() -> Verdict:
    """A falsy verdict whose message a reader (read_*, unanswered) already printed."""
    return Verdict(False)


# ----------------------------------------------------------------------------- exercise 1
@checker
def check_window_count(answer, T: int, input_len: int, horizon: int):
    """How many (input, target) windows does a series of length T give (sliding by 1)?"""
    if unanswered(answer):
        return _none()
    value = read_int(answer, "窗口个数")
    if value is None:
        return _none()
    right = T - input_len - horizon + 1
    if value == right:
        return verdict(True, f"N = T − L − H + 1 = {T} − {input_len} − {horizon} + 1 = {right}。")
    hints = {
        T - input_len - horizon: "差一个（off-by-one）：起点 i 可以取 0, 1, ..., T − L − H，一共 T − L − H + 1 个。",
        T - input_len - horizon + 2: "多了一个（off-by-one）：起点 i 最大是 T − L − H，从 0 数到它一共 T − L − H + 1 个。",
        T - input_len: "你忘了目标也要占 H 个值：最后一个窗口之后还必须剩下 H 个未来值。",
        T - input_len + 1: "你忘了目标也要占 H 个值：最后一个窗口之后还必须剩下 H 个未来值。",
        T - horizon + 1: "你忘了输入也要占 L 个值：第一个窗口的目标从第 L + 1 个值才开始。",
        T: "不是每个时刻都能当起点：窗口（L 个输入 + H 个目标）必须整个落在序列里。",
        T // (input_len + horizon): "窗口每次只滑动 1 步、可以重叠，不是把序列切成不重叠的块。",
    }
    hint = hints.get(value)
    if hint is None:
        given = str(value) if abs(value) < 10 ** 12 else describe(value, limit=24)
        hint = (f"期望一个整数 N（T = {T}, L = {input_len}, H = {horizon}），得到 {given}。"
                "想一想：第一个窗口从 0 开始，最后一个窗口的目标必须以第 T 个值结束。")
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


def teacher_forcing_pair(n: int) -> tuple[list[str], list[str]]:
    """(tgt_in, tgt_out) of the number n: <bos> + reading, and reading + <eos>."""
    reading = list(number_to_chinese(n))
    return [BOS] + reading, reading + [EOS]


@checker
def check_teacher_forcing(answer, n: int = 2048):
    """answer = (tgt_in, tgt_out): the decoder's inputs and targets for the number n (teacher forcing)."""
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
    right_in, right_out = teacher_forcing_pair(n)
    reading = right_in[1:]
    if tgt_in == right_in and tgt_out == right_out:
        return verdict(True, f"解码器第 j 步读入正确的上一个字 tgt_in[j]，要预测 tgt_out[j]："
                             f"读入 {right_in[0]} 时预测 {right_out[0]}，读入 {right_in[-1]} 时预测 {EOS}。")
    as_er = ([t.replace("两", "二") for t in tgt_in], [t.replace("两", "二") for t in tgt_out])
    if "两" in "".join(tgt_in + tgt_out) and as_er == (right_in, right_out):
        return verdict(False, "口语里常说“两”，但本课程（和训练数据）统一用“二”，请按这个约定写。")
    if tgt_in == right_out and tgt_out == right_in:
        return verdict(False, "两个弄反了：解码器的输入以 <bos> 开头（第一步还没有上一个字），"
                              "目标以 <eos> 结尾（模型要学会何时停）。")
    if tgt_in == tgt_out:
        return verdict(False, "输入和目标不能一样：目标是输入向左错开一位的序列，第 j 步的目标是第 j + 1 步的输入。")
    if [t for t in tgt_in + tgt_out if t not in (BOS, EOS)] == (reading[::-1] * 2) and reading != reading[::-1]:
        return verdict(False, "只有编码器的输入（阿拉伯数字）被反转了；解码器按正常顺序写出读法。")
    problems = []
    if tgt_in[:1] != [BOS]:
        problems.append("tgt_in 要以 <bos> 开头：第一步还没有“上一个字”，就读入开始符")
    if EOS in tgt_in:
        problems.append("tgt_in 里不该有 <eos>：最后一步读入的是最后一个字，它的目标才是 <eos>")
    if tgt_out[-1:] != [EOS]:
        problems.append("tgt_out 要以 <eos> 结尾：模型要学会写完就停")
    if BOS in tgt_out:
        problems.append("tgt_out 里不该有 <bos>：开始符只当输入，不是要预测的字")
    if [t for t in tgt_in if t not in (BOS, EOS)] != reading or [t for t in tgt_out if t not in (BOS, EOS)] != reading:
        problems.append(f"中间的字应是 {n} 的读法 {''.join(reading)}（按本章的读法约定）")
    if not problems:
        problems.append(f"期望 tgt_in = {right_in}，tgt_out = {right_out}")
    return verdict(False, "；".join(problems) + f"。你写的是 tgt_in = {tgt_in}，tgt_out = {tgt_out}。")


# ----------------------------------------------------------------------------- exercise 3
def _mode(value):
    """A mode name with surrounding whitespace and letter case ignored; None if it is not a string."""
    return value.strip().lower() if isinstance(value, str) else None


@checker
def check_io_modes(answer):
    """answer: dict task -> one of MODES, for every task in IO_TASKS."""
    if unanswered(answer):
        return _none()
    if not isinstance(answer, dict):
        return verdict(False, f"答案应是一个字典 {{任务: 模式}}，得到 {describe(answer)}。")
    answer = {str(k).strip(): v for k, v in answer.items()}
    missing = [t for t in IO_TASKS if t not in answer]
    if missing:
        return verdict(False, f"还缺这些任务：{'、'.join(missing)}。")
    bad = [(t, answer[t]) for t in IO_TASKS if _mode(answer[t]) not in MODES]
    if bad:
        return verdict(False, f"模式只能是 {', '.join(MODES)} 之一；「{bad[0][0]}」得到 {describe(bad[0][1])}。")
    wrong = [(t, _mode(answer[t])) for t, (mode, _) in IO_TASKS.items() if _mode(answer[t]) != mode]
    if not wrong:
        return verdict(True, "六个任务都归对了。")
    lines = [f"「{t}」不是 {m}：{IO_TASKS[t][1]}" for t, m in wrong]
    return verdict(False, f"{len(wrong)} 个任务归错了：\n   " + "\n   ".join(lines))


# ----------------------------------------------------------------------------- exercise 4
@checker
def check_calendar_experiment(mae_without, helps, mae_with, mae_naive, start: int = 7):
    """Experiment: the daily direct GRU without the day-of-year features.

    mae_without: the student's test MAE per horizon h = 1..H (°C) of the model trained without
    the calendar features; helps: the student's reading, True if the calendar features lowered
    the mean MAE over h = start..H; mae_with / mae_naive: the chapter's direct GRU (with the
    features) and the naive forecast on the same test windows.
    """
    if unanswered(mae_without) or unanswered(helps):
        return _none()
    mae_with = torch.as_tensor(mae_with, dtype=torch.float64).flatten()
    mae_naive = torch.as_tensor(mae_naive, dtype=torch.float64).flatten()
    H = len(mae_with)
    ours = read_tensor(mae_without, (H,), f"不用日历特征的 MAE（每个步长一个，共 {H} 个）")
    if ours is None:
        return _none()
    said = read_bool(helps, "“日历特征有帮助吗”")
    if said is None:
        return _none()
    if close(ours, mae_with, tol=1e-4):
        return verdict(False, "这是本章带日历特征的直接模型的误差；请重新训练一个只看气温"
                              "（input_size=1，窗口取 X[..., :1]）的模型，再算它的 MAE。")
    if close(ours, mae_naive, tol=1e-4):
        return verdict(False, "这是朴素预测（重复最后值）的误差；请算你训练的模型的 MAE。")
    if (ours <= 0).any() or ours.mean() > 3 * mae_naive.mean():
        return verdict(False, f"这些数不像训练过的模型在测试段上的 MAE（°C）：平均 {float(ours.mean()):.2f}，"
                              f"朴素预测平均 {float(mae_naive.mean()):.2f}。忘了换回 °C（scaler.inverse），"
                              "或者模型还没训练？")
    late = slice(start - 1, H)
    without, with_ = float(ours[late].mean()), float(mae_with[late].mean())
    measured = with_ < without
    numbers = f"h = {start}..{H} 的平均 MAE：带日历 {with_:.2f} °C，不带日历 {without:.2f} °C"
    if said == measured:
        why = ("日历告诉模型现在是一年中的哪一天，它就能在长步长上把预测拉回这个季节的常见气温；"
               "只看过去几周的气温，季节要靠模型自己猜。") if measured else \
              "在你的这次运行里，只看过去几周的气温就够猜出季节了（可以换个种子再试一次，看结论是否稳定）。"
        return verdict(True, f"{numbers}，你的结论与你的数字一致。{why}")
    return verdict(False, f"{numbers}，所以日历特征{'确实' if measured else '没有'}让长步长的误差变小；"
                          f"你的答案是 {said}。请按你自己量到的数字下结论。")
