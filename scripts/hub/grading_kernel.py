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

The grading user owns nothing but the sandbox: the teacher's course folder, the gradebook and the
students' homes (mode 700) are closed to it, so the code can read only what every user of the
machine may read (the course's venv and repository). nbgrader itself keeps running as the
teacher and writes the grades; the kernel cannot touch them. homework.py kills every process of
the grading user after each submission and removes the sandbox.
"""
from __future__ import annotations

import ctypes
import os
import pwd
import resource
import shutil
import sys
from pathlib import Path

PR_SET_NO_NEW_PRIVS = 38


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
        "PYTHONNOUSERSITE": "1",
    }
    for key in ("SEQCOURSE_SEED", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if key in os.environ:
            env[key] = os.environ[key]
    os.execve(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", str(conn), *extra],
              env)


if __name__ == "__main__":
    main(sys.argv[1:])
