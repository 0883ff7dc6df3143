"""JupyterHub for the course on one machine: `make hub` (scripts/hub/start.sh) and the hub tests.

One machine, a class (docs/classroom-server.md has the sizing and the larger deployments):
- by default listens on 127.0.0.1 only; SEQHUB_HOST=0.0.0.0 (or a LAN address; make hub
  HUB_HOST=...) opens the one public port SEQHUB_PORT to the students' laptops, always HTTPS: the
  teacher's certificate SEQHUB_CERT + SEQHUB_KEY, or a self-signed one made on first start
  (scripts/hub/tls.py; its SHA-256 fingerprint is printed). The hub's API, the proxy's API and
  every student's server stay on 127.0.0.1;
- SEQHUB_AUTH=shared (default): one shared password that the teacher sets in SEQHUB_PASSWORD
  (8 characters or more; no default, the hub refuses to start without it). Honest limit: whoever
  knows it can log in under any listed name, and there is no lock-out: one lesson in one room;
- SEQHUB_AUTH=native: per-student logins with NativeAuthenticator: a student signs up with a
  name from the class list and their own password, the teacher (SEQHUB_ADMIN_USER, default
  "teacher", password SEQHUB_ADMIN_PASSWORD, 12 characters or more, registered before the hub
  listens; admin; no system account, so no server: lands on /hub/authorize) approves at
  /hub/authorize; SEQHUB_FAILED_LOGINS wrong passwords (5) lock a name for
  SEQHUB_LOCKOUT_SECONDS (600), and the login page then says so and for how long;
- only the students listed in SEQHUB_USERS (comma separated) or in the file SEQHUB_USERS_FILE
  (default artifacts/hub/users.txt, written by scripts/hub/students.py) may log in or sign up;
- each student is a system user of this machine (create them with scripts/hub/students.py):
  LocalProcessSpawner starts their server as that user, so file permissions keep students apart;
- the single-user server is jupyterhub-singleuser from the course's venv (.venv): same torch and
  JupyterLab as `make lab`, the helpers of the student edition (SEQHUB_STUDENT_EDITION, without
  reference implementations), opening in the student's home directory, with nbgitpuller
  (SEQHUB_COURSE_REPOS: local course repositories the students' git may read), nbgrader's
  student side only (no formgrader, no "Create Assignment") and a terminal that runs bash;
- the idle culler (jupyterhub-idle-culler) stops a server SEQHUB_CULL_TIMEOUT seconds (default
  3600) after its last activity.

Other settings (environment variables): SEQHUB_PORT (8000), SEQHUB_HUB_PORT (8081),
SEQHUB_PROXY_API_PORT (8001), SEQHUB_STATE_DIR (artifacts/hub: database, cookie secret, pid file,
self-signed certificate), SEQHUB_CULL_EVERY (seconds between culler checks, default
min(300, timeout/2)), SEQHUB_ACTIVITY_INTERVAL (how often activity reaches the hub, default
300 s), in shared mode SEQHUB_ADMIN_USER + SEQHUB_ADMIN_PASSWORD (optional teacher account with the
admin page; that admin password must be 32 characters or more and differ from the students').
"""
import os
import pwd
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
sys.path.insert(0, str(Path(__file__).resolve().parent))
import classroom  # noqa: E402  (scripts/hub/classroom.py: what the students and the teacher meet)

c = get_config()  # noqa: F821  (provided by JupyterHub when it loads this file)


def _fail(message: str) -> None:
    sys.exit(f"jupyterhub_config.py: {message}")


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        _fail(f"{name} must be a whole number, got {value!r}")


# --- who may log in -------------------------------------------------------------------------
users_file = Path(os.environ.get("SEQHUB_USERS_FILE", ROOT / "artifacts" / "hub" / "users.txt"))
names = os.environ.get("SEQHUB_USERS", "").replace(",", " ").split()
if not names and users_file.exists():
    names = [line.split("#")[0].strip() for line in users_file.read_text().splitlines()]
