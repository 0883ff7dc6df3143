"""The class hub reached from a student's laptop over TLS (`make hub AUTH=native HUB_HOST=0.0.0.0`).

The test builds its own two-machine network out of Linux network namespaces: one for the hub,
one for the "student laptop", joined by a veth pair on a private /30 link (10.213.7.1 and
10.213.7.2, no default route, nothing else in either namespace), runs the real hub inside the
hub's namespace (`ip netns exec`) with a self-signed certificate made on first start, and from
the laptop's namespace (tests/hub_laptop.py): compares the certificate's SHA-256 fingerprint with
the one the hub printed, checks that plain HTTP is not served, signs up, is approved by the
teacher, logs in, opens JupyterLab, runs a cell in a kernel over the websocket and fetches and
submits an nbgrader assignment. Inside the hub's namespace `ss -ltnp` must show exactly one
socket on a non-loopback address: the HTTPS port. Traffic stays on that link (the namespaces
have no other interface or route); both namespaces and the veth pair are removed afterwards,
also on failure. Needs root, `ip` (iproute2) and `ss`.
"""
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hubtools import (ROOT, VENV_BIN, Hub, accounts, hub_env, listening_sockets, missing,
                      need_hub, temp_dir, temp_users)

HUB_IP, LAPTOP_IP = "10.213.7.1", "10.213.7.2"
TEACHER, TEACHER_PW = "teacher", "tls-test-teacher-" + secrets.token_hex(4)


def _ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, check=check)


