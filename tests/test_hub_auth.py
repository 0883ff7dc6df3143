"""Per-student logins on the class hub (`make hub AUTH=native`: NativeAuthenticator, pinned in
requirements-hub.txt), tested on a real hub over real HTTP on 127.0.0.1 (free ports, own state
folder): sign-up, the teacher's approval, wrong passwords, the brute-force lock-out (and what the
login page says about it), who is admin, and where the teacher lands. Runs as root (the hub's config checks that students could run the venv's Python; this
test needs no system users, since no server is started here: test_hub_tls.py does that).
"""
import json
import os
import re
import stat
import subprocess
import time
from urllib.parse import urlparse

import pytest

from hubtools import HUB, ROOT, VENV_BIN, Client, Hub, accounts, hub_env, need_hub, temp_dir
import classroom  # noqa: E402  (scripts/hub/classroom.py, on the path through hubtools)

FAILED_LOGINS = 3        # SEQHUB_FAILED_LOGINS for this test (the hub's default is 5)
LOCKOUT_S = 20           # SEQHUB_LOCKOUT_SECONDS for this test (the hub's default is 600); long
                         # enough that a login round trip on a busy machine (seconds) fits in it
TEACHER, TEACHER_PW = "teacher", "board-and-chalk-2026"
CLASS = ["ana", "ben", "cai", "dan", "eva", "fay", "gus"]


@pytest.fixture(scope="module")
def hub():
    need_hub()
    with temp_dir("seqhub-auth-") as base, accounts.other_x_granted():
        env = hub_env(base / "state", SEQHUB_AUTH="native", SEQHUB_USERS=",".join(CLASS),
                      SEQHUB_ADMIN_PASSWORD=TEACHER_PW, SEQHUB_FAILED_LOGINS=FAILED_LOGINS,
                      SEQHUB_LOCKOUT_SECONDS=LOCKOUT_S)
        base_url = f"http://127.0.0.1:{env['SEQHUB_PORT']}"
        h = Hub(env, base / "hub.log")
        try:
            h.start(base_url)
            print(f"hub up in {h.started_in:.1f} s")
            h.base = base_url
            yield h
        finally:
            h.stop()


def teacher(hub) -> Client:
    t = Client(hub.base)
    assert t.login(TEACHER, TEACHER_PW), "the teacher could not log in"
    return t


def approval_page(t: Client) -> dict[str, bool]:
    """The teacher's approval page (/hub/authorize): {sign-up name: approved?}."""
    r = t.get("/hub/authorize")
    assert r.status_code == 200, r.status_code
    rows = re.findall(r'<tr( class="success")? id=([^\s>]+)>', r.text)
    return {name: bool(ok) for ok, name in rows}


def approve(hub, name: str) -> None:
    t = teacher(hub)
    assert approval_page(t).get(name) is False, f"{name} is not waiting on the approval page"
    r = t.get(f"/hub/authorize/{name}", allow_redirects=False)   # the page's "Authorize" button
    assert r.status_code in (301, 302), (r.status_code, r.text[:200])
    assert approval_page(t)[name] is True


def signed_up(hub, name: str, password: str) -> Client:
    s = Client(hub.base)
    assert "sent to the admin" in s.signup(name, password)
    approve(hub, name)
    assert s.login(name, password)
    return s


def test_unapproved_sign_up_cannot_log_in(hub):
    s = Client(hub.base)
    assert "sent to the admin" in s.signup("ana", "ana-own-secret-7")
    assert not s.login("ana", "ana-own-secret-7"), "an unapproved sign-up logged in"
    assert "has not been authorized" in s.last_text, (s.last_status, s.last_text[:500])
    assert s.get("/hub/home", allow_redirects=False).status_code in (302, 303)  # no session
    approve(hub, "ana")
    assert s.login("ana", "ana-own-secret-7"), "approved, but still refused"
    assert s.get("/hub/home", allow_redirects=False).status_code == 200


