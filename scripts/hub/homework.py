"""The teacher's homework cycle with nbgrader on the class server (run as root, like make hub).

    sudo .venv/bin/python scripts/hub/homework.py setup                 # once: course folder, exchange, grading user
    sudo .venv/bin/python scripts/hub/homework.py release 04_bptt --due "2026-12-09 15:59:00 UTC"
         (students: Assignments panel in JupyterLab -> Fetch, work, Submit)
    sudo .venv/bin/python scripts/hub/homework.py collect 04_bptt
    sudo .venv/bin/python scripts/hub/homework.py autograde 04_bptt
    sudo .venv/bin/python scripts/hub/homework.py feedback 04_bptt      # generate + release
         (students: Assignments panel -> Fetch Feedback)
    sudo .venv/bin/python scripts/hub/homework.py export --to grades.csv

Every step is nbgrader's own command (generate_assignment, db, release_assignment, collect,
autograde, generate_feedback, release_feedback, export), run in the teacher's course folder
(default /srv/nbgrader/seqcourse, root only, mode 700) against the exchange (default
/srv/nbgrader/exchange, see scripts/hub/nbgrader_config.py). What this wrapper adds:

- setup: copies the course folder that `scripts/assignments.py build` made (build/nbgrader:
  source/, release/, nbgrader_config.py), installs the exchange config for the students' servers
  (install-config) and creates the exchange (mode 1777, root's) and the grading user (seqgrader);
- collect: before nbgrader collects, every submission in the inbound is vetted and one that fails
  is moved to <course folder>/rejected/ instead: nbgrader's own owner check only warns, so without
  this a student could submit under another student's name (and replace their work), or submit a
  symlink that makes root copy (and later hand back as feedback) a file the student cannot read.
  Accepted: a real folder `<student>+<assignment>+<time>+<random>` owned by that student's system
  account, holding only real files and folders of theirs (no links, no hard links);
- autograde: the students' code does NOT run as root. Each submission is graded on its own, with
  nbgrader's Execute preprocessor pointed at the kernel spec `seqgrade`
  (scripts/hub/grading_kernel.py): the kernel runs as the unprivileged grading user in a fresh
  sandbox folder, with CPU and process limits; nbgrader's per-cell time limit (Execute.timeout,
  from the course's nbgrader_config.py or --cell-timeout) interrupts an endless loop. After each
  submission every process of the grading user is killed and the sandbox removed. The time, the
  kernel's peak memory (VmHWM) and its CPU seconds are printed (and written with --json).

Options common to all commands: --course-dir, --exchange, --course (seqcourse), --grader-user
(seqgrader), --sandbox-base (/var/lib/seqgrade). Environment: SEQHW_COURSE_DIR,
SEQHW_EXCHANGE_ROOT, SEQHW_COURSE_ID.
"""
from __future__ import annotations

import argparse
import json
import os
import pwd
import re
import secrets
import shutil
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
VENV_BIN = ROOT / ".venv" / "bin"
NBGRADER = VENV_BIN / "nbgrader"
sys.path.insert(0, str(HERE))
import students as accounts  # noqa: E402  (scripts/hub/students.py)

GRADER_MARKER = "seqcourse-hub grader"
KERNEL_NAME = "seqgrade"


class HomeworkError(Exception):
    pass


