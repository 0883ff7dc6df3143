"""Each notebook runs twice in one kernel, and the second run prints what the first printed.

This checks two promises at once: re-running a cell (or the whole notebook) does not break it,
and fixed seeds make the numbers reproducible. Outputs compared: stdout text and the plain-text
results of cells. Cells whose output is meant to vary (for example measured timings) carry the
cell tag ``nondeterministic`` and are only required to run.
"""
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
WIDGET = "application/vnd.jupyter.widget-view+json"


def printed(cell) -> list[str]:
    """stdout (joined: the kernel may split one print into several chunks) and plain-text results."""
    stdout, out = "", []
    for o in cell.get("outputs", []):
        if o["output_type"] == "stream" and o["name"] == "stdout":
            stdout += o["text"]
        elif o["output_type"] == "execute_result" and WIDGET not in o["data"]:
            out.append(o["data"].get("text/plain", ""))
        elif o["output_type"] == "error":
            pytest.fail(f"cell raised {o['ename']}: {o['evalue']}\n{cell['source'][:300]}")
    return [stdout] + out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_twice_with_same_output(path):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    with client.setup_kernel():
        first = {}
        for i, cell in code:
            client.execute_cell(cell, i)
            first[i] = printed(cell)
        for i, cell in code:
            cell.outputs = []
            client.execute_cell(cell, i)
            second = printed(cell)
            if "nondeterministic" in cell.metadata.get("tags", []):
                continue
            assert second == first[i], f"{path.name}: cell {i} printed something else on the second run:\n" \
                                       f"{cell.source[:300]}\n--- first ---\n{first[i]}\n--- second ---\n{second}"
