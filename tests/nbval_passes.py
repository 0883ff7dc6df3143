"""nbval runs every chapter twice in one kernel, and its first run is the book's execution.

A chapter used to run four times at seed 0 in `make test`: once for the book (scripts/
execute_notebooks.py), once under nbval, and twice more in one kernel for the re-run test. This
plugin (loaded by the root conftest.py) makes nbval's own run do all three jobs:

1. **nbval** runs every code cell in a fresh kernel and fails on any error (``--nbval-lax``).
2. **The second run.** After the last cell, every code cell is run again in the same kernel, as a
   second nbval item ("Cell 7 (2nd run)"). It must not raise, and it must print what the first run
   printed (stdout, and the plain text of results): fixed seeds make the numbers reproducible, and
   re-running a cell or the whole notebook does not break it. Cells tagged ``nondeterministic``
   (measured timings) only have to run.
3. **The book's execution.** When every cell of the first run passed, the first run's outputs are
   written to build/executed/ exactly as scripts/execute_notebooks.py writes them (the explorer's
   still frames drawn in the same kernel right after its cell, other widgets as their final text,
   the source hash that tells the book the chapter is up to date), so `make book` and `make slides`
   after the tests execute nothing again.

``--nbval-single-run`` turns 2 and 3 off (nbval alone, as nbval ships).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from queue import Empty

import pytest

ROOT = Path(__file__).resolve().parents[1]
SECOND = " (2nd run)"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _execute_notebooks():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import execute_notebooks
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return execute_notebooks


def printed(outputs) -> list[str]:
    """stdout (joined: the kernel may split one print into several chunks) and plain-text results."""
    stdout, out = "", []
    for o in outputs or []:
        if o["output_type"] == "stream" and o["name"] == "stdout":
            stdout += o["text"]
        elif o["output_type"] == "execute_result" and WIDGET_VIEW not in o["data"]:
            out.append(o["data"].get("text/plain", ""))
    return [stdout] + out


def run_in_kernel(kernel, code: str, timeout: float = 120) -> list[dict]:
    """Run ``code`` in nbval's kernel without touching its history; its outputs as nbformat dicts."""
    msg_id = kernel.kc.execute(code, store_history=False, allow_stdin=False, stop_on_error=False)
    outputs = []
    while True:
        try:
            msg = kernel.kc.get_iopub_msg(timeout=timeout)
        except Empty:
            raise RuntimeError(f"the kernel did not answer within {timeout} s: {code[:80]!r}") from None
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "status" and content["execution_state"] == "idle":
            break
        if kind == "display_data":         # (a result, printed because nbval's runs keep no
            outputs.append({"output_type": "display_data", "data": content["data"],   # history
                            "metadata": content.get("metadata", {})})   # even after a ";", is dropped)
        elif kind == "stream":
            outputs.append({"output_type": "stream", "name": content["name"], "text": content["text"]})
        elif kind == "error":
            raise RuntimeError(f"{content['ename']}: {content['evalue']} (in {code[:80]!r})")
    kernel.await_reply(msg_id, timeout=timeout)
    return outputs


# the widget state the book needs (execute_notebooks.widget_text reads it as nbclient stores it)
STATE_PROBE = """
def _seqcourse_widget_state():
    import json
    try:
        from ipywidgets.widgets.widget import _instances
    except ImportError:
        return
    state = {}
    for model_id, w in list(_instances.items()):
        try:
            state[model_id] = {"state": w.get_state()}
        except Exception:
            pass
    print(json.dumps(state, default=str))
_seqcourse_widget_state(); del _seqcourse_widget_state
"""


class _Chapter:
    """What the first run of one notebook left: its cells' outputs and the explorer's still frames."""

    def __init__(self, path: Path, cells: int):
        self.path, self.cells = path, cells
        self.outputs: dict[int, list] = {}
        self.swaps: dict[tuple[int, int], list] = {}
        self.failed = False


def pytest_addoption(parser):
    parser.addoption("--nbval-single-run", action="store_true",
                     help="run each notebook once (no second run, no build/executed from the run)")


def _is_cell(item) -> bool:
    return type(item).__name__ == "IPyNbCell" and hasattr(item.parent, "kernel")