def log(msg: str) -> None:
    print(f"[homework {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ------------------------------------------------------------------------------------------
# the exchange config for everyone's servers
# ------------------------------------------------------------------------------------------
def install_config(venv: Path = ROOT / ".venv") -> Path:
    """Copy scripts/hub/nbgrader_config.py to <venv>/etc/jupyter/ (atomically; idempotent)."""
    dest_dir = venv / "etc" / "jupyter"
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / "nbgrader_config.py"
    text = (HERE / "nbgrader_config.py").read_text(encoding="utf-8")
    if dest.exists() and dest.read_text(encoding="utf-8") == text:
        return dest
    tmp = dest_dir / f".nbgrader_config.py.{os.getpid()}.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, 0o644)
    os.replace(tmp, dest)
    return dest


# ------------------------------------------------------------------------------------------
class Course:
    def __init__(self, args: argparse.Namespace):
        self.dir = Path(args.course_dir).resolve()
        self.exchange = Path(args.exchange).resolve()
        self.course = args.course
        self.grader = args.grader_user
        self.sandbox_base = Path(args.sandbox_base).resolve()
        self.kernels = self.dir / ".seqgrade"

    # -- nbgrader ----------------------------------------------------------------------------
    def env(self, **extra: str) -> dict:
        return {**os.environ, "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
                "SEQHW_EXCHANGE_ROOT": str(self.exchange), "SEQHW_COURSE_ID": self.course,
                **extra}

    def nbgrader(self, *args: str, env: dict | None = None, check: bool = True,
                 timeout: float = 1800, quiet: bool = False) -> subprocess.CompletedProcess:
        cmd = [str(NBGRADER), *args, f"--Exchange.root={self.exchange}",
               f"--CourseDirectory.course_id={self.course}", f"--CourseDirectory.root={self.dir}"]
        proc = subprocess.run(cmd, cwd=self.dir, env=env or self.env(), capture_output=True,
                              text=True, timeout=timeout)
        if not quiet or proc.returncode:
            out = (proc.stdout + proc.stderr).strip()
            if out:
                print("\n".join("    " + line for line in out.splitlines()), flush=True)
        if check and proc.returncode:
            raise HomeworkError(f"nbgrader {args[0]} failed (exit {proc.returncode})")
        return proc

    def gradebook(self):
        from nbgrader.api import Gradebook
        return Gradebook(f"sqlite:///{self.dir / 'gradebook.db'}", course_id=self.course)

    # -- setup -------------------------------------------------------------------------------
    def setup(self, source: Path, students: list[str]) -> None:
        need_root()
        if not (source / "nbgrader_config.py").exists():
            raise HomeworkError(f"{source} is not an nbgrader course folder (no nbgrader_config.py): "
                                "build it with `.venv/bin/python scripts/assignments.py build`")
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chown(self.dir, 0, 0)
        os.chmod(self.dir, 0o700)
        for name in ("nbgrader_config.py", "source", "release", "gradebook.db"):
            src = source / name
            if src.is_dir():
                shutil.copytree(src, self.dir / name, dirs_exist_ok=True)
            elif src.is_file():
                shutil.copy2(src, self.dir / name)
        # the build holds the answers, the hidden tests and a gradebook: on a shared machine
        # (e.g. build/nbgrader in the repository, which every student may pass) only root may look
        os.chmod(source, 0o700)
        self.ensure_exchange()
        self.ensure_grader()
        install_config()
        if students:
            roster = self.dir / "students.csv"
            roster.write_text("id\n" + "".join(f"{s}\n" for s in students))
            self.nbgrader("db", "student", "import", str(roster), quiet=True)
        log(f"course folder {self.dir} (mode 700), exchange {self.exchange} (mode 1777), "
            f"grading user {self.grader}; {len(students)} students in the gradebook")

    def ensure_exchange(self) -> None:
        """The exchange root: root's, 1777 (nbgrader wants o+rwx; the sticky bit stops a student
        from renaming or deleting the course's folder and putting their own in its place)."""
        self.exchange.mkdir(parents=True, exist_ok=True)
        st = self.exchange.stat()
        if st.st_uid != 0:
            raise HomeworkError(f"{self.exchange} must belong to root")
        os.chmod(self.exchange, 0o1777)
        course = self.exchange / self.course
        if course.is_symlink() or (course.exists() and course.stat().st_uid != 0):
            raise HomeworkError(f"{course} exists and is not root's: someone made it before the "
                                "teacher; remove it and run setup again")
        course.mkdir(exist_ok=True)
        os.chmod(course, 0o755)

    def ensure_grader(self) -> None:
        try:
            pw = pwd.getpwnam(self.grader)
        except KeyError:
            nologin = shutil.which("nologin") or "/usr/sbin/nologin"
            subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                            "--shell", nologin, "--user-group", "--comment", GRADER_MARKER,
                            self.grader], check=True)
            pw = pwd.getpwnam(self.grader)
            log(f"created the grading user {self.grader} (uid {pw.pw_uid}, no login, no home)")
        if pw.pw_uid == 0:
            raise HomeworkError("the grading user must not be root")
        self.sandbox_base.mkdir(parents=True, exist_ok=True)
        os.chown(self.sandbox_base, 0, 0)
        os.chmod(self.sandbox_base, 0o711)
        spec = self.kernels / "kernels" / KERNEL_NAME
        spec.mkdir(parents=True, exist_ok=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [str(VENV_BIN / "python"), str(HERE / "grading_kernel.py"),
                     "{connection_file}"],
            "display_name": "Python 3 (grading sandbox)", "language": "python",
            "interrupt_mode": "signal"}, indent=1))

    # -- release -----------------------------------------------------------------------------
    def release(self, assignment: str, due: str | None) -> None:
        need_root()
        self.ensure_exchange()
        with self.gradebook() as gb:
            known = [a.name for a in gb.assignments]
            has_notebooks = assignment in known and bool(gb.find_assignment(assignment).notebooks)
        if not has_notebooks or not (self.dir / "release" / assignment).is_dir():
            log(f"{assignment} not in the gradebook yet: nbgrader generate_assignment")
            self.nbgrader("generate_assignment", assignment, "--force")
        if due:
            self.nbgrader("db", "assignment", "add", assignment, f"--duedate={due}")
        self.nbgrader("release_assignment", assignment, "--force")
        log(f"released {assignment}" + (f", due {due}" if due else ""))

    # -- collect -----------------------------------------------------------------------------
    def vet_inbound(self, assignment: str) -> list[dict]:
        """Move every submission that is not what it claims to be out of the inbound."""
        inbound = self.exchange / self.course / "inbound"
        rejected_dir = self.dir / "rejected"
        out = []
        if not inbound.is_dir():
            return out
        for entry in sorted(inbound.iterdir()):
            parts = entry.name.rsplit("+", 3)
            if len(parts) < 3 or parts[1] != assignment:
                continue
            reason = submission_problem(entry, parts[0])
            if reason:
                rejected_dir.mkdir(mode=0o700, exist_ok=True)
                target = rejected_dir / f"{entry.name}.{secrets.token_hex(4)}"
                os.rename(entry, target)
                out.append({"submission": entry.name, "claimed": parts[0], "reason": reason})
                log(f"REJECTED {entry.name}: {reason} (moved to {target})")
        return out

    def collect(self, assignment: str) -> list[dict]:
        need_root()
        rejected = self.vet_inbound(assignment)
        self.nbgrader("collect", assignment, "--update")
        got = sorted(p.parent.name for p in (self.dir / "submitted").glob(f"*/{assignment}"))
        log(f"collected {assignment} from {len(got)} students: {', '.join(got)}; "
            f"{len(rejected)} submissions rejected")
        return rejected

    # -- autograde ---------------------------------------------------------------------------
    def autograde(self, assignment: str, only: list[str] | None, cell_timeout: int | None,
                  cpu_limit: int) -> list[dict]:
        need_root()
        self.ensure_grader()
        submitted = sorted(p.parent.name for p in (self.dir / "submitted").glob(f"*/{assignment}"))
        todo = [s for s in submitted if not only or s in only]
        if not todo:
            raise HomeworkError(f"no collected submissions of {assignment}: run collect first")
        grader = pwd.getpwnam(self.grader)
        results = []
        for student in todo:
            if kill_all_of(grader.pw_uid):
                log(f"killed processes left by the grading user before grading {student}")
            sandbox = self.sandbox_base / f"{student}-{secrets.token_hex(6)}"
            sandbox.mkdir(mode=0o700)
            os.chown(sandbox, grader.pw_uid, grader.pw_gid)
            args = ["autograde", assignment, f"--student={student}", "--force",
                    f"--Execute.kernel_name={KERNEL_NAME}"]
            if cell_timeout:
                args.append(f"--Execute.timeout={cell_timeout}")
            env = self.env(JUPYTER_PATH=str(self.kernels), SEQGRADE_USER=self.grader,
                           SEQGRADE_SANDBOX=str(sandbox), SEQGRADE_CPU_LIMIT=str(cpu_limit))
            meter = UidMeter(grader.pw_uid).start()
            t0 = time.monotonic()
            try:
                proc = self.nbgrader(*args, env=env, check=False, quiet=True)
            finally:
                wall = time.monotonic() - t0
                meter.stop()
                left = kill_all_of(grader.pw_uid)
                shutil.rmtree(sandbox, ignore_errors=True)
            row = {"student": student, "wall_s": round(wall, 2), "exit": proc.returncode,
                   "kernel_peak_rss_mb": round(meter.peak_rss / 2**20, 1),
                   "kernel_cpu_s": round(meter.cpu_seconds, 2), "killed_leftovers": left}
            results.append(row)
            log(f"autograded {student}: {wall:.1f} s, kernel peak RSS "
                f"{row['kernel_peak_rss_mb']:.0f} MB, kernel CPU {row['kernel_cpu_s']:.1f} s"
                + (f", killed {left} processes it left behind" if left else "")
                + ("" if proc.returncode == 0 else f", nbgrader exit {proc.returncode}"))
            if proc.returncode:
                raise HomeworkError(f"nbgrader autograde failed for {student}")
        return results

    # -- feedback, export ------------------------------------------------------------------------
    def feedback(self, assignment: str) -> None:
        need_root()
        self.nbgrader("generate_feedback", assignment, "--force",
                      "--HTMLExporter.sanitize_html=True", quiet=True)
        self.nbgrader("release_feedback", assignment, quiet=True)
        n = len(list((self.dir / "feedback").glob(f"*/{assignment}/*.html")))
        log(f"feedback for {assignment}: {n} HTML files generated and released")

    def export(self, to: Path) -> None:
        need_root()
        self.nbgrader("export", f"--to={to.resolve()}", quiet=True)
        log(f"grades exported to {to}")


