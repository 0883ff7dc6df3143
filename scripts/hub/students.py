"""Create or remove the class's student accounts on this machine (run as root).

    .venv/bin/python scripts/hub/students.py create 40 [--prefix stu] [--home-base /home]
    .venv/bin/python scripts/hub/students.py list
    .venv/bin/python scripts/hub/students.py remove

`create` adds system users stu01 .. stu40 (no password and no login shell: they log in only
through the hub), each with a private home directory (mode 700), and writes their names to
artifacts/hub/users.txt, which the hub's config reads as the list of who may log in.
`remove` deletes exactly the accounts this script created (it checks the marker in the account's
comment field), with their home directories. It never touches an account it did not create:
a name that already exists is an error in `create`.
"""
from __future__ import annotations

import argparse
from contextlib import contextmanager
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
USERS_FILE = ROOT / "artifacts" / "hub" / "users.txt"
MARKER = "seqcourse-hub student"     # the comment (GECOS) field of every account made here


def paths_students_need() -> list[Path]:
    """What a student's server runs from: the venv's real interpreter, its stdlib and the repo."""
    python = (ROOT / ".venv" / "bin" / "python").resolve()
    base = Path(os.path.realpath(sys.base_prefix)) if sys.prefix != sys.base_prefix else python.parent
    return [python, base, ROOT]


def blocked_dirs(paths: list[Path] | None = None) -> list[Path]:
    """Folders on the way to those paths that other users may not pass (no o+x)."""
    out: list[Path] = []
    for path in paths or paths_students_need():
        for folder in [*reversed(path.parents), path] if path.is_dir() else reversed(path.parents):
            if not folder.stat().st_mode & 0o001 and folder not in out:
                out.append(folder)
    return out


LOCK_DIR = Path("/run/lock") if Path("/run/lock").is_dir() else Path("/tmp")


@contextmanager
def other_x_granted(log=lambda msg: None):
    """For a test's hub (run as root): let other users pass the folders on the way to the venv's
    Python and the repository (o+x, no listing) while the block runs, and restore the old modes
    when the LAST such block on this machine ends (tests run side by side share one flock'd record
    in LOCK_DIR, so one test's restore never pulls the rug from under another's students)."""
    import fcntl
    import json
    lock_path, record = LOCK_DIR / "seqhub-other-x.lock", LOCK_DIR / "seqhub-other-x.json"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:
            fcntl.flock(fd, fcntl.LOCK_EX)
            saved = json.loads(record.read_text()) if record.exists() else {}
            for folder in blocked_dirs():
                mode = stat.S_IMODE(folder.stat().st_mode)
                saved.setdefault(str(folder), mode)
                os.chmod(folder, mode | stat.S_IXOTH)
                log(f"granted o+x on {folder} (restored when the last test hub stops)")
            if saved:
                record.write_text(json.dumps(saved))
                os.chmod(record, 0o600)
            fcntl.flock(fd, fcntl.LOCK_SH)   # (not atomic: check that nobody restored meanwhile)
            if not blocked_dirs():
                break
        yield
    finally:
        release_other_x(fd)


def release_other_x(fd: int) -> None:
    """Leave an other_x_granted block (or a shared hold of its lock, `fd`): the last one out on
    this machine restores the folders' old modes from the record; `fd` is closed."""
    import fcntl
    import json
    record = LOCK_DIR / "seqhub-other-x.json"
    fcntl.flock(fd, fcntl.LOCK_UN)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pass            # another test still needs it; the last one restores
    else:
        if record.exists():
            for folder, mode in json.loads(record.read_text()).items():
                try:
                    os.chmod(folder, mode)
                except OSError:
                    pass
            record.unlink()
    os.close(fd)


def exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def is_ours(name: str) -> bool:
    try:
        return pwd.getpwnam(name).pw_gecos == MARKER
    except KeyError:
        return False


def create_user(name: str, home: Path) -> None:
    """Add one student account with a private home; refuses an existing name."""
    if exists(name):
        raise RuntimeError(f"user {name!r} already exists; refusing to touch it")
    home.parent.mkdir(parents=True, exist_ok=True)
    nologin = shutil.which("nologin") or "/usr/sbin/nologin"
    subprocess.run(["useradd", "--create-home", "--home-dir", str(home), "--shell", nologin,
                    "--user-group", "--comment", MARKER, name], check=True)
    os.chmod(home, 0o700)