def test_a_students_name_without_the_password_is_refused(hub):
    ben = signed_up(hub, "ben", "ben-own-secret-8")
    cai = signed_up(hub, "cai", "cai-own-secret-9")
    # cai knows ben's user name, not ben's password (two wrong tries in all: below the lock-out)
    intruder = Client(hub.base)
    assert FAILED_LOGINS > 2
    assert not intruder.login("ben", "ben-own-secret-9"), "logged in as ben with a guess"
    assert "Invalid username or password" in intruder.last_text
    # signing up again under ben's name neither works nor changes ben's password
    assert "already in use" in intruder.signup("ben", "takeover-pass-1")
    assert not intruder.login("ben", "takeover-pass-1")
    assert ben.login("ben", "ben-own-secret-8") and cai.login("cai", "cai-own-secret-9")
    # ... and with her own login cai cannot act as ben through the hub's API
    cai.get_token()
    assert cai.me()["name"] == "cai"
    assert cai.api("POST", "/hub/api/users/ben/server").status_code in (403, 404)
    assert cai.api("GET", "/hub/api/users/ben").status_code in (403, 404)


def test_sign_up_only_for_names_on_the_class_list_and_not_as_the_teacher(hub):
    s = Client(hub.base)
    for name in ("root", "nobody", "ana2"):
        msg = s.signup(name, "whatever-long-9")
        assert "Something went wrong" in msg, (name, msg)
        assert not s.login(name, "whatever-long-9")
    assert "already in use" in s.signup(TEACHER, "i-am-the-teacher-1")
    assert not s.login(TEACHER, "i-am-the-teacher-1")
    # too short, or too common a password: refused at sign-up
    assert "Something went wrong" in s.signup("dan", "short7")
    assert "Something went wrong" in s.signup("dan", "password1")
    assert "did not match" in s.signup("dan", "dan-own-secret-1", confirm="dan-own-secret-2")
    waiting = approval_page(teacher(hub))
    assert not {"root", "nobody", "ana2", "dan"} & waiting.keys(), waiting
    assert waiting[TEACHER] is True


def test_teacher_manages_the_class_but_is_no_admin_and_students_are_neither(hub):
    """The teacher approves, sees the admin page and lists the class, but holds no JupyterHub
    admin role: that role includes access:servers, and a student's notebook opened with it would
    run with the teacher's rights (tests/test_hub_tls.py opens one)."""
    t = teacher(hub)
    t.get_token()
    me = t.me()
    assert me["admin"] is False and "teacher" in me["roles"] and "admin" not in me["roles"], me
    assert t.get("/hub/authorize").status_code == 200
    assert t.get("/hub/admin").status_code == 200
    assert t.api("GET", "/hub/api/users").status_code == 200
    eva = signed_up(hub, "eva", "eva-own-secret-3")
    eva.get_token()
    assert eva.me()["admin"] is False
    assert eva.get("/hub/authorize").status_code == 403
    assert eva.get("/hub/authorize/fay", allow_redirects=False).status_code == 403
    assert eva.get("/hub/admin").status_code == 403
    assert eva.api("GET", "/hub/api/users").status_code == 403


def test_teacher_lands_on_the_approval_page(hub):
    """The teacher's account has no system account, hence no server of its own. A login as a
    browser does it (the hub's address or its login page, the form, every redirect followed) ends
    on the approval page, which links the admin page, never on a failed spawn (HTTP 500,
    getpwnam); the home page's "Start My Server" says why there is none. A student's login still
    goes to their own server (and a name without a system account is told so, not HTTP 500)."""
    assert not accounts.exists(TEACHER)
    for entry in ("/", "/hub/login"):
        t = Client(hub.base)
        form = t.get(entry)                    # "/": /hub/login?next=%2Fhub%2F
        assert form.status_code == 200 and urlparse(form.url).path == "/hub/login", (entry, form.url)
        r = t.http.post(form.url, timeout=60, data={
            "username": TEACHER, "password": TEACHER_PW, "_xsrf": t.http.cookies.get("_xsrf", "")})
        hops = [h.status_code for h in r.history] + [r.status_code]
        assert 500 not in hops and "getpwnam" not in r.text, (entry, hops, r.text[:500])
        assert r.status_code == 200 and urlparse(r.url).path == "/hub/authorize", (entry, hops, r.url)
        assert 'href="/hub/admin"' in r.text, "the approval page does not link the admin page"
    r = t.get("/")                             # logged in, at the hub's root: the same page
    assert r.status_code == 200 and urlparse(r.url).path == "/hub/authorize", r.url
    assert t.get("/hub/home").status_code == 200
    r = t.get("/hub/spawn")                    # the home page's "Start My Server"
    assert r.status_code == 409 and "getpwnam" not in r.text, (r.status_code, r.text[:500])
    assert "No JupyterLab for this account" in r.text, r.text[:1000]       # (the heading)
    assert "没有系统用户" in r.text and "no system account" in r.text, r.text[:1000]
    assert 'href="/hub/authorize"' in r.text and 'href="/hub/admin"' in r.text
    # a student: to their own server, as JupyterHub does by default
    gus = signed_up(hub, "gus", "gus-own-secret-5")
    assert urlparse(gus.last_location).path == "/hub/spawn", gus.last_location
    r = gus.get("/hub/spawn")                  # (no system account in this test: said so)
    assert r.status_code == 409 and "getpwnam" not in r.text, (r.status_code, r.text[:500])
    assert "gus 在这台服务器上没有系统用户" in r.text and "please tell the teacher" in r.text


