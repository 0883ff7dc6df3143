"""Real-browser tests: every notebook in JupyterLab in headless Chromium (Playwright), as a class sees it.

One private JupyterLab (127.0.0.1, random token, its own settings: no autosave, every cell
rendered) serves all notebooks. For each notebook: opening it does not mark it modified; Run All
runs every cell; no cell shows an error; every image (figures, plots, the explorer) loads; no
rendered text holds a character that the course's fonts cannot draw; a screenshot of the whole
notebook goes to artifacts/browser/. Where a notebook has the gradient explorer, moving its
sliders by keyboard changes the picture (chapter 04 also checks the readouts), and the explorer
is photographed at 1280x720 in Presentation Mode (the projector view), with the key-press to
new-image latency printed.

The kernels run at seed offset 1 (SEQCOURSE_SEED=1, as `make robust`'s first offset), so that
this Run All is also robust's run at that offset: every claim a notebook makes is recorded, and a
notebook that passes here leaves artifacts/browser/robust/NAME.json (the notebook's hash, the
claims, the time). `make test` hands that folder to scripts/robust.py (--borrow), which then runs
only the offsets not yet run; seed 0 is run twice by nbval. Any seed must work, so nothing
here depends on which one.

Skipped (with the reason) when /usr/bin/chromium is missing, unless the environment variable CI is
set: then a missing browser is a failure.
"""
from __future__ import annotations

import hashlib
import json
import os
import statistics
import time
import urllib.request
from pathlib import Path

import pytest

import labdriver as ld

NOTEBOOKS = sorted(p.relative_to(ld.ROOT).as_posix() for p in (ld.ROOT / "notebooks").glob("*.ipynb"))
ARTIFACTS = ld.ROOT / "artifacts" / "browser"
OFFSET = 1                                   # the seed offset of every kernel here (see above)
ROBUST_RUNS = ARTIFACTS / "robust"           # what scripts/robust.py --borrow reads


def _require_browser() -> None:
    if ld.CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {ld.CHROMIUM} is missing: install it (apt-get install -y chromium)")
    pytest.skip(f"{ld.CHROMIUM} is not installed (apt-get install -y chromium); set CI=true to make this a failure")


@pytest.fixture(scope="module")
def claims_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("claims") / "claims.jsonl"


@pytest.fixture(scope="module")
def lab(tmp_path_factory, claims_file):
    _require_browser()
    env = {"SEQCOURSE_SEED": str(OFFSET), "SEQCOURSE_CLAIMS": str(claims_file), "PYTHONHASHSEED": "0"}
    with ld.jupyter_lab(tmp_path_factory.mktemp("lab"), env=env) as server:
        yield server


def _new_claims(path: Path, start: int, stem: str) -> list[dict]:
    """The claims written to ``path`` after byte ``start``, all of them by notebook ``stem``."""
    if not path.exists():
        return []
    with path.open("rb") as fh:
        fh.seek(start)
        records = [json.loads(line) for line in fh.read().decode("utf-8").splitlines() if line.strip()]
    strangers = {r["notebook"] for r in records} - {stem}
    assert not strangers, f"claims from {strangers} turned up during {stem}'s run"
    return records


def _hand_to_robust(rel: str, original: bytes, claims: list[dict], seconds: float) -> None:
    """This passed Run All is robust's run of ``rel`` at seed offset OFFSET (scripts/robust.py --borrow)."""
    ROBUST_RUNS.mkdir(parents=True, exist_ok=True)
    stem = Path(rel).stem
    record = {"notebook": stem, "offset": OFFSET, "threads": 1, "sha256": hashlib.sha256(original).hexdigest(),
              "errors": [], "claims": claims, "seconds": seconds, "by": "tests/test_browser.py"}
    tmp = ROBUST_RUNS / f".{stem}.json.tmp"
    tmp.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    tmp.replace(ROBUST_RUNS / f"{stem}.json")


@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = ld.launch(pw)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def covered():
    return ld.font_coverage()


def _shutdown_kernels(base: str, token: str) -> None:
    """Stop every kernel the server runs (one notebook's kernel must not slow the next one)."""
    with urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=10) as r:
        sessions = json.load(r)
    for s in sessions:
        req = urllib.request.Request(f"{base}/api/sessions/{s['id']}?token={token}", method="DELETE")
        urllib.request.urlopen(req, timeout=10).close()


