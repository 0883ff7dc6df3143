"""Kernel launcher for autograding: the students' code runs as an unprivileged grading user.

`nbgrader autograde` executes every submitted notebook in a kernel. By default that kernel runs
as whoever runs nbgrader (the teacher, here root), so a submission could read the teacher's
gradebook, the source notebooks with the answers and the other students' work, or rewrite its own
grade. scripts/hub/homework.py therefore points nbgrader's Execute preprocessor at the kernel
spec `seqgrade`, whose command is this script. Started by nbgrader (as root) with the connection
file, it:

1. copies the connection file into the sandbox folder SEQGRADE_SANDBOX (owned by the grading
   user SEQGRADE_USER, mode 700; made fresh for each submission by homework.py) and copies the
   submission's other files (not the notebooks) there as the kernel's working folder;
2. sets resource limits that hold whatever the code does: CPU seconds (SEQGRADE_CPU_LIMIT,
   default 600), no core files, 1 GiB per written file, at most 256 processes of that user;
3. drops every privilege: no supplementary groups, the grading user's uid and gid, no new
   privileges (setuid programs do not raise them again);
4. replaces itself with `python -m ipykernel_launcher -f <copied connection file>` in a minimal
   environment (HOME and TMPDIR inside the sandbox, one BLAS/torch thread).

Who is graded, and against what:

- SEQHW_STUDENT in the kernel's environment is SEQGRADE_STUDENT, which homework.py sets to the
  submitter's nbgrader id (the folder collect put the vetted submission in), never anything read
  from the notebook: helpers.exercises._core.variant() then gives that student's variant. Every
  test cell (scripts/assignments.py) first restores it from /proc/self/environ (the environment
  this exec gave the kernel), so an answer cell that edits os.environ is graded as its author all
  the same;
- PYTHONPATH is SEQGRADE_HELPERS: the teacher's FULL helpers (reference implementations included),
  a copy homework.py keeps readable by root and the grading user only, so visible checkers and
  hidden tests compute the expected answers for real. The kernel's working folder is not put on
  sys.path (PYTHONSAFEPATH, IPKernelApp.ignore_cwd): a submitted helpers/ or torch/ folder cannot
  shadow them.

What the graded code could leave behind for students: the kernel runs in its own mount namespace
in which /tmp, /var/tmp, /dev/shm, /run/lock, every other world-writable folder one or two levels
below /, /var, /run, /srv, /home, /opt and /mnt, and the folders in SEQGRADE_HIDE (homework.py
passes the nbgrader exchange) are fresh private tmpfs mounts (the sandbox and the helpers copy are
bound back where they lie under one of them), and the umask is 077: a submission that reads the
reference implementation cannot drop a copy where a student's server would find it. (Refusing to
grade when the namespace cannot be made, e.g. without CAP_SYS_ADMIN; SEQGRADE_SHARED_TMP=1
grades without it, knowingly.)

The grading user owns nothing but the sandbox: the teacher's course folder, the gradebook and the
students' homes (mode 700) are closed to it, so the code can read only what every user of the
machine may read (the course's venv) and the helpers copy. nbgrader itself keeps running as the
teacher and writes the grades; the kernel cannot touch them. homework.py kills every process of
the grading user after each submission and removes the sandbox.
"""
from __future__ import annotations

import ctypes
import os
import pwd
import re
import resource
import shutil
import stat
import sys
from pathlib import Path

PR_SET_NO_NEW_PRIVS = 38
CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 4096, 16384, 1 << 18
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")


def world_writable_dirs(extra: list[str]) -> list[str]:
    """The folders a process of any user may create files in (shallow: the usual places)."""
    found = ["/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/dev/mqueue", *extra]
    for top in ("/", "/var", "/run", "/srv", "/home", "/opt", "/mnt"):
        for depth1 in _subdirs(top):
            found.append(depth1)
            found.extend(_subdirs(depth1))
    out = []
    for path in found:
        try:
            st = os.lstat(path)
        except OSError:
            continue
        real = os.path.realpath(path)
        if stat.S_ISDIR(st.st_mode) and (st.st_mode & 0o002 or path in extra) and real not in out \
                and not real.startswith(("/proc", "/sys")):
            out.append(real)
    return out


def _subdirs(path: str) -> list[str]:
    try:
        return [e.path for e in os.scandir(path) if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []


def private_mounts(hide: list[str], keep: list[Path]) -> None:
    """A mount namespace of this process in which every folder of `hide` is an empty private tmpfs;
    the folders of `keep` that lay under one of them are bound back at the same path."""
    libc = ctypes.CDLL(None, use_errno=True)

    def mount(src, target, fstype, flags, data):
        enc = lambda x: x.encode() if isinstance(x, str) else x
        if libc.mount(enc(src), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"mount {target}: {os.strerror(err)}")

    if libc.unshare(CLONE_NEWNS) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"unshare(CLONE_NEWNS): {os.strerror(err)}")
    mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    # opened in the new namespace (a mount of the old one cannot be bound here), before hiding
    handles = {str(k): os.open(k, os.O_RDONLY | os.O_DIRECTORY) for k in keep}
    done: list[str] = []
    for folder in sorted(set(hide), key=len):
        if any(folder.startswith(d.rstrip("/") + "/") for d in done):
            continue                       # already under a private one
        mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=256m")
        done.append(folder)
    for path, fd in handles.items():
        if any(path == h or path.startswith(h.rstrip("/") + "/") for h in hide):
            old = os.umask(0o022)
            os.makedirs(path, mode=0o711, exist_ok=True)
            os.umask(old)
            mount(f"/proc/self/fd/{fd}", path, None, MS_BIND, None)
        os.close(fd)


