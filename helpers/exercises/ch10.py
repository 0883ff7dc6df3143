"""Checkers for chapter 10, part 1 (the linear recurrence, its parallel scan, minGRU / minLSTM).

Each checker prints one verdict line and returns a :class:`~helpers.exercises._core.Verdict`
(truthy when right, shows nothing in a notebook); none raises, whatever the answer.

1. ``check_scan_counts(answer)``: for the T of ``scan_counts_inputs()`` (variant 0: T = 100), the
   rounds and the combines of the doubling scan (``helpers.nn.scan.linear_scan``), and the steps of
   the loop, as ``{"loop": ..., "rounds": ..., "combines": ...}``.
2. ``check_combine(fn)``: the associative operator (a_s, b_s) • (a_t, b_t) of two steps (s first).
3. ``check_min_params(answer)``: the parameters of ``nn.GRU``, ``MinGRU`` and ``MinLSTM`` of the
   sizes ``min_params_inputs()`` gives (variant 0: input 5, hidden 24).
4. ``check_minlstm_experiment(model)`` (experiment): a minLSTM trained by the student on the adding
   problem with the T and seed of ``minlstm_experiment_inputs()``; the checker draws its own test
   sequences of that T (a seed the student does not know) and judges the student's model on them.

Per-student variants: every ``*_inputs(v=None)`` returns the exercise's inputs for variant ``v``
(default: the current student's, see ``_core.variant``; 0 = the chapter as taught), and every
checker takes ``v=None`` and recomputes the expected answer for that variant. The functions
marked ``@reference`` compute expected answers (and the wrong answers the hints name); the
student edition ships without their bodies.
"""
from __future__ import annotations

import math

import torch

from ..data import adding_problem
from ._core import (Verdict, answer_dtype, checker, close, describe, quiet_false, read_int, read_tensor,
                    reference, run_student, unanswered, variant, variant_generator, variant_rng,
                    variant_seed, verdict)

KEYS_COUNTS = ("loop", "rounds", "combines")
KEYS_PARAMS = ("gru", "mingru", "minlstm")


def _read_dict(answer, keys: tuple, what: str) -> dict | None:
    """{key: int} from a dict with exactly ``keys``; prints what was expected and returns None otherwise."""
    if not isinstance(answer, dict) or set(answer) != set(keys):
        got = sorted(map(str, answer)) if isinstance(answer, dict) else describe(answer)
        verdict(False, f"{what}应是一个字典，键正好是 {list(keys)}；得到 {got}。")
        return None
    out = {}
    for key in keys:
        n = read_int(answer[key], f"{what}里的 {key!r}")
        if n is None:
            return None
        out[key] = n
    return out


# ----------------------------------------------------------------------------- exercise 1
def scan_counts_inputs(v: int | None = None) -> dict:
    """{"T": ...}: variant 0 is T = 100; other variants draw a T in 20..5000 that is not a power of two."""
    v = variant() if v is None else int(v)
    if v == 0:
        return {"T": 100}
    draw = variant_rng("ch10.scan_counts", v)
    while True:
        T = int(draw.integers(20, 5001))
        if T & (T - 1):                          # not a power of two: floor and ceil of log2 differ
            return {"T": T}


@reference
def scan_counts(T: int) -> dict:
    """Loop steps, rounds and combines of the doubling scan for T steps."""
    rounds = math.ceil(math.log2(T)) if T > 1 else 0
    combines = sum(T - 2 ** r for r in range(rounds))   # round r: every t >= 2^r combines
    return {"loop": T, "rounds": rounds, "combines": combines}


@reference
def scan_counts_mistakes(T: int) -> list:
    """(wrong answer dict, hint) for the mistakes the hints name."""
    right = scan_counts(T)
    floor_rounds = int(math.floor(math.log2(T)))
    return [
        ({**right, "rounds": floor_rounds, "combines": sum(T - 2 ** r for r in range(floor_rounds))},
         "轮数取的是 log2 T 的下取整：T 不是 2 的幂时，下取整那么多轮还覆盖不到第 1 步。"),
        ({**right, "combines": T * right["rounds"]},
         "每一轮并不是所有 T 个位置都要合成：前面没有“距离 k 的前一段”的位置什么也不做。"),
        ({**right, "combines": T - 1}, "T − 1 是循环的合成次数；倍增扫描每一轮都要做很多次合成。"),
        ({**right, "loop": right["rounds"]}, "循环有多少步？它每一步都要等上一步。"),
    ]


