"""Shared by tests/test_book.py and tests/test_slides.py: build a static site if it is stale,
serve a folder on 127.0.0.1, and watch a Playwright page for failed and outside requests."""
from __future__ import annotations

import fcntl
import functools
import http.server
import os
import re
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# resources a page would load from outside the site (links a reader may click are not requests)
OUTSIDE = re.compile(r"""<(?:script|img|iframe|source|audio|video)\b[^>]*\bsrc\s*=\s*["'](?:https?:)?//"""
                     r"""|<link\b[^>]*\bhref\s*=\s*["'](?:https?:)?//[^"']*["'][^>]*>|url\(\s*["']?(?:https?:)?//""",
                     re.I)


def require_browser() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {CHROMIUM} is missing: install it (apt-get install -y chromium)")
    pytest.skip(f"{CHROMIUM} is not installed; set CI=true to make this a failure")


def newest(paths) -> float:
    return max((p.stat().st_mtime for p in paths if p.is_file()), default=0.0)


def build_if_stale(script: str, product: Path, sources: list[Path]) -> None:
    """Run scripts/<script> when ``product`` is missing or older than any file under ``sources``."""
    files = [f for s in sources for f in ([s] if s.is_file() else s.rglob("*"))
             if "__pycache__" not in f.parts and ".ipynb_checkpoints" not in f.parts]
    lock_path = ROOT / "build" / ".build.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:          # pytest-xdist: the book and the slides share build/executed
        fcntl.flock(lock, fcntl.LOCK_EX)
        if product.exists() and (product.stat().st_mtime >= newest(files) or os.environ.get("SEQCOURSE_REUSE_BUILD")):
            return                  # SEQCOURSE_REUSE_BUILD=1: test the existing build as it is
        subprocess.run([sys.executable, str(ROOT / "scripts" / script)], cwd=ROOT, check=True, timeout=1500)


def outside_references(folder: Path) -> list[str]:
    bad = []
    for path in list(folder.rglob("*.html")) + list(folder.rglob("*.css")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for m in OUTSIDE.finditer(text):
            bad.append(f"{path.relative_to(folder)}: {m.group(0)[:120]}")
    return bad


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def serve(folder: Path):
    """An HTTP server for ``folder`` on 127.0.0.1 (free port); yields the base URL."""
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class RequestLog:
    """Every request of a page: outside the base URL, failed, or answered with status >= 400."""

    def __init__(self, page, base: str):
        self.base, self.outside, self.failed, self.aborted = base, [], [], []
        page.on("request", self._request)
        page.on("requestfailed", self._failed)
        page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.url} (HTTP {r.status})"))

    def _request(self, request) -> None:
        url = request.url
        if not (url.startswith(self.base) or url.startswith("data:") or url.startswith("blob:")
                or url == "about:blank"):
            self.outside.append(url)

    def _failed(self, request) -> None:
        # net::ERR_ABORTED: the browser itself cancelled the request in flight (the deck moved to
        # the next slide before MathJax's font arrived; seen once in CI). Whether the file is
        # there is then asked of the server directly in check().
        if request.failure == "net::ERR_ABORTED" and request.url.startswith(self.base):
            self.aborted.append(request.url)
        else:
            self.failed.append(f"{request.url} ({request.failure})")

    def check(self) -> None:
        import urllib.request

        assert not self.outside, f"requests outside the site: {self.outside[:10]}"
        for url in self.aborted:
            try:
                with urllib.request.urlopen(url, timeout=30) as answer:
                    ok = answer.status == 200 and len(answer.read()) > 0
            except OSError as err:
                ok, url = False, f"{url} ({err})"
            if not ok:
                self.failed.append(f"{url} (aborted in the browser, and not served)")
        assert not self.failed, f"failed requests: {self.failed[:10]}"


ALL_IMAGES_LOADED = """async () => {
    const imgs = [...document.images];
    imgs.forEach(i => { i.loading = 'eager'; });
    await Promise.all(imgs.map(i => i.decode().catch(() => null)));
    return imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 120));
}"""
