"""Checkers for chapter 01 (sequence tasks). Each prints a verdict with a hint and returns a bool."""
from __future__ import annotations

from ..seq2seq import number_to_chinese
from ._core import as_int, unanswered, verdict

MODES = ("one-to-one", "one-to-many", "many-to-one", "many-to-many-equal", "many-to-many-unequal")

# task -> (correct mode, hint shown when the student picks another mode)
IO_TASKS = {
    "图像分类": ("one-to-one", "一张图片（一个输入）→ 一个类别（一个输出），中间没有序列。"),
    "看图说话": ("one-to-many", "输入是一张图片（一个向量），输出是一句话（多个词）。"),
    "情感分析": ("many-to-one", "输入是一串词，输出只有一个标签（好评/差评）。"),
    "视频分类": ("many-to-one", "输入是一串视频帧，输出只有一个类别。"),
    "词性标注": ("many-to-many-equal", "每个词恰好得到一个词性标签：输出和输入一样长。"),
    "机器翻译": ("many-to-many-unequal", "译文的长度一般和原文不同，要先编码整句、再逐词生成（Encoder-Decoder）。"),
}


def check_window_count(answer, T: int, input_len: int, horizon: int) -> bool:
    """How many (input, target) windows does a series of length T give (sliding by 1)?"""
    if unanswered(answer):
        return False
    value = as_int(answer)
    if value is None:
        return False
    right = T - input_len - horizon + 1
    if value == right:
        return verdict(True, f"N = T − L − H + 1 = {T} − {input_len} − {horizon} + 1 = {right}。")
    hints = {
        T - input_len: "你忘了目标也要占 H 个值：最后一个窗口之后还必须剩下 H 个未来值。",
        T - input_len + 1: "你忘了目标也要占 H 个值：最后一个窗口之后还必须剩下 H 个未来值。",
        T - input_len - horizon: "差一个（off-by-one）：起点 i 可以取 0, 1, ..., T − L − H，一共 T − L − H + 1 个。",
        T: "不是每个时刻都能当起点：窗口（L 个输入 + H 个目标）必须整个落在序列里。",
        T // (input_len + horizon): "窗口每次只滑动 1 步、可以重叠，不是把序列切成不重叠的块。",
    }
    return verdict(False, hints.get(value, f"{value} 不对。想一想：第一个窗口从 0 开始，最后一个窗口的目标必须以第 T 个值结束。"))


def check_io_modes(answer) -> bool:
    """answer: dict task -> one of MODES, for every task in IO_TASKS."""
    if unanswered(answer):
        return False
    if not isinstance(answer, dict):
        return verdict(False, f"答案应是一个字典 {{任务: 模式}}，得到的是 {type(answer).__name__}。")
    missing = [t for t in IO_TASKS if t not in answer]
    if missing:
        return verdict(False, f"还缺这些任务：{'、'.join(missing)}。")
    bad = [m for m in answer.values() if m not in MODES]
    if bad:
        return verdict(False, f"模式只能是 {', '.join(MODES)} 之一，得到了 {bad[0]!r}。")
    wrong = [(t, answer[t]) for t, (mode, _) in IO_TASKS.items() if answer[t] != mode]
    if not wrong:
        return verdict(True, "六个任务都归对了。")
    lines = [f"「{t}」不是 {m}：{IO_TASKS[t][1]}" for t, m in wrong]
    return verdict(False, f"{len(wrong)} 个任务归错了：\n   " + "\n   ".join(lines))


def check_reading(answer, n: int) -> bool:
    """The Chinese reading of n in the course's convention (二, not 两; see helpers.seq2seq)."""
    if unanswered(answer):
        return False
    if not isinstance(answer, str):
        return verdict(False, f"答案应是一个字符串，比如 '二千零四十八'，得到的是 {type(answer).__name__}。")
    right = number_to_chinese(n)
    answer = answer.strip()
    if answer == right:
        return verdict(True, f"{n} 读作 {right}。")
    if answer.replace("两", "二") == right:
        return verdict(False, "口语里常说“两”，也没错；但本课程（和训练数据）统一用“二”，请按这个约定写。")
    if "零零" in answer:
        return verdict(False, "连续几个 0 只读一个“零”。")
    if answer.replace("零", "") == right.replace("零", ""):
        return verdict(False, "中间缺了（或多了）“零”：数字中间有 0 时读一个“零”，末尾的 0 不读。")
    if answer == right.replace("一十", "十"):
        return verdict(False, "只有数字开头的“一十”才省成“十”（12 → 十二）；在数字中间要读“一十”（110 → 一百一十）。")
    return verdict(False, f"{answer!r} 不对。提示：先读“万”以上的部分，再读后四位；中间的 0 读一个“零”。")
