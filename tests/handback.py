"""A guard over every checker call in the test suite: no failure message hands back a value that
passes (issue #23: "a test that no failure message of any checker contains a value that passes
when handed back").

``conftest.py`` wraps every ``check_*`` of ``helpers.exercises`` with :func:`probe` before any test
module imports them. Whenever a wrapped checker rejects an answer made of numbers, the numbers its
message printed are handed back in the answer's place, the way a student would copy them: a number
answer gets each printed number; a dict answer gets each printed number in each of its number
fields (the other fields as given); a list, array or tensor answer of n numbers gets every run of n
consecutive printed numbers, in its shape. If any of them passes, the checker call raises
``HandBack``, so the table row that made the call fails and names the message. Every table test
of every chapter (the mistakes named in the hints, made-up and re-submitted numbers, other
variants' answers) is thereby also a hand-back test. Answers that are functions or models get no
numbers handed back in their place; for them, as for every answer, the guard checks instead that
the message quotes no line of an ``@reference`` body (the code the hub's student edition strips)
that the stripped helpers do not already show.
"""
from __future__ import annotations

import contextlib
import functools
import io
import re
import sys
import threading

import numpy as np
import torch

NUMBER = re.compile(r"(?<![\w.])[-−]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(%?)")
MAX_NUMBERS = 40          # a message with more numbers than this is a table: probe its first 40
_inside = threading.local()
_reference_lines: set[str] | None = None
TRIED = {"messages": 0, "answers": 0}     # how much the guard probed in this process


class HandBack(AssertionError):
    """A checker's failure message held a value that passes when handed back."""


def numbers(text: str) -> list[float]:
    """The numbers printed in ``text`` (a percentage also as its fraction), in order."""
    out = []
    for m in NUMBER.finditer(text):
        raw = m.group(0).rstrip("%").replace("−", "-")
        try:
            x = float(raw)
        except ValueError:
            continue
        if x != x or x in (float("inf"), float("-inf")):
            continue
        out.append(x / 100 if m.group(1) else x)
    return out[:MAX_NUMBERS]


def _is_number(x) -> bool:
    if isinstance(x, (bool, np.bool_)):
        return False
    if isinstance(x, (int, float, np.integer, np.floating)):
        return True
    if isinstance(x, (torch.Tensor, np.ndarray)):
        return x.ndim == 0 and x.dtype not in (torch.bool, np.bool_)
    return False


def _numeric_array(x):
    """(flat float list, rebuild) for a list/tuple/array/tensor of numbers, else None."""
    if isinstance(x, torch.Tensor) and x.ndim >= 1 and x.is_floating_point() and 0 < x.numel() <= MAX_NUMBERS:
        return x.detach().flatten().tolist(), lambda v: torch.tensor(v, dtype=x.dtype).reshape(x.shape)
    if isinstance(x, np.ndarray) and x.ndim >= 1 and x.dtype.kind in "iuf" and 0 < x.size <= MAX_NUMBERS:
        return x.ravel().tolist(), lambda v: np.asarray(v, dtype=float).reshape(x.shape)
    if isinstance(x, (list, tuple)) and 0 < len(x) <= MAX_NUMBERS and all(_is_number(e) for e in x):
        try:
            return [float(e) for e in x], (lambda v: type(x)(v))
        except OverflowError:            # an int too large for a float: nothing to hand back in its place
            return None
    return None


def candidates(answer, shown: list[float]):
    """Answers built from the printed numbers in place of the student's."""
    if not shown:
        return
    if _is_number(answer):
        for x in dict.fromkeys(shown):
            yield x
    elif isinstance(answer, dict):
        for key, value in answer.items():
            if _is_number(value):
                for x in dict.fromkeys(shown):
                    yield {**answer, key: x}
    else:
        arr = _numeric_array(answer)
        if arr is not None:
            flat, rebuild = arr
            n = len(flat)
            seen = set()
            for i in range(len(shown) - n + 1):
                window = tuple(shown[i:i + n])
                if window not in seen:
                    seen.add(window)
                    yield rebuild(list(window))


def reference_lines() -> set[str]:
    """Every line (whitespace collapsed, 16 characters or more, as the hub's read-scan counts it)
    of every @reference body in helpers/exercises that the student edition's stripped helpers do
    not also hold."""
    global _reference_lines
    if _reference_lines is None:
        from pathlib import Path

        root = Path(__file__).resolve().parents[1]
        sys.path.insert(0, str(root / "scripts" / "hub"))
        try:
            import homework as H
        finally:
            sys.path.remove(str(root / "scripts" / "hub"))
        helpers = root / "helpers"
        _reference_lines = H.secret_lines([], helpers, H.public_text(None, helpers))
        assert len(_reference_lines) > 50, len(_reference_lines)     # the scan found the bodies
    return _reference_lines


def quoted_reference(text: str) -> list[str]:
    """The reference lines that ``text`` quotes."""
    flat = " ".join(text.split())
    return sorted(line for line in reference_lines() if line in flat)


def probe(check):
    """``check`` with the hand-back guard around it (see the module's docstring)."""
    if getattr(check, "__handback_probe__", False):
        return check

    @functools.wraps(check)
    def guarded(*args, **kwargs):
        if getattr(_inside, "active", False) or not args:
            return check(*args, **kwargs)
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            result = check(*args, **kwargs)
        text = buf.getvalue()
        sys.stdout.write(text)
        if bool(result):
            return result
        quoted = quoted_reference(text)
        if quoted:
            raise HandBack(f"{check.__name__}: the failure message\n{text.strip()}\nquotes reference code: {quoted}")
        _inside.active = True
        TRIED["messages"] += 1
        try:
            for other in candidates(args[0], numbers(text)):
                TRIED["answers"] += 1
                with contextlib.redirect_stdout(io.StringIO()):
                    if bool(check(other, *args[1:], **kwargs)):
                        raise HandBack(f"{check.__name__}: the failure message\n{text.strip()}\n"
                                       f"hands back an answer that passes: {other!r}")
        finally:
            _inside.active = False
        return result

    guarded.__handback_probe__ = True
    return guarded


def install() -> list[str]:
    """Wrap every ``check_*`` in every module of ``helpers.exercises`` in place; their names."""
    import importlib
    import pkgutil

    import helpers.exercises as pkg

    wrapped = []
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"helpers.exercises.{info.name}")
        for name in dir(module):
            fn = getattr(module, name)
            if name.startswith("check_") and callable(fn) and getattr(fn, "__module__", "") == module.__name__:
                setattr(module, name, probe(fn))
                wrapped.append(f"{info.name}.{name}")
    return wrapped