@pytest.fixture
def netns():
    """Two network namespaces joined by a veth pair on a /30; removed afterwards (finalizer)."""
    need_hub()
    for tool in ("ip", "ss"):
        if not shutil.which(tool):
            missing(f"`{tool}` (iproute2) is missing")
    tag = secrets.token_hex(3)
    hub_ns, laptop_ns = f"seqhub-{tag}", f"seqlap-{tag}"
    veth_hub, veth_laptop = f"vh{tag}", f"vl{tag}"
    made: list[str] = []
    try:
        probe = _ip("netns", "add", hub_ns, check=False)
        if probe.returncode != 0:
            missing(f"cannot create a network namespace here: {probe.stderr.strip()}")
        made.append(hub_ns)
        _ip("netns", "add", laptop_ns)
        made.append(laptop_ns)
        _ip("link", "add", veth_hub, "type", "veth", "peer", "name", veth_laptop)
        for ns, dev, addr in ((hub_ns, veth_hub, HUB_IP), (laptop_ns, veth_laptop, LAPTOP_IP)):
            _ip("link", "set", dev, "netns", ns)
            _ip("-n", ns, "addr", "add", f"{addr}/30", "dev", dev)
            _ip("-n", ns, "link", "set", dev, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
        routes = _ip("-n", laptop_ns, "route", "show").stdout
        assert "default" not in routes and "10.213.7.0/30" in routes, routes
        yield {"hub": hub_ns, "laptop": laptop_ns}
    finally:
        for ns in made:         # deleting a namespace deletes the veth end inside it
            _ip("netns", "delete", ns, check=False)
        if _ip("link", "show", veth_hub, check=False).returncode == 0:
            _ip("link", "delete", veth_hub, check=False)
        left = set(_ip("netns", "list").stdout.split()) & {hub_ns, laptop_ns}
        assert not left, f"namespaces left behind: {left}"


def laptop(ns: str, step: str, spec: dict, workdir: Path, timeout: float = 600) -> dict:
    path = workdir / f"spec-{step}.json"
    path.write_text(json.dumps(spec))
    proc = subprocess.run(["ip", "netns", "exec", ns, str(VENV_BIN / "python"),
                           str(ROOT / "tests" / "hub_laptop.py"), step, str(path)],
                          capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, f"laptop step {step} failed:\n{proc.stdout}\n{proc.stderr}"
    return json.loads(lines[-1][len("RESULT "):])


def release_assignment(base: Path, course: str, exchange: Path) -> None:
    """A one-cell nbgrader assignment, made and released with nbgrader's own commands."""
    import nbformat
    src = base / "course" / "source" / "ps1"
    src.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("answer = None\n### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION\n")
    cell.metadata["nbgrader"] = {"grade": False, "solution": True, "locked": False, "task": False,
                                 "grade_id": "answer", "schema_version": 3}
    test = nbformat.v4.new_code_cell("assert answer == 42")
    test.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "task": False,
                                 "grade_id": "check_answer", "points": 1, "schema_version": 3}
    nb.cells = [cell, test]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, src / "ps1.ipynb")
    flags = [f"--CourseDirectory.root={base / 'course'}", f"--CourseDirectory.course_id={course}",
             f"--Exchange.root={exchange}"]
    for cmd in (["generate_assignment", "ps1", "--force"], ["release_assignment", "ps1", "--force"]):
        proc = subprocess.run([str(VENV_BIN / "nbgrader"), *cmd, *flags], cwd=base / "course",
                              capture_output=True, text=True, timeout=300,
                              env={**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"})
        assert proc.returncode == 0, f"nbgrader {cmd[0]}:\n{proc.stdout}\n{proc.stderr}"
    assert (exchange / course / "outbound" / "ps1" / "ps1.ipynb").exists()


def test_student_laptop_reaches_the_hub_over_tls_only(netns):
    t_start = time.monotonic()
    with temp_dir("seqhub-tls-") as base, temp_users(1, base) as (student,), \
            accounts.other_x_granted():
        exchange, course = base / "exchange", "tlscourse"
        exchange.mkdir(mode=0o755)
        release_assignment(base, course, exchange)
        env = hub_env(base / "state", SEQHUB_AUTH="native", SEQHUB_HOST="0.0.0.0",
                      SEQHUB_USERS=student, SEQHUB_ADMIN_USER=TEACHER,
                      SEQHUB_ADMIN_PASSWORD=TEACHER_PW, SEQHUB_PORT="8443")
        # what the teacher runs: start.sh prints the URL and the fingerprint (made here, first start)
        banner = subprocess.run(["ip", "netns", "exec", netns["hub"], str(VENV_BIN / "python"),
                                 str(ROOT / "scripts" / "hub" / "tls.py"), "banner"],
                                env=env, capture_output=True, text=True, timeout=60)
        assert banner.returncode == 0, banner.stderr
        print(banner.stderr)
        assert f"https://{HUB_IP}:8443/" in banner.stderr and "NEW self-signed" in banner.stderr
        printed = re.search(r"SHA-256 fingerprint.*?: ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})",
                            banner.stderr).group(1)
        hub = Hub(env, base / "hub.log", prefix=["ip", "netns", "exec", netns["hub"]])
        try:
            hub.start(None)
            work = base / "laptop"
            work.mkdir()
            up = laptop(netns["laptop"], "wait", {"base": f"https://{HUB_IP}:8443"}, work)
            assert up["up_after_s"] is not None, f"hub not reachable from the laptop:\n{hub.log()}"
            assert printed in hub.log(200), "the hub's log does not show the same fingerprint"
            plain = laptop(netns["laptop"], "plain", {"host": HUB_IP, "port": 8443}, work)
            assert not plain["served"] and plain["status"] not in range(200, 400), plain
            spec = {"host": HUB_IP, "port": 8443, "fingerprint": printed, "workdir": str(work),
                    "student": student, "student_password": "laptop-secret-" + secrets.token_hex(3),
                    "teacher": TEACHER, "teacher_password": TEACHER_PW,
                    "exchange": str(exchange), "course": course, "assignment": "ps1"}
            t0 = time.monotonic()
            seen = laptop(netns["laptop"], "session", spec, work)
            session_s = time.monotonic() - t0
            assert seen["fingerprint"] == printed, (seen, printed)
            assert "sent to the admin" in seen["signup"] and not seen["login_before_approval"]
            assert seen["teacher_login"] and seen["approve_status"] in (301, 302)
            assert seen["login"] and seen["cookie_secure"], seen
            assert seen["lab_status"] == 200 and seen["lab_is_jupyterlab"], seen
            assert seen["lab_url"].startswith(f"https://{HUB_IP}:8443/user/{student}/lab"), seen
            uid = accounts.pwd.getpwnam(student).pw_uid
            assert seen["cell"] == {"status": "ok", "stdout": f"sum 42 {uid}\n"}, seen["cell"]
            out = seen["nbgrader"]["stdout"]
            assert seen["nbgrader"]["status"] == "ok", out
            assert "RC fetch_assignment 0" in out and "RC submit 0" in out, out
            # a hostile notebook, opened the way a teacher could try (issue #26.3): the hub never
            # hands the student's server to the teacher (no access:servers), so its image and
            # script never run in the teacher's browser
            hostile = seen["hostile"]
            assert hostile["written"] and hostile["student_sees_it"] and hostile["admin_page"] == 200, hostile
            assert hostile["still_approved"] and hostile["server_still_up"], hostile
            for key, got in hostile["teacher"].items():
                assert got["status"] == 403 and not got["marked"], (key, got)
            # the teacher's side: the submission is in the exchange's inbound, from this student
            inbound = list((exchange / course / "inbound").glob(f"{student}+ps1+*"))
            assert len(inbound) == 1, list((exchange / course / "inbound").iterdir())
            submitted = json.loads((inbound[0] / "ps1.ipynb").read_text())
            assert any("answer = 42  # my own answer" in "".join(c["source"])
                       for c in submitted["cells"]), "the submission lacks the student's answer"
            # every listening socket in the hub's namespace: only the HTTPS port is not loopback
            sockets = listening_sockets(["ip", "netns", "exec", netns["hub"]])
            wide = [s for s in sockets if s[0] not in ("127.0.0.1", "::1")]
            assert [(a, p) for a, p, _ in wide] == [("0.0.0.0", 8443)], sockets
            assert "node" in wide[0][2], wide        # configurable-http-proxy terminates TLS
            # the hub's API, the proxy's API and the student's server are there, on loopback
            local = {re.search(r'"([^"]+)"', proc).group(1) for a, _, proc in sockets
                     if a in ("127.0.0.1", "::1") and '"' in proc}
            assert {"jupyterhub", "node", "jupyterhub-sing"} <= local, sockets
            print(f"listening in the hub's namespace: {sorted(sockets)}")
            print(f"hub up after {up['up_after_s']:.1f} s; laptop session (sign-up, approval, "
                  f"login, server start {seen['server_ready_s']:.1f} s, lab, kernel cell, nbgrader "
                  f"fetch + submit) {session_s:.1f} s; whole test {time.monotonic() - t_start:.1f} s")
        except BaseException:
            print(hub.log(80), file=sys.stderr)
            raise
        finally:
            hub.stop()


def test_self_signed_certificate_is_made_once_and_its_fingerprint_is_openssls(tmp_path):
    """scripts/hub/tls.py: the certificate made on first start covers the address the students
    type, its private key is the hub's alone, a restart keeps it (same fingerprint), and the
    fingerprint printed is the one `openssl x509 -fingerprint -sha256` (and a browser) shows."""
    sys.path.insert(0, str(ROOT / "scripts" / "hub"))
    import tls
    from cryptography import x509
    env = {"SEQHUB_HOST": HUB_IP, "SEQHUB_PORT": "8443", "SEQHUB_STATE_DIR": str(tmp_path)}
    first = tls.prepare(env)
    assert first["new"] and first["cert"] == str(tmp_path / "tls-cert.pem") and not first["own"]
    assert (tmp_path / "tls-key.pem").stat().st_mode & 0o077 == 0
    cert = x509.load_pem_x509_certificate((tmp_path / "tls-cert.pem").read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert HUB_IP in {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    again = tls.prepare(env)
    assert not again["new"] and again["fingerprint"] == first["fingerprint"]
    if shutil.which("openssl"):
        out = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in",
                              first["cert"]], capture_output=True, text=True, check=True).stdout
        assert out.strip().split("=", 1)[1] == first["fingerprint"], out
    assert f"https://{HUB_IP}:8443/" in tls.banner(env) and first["fingerprint"] in tls.banner(env)
    # the teacher's own certificate is used as given; half of it, or a missing file, is an error
    own = tls.prepare({**env, "SEQHUB_CERT": first["cert"], "SEQHUB_KEY": first["key"]})
    assert own["own"] and own["cert"] == first["cert"] and not own["new"]
    for bad in ({"SEQHUB_CERT": first["cert"]}, {"SEQHUB_CERT": "/nonexistent.pem",
                                                 "SEQHUB_KEY": first["key"]}):
        with pytest.raises(ValueError):
            tls.settings({**env, **bad})
    # loopback without a certificate: plain HTTP, as before
    assert tls.prepare({"SEQHUB_STATE_DIR": str(tmp_path)})["cert"] is None