students = {n.lower() for n in names if n}
if not students:
    _fail(f"no students: create them with `.venv/bin/python scripts/hub/students.py create 40` "
          f"(writes {users_file}) or list existing system users in SEQHUB_USERS=name1,name2")

auth_mode = os.environ.get("SEQHUB_AUTH", "").strip().lower() or "shared"
if auth_mode not in ("shared", "native"):
    _fail(f"SEQHUB_AUTH (make hub AUTH=...) must be 'shared' (one class password, the default) or "
          f"'native' (every student signs up, the teacher approves), got {auth_mode!r}")
admin_user = os.environ.get("SEQHUB_ADMIN_USER", "").strip().lower()
if auth_mode == "shared":
    password = os.environ.get("SEQHUB_PASSWORD", "")
    if len(password) < 8:
        _fail("set the class's shared password first, 8 characters or more, e.g.\n"
              "    export SEQHUB_PASSWORD='...'   (there is no default password)")
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = password
    c.Authenticator.allowed_users = students
    if admin_user:
        c.Authenticator.admin_users = {admin_user}
        c.SharedPasswordAuthenticator.admin_password = os.environ.get("SEQHUB_ADMIN_PASSWORD", "")
else:
    # NativeAuthenticator (jupyterhub-nativeauthenticator, pinned): each student signs up at
    # /hub/signup with a name from the class list and a password of their own; the teacher
    # approves each sign-up at /hub/authorize. The teacher's account is registered here, before
    # the hub listens, so nobody can sign up under the teacher's name first.
    admin_user = admin_user or "teacher"
    admin_password = os.environ.get("SEQHUB_ADMIN_PASSWORD", "")
    if len(admin_password) < 12:
        _fail("per-student logins (SEQHUB_AUTH=native) need the teacher's password: "
              "export SEQHUB_ADMIN_PASSWORD='...' (12 characters or more; no default); the "
              f"teacher logs in as {admin_user!r} (SEQHUB_ADMIN_USER)")
    if admin_user in students:
        _fail(f"the teacher's name {admin_user!r} is also on the class list; choose another "
              "SEQHUB_ADMIN_USER")
    # Version conflict (jupyterhub 6.1.1 + jupyterhub-nativeauthenticator 1.3.0, the newest of
    # each): JupyterHub 6.0 removed the handlers' statsd client (jupyterhub PR #5407), but
    # NativeAuthenticator 1.3.0's LoginHandler.post still times the login with
    # `self.statsd.timer("login.authenticate")`, so every login answers HTTP 500. The only thing
    # it needs is a timer that does nothing: provide that, and nothing else, until a release
    # of NativeAuthenticator drops the call (tests/test_hub_auth.py notices when the shim is no
    # longer needed).
    from jupyterhub.handlers.base import BaseHandler

    if not hasattr(BaseHandler, "statsd"):
        class _NoStatsd:
            def timer(self, *args, **kwargs):
                return self

            def start(self):
                return self

            def stop(self, send=True):
                return None

        BaseHandler.statsd = _NoStatsd()
    # NativeAuthenticator whose login page tells a locked name that it is locked, and for how long
    # (scripts/hub/classroom.py; its settings stay c.NativeAuthenticator.*)
    c.JupyterHub.authenticator_class = classroom.native_authenticator()
    # The teacher is NOT a JupyterHub admin: the admin role includes `access:servers`, the right
    # to open any student's server, and every student's server is served from the hub's own
    # origin, so a student's notebook opened that way runs its scripts and images with the
    # teacher's rights (it could approve or un-approve sign-ups, which NativeAuthenticator does
    # with plain GET links). JupyterHub's advice for untrusted users without per-user subdomains:
    # the teacher reviews work through nbgrader (homework.py), and the teacher's role holds no
    # access to students' servers. The role below is what the teacher needs: approve sign-ups and
    # reset passwords (NativeAuthenticator asks for admin:users), the admin page, start and stop
    # students' servers. The admin role is emptied (also in a hub state from before this change).
    teacher_scopes = ["admin-ui", "admin:users", "admin:servers", "list:users", "read:users"]
    teacher_roles = [{"name": "teacher", "description": "the class's teacher: no access to students' servers",
                      "scopes": teacher_scopes, "users": [admin_user]},
                     {"name": "admin", "users": []}]
    classroom.TEACHERS.add(admin_user)
    # who may even sign up: the class list and the teacher, nothing else (no sign-up as root or as
    # a name without a system account). Approval, not this list, decides who logs in: a name in
    # allowed_users would be approved automatically by NativeAuthenticator, so the list is a
    # name pattern and every sign-up waits for the teacher.
    c.Authenticator.username_pattern = "^(" + "|".join(
        re.escape(n) for n in sorted(students | {admin_user})) + ")$"
    c.NativeAuthenticator.allow_all = True       # i.e. every APPROVED sign-up (see above)
    c.NativeAuthenticator.open_signup = False    # the teacher approves every sign-up
    c.NativeAuthenticator.minimum_password_length = 8
    c.NativeAuthenticator.check_common_password = True
    # brute force: after this many wrong passwords for one name, that name is locked for
    # SEQHUB_LOCKOUT_SECONDS (even the right password is refused meanwhile)
    c.NativeAuthenticator.allowed_failed_logins = _int_env("SEQHUB_FAILED_LOGINS", 5)
    c.NativeAuthenticator.seconds_before_next_try = _int_env("SEQHUB_LOCKOUT_SECONDS", 600)
    c.NativeAuthenticator.enable_signup = True
    c.NativeAuthenticator.ask_email_on_signup = False

