"""The offline reveal.js decks (`make slides`): one per chapter, nothing loaded from outside.

The decks are built (scripts/build_slides.py, from the notebooks executed once for the book) when
missing or stale. A real browser serves build/slides on 127.0.0.1, opens every deck (reveal.js
ready, no failed or outside request), then steps through one deck slide by slide with the
keyboard, checking that every image shown is loaded and the formulas are typeset.
Screenshots: artifacts/slides/.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from _static_site import (ALL_IMAGES_LOADED, CHROMIUM, CHROMIUM_ARGS, ROOT, RequestLog, build_if_stale,
                          outside_references, require_browser, serve)

OUT = ROOT / "build" / "slides"
ARTIFACTS = ROOT / "artifacts" / "slides"
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
STEP_DECK = "04_bptt"          # the deck the browser steps through (explorer frames, formulas)


@pytest.fixture(scope="module")
def decks() -> Path:
    build_if_stale("build_slides.py", OUT / "index.html",
                   [ROOT / "notebooks", ROOT / "helpers", ROOT / "slides", ROOT / "media",
                    ROOT / "scripts" / "build_slides.py", ROOT / "scripts" / "execute_notebooks.py"])
    return OUT


def test_one_deck_per_chapter_offline(decks):
    for nb in CHAPTERS:
        deck = decks / f"{nb.stem}.slides.html"
        assert deck.exists(), f"no deck for {nb.name}"
        text = deck.read_text(encoding="utf-8")
        assert 'src="reveal.js/dist/reveal.js"' in text and "<section" in text
    assert (decks / "reveal.js" / "dist" / "reveal.js").exists()
    assert (decks / "mathjax" / "es5" / "tex-mml-chtml.js").exists()
    assert not outside_references(decks), outside_references(decks)[:10]


def test_step_through_a_deck(decks):
    from playwright.sync_api import sync_playwright

    require_browser()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    step_deck = STEP_DECK if (decks / f"{STEP_DECK}.slides.html").exists() else CHAPTERS[0].stem
    with serve(decks) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            log = RequestLog(page, base)
            page.goto(f"{base}/index.html", wait_until="networkidle")
            built = sorted(decks.glob("*.slides.html"))
            assert page.locator("a[href$='.slides.html']").count() == len(built)
            for deck in built:
                page.goto(f"{base}/{deck.name}", wait_until="networkidle")
                page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
                assert page.evaluate("Reveal.getTotalSlides()") >= 3, f"{deck.name}: fewer than 3 slides"
            log.check()

            page.goto(f"{base}/{step_deck}.slides.html", wait_until="networkidle")
            page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
            page.wait_for_function("() => !window.MathJax || !MathJax.startup || "
                                   "MathJax.startup.promise !== undefined", timeout=30_000)
            page.evaluate("() => MathJax.startup.promise")
            page.evaluate("Reveal.configure({transition: 'none', backgroundTransition: 'none'})")  # crisp shots
            total = page.evaluate("Reveal.getTotalSlides()")
            seen, shots = set(), 0
            for step in range(600):
                idx = page.evaluate("() => { const i = Reveal.getIndices(); return [i.h, i.v, i.f ?? -1]; }")
                if tuple(idx[:2]) not in seen:
                    seen.add(tuple(idx[:2]))
                    broken = page.evaluate("""() => [...Reveal.getCurrentSlide().querySelectorAll('img')]
                        .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 80))""")
                    assert not broken, f"slide {idx}: images not loaded: {broken}"
                    if len(seen) <= 6 or len(seen) % 10 == 0:
                        page.screenshot(path=str(ARTIFACTS / f"{step_deck}_{len(seen):03d}.png"))
                        shots += 1
                if page.evaluate("Reveal.isLastSlide() && !Reveal.availableFragments().next"):
                    break
                page.keyboard.press("Space")             # next fragment / slide, as a presenter does
                page.wait_for_timeout(60)
            else:
                pytest.fail("the deck did not reach its last slide in 600 key presses")
            assert len(seen) == total, f"visited {len(seen)} of {total} slides"
            assert page.locator("mjx-container").count() > 0, "no formula typeset by MathJax"
            page.screenshot(path=str(ARTIFACTS / f"{step_deck}_last.png"))
            broken = page.evaluate(ALL_IMAGES_LOADED)
            assert not broken, f"images not loaded: {broken}"
            log.check()
        finally:
            browser.close()
