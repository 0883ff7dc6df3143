"""Checkers for chapter 09, part 1 (speech and sensors: sequences of different lengths).

Each checker prints one verdict line and returns a :class:`~helpers.exercises._core.Verdict`
(truthy when right, shows nothing in a notebook); none raises, whatever the answer. Failure
messages name the mistake, never the reference numbers (the exercises are graded with nbgrader).

1. ``check_mask(answer, v=None)``: the (B, T) boolean mask, True on real frames, for the lengths
   and T of ``mask_inputs(v)``.
2. ``check_last_output(fn, v=None)``: fn(outputs, lengths) -> each sequence's output at its own
   last real frame, tested on ``last_output_inputs(v)``.
3. ``check_channel_experiment(answer, model, channels, v=None)`` (experiment): the student's own
   test accuracy of a GRU trained on the BasicMotions channels of ``channel_inputs(v)``; the
   checker re-measures the student's model (test accuracy, training and test cross-entropy) and
   judges the number, that the model clearly beat an untrained one, and that it was fitted on the
   training set (a model fitted on the test set has the lower loss there).

Per-student variants (helpers.exercises._core.variant): every checker takes ``v=None`` (the
current student's variant; 0 outside the class hub = the chapter as taught). Functions marked
``@reference`` compute expected answers (or the wrong answers hints name); the student edition
ships them without a body, and the checker then says the exercise is graded after submission.
"""
from __future__ import annotations

import numpy as np
import torch

from ..env import generator
from ._core import (Verdict, answer_dtype, checker, close, describe, quiet_false, read_number, read_tensor, reference,
                    run_student, unanswered, variant, variant_generator, variant_rng, verdict)


def _v(v) -> int:
    return variant() if v is None else int(v)


# ----------------------------------------------------------------------------- exercise 1
def mask_inputs(v: int | None = None) -> tuple[torch.Tensor, int]:
    """(lengths, T) of exercise 1: variant 0 the chapter's ([3, 1, 4], 5); other variants 3 to 5
    lengths in 1..T with T in 5..8, at least one shorter than T, one of them the longest and not
    all equal (so every named mistake gives a different mask)."""
    v = _v(v)
    if v == 0:
        return torch.tensor([3, 1, 4]), 5
    rng = variant_rng("ch09.mask", v)
    while True:
        T = int(rng.integers(5, 9))
        lengths = rng.integers(1, T + 1, size=int(rng.integers(3, 6)))
        if lengths.min() < T and len(set(lengths.tolist())) > 1 and (2 * lengths != lengths.max()).any():
            return torch.tensor(lengths.tolist()), T


@reference
def reference_mask(lengths: torch.Tensor, T: int) -> torch.Tensor:
    """The (B, T) bool mask of exercise 1."""
    return torch.arange(T)[None, :] < lengths[:, None]


@reference
def mask_mistakes(lengths: torch.Tensor, T: int) -> list:
    """(wrong mask, hint) for the slips the checker names."""
    t = torch.arange(T)[None, :]
    right = reference_mask(lengths, T)
    return [
        (~right, "True 和 False 反了：本章约定 True = 真实帧，False = 填充。"),
        (t <= lengths[:, None], "差一位：帧的编号从 0 开始，长度为 L 的序列占哪些位置？"),
        (t < (lengths.max() - lengths)[:, None], "这像是填充的长度，不是序列长度：True 的个数应等于每条序列自己的长度。"),
        (t >= (T - lengths)[:, None], "True 放在了末尾：pad() 把填充补在序列之后，真实帧在每行的开头。"),
    ]


@checker
def check_mask(answer, v=None) -> Verdict:
    """answer: (B, T) bool, True where frame t < lengths[b] (real), False on the padding, for the
    (lengths, T) of ``mask_inputs(v)``."""
    if unanswered(answer):
        return quiet_false()
    lengths, T = mask_inputs(v)
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
    if torch.equal(got, reference_mask(lengths, T)):
        if given_bool:
            return verdict(True, "每行前 length 个位置为 True，其余是填充。")
        return verdict(True, "位置都对；在 PyTorch 里最好直接用布尔张量（dtype=torch.bool）。")
    for wrong, hint in mask_mistakes(lengths, T):
        if torch.equal(got, wrong):
            return verdict(False, hint)
    return verdict(False, "每一行应是开头连续 length 个 True，后面全是 False。")


