"""The course's JupyterLab opens in Chinese (zh_CN) by default, for this environment only.

The install step (scripts/install.sh) writes the locale into the venv's
share/jupyter/lab/settings/overrides.json; nothing is written to the user's own settings. The
browser test starts the course exactly as `make lab` does (scripts/lab.sh) with an English
browser and checks that the menu bar reads 文件 / 编辑 / 运行. Screenshot: artifacts/zh_lab/.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "artifacts" / "zh_lab"
OVERRIDES = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
LOCALE_KEY = "@jupyterlab/translation-extension:plugin"


def _pin(name: str) -> str:
    text = (ROOT / "requirements.txt").read_text()
    m = re.search(rf"^{re.escape(name)}==(\S+)$", text, re.M | re.I)
    assert m, f"{name} is not pinned in requirements.txt"
    return m.group(1)


def test_language_pack_is_pinned_and_installed():
    from importlib.metadata import version
    assert version("jupyterlab-language-pack-zh-CN") == _pin("jupyterlab-language-pack-zh-CN")


def test_install_step_sets_chinese_for_this_venv_only():
    if not OVERRIDES.exists():
        pytest.fail(f"{OVERRIDES} is missing: run the install step (make install or bash scripts/install.sh)")
    assert json.loads(OVERRIDES.read_text(encoding="utf-8"))[LOCALE_KEY]["locale"] == "zh_CN"
    assert "lab_locale.py" in (ROOT / "scripts" / "install.sh").read_text()
    assert "sys.prefix" in (ROOT / "scripts" / "lab_locale.py").read_text()
    postbuild = (ROOT / "binder" / "postBuild").read_text()
    assert "zh_CN" in postbuild and "overrides.json" in postbuild


def _require_browser() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {CHROMIUM} is missing: install it (apt-get install -y chromium)")
    pytest.skip(f"{CHROMIUM} is not installed; set CI=true to make this a failure")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def course_lab(tmp_path):
    """scripts/lab.sh (the `make lab` command) on a free port with a random token."""
    _require_browser()
    port, token = _free_port(), secrets.token_hex(16)
    news = tmp_path / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    log = open(tmp_path / "lab.log", "wb")
    proc = subprocess.Popen(["bash", str(ROOT / "scripts" / "lab.sh"), "--no-browser", f"--port={port}",
                             f"--IdentityProvider.token={token}",
                             f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
                             f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"lab.sh exited: {(tmp_path / 'lab.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("JupyterLab did not answer within 90 s")
                time.sleep(0.5)
        yield base, token
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()


def test_menu_bar_reads_chinese(course_lab):
    from playwright.sync_api import sync_playwright

    base, token = course_lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            # an English browser: the Chinese interface comes from the course's setting, not from it
            page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="en-US")
            page.goto(f"{base}/lab/tree/notebooks/00_welcome.ipynb?token={token}")
            labels = page.locator("#jp-menu-panel .lm-MenuBar-itemLabel")
            page.wait_for_function(
                """() => [...document.querySelectorAll('#jp-menu-panel .lm-MenuBar-itemLabel')]
                         .some(e => e.textContent.trim() === '运行')""", timeout=90_000)
            page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=90_000)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)   # 00_welcome is open
            texts = [t.strip() for t in labels.all_text_contents()]
            page.screenshot(path=str(ARTIFACTS / "menu_bar_zh.png"))
            assert texts[:2] == ["文件", "编辑"], texts
            assert "运行" in texts, texts
            page.locator("#jp-menu-panel .lm-MenuBar-itemLabel", has_text="运行").first.click()
            items = page.locator(".lm-Menu .lm-Menu-itemLabel")
            items.first.wait_for(state="visible")
            menu = [t.strip() for t in items.all_text_contents()]
            print("运行 menu:", "; ".join(menu))
            assert any(t.startswith("运行所有") for t in menu), "; ".join(menu)
            page.screenshot(path=str(ARTIFACTS / "run_menu_zh.png"))
        finally:
            browser.close()
