"""`make slides`: one offline reveal.js deck per chapter, in build/slides/.

The decks come from the executed notebooks in build/executed/ (shared with `make book`; a chapter
is executed only when it or the helpers changed) through nbconvert's slides exporter, with the
course template slides/templates/seqcourse_reveal (no CDN: reveal.js 5 and MathJax 3 from npm,
pinned in scripts/npm_assets.py, copied into build/slides/; figures are embedded in the decks).
Each cell's `metadata.slideshow.slide_type` decides its place (slide, subslide, fragment, skip,
notes); a notebook with none gets a slide per `#`/`##` heading and a subslide per `###`.
Open build/slides/index.html; in a deck: arrows / space to step, S for the speaker notes window,
F for full screen, Esc for the overview.

    python scripts/build_slides.py [--keep-going] [--reuse-executed]   (make slides runs it offline)
"""
from __future__ import annotations

import base64
import html
import mimetypes
import re
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import execute_notebooks  # noqa: E402
import npm_assets  # noqa: E402

OUT = ROOT / "build" / "slides"
TEMPLATES = ROOT / "slides" / "templates"


def default_slide_types(nb) -> int:
    """Give cells without slideshow metadata a place: headings open slides; returns the count."""
    if any("slide_type" in c.metadata.get("slideshow", {}) for c in nb.cells):
        return 0
    n = 0
    for cell in nb.cells:
        src = cell.source.lstrip()
        kind = "-"
        if cell.cell_type == "markdown" and (src.startswith("# ") or src.startswith("## ")):
            kind = "slide"
        elif cell.cell_type == "markdown" and src.startswith("### "):
            kind = "subslide"
        cell.metadata.setdefault("slideshow", {})["slide_type"] = kind
        n += 1
    return n


MEDIA_REF = re.compile(r"""(?<=\]\()\.\./media/([\w.\-]+)(?=[)\s])|(?<=src=["'])\.\./media/([\w.\-]+)(?=["'])""")


def embed_media(nb) -> int:
    """Markdown figures (../media/NAME) become data: URIs, so each deck carries its figures."""
    n = 0

    def data_uri(m: re.Match) -> str:
        nonlocal n
        path = ROOT / "media" / (m.group(1) or m.group(2))
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        n += 1
        return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"

    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = MEDIA_REF.sub(data_uri, cell.source)
    return n


def title(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("# "):
            return cell.source.lstrip()[2:].splitlines()[0].strip()
    return fallback


def main() -> int:
    import nbformat
    from nbconvert import SlidesExporter

    keep_going = "--keep-going" in sys.argv[1:]
    t0 = time.perf_counter()
    if "--reuse-executed" in sys.argv[1:]:
        pass                                  # decks from build/executed as it is (no re-run)
    elif execute_notebooks.main([]) and not keep_going:
        raise SystemExit("slides: a chapter failed to execute (see above); --keep-going builds the decks "
                         "of the chapters that did")
    t1 = time.perf_counter()
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    npm_assets.install_reveal(OUT / "reveal.js")
    npm_assets.install_mathjax(OUT / "mathjax")
    exporter = SlidesExporter(template_name="seqcourse_reveal", extra_template_basedirs=[str(TEMPLATES)],
                              reveal_url_prefix="reveal.js", exclude_input_prompt=True, exclude_output_prompt=True)
    rows = []
    for path in sorted(execute_notebooks.OUT.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        defaulted = default_slide_types(nb)
        embed_media(nb)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem,
                                                                          "path": str(ROOT / "notebooks")}})
        deck = OUT / f"{path.stem}.slides.html"
        deck.write_text(body, encoding="utf-8")
        rows.append((deck.name, title(nb, path.stem)))
        note = " (no slideshow metadata: headings used)" if defaulted else ""
        print(f"slides: {deck.relative_to(ROOT)}{note}", file=sys.stderr)
    items = "\n".join(f'<li><a href="{html.escape(name)}">{html.escape(t)}</a></li>' for name, t in rows)
    (OUT / "index.html").write_text(
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>课程幻灯片</title></head>"
        "<body style='font-family: sans-serif; max-width: 50em; margin: 2em auto'>"
        "<h1>课程幻灯片（reveal.js，离线）</h1><p>方向键 / 空格翻页，S 打开讲者备注窗口，F 全屏，Esc 总览。</p>"
        f"<ul>{items}</ul></body></html>\n", encoding="utf-8")
    print(f"slides: executed in {t1 - t0:.1f} s, {len(rows)} decks in {time.perf_counter() - t1:.1f} s -> "
          f"{(OUT / 'index.html').relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
