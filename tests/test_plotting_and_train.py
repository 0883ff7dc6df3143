"""Chinese renders without missing glyphs; the training loop trains; seeds reproduce."""
import time
import warnings

import matplotlib.pyplot as plt
import pytest
import torch

from helpers import env, train
from helpers.plots import plotting


def test_chinese_text_has_no_missing_glyphs(tmp_path):
    name = plotting.use_chinese_font()
    assert name
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # "Glyph ... missing from font(s)" would raise
        fig, ax = plt.subplots()
        ax.set_title("梯度消失与爆炸：遗忘门、输入门、输出门")
        ax.set_xlabel("时间步 k")
        ax.plot([0, 1], [-1, 1], label="隐藏状态 −1")
        ax.legend()
        fig.savefig(tmp_path / "zh.png")
        fig.savefig(tmp_path / "zh.svg")
        plt.close(fig)


def test_bundled_font_is_installed():
    assert plotting.bundled_font_path() is not None


def test_fit_reduces_loss_and_is_reproducible():
    def run():
        env.set_seed(0)
        X = torch.randn(256, 3)
        Y = X @ torch.tensor([[1.0], [-2.0], [0.5]])
        model = torch.nn.Linear(3, 1)
        h = train.fit(model, lambda m, x, y: ((m(x) - y) ** 2).mean(), (X, Y), epochs=30, lr=0.05,
                      batch_size=32, progress=False, clip=10.0)
        return h
    a, b = run(), run()
    assert a.loss == b.loss
    assert a.loss[-1] < 0.01 * a.loss[0]
    assert len(a.grad_norm) == 30


def test_count_parameters_and_device():
    assert train.count_parameters(torch.nn.LSTM(3, 4)) == 4 * (4 * 3 + 4 * 4 + 2 * 4)
    assert env.get_device("cpu").type == "cpu"


def test_setup_uses_one_thread_unless_overridden(monkeypatch):
    import pytest

    monkeypatch.setenv("SEQCOURSE_THREADS", "2")
    assert env.set_threads() == 2 and torch.get_num_threads() == 2
    monkeypatch.setenv("SEQCOURSE_THREADS", "zero")
    with pytest.raises(ValueError, match="SEQCOURSE_THREADS must be a positive integer, got 'zero'"):
        env.set_threads()
    monkeypatch.delenv("SEQCOURSE_THREADS")
    assert env.set_threads() == 1 and torch.get_num_threads() == 1
    # BLAS (numpy, scipy: scikit-learn) and numba (sktime) get the same number: their own pools
    # spin beside a busy neighbour (chapter 09's baselines cell: 49 s instead of 12 s)
    import os
    from threadpoolctl import threadpool_info

    assert all(os.environ[v] == "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"))
    blas = [p for p in threadpool_info() if p["user_api"] == "blas"]
    assert blas and all(p["num_threads"] == 1 for p in blas), blas


def test_sequence_cross_entropy_skips_padding():
    scores = torch.randn(2, 3, 5)
    targets = torch.tensor([[1, 4, -100], [0, -100, -100]])
    kept = scores[targets != -100]
    expected = torch.nn.functional.cross_entropy(kept, targets[targets != -100])
    assert torch.allclose(train.sequence_cross_entropy(scores, targets), expected)


def _two_models(dropout: float = 0.0):
    torch.manual_seed(0)
    return {"gru": torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Dropout(dropout),
                                       torch.nn.Linear(16, 1)),
            "mlp": torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))}


def _data():
    g = torch.Generator().manual_seed(1)
    X = torch.randn(256, 4, generator=g)
    return X, X.sum(1, keepdim=True).sin()


def _mse(model, x, y):
    return ((model(x) - y) ** 2).mean()


def test_fit_together_equals_fitting_one_after_another():
    """Two threads (really two: the loss sees both) change nothing: the same weights and
    histories, bit for bit."""
    import threading

    ran_in = set()

    def mse(model, x, y):
        ran_in.add(threading.current_thread())
        return _mse(model, x, y)

    threads = torch.get_num_threads()
    torch.set_num_threads(1)                      # as helpers.env.setup sets it
    try:
        alone, together = _two_models(), _two_models()
        want = {name: train.fit(m, _mse, _data(), epochs=5, batch_size=16, lr=1e-2, clip=1.0, seed=2,
                                progress=False) for name, m in alone.items()}
        got = train.fit_together(together, mse, _data(), epochs=5, batch_size=16, lr=1e-2, clip=1.0, seed=2,
                                 progress=False)
    finally:
        torch.set_num_threads(threads)
    assert len(ran_in) == 2 and threading.main_thread() not in ran_in
    assert list(got) == ["gru", "mlp"]
    for name in alone:
        assert got[name] == want[name]
        a, b = alone[name].state_dict(), together[name].state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), name


def test_side_by_side_runs_dropout_models_in_turn_and_stops_all_on_an_error():
    import threading

    assert train.draws_random_numbers(_two_models(0.1)["gru"]) and not train.draws_random_numbers(_two_models()["gru"])
    where = []
    jobs = {name: (lambda bar: where.append(threading.current_thread())) for name in ("gru", "mlp")}
    train.side_by_side(jobs, _two_models(0.1), total=1, progress=False)
    assert where == [threading.main_thread()] * 2
    with pytest.raises(ValueError, match="one job per model"):
        train.side_by_side({"gru": jobs["gru"]}, _two_models(), total=1, progress=False)
    same = _two_models()["gru"]
    with pytest.raises(ValueError, match="its own model"):
        train.side_by_side(jobs, {"gru": same, "mlp": same}, total=1, progress=False)

    steps = {"gru": 0, "mlp": 0}

    def job(name, fail_at):
        def run(bar):
            for _ in range(10_000):
                steps[name] += 1
                if steps[name] == fail_at:
                    raise RuntimeError("boom")
                time.sleep(0.001)
                bar.update(1)
        return run

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            train.side_by_side({"gru": job("gru", None), "mlp": job("mlp", 20)}, _two_models(), total=10_000,
                               progress=False)
    finally:
        torch.set_num_threads(threads)
    assert steps["mlp"] == 20 and steps["gru"] < 10_000


def test_side_by_side_warns_when_a_job_draws_from_the_global_generator():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with pytest.warns(RuntimeWarning, match="global generator"):
            train.side_by_side({"gru": lambda bar: torch.rand(1), "mlp": lambda bar: None}, _two_models(),
                               total=1, progress=False)
    finally:
        torch.set_num_threads(threads)
