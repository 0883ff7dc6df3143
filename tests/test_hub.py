"""The class server (docs/classroom-server.md): the hub's safety settings, the measuring in
scripts/bench.py, and the classroom load test (scripts/hub/loadtest.py) with simulated students.

The load test needs root (it creates temporary system users and removes them afterwards) and the
hub packages (`make hub-install`, which `make test` runs). Outside CI it is skipped where those
are missing; in CI (CI=true) a missing piece is a failure. SEQHUB_TEST_STUDENTS (default "4")
sets the rounds: students working at the same time (one round of four holds every check; a lone
student's round only adds a row to the timing table, which `make loadtest STUDENTS=1,4` prints);
SEQHUB_TEST_NOTEBOOKS (space separated) replaces the two notebooks (04_bptt, 05_lstm), e.g. to
check the test itself with a tiny one.
"""
import json
import os
import pwd
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HUB = ROOT / "scripts" / "hub"
VENV_BIN = ROOT / ".venv" / "bin"
CHP = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
IN_CI = bool(os.environ.get("CI"))
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s#]+)$")


def missing(reason: str):
    if IN_CI:
        pytest.fail(f"{reason} (CI must run the class-server tests)")
    pytest.skip(reason)


def need_hub():
    if not (VENV_BIN / "jupyterhub").exists() or not CHP.exists():
        missing("hub packages not installed: run `make hub-install`")


