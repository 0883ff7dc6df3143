"""Execute every chapter once into build/executed/ for the book and the slides.

Each notebook in notebooks/*.ipynb runs top to bottom in a fresh kernel (nbclient, working folder
notebooks/ so ../media figures resolve). Widgets cannot run in a static page, so:
  - the gradient explorer's output is replaced by its still frames (helpers.plots.static_frames:
    first frame, contrasting settings, a note on running it live), drawn in the same kernel;
  - any other widget (tqdm progress bars) is replaced by its final text;
  - the notebook's widget state is dropped (no widget JavaScript, hence no CDN, is needed).
A notebook is re-run only when it or the helpers changed (a hash stored in its metadata), so
`make book` and `make slides` share one execution. Run it offline: scripts/offline.sh.

    python scripts/execute_notebooks.py [--jobs N] [--force] [NAME.ipynb ...]
"""
from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "notebooks"
OUT = ROOT / "build" / "executed"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# run in the kernel right after the explorer's cell: its still frames (display_data outputs)
FRAMES_PROBE = "from helpers.plots.static_frames import display_frames as _df\n_df({!r});"


def source_hash(path: Path) -> str:
    h = hashlib.sha256(path.read_bytes())
    for dep in sorted((ROOT / "helpers").rglob("*.py")) + [Path(__file__)]:
        h.update(dep.relative_to(ROOT).as_posix().encode() + dep.read_bytes())
    return h.hexdigest()


def up_to_date(path: Path) -> bool:
    out = OUT / path.name
    if not out.exists():
        return False
    try:
        meta = json.loads(out.read_text(encoding="utf-8"))["metadata"].get("seqcourse_build", {})
    except (ValueError, KeyError):
        return False
    return meta.get("source_sha256") == source_hash(path)


def _strip(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text or "")).replace("\xa0", " ").strip()


def widget_text(model_id: str, state: dict) -> str:
    """A plain-text stand-in for a widget: HTML/label values and progress as value/max."""
    model = state.get(model_id, {})
    s = model.get("state", {})
    name = s.get("_model_name", "")
    if name in ("FloatProgressModel", "IntProgressModel"):
        return f"{s.get('value', 0):g}/{s.get('max', 0):g}"
    if "children" in s:
        parts = [widget_text(c.removeprefix("IPY_MODEL_"), state) for c in s["children"]]
        return " ".join(p for p in parts if p)
    return _strip(s.get("value") if isinstance(s.get("value"), str) else s.get("description", ""))


def without_widgets(outputs: list, i: int, swaps: dict, state: dict) -> list:
    """Cell i's outputs for a static page: a widget view at output j becomes ``swaps[(i, j)]`` (the
    explorer's still frames) or else its text from the widgets' ``state`` (tqdm's final bar)."""
    import nbformat

    kept = []
    for j, output in enumerate(outputs):
        view = output.get("data", {}).get(WIDGET_VIEW)
        if (i, j) in swaps:
            kept.extend(nbformat.from_dict(s) for s in swaps[(i, j)])
        elif view:
            text = widget_text(view["model_id"], state)
            if text:
                kept.append(nbformat.v4.new_output("stream", name="stdout", text=text + "\n"))
        else:
            kept.append(output)
    return kept


def write(nb, path: Path) -> None:
    """Store the executed copy of the chapter ``path``: no widget state (no widget JavaScript in the
    book), the source hash that up_to_date reads, written whole or not at all."""
    import nbformat

    nb.metadata.pop("widgets", None)
    nb.metadata["seqcourse_build"] = {"source_sha256": source_hash(path)}
    nbformat.validate(nb)
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = OUT / f"{path.name}.{os.getpid()}.{id(nb)}.tmp"
    nbformat.write(nb, tmp)
    tmp.replace(OUT / path.name)


def execute(path: Path) -> tuple[str, float]:
    import nbformat
    from nbclient import NotebookClient

    t0 = time.perf_counter()
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(SOURCE)}})
    swaps = {}                                   # (cell index, output index) -> replacement outputs
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            client.execute_cell(cell, i)
            for j, output in enumerate(cell.get("outputs", [])):
                view = output.get("data", {}).get(WIDGET_VIEW)
                if not view:
                    continue
                probe = nbformat.v4.new_code_cell(FRAMES_PROBE.format(view["model_id"]))
                client.execute_cell(probe, i, store_history=False)
                nb.cells[i] = cell                   # nbclient stores the executed cell at index i
                shown = [o for o in probe.outputs if o.get("output_type") == "display_data"]
                if shown:
                    swaps[(i, j)] = shown
        client.set_widgets_metadata()
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.outputs = without_widgets(cell.outputs, i, swaps, state)
    write(nb, path)
    return path.name, time.perf_counter() - t0


def notebooks(names=()) -> list[Path]:
    found = sorted(SOURCE.glob("[0-9][0-9]_*.ipynb"))
    return [p for p in found if not names or p.name in names]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="notebook file names (default: all in notebooks/)")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--force", action="store_true", help="re-run even if nothing changed")
    args = ap.parse_args(argv)
    todo = [p for p in notebooks(args.names) if args.force or not up_to_date(p)]
    for p in notebooks(args.names):
        if p not in todo:
            print(f"execute: {p.name} up to date", file=sys.stderr)
    # stale outputs of notebooks that no longer exist would end up in the book
    names = {p.name for p in notebooks()}
    for old in OUT.glob("*.ipynb") if OUT.exists() else []:
        if old.name not in names:
            old.unlink()
    if not todo:
        return 0
    failed = []
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(execute, p): p for p in todo}
        for future in as_completed(futures):
            try:
                name, seconds = future.result()
                print(f"execute: {name} {seconds:.1f} s", file=sys.stderr)
            except Exception as err:           # report every failing chapter, not only the first
                failed.append(futures[future].name)
                print(f"execute: {futures[future].name} FAILED\n{str(err)[-3000:]}", file=sys.stderr)
    if failed:
        print(f"execute: failed: {', '.join(sorted(failed))}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
