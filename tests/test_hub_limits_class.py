"""Per-student limits on the real class hub (scripts/hub/limits.py), with three students at once:
one asks for more memory than the ceiling, one starts processes past the process ceiling, one
keeps both cores busy; a classmate's trivial cell stays fast and the hub answers throughout.
After each server stops, no process of that student is alive and none of their files remains in
/tmp, /var/tmp or /dev/shm. Runs as root (temporary system users), on 127.0.0.1 only.
"""
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

import pytest

from hubtools import ROOT, Client, Hub, accounts, hub_env, need_hub, temp_dir, temp_users

sys.path.insert(0, str(ROOT / "scripts" / "hub"))
import limits as L  # noqa: E402

MEM, PIDS = "1G", 96


def _timed(kernel, code="1 + 1", n=7):
    """Median seconds of ``n`` round trips of ``code`` (through the proxy, the server, the kernel)."""
    times = []
    for _ in range(n):
        t0 = time.monotonic()
        reply, _ = kernel.run(code, limit=60)
        assert reply["status"] == "ok", reply
        times.append(time.monotonic() - t0)
    return statistics.median(times)


def test_three_students_at_their_limits(capsys):
    need_hub()
    t_start = time.monotonic()
    password = "limits-" + secrets.token_hex(6)
    with temp_dir("seqhub-limits-") as base, temp_users(3, base) as names, accounts.other_x_granted():
        env = hub_env(base / "state", SEQHUB_USERS=",".join(names), SEQHUB_PASSWORD=password,
                      SEQHUB_MEM_LIMIT=MEM, SEQHUB_PIDS_LIMIT=str(PIDS), SEQHUB_CPU_LIMIT="1")
        url = f"http://127.0.0.1:{env['SEQHUB_PORT']}"
        hub = Hub(env, base / "hub.log")
        try:
            hub.start(url)
            assert f"per student {MEM} memory, 1 CPU, {PIDS} processes" in hub.log(200), hub.log()
            clients = []
            for name in names:
                c = Client(url)
                assert c.login(name, password), f"{name} could not log in"
                c.get_token()
                clients.append(c)
            for c in clients:
                c.start_server()
            big, forks, busy = [c.kernel(f"limits{i}.ipynb") for i, c in enumerate(clients)]
            uids = {c.name: accounts.pwd.getpwnam(c.name).pw_uid for c in clients}

            # the classmate's baseline: `1 + 1` on an otherwise idle class
            base_s = _timed(big)

            # 1. memory: an allocation past the ceiling fails in the kernel with a message naming
            #    the limit; the kernel, the classmates and the hub go on
            reply, out = big.run("import numpy as np\nx = np.ones(400_000_000)")   # 3.2 GB
            assert reply["status"] == "error" and "【内存上限】" in out and MEM in out, out
            assert big.run("print(1 + 1)")[1].strip() == "2"                       # the same kernel
            assert _timed(forks) < 2 * base_s + 0.05
            assert Client(url).get("/hub/health").status_code == 200

            # 2. processes: forking past the ceiling is refused
            reply, out = forks.run(
                "import os, time\nn = 0\ntry:\n    for _ in range(400):\n        if os.fork() == 0:\n"
                "            os.closerange(0, 1024); time.sleep(120); os._exit(0)\n        n += 1\n"
                "except OSError as e:\n    print('refused after', n, e.errno)\n", limit=120)
            assert "refused after" in out, out
            assert int(out.split()[2]) < PIDS, out
            assert big.run("print(1 + 1)")[1].strip() == "2"

            # 3. CPU: two busy processes of one student take at most one core; the classmate's
            #    trivial cell stays under twice its baseline
            busy.run("import subprocess, sys\nspin = [subprocess.Popen([sys.executable, '-c', "
                     "'while True: pass']) for _ in range(2)]")
            time.sleep(3)
            loaded_s = _timed(big)
            with capsys.disabled():
                print(f"\n`1 + 1` round trip: {1000 * base_s:.0f} ms idle, {1000 * loaded_s:.0f} ms while a "
                      f"classmate spins two processes")
            assert loaded_s < 2 * base_s + 0.05, (base_s, loaded_s)
            assert Client(url).get("/hub/health").status_code == 200

            # leftovers: private files in /tmp and /dev/shm, a detached process
            tag = secrets.token_hex(4)
            busy.run(f"open('/tmp/seq-{tag}', 'w').write('secret')\n"
                     "import tempfile\ntempfile.mkstemp(prefix='seq-tmpdir-')\n"
                     f"open('/dev/shm/seq-{tag}', 'wb').write(b'0' * (64 * 2**20))\n"
                     "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                     "        os.closerange(0, 1024); time.sleep(600)\n    os._exit(0)\n")
            reply, out = big.run(f"open('/tmp/seq-{tag}').read()")          # a classmate reads it
            assert reply["status"] == "error" and "PermissionError" in out, out
            assert Path(f"/dev/shm/seq-{tag}").stat().st_size == 64 * 2**20
            for k in (big, forks, busy):
                try:
                    k.ws.close()
                except Exception:
                    pass
            for c in clients:
                r = c.api("DELETE", f"/hub/api/users/{c.name}/server")
                assert r.status_code in (202, 204), (r.status_code, r.text[:200])
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                alive = {n: L.uid_pids(u) for n, u in uids.items()}
                files = {n: [e for d in (*L.TEMP_DIRS, str(Path(accounts.pwd.getpwnam(n).pw_dir) / ".tmp"))
                             for e in _owned(d, u)] for n, u in uids.items()}
                if not any(alive.values()) and not any(files.values()):
                    break
                time.sleep(1)
            assert not any(alive.values()), f"processes left after the servers stopped: {alive}"
            assert not any(files.values()), f"temporary files left: {files}"
            assert "killed" in hub.log(400) and "leftover processes" in hub.log(400), hub.log()
        finally:
            hub.stop()
    with capsys.disabled():
        print(f"three students at their limits: {time.monotonic() - t_start:.0f} s")


def _owned(folder: str, uid: int) -> list[str]:
    try:
        return [e.path for e in os.scandir(folder) if e.stat(follow_symlinks=False).st_uid == uid]
    except OSError:
        return []


@pytest.fixture(autouse=True)
def _root():
    if os.geteuid() != 0:
        pytest.skip("the class test creates temporary system users: run it as root")
