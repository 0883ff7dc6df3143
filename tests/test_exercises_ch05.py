"""Chapter 05 checkers, table-driven: what students write, the verdict, and the hint that must
(or must not) appear. No checker may raise, whatever it is given."""
import math

import numpy as np
import pytest
import torch

from helpers.exercises import ch05

from exercise_table import HOSTILE, assert_rejects_hostile, assert_row, run_checker
from helpers.nn.lstm import lstm_cell
from helpers.train import History


def _run(checker, answer, capsys):
    return run_checker(capsys, checker, answer)


ALL = (ch05.check_lstm_step, ch05.check_forget_bias, ch05.check_bias_experiment)


@pytest.mark.parametrize("checker", ALL)
@pytest.mark.parametrize("answer", HOSTILE + [(None, None), {"epochs": 1}], ids=range(len(HOSTILE) + 2))
def test_no_checker_raises_and_none_is_unanswered(checker, answer, capsys):
    assert_rejects_hostile(capsys, checker, answer)


# ----------------------------------------------------------------------------- exercise 1
def _lstm(order="ifgo", bias=True, gate=torch.sigmoid, cand=torch.tanh, rec_g=True, tanh_c=True, use_i=True,
          swap_out=False):
    """A student's LSTM step, written out by hand (not through the checker's own variant code)."""
    def fn(x, h, c, W_ih, W_hh, b_ih, b_hh):
        pre = x @ W_ih.T + h @ W_hh.T + ((b_ih + b_hh) if bias else 0)
        blocks = dict(zip(order, pre.chunk(4, dim=1)))
        if not rec_g:
            k = order.index("g")
            blocks["g"] = blocks["g"] - h @ W_hh.chunk(4)[k].T
        i, f, o, g = gate(blocks["i"]), gate(blocks["f"]), gate(blocks["o"]), cand(blocks["g"])
        c_new = f * c + (i * g if use_i else g)
        h_new = o * (torch.tanh(c_new) if tanh_c else c_new)
        return (c_new, h_new) if swap_out else (h_new, c_new)
    return fn


def _in_place(x, h, c, W_ih, W_hh, b_ih, b_hh):
    """The right step, written with in-place updates of the inputs (c *= f; c += i * g)."""
    i, f, g, o = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=1)
    i, f, o, g = i.sigmoid(), f.sigmoid(), o.sigmoid(), g.tanh()
    c *= f
    c += i * g
    h.copy_(o * torch.tanh(c))
    return h, c


def _float32(x, h, c, W_ih, W_hh, b_ih, b_hh):
    cell = torch.nn.LSTMCell(x.shape[1], h.shape[1])
    with torch.no_grad():
        for name, value in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), (W_ih, W_hh, b_ih, b_hh)):
            getattr(cell, name).copy_(value.float())
        return cell(x.float(), (h.float(), c.float()))


