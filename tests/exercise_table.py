"""Shared pieces of the table-driven exercise tests (not a test module itself)."""
import numpy as np
import torch

from helpers.exercises._core import Verdict

# What students hand a checker by mistake: none of it may make a checker raise.
HOSTILE = [None, float("inf"), float("nan"), 10 ** 400, "abc", [], {}, object(), np.array([np.nan]),
           torch.full((2, 2), float("inf")), lambda *a: 1 / 0, print, b"\xff"]


def run_checker(capsys, checker, *args):
    """Call ``checker(*args)``; it must return a Verdict. Returns (verdict as bool, printed text)."""
    verdict = checker(*args)
    assert isinstance(verdict, Verdict), f"{checker.__name__} returned {type(verdict).__name__}, not a Verdict"
    return bool(verdict), capsys.readouterr().out


def assert_rejects_hostile(capsys, checker, answer):
    """A hostile answer gets a printed 'wrong' (or 'not answered' for None) and no emoji."""
    ok, out = run_checker(capsys, checker, answer)
    assert not ok and out.strip()
    assert ("未作答" in out) == (answer is None)
    for mark in "✅❌⏳":
        assert mark not in out


def assert_row(got: bool, out: str, ok: bool, must: str, must_not: str | None = None) -> None:
    """One table row: the verdict is ``ok``, ``must`` is printed, ``must_not`` (a wrong hint) is not."""
    assert got is ok, out
    assert must in out, out
    if must_not:
        assert must_not not in out, out