@checker
def check_scan_counts(answer, v: int | None = None) -> Verdict:
    """{"loop": steps of the loop, "rounds": rounds of the scan, "combines": combines of the scan}."""
    if unanswered(answer):
        return quiet_false()
    answer = _read_dict(answer, KEYS_COUNTS, "答案")
    if answer is None:
        return quiet_false()
    T = scan_counts_inputs(v)["T"]
    right = scan_counts(T)
    if answer == right:
        return verdict(True, f"T = {T}：循环 {right['loop']} 步；扫描 {right['rounds']} 轮、"
                             f"{right['combines']} 次合成（工作量更多，深度更浅）。")
    for wrong, hint in scan_counts_mistakes(T):
        if answer == wrong:
            return verdict(False, hint)
    bad = [k for k in KEYS_COUNTS if answer[k] != right[k]]
    return verdict(False, f"这几项不对：{bad}。一轮一轮地数：第 r 轮（r = 0, 1, ...）的距离是 2^r。")


# ----------------------------------------------------------------------------- exercise 2
def _combine_case():
    """Fixed steps (B=3, H=4, float64) the visible checker composes with the student's operator."""
    g = variant_generator("ch10.combine", 0)
    a_s, a_t = torch.rand(3, 4, generator=g, dtype=torch.float64) + 0.2, torch.rand(3, 4, generator=g, dtype=torch.float64) + 0.2
    b_s, b_t = torch.randn(3, 4, generator=g, dtype=torch.float64), torch.randn(3, 4, generator=g, dtype=torch.float64)
    return (a_s, b_s), (a_t, b_t)


@reference
def combine_reference(first, second):
    """(a_s, b_s) • (a_t, b_t): step s first, then step t."""
    a_s, b_s = first
    a_t, b_t = second
    return a_t * a_s, a_t * b_s + b_t


@reference
def combine_mistakes(first, second) -> list:
    """(wrong (a, b), hint) for the mistakes the hints name."""
    a_s, b_s = first
    a_t, b_t = second
    order = "顺序反了：先做第 s 步、再做第 t 步，第 t 步的系数要乘在第 s 步的结果上。"
    return [((a_t * a_s, a_s * b_t + b_s), order),
            ((a_t * a_s, a_t * b_s), "第 t 步自己的 b_t 也要加上。"),
            ((a_t * a_s, b_s + b_t), "第 s 步的结果还要再经过第 t 步的 a_t。"),
            ((a_t + a_s, a_t * b_s + b_t), "两步连起来，系数是相乘，不是相加。")]


def _as_pair(result):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        verdict(False, f"应返回一对 (a, b)，得到 {describe(result)}。")
        return None
    pair = []
    for part, name in zip(result, "ab"):
        t = read_tensor(part, shape=(3, 4), what=f"返回的 {name}")
        if t is None:
            return None
        pair.append((t.to(torch.float64), answer_dtype(part)))
    return pair


@checker
def check_combine(fn) -> Verdict:
    """The student's ``combine(first, second)`` composes two steps of h ↦ a ⊙ h + b, s before t."""
    if callable(fn) and str(getattr(fn, "__module__", "") or "").startswith("helpers"):
        return verdict(False, "这是课程自己写好的函数（§2 展示的 scan.combine）：请交你自己写的 combine。")
    first, second = _combine_case()
    ok, result = run_student(fn, (first, second), "combine((a_s, b_s), (a_t, b_t))")
    if not ok:
        return quiet_false()
    pair = _as_pair(result)
    if pair is None:
        return quiet_false()
    want = combine_reference(first, second)
    if all(close(p, w, dtype=d) for (p, d), w in zip(pair, want)):
        return verdict(True, "两步合成一步；它满足结合律，所以可以任意分组并行地算。")
    for wrong, hint in combine_mistakes(first, second):
        if all(close(p, w, dtype=d) for (p, d), w in zip(pair, wrong)):
            return verdict(False, hint)
    return verdict(False, "把 h 先代入第 s 步、再代入第 t 步，整理成 a ⊙ h + b 的形式。")


# ----------------------------------------------------------------------------- exercise 3
def min_params_inputs(v: int | None = None) -> dict:
    """{"input_size": I, "hidden_size": H}: variant 0 is (5, 24), sizes §4's table does not print
    (its (2, 32) row would hand the answer over; and at I = 2 two named minLSTM slips coincide)."""
    v = variant() if v is None else int(v)
    if v == 0:
        return {"input_size": 5, "hidden_size": 24}
    draw = variant_rng("ch10.min_params", v)
    while True:
        I, H = int(draw.integers(2, 65)), int(draw.integers(8, 129))
        if I != H and H % 8 and I != 2:          # I = 2: 3·H·I = 2·H·(I + 1), two minLSTM slips coincide
            return {"input_size": I, "hidden_size": H}


@reference
def min_params(input_size: int, hidden_size: int) -> dict:
    """Parameters of nn.GRU(I, H), MinGRU(I, H) and MinLSTM(I, H)."""
    I, H = input_size, hidden_size
    return {"gru": 3 * H * (I + H) + 6 * H, "mingru": 2 * H * (I + 1), "minlstm": 3 * H * (I + 1)}