def _coalesce_adjacent(outputs):
    """nbval's coalesce_streams merges every stream of a name into its first (moving text past a
    table printed between); the book keeps the order and the text as nbclient does: adjacent
    streams of one name merge, nothing else changes (nbval's lax mode compares no output)."""
    merged = []
    for o in outputs or []:
        if o.output_type == "stream" and merged and merged[-1].output_type == "stream" \
                and merged[-1].name == o.name:
            merged[-1].text += o.text
        else:
            merged.append(o)
    return merged


def pytest_configure(config):
    if not config.getoption("--nbval-single-run", default=False):
        try:
            import nbval.plugin
        except ImportError:
            return
        nbval.plugin.coalesce_streams = _coalesce_adjacent


def add_second_runs(config, items) -> None:
    """After each notebook's cells, the same cells again as "Cell N (2nd run)" (called from the
    root conftest's pytest_collection_modifyitems)."""
    if config.getoption("--nbval-single-run"):
        return
    out, i = [], 0
    while i < len(items):
        item = items[i]
        if not _is_cell(item):
            out.append(item)
            i += 1
            continue
        j = i
        while j < len(items) and _is_cell(items[j]) and items[j].parent is item.parent:
            j += 1
        first = items[i:j]
        cls = type(item)
        second = [cls.from_parent(c.parent, name=c.name + SECOND, cell_num=c.cell_num,
                                  cell=c.cell, options=c.options) for c in first]
        chapter = _Chapter(Path(str(item.parent.fspath)), len(first))
        for c in first:
            c._seqcourse = (chapter, 1)
        for c in second:
            c._seqcourse = (chapter, 2)
        first[-1]._seqcourse_last = True
        out.extend(first + second)
        i = j
    items[:] = out


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    tag = getattr(item, "_seqcourse", None)
    if tag is None:
        return (yield)
    chapter, run = tag
    try:
        result = yield
    except BaseException:
        chapter.failed = True
        raise
    index = item.cell_num
    outputs = [dict(o) for o in (item.test_outputs or [])]
    if run == 1:
        chapter.outputs[index] = outputs
        for j, o in enumerate(outputs):
            view = o.get("data", {}).get(WIDGET_VIEW)
            if view:
                shown = run_in_kernel(item.parent.kernel,
                                      _execute_notebooks().FRAMES_PROBE.format(view["model_id"]))
                shown = [s for s in shown if s["output_type"] == "display_data"]
                if shown:
                    chapter.swaps[(index, j)] = shown
        if getattr(item, "_seqcourse_last", False) and not chapter.failed:
            _write_executed(item, chapter)
    elif "nondeterministic" not in item.cell.metadata.get("tags", []):
        before, now = printed(chapter.outputs.get(index)), printed(outputs)
        assert now == before, (
            f"{chapter.path.name}: cell {index} printed something else on the second run in the "
            f"same kernel:\n{item.cell.source[:300]}\n--- first ---\n{before}\n--- second ---\n{now}")
    return result


def _write_executed(item, chapter: _Chapter) -> None:
    """build/executed/<chapter>.ipynb from the first run, as scripts/execute_notebooks.py writes it."""
    import nbformat

    ex = _execute_notebooks()
    if chapter.path.parent.resolve() != ex.SOURCE.resolve():
        return                                    # only the course's chapters make the book
    probe = run_in_kernel(item.parent.kernel, STATE_PROBE)
    text = "".join(o["text"] for o in probe if o["output_type"] == "stream" and o["name"] == "stdout")
    state = json.loads(text) if text.strip() else {}
    nb = nbformat.read(chapter.path, as_version=4)
    from IPython.core.displayhook import DisplayHook

    for count, cell in enumerate((c for c in nb.cells if c.cell_type == "code"), start=1):
        i = count - 1
        # nbval runs cells without history, so IPython cannot see a closing ";" and shows the result
        quiet = DisplayHook.semicolon_at_end_of_expression(cell.source)
        cell.execution_count = count
        outputs = []
        for o in ex.without_widgets(chapter.outputs.get(i, []), i, chapter.swaps, state):
            o = nbformat.from_dict({k: v for k, v in o.items() if k != "execution_count"})
            if o["output_type"] == "execute_result":
                if quiet:
                    continue
                o["execution_count"] = count
            outputs.append(o)
        cell.outputs = outputs
    ex.write(nb, chapter.path)
