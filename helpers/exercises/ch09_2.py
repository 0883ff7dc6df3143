"""Checkers for chapter 09, part 2 (prices and anomaly detection).

Each checker prints one verdict line and returns a :class:`~helpers.exercises._core.Verdict`
(truthy when right, shows nothing in a notebook); none raises, whatever the answer. A failure
message names the mistake but never prints the reference number (the homework is graded from
these exercises).

1. ``check_price_r2(answer, actual, previous)``: the R² of the random walk on *prices*
   (forecast p̂_{t+1} = p_t), given the actual prices p_{t+1} and the previous prices p_t.
2. ``check_precision_recall(answer, flags, labels)``: (precision, recall) of a detector's flags.
3. ``check_spike_experiment(recall_small, smaller, recall_big, n_spikes)`` (experiment): the
   student injects smaller spikes, runs the chapter's detector and says whether its recall went
   down; judged against the student's own recall.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ._core import Verdict, checker, close, describe, quiet_false, read_bool, read_number, unanswered, verdict


def _vector(values) -> np.ndarray:
    """The chapter's own data (not the student's answer) as a float64 array."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=np.float64).ravel()


def _r2(pred: np.ndarray, actual: np.ndarray) -> float:
    return float(1 - ((pred - actual) ** 2).sum() / ((actual - actual.mean()) ** 2).sum())


def _pair_of_numbers(answer, names: tuple[str, str]):
    """(a, b) from a tuple/list of two numbers or a dict with the two names; else None after a message."""
    if isinstance(answer, dict) and set(answer) == set(names):
        answer = (answer[names[0]], answer[names[1]])
    if not isinstance(answer, (list, tuple)) or len(answer) != 2:
        verdict(False, f"答案应是两个数 ({names[0]}, {names[1]})，得到 {describe(answer)}。")
        return None
    first = read_number(answer[0], names[0])
    if first is None:
        return None
    second = read_number(answer[1], names[1])
    if second is None:
        return None
    return first, second


# ----------------------------------------------------------------------------- exercise 1
@checker
def check_price_r2(answer, actual, previous):
    """answer: R² = 1 − Σ(p̂ − p)² / Σ(p − p̄)² of the forecast p̂_{t+1} = p_t on the prices p_{t+1}."""
    if unanswered(answer):
        return quiet_false()
    value = read_number(answer, "R²")
    if value is None:
        return quiet_false()
    actual, previous = _vector(actual), _vector(previous)
    right = _r2(previous, actual)
    if close(value, right, tol=1e-4):
        return verdict(True, "随机游走在价格上的 R² 很高：它只是把昨天的价格抄了一遍，而价格本身"
                             "每个月变化不大、长期却走得很远，所以“差不多等于昨天”就解释了大部分方差。")
    returns = np.log(actual) - np.log(previous)
    if close(value, _r2(np.zeros_like(returns), returns), tol=1e-6):
        return verdict(False, "这是随机游走在收益率上的 R²（它预测收益率为 0）。这道题要的是价格上的 R²："
                              "预测 p̂ = 前一个月的价格，真值 = 这个月的价格。")
    if close(value, _r2(actual, previous), tol=1e-6):
        return verdict(False, "参数顺序反了：R² 的分母是真值（这个月的价格）围绕它自己均值的平方和，"
                              "不是预测值的。")
    if close(value, 1 - right, tol=1e-6):
        return verdict(False, "你算的是 Σ(p̂ − p)² / Σ(p − p̄)²，R² 还要用 1 减去它。")
    if close(value, float(np.corrcoef(previous, actual)[0, 1]), tol=1e-6):
        return verdict(False, "这是相关系数 r，不是 R²：R² = 1 − 残差平方和 / 总平方和。")
    if not -1e6 < value <= 1:
        return verdict(False, f"R² 不会大于 1（完美预测时等于 1），你得到 {value:.4g}。")
    return verdict(False, "数值不对。R² = 1 − Σ(p̂ − p)² / Σ(p − p̄)²，其中 p̂ 是上一个月的价格，"
                          "p 是这个月的价格，p̄ 是 p 的平均。可以用 fe.r2(预测, 真值)。")


