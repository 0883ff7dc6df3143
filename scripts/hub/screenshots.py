"""Screenshots of nbgrader in JupyterLab's Chinese interface for TEACHING.md (docs/img/homework-*.png).

    .venv/bin/python scripts/hub/screenshots.py [--out docs/img]

Builds chapter 04's assignment (scripts/assignments.py build) in a temporary course folder with its
own exchange, releases it with a due date, puts two demonstration submissions in submitted/
(the reference answers, and the release left blank: both written here, so nbgrader may grade them
as the current user), autogrades them, starts a private JupyterLab on 127.0.0.1 in that course
folder and photographs, in headless Chromium:

1. homework-assignments.png: the Assignments panel (nbgrader's lab extension, what a student uses
   to fetch and submit; here it lists the released assignment);
2. homework-formgrader.png: the formgrader's assignment page (release, collect, autograde,
   feedback buttons; due date; submission counts);
3. homework-gradebook.png: the formgrader's students page, with the two scores.

Nothing outside the temporary folder changes; no network is used. Remake after an nbgrader or
JupyterLab upgrade.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
import labdriver  # noqa: E402  (tests/labdriver.py: Chromium flags, settings, free ports)

VENV_BIN = ROOT / ".venv" / "bin"
ASSIGNMENT = "04_bptt"


def run(cmd: list[str], cwd: Path, env: dict) -> None:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if proc.returncode:
        sys.exit(f"screenshots.py: {' '.join(cmd[:3])} failed:\n{proc.stdout}{proc.stderr}")


def reference(nb: dict) -> dict:
    nb = json.loads(json.dumps(nb))
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            text = "".join(cell["source"])
            cell["source"] = "\n".join(l for l in text.split("\n")
                                       if l.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
    return nb


def prepare(tmp: Path) -> tuple[Path, dict]:
    course, exchange = tmp / "course", tmp / "exchange"
    env = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
           "SEQHW_EXCHANGE_ROOT": str(exchange), "MPLBACKEND": "agg", "OMP_NUM_THREADS": "1"}
    run([str(VENV_BIN / "python"), str(ROOT / "scripts" / "assignments.py"), "build", "--out",
         str(course), ASSIGNMENT], ROOT, env)
    nbg = [str(VENV_BIN / "nbgrader")]
    ex = [f"--Exchange.root={exchange}"]
    (course / "students.csv").write_text("id,first_name,last_name\nstu01,小明,王\nstu02,小红,李\n")
    run(nbg + ["db", "student", "import", "students.csv"], course, env)
    due = (datetime.now(timezone.utc) + timedelta(days=7)).strftime("%Y-%m-%d 15:59:00 UTC")
    run(nbg + ["db", "assignment", "add", ASSIGNMENT, f"--duedate={due}"], course, env)
    exchange.mkdir()
    os.chmod(exchange, 0o1777)
    run(nbg + ["release_assignment", ASSIGNMENT, "--force"] + ex, course, env)
    release = json.loads((course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    source = json.loads((course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    for student, nb in (("stu01", reference(source)), ("stu02", release)):
        d = course / "submitted" / student / ASSIGNMENT
        d.mkdir(parents=True)
        (d / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(nb, ensure_ascii=False))
        (d / "timestamp.txt").write_text(stamp)
    run(nbg + ["autograde", ASSIGNMENT, "--force"], course, env)
    return course, env


def shoot(course: Path, env: dict, out: Path, tmp: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright
    port, token = labdriver.free_port(), "shots" + os.urandom(8).hex()
    labdriver.write_settings(tmp / "settings", {
        "@jupyterlab/translation-extension/plugin.jupyterlab-settings": {"locale": "zh_CN"}})
    cmd = [str(VENV_BIN / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={course}",
           f"--LabApp.user_settings_dir={tmp / 'settings'}", "--LabApp.expose_app_in_browser=True",
           f"--LabApp.workspaces_dir={tmp / 'workspaces'}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp / "lab.log", "wb")
    proc = subprocess.Popen(cmd, cwd=course, env={**env, "JUPYTER_CONFIG_DIR": str(tmp / "config")},
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    shots = []
    try:
        import urllib.request
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as pw:
            browser = labdriver.launch(pw)
            page = browser.new_page(viewport={"width": 1280, "height": 720}, locale="zh-CN")
            page.goto(f"{base}/lab?reset&token={token}")
            page.wait_for_function("() => window.jupyterapp !== undefined", timeout=120_000)
            page.wait_for_selector(".jp-LauncherCard", timeout=120_000)
            labdriver.command(page, "nbgrader:open-assignment-list")
            page.wait_for_selector("text=" + ASSIGNMENT, timeout=60_000)
            page.wait_for_timeout(1500)
            shots.append(out / "homework-assignments.png")
            page.screenshot(path=str(shots[-1]))
            for url, name, wait in (
                    (f"{base}/formgrader/manage_assignments?token={token}", "homework-formgrader.png", ASSIGNMENT),
                    (f"{base}/formgrader/manage_students?token={token}",
                     "homework-gradebook.png", "stu01")):
                page.goto(url)
                page.wait_for_selector("text=" + wait, timeout=60_000)
                page.wait_for_timeout(1500)
                shots.append(out / name)
                page.screenshot(path=str(shots[-1]))
            browser.close()
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
        log.close()
    return shots


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "img"))
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="seqhw-shots-"))
    try:
        course, env = prepare(tmp)
        for path in shoot(course, env, out, tmp):
            print(f"wrote {path} ({path.stat().st_size // 1024} KB)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