# --- network: the public port (loopback unless SEQHUB_HOST), everything else loopback ------
# SEQHUB_HOST=0.0.0.0 (or a LAN address) lets students' laptops in: then always HTTPS, with the
# teacher's certificate (SEQHUB_CERT + SEQHUB_KEY) or a self-signed one made on first start in
# the state directory (scripts/hub/tls.py; start.sh prints its SHA-256 fingerprint). The proxy
# terminates TLS on that one port and refuses plain HTTP there. The hub's own port, the proxy's
# API and every student's server stay on 127.0.0.1.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import tls  # noqa: E402  (scripts/hub/tls.py)

try:
    public = tls.prepare(os.environ)
except ValueError as exc:
    _fail(str(exc))
port = public["port"]
if public["cert"]:
    host = f"[{public['host']}]" if ":" in public["host"] else public["host"]   # IPv6
    c.JupyterHub.bind_url = f"https://{host}:{port}"
    c.JupyterHub.ssl_cert = public["cert"]
    c.JupyterHub.ssl_key = public["key"]
    print(f"jupyterhub_config.py: HTTPS on {public['host']}:{port}, certificate {public['cert']}, "
          f"SHA-256 fingerprint {public['fingerprint']}", file=sys.stderr, flush=True)
else:
    c.JupyterHub.bind_url = f"http://127.0.0.1:{port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = _int_env("SEQHUB_HUB_PORT", 8081)
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{_int_env('SEQHUB_PROXY_API_PORT', 8001)}"
chp = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
if not chp.exists() and not shutil.which("configurable-http-proxy"):
    _fail(f"configurable-http-proxy is missing: run `npm ci` in {ROOT} (make hub does)")
c.ConfigurableHTTPProxy.command = [str(chp) if chp.exists() else "configurable-http-proxy"]

# --- state ----------------------------------------------------------------------------------
state = Path(os.environ.get("SEQHUB_STATE_DIR", ROOT / "artifacts" / "hub"))
state.mkdir(parents=True, exist_ok=True)
os.chmod(state, 0o700)              # the cookie secret and the database are the hub's alone
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every student's server
activity = _int_env("SEQHUB_ACTIVITY_INTERVAL", 300)
c.JupyterHub.last_activity_interval = activity

sys.path.insert(0, str(Path(__file__).resolve().parent))
from students import blocked_dirs, register_teacher, trust_course_repos  # noqa: E402

