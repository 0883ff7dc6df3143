"""Drive a private JupyterLab in headless Debian Chromium (Playwright): shared by the browser tests
and scripts/bench_browser.py. Not a test module itself.

The server listens on 127.0.0.1 with a random token and its own user settings (no autosave, every
cell rendered, no news); JupyterLab's application object is exposed to the page so that commands
run by id (``notebook:run-all-cells``), whatever language the menus are in.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# Fonts the course relies on to draw text in the browser (Debian packages fonts-noto-cjk and
# fonts-dejavu-core, installed by .ci/run) and in plots (pip pylopdf-fonts-zh-cn).
FONT_GLOBS = ["/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
              "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
              "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_settings(folder: Path, extra: dict | None = None) -> None:
    """JupyterLab user settings for a deterministic test: no autosave, no windowing, no news."""
    settings = {
        "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                           "checkForUpdates": False},
    }
    settings.update(extra or {})
    for rel, content in settings.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content))


@contextlib.contextmanager
def jupyter_lab(tmp: Path, timeout_s: float = 90, env: dict | None = None):
    """Start JupyterLab (repository root as server root); yield (base_url, token); always stop it.
    ``env``: more environment variables for the server and so for every kernel it starts."""
    port, token = free_port(), secrets.token_hex(16)
    write_settings(tmp / "settings")
    jupyter = Path(sys.executable).with_name("jupyter")
    cmd = [str(jupyter), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}",
           f"--LabApp.user_settings_dir={tmp / 'settings'}", "--LabApp.expose_app_in_browser=True",
           f"--LabApp.workspaces_dir={tmp / 'workspaces'}", "--ServerApp.open_browser=False"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log_path = tmp / "lab.log"
    log = open(log_path, "wb")
    env = {**os.environ, **(env or {}), "JUPYTER_CONFIG_DIR": str(tmp / "config")}
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError(f"jupyter lab did not answer within {timeout_s} s")
            time.sleep(0.5)
        yield base, token
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)       # the server and its kernels (own session)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def launch(pw):
    return pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


def command(page, cmd: str, args: dict | None = None) -> None:
    """Run a JupyterLab command by its id (works whatever the interface language)."""
    page.evaluate("([c, a]) => window.jupyterapp.commands.execute(c, a)", [cmd, args or {}])


def open_notebook(page, base: str, token: str, rel: str, n_code: int) -> None:
    """Open ``rel`` and wait until its kernel is idle and every code cell is rendered."""
    page.goto(f"{base}/lab/tree/{rel}?reset&token={token}")     # reset: no tab of an earlier notebook
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=90_000)
    page.wait_for_function("""() => { const w = window.jupyterapp.shell.currentWidget;
        const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
        return w.sessionContext.isReady && k && k.status === 'idle'; }""", timeout=120_000)
    page.wait_for_function("""n => window.jupyterapp.shell.currentWidget.node
                                   .querySelectorAll('.jp-CodeCell').length === n""",
                           arg=n_code, timeout=120_000)


def is_dirty(page) -> bool:
    """The open notebook has unsaved changes (its tab shows the dot)."""
    return page.evaluate("() => window.jupyterapp.shell.currentWidget.context.model.dirty")


CELL_STATE = """() => {
    const w = window.jupyterapp.shell.currentWidget;
    const code = w.content.widgets.filter(c => c.model.type === 'code');
    const k = w.sessionContext.session && w.sessionContext.session.kernel;
    return {total: code.length, done: code.filter(c => c.model.executionCount !== null).length,
            status: k ? k.status : 'none'};
}"""


def run_all(page, n_code: int, timeout_s: float = 240, shots: Path | None = None) -> None:
    """Run All Cells and wait until every code cell has run (an execution count in the model:
    folded cells show no prompt) and the kernel is idle again.

    Seen once on a fresh machine: the first Run All right after the kernel started executed
    nothing, so it is retried until a cell starts. Fails early when the kernel has gone idle
    with cells left unrun (Run All stops at a cell that raised).
    """
    for attempt in range(4):
        command(page, "notebook:run-all-cells")
        deadline = time.time() + 20
        while time.time() < deadline:
            state = page.evaluate(CELL_STATE)
            if state["done"] > 0 or state["status"] == "busy":
                break
            page.wait_for_timeout(200)
        else:
            if shots:
                page.screenshot(path=str(shots / f"run_all_attempt_{attempt + 1}_did_not_start.png"))
            continue
        break
    else:
        raise AssertionError("Run All Cells did not start any cell in 4 attempts")
    deadline, idle_since = time.time() + timeout_s, None
    while True:
        state = page.evaluate(CELL_STATE)
        if state["total"] != n_code:
            raise AssertionError(f"the notebook shows {state['total']} code cells, the file has {n_code}")
        if state["status"] == "idle":
            if state["done"] == n_code:
                return
            idle_since = idle_since or time.time()
            if time.time() - idle_since > 10:
                raise AssertionError(f"the kernel is idle with {n_code - state['done']} of {n_code} cells not run "
                                     f"(a cell raised?): {error_outputs(page)[:1]}")
        else:
            idle_since = None
        if time.time() > deadline:
            raise AssertionError(f"Run All did not finish in {timeout_s} s ({state['done']}/{n_code} cells ran)")
        page.wait_for_timeout(300)


def error_outputs(page) -> list[str]:
    """Texts of error outputs (tracebacks) shown in the notebook."""
    errors = page.locator(".jp-OutputArea-output.jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']")
    texts = [e.text_content() or "" for e in errors.all()]
    return [t for t in texts if "Traceback" in t or "Error" in t]


def broken_images(page) -> list[str]:
    """Sources of images in the notebook that did not load."""
    return page.evaluate("""() => [...document.querySelectorAll('.jp-Notebook img')]
                                  .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 120))""")


def visible_text(page) -> str:
    """Every rendered Markdown and output text of the notebook, formulas (MathJax) left out."""
    return page.evaluate("""() => {
        const parts = [];
        for (const el of document.querySelectorAll('.jp-Notebook .jp-RenderedMarkdown, .jp-Notebook .jp-OutputArea-output')) {
            const copy = el.cloneNode(true);
            copy.querySelectorAll('mjx-container, .MathJax, script, style, svg').forEach(m => m.remove());
            parts.push(copy.textContent);
        }
        return parts.join('\\n');
    }""")


def font_coverage() -> set[int]:
    """Code points drawn by the fonts the course relies on."""
    from fontTools.ttLib import TTCollection, TTFont

    covered: set[int] = set()
    paths = [Path(p) for p in FONT_GLOBS]
    try:
        import pylopdf_fonts_zh_cn
        paths += sorted(Path(pylopdf_fonts_zh_cn.__file__).parent.rglob("*.[ot]tf"))
    except ImportError:
        pass
    for path in paths:
        if not path.exists():
            continue
        fonts = TTCollection(str(path)).fonts if path.suffix == ".ttc" else [TTFont(str(path))]
        for font in fonts:
            covered |= set(font.getBestCmap() or {})
    return covered


def undrawable(text: str, covered: set[int]) -> dict[str, int]:
    """Characters of ``text`` (beyond whitespace and controls) that no course font draws."""
    missing: dict[str, int] = {}
    for ch in text:
        if ch.isspace() or ord(ch) < 32 or ord(ch) in covered or 0xFE00 <= ord(ch) <= 0xFE0F:
            continue
        missing[ch] = missing.get(ch, 0) + 1
    return missing


def full_screenshot(page, path: Path, width: int = 1400, max_height: int = 16000) -> None:
    """A screenshot of the whole notebook: grow the viewport to the notebook's height (capped)."""
    height = page.evaluate("""() => { const n = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer')
                                          || document.querySelector('.jp-Notebook');
                                      return n ? n.scrollHeight : 1000; }""")
    old = page.viewport_size
    page.set_viewport_size({"width": width, "height": int(min(max_height, height + 200))})
    page.evaluate("""() => document.querySelectorAll('.jp-NotebookPanel .jp-WindowedPanel-outer, .jp-Notebook')
                             .forEach(e => { e.scrollTop = 0; })""")
    page.wait_for_timeout(800)
    page.screenshot(path=str(path))
    page.set_viewport_size(old)


