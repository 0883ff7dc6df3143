"""Checkers for chapter 09, part 1 (speech and sensors: sequences of different lengths).

Each checker prints one verdict line and returns a :class:`~helpers.exercises._core.Verdict`
(truthy when right, shows nothing in a notebook); none raises, whatever the answer. Failure
messages name the mistake, never the reference numbers (the exercises are graded with nbgrader).

1. ``check_mask(answer, lengths, T)``: the (B, T) boolean mask, True on real frames.
2. ``check_last_output(fn)``: fn(outputs, lengths) -> each sequence's output at its own last real frame.
3. ``check_channel_experiment(answer, model, channels)`` (experiment): the student's own test
   accuracy of a GRU trained on some BasicMotions channels; the checker recomputes it from the
   student's model and channels and judges the number and that the model beat guessing.
"""
from __future__ import annotations

import numpy as np
import torch

from ..env import generator
from ._core import (Verdict, answer_dtype, checker, close, describe, quiet_false, read_number, read_tensor, run_student,
                    unanswered, verdict)


# ----------------------------------------------------------------------------- exercise 1
@checker
def check_mask(answer, lengths, T: int) -> Verdict:
    """answer: (B, T) bool, True where frame t < lengths[b] (real), False on the padding."""
    if unanswered(answer):
        return quiet_false()
    lengths = torch.as_tensor(lengths, dtype=torch.int64)
    want = torch.arange(T)[None, :] < lengths[:, None]
    given_bool = isinstance(answer, torch.Tensor) and answer.dtype == torch.bool
    if not given_bool and isinstance(answer, (np.ndarray, list, tuple)):
        try:
            as_array = np.asarray(answer)
        except Exception:  # ragged lists and the like: read_tensor below explains
            as_array = None
        if as_array is not None and as_array.dtype == np.bool_:
            answer, given_bool = torch.from_numpy(as_array.copy()), True
    if given_bool:
        got = answer
    else:
        got = read_tensor(answer, (len(lengths), T), "掩码")
        if got is None:
            return quiet_false()
        if not torch.all((got == 0) | (got == 1)):
            return verdict(False, "掩码只有两种值：True（真实帧）和 False（填充）。")
        got = got != 0
    if tuple(got.shape) != (len(lengths), T):
        return verdict(False, f"形状应是 (B, T) = ({len(lengths)}, {T})，得到 {tuple(got.shape)}。")
    if torch.equal(got, want):
        if given_bool:
            return verdict(True, "每行前 length 个位置为 True，其余是填充。")
        return verdict(True, "位置都对；在 PyTorch 里最好直接用布尔张量（dtype=torch.bool）。")
    if torch.equal(got, ~want):
        return verdict(False, "True 和 False 反了：本章约定 True = 真实帧，False = 填充。")
    if torch.equal(got, torch.arange(T)[None, :] <= lengths[:, None]):
        return verdict(False, "差一位：帧的编号从 0 开始，长度为 L 的序列占 0..L-1，应是 t < L 而不是 t <= L。")
    if torch.equal(got, torch.arange(T)[None, :] < (lengths.max() - lengths)[:, None]):
        return verdict(False, "这像是填充的长度，不是序列长度：True 的个数应等于每条序列自己的长度。")
    if torch.equal(got, torch.arange(T)[None, :] >= (T - lengths)[:, None]):
        return verdict(False, "True 放在了末尾：pad() 把填充补在序列之后，真实帧在每行的开头。")
    return verdict(False, "每一行应是开头连续 length 个 True，后面全是 False。")


# ----------------------------------------------------------------------------- exercise 2
def _demo_outputs(seed: int = 9, B: int = 4, T: int = 6, H: int = 3):
    g = generator(seed)
    out = torch.randn(B, T, H, generator=g, dtype=torch.float64)
    lengths = torch.tensor([6, 2, 4, 1])[:B]
    return out, lengths


def _last(out, lengths):
    return out[torch.arange(len(lengths)), lengths - 1]