def test_the_hub_writes_the_students_jupyter_settings(hub):
    """jupyterhub_config.py wrote the students' Jupyter config folder (what every student's
    server gets as JUPYTER_CONFIG_PATH; tests/test_hub.py checks what Jupyter makes of it),
    readable by the students."""
    folder = ROOT / ".venv" / "etc" / "jupyter-students"
    for rel, data in classroom.student_config().items():
        path = folder / rel
        assert json.loads(path.read_text()) == data, path
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o755


def login_error(text: str) -> str:
    """The message of a refused login page, whitespace collapsed."""
    m = re.search(r'<p class="login_error">(.*?)</p>', text, re.S)
    return " ".join(m.group(1).split()) if m else ""


def locked_for(text: str) -> int | None:
    """The seconds a refused login page says the name stays locked (its Chinese and English agree);
    None when the page does not say the name is locked."""
    msg = login_error(text)
    zh = re.search(r"用户名 fay 已暂时锁定，请 (\d+) 秒后再试", msg)
    en = re.search(r"fay is locked for now; try again in (\d+) seconds?\.", msg)
    assert bool(zh) == bool(en), msg
    if not zh:
        return None
    assert zh.group(1) == en.group(1) and "Invalid username" not in msg, msg
    return int(zh.group(1))


def assert_says_locked(text: str, locked: tuple[float, float], asked: tuple[float, float]) -> int:
    """The page says the name is locked, for as long as is left: the lock-out started between
    locked[0] and locked[1], the page was made between asked[0] and asked[1] (monotonic times);
    the page rounds up to whole seconds."""
    left = locked_for(text)
    assert left is not None, f"the page does not say the name is locked: {login_error(text)!r}"
    low, high = LOCKOUT_S - (asked[1] - locked[0]), LOCKOUT_S + 1 - (asked[0] - locked[1])
    assert low <= left <= high, (left, low, high, login_error(text))
    return left


def test_brute_force_is_locked_out(hub):
    """After FAILED_LOGINS wrong passwords a name is locked for LOCKOUT_S seconds: even the right
    password is refused meanwhile; afterwards each further wrong guess locks it again, so an
    attacker gets about one guess per LOCKOUT_S seconds. Other names are not affected. The login
    page says the name is locked and for how long (in Chinese and English), the same whatever
    password was typed, from the guess that locked it on."""
    fay = signed_up(hub, "fay", "fay-own-secret-4")
    attacker = Client(hub.base)
    for i in range(FAILED_LOGINS):
        t_last = time.monotonic()        # the lock-out runs from the hub checking this attempt,
        assert not attacker.login("fay", f"guess-{i}")
        if i < FAILED_LOGINS - 1:
            assert login_error(attacker.last_text) == "Invalid username or password.", \
                login_error(attacker.last_text)
    t_done = time.monotonic()            # which happened between t_last and t_done
    lock = (t_last, t_done)
    assert_says_locked(attacker.last_text, lock, lock)
    t0 = time.monotonic()
    assert not fay.login("fay", "fay-own-secret-4"), "the right password got in during the lock-out"
    assert_says_locked(fay.last_text, lock, (t0, time.monotonic()))
    assert not attacker.login("fay", "guess-during-lock-out")
    # the right password and a wrong one: the same page (only the seconds left may differ)
    assert re.sub(r"\d+", "N", login_error(attacker.last_text)) == re.sub(
        r"\d+", "N", login_error(fay.last_text))
    print(f"a locked name's login page says: {login_error(fay.last_text)}")
    assert teacher(hub).login(TEACHER, TEACHER_PW), "another name was locked too"
    while time.monotonic() - t_last < LOCKOUT_S / 2:
        time.sleep(0.2)
    assert time.monotonic() - t_last < LOCKOUT_S - 2, "the machine is too slow for this test's timing"
    t0 = time.monotonic()
    assert not fay.login("fay", "fay-own-secret-4"), "lock-out ended too early"
    left = assert_says_locked(fay.last_text, lock, (t0, time.monotonic()))
    assert left < LOCKOUT_S, "the time left did not go down"
    # (refused tries during the lock-out do not extend it: they are not checked, nor counted)
    while time.monotonic() - t_done < LOCKOUT_S + 1.5:     # the authenticator counts whole seconds
        time.sleep(0.2)
    assert fay.login("fay", "fay-own-secret-4"), "still locked after the lock-out time"
    # a success resets the count; after FAILED_LOGINS more failures and the wait, ONE wrong guess
    # locks the name again at once
    for i in range(FAILED_LOGINS):
        assert not attacker.login("fay", f"again-{i}")
    t_after = time.monotonic()
    while time.monotonic() - t_after < LOCKOUT_S + 1.5:
        time.sleep(0.2)
    t0 = time.monotonic()
    assert not attacker.login("fay", "one-more-guess")
    t1 = time.monotonic()
    assert_says_locked(attacker.last_text, (t0, t1), (t0, t1))
    assert not fay.login("fay", "fay-own-secret-4"), "one more wrong guess did not lock it again"
    print(f"lock-out: {FAILED_LOGINS} wrong passwords lock a name for {LOCKOUT_S} s "
          f"(hub default: 5 and 600 s)")