def submission_problem(entry: Path, claimed: str) -> str:
    """Why a submission in the inbound is not acceptable ('' when it is)."""
    try:
        owner = pwd.getpwnam(claimed)
    except KeyError:
        return f"claims to be from {claimed!r}, who has no account here"
    st = entry.lstat()
    if stat.S_ISLNK(st.st_mode):
        return f"is a symbolic link (to {os.readlink(entry)!r}), not a folder"
    if not stat.S_ISDIR(st.st_mode):
        return "is not a folder"
    if st.st_uid != owner.pw_uid:
        try:
            real = pwd.getpwuid(st.st_uid).pw_name
        except KeyError:
            real = str(st.st_uid)
        return f"claims to be from {claimed} but belongs to {real}"
    for dirpath, dirnames, filenames in os.walk(entry):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            s = path.lstat()
            rel = path.relative_to(entry)
            if stat.S_ISLNK(s.st_mode):
                return f"contains a symbolic link {rel} -> {os.readlink(path)!r}"
            if not (stat.S_ISREG(s.st_mode) or stat.S_ISDIR(s.st_mode)):
                return f"contains {rel}, which is neither a file nor a folder"
            if s.st_uid != owner.pw_uid:
                return f"contains {rel}, which does not belong to {claimed}"
            if stat.S_ISREG(s.st_mode) and s.st_nlink != 1:
                return f"contains {rel}, a hard link"
    return ""


