"""Classroom load test: N simulated students on the course's JupyterHub, all at the same time.

    sudo .venv/bin/python scripts/hub/loadtest.py --students 4          (make loadtest STUDENTS=4)
    .venv/bin/python scripts/hub/loadtest.py --students 1,4 --timeout 1200

Run as root on a machine with the hub packages (make hub-install). What it does, and undoes:
1. creates N temporary system users (names `sqh<random>sNN`, homes in a fresh temporary folder,
   marked in their comment field) plus one more who stays idle, and starts JupyterHub
   (scripts/hub/jupyterhub_config.py) on 127.0.0.1 at a free port, with a random shared password
   and a 60-second idle cull timeout;
2. checks that a wrong password is refused, then logs every student in through the login form
   and asks the hub's REST API for a token and a server;
3. checks isolation: a student's token does not open another student's server, and code run in
   one student's kernel cannot read or list another student's home;
4. for each student count in --students (e.g. 1,4): every student, at the same time, uploads the
   notebooks (default 04_bptt and 05_lstm) to their server and runs every code cell through the
   server's kernel REST + websocket API, as JupyterLab would (and polls the kernel like JupyterLab
   does). In the largest round student 1 also leaves a cell running in another kernel, restarts
   that kernel mid-way and runs the first notebook twice: the others must not notice;
5. checks that the idle student's server (tab closed) was culled, while the working students'
   (tab open: polled every 10 s like JupyterLab does) were not;
   Every listening socket of the hub, proxy and students' servers is checked to be on 127.0.0.1.
6. prints time-to-finish against the number of students, and the memory high-water marks;
7. stops the hub and every process of the test users, removes the users, their homes and the
   temporary folder, also after a failure, a timeout (--timeout, default 1200 s) or SIGTERM.
Exit status 0 only when everything above held. Only loopback addresses are used.
"""
from __future__ import annotations

import argparse
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import students as accounts  # noqa: E402  (scripts/hub/students.py)

VENV_BIN = ROOT / ".venv" / "bin"
CULL_TIMEOUT = 60          # seconds; the real hub uses 3600
CULL_EVERY = 5
ACTIVITY_INTERVAL = 5
POLL_EVERY = 10            # JupyterLab polls its kernels and sessions about this often


class LoadTestError(Exception):
    pass


class Deadline(Exception):
    pass


def log(msg: str) -> None:
    print(f"[loadtest {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------------------
# memory: every process of the test users (servers and kernels), and the hub with its proxy
# ------------------------------------------------------------------------------------------
class MemoryMeter:
    def __init__(self, uids: set[int], hub_pid: int | None = None, interval: float = 0.5):
        import psutil
        self.psutil, self.uids, self.hub_pid, self.interval = psutil, uids, hub_pid, interval
        self.peak_students = 0          # bytes, sum of RSS of all test users' processes
        self.peak_hub = 0               # bytes, hub + proxy + culler (the root-owned hub tree)
        self.peak_kernel = 0            # bytes, the largest single kernel seen (its VmHWM)
        self.peak_server = 0            # bytes, the largest single-user server (JupyterLab)
        self.peak_server_uss = 0        # bytes, its private part (USS)
        mem = psutil.virtual_memory()
        self.base_used = mem.total - mem.available
        self.peak_used = self.base_used  # machine-wide, other programs included
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)

    def reset(self):
        self.peak_students = 0
        mem = self.psutil.virtual_memory()
        self.base_used = self.peak_used = mem.total - mem.available

    def _loop(self):
        while not self._stop.wait(self.interval):
            try:
                self.sample()
            except Exception:  # a process that vanished mid-sample; try again next time
                pass

    def sample(self):
        ps = self.psutil
        total = 0
        for proc in ps.process_iter(["uids", "memory_info", "cmdline"]):
            info = proc.info
            if not info["uids"] or info["uids"].real not in self.uids or not info["memory_info"]:
                continue
            total += info["memory_info"].rss
            if info["cmdline"] and "jupyterhub-singleuser" in " ".join(info["cmdline"]):
                self.peak_server = max(self.peak_server, info["memory_info"].rss)
                try:
                    self.peak_server_uss = max(self.peak_server_uss, proc.memory_full_info().uss)
                except ps.Error:
                    pass
            if info["cmdline"] and "ipykernel_launcher" in " ".join(info["cmdline"]):
                try:
                    for line in open(f"/proc/{proc.pid}/status"):
                        if line.startswith("VmHWM:"):
                            self.peak_kernel = max(self.peak_kernel, int(line.split()[1]) * 1024)
                except OSError:
                    pass
        self.peak_students = max(self.peak_students, total)
        if self.hub_pid:
            try:
                hub = ps.Process(self.hub_pid)
                tree = [hub] + [p for p in hub.children(recursive=True) if p.uids().real == 0]
                self.peak_hub = max(self.peak_hub, sum(p.memory_info().rss for p in tree))
            except ps.Error:
                pass
        mem = ps.virtual_memory()
        self.peak_used = max(self.peak_used, mem.total - mem.available)