# ----------------------------------------------------------------------------- exercise 2
def last_output_inputs(v: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(outputs (B, T, H) float64, lengths (B,)) the checker tests a student's function on: variant
    0 the chapter's fixed draw; other variants their own sizes and lengths, always one full-length
    sequence, one of length 1 and one in between (so every named mistake differs)."""
    v = _v(v)
    if v == 0:
        g = generator(9)
        out = torch.randn(4, 6, 3, generator=g, dtype=torch.float64)
        return out, torch.tensor([6, 2, 4, 1])
    g = variant_generator("ch09.last_output", v)
    B, T, H = (int(torch.randint(lo, hi, (1,), generator=g)) for lo, hi in ((3, 7), (4, 9), (2, 5)))
    out = torch.randn(B, T, H, generator=g, dtype=torch.float64)
    lengths = torch.randint(1, T + 1, (B,), generator=g)
    lengths[:3] = torch.tensor([T, 1, int(torch.randint(2, T, (1,), generator=g))])
    return out, lengths[torch.randperm(B, generator=g)]


@reference
def reference_last(out: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Each sequence's output at its own last real frame: (B, H)."""
    return out[torch.arange(len(lengths)), lengths - 1]


@reference
def last_output_mistakes(out: torch.Tensor, lengths: torch.Tensor) -> list:
    """(wrong result, hint) for the slips the checker names."""
    return [
        (out[:, -1], "取的是填充后的最后一列 outputs[:, -1]：短序列在那里已经读了好几帧填充。"),
        (out[torch.arange(len(lengths)), lengths.clamp(max=out.shape[1] - 1)],
         "差一位：长度为 L 的序列，最后一个真实帧的下标是多少？"),
        (out[:, 0], "取的是第一帧：要的是每条序列最后一个真实帧。"),
    ]


@checker
def check_last_output(fn, v=None) -> Verdict:
    """fn(outputs (B, T, H), lengths (B,)) must return each sequence's output at its own last real
    frame: (B, H)."""
    out, lengths = last_output_inputs(v)
    ok, res = run_student(fn, (out, lengths), "my_last_output(outputs, lengths)",
                          "outputs 是 (B, T, H)，lengths 是 (B,) 的整数张量。")
    if not ok:
        return quiet_false()
    got = read_tensor(res, (out.shape[0], out.shape[2]), "返回值")
    if got is None:
        return quiet_false()
    dtype = answer_dtype(res)
    if close(got, reference_last(out, lengths), dtype=dtype):
        return verdict(True, "每条序列取它自己最后一个真实帧的输出。")
    for wrong, hint in last_output_mistakes(out, lengths):
        if close(got, wrong, dtype=dtype):
            return verdict(False, hint)
    return verdict(False, "对第 b 条序列应取它自己最后一个真实帧那一行；可以用 torch.arange(B) 和 lengths 做高级索引。")


# ----------------------------------------------------------------------------- exercise 3 (experiment)
# Bars from measured distributions (tests/test_exercises_ch09.py, TEACHING.md):
# - untrained SequenceClassifier(k, 4, hidden=32), k = 1..5, 20 inits each: test accuracy at most
#   0.50 (mean 0.25); trained with the chapter's recipe (30 epochs) on variants 0-8's channel sets:
#   0.875-1.00; so a model must reach BEAT_UNTRAINED.
# - cross-entropy training/test: trained on the training set 0.02-0.98 (30 epochs) and 0.74-1.02
#   (10 epochs); trained on the TEST set 1.8-50. A ratio above TEST_FIT_RATIO = fitted on the test set.
BEAT_UNTRAINED = 0.6
TEST_FIT_RATIO = 1.4
TOLERANCE = 0.0125       # half of one test case (accuracies on 40 cases are multiples of 0.025)
N_CHANNELS = 6


def channel_inputs(v: int | None = None) -> tuple[list[int], int]:
    """(channels, seed) of exercise 3: variant 0 the chapter's ([3, 4, 5], 3), i.e. the three
    gyroscope channels; other variants 2 to 4 of the 6 channels (sorted) and a seed in 0..999."""
    v = _v(v)
    if v == 0:
        return [3, 4, 5], 3
    rng = variant_rng("ch09.channels", v)
    k = int(rng.integers(2, 5))
    return sorted(int(c) for c in rng.choice(N_CHANNELS, k, replace=False)), int(rng.integers(0, 1000))


@reference
def measured_fit(model, channels) -> dict:
    """The student's model re-measured on BasicMotions restricted to ``channels`` (standardized with
    the training set's statistics of those channels, as in the chapter): test accuracy, and the mean
    cross-entropy on the training and on the test set."""
    from ..data import load_basic_motions
    from ..varlen import Standardizer, accuracy, pad, predict

    xtr, ytr = load_basic_motions("train")
    xte, yte = load_basic_motions("test")
    scale = Standardizer([s[:, channels] for s in xtr])
    train, test = scale([s[:, channels] for s in xtr]), scale([s[:, channels] for s in xte])

    def cross_entropy(seqs, y):
        x, lengths = pad(seqs, dtype=model.head.weight.dtype)
        with torch.no_grad():
            return float(torch.nn.functional.cross_entropy(model(x, lengths), torch.as_tensor(y)))

    model.eval()
    return {"test_accuracy": accuracy(predict(model, test), yte),
            "train_loss": cross_entropy(train, ytr), "test_loss": cross_entropy(test, yte)}


def _channels(channels):
    if isinstance(channels, (int, np.integer)) and not isinstance(channels, (bool, np.bool_)):
        channels = [int(channels)]
    if isinstance(channels, (np.ndarray, torch.Tensor)) and channels.ndim == 1 and len(channels) <= N_CHANNELS:
        channels = channels.tolist()
    if not isinstance(channels, (list, tuple)) or not channels or len(channels) > N_CHANNELS or \
            not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c < N_CHANNELS for c in channels) or \
            len(set(channels)) != len(channels):
        return None
    return list(channels)