# ----------------------------------------------------------------------------- exercise 2
def _bools(values) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=bool).ravel()


@checker
def check_precision_recall(answer, flags, labels):
    """answer = (precision, recall) of the boolean ``flags`` against the boolean ``labels``."""
    if unanswered(answer):
        return quiet_false()
    pair = _pair_of_numbers(answer, ("precision", "recall"))
    if pair is None:
        return quiet_false()
    precision, recall = pair
    f, l = _bools(flags), _bools(labels)
    tp, n_flag, n_label = int((f & l).sum()), int(f.sum()), int(l.sum())
    right_p = tp / n_flag if n_flag else 0.0
    right_r = tp / n_label if n_label else 0.0
    if precision > 1 or recall > 1:
        if close(precision / 100, right_p, tol=1e-6) and close(recall / 100, right_r, tol=1e-6):
            return verdict(False, "请写成 0 到 1 之间的小数，不要写百分数。")
        return verdict(False, "精确率和召回率都在 0 到 1 之间。")
    ok_p, ok_r = close(precision, right_p, tol=1e-3), close(recall, right_r, tol=1e-3)
    if ok_p and ok_r:
        return verdict(True, "精确率 = 标记里真异常的比例（TP / 标记数），召回率 = 真异常里被标记出的比例"
                             "（TP / 异常数）。")
    if close(precision, right_r, tol=1e-6) and close(recall, right_p, tol=1e-6) and not ok_p:
        return verdict(False, "两个弄反了：精确率除以“标记了多少个”，召回率除以“真有多少个异常”。")
    hints = []
    if not ok_p:
        hints.append("精确率不对：分子是既被标记、又真是异常的点数（TP），分母是被标记的点数")
    if not ok_r:
        hints.append("召回率不对：分子同样是 TP，分母是标签里异常的点数")
    return verdict(False, "；".join(hints) + "。")


# ----------------------------------------------------------------------------- exercise 3
@checker
def check_spike_experiment(recall_small, smaller, recall_big, n_spikes: int):
    """Experiment: the student's recall on ``n_spikes`` smaller injected spikes, and whether it fell.

    recall_small: the student's measured recall (a share of n_spikes); smaller: True if it is
    lower than ``recall_big``, the chapter's recall on its own (larger) spikes.
    """
    if unanswered(recall_small) or unanswered(smaller):
        return quiet_false()
    value = read_number(recall_small, "你量到的召回率")
    if value is None:
        return quiet_false()
    said = read_bool(smaller, "“召回率变低了吗”")
    if said is None:
        return quiet_false()
    if not 0 <= value <= 1:
        if 0 <= value / 100 <= 1:
            return verdict(False, "召回率请写成 0 到 1 之间的小数（不是百分数）。")
        return verdict(False, "召回率是一个比例，应在 0 到 1 之间。")
    hits = value * n_spikes
    if not math.isclose(hits, round(hits), abs_tol=1e-6):
        return verdict(False, f"召回率应是“找到的尖峰数 / {n_spikes}”，你的数不是 {n_spikes} 的几分之几："
                              "是不是把所有被标记的点都算进去了，或者除错了数？")
    measured = value < float(recall_big) - 1e-9
    if said == measured:
        why = ("尖峰越小，越容易淹没在天气本身的起伏里：阈值不变时，误差超过阈值的尖峰就少了。"
               if measured else "在你这次的注入里，这些尖峰仍然比阈值大得多，都被找到了；把尺寸再调小试试。")
        return verdict(True, f"你找到了 {round(hits)} / {n_spikes} 个尖峰，结论与你自己的数一致。{why}")
    return verdict(False, f"按你量到的召回率（{value:.2f}），和本章较大尖峰的召回率相比，结论应是 "
                          f"{measured}，你写的是 {said}。请按你自己量到的数下结论。")