@reference
def min_params_mistakes(input_size: int, hidden_size: int) -> list:
    """(key, wrong count, hint) for the mistakes the hints name."""
    I, H = input_size, hidden_size
    return [("gru", 3 * H * (I + H) + 3 * H, "PyTorch 的 GRU 有两套偏置 b_ih 和 b_hh。"),
            ("gru", 3 * H * I + 6 * H, "GRU 的门和候选还读 h_{t−1}：别漏了 W_hh。"),
            ("mingru", 2 * H * I, "MinGRU 也有偏置。"),
            ("mingru", 2 * H * (I + H + 1), "minGRU 的门不读 h_{t−1}：它没有 H × H 的循环矩阵。"),
            ("minlstm", 3 * H * I, "MinLSTM 也有偏置。"),
            ("minlstm", 2 * H * (I + 1), "minLSTM 有遗忘门、输入门和候选三块。")]


@checker
def check_min_params(answer, v: int | None = None) -> Verdict:
    """{"gru": ..., "mingru": ..., "minlstm": ...} for the sizes of ``min_params_inputs(v)``."""
    if unanswered(answer):
        return quiet_false()
    answer = _read_dict(answer, KEYS_PARAMS, "答案")
    if answer is None:
        return quiet_false()
    sizes = min_params_inputs(v)
    right = min_params(**sizes)
    if answer == right:
        return verdict(True, f"minGRU 的参数约是 GRU 的 {right['mingru'] / right['gru']:.0%}。")
    hints = [hint for key, wrong, hint in min_params_mistakes(**sizes)
             if answer[key] == wrong and wrong != right[key]]
    if hints:
        return verdict(False, " ".join(hints))
    bad = [k for k in KEYS_PARAMS if answer[k] != right[k]]
    return verdict(False, f"这几项不对：{bad}。数一数每个模型有几块权重矩阵、几个偏置，各是什么形状。")


# ----------------------------------------------------------------------------- exercise 4
EXPERIMENT_BAR = 0.05          # test MSE; untrained models sit at about 1/6 ≈ 0.167
EXPERIMENT_N_TEST = 500


def minlstm_experiment_inputs(v: int | None = None) -> dict:
    """{"T": ..., "seed": ...}: variant 0 is T = 30 (chapter 04's length), seed 0; other variants
    draw T in 20..40 and a seed."""
    v = variant() if v is None else int(v)
    if v == 0:
        return {"T": 30, "seed": 0}
    draw = variant_rng("ch10.minlstm_experiment", v)
    return {"T": int(draw.integers(20, 41)), "seed": int(draw.integers(1, 1000))}


def _test_set(T: int, v: int):
    """The checker's own test sequences: a seed the student's cell never uses."""
    return adding_problem(EXPERIMENT_N_TEST, T, seed=variant_seed("ch10.minlstm_test", v) % 2**31)


@reference
def experiment_mse(model, T: int, v: int) -> float:
    """The student's model's MSE on the checker's own test set of length T."""
    x, y = _test_set(T, v)
    model.eval()
    with torch.no_grad():
        pred = model(x)
    return float(torch.nn.functional.mse_loss(pred.reshape(-1).to(torch.float64), y.to(torch.float64)))


@checker
def check_minlstm_experiment(model, v: int | None = None) -> Verdict:
    """A minLSTM (``helpers.modern.AddingMin(cell="minlstm")``) trained on the adding problem of the
    T of ``minlstm_experiment_inputs(v)``: judged on the checker's own test sequences."""
    from ..modern import AddingMin
    from ..nn.mingru import MinLSTM

    if unanswered(model):
        return quiet_false()
    if not isinstance(model, AddingMin):
        return verdict(False, f"请交出训练好的模型（helpers.modern.AddingMin），而不是 {describe(model)}。")
    if not isinstance(model.rnn, MinLSTM):
        return verdict(False, "这道题要的是 minLSTM：AddingMin(cell=\"minlstm\")，也就是 train_adding_min(\"minlstm\", ...)。")
    v = variant() if v is None else int(v)
    T = minlstm_experiment_inputs(v)["T"]
    trained_on = getattr(model, "trained_on", None)
    if isinstance(trained_on, dict) and trained_on.get("T") != T:
        # a model trained on another length can pass on this one (T = 10 -> MSE 0.047 at T = 30)
        return verdict(False, "你的模型是用另一个长度 T 训练的：请用 minlstm_experiment_inputs() 给出的 T 训练。")
    mse = experiment_mse(model, T, v)
    if not math.isfinite(mse):
        return verdict(False, "模型在测试序列上输出了 NaN 或无穷大：训练发散了，试试小一点的学习率或保留梯度裁剪。")
    if mse <= EXPERIMENT_BAR:
        return verdict(True, f"在检查器自己抽的 {EXPERIMENT_N_TEST} 条长 {T} 的序列上，你的 minLSTM 解决了加法问题。")
    return verdict(False, "在检查器自己抽的测试序列上，模型还没有离开“猜平均数”的平台：是否用了你的 T 和种子、"
                          "训练够了轮数？（加法问题的模型常常先停在平台上，再突然下降。）")