@checker
def check_channel_experiment(answer, model, channels, v=None) -> Verdict:
    """answer = the test accuracy (a fraction in [0, 1]) of the student's ``model`` trained on the
    BasicMotions ``channels`` given by ``channel_inputs(v)``. The checker re-measures the student's
    own model: the numbers must agree (within half a test case), the model must clearly beat an
    untrained one, and its cross-entropy on the training set must not exceed TEST_FIT_RATIO times
    that on the test set (a model fitted on the test set: 1.8 and more, measured)."""
    if unanswered(answer):
        return quiet_false()
    value = read_number(answer, "正确率")
    if value is None:
        return quiet_false()
    if not 0 <= value <= 1:
        if 1 < value <= 100:
            return verdict(False, "正确率请写成比例（小数），不是百分数。")
        return verdict(False, "正确率是一个比例：不会是负数，也不会超过百分之百。")
    chans = _channels(channels)
    if chans is None:
        return verdict(False, f"channels 应是 0..5 中不重复的通道号组成的列表，得到 {describe(channels)}。")
    want, _ = channel_inputs(v)
    if chans != want:
        return verdict(False, "channels 不是这道题给你的那一组：用 channel_inputs() 返回的通道（和顺序）。")
    from ..varlen import SequenceClassifier

    if not isinstance(model, SequenceClassifier):
        return verdict(False, f"model 应是训练好的 varlen.SequenceClassifier，得到 {describe(model)}。")
    if model.rnn.input_size != len(chans) or model.head.out_features != 4:
        return verdict(False, f"模型的输入通道数（{model.rnn.input_size}）或类别数（{model.head.out_features}）"
                              f"与 channels（{len(chans)} 个通道、4 类）不符。")
    if not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
        return verdict(False, "模型的参数里有 NaN 或无穷大：训练发散了，换个学习率或打开梯度裁剪再训练。")
    fit = measured_fit(model, chans)
    measured = fit["test_accuracy"]
    if abs(value - measured) > TOLERANCE:
        return verdict(False, "你报告的正确率与用你的模型在测试集（这些通道）上重新算出的不一致："
                              "用 varlen.predict 和 varlen.accuracy 在测试集上重新算一次，"
                              "并用训练集同样通道的 Standardizer 缩放。")
    if measured < BEAT_UNTRAINED:
        return verdict(False, "数字对上了，但模型没有明显胜过未训练的模型（4 类，瞎猜约 0.25，"
                              "未训练的模型在 40 段上偶尔也能碰到一半）：按正文的做法训练 30 轮再测。")
    if not fit["train_loss"] <= TEST_FIT_RATIO * fit["test_loss"]:
        return verdict(False, "模型在训练集上的交叉熵反而比测试集上的大：它像是在测试集上训练的。"
                              "只用训练集训练，测试集只用来最后测一次。")
    return verdict(True, f"你的模型用 {len(chans)} 个通道在测试集上得到 {measured:.3f}。"
                         "和正文里 6 个通道的结果比一比，并换几个种子看看它有多稳定。")
