"""Claims a notebook asserts about a measured number, recorded for ``make robust``.

    claim("LSTM 测试 MSE（T=30）", mse, "<=", 0.05)

prints the measured number beside its threshold and raises AssertionError (with both numbers)
when the claim does not hold. When ``SEQCOURSE_CLAIMS`` names a file, every claim is also
appended to it as one JSON line (notebook, name, value, op, threshold, ok); ``scripts/robust.py``
reads those lines to print the spread of every asserted number over several seed offsets.
"""
from __future__ import annotations

import json
import math
import operator
import os

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _notebook() -> str:
    """The notebook a claim comes from: ``SEQCOURSE_NOTEBOOK`` (set by scripts/robust.py), else the
    name Jupyter's server gives the kernel of an open notebook (``JPY_SESSION_NAME``, a path: the
    browser test's runs), else ""."""
    name = os.environ.get("SEQCOURSE_NOTEBOOK")
    if name:
        return name
    session = os.environ.get("JPY_SESSION_NAME", "")
    return os.path.splitext(os.path.basename(session))[0] if session.endswith(".ipynb") else ""


def _number(value, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"claim {name!r}: value must be a real number, got {type(value).__name__} {value!r}") from None
    return number


def claim(name: str, value, op: str, threshold, *, fmt: str = ".4g", quiet: bool = False,
          scale: str = "linear") -> float:
    """Check ``value op threshold`` for a measured ``value``; print it, record it, return the value.

    op is one of "<", "<=", ">", ">=". A NaN value never satisfies a claim. ``scale="log"`` says
    that the number varies by factors (a gradient norm, a ratio of norms): ``make robust`` then
    judges its margin on a log10 scale; "linear" (the default) for everything else.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"claim name must be a non-empty str, got {name!r}")
    if scale not in ("linear", "log"):
        raise ValueError(f"claim {name!r}: scale must be 'linear' or 'log', got {scale!r}")
    if op not in _OPS:
        raise ValueError(f"claim {name!r}: op must be one of {', '.join(map(repr, _OPS))}, got {op!r}")
    v, t = _number(value, name), _number(threshold, name)
    ok = not math.isnan(v) and _OPS[op](v, t)
    path = os.environ.get("SEQCOURSE_CLAIMS")
    if path:
        record = {"notebook": _notebook(), "name": name, "value": v,
                  "op": op, "threshold": t, "ok": ok, "scale": scale}
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    if not quiet:
        print(f"[{'通过' if ok else '未通过'}] {name} = {v:{fmt}}（要求 {op} {t:{fmt}}）")
    if not ok:
        raise AssertionError(f"claim {name!r} does not hold: {v:{fmt}} {op} {t:{fmt}} is false")
    return v