STEP = [
    (lambda x, h, c, *w: lstm_cell(x, (h, c), *w), True, "和 helpers.nn.lstm.lstm_cell 一致", None),
    (_lstm(), True, "一致", None),
    (_in_place, True, "一致", None),                                          # in-place updates of h and c
    (_float32, True, "一致", None),                                           # nn.LSTMCell in float32
    (lambda *a: tuple(t.numpy() for t in lstm_cell(a[0], (a[1], a[2]), *a[3:])), True, "一致", None),
    (lambda *a: [t.tolist() for t in lstm_cell(a[0], (a[1], a[2]), *a[3:])], True, "一致", None),
    (_lstm(order="ifog"), False, "第三块是候选 g", "漏了偏置"),
    (_lstm(order="figo"), False, "第一块是输入门 i", None),
    (_lstm(order="gifo"), False, "PyTorch 的顺序是 i, f, g, o", None),
    (_lstm(bias=False), False, "漏了偏置", "顺序"),
    (_lstm(cand=torch.sigmoid), False, "候选 g = C̃_t 要用 tanh", None),
    (_lstm(gate=torch.tanh), False, "三个门 i, f, o 要用 sigmoid", None),
    (_lstm(gate=torch.tanh, cand=torch.sigmoid), False, "tanh 和 sigmoid 用反了", None),
    (_lstm(rec_g=False), False, "漏了循环项 W_hg", "笔记"),
    (_lstm(tanh_c=False), False, "先过 tanh", None),
    (_lstm(use_i=False), False, "乘输入门", None),
    (_lstm(swap_out=True), False, "返回顺序反了", None),
    (lambda *a: (a[1] * 0 + 1, lstm_cell(a[0], (a[1], a[2]), *a[3:])[1]), False, "C_t 对了，h_t 不对", None),
    (lambda *a: (a[1], a[2]), False, "数值不对", "顺序"),
    (lambda *a: a[0] @ a[3], False, "运行出错", None),
    (lambda *a: a[1], False, "两个张量", None),
    (lambda *a: (a[1], a[2], a[2]), False, "两个张量", None),
    (lambda *a: (a[1][0], a[2]), False, "形状", None),
    (lambda *a: (a[1] * float("nan"), a[2]), False, "NaN", None),
    (lambda *a: ("h", "c"), False, "应是形状", None),
    (lambda *a: None, False, "没有返回值", None),
    (lambda x, h: x, False, "参数不对", None),
    (3, False, "函数", None),
]


@pytest.mark.parametrize("fn, ok, must, must_not", STEP, ids=range(len(STEP)))
def test_lstm_step_table(fn, ok, must, must_not, capsys):
    got, out = _run(ch05.check_lstm_step, fn, capsys)
    assert_row(got, out, ok, must, must_not)


def test_lstm_step_hints_say_jiangyi_not_biji(capsys):
    for _, hint in ch05.STEP_MISTAKES:
        assert "笔记" not in hint


# ----------------------------------------------------------------------------- exercise 2
B = ch05.forget_bias_needed()
F = 0.1 ** (1 / 100)

BIAS = [
    (B, True, "≈ 3.76", None),
    (round(B, 2), True, "100 步后还剩 0.1", None),
    (np.float32(B), True, "3.76", None),
    (torch.tensor(B), True, "3.76", None),
    (f" {B:.3f}\n", True, "3.76", None),
    (math.log(0.1 / 0.9), False, "每一步的 f = 0.1", "符号"),
    (F, False, "是遗忘门 f 本身", None),
    (-B, False, "符号反了", None),
    (math.log(F), False, "ln(f) 不是 σ 的反函数", None),
    (3.8, False, "接近了", None),
    (3.0, False, "σ(b)^100", "接近了"),
    (0, False, "σ(b)^100", "符号"),
    (-1000.0, False, "σ(b)^100", None),
    (1e300, False, "σ(b)^100", None),
    ("3.7x", False, "应是一个数", None),
    (True, False, "应是一个数", None),
    ([B], False, "应是一个数", None),
]


@pytest.mark.parametrize("answer, ok, must, must_not", BIAS, ids=range(len(BIAS)))
def test_forget_bias_table(answer, ok, must, must_not, capsys):
    got, out = _run(ch05.check_forget_bias, answer, capsys)
    assert_row(got, out, ok, must, must_not)


def test_forget_bias_is_what_it_claims():
    sigma = 1 / (1 + math.exp(-B))
    assert sigma ** 100 == pytest.approx(0.1)
    assert (1 / (1 + math.exp(-(B - 0.05)))) ** 100 < 0.1 < (1 / (1 + math.exp(-(B + 0.05)))) ** 100


# ----------------------------------------------------------------------------- exercise 3
def _history(val, test=None):
    h = History()
    test = test if test is not None else val
    for v, t in zip(val, test):
        h.loss.append(v)
        h.grad_norm.append(1.0)
        h.metrics.append({"test_mse": float(t), "val_mse": float(v)})
    return h