class UidMeter:
    """Peak resident memory (VmHWM) of the largest process, and the CPU seconds of all processes,
    of one user, sampled every 0.1 s (the grading kernel and anything it starts)."""

    def __init__(self, uid: int, interval: float = 0.1):
        self.uid, self.interval = uid, interval
        self.peak_rss = 0
        self._cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @property
    def cpu_seconds(self) -> float:
        return sum(self._cpu.values())

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self):
        tick = os.sysconf("SC_CLK_TCK")
        while not self._stop.wait(self.interval):
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    status = (entry / "status").read_text()
                    if f"\nUid:\t{self.uid}\t" not in status:
                        continue
                    hwm = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
                    if hwm:
                        self.peak_rss = max(self.peak_rss, int(hwm.group(1)) * 1024)
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    self._cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
                except (OSError, IndexError, ValueError):
                    continue


def live_pids_of(uid: int) -> list[int]:
    """Processes of `uid` that are not zombies."""
    return accounts.pids_of(uid, live=True)


def kill_all_of(uid: int, limit: float = 10) -> int:
    """SIGKILL every process of `uid` until none is left alive (also one forked meanwhile)."""
    killed, t0 = 0, time.monotonic()
    while live_pids_of(uid):
        killed += accounts.kill_processes_of(uid)
        time.sleep(0.1)
        if time.monotonic() - t0 > limit:
            raise HomeworkError(f"processes of uid {uid} keep coming back: {live_pids_of(uid)}")
    return killed


