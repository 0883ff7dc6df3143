"""The field's standard baselines for multivariate time-series classification (chapter 09), from
sktime (pinned 1.2.0), on the course's lists of (T_i, C) arrays:

- ``dtw_distances(queries, references, dependent=True)``: the full-window dynamic time warping
  distance between every query and every reference, from sktime's numba DTW (squared Euclidean
  point cost, no warping window, as in the UEA archive's 1-NN DTW benchmarks of Bagnall et al.
  2018). ``dependent=True`` is DTW_D (one warping path for all channels), ``False`` is DTW_I (one
  path per channel, distances summed). Sequences may have different lengths.
- ``one_nn(distances, reference_labels)``: the label of each query's nearest reference.
- ``MiniRocket(seed)``: sktime's MiniRocket transform (``MiniRocketMultivariate``, or the
  ``...Variable`` version when lengths differ) + ``RidgeClassifierCV`` on standardized features,
  the recipe of Dempster, Schmidt & Webb (2021). ``fit(seqs, labels)`` / ``predict(seqs)``.
- ``warm()``: compiles and caches the numba code of both (``python -m helpers.baselines``; run by
  scripts/install.sh), so that a chapter pays about a second instead of a minute's compile.

numba caches compiled code next to sktime's sources (``__pycache__``, ``cache=True``) or in
``NUMBA_CACHE_DIR``; the cache is keyed on the source files and the CPU, so a new machine or a
re-installed sktime compiles once more.
"""
from __future__ import annotations

import numpy as np

from . import checks

MIN_MINIROCKET_LENGTH = 9          # MiniRocket's kernels have length 9


def _sequences(seqs, name: str) -> list[np.ndarray]:
    if isinstance(seqs, np.ndarray) and seqs.ndim == 3:
        seqs = list(seqs)
    if not isinstance(seqs, (list, tuple)) or not seqs:
        raise TypeError(f"{name} must be a non-empty list of (T, C) arrays, got {type(seqs).__name__}")
    out = []
    for i, s in enumerate(seqs):
        a = np.asarray(s.detach().cpu().numpy() if hasattr(s, "detach") else s)
        if a.ndim != 2 or a.shape[0] < 1 or a.dtype.kind not in "iuf":
            raise ValueError(f"{name}[{i}] must be a real (T, C) array with T >= 1, "
                             f"got dtype {a.dtype}, shape {a.shape}")
        if not np.isfinite(a).all():
            raise ValueError(f"{name}[{i}] contains NaN or infinity")
        out.append(np.ascontiguousarray(a, dtype=np.float64))
    channels = {a.shape[1] for a in out}
    if len(channels) != 1:
        raise ValueError(f"every sequence in {name} must have the same number of channels, got {sorted(channels)}")
    return out


def _labels(labels, n: int) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) != n or y.dtype.kind not in "iu":
        raise ValueError(f"labels must be {n} integer class ids, got dtype {y.dtype}, shape {y.shape}")
    return y


# ----------------------------------------------------------------------------- 1-NN DTW
def _dtw_cost():
    """sktime's numba DTW cost matrix: (x (C, m), y (C, n), bounding (>= m, >= n)) -> (m, n), whose
    last entry is the DTW distance; the same numbers as the public
    ``sktime.dists_kernels._numba_distances._distance.dtw_distance`` (checked in tests), which
    compiles a new closure on every call (about 30 ms a pair, too slow for 100,000 pairs)."""
    from sktime.dists_kernels._numba_distances._dtw_numba import _cost_matrix

    return _cost_matrix


def dtw_distances(queries, references, dependent: bool = True) -> np.ndarray:
    """(len(queries), len(references)) DTW distances; DTW_D if ``dependent`` else DTW_I."""
    if not isinstance(dependent, bool):
        raise TypeError(f"dependent must be True or False, got {dependent!r}")
    q, r = _sequences(queries, "queries"), _sequences(references, "references")
    if q[0].shape[1] != r[0].shape[1]:
        raise ValueError(f"queries have {q[0].shape[1]} channels, references {r[0].shape[1]}")
    cost = _dtw_cost()
    full_window = np.zeros((max(len(a) for a in q), max(len(b) for b in r)))   # every cell allowed
    if dependent:
        groups = [([np.ascontiguousarray(a.T) for a in q], [np.ascontiguousarray(b.T) for b in r])]
    else:
        groups = [([np.ascontiguousarray(a[:, c][None]) for a in q], [np.ascontiguousarray(b[:, c][None]) for b in r])
                  for c in range(q[0].shape[1])]
    out = np.zeros((len(q), len(r)))
    for qs, rs in groups:
        out += np.array([[cost(a, b, full_window)[-1, -1] for b in rs] for a in qs])
    return out


