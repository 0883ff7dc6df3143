"""The offline book (`make book`): every chapter, executed, with figures, formulas and Chinese search.

The book is built (scripts/build_book.py) when it is missing or older than a notebook, a helper or
the book's configuration. Then a real browser (headless Chromium, Playwright) opens every page of
build/book/html served on 127.0.0.1 and finds no failed request and no request outside the site,
every image loaded and MathJax rendered; searching 遗忘门 lands on the LSTM chapter.
Screenshots: artifacts/book/.
"""
from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

import pytest

from _static_site import (ALL_IMAGES_LOADED, CHROMIUM, CHROMIUM_ARGS, ROOT, RequestLog, build_if_stale,
                          outside_references, require_browser, serve)

HTML = ROOT / "build" / "book" / "html"
ARTIFACTS = ROOT / "artifacts" / "book"
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def book() -> Path:
    build_if_stale("build_book.py", HTML / "index.html",
                   [ROOT / "notebooks", ROOT / "helpers", ROOT / "book", ROOT / "media",
                    ROOT / "scripts" / "build_book.py", ROOT / "scripts" / "execute_notebooks.py"])
    return HTML


def test_every_chapter_has_an_executed_page(book):
    for nb in CHAPTERS:
        page = book / "notebooks" / f"{nb.stem}.html"
        assert page.exists(), f"no page for {nb.name}"
        text = page.read_text(encoding="utf-8")
        assert "cell_output" in text, f"{page.name}: no executed output"
    index = (book / "index.html").read_text(encoding="utf-8")
    for nb in CHAPTERS:
        assert f"notebooks/{nb.stem}.html" in index, f"the table of contents misses {nb.stem}"


def test_the_site_loads_nothing_from_outside(book):
    assert not outside_references(book), outside_references(book)[:10]
    assert (book / "_static" / "mathjax" / "es5" / "tex-mml-chtml.js").exists()


def test_explorer_is_shown_as_still_frames(book):
    for name in ("04_bptt", "05_lstm"):
        page = book / "notebooks" / f"{name}.html"
        if not page.exists():
            continue
        text = page.read_text(encoding="utf-8")
        assert "seqcourse-static-explorer" in text and "make lab" in text, f"{name}: no still frames"
        assert len(re.findall(r"<figure style='margin:1em 0'><img", text)) >= 3, f"{name}: fewer than 3 frames"
        assert "widget-view" not in text and "@jupyter-widgets" not in text


def test_book_in_a_browser(book):
    from playwright.sync_api import sync_playwright

    require_browser()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pages = sorted(p.relative_to(book).as_posix() for p in book.rglob("*.html") if "_static" not in p.parts)
    with serve(book) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            log = RequestLog(page, base)
            for rel in pages:
                page.goto(f"{base}/{rel}", wait_until="networkidle")
                broken = page.evaluate(ALL_IMAGES_LOADED)
                assert not broken, f"{rel}: images not loaded: {broken}"
                if rel.startswith("notebooks/"):
                    page.wait_for_function("() => !document.querySelector('.math') || "
                                           "document.querySelector('mjx-container') !== null", timeout=30_000)
                page.screenshot(path=str(ARTIFACTS / (rel.replace("/", "_").removesuffix(".html") + ".png")))
            log.check()
            math_page = next((p for p in pages if p.startswith("notebooks/04")), None)
            if math_page:
                page.goto(f"{base}/{math_page}", wait_until="networkidle")
                page.wait_for_selector("mjx-container", state="attached", timeout=30_000)
                formula = page.locator(".bd-article mjx-container[display='true']").first
                formula.scroll_into_view_if_needed()
                page.screenshot(path=str(ARTIFACTS / "zz_formula.png"))

            # Chinese full-text search: 遗忘门 (forget gate) -> the LSTM chapter
            page.goto(f"{base}/search.html?q={urllib.parse.quote('遗忘门')}", wait_until="networkidle")
            first = page.locator("#search-results ul.search li a").first
            first.wait_for(timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "zz_search_forget_gate.png"))
            hits = page.locator("#search-results ul.search li a").evaluate_all("as => as.map(a => a.href)")
            assert hits and "05_lstm" in hits[0], f"first result for 遗忘门 is not the LSTM chapter: {hits[:5]}"
            first.click()
            page.wait_for_load_state("networkidle")
            assert "05_lstm" in page.url
            assert "LSTM" in page.locator("h1").first.text_content()
            page.screenshot(path=str(ARTIFACTS / "zz_search_landed_on_lstm.png"))
            log.check()
        finally:
            browser.close()