# ------------------------------------------------------------------------------------------
# one simulated student: login form, hub API, contents API, kernels over websocket
# ------------------------------------------------------------------------------------------
class Student:
    def __init__(self, name: str, base_url: str, deadline: float):
        import requests
        self.name, self.base, self.deadline = name, base_url, deadline
        self.http = requests.Session()
        self.token = ""
        self.errors: list[str] = []

    # -- hub ---------------------------------------------------------------------------------
    def login(self, password: str) -> bool:
        """Log in through the hub's login form; True when the hub let us in."""
        self.http.get(f"{self.base}/hub/login", timeout=30)
        xsrf = self.http.cookies.get("_xsrf", "")
        r = self.http.post(f"{self.base}/hub/login?next=", allow_redirects=False, timeout=60,
                           data={"username": self.name, "password": password, "_xsrf": xsrf})
        return r.status_code in (301, 302, 303) and any(
            c.name.startswith("jupyterhub-session") or c.name == "jupyterhub-hub-login"
            for c in self.http.cookies)

    def get_token(self) -> None:
        """With the login cookie, ask the hub's API for an API token of our own."""
        r = self.http.post(f"{self.base}/hub/api/users/{self.name}/tokens", timeout=30,
                           headers={"X-XSRFToken": self.http.cookies.get("_xsrf", "")},
                           json={"note": "loadtest", "expires_in": 3600})
        if r.status_code not in (200, 201):
            raise LoadTestError(f"{self.name}: token request gave {r.status_code}: {r.text[:200]}")
        self.token = r.json()["token"]

    def api(self, method: str, path: str, **kw):
        """A request with our token, to the hub (/hub/api/...) or to our server (/user/...)."""
        import requests
        headers = {"Authorization": f"token {self.token}", **kw.pop("headers", {})}
        return requests.request(method, f"{self.base}{path}", headers=headers,
                                timeout=kw.pop("timeout", 60), **kw)

    def start_server(self) -> None:
        r = self.api("POST", f"/hub/api/users/{self.name}/server")
        if r.status_code not in (201, 202, 400):   # 400: already running
            raise LoadTestError(f"{self.name}: start server gave {r.status_code}: {r.text[:200]}")

    def server_state(self) -> dict | None:
        r = self.api("GET", f"/hub/api/users/{self.name}")
        r.raise_for_status()
        return r.json().get("servers", {}).get("")

    def wait_ready(self, limit: float = 240) -> float:
        t0 = time.monotonic()
        while time.monotonic() - t0 < limit:
            self.check_deadline()
            server = self.server_state()
            if server and server.get("ready"):
                return time.monotonic() - t0
            time.sleep(1)
        raise LoadTestError(f"{self.name}: server not ready after {limit:.0f} s")

    def keep_tab_open(self, stop: threading.Event) -> None:
        """Poll the server as an open JupyterLab tab does (it lists kernels and sessions every
        few seconds); the server counts that as activity, so the culler leaves it alone."""
        def poll():
            while not stop.wait(POLL_EVERY):
                try:
                    self.server("GET", "kernels", timeout=30)
                except Exception:
                    pass
        threading.Thread(target=poll, daemon=True).start()

    def check_deadline(self):
        if time.monotonic() > self.deadline:
            raise Deadline(f"{self.name}: hard timeout reached")

    # -- the student's server ----------------------------------------------------------------
    def server(self, method: str, path: str, **kw):
        return self.api(method, f"/user/{self.name}/api/{path}", **kw)

    def upload(self, name: str, nb: dict | None = None, text: str | None = None) -> None:
        body = ({"type": "notebook", "format": "json", "content": nb} if nb is not None
                else {"type": "file", "format": "text", "content": text})
        r = self.server("PUT", f"contents/{name}", json=body)
        if r.status_code not in (200, 201):
            raise LoadTestError(f"{self.name}: upload {name} gave {r.status_code}: {r.text[:200]}")

    def open_kernel(self, path: str) -> "Kernel":
        r = self.server("POST", "sessions", json={"path": path, "type": "notebook", "name": path,
                                                  "kernel": {"name": "python3"}})
        if r.status_code not in (200, 201):
            raise LoadTestError(f"{self.name}: new session gave {r.status_code}: {r.text[:200]}")
        session = r.json()
        return Kernel(self, session["id"], session["kernel"]["id"])

    def run_notebook(self, path: str, nb: dict, keep_going: bool = False) -> float:
        """Run every code cell in a fresh kernel, as Run All would; returns the seconds taken.

        A failing cell raises LoadTestError; with keep_going the run goes on to the last cell
        and the failures are collected in self.errors instead."""
        t0 = time.monotonic()
        kernel = self.open_kernel(path)
        try:
            kernel.wait_ready()
            for index, cell in enumerate(nb["cells"]):
                if cell["cell_type"] != "code":
                    continue
                source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                if not source.strip():
                    continue
                reply = kernel.execute(source)
                tags = cell.get("metadata", {}).get("tags", [])
                if reply["status"] != "ok" and "raises-exception" not in tags:
                    error = (f"{self.name}: {path} cell {index} failed: "
                             f"{reply.get('ename')}: {str(reply.get('evalue'))[:200]}")
                    if not keep_going:
                        raise LoadTestError(error)
                    self.errors.append(error)
        finally:
            kernel.shutdown()
        return time.monotonic() - t0


