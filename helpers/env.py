"""Seeds, device and the one-line set-up every notebook starts with."""
from __future__ import annotations

import logging
import os
import random
import sys

import numpy as np
import torch


# One switch for every seed of the course. ``SEQCOURSE_SEED=k`` (k >= 0) shifts each seed the
# notebooks and helpers use by k * SEED_STRIDE; unset (or 0) changes nothing. ``make robust`` runs
# every notebook under several offsets: another CPU rounds differently and sends a trained model
# down another trajectory, much as another seed does, so a claim must hold for every offset.
SEED_STRIDE = 100_003   # a large prime: shifted seeds never land on another seed the course uses


def seed_offset() -> int:
    """The seed offset k from ``SEQCOURSE_SEED`` (0 when unset)."""
    value = os.environ.get("SEQCOURSE_SEED", "0").strip() or "0"
    if not value.isdigit():
        raise ValueError(f"SEQCOURSE_SEED must be an integer >= 0, got {value!r}")
    return int(value)


def shifted(seed: int) -> int:
    """``seed`` moved by the offset of ``SEQCOURSE_SEED`` (unchanged when it is unset)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    return int(seed) + SEED_STRIDE * seed_offset()


def generator(seed: int = 0) -> torch.Generator:
    """A ``torch.Generator`` seeded with ``shifted(seed)``: use it instead of ``torch.Generator().manual_seed``."""
    return torch.Generator().manual_seed(shifted(seed))


def rng(seed: int = 0) -> random.Random:
    """A ``random.Random`` seeded with ``shifted(seed)``: use it instead of ``random.Random(seed)``."""
    return random.Random(shifted(seed))


def set_seed(seed: int = 0) -> None:
    """Seed Python, NumPy and PyTorch (with ``shifted(seed)``), so a notebook prints the same numbers on every run."""
    seed = shifted(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def get_device(prefer: str | None = None) -> torch.device:
    """CUDA when present (or when ``prefer='cuda'``), else the CPU. ``SEQCOURSE_DEVICE`` overrides."""
    prefer = prefer or os.environ.get("SEQCOURSE_DEVICE")
    if prefer is not None:
        if prefer not in ("cpu", "cuda"):
            raise ValueError(f"device must be 'cpu' or 'cuda', got {prefer!r}")
        if prefer == "cuda" and not torch.cuda.is_available():
            raise ValueError("device 'cuda' was asked for, but torch.cuda.is_available() is False")
        return torch.device(prefer)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def set_threads() -> int:
    """Use one CPU thread for PyTorch, BLAS and numba (``SEQCOURSE_THREADS`` overrides); returns the number.

    The course's models are tiny: splitting a 64x64 matrix product over threads costs more than
    it saves, and on a busy 2-core laptop two threads made training steps up to 50x slower
    (measured while writing chapters 01-04). One thread is also the most reproducible.
    """
    value = os.environ.get("SEQCOURSE_THREADS", "1")
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"SEQCOURSE_THREADS must be a positive integer, got {value!r}")
    n = int(value)
    torch.set_num_threads(n)
    # The same number for the other thread pools: numpy's and scipy's BLAS (scikit-learn's models)
    # and numba's parallel loops (sktime's MiniRocket, chapter 09) otherwise start one thread per
    # core, and their threads spin while they wait. Beside one other busy process on a 2-core
    # machine that made chapter 09's baselines cell 4x slower (12.8 s alone, 49 s beside a busy
    # loop; 11 s with every pool at one thread). Libraries loaded later read the variables;
    # threadpoolctl limits those already loaded.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(n)
    from threadpoolctl import threadpool_limits

    threadpool_limits(n)
    if "numba" in sys.modules:
        import numba

        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    return n


def setup(seed: int = 0, quiet: bool = True) -> torch.device:
    """Seed everything, use one CPU thread, set the plot style (Chinese font), silence jieba; return the device."""
    from .plots.plotting import style

    set_seed(seed)
    set_threads()
    style()
    if quiet:
        import jieba

        jieba.setLogLevel(logging.WARNING)
    return get_device()
