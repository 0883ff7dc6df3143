"""Benchmark the course: run each notebook top to bottom in a fresh kernel and time it
(kernel start included), then measure the gradient explorer's update latency.

    python scripts/bench.py [notebooks/04_bptt.ipynb ...]

Prints a table; nothing here asserts a time (timings belong in this script, not in tests).
"""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 60.0


def run_notebook(path: Path) -> tuple[float, str]:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute(stderr=subprocess.DEVNULL)     # the kernel's start-up warnings are noise here
        status = "ok"
    except Exception as exc:  # report and go on with the next notebook
        status = f"FAILED: {type(exc).__name__}: {str(exc).splitlines()[0][:80] if str(exc) else ''}"
    return time.perf_counter() - start, status


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}")
    print(f"{'notebook':<28} {'wall time (s)':>13}  {'budget':>6}  status")
    total, failed = 0.0, 0
    for path in paths:
        seconds, status = run_notebook(path)
        total += seconds
        failed += status != "ok"
        flag = "ok" if seconds < BUDGET_S else "OVER"
        print(f"{path.name:<28} {seconds:>13.1f}  {flag:>6}  {status}", flush=True)
    print(f"{'total':<28} {total:>13.1f}")
    try:
        from helpers.widgets import benchmark_latency
    except ImportError:
        print("widget latency: helpers.widgets.benchmark_latency is not available")
    else:
        print("widget latency (one slider move = compute + redraw + encode, in the kernel, 30 moves):")
        for models in (("rnn",), ("rnn", "lstm")):
            stats = benchmark_latency(models=models)
            shown = ", ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in stats.items())
            print(f"  {'+'.join(models):<10} {shown}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
