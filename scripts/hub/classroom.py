"""What the students and the teacher meet on the class hub (imported by jupyterhub_config.py).

- landing_page: the teacher (SEQHUB_ADMIN_USER) has no system account, hence no server of their
  own; after logging in (and at the hub's root) the teacher lands on the approval page
  (per-student logins) or the admin page (shared password) instead of a spawn that fails with
  HTTP 500 (`getpwnam(): name not found`);
- need_system_account: a spawn for a name without a system account (the teacher's "Start My
  Server" button) ends on a page that says so and where to go, not on HTTP 500;
- native_authenticator: NativeAuthenticator whose login page tells a name locked after too many
  wrong passwords that it is locked, and for how long (NativeAuthenticator itself says only "Invalid username or password", so a student locked
  out by a classmate's guesses keeps retrying the right password);
- write_student_config: the Jupyter settings of the students' servers: without nbgrader's teacher
  panels, and with a terminal that works (their login shell is nologin).

The hub's pages are JupyterHub's and NativeAuthenticator's, in English; what is added here says
it in Chinese and in English.
"""
from __future__ import annotations

import json
import math
import os
from datetime import datetime
from html import escape
from pathlib import Path

from tornado import web

from students import exists as has_system_account  # scripts/hub/students.py (the same rule)


# The teacher's account(s) (jupyterhub_config.py: SEQHUB_ADMIN_USER). With per-student logins the
# teacher is not a JupyterHub admin (no access to students' servers), so `user.admin` alone does
# not say who the teacher is.
TEACHERS: set[str] = set()


def is_teacher(user) -> bool:
    return bool(user.admin) or user.name in TEACHERS




# --- the teacher: no system account, no server; the approval page instead ----------------------
def landing_page(native: bool):
    """JupyterHub.default_url: where a login or the hub's root sends a user. The teacher's account
    has no system account (docs/classroom-server.md), and JupyterHub's default sends everyone to
    their own server: a spawn that fails. An admin without a system account lands on their tools
    instead; everyone else (''): JupyterHub's default, their server."""
    def default_url(handler) -> str:
        user = getattr(handler, "_jupyterhub_user", None)     # (set once the login is checked)
        if user is None or not is_teacher(user) or has_system_account(user.name):
            return ""
        return handler.hub.base_url + ("authorize" if native else "admin")
    return default_url


class NoServer(web.HTTPError):
    # the error page's heading: JupyterHub sets .reason = "error" after any failed spawn (and the
    # page would read "409 : error"), so that assignment is ignored
    reason = property(lambda self: "No JupyterLab for this account", lambda self, value: None)


def need_system_account(spawner) -> None:
    """Before a spawn (pre_spawn_hook): refuse a name without a system account with a page that
    says why and what to use, instead of LocalProcessSpawner's HTTP 500 (getpwnam)."""
    name = spawner.user.name
    if has_system_account(name):
        return
    hub = spawner.hub.base_url
    if is_teacher(spawner.user):
        zh = (f"{name} 是老师（管理员）账号，在这台服务器上没有系统用户，所以没有自己的 JupyterLab。"
              f"批准学生的注册在批准页 {hub}authorize，管理学生的服务器在管理页 {hub}admin。")
        en = (f"{name} is the teacher's (admin) account and has no system account on this machine, "
              f"so no JupyterLab of its own: approve sign-ups at {hub}authorize, manage the "
              f"students' servers at {hub}admin.")
    else:
        zh = f"{name} 在这台服务器上没有系统用户，无法启动 JupyterLab：请告诉老师。"
        en = (f"{name} has no system account on this machine, so no JupyterLab can start: "
              "please tell the teacher (scripts/hub/students.py creates the accounts).")
    error = NoServer(409, f"{name} has no system account")
    # JupyterHub shows these two instead of its generic "Failed to start your server"
    error.jupyterhub_message = f"{zh} {en}"
    links = f'<br><a href="{hub}authorize">{hub}authorize</a> · <a href="{hub}admin">{hub}admin</a>'
    error.jupyterhub_html_message = f"{escape(zh)}<br>{escape(en)}" + (
        links if is_teacher(spawner.user) else "")
    raise error