def _check_chapter04_sliders(page, shots: Path) -> None:
    """Chapter 04's explorer: keyboard moves of both sliders change the picture and the readouts."""
    img = page.locator("img.widget-image").first
    img.scroll_into_view_if_needed()
    src0, shot0 = img.get_attribute("src") or "", img.screenshot()
    scale = page.locator(".widget-hslider", has_text="循环权重尺度").locator(".noUi-handle").first
    scale.focus()
    for _ in range(6):                                  # step 0.05: 1.00 -> 1.30
        page.keyboard.press("ArrowRight")
    ld.wait_new_src(page, img, src0)
    page.wait_for_function(
        """() => [...document.querySelectorAll('.widget-html-content')]
                 .some(e => e.textContent.includes('σ_max(W) = 1.300'))""", timeout=20_000)
    page.wait_for_timeout(300)
    src1, shot1 = img.get_attribute("src") or "", img.screenshot()
    assert shot1 != shot0, "the plot looks the same after moving the weight-scale slider"
    t_handle = page.locator(".widget-hslider", has_text="序列长度 T").locator(".noUi-handle").first
    t_handle.focus()
    page.keyboard.press("End")                          # T jumps to its maximum
    ld.wait_new_src(page, img, src1)
    page.wait_for_timeout(500)
    readout = page.locator(".widget-hslider", has_text="序列长度 T").locator(".widget-readout").first
    assert readout.text_content().strip() == "300"
    assert img.screenshot() != shot1, "the plot looks the same after moving the T slider"
    img.screenshot(path=str(shots / "04_explorer_after_moves.png"))
    status = page.locator(".widget-html-content", has_text="σ_max").first.text_content()
    assert "无法计算" not in status


def _projector_view(page, stem: str) -> list[float]:
    """The explorer at 1280x720 in Presentation Mode with the left sidebar closed: screenshot,
    the image uses most of the output width, and the key-press -> new-image latency."""
    old = page.viewport_size
    page.set_viewport_size({"width": 1280, "height": 720})
    ld.command(page, "application:toggle-presentation-mode")
    ld.command(page, "application:toggle-left-area")
    try:
        img = page.locator("img.widget-image").first
        img.scroll_into_view_if_needed()
        page.wait_for_timeout(800)
        box = img.bounding_box()
        area = page.locator(".jp-OutputArea-output", has=page.locator("img.widget-image")).first.bounding_box()
        page.screenshot(path=str(ARTIFACTS / f"{stem}_explorer_1280x720_presentation.png"))
        assert box and area and box["width"] >= 0.6 * area["width"], \
            f"the explorer uses {box and box['width']:.0f} px of {area and area['width']:.0f} px at 1280x720"
        label = "循环权重尺度"
        return ld.slider_latency(page, label, n=20)
    finally:
        ld.command(page, "application:toggle-presentation-mode")
        ld.command(page, "application:toggle-left-area")
        page.set_viewport_size(old)


@pytest.mark.parametrize("rel", NOTEBOOKS, ids=lambda r: Path(r).stem)
def test_notebook_in_browser(rel, lab, browser, covered, claims_file):
    base, token = lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = Path(rel).stem
    path = ld.ROOT / rel
    original = path.read_bytes()
    (ROBUST_RUNS / f"{stem}.json").unlink(missing_ok=True)      # only a run that passes below is handed on
    claims_start = claims_file.stat().st_size if claims_file.exists() else 0
    n_code = sum(c["cell_type"] == "code" for c in json.loads(original)["cells"])
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(60_000)
    try:
        ld.open_notebook(page, base, token, rel, n_code)
        page.wait_for_timeout(1500)
        assert not ld.is_dirty(page), f"{rel} shows as modified right after opening (metadata JupyterLab fills in?)"
        t0 = time.perf_counter()
        try:
            ld.run_all(page, n_code, timeout_s=240, shots=ARTIFACTS)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / f"{stem}_FAILED_run_all.png"))
            raise
        seconds = time.perf_counter() - t0
        claims = _new_claims(claims_file, claims_start, stem)
        page.wait_for_timeout(1000)
        ld.full_screenshot(page, ARTIFACTS / f"{stem}_full.png")
        errors = ld.error_outputs(page)
        assert not errors, f"error output in {rel}: {errors[0][:1500]}"
        page.wait_for_function("""() => [...document.querySelectorAll('.jp-Notebook img')]
                                          .every(i => i.complete)""", timeout=30_000)
        broken = ld.broken_images(page)
        assert not broken, f"images that did not load in {rel}: {broken}"
        missing = ld.undrawable(ld.visible_text(page), covered)
        assert not missing, f"characters the course's fonts cannot draw in {rel}: {missing}"
        if page.locator("img.widget-image").count():
            if stem.startswith("04"):
                _check_chapter04_sliders(page, ARTIFACTS)
            latency = sorted(_projector_view(page, stem))
            p95 = latency[min(len(latency) - 1, round(0.95 * (len(latency) - 1)))]
            print(f"\n{stem}: explorer key press -> new image in the browser, {len(latency)} moves: "
                  f"p50 {statistics.median(latency):.0f} ms, p95 {p95:.0f} ms")
        _hand_to_robust(rel, original, claims, seconds)
    finally:
        page.close()
        _shutdown_kernels(base, token)
        if path.read_bytes() != original:     # never leave outputs in the stored notebook
            path.write_bytes(original)
            pytest.fail(f"JupyterLab saved {rel} during the test (autosave should be off)")