def pins(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            m = PIN.match(line)
            assert m, f"{path.name}: not pinned with ==: {line!r}"
            out[m.group(1).lower().replace("_", "-")] = m.group(2)
    return out


def test_hub_requirements_are_pinned_and_agree_with_the_course():
    hub, course = pins(ROOT / "requirements-hub.txt"), pins(ROOT / "requirements.txt")
    assert {"jupyterhub", "jupyterhub-idle-culler"} <= hub.keys()
    clash = {k: (v, course[k]) for k, v in hub.items() if k in course and course[k] != v}
    assert not clash, f"requirements-hub.txt pins differ from requirements.txt: {clash}"
    pkg = json.loads((ROOT / "package.json").read_text())
    version = pkg["dependencies"]["configurable-http-proxy"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), "pin configurable-http-proxy exactly"
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/configurable-http-proxy"]["version"] == version


def test_hub_config_is_loopback_only_with_no_default_password():
    text = (HUB / "jupyterhub_config.py").read_text()
    assert 'bind_url = f"http://127.0.0.1:' in text
    assert 'hub_ip = "127.0.0.1"' in text and 'Spawner.ip = "127.0.0.1"' in text
    assert 'api_url = f"http://127.0.0.1:' in text
    assert re.search(r'os\.environ\.get\("SEQHUB_PASSWORD", ""\)', text)
    # allow_all only for per-student logins, where NativeAuthenticator's approval is the gate and
    # the sign-up names are limited to the class list and the teacher
    assert [line.strip() for line in text.splitlines() if "allow_all" in line
            and not line.strip().startswith("#")] == [
        "c.NativeAuthenticator.allow_all = True       # i.e. every APPROVED sign-up (see above)"]
    assert "c.Authenticator.username_pattern" in text and "jupyterhub_idle_culler" in text
    start = (HUB / "start.sh").read_text()
    assert "SEQHUB_PASSWORD:-}" in start and "exit 2" in start


def test_students_jupyter_settings(tmp_path):
    """What every student's server gets (scripts/hub/classroom.py; the hub passes the folder as
    JUPYTER_CONFIG_PATH), as Jupyter itself reads it: nbgrader's teacher side off (the formgrader,
    course-list and "Create Assignment" lab plugins; the formgrader and course-list server
    extensions), the student side on (Assignment List, Validate), and a terminal that runs bash
    instead of the students' nologin shell. The plugin ids are the installed nbgrader's."""
    need_hub()
    sys.path.insert(0, str(HUB))
    try:
        import classroom
    finally:
        sys.path.remove(str(HUB))
    folder = classroom.write_student_config(tmp_path / "students")
    assert classroom.write_student_config(folder) == folder          # idempotent
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env.update(JUPYTER_CONFIG_PATH=str(folder), HOME=str(tmp_path / "home"))  # (no ~/.jupyter)
    bundle = "".join(p.read_text(errors="replace") for p in (
        ROOT / ".venv" / "share" / "jupyter" / "labextensions" / "@jupyter" / "nbgrader").rglob("*.js"))
    plugins = set(re.findall(r'"(@jupyter/nbgrader:[a-z-]+)"', bundle))
    assert {*classroom.TEACHER_LAB_PLUGINS, *classroom.STUDENT_LAB_PLUGINS} <= plugins, plugins
    lab = subprocess.run([str(VENV_BIN / "jupyter"), "labextension", "list"], env=env,
                         capture_output=True, text=True, timeout=120)
    text = lab.stdout + lab.stderr
    assert lab.returncode == 0 and "Disabled extensions:" in text, text
    disabled = set(re.findall(r"^\s+(@jupyter/nbgrader:\S+)", text.split("Disabled extensions:")[1],
                              re.M))
    assert disabled == set(classroom.TEACHER_LAB_PLUGINS), text
    server = subprocess.run([str(VENV_BIN / "jupyter"), "server", "--show-config-json"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert server.returncode == 0, server.stderr[-2000:]
    app = json.loads(server.stdout)["ServerApp"]
    on = app["jpserver_extensions"]
    assert {e: on[e] for e in classroom.TEACHER_SERVER_EXTENSIONS} == dict.fromkeys(
        classroom.TEACHER_SERVER_EXTENSIONS, False), on
    assert on["nbgrader.server_extensions.assignment_list"] is True, on
    assert on["nbgrader.server_extensions.validate_assignment"] is True, on
    assert app["terminado_settings"]["shell_command"] == [classroom.TERMINAL_SHELL]
    shell = subprocess.run([classroom.TERMINAL_SHELL, "-c", "echo $((6*7))"], capture_output=True,
                           text=True, timeout=30)
    assert shell.stdout.strip() == "42"


@pytest.mark.parametrize("password", [None, "short"], ids=["unset", "too-short"])
def test_hub_refuses_to_start_without_a_proper_password(tmp_path, password):
    need_hub()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEQHUB_")}
    env.update(SEQHUB_USERS="nobody", SEQHUB_STATE_DIR=str(tmp_path / "state"), SEQHUB_PORT="9",
               SEQHUB_HUB_PORT="9", SEQHUB_PROXY_API_PORT="9")
    if password is not None:
        env["SEQHUB_PASSWORD"] = password
    proc = subprocess.run([str(VENV_BIN / "jupyterhub"), "-f", str(HUB / "jupyterhub_config.py")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "shared password" in proc.stdout + proc.stderr
    assert not (tmp_path / "state" / "jupyterhub.sqlite").exists()


def test_start_script_refuses_without_password():
    env = {k: v for k, v in os.environ.items() if k != "SEQHUB_PASSWORD"}
    proc = subprocess.run(["bash", str(HUB / "start.sh")], env=env, capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 2 and "no default password" in proc.stderr


def test_bench_measures_kernel_memory_and_cpu():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import bench
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    if bench.psutil is None:
        pytest.skip("psutil is not installed")
    code = ("import time\nx = bytearray(150 * 2**20)\nx[::4096] = b'1' * len(x[::4096])\n"
            "t = time.process_time()\nwhile time.process_time() - t < 1.0: pass\n")
    proc = subprocess.Popen([sys.executable, "-c", code])
    meter = bench.TreeMeter(proc.pid, interval=0.05).start()
    proc.wait(timeout=120)
    meter.stop()
    # the process exits between two samples, so up to one interval may be missed
    assert meter.cpu_seconds >= 0.7, meter.cpu_seconds
    assert meter.peak_rss >= 140 * 2**20, meter.peak_rss


def test_classroom_load_test(capsys):
    """N students log in, start servers, run 04 and 05 at once; isolation, culling, cleanup."""
    if os.geteuid() != 0:
        missing("the load test creates temporary system users: run it as root")
    need_hub()
    students = os.environ.get("SEQHUB_TEST_STUDENTS", "4")
    prefix = "sqh" + secrets.token_hex(3)
    cmd = [str(VENV_BIN / "python"), str(HUB / "loadtest.py"), "--students", students,
           "--prefix", prefix, "--timeout", "1200"]
    if os.environ.get("SEQHUB_TEST_NOTEBOOKS"):
        cmd += ["--notebooks", *os.environ["SEQHUB_TEST_NOTEBOOKS"].split()]
    t0 = time.monotonic()
    with capsys.disabled():       # the table belongs in the test log
        print(f"\n$ {' '.join(cmd[1:])}", flush=True)
        proc = subprocess.Popen(cmd, cwd=ROOT)
        try:
            rc = proc.wait(timeout=1320)
        except subprocess.TimeoutExpired:
            proc.terminate()      # the load test cleans up on SIGTERM
            try:
                proc.wait(timeout=120)
            finally:
                proc.kill()
            rc = "timeout"
        print(f"load test finished in {time.monotonic() - t0:.0f} s (exit {rc})", flush=True)
    leftovers = [p.pw_name for p in pwd.getpwall() if p.pw_name.startswith(prefix)]
    assert not leftovers, f"the load test left users behind: {leftovers}"
    assert rc == 0, "the classroom load test failed: see its output above"
    result = json.loads((ROOT / "artifacts" / "hub-loadtest.json").read_text())
    assert [r["students"] for r in result["rows"]] == sorted(
        {int(x) for x in students.replace(",", " ").split()})
