"""helpers.baselines: sktime's DTW agrees with the recursion written out cell by cell (DTW_D and
DTW_I, unequal lengths) and with sktime's public dtw_distance; 1-NN, MiniRocket on equal and
unequal lengths, determinism per seed, and clear errors."""
import numpy as np
import pytest

from helpers import baselines


def _dtw(x, y):
    """D(i, j) = ||x_i - y_j||^2 + min(D(i-1, j), D(i, j-1), D(i-1, j-1)), x (m, C), y (n, C)."""
    m, n = len(x), len(y)
    D = np.full((m + 1, n + 1), np.inf)
    D[0, 0] = 0.0
    for i in range(1, m + 1):
        for j in range(1, n + 1):
            D[i, j] = float(((x[i - 1] - y[j - 1]) ** 2).sum()) + min(D[i - 1, j], D[i, j - 1], D[i - 1, j - 1])
    return D[m, n]


def _seqs(lengths, C=3, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(n, C)) for n in lengths]


def test_dtw_dependent_and_independent_equal_the_recursion():
    q, r = _seqs((4, 9, 1), seed=1), _seqs((7, 2, 5, 11), seed=2)
    want_d = np.array([[_dtw(a, b) for b in r] for a in q])
    want_i = np.array([[sum(_dtw(a[:, [c]], b[:, [c]]) for c in range(3)) for b in r] for a in q])
    assert np.allclose(baselines.dtw_distances(q, r), want_d, rtol=1e-12, atol=1e-12)
    assert np.allclose(baselines.dtw_distances(q, r, dependent=False), want_i, rtol=1e-12, atol=1e-12)
    assert not np.allclose(want_d, want_i)
    # DTW of a sequence with itself is 0; equal lengths on the diagonal path give at most the Euclidean cost
    same = baselines.dtw_distances(r, r)
    assert np.allclose(np.diag(same), 0)
    a, b = _seqs((6, 6), seed=3)
    assert baselines.dtw_distances([a], [b])[0, 0] <= ((a - b) ** 2).sum() + 1e-12


def test_dtw_agrees_with_sktimes_public_function():
    from sktime.dists_kernels._numba_distances._distance import dtw_distance

    q, r = _seqs((5, 8), seed=4), _seqs((6, 3), seed=5)
    got = baselines.dtw_distances(q, r)
    for i, a in enumerate(q):
        for j, b in enumerate(r):
            assert got[i, j] == pytest.approx(dtw_distance(np.ascontiguousarray(a.T), np.ascontiguousarray(b.T)),
                                              rel=1e-12)


def test_one_nn_takes_the_nearest_reference():
    d = np.array([[3.0, 1.0, 2.0], [0.5, 4.0, 0.7]])
    assert baselines.one_nn(d, np.array([7, 8, 9])).tolist() == [8, 7]
    with pytest.raises(ValueError, match="integer class ids"):
        baselines.one_nn(d, np.array([0.5, 1.0, 2.0]))
    with pytest.raises(ValueError, match="without NaN"):
        baselines.one_nn(np.array([[np.nan, 1.0]]), np.array([0, 1]))


@pytest.mark.parametrize("lengths", [(20,) * 12, (5, 11, 7, 20, 9, 8, 14, 6, 10, 13, 12, 15)])
def test_minirocket_learns_an_easy_problem_and_is_deterministic_per_seed(lengths):
    rng = np.random.default_rng(0)
    y = np.arange(len(lengths)) % 2
    seqs = [rng.normal(size=(n, 2)) + 3.0 * label * np.sin(np.arange(n) / 2.0)[:, None]
            for n, label in zip(lengths, y)]
    model = baselines.MiniRocket(seed=1, num_kernels=200).fit(seqs, y)
    assert model.equal_length_ == (len(set(lengths)) == 1)
    assert (model.predict(seqs) == y).mean() == 1.0
    again = baselines.MiniRocket(seed=1, num_kernels=200).fit(seqs, y)
    assert np.array_equal(np.asarray(model.transform_.transform(model._panel(baselines._sequences(seqs, "s")))),
                          np.asarray(again.transform_.transform(again._panel(baselines._sequences(seqs, "s")))))


def test_minirocket_errors():
    with pytest.raises(RuntimeError, match="fit"):
        baselines.MiniRocket().predict(_seqs((10, 10)))
    seqs = _seqs((12,) * 4)
    model = baselines.MiniRocket(num_kernels=100).fit(seqs, np.array([0, 1, 0, 1]))
    with pytest.raises(ValueError, match="length 12"):
        model.predict(_seqs((13,)))
    with pytest.raises(TypeError, match="seed"):
        baselines.MiniRocket(seed=-1)
    with pytest.raises(ValueError, match="integer class ids"):
        baselines.MiniRocket(num_kernels=100).fit(seqs, np.array([0, 1, 0]))


@pytest.mark.parametrize("bad, match", [
    ([], "non-empty list"),
    ("abc", "non-empty list"),
    ([np.zeros(5)], r"\(T, C\) array"),
    ([np.zeros((0, 2))], r"\(T, C\) array"),
    ([np.array([["a", "b"]])], r"\(T, C\) array"),
    ([np.full((3, 2), np.nan)], "NaN"),
    ([np.zeros((3, 2)), np.zeros((3, 4))], "same number of channels"),
])
def test_dtw_rejects_bad_sequences(bad, match):
    with pytest.raises((TypeError, ValueError), match=match):
        baselines.dtw_distances(bad, _seqs((3,), C=2))


def test_dtw_rejects_mismatched_channels_and_a_non_bool_flag():
    with pytest.raises(ValueError, match="channels"):
        baselines.dtw_distances(_seqs((3,), C=2), _seqs((3,), C=3))
    with pytest.raises(TypeError, match="dependent"):
        baselines.dtw_distances(_seqs((3,)), _seqs((3,)), dependent="yes")


def test_warm_runs():
    assert baselines.warm(verbose=False) > 0
