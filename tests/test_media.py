"""The figures in media/ are exactly what scripts/make_media.py draws, and every
figure reference in the notebooks and the README points at a figure that exists.

Regenerate the figures with ``python scripts/make_media.py`` (or ``make media``).
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MEDIA = ROOT / "media"
NOTEBOOKS = ROOT / "notebooks"
README = ROOT / "README.md"
GENERATOR = ROOT / "scripts" / "make_media.py"
MAX_KB = 150
# media/x.svg, ./media/x.svg, ../media/x.svg -- but not other_media/x.svg or a/media/x.svg
REF = re.compile(r"(?<![\w/.])((?:\.{1,2}/)?media/[\w.\-]+)")
REGENERATE = "run `python scripts/make_media.py` and commit media/"


@pytest.fixture(scope="module")
def drawn(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("media")
    proc = subprocess.run([sys.executable, str(GENERATOR), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"make_media.py failed:\n{proc.stdout}\n{proc.stderr}"
    return out


def committed() -> dict[str, Path]:
    return {p.name: p for p in sorted(MEDIA.glob("*.svg"))}


def notebook_cells(kinds=("markdown",)):
    """(notebook path, cell source) for every cell of the given kinds."""
    for nb in sorted(NOTEBOOKS.glob("*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8")).get("cells", [])
        for cell in cells:
            if cell.get("cell_type") in kinds:
                src = cell.get("source", "")
                yield nb, "".join(src) if isinstance(src, list) else src


def references(kinds=("markdown",)):
    """(file the reference is written in, the reference as written, where it points)."""
    sources = list(notebook_cells(kinds))
    if README.exists():
        sources.append((README, README.read_text(encoding="utf-8")))
    for where, text in sources:
        for ref in REF.findall(text):
            ref = ref.rstrip(".")
            yield where, ref, (where.parent / ref).resolve()


def test_generator_reproduces_every_committed_figure(drawn):
    fresh = {p.name: p for p in sorted(drawn.glob("*.svg"))}
    assert fresh, "make_media.py drew no figures"
    old = committed()
    missing = sorted(set(fresh) - set(old))
    stale = sorted(set(old) - set(fresh))
    differ = sorted(n for n in set(fresh) & set(old) if fresh[n].read_bytes() != old[n].read_bytes())
    problems = []
    if missing:
        problems.append(f"drawn but not in media/: {missing}")
    if stale:
        problems.append(f"in media/ but no longer drawn by make_media.py (delete them): {stale}")
    if differ:
        problems.append(f"in media/ but not byte-identical to what make_media.py draws: {differ}")
    assert not problems, "; ".join(problems) + f" -- {REGENERATE}"


def test_figures_are_small_vector_files_without_live_text():
    for name, path in committed().items():
        data = path.read_text(encoding="utf-8")
        assert path.stat().st_size < MAX_KB * 1024, f"{name} is over {MAX_KB} KB: simplify it"
        assert "<text" not in data, f"{name} has <text> elements: save with svg.fonttype='path'"
        assert "<image" not in data, f"{name} embeds a raster image"


def test_every_reference_points_at_an_existing_figure():
    broken = [f"{where.relative_to(ROOT)}: {ref}" for where, ref, target in references()
              if not target.is_file() or target.parent != MEDIA]
    assert not broken, ("references to figures that do not exist (from notebooks/ write "
                        "../media/<name>.svg; from README.md media/<name>.svg): " + ", ".join(broken))


def test_every_figure_is_used_somewhere():
    chapters = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if len(chapters) < 6:
        pytest.skip(f"only {len(chapters)} of 6 chapter notebooks exist yet: the check for "
                    "unused figures starts once all chapters are in notebooks/")
    used = {target.name for _, _, target in references(kinds=("markdown", "code"))
            if target.parent == MEDIA}
    unused = sorted(set(committed()) - used)
    assert not unused, (f"UNUSED FIGURES: {unused} are in media/ but no notebook or README.md "
                        "shows them: reference them (../media/<name>.svg) or stop drawing them "
                        "in scripts/make_media.py")
