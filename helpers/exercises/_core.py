"""What every exercise checker shares: a verdict printed for the student, and a bool returned.

A checker never raises on a wrong answer (the notebook must run top to bottom in class and
in CI); it prints ✅ or ❌ with a specific hint and returns True/False. The notebook's
reference-solution cell then does ``assert check_...(solution)``.
"""
from __future__ import annotations

import torch

NOT_ANSWERED = "还没有作答：把 None 换成你的答案再运行。(Not answered yet: replace None with your answer.)"


def verdict(ok: bool, message: str = "") -> bool:
    """Print the verdict and return ``ok``."""
    if ok:
        print("✅ 正确！" + (f" {message}" if message else ""))
    else:
        print("❌ " + message)
    return ok


def unanswered(answer) -> bool:
    """True (after printing a reminder) if the student left the placeholder None."""
    if answer is None:
        print("⏳ " + NOT_ANSWERED)
        return True
    return False


def close(a, b, tol: float = 1e-6) -> bool:
    """Same shape and all entries within ``tol`` (tensors, arrays or numbers)."""
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    return a.shape == b.shape and bool(torch.allclose(a, b, atol=tol, rtol=0))


def as_int(answer) -> int | None:
    """The answer as an int, or None after printing that an integer was expected."""
    try:
        return int(answer)
    except (TypeError, ValueError):
        verdict(False, f"答案应是一个整数，得到的是 {answer!r}。")
        return None


def run_student(fn, args: tuple, signature: str, hint: str) -> tuple[bool, object]:
    """Call the student's function on ``args``: (True, result), or (False, None) after printing why.

    Covers the placeholder None (not answered yet), a non-function, and code that fails in any
    way (reported with ``hint``, never raised).
    """
    if unanswered(fn):
        return False, None
    if not callable(fn):
        verdict(False, f"请传入一个函数 {signature}，而不是 {type(fn).__name__}。")
        return False, None
    try:
        return True, fn(*args)
    except Exception as err:
        verdict(False, f"运行出错：{type(err).__name__}: {err}。{hint}")
        return False, None