class Kernel:
    """A kernel on a student's server, driven over the Jupyter websocket protocol (JSON frames)."""

    def __init__(self, student: Student, session_id: str, kernel_id: str):
        import websocket
        self.student, self.session_id, self.kernel_id = student, session_id, kernel_id
        url = (student.base.replace("http://", "ws://")
               + f"/user/{student.name}/api/kernels/{kernel_id}/channels")
        self.ws = websocket.create_connection(
            url, header=[f"Authorization: token {student.token}"], timeout=POLL_EVERY)
        self.session = uuid.uuid4().hex

    def _send(self, msg_type: str, content: dict, channel: str = "shell") -> str:
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": msg_type, "session": self.session,
                       "username": self.student.name, "version": "5.3",
                       "date": datetime.now(timezone.utc).isoformat()},
            "parent_header": {}, "metadata": {}, "content": content,
            "channel": channel, "buffers": []}))
        return msg_id

    def _wait(self, msg_id: str, reply_type: str, limit: float = 900) -> dict:
        """Wait for the reply to msg_id and the kernel's idle status after it; return the reply."""
        import websocket
        reply, idle, t0, last_poll = None, False, time.monotonic(), time.monotonic()
        while reply is None or not idle:
            self.student.check_deadline()
            if time.monotonic() - t0 > limit:
                raise LoadTestError(f"{self.student.name}: no {reply_type} after {limit:.0f} s")
            if time.monotonic() - last_poll > POLL_EVERY:   # what an open JupyterLab tab does
                self.student.server("GET", f"kernels/{self.kernel_id}")
                last_poll = time.monotonic()
            try:
                frame = self.ws.recv()
            except websocket.WebSocketTimeoutException:
                continue
            if not frame or isinstance(frame, bytes):
                continue
            msg = json.loads(frame)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg.get("msg_type") or msg["header"]["msg_type"]
            if kind == reply_type:
                reply = msg["content"]
            elif kind == "status" and msg["content"].get("execution_state") == "idle":
                idle = True
        return reply

    def wait_ready(self, limit: float = 240) -> None:
        t0 = time.monotonic()
        while True:
            msg_id = self._send("kernel_info_request", {})
            try:
                self._wait(msg_id, "kernel_info_reply", limit=15)
                return
            except LoadTestError:
                if time.monotonic() - t0 > limit:
                    raise LoadTestError(f"{self.student.name}: kernel not ready after {limit:.0f} s")

    def execute(self, code: str, limit: float = 900) -> dict:
        msg_id = self._send("execute_request", {"code": code, "silent": False, "store_history": True,
                                                "user_expressions": {}, "allow_stdin": False,
                                                "stop_on_error": True})
        return self._wait(msg_id, "execute_reply", limit=limit)

    def output_of(self, code: str, limit: float = 120) -> str:
        """Run code and return its stdout text."""
        import websocket
        msg_id = self._send("execute_request", {"code": code, "silent": False, "store_history": False,
                                                "user_expressions": {}, "allow_stdin": False,
                                                "stop_on_error": True})
        out, done, t0 = [], False, time.monotonic()
        while not done:
            if time.monotonic() - t0 > limit:
                raise LoadTestError(f"{self.student.name}: no output after {limit:.0f} s")
            try:
                msg = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg.get("msg_type") or msg["header"]["msg_type"]
            if kind == "stream":
                out.append(msg["content"]["text"])
            elif kind == "status" and msg["content"].get("execution_state") == "idle":
                done = True
        return "".join(out)

    def send_execute_nowait(self, code: str) -> None:
        self._send("execute_request", {"code": code, "silent": False, "store_history": False,
                                       "user_expressions": {}, "allow_stdin": False,
                                       "stop_on_error": True})

    def restart(self) -> None:
        r = self.student.server("POST", f"kernels/{self.kernel_id}/restart")
        if r.status_code != 200:
            raise LoadTestError(f"{self.student.name}: restart gave {r.status_code}")

    def shutdown(self) -> None:
        try:
            self.ws.close()
        except Exception:
            pass
        try:
            self.student.server("DELETE", f"sessions/{self.session_id}", timeout=30)
        except Exception:
            pass


