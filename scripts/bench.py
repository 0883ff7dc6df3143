"""Benchmark the course: run each notebook top to bottom in a fresh kernel and time it
(kernel start included), then measure the gradient explorer's update latency.

    python scripts/bench.py [--json FILE] [notebooks/04_bptt.ipynb ...]

Per notebook it also prints what one student costs a class server (docs/classroom-server.md):
- peak RSS (MB): the kernel process tree's peak resident memory (the kernel's own high-water mark
  VmHWM from /proc where there is one, and the tree's RSS sampled every 0.1 s, whichever is larger);
- private (MB): the peak of the tree's unique set size (USS, sampled every 0.5 s): memory no
  other process shares. Library code (torch's .so files) is shared by every kernel on a server,
  so a class needs about one kernel's RSS once plus this much per student;
- CPU (s): user + system CPU-seconds the kernel process tree spent on the Run All, kernel start
  included (sampled every 0.1 s and after every cell; a child that exits between two samples
  may be missed). Unlike the wall time, this number barely changes when the machine is busy.
Both need psutil (a dependency of ipykernel); without it the columns say n/a.
--json FILE also writes the rows as JSON. Prints a table; nothing here asserts a time (timings
belong in this script, not in tests).
"""
from __future__ import annotations

import os
import platform
import subprocess
import json
import sys
import threading
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 60.0

try:
    import psutil
except ImportError:  # pragma: no cover - psutil comes with ipykernel
    psutil = None


def _vm_hwm_bytes(pid: int) -> int:
    """The process's peak resident set size as the Linux kernel counts it (0 where unknown)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


class TreeMeter:
    """Sample a process and its descendants: peak resident memory and CPU-seconds used."""

    def __init__(self, pid: int, interval: float = 0.1):
        self.pid, self.interval = pid, interval
        self.peak_rss = 0                       # bytes
        self.peak_uss = 0                       # bytes, private memory (sampled less often)
        self._n = 0
        self._cpu: dict[tuple[int, float], float] = {}   # (pid, create_time) -> CPU-seconds seen
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> "TreeMeter":
        self.sample()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        try:
            root = psutil.Process(self.pid)
            procs = [root] + root.children(recursive=True)
        except psutil.Error:
            return
        rss, uss = 0, 0
        self._n += 1
        with_uss = self._n % 5 == 1            # smaps is slow to read: every 5th sample
        with self._lock:
            for proc in procs:
                try:
                    with proc.oneshot():
                        times = proc.cpu_times()
                        rss += proc.memory_info().rss
                        key = (proc.pid, proc.create_time())
                    if with_uss:
                        uss += proc.memory_full_info().uss
                except psutil.Error:
                    continue
                # children_* holds what its exited (waited-for) children used
                cpu = times.user + times.system + times.children_user + times.children_system
                self._cpu[key] = max(self._cpu.get(key, 0.0), cpu)
            self.peak_rss = max(self.peak_rss, rss, _vm_hwm_bytes(self.pid))
            self.peak_uss = max(self.peak_uss, uss)

    @property
    def cpu_seconds(self) -> float:
        with self._lock:
            return sum(self._cpu.values())


def run_notebook(path: Path) -> dict:
    nb = nbformat.read(path, as_version=4)
    meters: list[TreeMeter] = []

    def on_start(**_):
        pid = getattr(getattr(client.km, "provisioner", None), "pid", None)
        if psutil is not None and pid:
            meters.append(TreeMeter(pid).start())

    def on_cell(**_):
        for meter in meters:
            meter.sample()

    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            on_notebook_start=on_start, on_cell_executed=on_cell)
    start = time.perf_counter()
    try:
        client.execute(stderr=subprocess.DEVNULL)     # the kernel's start-up warnings are noise here
        status = "ok"
    except Exception as exc:  # report and go on with the next notebook
        status = f"FAILED: {type(exc).__name__}: {str(exc).splitlines()[0][:80] if str(exc) else ''}"
    seconds = time.perf_counter() - start
    for meter in meters:
        meter.stop()
    meter = meters[0] if meters else None
    return {"notebook": path.name, "wall_s": seconds, "status": status,
            "peak_rss_mb": meter.peak_rss / 2**20 if meter else None,
            "peak_private_mb": meter.peak_uss / 2**20 if meter else None,
            "cpu_s": meter.cpu_seconds if meter else None}


def _num(value, width: int, fmt: str) -> str:
    return f"{'n/a':>{width}}" if value is None else f"{value:>{width}{fmt}}"


def main(argv: list[str]) -> int:
    json_path = None
    if "--json" in argv:
        i = argv.index("--json")
        json_path, argv = Path(argv[i + 1]), argv[:i] + argv[i + 2:]
    paths = [Path(a).resolve() for a in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}")
    print(f"{'notebook':<28} {'wall time (s)':>13}  {'budget':>6}  {'peak RSS (MB)':>13}  "
          f"{'private (MB)':>12}  {'CPU (s)':>7}  status")
    total, total_cpu, failed, rows = 0.0, 0.0, 0, []
    for path in paths:
        row = run_notebook(path)
        rows.append(row)
        seconds, status = row["wall_s"], row["status"]
        total += seconds
        total_cpu += row["cpu_s"] or 0.0
        failed += status != "ok"
        flag = "ok" if seconds < BUDGET_S else "OVER"
        print(f"{path.name:<28} {seconds:>13.1f}  {flag:>6}  {_num(row['peak_rss_mb'], 13, '.0f')}  "
              f"{_num(row['peak_private_mb'], 12, '.0f')}  {_num(row['cpu_s'], 7, '.1f')}  {status}",
              flush=True)
    print(f"{'total':<28} {total:>13.1f}  {'':>6}  {'':>13}  {'':>12}  {total_cpu:>7.1f}")
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps({"machine": platform.machine(), "cpus": os.cpu_count(),
                                         "rows": rows}, indent=1), encoding="utf-8")
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