if auth_mode == "native":
    done = register_teacher(c.JupyterHub.db_url, admin_user, admin_password)
    print(f"jupyterhub_config.py: per-student logins (NativeAuthenticator); teacher account "
          f"{admin_user!r} {done}; students sign up at /hub/signup, the teacher approves them at "
          f"/hub/authorize; {c.NativeAuthenticator.allowed_failed_logins} wrong passwords lock a "
          f"name for {c.NativeAuthenticator.seconds_before_next_try} s", file=sys.stderr, flush=True)

# --- the students' servers ------------------------------------------------------------------

blocked = blocked_dirs()
if blocked:
    _fail("the students' servers run .venv/bin/python and the course's files as the students' own "
          f"users, but other users may not enter {', '.join(map(str, blocked))}. Install Python "
          "where every user can run it (e.g. /usr/local or /opt), or allow entering with "
          f"`chmod o+x {' '.join(map(str, blocked))}` (x only: no listing).")
# Per-student limits (scripts/hub/limits.py): a memory ceiling (SEQHUB_MEM_LIMIT, default 2G), a
# CPU share (SEQHUB_CPU_LIMIT cores, default 1) and a process ceiling (SEQHUB_PIDS_LIMIT, default
# 256) in a control group per student; private new files; at stop, every leftover process and
# temporary file of the student goes. An allocation past the ceiling fails in the kernel with a
# message naming the limit (the IPython config written below; inert where SEQHUB_MEM_LIMIT is unset).
import limits  # noqa: E402  (scripts/hub/limits.py)

try:
    student_limits = limits.Limits.from_env()
except ValueError as err:
    _fail(str(err))
c.JupyterHub.spawner_class = limits.make_spawner_class(student_limits)
limits.write_kernel_config(ROOT / ".venv")
print(f"jupyterhub_config.py: per student {limits.human(student_limits.memory)} memory, "
      f"{student_limits.cpus:g} CPU, {student_limits.pids} processes "
      f"(cgroup v{limits.Cgroups().version or ' none: rlimits only'})", file=sys.stderr, flush=True)
# The teacher's account has no system account, so no server: after logging in (and at the hub's
# root) the teacher lands on the approval page (per-student logins) or the admin page, not on a
# spawn that fails with HTTP 500; a spawn for a name without a system account says so
# (_private_tmp below). Students land on their server, as before.
c.JupyterHub.default_url = classroom.landing_page(native=auth_mode == "native")
c.Spawner.cmd = [str(VENV_BIN / "jupyterhub-singleuser")]
c.Spawner.ip = "127.0.0.1"
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.http_timeout = 180        # a busy 2-core machine needs a while to import JupyterLab
c.Spawner.start_timeout = 180
# kernels idle for SEQHUB_KERNEL_CULL_TIMEOUT (default 2 h) are shut down even with the tab open
# (an open JupyterLab tab keeps its server "active", so the hub's culler alone would not free them)
kernel_cull = _int_env("SEQHUB_KERNEL_CULL_TIMEOUT", 7200)
c.Spawner.args = [f"--MappingKernelManager.cull_idle_timeout={kernel_cull}",
                  f"--MappingKernelManager.cull_interval={max(1, min(300, kernel_cull // 2))}",
                  "--MappingKernelManager.cull_connected=True"]
# The students' servers import the STUDENT EDITION's helpers (scripts/assignments.py
# student-edition: every @reference body replaced by `raise GradedAtSubmission()`), never the
# course repository's, which holds the reference implementations and which start.sh closes to
# other users (homework.py lock-course). SEQHUB_STUDENT_EDITION: that edition's folder (default
# /srv/seqcourse/student-edition; start.sh builds it); PYTHONPATH puts it before the venv's
# editable install of the course.
edition = Path(os.environ.get("SEQHUB_STUDENT_EDITION", "/srv/seqcourse/student-edition"))
edition_ok = (edition / "helpers" / "exercises").is_dir() and (edition / ".seqcourse-student-edition").is_file()
if not edition_ok:
    print(f"jupyterhub_config.py: WARNING no student edition at {edition}: the students' servers "
          "import the course's own helpers (reference implementations included). Build it with "
          f"`.venv/bin/python scripts/assignments.py student-edition --out {edition}` "
          "(make hub does)", file=sys.stderr, flush=True)