# ------------------------------------------------------------------------------------------
# the run
# ------------------------------------------------------------------------------------------
class LoadTest:
    def __init__(self, counts: list[int], notebooks: list[Path], timeout: float, prefix: str,
                 keep_going: bool = False):
        self.counts, self.notebooks, self.timeout = counts, notebooks, timeout
        self.keep_going = keep_going
        self.cell_errors: list[str] = []
        self.prefix = prefix
        self.deadline = time.monotonic() + timeout
        self.n = max(counts)
        self.names = [f"{prefix}s{i:02d}" for i in range(1, self.n + 1)]
        self.idle_name = f"{prefix}idle"
        self.created: list[str] = []
        self.base_dir: Path | None = None
        self.hub: subprocess.Popen | None = None
        self.hub_log: Path | None = None
        self.chmodded: list[tuple[Path, int]] = []
        self.meter: MemoryMeter | None = None
        self.rows: list[dict] = []
        self.tabs_closed = threading.Event()

    # -- set-up ------------------------------------------------------------------------------
    def preflight(self) -> None:
        if os.geteuid() != 0:
            raise LoadTestError("run as root: the test creates temporary system users")
        for tool in ("useradd", "userdel"):
            if not shutil.which(tool):
                raise LoadTestError(f"{tool} is missing")
        for path in (VENV_BIN / "jupyterhub", VENV_BIN / "jupyterhub-singleuser",
                     ROOT / "node_modules" / ".bin" / "configurable-http-proxy"):
            if not path.exists():
                raise LoadTestError(f"{path} is missing: run `make hub-install`")
        # students run .venv/bin/python (its real interpreter and stdlib) and import helpers from
        # the repository: every folder on the way must let other users pass (x). Where one does
        # not (e.g. Python built by pyenv under /root), grant o+x for the test, restored after
        # the last hub test on this machine ends (students.other_x_granted: the other hub tests,
        # tests/test_hub_tls.py etc., may run at the same time and need it too).
        self._other_x = accounts.other_x_granted(log)
        self._other_x.__enter__()
        probe = ROOT / "helpers" / "__init__.py"
        if not probe.stat().st_mode & stat.S_IROTH:
            raise LoadTestError(f"{probe} is not readable by other users (umask?); the students' "
                                "kernels could not import the course's helpers")

    def _ensure_other_x(self, folder: Path) -> None:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            os.chmod(folder, stat.S_IMODE(mode) | stat.S_IXOTH)
            self.chmodded.append((folder, stat.S_IMODE(mode)))
            log(f"granted o+x on {folder} for the test (restored afterwards)")

    def create_users(self) -> None:
        self.base_dir = Path(tempfile.mkdtemp(prefix="seqhub-loadtest-"))
        os.chmod(self.base_dir, 0o711)
        (self.base_dir / "home").mkdir(mode=0o711)
        os.chmod(self.base_dir / "home", 0o711)
        for name in self.names + [self.idle_name]:
            if accounts.exists(name):
                raise LoadTestError(f"user {name} exists already; refusing to touch it")
        for name in self.names + [self.idle_name]:
            self.created.append(name)            # before useradd: cleaned up even if it half-fails
            accounts.create_user(name, self.base_dir / "home" / name)
        log(f"created {len(self.created)} temporary users under {self.base_dir / 'home'}")

    def start_hub(self) -> str:
        port = free_port()
        self.password = secrets.token_urlsafe(18)
        state = self.base_dir / "state"
        env = {**os.environ,
               "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
               "SEQHUB_PASSWORD": self.password,
               "SEQHUB_USERS": ",".join(self.names + [self.idle_name]),
               "SEQHUB_PORT": str(port), "SEQHUB_HUB_PORT": str(free_port()),
               "SEQHUB_PROXY_API_PORT": str(free_port()), "SEQHUB_STATE_DIR": str(state),
               "SEQHUB_CULL_TIMEOUT": str(CULL_TIMEOUT), "SEQHUB_CULL_EVERY": str(CULL_EVERY),
               "SEQHUB_ACTIVITY_INTERVAL": str(ACTIVITY_INTERVAL)}
        env.pop("SEQHUB_ADMIN_USER", None)
        self.hub_log = self.base_dir / "hub.log"
        with open(self.hub_log, "w") as fh:
            self.hub = subprocess.Popen(
                [str(VENV_BIN / "jupyterhub"), "-f", str(ROOT / "scripts/hub/jupyterhub_config.py")],
                cwd=self.base_dir, env=env, stdout=fh, stderr=subprocess.STDOUT,
                start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        import requests
        t0 = time.monotonic()
        while True:
            if self.hub.poll() is not None:
                raise LoadTestError(f"the hub exited with {self.hub.returncode}")
            try:
                if requests.get(f"{base}/hub/health", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() - t0 > 120:
                raise LoadTestError("the hub did not answer within 120 s")
            time.sleep(0.5)
        log(f"hub up on {base} after {time.monotonic() - t0:.1f} s")
        return base

    # -- checks ------------------------------------------------------------------------------
    def check_wrong_password(self, base: str) -> None:
        intruder = Student(self.names[0], base, self.deadline)
        if intruder.login(self.password + "x"):
            raise LoadTestError("the hub accepted a wrong password")
        if Student(f"{self.prefix}nobody", base, self.deadline).login(self.password):
            raise LoadTestError("the hub let in a user who is not on the class list")
        log("wrong password refused; a name not on the class list refused")

    def check_isolation(self, a: Student, b: Student) -> None:
        """a must not reach b's server nor b's files."""
        b.upload("secret.txt", text="only for " + b.name)
        r = a.api("GET", f"/user/{b.name}/api/contents/secret.txt", allow_redirects=False)
        if r.status_code == 200 or "only for" in r.text:
            raise LoadTestError(f"{a.name}'s token read {b.name}'s file through {b.name}'s server")
        home_b = pwd.getpwnam(b.name).pw_dir
        kernel = a.open_kernel("probe.ipynb")
        try:
            kernel.wait_ready()
            out = kernel.output_of(
                "import os\n"
                "for f in (lambda: open(%r).read(), lambda: os.listdir(%r)):\n"
                "    try:\n        print('READ', f())\n"
                "    except PermissionError:\n        print('DENIED')\n"
                "print('HOME', os.path.expanduser('~'), os.getuid())\n"
                % (f"{home_b}/secret.txt", home_b))
        finally:
            kernel.shutdown()
        if "READ" in out or out.count("DENIED") != 2:
            raise LoadTestError(f"{a.name}'s kernel could read {b.name}'s home: {out!r}")
        if str(pwd.getpwnam(a.name).pw_uid) not in out:
            raise LoadTestError(f"{a.name}'s kernel does not run as {a.name}: {out!r}")
        log(f"isolation: {a.name} got HTTP {r.status_code} on {b.name}'s server and "
            f"PermissionError on {b.name}'s home (kernel runs as uid {pwd.getpwnam(a.name).pw_uid})")

    def check_loopback_only(self, uids: set[int]) -> None:
        """Every listening socket of the hub, its proxy and culler, and the students' servers and
        kernels is on 127.0.0.1."""
        import psutil
        hub = psutil.Process(self.hub.pid)
        pids = {hub.pid} | {p.pid for p in hub.children(recursive=True)}
        pids |= {p.pid for p in psutil.process_iter(["uids"])
                 if p.info["uids"] and p.info["uids"].real in uids}
        listening = [c for c in psutil.net_connections(kind="inet")
                     if c.status == psutil.CONN_LISTEN and c.pid in pids]
        wide = [f"{c.laddr.ip}:{c.laddr.port} (pid {c.pid})" for c in listening
                if c.laddr.ip != "127.0.0.1"]
        if wide:
            raise LoadTestError(f"listening beyond 127.0.0.1: {wide}")
        log(f"all {len(listening)} listening sockets of the hub, proxy and students' servers are "
            "on 127.0.0.1")

    # -- one round of k students -------------------------------------------------------------
    def round(self, students: list[Student], restless: bool) -> dict:
        nbs = [(p.name, json.loads(p.read_text(encoding="utf-8"))) for p in self.notebooks]
        results: dict[str, object] = {}

        def work(i: int, s: Student):
            try:
                times = {}
                for name, nb in nbs:
                    s.upload(name, nb=nb)
                lingering = None
                if restless and i == 0:
                    # a "training cell" left running in another notebook's kernel
                    lingering = s.open_kernel("left_running.ipynb")
                    lingering.wait_ready()
                    lingering.send_execute_nowait(
                        "import time\nfor step in range(10**6):\n    time.sleep(0.2)\n")
                for j, (name, nb) in enumerate(nbs):
                    times[name] = s.run_notebook(name, nb, self.keep_going)
                    if lingering is not None and j == 0:
                        lingering.restart()               # restart a kernel whose cell still runs
                        times[name + " (again)"] = s.run_notebook(name, nb, self.keep_going)
                if lingering is not None:
                    lingering.shutdown()
                results[s.name] = times
            except Exception as exc:  # reported below; the other students go on
                results[s.name] = exc

        if self.meter:
            self.meter.reset()
        for s in students:
            s.errors.clear()
        t0 = time.monotonic()
        threads = [threading.Thread(target=work, args=(i, s), daemon=True)
                   for i, s in enumerate(students)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(1.0, self.deadline - time.monotonic()))
        wall = time.monotonic() - t0
        if any(t.is_alive() for t in threads):
            raise Deadline(f"round with {len(students)} students passed the hard timeout")
        failures = {k: v for k, v in results.items() if isinstance(v, BaseException)}
        if failures:
            raise LoadTestError("; ".join(f"{v}" for v in failures.values()))
        errors = [e for s in students for e in s.errors]
        self.cell_errors += errors
        per = [t for v in results.values() for t in v.values()]
        row = {"students": len(students), "wall_s": wall,
               "slowest_notebook_s": max(per), "fastest_notebook_s": min(per),
               "peak_students_mb": self.meter.peak_students / 2**20 if self.meter else None,
               "peak_used_mb": (self.meter.peak_used - self.meter.base_used) / 2**20 if self.meter else None,
               "restless": restless, "cell_errors": len(errors)}
        log(f"{len(students)} students finished {', '.join(n for n, _ in nbs)} in {wall:.1f} s"
            + (" (student 1 also restarted a busy kernel and ran the first notebook twice)"
               if restless else ""))
        return row

    # -- everything --------------------------------------------------------------------------
    def run(self) -> int:
        t_start = time.monotonic()
        self.preflight()
        self.create_users()
        base = self.start_hub()
        uids = {pwd.getpwnam(n).pw_uid for n in self.created}
        self.meter = MemoryMeter(uids, self.hub.pid).start()
        self.check_wrong_password(base)
        everyone = [Student(n, base, self.deadline) for n in self.names]
        idle = Student(self.idle_name, base, self.deadline)
        for s in everyone + [idle]:
            if not s.login(self.password):
                raise LoadTestError(f"{s.name} could not log in with the shared password")
            s.get_token()
        log(f"{len(everyone) + 1} students logged in through the login form and got API tokens")
        t0 = time.monotonic()
        for s in [idle] + everyone:
            s.start_server()
        for s in [idle] + everyone:
            s.wait_ready()
        idle_started = time.monotonic()
        log(f"{len(everyone) + 1} servers ready {time.monotonic() - t0:.1f} s after asking")
        # the working students keep their JupyterLab tab open; the idle one closed it
        self.tabs_closed = threading.Event()
        for s in everyone:
            s.keep_tab_open(self.tabs_closed)
        culled_at: list[float] = []

        def watch_idle():                 # when does the culler stop the idle student's server?
            while not self.tabs_closed.wait(2):
                try:
                    if not idle.server_state():
                        culled_at.append(time.monotonic())
                        return
                except Exception:
                    pass
        threading.Thread(target=watch_idle, daemon=True).start()
        self.check_loopback_only(uids)
        if len(everyone) >= 2:
            self.check_isolation(everyone[0], everyone[1])
            self.check_isolation(everyone[1], everyone[0])
        for k in self.counts:
            # (a server the culler stopped anyway is started again, as a student would by
            # reopening the hub's page)
            asleep = [s for s in everyone[:k] if not (s.server_state() or {}).get("ready")]
            for s in asleep:
                s.start_server()
            for s in asleep:
                s.wait_ready()
            if asleep:
                log(f"{len(asleep)} students whose idle servers had been culled started them again")
            self.rows.append(self.round(everyone[:k], restless=(k == self.n and k >= 2)))
        # the working students' servers must still be up; the idle one must be culled
        for s in everyone[:self.n]:
            if not (s.server_state() or {}).get("ready"):
                raise LoadTestError(f"{s.name}'s server is gone although the student was working")
        limit = CULL_TIMEOUT + 4 * max(CULL_EVERY, ACTIVITY_INTERVAL) + 60
        while not culled_at:
            idle.check_deadline()
            if time.monotonic() - idle_started > limit:
                raise LoadTestError(f"the idle student's server was not culled within {limit} s "
                                    f"(cull timeout {CULL_TIMEOUT} s)")
            time.sleep(2)
        culled_after = culled_at[0] - idle_started
        log(f"idle culler: the idle student's server was stopped {culled_after:.0f} s after it was "
            f"ready (cull timeout {CULL_TIMEOUT} s, checked every {CULL_EVERY} s); the "
            f"{len(everyone[:self.n])} working students' servers were not")
        self.meter.stop()
        self.report(time.monotonic() - t_start)
        if self.cell_errors:
            log(f"FAILED: {len(self.cell_errors)} notebook cells failed (--keep-going ran on):\n  "
                + "\n  ".join(dict.fromkeys(self.cell_errors)))
            return 1
        return 0

    def report(self, total: float) -> None:
        m = self.meter
        print()
        print("classroom load test (notebooks: " + ", ".join(p.name for p in self.notebooks)
              + f"; {os.cpu_count()} CPU cores; every student at the same time)")
        print(f"{'students':>8}  {'time to finish (s)':>18}  {'slowest Run All (s)':>19}  "
              f"{'students RSS peak (MB)':>22}")
        for r in self.rows:
            print(f"{r['students']:>8}  {r['wall_s']:>18.1f}  {r['slowest_notebook_s']:>19.1f}  "
                  f"{r['peak_students_mb']:>22.0f}"
                  + ("  (one restarts a busy kernel and runs the first notebook twice)"
                     if r["restless"] else "")
                  + (f"  {r['cell_errors']} FAILED CELLS" if r["cell_errors"] else ""))
        print("students RSS peak: summed resident memory of every test user's processes (all "
              f"{len(self.created)} servers, idle ones too, and the running kernels); shared "
              "library pages count once per process, so this errs on the high side")
        print(f"memory high-water marks: all students' processes {max(r['peak_students_mb'] for r in self.rows):.0f} MB "
              f"(servers + kernels), largest single kernel {m.peak_kernel / 2**20:.0f} MB, "
              f"largest single-user server {m.peak_server / 2**20:.0f} MB "
              f"({m.peak_server_uss / 2**20:.0f} MB private), "
              f"hub + proxy + culler {m.peak_hub / 2**20:.0f} MB")
        print(f"load test wall time {total:.0f} s (hub start, logins, spawns, checks and rounds)")
        out = ROOT / "artifacts" / "hub-loadtest.json"
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps({"rows": self.rows, "peak_kernel_mb": m.peak_kernel / 2**20,
                                       "peak_hub_mb": m.peak_hub / 2**20, "total_s": total,
                                       "peak_server_mb": m.peak_server / 2**20,
                                       "peak_server_private_mb": m.peak_server_uss / 2**20,
                                       "cpus": os.cpu_count()}, indent=1))
        except OSError:
            pass

    # -- undo everything ---------------------------------------------------------------------
    def cleanup(self) -> None:
        self.tabs_closed.set()
        if self.meter:
            self.meter.stop()
        accounts.stop_process_group(self.hub)   # the hub stops the students' servers
        left = []
        for name in self.created:
            if accounts.exists(name) and not accounts.remove_user(name):
                left.append(name)
        uids_gone = not left
        # temporary files a student left in the shared /tmp (the hub gives each a private TMPDIR,
        # but a program may still write to /tmp directly)
        if self.base_dir and self.base_dir.exists():
            shutil.rmtree(self.base_dir, ignore_errors=True)
        if getattr(self, "_other_x", None) is not None:
            self._other_x.__exit__(None, None, None)
            self._other_x = None
        for folder, mode in reversed(self.chmodded):   # any opened outside that (callers' own)
            try:
                os.chmod(folder, mode)
            except OSError:
                pass
        if left:
            log(f"COULD NOT REMOVE users {left}: remove them by hand (userdel -r NAME)")
        else:
            log(f"cleaned up: hub stopped, {len(self.created)} users and their homes removed"
                + (f", {self.base_dir} removed" if self.base_dir else ""))
        if not uids_gone:
            raise LoadTestError("cleanup incomplete")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", default="4",
                        help="students at the same time; a list such as 1,4 runs one round each")
    parser.add_argument("--notebooks", nargs="+",
                        default=["notebooks/04_bptt.ipynb", "notebooks/05_lstm.ipynb"])
    parser.add_argument("--timeout", type=float, default=1200, help="hard limit for everything (s)")
    parser.add_argument("--prefix", default="",
                        help="user name prefix (default sqh + random letters)")
    parser.add_argument("--show-hub-log", action="store_true", help="print the hub's log at the end")
    parser.add_argument("--keep-going", action="store_true",
                        help="run every cell even after a failing one (to measure a broken "
                             "notebook); the run still fails")
    args = parser.parse_args(argv)
    counts = sorted({int(x) for x in args.students.replace(",", " ").split()})
    if not counts or counts[0] < 1:
        parser.error("--students needs positive numbers")
    prefix = args.prefix or "sqh" + secrets.token_hex(3)
    notebooks = [(ROOT / p).resolve() if not Path(p).is_absolute() else Path(p) for p in args.notebooks]
    test = LoadTest(counts, notebooks, args.timeout, prefix, args.keep_going)

    def on_signal(signum, _frame):
        raise SystemExit(f"loadtest: stopped by signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    timer = threading.Timer(args.timeout + 30, lambda: os.kill(os.getpid(), signal.SIGTERM))
    timer.daemon = True
    timer.start()
    rc = 1
    try:
        rc = test.run()
    except (LoadTestError, Deadline) as exc:
        log(f"FAILED: {exc}")
    except SystemExit as exc:
        log(f"FAILED: {exc}")
    finally:
        timer.cancel()
        signal.signal(signal.SIGTERM, signal.SIG_IGN)   # let the cleanup finish
        if rc != 0 or args.show_hub_log:
            if test.hub_log and test.hub_log.exists():
                tail = test.hub_log.read_text(errors="replace").splitlines()[-60:]
                print("---- hub log (last 60 lines) ----\n" + "\n".join(tail), flush=True)
        try:
            test.cleanup()
        except LoadTestError as exc:
            log(f"FAILED: {exc}")
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
