"""Checkers for chapter 03 (RNN). Each prints a verdict with a specific hint and returns a bool."""
from __future__ import annotations

import torch

from ..data import words_to_bmes
from ..rnn import rnn_cell
from ._core import close, run_student, unanswered, verdict


# ----------------------------------------------------------------------------- exercise 1
def rnn_param_count(input_size: int, hidden_size: int, num_layers: int, bidirectional: bool) -> int:
    """Number of parameters of ``nn.RNN(input_size, hidden_size, num_layers, bidirectional=...)``."""
    D, H, total = (2 if bidirectional else 1), hidden_size, 0
    for layer in range(num_layers):
        I = input_size if layer == 0 else D * H
        total += D * (H * I + H * H + 2 * H)          # U, W, b_ih, b_hh per direction
    return total


def check_param_count(answer, input_size: int = 10, hidden_size: int = 20, num_layers: int = 2,
                      bidirectional: bool = True) -> bool:
    """How many numbers does ``nn.RNN(10, 20, num_layers=2, bidirectional=True)`` learn?"""
    if unanswered(answer):
        return False
    if isinstance(answer, bool) or not isinstance(answer, int):
        return verdict(False, f"请给出一个整数（参数的个数），而不是 {type(answer).__name__}。")
    right = rnn_param_count(input_size, hidden_size, num_layers, bidirectional)
    if answer == right:
        return verdict(True, f"{right} 个参数。")
    D, H, I = (2 if bidirectional else 1), hidden_size, input_size
    one_bias = sum(D * (H * (I if l == 0 else D * H) + H * H + H) for l in range(num_layers))
    same_input = sum(D * (H * I + H * H + 2 * H) for _ in range(num_layers))
    hints = {
        rnn_param_count(I, H, num_layers, False): "只算了一个方向：双向 RNN 每层有正向、反向两套 U、W、b。",
        one_bias: "PyTorch 每个方向有两个偏置 b_ih 和 b_hh（它们的和才是笔记里的 b），别漏掉一个。",
        same_input: "第 2 层的输入不是 x，而是第 1 层两个方向拼接起来的 h，维度是 2×hidden_size。",
        rnn_param_count(I, H, 1, bidirectional): "只算了第 1 层：num_layers=2 还有第 2 层。",
    }
    return verdict(False, hints.get(answer, "逐层、逐方向数：U 是 (H, 输入维度)，W 是 (H, H)，"
                                            "再加两个长度为 H 的偏置。可以用 sum(p.numel() for p in rnn.parameters()) 验证。"))


# ----------------------------------------------------------------------------- exercise 2
def check_rnn_step(fn) -> bool:
    """``fn(x, h, U, W, b) -> h_t`` must compute h_t = tanh(x Uᵀ + h Wᵀ + b) for a batch (rows)."""
    g = torch.Generator().manual_seed(3)
    B, I, H = 4, 3, 5
    x, h = torch.randn(B, I, generator=g, dtype=torch.float64), torch.randn(B, H, generator=g, dtype=torch.float64)
    U, W = torch.randn(H, I, generator=g, dtype=torch.float64), torch.randn(H, H, generator=g, dtype=torch.float64)
    b = torch.randn(H, generator=g, dtype=torch.float64)
    ok, out = run_student(fn, (x, h, U, W, b), "fn(x, h, U, W, b)", "提示：x 是 (B, I)，U 是 (H, I)，所以写 x @ U.T。")
    if not ok:
        return False
    right = rnn_cell(x, h, U, W, b, None)
    if not isinstance(out, torch.Tensor) or out.shape != right.shape:
        return verdict(False, f"结果应该是形状 {tuple(right.shape)} 的张量，得到 {getattr(out, 'shape', type(out).__name__)}。")
    if close(out, right, 1e-9):
        return verdict(True, "h_t = tanh(U x_t + W h_{t-1} + b)，和 helpers.rnn.rnn_cell 一致。")
    pre = x @ U.T + h @ W.T + b
    mistakes = [
        (pre, "忘了激活函数：h_t = tanh(…)。"),
        (torch.tanh(x @ U.T + h @ W + b), "W 用反了：按行存放的批量要写 h @ W.T（即 W h_{t-1}）。"),
        (torch.tanh(x @ U.T + h @ W.T), "忘了偏置 b（它在所有时间步共享，没有下标 t）。"),
        (torch.tanh(x @ U.T + b), "漏掉了循环项 W h_{t-1}：没有它，RNN 就没有记忆。"),
        (torch.sigmoid(pre), "这里用的是 tanh，不是 sigmoid。"),
    ]
    for wrong, hint in mistakes:
        if close(out, wrong, 1e-9):
            return verdict(False, hint)
    return verdict(False, "数值不对。对照公式 h_t = tanh(U x_t + W h_{t-1} + b)，注意按行存放时的转置。")


# ----------------------------------------------------------------------------- exercise 3
BMES_EXAMPLE = ["我们", "是", "共产主义", "接班人"]


def check_bmes(answer, words=tuple(BMES_EXAMPLE)) -> bool:
    """The BMES tag string of ``words`` (default: 我们 / 是 / 共产主义 / 接班人)."""
    if unanswered(answer):
        return False
    if not isinstance(answer, str):
        return verdict(False, f"请给出一个字符串，例如 'BES…'，而不是 {type(answer).__name__}。")
    right = words_to_bmes(list(words))
    if answer == right:
        return verdict(True, f"{''.join(words)} → {right}")
    if answer.upper() == right:
        return verdict(False, "标签用大写字母 B、M、E、S。")
    n = len("".join(words))
    if len(answer) != n:
        return verdict(False, f"每个字一个标签：{n} 个字需要 {n} 个字母，你给了 {len(answer)} 个。")
    only_s_wrong = all(a == r for a, r in zip(answer, right) if r != "S")
    if only_s_wrong:
        return verdict(False, "单字成词（如“是”）的标签是 S，不是 B 或 E。")
    return verdict(False, "多字词：第一个字 B，最后一个字 E，中间的字都是 M；单字词是 S。")
