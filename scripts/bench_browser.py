"""The gradient explorer's end-to-end latency in a real browser: key press -> new image.

    python scripts/bench_browser.py [--moves 30] [notebooks/04_bptt.ipynb ...]

Without notebooks it measures every chapter that shows the explorer (04, 05, 07, 10-2).

Starts a private JupyterLab on 127.0.0.1, opens each notebook in headless Debian Chromium,
runs it, then presses the arrow keys on the weight-scale slider (alternating right and left)
and measures, in the page's clock, the time from each key press to the explorer's new image
(kernel round trip, compute, redraw, JPEG encode, transfer and decode). Prints p50/p95/max;
asserts nothing (timings belong in this script, not in tests).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import labdriver as ld  # noqa: E402


def explorer_chapters() -> list[str]:
    """Every chapter with a gradient explorer in a code cell."""
    found = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        if any(c["cell_type"] == "code" and "gradient_explorer(" in "".join(c["source"]) for c in cells):
            found.append(path.relative_to(ROOT).as_posix())
    return found


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", default=explorer_chapters())
    parser.add_argument("--moves", type=int, default=30)
    args = parser.parse_args(argv)
    if not ld.CHROMIUM.exists():
        print(f"browser latency: {ld.CHROMIUM} is not installed; skipped")
        return 0
    from playwright.sync_api import sync_playwright

    print(f"explorer latency in the browser (key press -> new image, {args.moves} moves, viewport 1280x720):")
    with tempfile.TemporaryDirectory() as tmp, ld.jupyter_lab(Path(tmp)) as (base, token), sync_playwright() as pw:
        browser = ld.launch(pw)
        try:
            for rel in args.notebooks:
                n_code = sum(c["cell_type"] == "code" for c in json.loads((ROOT / rel).read_text())["cells"])
                page = browser.new_page(viewport={"width": 1280, "height": 720})
                page.set_default_timeout(120_000)
                ld.open_notebook(page, base, token, rel, n_code)
                ld.run_all(page, n_code, timeout_s=300)
                page.locator("img.widget-image").first.scroll_into_view_if_needed()
                times = sorted(ld.slider_latency(page, "循环权重尺度", n=args.moves))
                p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
                print(f"  {Path(rel).stem:<24} p50 {statistics.median(times):6.1f} ms   p95 {p95:6.1f} ms"
                      f"   max {times[-1]:6.1f} ms", flush=True)
                page.close()
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