def remove_user(name: str) -> bool:
    """Remove an account made here (and its home); False when there was none of ours."""
    if not is_ours(name):
        return False
    home = pwd.getpwnam(name).pw_dir
    kill_processes_of(pwd.getpwnam(name).pw_uid)
    subprocess.run(["userdel", "--remove", name], check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if exists(name):    # still there (e.g. a process respawned): try once more, forcefully
        subprocess.run(["userdel", "--force", "--remove", name], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(home, ignore_errors=True)
    return not exists(name)


def pids_of(uid: int, live: bool = False) -> list[int]:
    """The processes whose real uid is `uid`; with live=True, not the zombies (a killed process
    whose parent has not reaped it yet holds nothing and can do nothing)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        if f"\nUid:\t{uid}\t" in status and not (live and re.search(r"^State:\s+[ZX]", status, re.M)):
            out.append(int(entry.name))
    return out


def kill_processes_of(uid: int) -> int:
    """SIGKILL every process whose real uid is `uid` (a student's leftovers); returns the count."""
    import signal
    killed = 0
    for pid in pids_of(uid):
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except OSError:
            pass
    return killed


def stop_process_group(proc, grace: float = 30) -> None:
    """Stop a hub started with start_new_session=True: SIGTERM to its process group (the hub stops
    the students' servers), SIGKILL to whatever is left after `grace` seconds, then reap it."""
    import signal
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def register_teacher(db_url: str, name: str, password: str) -> str:
    """Per-student logins (NativeAuthenticator): put the teacher's account, approved, with this
    password, into the hub's database before the hub starts, so that nobody can sign up under the
    teacher's name first. Uses JupyterHub's and NativeAuthenticator's own tables; the password is
    stored as a bcrypt hash, as a sign-up would. Returns "created", "updated" or "unchanged"."""
    import bcrypt
    from jupyterhub import orm
    from nativeauthenticator.orm import UserInfo

    db = orm.new_session_factory(db_url)()
    try:
        row = UserInfo.find(db, name)
        if row is None:
            db.add(UserInfo(username=name, is_authorized=True,
                            password=bcrypt.hashpw(password.encode(), bcrypt.gensalt())))
            result = "created"
        elif not row.is_authorized or not bcrypt.checkpw(password.encode(), row.password):
            row.password = bcrypt.hashpw(password.encode(), bcrypt.gensalt())
            row.is_authorized = True
            result = "updated"
        else:
            result = "unchanged"
        db.commit()
        return result
    finally:
        db.close()
        db.get_bind().dispose()


def trust_course_repos(name: str, repos: list[str]) -> None:
    """Let student `name`'s git pull the course from local repositories the teacher owns
    (nbgitpuller links with a file path): git refuses to read a repository owned by another user
    unless its path is in the user's safe.directory list (~/.gitconfig)."""
    if not repos:
        return
    user = pwd.getpwnam(name)
    config = Path(user.pw_dir) / ".gitconfig"
    have = subprocess.run(["git", "config", "--file", str(config), "--get-all", "safe.directory"],
                          capture_output=True, text=True).stdout.split("\n")
    for repo in repos:
        repo = str(Path(repo).resolve())
        for path in (repo, repo + "/.git"):
            if path not in have:
                subprocess.run(["git", "config", "--file", str(config), "--add",
                                "safe.directory", path], check=True)
    os.chown(config, user.pw_uid, user.pw_gid)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("create")
    p.add_argument("count", type=int)
    p.add_argument("--prefix", default="stu")
    p.add_argument("--home-base", default="/home")
    sub.add_parser("list")
    sub.add_parser("remove")
    args = parser.parse_args(argv)
    listed = USERS_FILE.read_text().split() if USERS_FILE.exists() else []
    if args.cmd == "list":
        print("\n".join(listed) or "(no students)")
        return 0
    if os.geteuid() != 0:
        sys.exit("students.py: run as root (it adds or removes system users)")
    if args.cmd == "create":
        width = max(2, len(str(args.count)))
        names = [f"{args.prefix}{i:0{width}d}" for i in range(1, args.count + 1)]
        taken = [n for n in names if exists(n)]
        if taken:
            sys.exit(f"students.py: these users exist already, choose another --prefix: {taken}")
        USERS_FILE.parent.mkdir(parents=True, exist_ok=True)
        for name in names:
            create_user(name, Path(args.home_base) / name)
            listed.append(name)
            USERS_FILE.write_text("\n".join(dict.fromkeys(listed)) + "\n")
        print(f"created {len(names)} students ({names[0]} .. {names[-1]}); list in {USERS_FILE}")
        return 0
    kept = [n for n in listed if not remove_user(n) and exists(n)]
    if kept:
        print(f"not removed (not made by this script): {kept}")
    USERS_FILE.write_text("".join(f"{n}\n" for n in kept)) if USERS_FILE.exists() else None
    print(f"removed {len(listed) - len(kept)} students")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