def one_nn(distances, reference_labels) -> np.ndarray:
    """The label of each row's nearest reference (ties: the first reference)."""
    d = np.asarray(distances, dtype=np.float64)
    if d.ndim != 2 or d.shape[1] < 1 or np.isnan(d).any():
        raise ValueError(f"distances must be a (queries, references) matrix without NaN, got shape {d.shape}")
    y = _labels(reference_labels, d.shape[1])
    return y[d.argmin(1)]


# ----------------------------------------------------------------------------- MiniRocket
class MiniRocket:
    """MiniRocket features (10,000 by default) + standardization + ridge classifier with the
    regularization chosen by leave-one-out cross-validation on the training set only."""

    def __init__(self, seed: int = 0, num_kernels: int = 10_000):
        checks.positive_int(num_kernels, "num_kernels")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise TypeError(f"seed must be a non-negative integer, got {seed!r}")
        self.seed, self.num_kernels = int(seed), num_kernels
        self.transform_ = self.classifier_ = None

    def _panel(self, seqs):
        import pandas as pd

        if self.equal_length_:
            return np.stack([s.T for s in seqs])                   # numpy3D: (N, C, T)
        return [pd.DataFrame(s) for s in seqs]                       # df-list: one (T, C) frame each

    def fit(self, seqs, labels) -> "MiniRocket":
        from sklearn.linear_model import RidgeClassifierCV
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sktime.transformations.panel.rocket import MiniRocketMultivariate, MiniRocketMultivariateVariable

        seqs = _sequences(seqs, "seqs")
        y = _labels(labels, len(seqs))
        lengths = {len(s) for s in seqs}
        self.equal_length_ = len(lengths) == 1 and min(lengths) >= MIN_MINIROCKET_LENGTH
        self.length_ = min(lengths)
        if self.equal_length_:
            self.transform_ = MiniRocketMultivariate(num_kernels=self.num_kernels, random_state=self.seed)
        else:   # short series are padded to 9 frames inside the transform
            self.transform_ = MiniRocketMultivariateVariable(num_kernels=self.num_kernels, random_state=self.seed,
                                                             pad_value_short_series=0.0)
        features = self.transform_.fit_transform(self._panel(seqs))
        self.classifier_ = make_pipeline(StandardScaler(with_mean=False),
                                         RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)))
        self.classifier_.fit(np.asarray(features), y)
        return self

    def predict(self, seqs) -> np.ndarray:
        if self.classifier_ is None:
            raise RuntimeError("MiniRocket: call fit(seqs, labels) before predict")
        seqs = _sequences(seqs, "seqs")
        if self.equal_length_ and {len(s) for s in seqs} != {self.length_}:
            raise ValueError(f"this MiniRocket was fitted on sequences of length {self.length_}; "
                             f"got lengths {sorted({len(s) for s in seqs})}")
        return self.classifier_.predict(np.asarray(self.transform_.transform(self._panel(seqs))))


# ----------------------------------------------------------------------------- warm-up
def warm(verbose: bool = True) -> float:
    """Run both baselines once on tiny data (both MiniRocket versions, DTW_D and DTW_I), so that
    numba compiles and writes its cache. Returns the seconds it took."""
    import time

    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    equal = [rng.normal(size=(12, 2)) for _ in range(6)]
    ragged = [rng.normal(size=(n, 2)) for n in (5, 11, 7, 12, 9, 8)]
    y = np.array([0, 1, 0, 1, 0, 1])
    for seqs in (equal, ragged):
        MiniRocket(seed=0).fit(seqs, y).predict(seqs[:2])
        one_nn(dtw_distances(seqs[:2], seqs), y)
        one_nn(dtw_distances(seqs[:2], seqs, dependent=False), y)
    seconds = time.perf_counter() - t0
    if verbose:
        print(f"helpers.baselines: numba cache warm ({seconds:.1f} s)")
    return seconds


if __name__ == "__main__":
    warm()
