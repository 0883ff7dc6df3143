"""The seed switch (SEQCOURSE_SEED) and claim(): what make robust relies on."""
import json
import random

import pytest
import torch

from helpers import data, env
from helpers.claims import claim


def test_no_offset_changes_nothing(monkeypatch):
    monkeypatch.delenv("SEQCOURSE_SEED", raising=False)
    assert env.shifted(7) == 7
    env.set_seed(3)
    a = torch.rand(3)
    torch.manual_seed(3)
    assert torch.equal(a, torch.rand(3))
    assert env.generator(5).initial_seed() == 5


def test_offset_moves_every_seed(monkeypatch):
    x0, _ = data.adding_problem(4, 6, seed=1)
    monkeypatch.setenv("SEQCOURSE_SEED", "2")
    assert env.shifted(1) == 1 + 2 * env.SEED_STRIDE
    x2, _ = data.adding_problem(4, 6, seed=1)
    assert not torch.equal(x0, x2)
    assert env.rng(0).random() != random.Random(0).random()
    env.set_seed(0)
    a = torch.rand(2)
    env.set_seed(0)
    assert torch.equal(a, torch.rand(2))          # still reproducible under an offset


@pytest.mark.parametrize("bad", ["-1", "x", "1.5"])
def test_bad_offset_is_named(monkeypatch, bad):
    monkeypatch.setenv("SEQCOURSE_SEED", bad)
    with pytest.raises(ValueError, match="SEQCOURSE_SEED"):
        env.shifted(0)


def test_claim_passes_prints_and_records(tmp_path, monkeypatch, capsys):
    path = tmp_path / "c.jsonl"
    monkeypatch.setenv("SEQCOURSE_CLAIMS", str(path))
    monkeypatch.setenv("SEQCOURSE_NOTEBOOK", "nb")
    assert claim("acc", 0.8, ">=", 0.75) == 0.8
    assert "0.8" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="acc2"):
        claim("acc2", float("nan"), ">=", 0.75)
    recs = [json.loads(l) for l in path.read_text().splitlines()]
    assert [(r["name"], r["ok"], r["notebook"]) for r in recs] == [("acc", True, "nb"), ("acc2", False, "nb")]


def test_claim_errors_are_named():
    with pytest.raises(ValueError, match="op must be"):
        claim("x", 1, "==", 1)
    with pytest.raises(TypeError, match="real number"):
        claim("x", "abc", "<", 1)