H0 = _history([0.17, 0.16, 0.16, 0.02, 0.002, 0.001])                 # bias 0: epoch 5
H1 = _history([0.17, 0.03, 0.002])                                   # bias 1: epoch 3
NEVER = _history([0.17] * 12)                                        # not solved in 12 epochs
TEST_EARLY = _history([0.17, 0.004, 0.002], test=[0.17, 0.002, 0.001])   # test reaches 0.003 at 2, val at 3
NO_VAL = History(loss=[0.1], grad_norm=[1.0], metrics=[{"test_mse": 0.1}])

EXPERIMENT = [
    (dict(history_0=H0, history_1=H1, epochs=(5, 3)), True, "偏置 1 少用了 2 轮", None),
    (dict(history_0=H0, history_1=H1, epochs=[5.0, np.int64(3)]), True, "少用了 2 轮", None),
    (dict(history_0=H1, history_1=H0, epochs=(3, 5)), True, "反而多用了 2 轮", None),
    (dict(history_0=H1, history_1=_history([0.1, 0.1, 0.002]), epochs=(3, 3)), True, "轮数一样", None),
    (dict(history_0=NEVER, history_1=H1, epochs=(None, 3)), True, "只有偏置 1", None),
    (dict(history_0=H0, history_1=NEVER, epochs=(5, None)), True, "只有偏置 0", None),
    (dict(history_0=NEVER, history_1=_history([0.2] * 3), epochs=(None, None)), True, "都没在预算内学会", None),
    (dict(history_0=H0, history_1=H1, epochs=(3, 5)), False, "对调了", None),
    (dict(history_0=H0, history_1=H1, epochs=(4, 2)), False, "差了 1", None),
    (dict(history_0=H0, history_1=H1, epochs=(0, 2)), False, "从 1 数起", None),
    (dict(history_0=NEVER, history_1=H1, epochs=(12, 3)), False, "应填 None", None),
    (dict(history_0=H0, history_1=TEST_EARLY, epochs=(5, 2)), False, "验证集", None),
    (dict(history_0=H0, history_1=H1, epochs=(6, 3)), False, "对不上", "差了 1"),
    (dict(history_0=H0, history_1=H1, epochs=(5.5, 3)), False, "不是整数", None),
    (dict(history_0=H0, history_1=H1, epochs=5), False, "两个数", None),
    (dict(history_0=H0, history_1=H0, epochs=(5, 5)), False, "同一次训练", None),
    (dict(history_0=NO_VAL, history_1=H1, epochs=(1, 3)), False, "验证集", None),
    (dict(history_0="H0", history_1=H1, epochs=(1, 3)), False, "history_0", None),
    (dict(history_0=H0, history_1=H1), False, "字典", None),
    ((H0, H1, (5, 3)), False, "字典", None),
]


@pytest.mark.parametrize("answer, ok, must, must_not", EXPERIMENT, ids=range(len(EXPERIMENT)))
def test_bias_experiment_table(answer, ok, must, must_not, capsys):
    got, out = _run(ch05.check_bias_experiment, answer, capsys)
    assert_row(got, out, ok, must, must_not)
    if ok:
        assert "一个种子" in out                              # a correct answer still hears that one run is little


def test_bias_experiment_on_real_training_histories(capsys):
    from helpers.adding import train_adding

    kw = dict(n_train=300, n_test=50, n_val=50, epochs=3, hidden_size=8, progress=False, stop_mse=0.5)
    h0 = train_adding("lstm", 6, forget_bias=0.0, **kw)[1]
    h1 = train_adding("lstm", 6, forget_bias=1.0, **kw)[1]
    epochs = (ch05.epochs_needed(h0), ch05.epochs_needed(h1))
    ok, out = _run(ch05.check_bias_experiment, dict(history_0=h0, history_1=h1, epochs=epochs), capsys)
    assert ok, out
