"""The two install paths agree, notebooks are stored clean, and the lab command is safe."""
import json
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s#]+)$")


def pins(lines):
    out = {}
    for line in lines:
        m = PIN.match(line.strip().lstrip("- ").strip())
        if m:
            out[m.group(1).lower().replace("_", "-")] = m.group(2)
    return out


def test_environment_yml_matches_requirements():
    req = pins((ROOT / "requirements.txt").read_text().splitlines())
    yml_text = (ROOT / "environment.yml").read_text()
    yml = pins(yml_text.splitlines())
    assert req, "requirements.txt has no pins"
    assert yml == req, f"environment.yml pins differ from requirements.txt: {set(yml.items()) ^ set(req.items())}"
    assert re.search(r"^\s*- python=3\.11\s*$", yml_text, re.M)
    assert re.search(r"^\s*- -e \.\s*$", yml_text, re.M)


def test_every_requirement_is_pinned():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        assert not line or PIN.match(line), f"not pinned with ==: {line!r}"


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"^make test$", ci, re.M)
    assert "make test" in readme and "make lab" in readme


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_clean(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    ids = [cell.get("id") for cell in nb["cells"]]
    assert None not in ids and len(set(ids)) == len(ids), \
        f"{path.name}: every cell needs its own id (nbformat 4.5), or JupyterLab adds them and marks the notebook modified"
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None, \
                f"{path.name}: stored with outputs; clear them before committing"


def test_lab_command_binds_loopback_and_requires_token():
    script = (ROOT / "scripts" / "lab.sh").read_text()
    assert "--ip=127.0.0.1" in script
    assert not re.search(r"token=(''|\"\"|\s|$)", script) and "disable_check_xsrf" not in script
    jupyter = ROOT / ".venv" / "bin" / "jupyter"
    if not jupyter.exists():
        pytest.skip("no .venv here: run through `make test`")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = "t" + os.urandom(8).hex()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(ROOT / "artifacts" / "runtime")}
    proc = subprocess.Popen(["bash", str(ROOT / "scripts" / "lab.sh"), "--no-browser", f"--port={port}",
                             f"--IdentityProvider.token={token}"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/api/status"
        for _ in range(120):
            try:
                with urllib.request.urlopen(url + f"?token={token}", timeout=2) as r:
                    assert r.status == 200
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not answer within 60 s")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(url, timeout=5)
        assert err.value.code == 403
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(url + "?token=wrong", timeout=5)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_make_test_prints_its_phase_times(tmp_path):
    """scripts/phase.sh (make test's phases): each phase's time and exit status when it ends, the
    table at the end; a failed phase keeps its exit status and still prints the table."""
    import shutil
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    (tmp_path / "scripts").mkdir()
    shutil.copy(root / "scripts" / "phase.sh", tmp_path / "scripts" / "phase.sh")
    run = lambda *a: subprocess.run(["bash", str(tmp_path / "scripts" / "phase.sh"), *a],
                                    capture_output=True, text=True, timeout=60)
    assert run("start").returncode == 0
    ok = run("nap", "--", "sleep", "0.3")
    assert ok.returncode == 0 and "== phase nap: 0." in ok.stdout, ok.stdout
    bad = run("broken", "--", "bash", "-c", "exit 3")
    assert bad.returncode == 3 and "exit 3" in bad.stdout and "phase times" in bad.stdout, bad.stdout
    table = run("summary").stdout
    assert "nap" in table and "broken" in table and "total" in table, table
    makefile = (root / "Makefile").read_text()
    recipe = makefile[makefile.index("\ntest:"):].split("\n\n")[0]
    for phase in ("book --", "slides --", "pytest", "robust", "phase.sh summary"):
        assert phase in recipe, phase