# The students' Jupyter settings (scripts/hub/classroom.py: no nbgrader teacher panels, a terminal
# running bash instead of their nologin shell), written at every start into the venv, which is the
# one part of the course repository the students may read (homework.py lock-course)
student_jupyter = classroom.write_student_config(ROOT / ".venv" / "etc" / "jupyter-students")
c.Spawner.environment = {
    **({"PYTHONPATH": str(edition)} if edition_ok else {}),
    "JUPYTER_CONFIG_PATH": str(student_jupyter),
    "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    # one thread per kernel: helpers.env.setup() does the same for torch; this covers numpy/BLAS
    "OMP_NUM_THREADS": "1",
    "JUPYTERHUB_ACTIVITY_INTERVAL": str(activity),
}


def _private_tmp(spawner):
    """Give each student a TMPDIR in their home, so that no temporary file is shared in /tmp."""
    classroom.need_system_account(spawner)   # (the teacher: a clear page instead of HTTP 500)
    user = pwd.getpwnam(spawner.user.name)
    tmp = Path(user.pw_dir) / ".tmp"
    tmp.mkdir(mode=0o700, exist_ok=True)
    os.chown(tmp, user.pw_uid, user.pw_gid)
    spawner.environment = {**spawner.environment, "TMPDIR": str(tmp)}
    trust_course_repos(spawner.user.name, course_repos)


# nbgitpuller (installed with the hub, enabled in every student's server through the venv's
# etc/jupyter/jupyter_server_config.d/nbgitpuller.json): a link
# /hub/user-redirect/git-pull?repo=...&branch=...&urlpath=... pulls the course into the student's
# home. For a repository on this machine (a file path, e.g. build/student-edition), list it in
# SEQHUB_COURSE_REPOS (separated by ":"): git reads another user's repository only when it is
# in the student's safe.directory list, which the hook above writes.
course_repos = [r for r in os.environ.get("SEQHUB_COURSE_REPOS", "").split(":") if r.strip()]
if not (ROOT / ".venv" / "etc" / "jupyter" / "jupyter_server_config.d" / "nbgitpuller.json").exists():
    print("jupyterhub_config.py: nbgitpuller is not enabled in the students' servers "
          "(run `make hub-install`)", file=sys.stderr, flush=True)


c.Spawner.pre_spawn_hook = _private_tmp

# --- idle culler: a class's leftovers do not fill the server --------------------------------
cull_timeout = _int_env("SEQHUB_CULL_TIMEOUT", 3600)
cull_every = _int_env("SEQHUB_CULL_EVERY", max(1, min(300, cull_timeout // 2)))
c.JupyterHub.services = [{
    "name": "idle-culler",
    "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                f"--timeout={cull_timeout}", f"--cull-every={cull_every}"],
}]
c.JupyterHub.load_roles = [{
    "name": "idle-culler",
    "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    "services": ["idle-culler"],
}] + (teacher_roles if auth_mode == "native" else [])

# --- nbgrader --- (homework with nbgrader's exchange: scripts/hub/homework.py, nbgrader_config.py)
# The students' servers find the exchange through .venv/etc/jupyter/nbgrader_config.py
# (start.sh installs it); a hub started with SEQHW_EXCHANGE_ROOT (another exchange folder, e.g.
# the homework test's) passes that folder on to every student's server.
if os.environ.get("SEQHW_EXCHANGE_ROOT"):
    c.Spawner.environment = {**c.Spawner.environment,
                             "SEQHW_EXCHANGE_ROOT": os.environ["SEQHW_EXCHANGE_ROOT"]}
# --- end nbgrader ---
