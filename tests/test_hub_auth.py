"""Per-student logins on the class hub (`make hub AUTH=native`: NativeAuthenticator, pinned in
requirements-hub.txt), tested on a real hub over real HTTP on 127.0.0.1 (free ports, own state
folder): sign-up, the teacher's approval, wrong passwords, the brute-force lock-out and who is
admin. Runs as root (the hub's config checks that students could run the venv's Python; this
test needs no system users, since no server is started here: test_hub_tls.py does that).
"""
import os
import re
import subprocess
import time

import pytest

from hubtools import HUB, VENV_BIN, Client, Hub, accounts, hub_env, need_hub, temp_dir

FAILED_LOGINS = 3        # SEQHUB_FAILED_LOGINS for this test (the hub's default is 5)
LOCKOUT_S = 20           # SEQHUB_LOCKOUT_SECONDS for this test (the hub's default is 600); long
                         # enough that a login round trip on a busy machine (seconds) fits in it
TEACHER, TEACHER_PW = "teacher", "board-and-chalk-2026"
CLASS = ["ana", "ben", "cai", "dan", "eva", "fay"]


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


def test_teacher_is_admin_and_students_are_not(hub):
    t = teacher(hub)
    t.get_token()
    assert t.me()["admin"] is True
    assert t.get("/hub/authorize").status_code == 200
    assert t.get("/hub/admin").status_code == 200
    eva = signed_up(hub, "eva", "eva-own-secret-3")
    eva.get_token()
    assert eva.me()["admin"] is False
    assert eva.get("/hub/authorize").status_code == 403
    assert eva.get("/hub/authorize/fay", allow_redirects=False).status_code == 403
    assert eva.get("/hub/admin").status_code == 403
    assert eva.api("GET", "/hub/api/users").status_code == 403


def test_brute_force_is_locked_out(hub):
    """After FAILED_LOGINS wrong passwords a name is locked for LOCKOUT_S seconds: even the right
    password is refused meanwhile; afterwards each further wrong guess locks it again, so an
    attacker gets about one guess per LOCKOUT_S seconds. Other names are not affected."""
    fay = signed_up(hub, "fay", "fay-own-secret-4")
    attacker = Client(hub.base)
    for i in range(FAILED_LOGINS):
        t_last = time.monotonic()        # the lock-out runs from the hub checking this attempt,
        assert not attacker.login("fay", f"guess-{i}")
    t_done = time.monotonic()            # which happened between t_last and t_done
    assert not fay.login("fay", "fay-own-secret-4"), "the right password got in during the lock-out"
    assert teacher(hub).login(TEACHER, TEACHER_PW), "another name was locked too"
    while time.monotonic() - t_last < LOCKOUT_S / 2:
        time.sleep(0.2)
    assert time.monotonic() - t_last < LOCKOUT_S - 2, "the machine is too slow for this test's timing"
    assert not fay.login("fay", "fay-own-secret-4"), "lock-out ended too early"
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
    assert not attacker.login("fay", "one-more-guess")
    assert not fay.login("fay", "fay-own-secret-4"), "one more wrong guess did not lock it again"
    print(f"lock-out: {FAILED_LOGINS} wrong passwords lock a name for {LOCKOUT_S} s "
          f"(hub default: 5 and 600 s)")


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