def need_root() -> None:
    if os.geteuid() != 0:
        raise HomeworkError("run as root: the course folder is root's, and grading switches to "
                            "the unprivileged grading user")


def class_list() -> list[str]:
    users = ROOT / "artifacts" / "hub" / "users.txt"
    return users.read_text().split() if users.exists() else []


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--course-dir", default=os.environ.get("SEQHW_COURSE_DIR",
                                                               "/srv/nbgrader/seqcourse"))
    parser.add_argument("--exchange", default=os.environ.get("SEQHW_EXCHANGE_ROOT",
                                                             "/srv/nbgrader/exchange"))
    parser.add_argument("--course", default=os.environ.get("SEQHW_COURSE_ID", "seqcourse"))
    parser.add_argument("--grader-user", default="seqgrader")
    parser.add_argument("--sandbox-base", default="/var/lib/seqgrade")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("install-config", help="install the exchange config into .venv/etc/jupyter")
    p = sub.add_parser("setup")
    p.add_argument("--from", dest="source", default=str(ROOT / "build" / "nbgrader"))
    p.add_argument("--students", nargs="*", help="default: artifacts/hub/users.txt")
    p = sub.add_parser("release")
    p.add_argument("assignment")
    p.add_argument("--due", help='e.g. "2026-12-09 15:59:00 UTC"')
    p = sub.add_parser("collect")
    p.add_argument("assignment")
    p.add_argument("--json", help="write the rejected submissions here")
    p = sub.add_parser("autograde")
    p.add_argument("assignment")
    p.add_argument("--student", nargs="*")
    p.add_argument("--cell-timeout", type=int, help="seconds per cell (default: the course config)")
    p.add_argument("--cpu-limit", type=int, default=600, help="CPU seconds per kernel")
    p.add_argument("--json", help="write the timings and memory here")
    p = sub.add_parser("feedback")
    p.add_argument("assignment")
    p = sub.add_parser("export")
    p.add_argument("--to", default="grades.csv")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "install-config":
            print(f"installed {install_config()}")
            return 0
        course = Course(args)
        if args.cmd == "setup":
            course.setup(Path(args.source), args.students if args.students is not None else class_list())
        elif args.cmd == "release":
            course.release(args.assignment, args.due)
        elif args.cmd == "collect":
            rejected = course.collect(args.assignment)
            if args.json:
                Path(args.json).write_text(json.dumps(rejected, indent=1, ensure_ascii=False))
        elif args.cmd == "autograde":
            rows = course.autograde(args.assignment, args.student, args.cell_timeout, args.cpu_limit)
            if args.json:
                Path(args.json).write_text(json.dumps(rows, indent=1))
        elif args.cmd == "feedback":
            course.feedback(args.assignment)
        elif args.cmd == "export":
            course.export(Path(args.to))
    except (HomeworkError, subprocess.TimeoutExpired) as exc:
        print(f"homework.py {args.cmd}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
