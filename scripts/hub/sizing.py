"""Server sizing for a class, from measured numbers (docs/classroom-server.md prints its output).

    .venv/bin/python scripts/bench.py --json artifacts/bench.json        (make bench writes it)
    .venv/bin/python scripts/hub/sizing.py [artifacts/bench.json] [artifacts/hub-loadtest.json]

Inputs: per chapter, the kernel's peak resident memory and the CPU-seconds of a Run All
(scripts/bench.py); the single-user server's (JupyterLab's) resident memory and the hub's, from
the classroom load test (scripts/hub/loadtest.py). Model, stated in the output:
- memory: every student has a server and one kernel of the heaviest chapter at its peak, plus
  the hub and 2 GB for the system, times 1.25 for margin. Two columns: "conservative" counts
  each student's full resident memory (RSS); "estimate" counts each student's private memory
  (USS) and the shared library pages (RSS - USS, torch's code) once for the whole server;
- cores: a Run All of the heaviest chapter should finish within about a minute even when a share
  of the class starts it at the same moment: cores = share x students x CPU-seconds / 60.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLASSES = (10, 40, 100)
SHARES = (1.0, 0.25)            # the whole class at once (teacher: "Run All now"); a quarter
WINDOW_S = 60.0                 # the course's budget for one Run All
SYSTEM_MB = 2048
MARGIN = 1.25


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def main(argv: list[str]) -> int:
    bench = load(Path(argv[0]) if argv else ROOT / "artifacts" / "bench.json")
    hub = load(Path(argv[1]) if len(argv) > 1 else ROOT / "artifacts" / "hub-loadtest.json")
    rows = [r for r in bench.get("rows", []) if r.get("peak_rss_mb") and r.get("cpu_s")]
    if not rows:
        sys.exit("sizing.py: no bench numbers: run `.venv/bin/python scripts/bench.py --json "
                 "artifacts/bench.json` first")
    server_mb = hub.get("peak_server_mb") or 0.0
    hub_mb = hub.get("peak_hub_mb") or 0.0
    kernel_mb = max(r["peak_rss_mb"] for r in rows)
    cpu_s = max(r["cpu_s"] for r in rows)
    heavy_mem = max(rows, key=lambda r: r["peak_rss_mb"])["notebook"]
    heavy_cpu = max(rows, key=lambda r: r["cpu_s"])["notebook"]
    private = all(r.get("peak_private_mb") for r in rows) and hub.get("peak_server_private_mb")
    print("| 章节 | 内核峰值内存 RSS (MB) | 其中私有 USS (MB) | Run All 的 CPU 秒 |")
    print("|---|---:|---:|---:|")
    for r in rows:
        uss = f"{r['peak_private_mb']:.0f}" if r.get("peak_private_mb") else "n/a"
        print(f"| {r['notebook']} | {r['peak_rss_mb']:.0f} | {uss} | {r['cpu_s']:.1f} |")
    print()
    print(f"per student: kernel {kernel_mb:.0f} MB ({heavy_mem}) + server {server_mb:.0f} MB; "
          f"heaviest Run All {cpu_s:.1f} CPU-s ({heavy_cpu}); hub {hub_mb:.0f} MB")
    print()
    if private:
        kernel_uss = max(r["peak_private_mb"] for r in rows)
        server_uss = hub["peak_server_private_mb"]
        shared = max(r["peak_rss_mb"] - r["peak_private_mb"] for r in rows) + server_mb - server_uss
        print(f"private per student: kernel {kernel_uss:.0f} MB + server {server_uss:.0f} MB; "
              f"shared once: {shared:.0f} MB")
        print()
    print("| 学生数 | 内存 (GB)：保守 | 内存 (GB)：估计 | CPU 核：全班同时 Run All | CPU 核：四分之一同时 |")
    print("|---:|---:|---:|---:|---:|")
    for n in CLASSES:
        ram_gb = math.ceil((n * (kernel_mb + server_mb) + hub_mb + SYSTEM_MB) * MARGIN / 1024)
        est = (f"{math.ceil((n * (kernel_uss + server_uss) + shared + hub_mb + SYSTEM_MB) * MARGIN / 1024)}"
               if private else "n/a")
        cores = [max(2, math.ceil(share * n * cpu_s / WINDOW_S)) for share in SHARES]
        print(f"| {n} | {ram_gb} | {est} | {cores[0]} | {cores[1]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