def fail(message: str) -> None:
    sys.exit(f"grading_kernel.py: {message}")


def main(argv: list[str]) -> None:
    if len(argv) < 1:
        fail("usage: grading_kernel.py CONNECTION_FILE [kernel arguments ...]")
    connection, extra = Path(argv[0]), argv[1:]
    user = os.environ.get("SEQGRADE_USER", "")
    sandbox = Path(os.environ.get("SEQGRADE_SANDBOX", ""))
    if not user or not str(sandbox) or not sandbox.is_dir():
        fail("SEQGRADE_USER and SEQGRADE_SANDBOX (an existing folder) must be set "
             "(scripts/hub/homework.py autograde sets them)")
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        fail(f"grading user {user!r} does not exist")
    if pw.pw_uid == 0:
        fail("the grading user must not be root")
    st = sandbox.stat()
    if st.st_uid != pw.pw_uid or st.st_mode & 0o077:
        fail(f"{sandbox} must be owned by {user} with mode 700")
    if os.geteuid() != 0:
        fail("started without root: cannot switch to the grading user "
             "(run scripts/hub/homework.py autograde as root)")
    student = os.environ.get("SEQGRADE_STUDENT", "")
    if not STUDENT_ID.match(student):
        fail(f"SEQGRADE_STUDENT must be the submitter's id (homework.py autograde sets it), got {student!r}")
    helpers = Path(os.environ.get("SEQGRADE_HELPERS", ""))
    if not str(helpers) or not (helpers / "helpers" / "exercises").is_dir():
        fail("SEQGRADE_HELPERS must be a folder holding the teacher's helpers/ (homework.py sets it)")

    # 1. the connection file and the submission's data files, owned by the grading user
    work = sandbox / "work"
    work.mkdir(mode=0o700, exist_ok=True)
    for entry in Path.cwd().iterdir() if os.access(".", os.R_OK) else []:
        if entry.suffix == ".ipynb" or entry.is_symlink():
            continue
        target = work / entry.name
        if entry.is_dir():
            shutil.copytree(entry, target, symlinks=True, dirs_exist_ok=True)
        elif entry.is_file():
            shutil.copy2(entry, target)
    conn = sandbox / "kernel-connection.json"
    shutil.copyfile(connection, conn)
    os.chmod(conn, 0o600)
    tmp = sandbox / "tmp"
    tmp.mkdir(mode=0o700, exist_ok=True)
    for dirpath, dirnames, filenames in os.walk(sandbox):
        for name in [dirpath, *(os.path.join(dirpath, f) for f in dirnames + filenames)]:
            os.lchown(name, pw.pw_uid, pw.pw_gid)

    # 2. limits that survive the switch of user (a loop that ignores interrupts still ends)
    cpu = int(os.environ.get("SEQGRADE_CPU_LIMIT", "600"))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (2**30, 2**30))
    resource.setrlimit(resource.RLIMIT_NPROC, (256, 256))

    # the graded code leaves nothing where students look (see the module docstring)
    if os.environ.get("SEQGRADE_SHARED_TMP") != "1":
        hide = [h for h in os.environ.get("SEQGRADE_HIDE", "").split(os.pathsep) if h]
        try:
            # the course's venv too: a course cloned under /tmp (as CI may) would otherwise lose
            # the very python this kernel runs (only packages are in it; PYTHONPATH is the helpers copy)
            private_mounts(world_writable_dirs(hide), keep=[sandbox, helpers, Path(sys.prefix)])
        except OSError as exc:
            fail(f"cannot give the grading kernel private /tmp and exchange folders ({exc}); "
                 "SEQGRADE_SHARED_TMP=1 grades without them (a submission could then leave a copy "
                 "of what it reads where students find it)")
    os.umask(0o077)

    # 3. drop privileges for good
    os.chdir(work)
    os.setgroups([])
    os.setgid(pw.pw_gid)
    os.setuid(pw.pw_uid)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        fail("prctl(PR_SET_NO_NEW_PRIVS) failed")
    if os.getuid() != pw.pw_uid or os.geteuid() != pw.pw_uid or os.getgroups():
        fail("could not drop privileges")

    # 4. the kernel, in a minimal environment
    venv_bin = Path(sys.executable).parent
    env = {
        "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(sandbox), "TMPDIR": str(tmp), "USER": user, "LOGNAME": user,
        "LANG": os.environ.get("LANG", "C.UTF-8"), "MPLCONFIGDIR": str(tmp / "mpl"),
        "MPLBACKEND": "agg", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "PYTHONNOUSERSITE": "1", "PYTHONSAFEPATH": "1",
        "PYTHONPATH": str(helpers),          # the teacher's full helpers (see the docstring)
        "SEQHW_STUDENT": student,            # whose variant is graded: the submitter's
    }
    for key in ("SEQCOURSE_SEED", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if key in os.environ:
            env[key] = os.environ[key]
    os.execve(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", str(conn),
                               "--IPKernelApp.ignore_cwd=True", *extra], env)


if __name__ == "__main__":
    main(sys.argv[1:])
