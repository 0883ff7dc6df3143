"""nbval's second run of a notebook (tests/nbval_passes.py) fails on what a re-run really breaks.

Each case is a small notebook under build/ (inside the project, so the root conftest.py loads the
plugin) run by nbval in a subprocess, as `make test` runs the chapters.
"""
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def run_nbval():
    folder = ROOT / "build" / f"nbval-passes-{secrets.token_hex(4)}"
    folder.mkdir(parents=True)

    def run(cells, *extra):
        nb = nbformat.v4.new_notebook()
        for source, tags in cells:
            cell = nbformat.v4.new_code_cell(source)
            if tags:
                cell.metadata["tags"] = tags
            nb.cells.append(cell)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        path = folder / "case.ipynb"
        nbformat.write(nb, path)
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", str(path), "--nbval-lax",
                               "--nbval-current-env", *extra], cwd=ROOT, capture_output=True, text=True,
                              timeout=300)
        return proc.returncode, proc.stdout + proc.stderr

    yield run
    shutil.rmtree(folder, ignore_errors=True)


def test_a_notebook_that_prints_the_same_twice_passes_both_runs(run_nbval):
    rc, out = run_nbval([("import random\nrandom.seed(0)\nx = random.random()", None),
                         ("print(f'{x:.6f}')\nx", None)])
    assert rc == 0, out
    assert "4 passed" in out, out                 # 2 cells, each run twice


def test_state_carried_into_the_second_run_is_caught(run_nbval):
    rc, out = run_nbval([("try:\n    n += 1\nexcept NameError:\n    n = 0", None),
                         ("print('n =', n)", None)])
    assert rc != 0, out
    assert "printed something else on the second run" in out and "n = 0" in out and "n = 1" in out, out
    assert "1 failed, 3 passed" in out, out


def test_a_result_that_changes_is_caught_too(run_nbval):
    rc, out = run_nbval([("import itertools\ncounter = globals().get('counter') or itertools.count()", None),
                         ("next(counter)", None)])
    assert rc != 0 and "printed something else on the second run" in out, out


def test_a_cell_tagged_nondeterministic_only_has_to_run(run_nbval):
    rc, out = run_nbval([("import time\nprint(time.perf_counter_ns())", ["nondeterministic"])])
    assert rc == 0 and "2 passed" in out, out


def test_a_second_run_that_raises_fails(run_nbval):
    rc, out = run_nbval([("assert 'done' not in globals()\ndone = True", None)])
    assert rc != 0 and "1 failed, 1 passed" in out, out


def test_single_run_switch_is_plain_nbval(run_nbval):
    rc, out = run_nbval([("try:\n    n += 1\nexcept NameError:\n    n = 0\nprint(n)", None)],
                        "--nbval-single-run")
    assert rc == 0 and "1 passed" in out, out


def test_only_the_chapters_are_written_for_the_book(run_nbval):
    rc, out = run_nbval([("print('hi')", None)])
    assert rc == 0, out
    assert not (ROOT / "build" / "executed" / "case.ipynb").exists()


def test_a_chapter_run_by_nbval_is_up_to_date_for_the_book():
    """nbval's first run of a chapter writes build/executed/ as scripts/execute_notebooks.py does:
    the book's executor then counts it as up to date and runs nothing again."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import execute_notebooks as ex
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    path = ROOT / "notebooks" / "00_welcome.ipynb"
    out = ex.OUT / path.name
    out.unlink(missing_ok=True)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", str(path), "--nbval-lax",
                           "--nbval-current-env"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert ex.up_to_date(path)
    nb = nbformat.read(out, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    assert all(c.outputs for c in code if c.source.strip()), "a code cell of 00_welcome lost its outputs"
    assert not any(o.output_type == "error" for c in code for o in c.outputs)
    assert "widgets" not in nb.metadata
