"""Run every notebook under several seed offsets (and once with two threads) and report every claim.

    python scripts/robust.py [--offsets 1 2 3 4 5] [--jobs 2] [notebooks/05_lstm.ipynb ...]

Each run executes the notebook top to bottom in a fresh kernel with ``SEQCOURSE_SEED=k`` (every
seed the course uses moves; see helpers/env.py), going on past failing cells so that every failing
assert is listed. One more run keeps the seeds and sets ``SEQCOURSE_THREADS=2`` (another
summation order, as on another machine). The report lists, per notebook and run, the cells that
raised; then, for every number a notebook checks with ``helpers.claims.claim``, its threshold and
its minimum, median and maximum over all runs. Exit status 1 if any cell failed in any run.
A Markdown copy of the table goes to artifacts/robust.md (for the README).

The margin report: for every claim, ``gap`` is how far its nearest run lies from the threshold
(positive when every run held) and two ratios say whether that is safe on the next machine:
``gap/range`` (the gap over the spread max - min of the runs) and ``z`` (how many standard
deviations of the runs the threshold lies from their mean). A claim is THIN when z < 3 or
gap/range < 0.5: under a normal spread a new run then misses it with a chance above about 1 in
700, and a CI run evaluates every claim 7 times (nbval + 6 robust runs), so a thin claim becomes
a coin toss over a term of CI runs. Thin claims are listed after the table; re-think them (a more
reliable experiment first, then the threshold), never loosen them silently. A claim whose value
does not move between runs (deterministic, spread 0) is never thin. A claim made with
``claim(..., scale="log")`` (a gradient norm, which varies by factors) is judged on a log10 scale.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"


def run_one(path: Path, offset: int, threads: int) -> dict:
    """Execute one notebook in a child process (its own environment); return what failed and what was claimed."""
    with tempfile.TemporaryDirectory() as tmp:
        claims, result = Path(tmp) / "claims.jsonl", Path(tmp) / "result.json"
        env = dict(os.environ, SEQCOURSE_SEED=str(offset), SEQCOURSE_THREADS=str(threads),
                   SEQCOURSE_CLAIMS=str(claims), SEQCOURSE_NOTEBOOK=path.stem, PYTHONHASHSEED="0")
        if threads > 1:   # idle OpenMP threads sleep instead of spinning: with two runs at once on
            env.setdefault("OMP_WAIT_POLICY", "PASSIVE")   # 2 cores, spinning threads starve the other run
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, __file__, "--worker", str(path), str(result)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seconds = time.perf_counter() - start
        errors = json.loads(result.read_text()) if result.exists() else [
            {"cell": -1, "error": f"worker failed (exit {proc.returncode}): {proc.stdout[-500:]}"}]
        records = [json.loads(line) for line in claims.read_text(encoding="utf-8").splitlines()] \
            if claims.exists() else []
    return {"notebook": path.stem, "offset": offset, "threads": threads, "errors": errors,
            "claims": records, "seconds": seconds}


def worker(path: Path, result: Path) -> None:
    """Run inside the child: execute the notebook with allow_errors and write the failing cells."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    errors = []
    try:
        client.execute(stderr=subprocess.DEVNULL)
    except Exception as exc:  # a kernel death or time-out: report it as a failure of the whole run
        errors.append({"cell": -1, "error": f"{type(exc).__name__}: {str(exc)[:300]}"})
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for i, cell in enumerate(code_cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                errors.append({"cell": i, "error": f"{out['ename']}: {out['evalue']}"[:400],
                               "source": cell.source.strip().splitlines()[0][:80] if cell.source.strip() else ""})
    result.write_text(json.dumps(errors, ensure_ascii=False))


def label(run: dict) -> str:
    return f"seed+{run['offset']}" + (f", {run['threads']} threads" if run["threads"] != 1 else "")


def report(runs: list[dict]) -> tuple[str, int]:
    lines, failures = [], 0
    lines.append("## Failing cells per notebook and run")
    for run in runs:
        failures += bool(run["errors"])
        status = "ok" if not run["errors"] else f"{len(run['errors'])} failing cell(s)"
        lines.append(f"- {run['notebook']} [{label(run)}] {run['seconds']:.0f} s: {status}")
        for err in run["errors"]:
            lines.append(f"    - code cell {err['cell']}: {err['error']}  ({err.get('source', '')})")
    table: dict[tuple[str, str], list] = {}
    for run in runs:
        for rec in run["claims"]:
            table.setdefault((rec["notebook"], rec["name"]), []).append(rec)
    lines.append("")
    lines.append("## Every asserted number over all runs")
    lines.append("")
    lines.append("| notebook | claim | threshold | runs | min | median | max | failed | gap | gap/range | z | margin |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    thin = []
    for (nb, name), recs in sorted(table.items()):
        values = [r["value"] for r in recs]
        bad = sum(not r["ok"] for r in recs)
        m = margin(values, recs[0]["op"], recs[0]["threshold"], recs[0].get("scale", "linear"))
        if m["thin"]:
            thin.append(f"- {nb}: {name} ({recs[0]['op']} {recs[0]['threshold']:.4g}): gap {m['gap']:.3g}, "
                        f"gap/range {_ratio(m['gap_range'])}, z {_ratio(m['z'])}")
        lines.append(f"| {nb} | {name} | {recs[0]['op']} {recs[0]['threshold']:.4g} | {len(values)} | "
                     f"{min(values):.4g} | {statistics.median(values):.4g} | {max(values):.4g} | {bad} | "
                     f"{m['gap']:.3g}{' dec' if m['log'] else ''} | {_ratio(m['gap_range'])} | {_ratio(m['z'])} | "
                     f"{'THIN' if m['thin'] else ('fixed' if m['range'] == 0 else 'ok')} |")
    lines.append("")
    lines.append(f"## Thin claims (z < {THIN_Z:g} or gap/range < {THIN_GAP_RANGE:g}): {len(thin)}")
    lines.extend(thin or ["- none"])
    return "\n".join(lines), failures


THIN_Z, THIN_GAP_RANGE = 3.0, 0.5


def margin(values: list[float], op: str, threshold: float, scale: str = "linear") -> dict:
    """How far a claim's runs lie from its threshold: gap (nearest run to threshold, positive when
    all held), range (max - min), gap/range, z (threshold's distance from the mean in standard
    deviations of the runs, signed so that positive means on the holding side), and thin. Values
    of a claim made with scale="log" (all positive) are compared as log10, gap then in decades."""
    log = scale == "log" and min(values) > 0 and threshold > 0
    if log:   # claimed as varying by factors (a gradient norm): judge it on a log scale
        values, threshold = [math.log10(v) for v in values], math.log10(threshold)
    lo, hi = min(values), max(values)
    below = op in ("<", "<=")
    gap = threshold - hi if below else lo - threshold
    spread = hi - lo
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    inf = float("inf")
    gap_range = (gap / spread) if spread > 0 else (inf if gap >= 0 else -inf)
    z = ((threshold - mean) if below else (mean - threshold)) / sd if sd > 0 else (inf if gap >= 0 else -inf)
    return {"gap": gap, "range": spread, "gap_range": gap_range, "z": z, "log": log,
            "thin": spread > 0 and (z < THIN_Z or gap_range < THIN_GAP_RANGE)}


def _ratio(x: float) -> str:
    return "∞" if x == float("inf") else ("-∞" if x == float("-inf") else f"{x:.2f}")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--worker"]:
        worker(Path(argv[1]), Path(argv[2]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*")
    parser.add_argument("--offsets", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--jobs", type=int, default=2, help="notebooks run at once (each kernel uses its own threads)")
    parser.add_argument("--no-threads-run", action="store_true", help="skip the run with SEQCOURSE_THREADS=2")
    args = parser.parse_args(argv)
    paths = [Path(p).resolve() for p in args.notebooks] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    configs = [(p, k, 1) for p in paths for k in args.offsets]
    if not args.no_threads_run:
        configs += [(p, 0, 2) for p in paths]
    print(f"robust: {len(configs)} runs of {len(paths)} notebooks, {args.jobs} at a time", flush=True)
    runs = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for run in pool.map(lambda c: run_one(*c), configs):
            print(f"  {run['notebook']} [{label(run)}] {run['seconds']:.0f} s: "
                  f"{'ok' if not run['errors'] else 'FAILED'}", flush=True)
            runs.append(run)
    text, failures = report(runs)
    print(text)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "robust.md").write_text(text + "\n", encoding="utf-8")
    (ARTIFACTS / "robust.json").write_text(json.dumps(runs, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"robust: {len(runs) - failures} passed, {failures} failed")   # runs, in the plain closing-line form
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
