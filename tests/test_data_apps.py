"""Chapter 09 (part 1) data: JapaneseVowels and BasicMotions from sktime's wheel, read offline."""
import numpy as np
import pytest

from helpers import data


def test_japanese_vowels_shapes_and_labels():
    train, ytr = data.load_japanese_vowels("train")
    test, yte = data.load_japanese_vowels("test")
    assert len(train) == 270 and len(test) == 370
    assert all(s.ndim == 2 and s.shape[1] == data.JAPANESE_VOWELS_CHANNELS and s.dtype == np.float64
               for s in train + test)
    lengths = [len(s) for s in train + test]
    assert min(lengths) == 7 and max(lengths) == 29
    assert np.bincount(ytr).tolist() == [30] * 9
    assert np.bincount(yte).tolist() == [31, 35, 88, 44, 29, 24, 40, 50, 29]
    assert all(np.isfinite(s).all() for s in train)


def test_japanese_vowels_returns_copies():
    a, ya = data.load_japanese_vowels("train")
    a[0][:] = 99.0
    ya[:] = 0
    b, yb = data.load_japanese_vowels("train")
    assert not (b[0] == 99.0).all() and yb.max() == 8


def test_basic_motions_shapes_and_labels():
    x, y = data.load_basic_motions("train")
    xt, yt = data.load_basic_motions("test")
    assert x.shape == (40, 100, 6) and xt.shape == (40, 100, 6) and x.dtype == np.float64
    assert np.bincount(y).tolist() == [10] * 4 and np.bincount(yt).tolist() == [10] * 4
    assert len(data.BASIC_MOTIONS_CHANNELS) == 6
    assert [data.BASIC_MOTIONS_ZH[c] for c in data.BASIC_MOTIONS_CLASSES] == ["羽毛球", "跑步", "站立", "步行"]
    # standing is the calm class: its spread is the smallest on every channel
    spread = np.array([x[y == k].std(axis=1).mean(0) for k in range(4)])
    assert (spread.argmin(axis=0) == data.BASIC_MOTIONS_CLASSES.index("standing")).all()


@pytest.mark.parametrize("loader", [data.load_japanese_vowels, data.load_basic_motions])
def test_bad_split_is_a_clear_error(loader):
    with pytest.raises(ValueError, match="split must be one of 'train', 'test'"):
        loader("validation")


def test_missing_sktime_names_the_pin(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sktime" else real(name, *a))
    data._japanese_vowels.cache_clear()
    try:
        with pytest.raises(ModuleNotFoundError, match="sktime==1.2.0"):
            data.load_japanese_vowels("train")
    finally:
        data._japanese_vowels.cache_clear()