@checker
def check_last_output(fn) -> Verdict:
    """fn(outputs (B, T, H), lengths (B,)) must return outputs[b, lengths[b] - 1] for every b: (B, H)."""
    out, lengths = _demo_outputs()
    ok, res = run_student(fn, (out, lengths), "my_last_output(outputs, lengths)",
                          "outputs 是 (B, T, H)，lengths 是 (B,) 的整数张量。")
    if not ok:
        return quiet_false()
    got = read_tensor(res, (out.shape[0], out.shape[2]), "返回值")
    if got is None:
        return quiet_false()
    dtype = answer_dtype(res)
    if close(got, _last(out, lengths), dtype=dtype):
        return verdict(True, "每条序列取它自己最后一个真实帧的输出（下标 length - 1）。")
    if close(got, out[:, -1], dtype=dtype):
        return verdict(False, "取的是填充后的最后一列 outputs[:, -1]：短序列在那里已经读了好几帧填充。")
    if close(got, out[torch.arange(len(lengths)), lengths.clamp(max=out.shape[1] - 1)], dtype=dtype):
        return verdict(False, "差一位：长度为 L 的序列最后一个真实帧的下标是 L - 1。")
    if close(got, out[:, 0], dtype=dtype):
        return verdict(False, "取的是第一帧：要的是每条序列最后一个真实帧。")
    return verdict(False, "对第 b 条序列应取 outputs[b, lengths[b] - 1]；可以用 torch.arange(B) 和 lengths - 1 做高级索引。")


# ----------------------------------------------------------------------------- exercise 3 (experiment)
def _test_accuracy(model, channels) -> float:
    """The accuracy of the student's model on the BasicMotions test set restricted to ``channels``,
    standardized with the statistics of the training set's same channels (as in the chapter)."""
    from ..data import load_basic_motions
    from ..varlen import Standardizer, accuracy, predict

    xtr, _ = load_basic_motions("train")
    xte, yte = load_basic_motions("test")
    scale = Standardizer([s[:, channels] for s in xtr])
    return accuracy(predict(model, scale([s[:, channels] for s in xte])), yte)


def _channels(channels):
    if isinstance(channels, int) and not isinstance(channels, bool):
        channels = [channels]
    if not isinstance(channels, (list, tuple)) or not channels or \
            not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c < 6 for c in channels) or \
            len(set(channels)) != len(channels):
        return None
    return list(channels)


@checker
def check_channel_experiment(answer, model, channels) -> Verdict:
    """answer = the test accuracy (a fraction in [0, 1]) of the student's ``model`` trained on the
    BasicMotions ``channels`` (list of channel ids 0..5, at most 5 of them). The checker recomputes the
    accuracy from the student's own model; the numbers must agree and the model must beat guessing."""
    if unanswered(answer):
        return quiet_false()
    value = read_number(answer, "正确率")
    if value is None:
        return quiet_false()
    if not 0 <= value <= 1:
        if 1 < value <= 100:
            return verdict(False, "正确率请写成 0 到 1 之间的比例（例如 0.85），不是百分数。")
        return verdict(False, f"正确率应在 0 到 1 之间，得到 {value}。")
    chans = _channels(channels)
    if chans is None:
        return verdict(False, f"channels 应是 0..5 中不重复的通道号组成的列表，例如 [3, 4, 5]，得到 {describe(channels)}。")
    if len(chans) == 6:
        return verdict(False, "本题要少于 6 个通道（例如只用陀螺仪的 3 个通道）；6 个通道正文已经做过。")
    from ..varlen import SequenceClassifier

    if not isinstance(model, SequenceClassifier):
        return verdict(False, f"model 应是训练好的 varlen.SequenceClassifier，得到 {describe(model)}。")
    if model.rnn.input_size != len(chans) or model.head.out_features != 4:
        return verdict(False, f"模型的输入通道数（{model.rnn.input_size}）或类别数（{model.head.out_features}）"
                              f"与 channels（{len(chans)} 个通道、4 类）不符。")
    measured = _test_accuracy(model, chans)
    if abs(value - measured) > 1e-6:
        return verdict(False, "你报告的正确率与用你的模型在测试集（这些通道）上重新算出的不一致："
                              "用 varlen.predict 和 varlen.accuracy 在测试集上重新算一次，"
                              "并用训练集同样通道的 Standardizer 缩放。")
    if measured <= 0.25 + 1e-9:
        return verdict(False, "数字对上了，但模型没有胜过瞎猜（4 类，瞎猜约 0.25）：多训练几轮或检查数据。")
    return verdict(True, f"你的模型用 {len(chans)} 个通道在测试集上得到 {measured:.3f}，高于瞎猜的 0.25。"
                         "和正文里 6 个通道的结果比一比，并换几个种子看看它有多稳定。")
