"""Shared pieces of the class-hub tests (tests/test_hub_auth.py, test_hub_tls.py,
test_nbgitpuller.py): start the real hub (scripts/hub/jupyterhub_config.py) on free ports with its
own state folder, temporary system users, and a client that talks to it over real HTTP(S) the
way a browser and JupyterLab do (login form, sign-up form, hub REST API, the server's contents and
kernel REST API, kernel websocket). tests/hub_laptop.py runs the same client inside the
"student laptop" network namespace.
"""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HUB = ROOT / "scripts" / "hub"
VENV_BIN = ROOT / ".venv" / "bin"
CHP = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
IN_CI = bool(os.environ.get("CI"))
sys.path.insert(0, str(HUB))
import students as accounts  # noqa: E402  (scripts/hub/students.py)


def missing(reason: str):
    import pytest
    if IN_CI:
        pytest.fail(f"{reason} (CI must run the class-server tests)")
    pytest.skip(reason)


def need_hub(root: bool = True):
    if not (VENV_BIN / "jupyterhub").exists() or not CHP.exists():
        missing("hub packages not installed: run `make hub-install`")
    if root and os.geteuid() != 0:
        missing("this hub test creates temporary system users: run it as root")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hub_env(state: Path, **settings: str) -> dict:
    """The environment for a test hub: free ports, its own state folder, nothing inherited from a
    teacher's SEQHUB_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEQHUB_")}
    env.update(PATH=f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
               SEQHUB_STATE_DIR=str(state), SEQHUB_PORT=str(free_port()),
               SEQHUB_HUB_PORT=str(free_port()), SEQHUB_PROXY_API_PORT=str(free_port()),
               SEQHUB_ACTIVITY_INTERVAL="5")
    env.update({k: str(v) for k, v in settings.items()})
    return env


class Hub:
    """A running hub (a subprocess, possibly inside a network namespace)."""

    def __init__(self, env: dict, log: Path, prefix: list[str] | None = None):
        self.env, self.log_path, self.prefix = env, log, prefix or []
        self.proc: subprocess.Popen | None = None

    def start(self, base: str, verify=True, limit: float = 150) -> "Hub":
        import requests
        with open(self.log_path, "w") as fh:
            self.proc = subprocess.Popen(
                [*self.prefix, str(VENV_BIN / "jupyterhub"), "-f", str(HUB / "jupyterhub_config.py")],
                cwd=self.log_path.parent, env=self.env, stdout=fh, stderr=subprocess.STDOUT,
                start_new_session=True)
        http = requests.Session()
        http.trust_env = False
        t0 = time.monotonic()
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"the hub exited with {self.proc.returncode}:\n{self.log()}")
            if base is None:
                break
            try:
                if http.get(f"{base}/hub/health", timeout=5, verify=verify).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() - t0 > limit:
                raise AssertionError(f"the hub did not answer within {limit} s:\n{self.log()}")
            time.sleep(0.5)
        self.started_in = time.monotonic() - t0
        return self

    def log(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        accounts.stop_process_group(self.proc)


@contextmanager
def temp_users(count: int, base: Path):
    """`count` temporary system users (homes under base/home), removed afterwards."""
    prefix = "sqa" + secrets.token_hex(3)
    names = [f"{prefix}s{i}" for i in range(1, count + 1)]
    (base / "home").mkdir(mode=0o711, exist_ok=True)
    os.chmod(base, 0o711)
    os.chmod(base / "home", 0o711)
    made = []
    try:
        for name in names:
            made.append(name)
            accounts.create_user(name, base / "home" / name)
        yield names
    finally:
        left = [n for n in made if accounts.exists(n) and not accounts.remove_user(n)]
        assert not left, f"could not remove test users {left}"


@contextmanager
def temp_dir(prefix: str):
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        subprocess.run(["rm", "-rf", str(path)], check=False)


def _utf8_unless_declared(r, *args, **kwargs):
    if "charset=" not in r.headers.get("Content-Type", ""):
        r.encoding = "utf-8"
    return r


# ------------------------------------------------------------------------------------------
# the client: what a browser (login / sign-up forms) and JupyterLab (REST + websocket) send
# ------------------------------------------------------------------------------------------
class Client:
    def __init__(self, base: str, verify=True):
        import requests
        self.base, self.verify = base.rstrip("/"), verify
        # trust_env off: no proxy from the environment, and no REQUESTS_CA_BUNDLE replacing the
        # certificate this client was told to trust
        self.http = requests.Session()
        self.http.verify, self.http.trust_env = verify, False
        # the hub's pages declare UTF-8 in a <meta> tag, not in Content-Type: read them as the
        # browser does (requests would guess ISO-8859-1 and garble the Chinese)
        self.http.hooks["response"].append(_utf8_unless_declared)
        self.bare = requests.Session()          # token requests, without the login cookie
        self.bare.verify, self.bare.trust_env = verify, False
        self.name, self.token = "", ""

    def _form(self, path: str, data: dict, **kw):
        self.http.get(f"{self.base}/hub/login", timeout=30)       # the _xsrf cookie
        data = {**data, "_xsrf": self.http.cookies.get("_xsrf", "")}
        return self.http.post(f"{self.base}{path}", data=data, timeout=60, **kw)

    def login(self, name: str, password: str) -> bool:
        """The login form; True when the hub let us in (redirect plus a session cookie)."""
        self.http.cookies.clear()
        r = self._form("/hub/login?next=", {"username": name, "password": password},
                       allow_redirects=False)
        ok = r.status_code in (301, 302, 303) and any(
            c.name.startswith("jupyterhub-session") or c.name == "jupyterhub-hub-login"
            for c in self.http.cookies)
        if ok:
            self.name = name
        self.last_text = r.text
        self.last_status = r.status_code
        self.last_location = r.headers.get("Location", "")
        return ok

    def signup(self, name: str, password: str, confirm: str | None = None) -> str:
        """NativeAuthenticator's sign-up form; returns the page's message text."""
        r = self._form("/hub/signup", {"username": name, "signup_password": password,
                                       "signup_password_confirmation": confirm or password})
        assert r.status_code == 200, (r.status_code, r.text[:300])
        import re
        m = re.search(r'<div class="alert[^"]*"[^>]*>(.*?)</div>', r.text, re.S)
        return " ".join((m.group(1) if m else r.text).split())

    def get(self, path: str, **kw):
        return self.http.get(f"{self.base}{path}", timeout=kw.pop("timeout", 60), **kw)

    def get_token(self) -> str:
        r = self.http.post(f"{self.base}/hub/api/users/{self.name}/tokens", timeout=30,
                           headers={"X-XSRFToken": self.http.cookies.get("_xsrf", "")},
                           json={"note": "test", "expires_in": 3600})
        assert r.status_code in (200, 201), (r.status_code, r.text[:300])
        self.token = r.json()["token"]
        return self.token

    def api(self, method: str, path: str, **kw):
        headers = {"Authorization": f"token {self.token}", **kw.pop("headers", {})}
        return self.bare.request(method, f"{self.base}{path}", headers=headers,
                                 timeout=kw.pop("timeout", 60), **kw)

    def me(self) -> dict:
        r = self.api("GET", "/hub/api/user")
        r.raise_for_status()
        return r.json()

    def start_server(self, limit: float = 240) -> float:
        t0 = time.monotonic()
        r = self.api("POST", f"/hub/api/users/{self.name}/server")
        assert r.status_code in (201, 202, 400), (r.status_code, r.text[:300])
        while time.monotonic() - t0 < limit:
            r = self.api("GET", f"/hub/api/users/{self.name}")
            r.raise_for_status()
            server = r.json().get("servers", {}).get("")
            if server and server.get("ready"):
                return time.monotonic() - t0
            time.sleep(1)
        raise AssertionError(f"{self.name}'s server not ready after {limit:.0f} s")

    def server(self, method: str, path: str, **kw):
        return self.api(method, f"/user/{self.name}/api/{path}", **kw)

    def kernel(self, path: str = "probe.ipynb") -> "Kernel":
        r = self.server("POST", "sessions", json={"path": path, "type": "notebook", "name": path,
                                                  "kernel": {"name": "python3"}})
        assert r.status_code in (200, 201), (r.status_code, r.text[:300])
        s = r.json()
        return Kernel(self, s["id"], s["kernel"]["id"])


class Kernel:
    """A kernel on the student's server, driven over the Jupyter websocket protocol."""

    def __init__(self, client: Client, session_id: str, kernel_id: str):
        import websocket
        self.client, self.session_id, self.kernel_id = client, session_id, kernel_id
        url = (client.base.replace("https://", "wss://").replace("http://", "ws://")
               + f"/user/{client.name}/api/kernels/{kernel_id}/channels")
        sslopt = {}
        if url.startswith("wss://") and isinstance(client.verify, str):
            sslopt = {"ca_certs": client.verify}
        self.ws = websocket.create_connection(
            url, header=[f"Authorization: token {client.token}"], timeout=10, sslopt=sslopt,
            http_no_proxy=["*"])
        self.session = uuid.uuid4().hex

    def _send(self, msg_type: str, content: dict) -> str:
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": msg_type, "session": self.session,
                       "username": self.client.name, "version": "5.3",
                       "date": datetime.now(timezone.utc).isoformat()},
            "parent_header": {}, "metadata": {}, "content": content,
            "channel": "shell", "buffers": []}))
        return msg_id

    def run(self, code: str, limit: float = 180) -> tuple[dict, str]:
        """Execute code; returns (execute_reply content, stdout+stderr text)."""
        import websocket
        t0 = time.monotonic()
        while True:       # the kernel answers kernel_info once it is up
            msg_id = self._send("kernel_info_request", {})
            try:
                self._collect(msg_id, "kernel_info_reply", 15)
                break
            except TimeoutError:
                if time.monotonic() - t0 > limit:
                    raise
        msg_id = self._send("execute_request", {"code": code, "silent": False,
                                                "store_history": True, "user_expressions": {},
                                                "allow_stdin": False, "stop_on_error": True})
        return self._collect(msg_id, "execute_reply", limit)

    def _collect(self, msg_id: str, reply_type: str, limit: float):
        import websocket
        reply, idle, out, t0 = None, False, [], time.monotonic()
        while reply is None or not idle:
            if time.monotonic() - t0 > limit:
                raise TimeoutError(f"no {reply_type} after {limit:.0f} s")
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
            elif kind == "stream":
                out.append(msg["content"]["text"])
            elif kind == "error":
                out.append("\n".join(msg["content"].get("traceback", [])))
            elif kind == "status" and msg["content"].get("execution_state") == "idle":
                idle = True
        return reply, "".join(out)

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.client.server("DELETE", f"sessions/{self.session_id}", timeout=30)


def listening_sockets(prefix: list[str] | None = None) -> list[tuple[str, int, str]]:
    """(address, port, process) of every listening TCP socket, from `ss -ltnp` (in a namespace
    when prefix is ["ip", "netns", "exec", NAME])."""
    out = subprocess.run([*(prefix or []), "ss", "-Hltnp"], capture_output=True, text=True,
                         check=True).stdout
    rows = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 4:
            continue
        local = parts[3]
        addr, _, port = local.rpartition(":")
        proc = parts[5] if len(parts) > 5 else ""
        rows.append((addr.strip("[]"), int(port), proc))
    return rows