# --- the lock-out, said on the login page -----------------------------------------------------
def lockout_message(name: str, seconds: int) -> str:
    """What a refused login for a locked name says (the same whatever the password was)."""
    if seconds < 60:
        zh, en = f"{seconds} 秒", f"{seconds} second{'s' if seconds != 1 else ''}"
    else:
        minutes = math.ceil(seconds / 60)
        zh, en = f"{minutes} 分钟", f"{minutes} minute{'s' if minutes != 1 else ''}"
    return (f"密码错误次数过多，用户名 {name} 已暂时锁定，请 {zh}后再试。"
            f"Too many wrong passwords: {name} is locked for now; try again in {en}.")


def native_authenticator():
    """The authenticator class for per-student logins (SEQHUB_AUTH=native)."""
    from nativeauthenticator import NativeAuthenticator
    from nativeauthenticator.handlers import LoginHandler

    class LockoutLoginHandler(LoginHandler):
        """NativeAuthenticator's login page; a refused login for a locked name says so."""

        def _render(self, login_error=None, username=None):
            if login_error and username:
                left = self.authenticator.lockout_left(username)
                if left:
                    # replaces "Invalid username or password" and also "has not been authorized",
                    # which NativeAuthenticator would show for a right password during the lock-out
                    name = self.authenticator.normalize_username(username)
                    login_error = lockout_message(name, left)
            return super()._render(login_error=login_error, username=username)

    class LockoutNativeAuthenticator(NativeAuthenticator):
        """NativeAuthenticator (same settings: c.NativeAuthenticator.*) whose login page tells a
        locked name that it is locked and for how long."""

        def lockout_left(self, username: str) -> int:
            """Seconds until `username` may try again, by the lock-out time set
            (seconds_before_next_try, from the last wrong password); 0 when it is not locked.
            Whether it is locked is NativeAuthenticator's own is_blocked (1.3.0: it counts whole
            seconds, so a name stays locked up to 1 s longer: "1 s" meanwhile)."""
            username = self.normalize_username(username)
            if not self.allowed_failed_logins or not self.is_blocked(username):
                return 0
            since = (datetime.now() - self.login_attempts[username]["time"]).total_seconds()
            return max(1, math.ceil(self.seconds_before_next_try - since))

        def get_handlers(self, app):
            return [(path, LockoutLoginHandler if handler is LoginHandler else handler)
                    for path, handler in super().get_handlers(app)]

    return LockoutNativeAuthenticator


# --- the students' servers: their JupyterLab --------------------------------------------------
# nbgrader 0.9's teacher side: the formgrader, the course list (the courses one grades) and the
# "Create Assignment" side panel. In a student's server they only show a course folder the
# student cannot read (root's, mode 700) and the teacher's buttons; hidden there. What the
# students use stays: the Assignment List (fetch, submit; the "Nbgrader" menu opens it) and the
# notebook's Validate button. (This only tidies the page: a student who turned them back on in
# their own server would still reach nothing of the teacher's.)
TEACHER_LAB_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list",
                       "@jupyter/nbgrader:create-assignment")
TEACHER_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader",
                             "nbgrader.server_extensions.course_list")
STUDENT_LAB_PLUGINS = ("@jupyter/nbgrader:menu", "@jupyter/nbgrader:assignment-list",
                       "@jupyter/nbgrader:validate-assignment")
# The students' login shell is nologin (scripts/hub/students.py: they log in only through the
# hub), and JupyterLab's terminal runs $SHELL: it closed at once. A terminal runs bash as the
# student's own user: nothing a kernel cannot already do (a notebook cell can start any
# program), so it gives no new power. Not a login shell (-l): /etc/profile would reset PATH and
# lose the course's venv.
TERMINAL_SHELL = "/bin/bash" if os.access("/bin/bash", os.X_OK) else "/bin/sh"


def student_config() -> dict[str, dict]:
    """{file in the students' Jupyter config folder: its JSON}."""
    return {
        "labconfig/page_config.json": {
            "disabledExtensions": {plugin: True for plugin in TEACHER_LAB_PLUGINS}},
        "jupyter_server_config.json": {"ServerApp": {
            "jpserver_extensions": {ext: False for ext in TEACHER_SERVER_EXTENSIONS},
            "terminado_settings": {"shell_command": [TERMINAL_SHELL]}}},
    }


def write_student_config(folder: Path) -> Path:
    """Write the students' Jupyter config folder (readable by all; the hub passes it to every
    student's server as JUPYTER_CONFIG_PATH, which comes before the venv's and the student's own
    ~/.jupyter). Rewritten only when it changed; each file replaced atomically."""
    for rel, data in student_config().items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        for d in (folder, path.parent):
            os.chmod(d, 0o755)
        text = json.dumps(data, indent=1, sort_keys=True) + "\n"
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    return folder