def wait_new_src(page, img, old: str, timeout_s: float = 20) -> str:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        src = img.get_attribute("src") or ""
        if src and src != old:
            return src
        page.wait_for_timeout(20)
    raise AssertionError("the explorer's image did not change after the slider move")


def slider_latency(page, label: str, n: int = 20) -> list[float]:
    """Milliseconds from a key press on slider ``label`` to the explorer's new image, for ``n``
    moves (alternating right and left): a keydown listener stamps the press, a MutationObserver
    on the image's ``src`` stamps the new frame, both in the page's clock."""
    page.evaluate("""() => {
        const img = document.querySelector('img.widget-image');
        window.__lat = []; window.__t0 = null;
        document.addEventListener('keydown', () => { window.__t0 = performance.now(); }, true);
        new MutationObserver(() => {
            if (window.__t0 !== null) { window.__lat.push(performance.now() - window.__t0); window.__t0 = null; }
        }).observe(img, {attributes: true, attributeFilter: ['src']});
    }""")
    handle = page.locator(".widget-hslider", has_text=label).locator(".noUi-handle").first
    handle.focus()
    for i in range(n):
        page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
        page.wait_for_function("k => window.__lat.length >= k", arg=i + 1, timeout=10_000)
        page.wait_for_timeout(100)
    return page.evaluate("() => window.__lat.slice()")