def test_lockout_message_in_seconds_or_minutes():
    """Under a minute in seconds, else in whole minutes rounded up (the hub's default lock-out,
    600 s, reads "10 分钟" / "10 minutes" right after the lock)."""
    assert "请 1 秒后再试" in classroom.lockout_message("fay", 1)
    assert "try again in 1 second." in classroom.lockout_message("fay", 1)
    assert "请 59 秒后再试" in classroom.lockout_message("fay", 59)
    msg = classroom.lockout_message("fay", 600)
    assert "请 10 分钟后再试" in msg and "try again in 10 minutes." in msg, msg
    assert "请 2 分钟后再试" in classroom.lockout_message("fay", 61)


@pytest.mark.parametrize("settings, message", [
    ({"SEQHUB_AUTH": "native"}, "teacher's password"),
    ({"SEQHUB_AUTH": "native", "SEQHUB_ADMIN_PASSWORD": "short"}, "teacher's password"),
    ({"SEQHUB_AUTH": "native", "SEQHUB_ADMIN_PASSWORD": TEACHER_PW,
      "SEQHUB_ADMIN_USER": "ana"}, "also on the class list"),
    ({"SEQHUB_AUTH": "pam", "SEQHUB_PASSWORD": "long-enough-1"}, "must be 'shared'"),
], ids=["no-teacher-password", "short-teacher-password", "teacher-on-class-list", "bad-mode"])
def test_hub_refuses_bad_login_settings(tmp_path, settings, message):
    need_hub(root=False)
    env = hub_env(tmp_path / "state", SEQHUB_USERS=",".join(CLASS), **settings)
    proc = subprocess.run([str(VENV_BIN / "jupyterhub"), "-f", str(HUB / "jupyterhub_config.py")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr
    assert not (tmp_path / "state" / "jupyterhub.sqlite").exists()


def test_start_script_needs_the_teachers_password_for_native_logins():
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEQHUB_")}
    env["SEQHUB_AUTH"] = "native"
    proc = subprocess.run(["bash", str(HUB / "start.sh")], env=env, capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 2 and "SEQHUB_ADMIN_PASSWORD" in proc.stderr
    assert re.search(r"logs in as teacher", proc.stderr)


def test_the_statsd_shim_is_still_needed():
    """jupyterhub_config.py gives JupyterHub's handlers a do-nothing `statsd` timer because
    NativeAuthenticator 1.3.0 still calls it and JupyterHub 6 removed it. When this fails, a new
    NativeAuthenticator (or JupyterHub) no longer needs the shim: delete it from the config."""
    need_hub(root=False)
    import nativeauthenticator.handlers as native
    from jupyterhub.handlers.base import BaseHandler
    assert "self.statsd" in open(native.__file__).read(), "NativeAuthenticator dropped statsd"
    assert not hasattr(BaseHandler, "statsd"), "JupyterHub has statsd again"
