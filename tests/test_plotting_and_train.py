"""Chinese renders without missing glyphs; the training loop trains; seeds reproduce."""
import warnings

import matplotlib.pyplot as plt
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
