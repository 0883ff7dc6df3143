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
    table at the end with each phase's start and the run's wall time; a failed phase keeps its exit
    status and still prints the table."""
    import shutil
    import subprocess
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    (tmp_path / "scripts").mkdir()
    shutil.copy(root / "scripts" / "phase.sh", tmp_path / "scripts" / "phase.sh")
    run = lambda *a: subprocess.run(["bash", str(tmp_path / "scripts" / "phase.sh"), *a],
                                    capture_output=True, text=True, timeout=60)
    since = time.time() - 100
    assert run("start", f"{since:.3f}").returncode == 0
    assert "== phase setup: 100." in run("setup", f"{since:.3f}").stdout
    ok = run("nap", "--", "sleep", "0.3")
    assert ok.returncode == 0 and "== phase nap: 0." in ok.stdout, ok.stdout
    bad = run("broken", "--", "bash", "-c", "exit 3")
    assert bad.returncode == 3 and "exit 3" in bad.stdout and "phase times" in bad.stdout, bad.stdout
    late = run("late", f"{since + 50:.3f}", "4")
    assert "exit 4" in late.stdout, late.stdout
    table = run("summary").stdout
    rows = {line.split()[0]: line.split() for line in table.splitlines() if line.startswith("  ")}
    assert rows["setup"][1:3] == ["0.0", "100.0"], table          # start, length
    assert rows["nap"][1].startswith("100.") and rows["late"][1] == "50.0" \
        and rows["late"][3:] == ["exit", "4"], table
    assert 100 <= float(rows["total"][2]) < 130, table             # the wall time since the start


def _fake_course(tmp_path, pytest_rc: int, robust_rc: int = 0):
    """A copy of scripts/test.sh and phase.sh whose PY only pretends: pytest exits with pytest_rc,
    robust with robust_rc, the rest succeed; every call is logged to calls.log."""
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    (tmp_path / "scripts").mkdir()
    for name in ("test.sh", "phase.sh"):
        shutil.copy(root / "scripts" / name, tmp_path / "scripts" / name)
    (tmp_path / "scripts" / "offline.sh").write_text('exec "$@"\n')
    py = tmp_path / "fakepy"
    py.write_text(f"""#!/bin/bash
echo "$*" >> calls.log
case "$*" in
  *robust.py*) echo "robust: report"; exit {robust_rc} ;;
  *"-m pytest"*"tests notebooks"*) echo "pytest ran"; exit {pytest_rc} ;;
  *) echo "ran $*"; exit 0 ;;
esac
""")
    py.chmod(0o755)
    return py


def _run_fake(tmp_path, py):
    import os
    import subprocess
    import time

    return subprocess.run(["bash", str(tmp_path / "scripts" / "test.sh"), f"{time.time() - 5:.3f}"],
                          cwd=tmp_path, env=dict(os.environ, PY=str(py)), capture_output=True, text=True,
                          timeout=60)


def test_make_test_runs_every_phase_in_order(tmp_path):
    """scripts/test.sh: pytest, the book, the slides, their tests, robust, then the table with the
    setup's time since make test began; robust's failure fails make test and still prints the table."""
    proc = _run_fake(tmp_path, _fake_course(tmp_path, pytest_rc=0, robust_rc=5))
    out = proc.stdout
    assert proc.returncode == 5, out + proc.stderr
    assert out.index("== phase setup") < out.index("== phase pytest") < out.index("== phase book") < \
        out.index("== phase slides") < out.index("== phase pytest (book, slides)") < \
        out.index("robust: report") < out.index("== phase robust") < out.index("phase times")
    assert "exit 5" in out.split("phase times")[1]
    setup_row = [line for line in out.splitlines() if line.strip().startswith("setup")][-1]
    assert setup_row.split()[-2] == "0.0" and float(setup_row.split()[-1]) >= 5, setup_row
    calls = (tmp_path / "calls.log").read_text()
    assert "--nbval-lax" in calls and "-n 2" in calls and "--ignore=tests/test_book.py" in calls, calls


def test_make_test_stops_at_a_failing_phase(tmp_path):
    """A failing phase ends make test with its exit status and the table; nothing after it runs."""
    proc = _run_fake(tmp_path, _fake_course(tmp_path, pytest_rc=3))
    assert proc.returncode == 3 and "phase times" in proc.stdout, proc.stdout + proc.stderr
    assert "== phase book" not in proc.stdout and "robust.py" not in (tmp_path / "calls.log").read_text()


def test_make_test_recipe_runs_every_phase():
    """make test = the setup, then scripts/test.sh, which runs every phase (none weaker)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    makefile = (root / "Makefile").read_text()
    recipe = makefile[makefile.index("\ntest:"):].split("\n\n")[0]
    assert "scripts/test.sh $(MAKE_START)" in recipe and "-j3 test-setup" in recipe, recipe
    setup = makefile[makefile.index("\ntest-setup:"):].split("\n\n")[0]
    for step in ("$(WARM_STAMP)", "$(TEST_WHEELS)", "assets", "pip-extras", "hub-install", "$(BOOK_STAMP)"):
        assert step in setup, step
    assert "$(STAMP) $(WARM_STAMP)" in makefile[makefile.index("\ninstall:"):].split("\n")[1], \
        "make install (make lab) must still compile numba's code"
    script = (root / "scripts" / "test.sh").read_text()
    for phase in ("scripts/robust.py", "-m pytest -rs \\\n  -n 2 --dist loadfile",
                  "tests notebooks --nbval-lax", "scripts/build_book.py", "scripts/build_slides.py",
                  '"${STATIC_TESTS[@]}"', "phase.sh summary"):
        assert phase in script, phase