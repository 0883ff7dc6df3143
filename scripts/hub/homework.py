"""The teacher's homework cycle with nbgrader on the class server (run as root, like make hub).

    sudo .venv/bin/python scripts/hub/homework.py setup                 # once: course folder, exchange, grading user
    sudo .venv/bin/python scripts/hub/homework.py release 04_bptt --due "2026-12-09 15:59:00 UTC"
         (students: Assignments panel in JupyterLab -> Fetch, work, Submit)
    sudo .venv/bin/python scripts/hub/homework.py collect 04_bptt
    sudo .venv/bin/python scripts/hub/homework.py autograde 04_bptt
    sudo .venv/bin/python scripts/hub/homework.py feedback 04_bptt      # generate + release
         (students: Assignments panel -> Fetch Feedback)
    sudo .venv/bin/python scripts/hub/homework.py export --to grades.csv
    sudo .venv/bin/python scripts/hub/homework.py report 04_bptt        # the class report (item analysis)
    sudo .venv/bin/python scripts/hub/homework.py lock-course           # start.sh runs it: see below

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

- every student is graded against their own variant (helpers.exercises._core.variant): autograde
  runs nbgrader once per submitter and gives the grading kernel SEQHW_STUDENT = that submitter's
  id (the folder the vetted submission was collected into, never anything from the notebook);
  the test cells restore it if an answer cell edits os.environ (scripts/assignments.py);
- the grading kernel imports the teacher's FULL helpers (reference implementations included) from
  a copy made at every autograde in <sandbox-base>/lib (root:grading group, mode 750/640, under
  <sandbox-base> of mode 710): the students never can read it, the graded code can;
- feedback: nbgrader puts the hidden tests back into the autograded notebooks and would show them
  in the feedback (jupyter/nbgrader#1363). The feedback is therefore made from sanitized copies
  (<course folder>/feedback-source/): hidden-test regions cut from the test cells, their
  tracebacks reduced to the error line, and every output that quotes a line of a hidden test or
  of a @reference body replaced by a notice; the generated HTML is checked for hidden-test text
  before anything is released;
- report: per exercise the score distribution and the most frequent checker messages (the verdict
  lines of the test cells at grading time), as Markdown, HTML and a PNG plot, plus the submissions
  to look at by hand (answer cells that touch the grading identity, the checkers' modules or
  their source); written to <course folder>/reports/<assignment>/;
- lock-course: the course repository (reference answers in the chapters, reference
  implementations in helpers/, hidden tests in grading.toml) readable by root only: the repository
  folder becomes 711 (students' servers still pass through to .venv, which stays readable) and
  every other entry in it loses all permissions for other users. The students' servers import the
  student edition instead (jupyterhub_config.py, SEQHUB_STUDENT_EDITION).

Options common to all commands: --course-dir, --exchange, --course (seqcourse), --grader-user
(seqgrader), --sandbox-base (/var/lib/seqgrade). Environment: SEQHW_COURSE_DIR,
SEQHW_EXCHANGE_ROOT, SEQHW_COURSE_ID.
"""
from __future__ import annotations

import argparse
import collections
import html as htmlmod
import importlib.util
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
SECRET_MIN = 16          # a hidden-test / reference line shorter than this is too common to be evidence
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
HIDDEN_REGION = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.S)
HIDDEN_NOTE = "# （隐藏测试：由评分程序运行，内容不随反馈发回）\n"
SCRUBBED = ("【此输出已删除】其中引用了评分用的参考实现或隐藏测试的代码。"
            "(Output removed: it quoted the grader's reference code or hidden tests.)\n")
# answer-cell code worth a look by hand (report): the grading identity, the checkers' modules,
# reading source or memory
SUSPICIOUS = re.compile(r"SEQHW_STUDENT|JUPYTERHUB_USER|os\.environ|/proc/self|putenv|sys\.modules|"
                        r"importlib|getsource|__code__|ctypes|helpers[./]exercises|_core|base64|"
                        r"builtins|__import__")


def assignments_module():
    """scripts/assignments.py (the course's nbgrader build: exercise mapping, @reference strip)."""
    if "assignments" in sys.modules:
        return sys.modules["assignments"]
    spec = importlib.util.spec_from_file_location("assignments", ROOT / "scripts" / "assignments.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["assignments"] = mod
    spec.loader.exec_module(mod)
    return mod


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
        self.lib = self.sandbox_base / "lib"       # the full helpers for the grading kernel

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
        os.umask(0o077)                     # everything written here is root's alone
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chown(self.dir, 0, 0)
        os.chmod(self.dir, 0o700)
        for name in ("nbgrader_config.py", "source", "release", "gradebook.db"):
            src = source / name
            if src.is_dir():
                shutil.copytree(src, self.dir / name, dirs_exist_ok=True)
            elif src.is_file():
                shutil.copy2(src, self.dir / name)
        # assignments.py build writes it with umask 077 into a folder of mode 700; a build from an
        # older version (or copied in) is closed here too
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
        os.chown(self.sandbox_base, 0, pw.pw_gid)
        os.chmod(self.sandbox_base, 0o710)      # only root and the grading user pass
        self.refresh_helpers(pw)
        spec = self.kernels / "kernels" / KERNEL_NAME
        spec.mkdir(parents=True, exist_ok=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [str(VENV_BIN / "python"), str(HERE / "grading_kernel.py"),
                     "{connection_file}"],
            "display_name": "Python 3 (grading sandbox)", "language": "python",
            "interrupt_mode": "signal"}, indent=1))

    def refresh_helpers(self, pw) -> Path:
        """The teacher's full helpers/ (reference implementations included) for the grading
        kernel: <sandbox-base>/lib/helpers, root's, readable by the grading user's group only."""
        import compileall
        old = os.umask(0o027)
        try:
            self.lib.mkdir(mode=0o750, exist_ok=True)
            os.chown(self.lib, 0, pw.pw_gid)
            os.chmod(self.lib, 0o750)
            fresh = self.lib / f".helpers-{secrets.token_hex(4)}"
            shutil.copytree(ROOT / "helpers", fresh,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints"))
            compileall.compile_dir(str(fresh), quiet=1)      # the grading user cannot write caches
            for dirpath, dirnames, filenames in os.walk(fresh):
                os.chown(dirpath, 0, pw.pw_gid)
                os.chmod(dirpath, 0o750)
                for name in filenames:
                    os.chown(os.path.join(dirpath, name), 0, pw.pw_gid)
                    os.chmod(os.path.join(dirpath, name), 0o640)
            target = self.lib / "helpers"
            if target.exists():
                shutil.rmtree(target)
            os.rename(fresh, target)
        finally:
            os.umask(old)
        return target

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
                           SEQGRADE_SANDBOX=str(sandbox), SEQGRADE_CPU_LIMIT=str(cpu_limit),
                           SEQGRADE_STUDENT=student,       # whose variant: who submitted
                           SEQGRADE_HELPERS=str(self.lib), SEQGRADE_HIDE=str(self.exchange))
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
        old = os.umask(0o077)
        try:
            clean = self.sanitized_autograded(assignment)
            self.nbgrader("generate_feedback", assignment, "--force",
                          "--HTMLExporter.sanitize_html=True",
                          f"--CourseDirectory.autograded_directory={clean.name}", quiet=True)
        finally:
            os.umask(old)
        hidden = hidden_lines(self.source_notebooks(assignment))
        for page in (self.dir / "feedback").glob(f"*/{assignment}/*.html"):
            found = leaked(html_text(page.read_text(encoding="utf-8", errors="replace")), hidden)
            if found or "BEGIN HIDDEN TESTS" in page.read_text(encoding="utf-8", errors="replace"):
                raise HomeworkError(f"{page} still shows hidden-test code ({found[:2]}); "
                                    "nothing was released")
        self.nbgrader("release_feedback", assignment, quiet=True)
        n = len(list((self.dir / "feedback").glob(f"*/{assignment}/*.html")))
        log(f"feedback for {assignment}: {n} HTML files generated (hidden tests cut, outputs "
            f"quoting grader code removed) and released")

    def source_notebooks(self, assignment: str) -> list[dict]:
        return [json.loads(p.read_text(encoding="utf-8"))
                for p in sorted((self.dir / "source" / assignment).glob("*.ipynb"))]

    def sanitized_autograded(self, assignment: str) -> Path:
        """<course>/feedback-source/<student>/<assignment>/: the autograded notebooks without
        hidden tests and without outputs that quote grader code (see sanitize_notebook)."""
        clean = self.dir / "feedback-source"
        secrets_ = secret_lines(self.source_notebooks(assignment), self.lib / "helpers",
                                public_text(self.dir / "release" / assignment, self.lib / "helpers"))
        scrubbed = 0
        for folder in sorted((self.dir / "autograded").glob(f"*/{assignment}")):
            target = clean / folder.parent.name / assignment
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(folder, target)
            for path in target.glob("*.ipynb"):
                nb, n = sanitize_notebook(json.loads(path.read_text(encoding="utf-8")), secrets_)
                scrubbed += n
                path.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
        if scrubbed:
            log(f"feedback: {scrubbed} outputs quoting grader code removed")
        return clean

    # -- the class report ----------------------------------------------------------------------
    def report(self, assignment: str, out: Path | None = None) -> dict:
        need_root()
        out = out or self.dir / "reports" / assignment
        scores, graded, answers = {}, {}, {}
        with self.gradebook() as gb:
            for sub in gb.assignment_submissions(assignment):
                student = sub.student.id
                if not sub.notebooks:
                    continue
                scores[student] = {g.name: (g.score, g.max_score) for nb in sub.notebooks
                                   for g in nb.grades}
        for student in scores:
            paths = sorted((self.dir / "autograded" / student / assignment).glob("*.ipynb"))
            if paths:
                graded[student] = json.loads(paths[0].read_text(encoding="utf-8"))
        if not scores:
            raise HomeworkError(f"no graded submissions of {assignment}: run autograde first")
        released = sorted((self.dir / "release" / assignment).glob("*.ipynb"))
        template = json.loads(released[0].read_text(encoding="utf-8")) if released else None
        summary = class_report(assignment, scores, graded, out, template)
        log(f"class report of {assignment} ({len(scores)} students): {out / 'report.md'}, "
            f"{out / 'report.html'}, {out / 'report.png'}")
        return summary

    def export(self, to: Path) -> None:
        need_root()
        self.nbgrader("export", f"--to={to.resolve()}", quiet=True)
        log(f"grades exported to {to}")


# ------------------------------------------------------------------------------------------
# what must not reach a student: hidden tests and the bodies of @reference functions
# ------------------------------------------------------------------------------------------
def norm(text: str) -> str:
    return " ".join(text.split())


def _cell_source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def hidden_lines(source_notebooks: list[dict]) -> set[str]:
    """Every line (whitespace collapsed) inside a ### BEGIN/END HIDDEN TESTS region, except lines
    too short or too generic to be evidence (imports, the markers, `del _hidden_tests`)."""
    out = set()
    for nb in source_notebooks:
        for cell in nb.get("cells", []):
            for region in re.findall(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS",
                                     _cell_source(cell), re.S):
                for line in region.splitlines():
                    line = norm(line)
                    if len(line) >= SECRET_MIN and not re.match(r"(import|from)\s", line) \
                            and not line.startswith(("def _hidden_tests(", "_hidden_tests(", "del _hidden")):
                        out.add(line)
    return out


def reference_lines(helpers: Path) -> set[str]:
    """Every line of the body of every @reference function in helpers/exercises/*.py."""
    A = assignments_module()
    out = set()
    for path in sorted((helpers / "exercises").glob("*.py")):
        for body in A.reference_bodies(path.read_text(encoding="utf-8")).values():
            out |= {norm(line) for line in body.splitlines() if len(norm(line)) >= SECRET_MIN}
    return out


def public_text(release: Path | None, helpers: Path = ROOT / "helpers") -> str:
    """What the students have anyway: the release's notebooks (none if `release` is None) and the
    student edition's helpers (`helpers` stripped), one normalised line each."""
    A = assignments_module()
    lines = []
    for path in sorted(release.glob("*.ipynb")) if release is not None else []:
        for cell in json.loads(path.read_text(encoding="utf-8")).get("cells", []):
            lines += [norm(x) for x in _cell_source(cell).splitlines()]
    for path in sorted(helpers.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if path.parent.name == "exercises":
            text = A.strip_references(text, str(path))
        lines += [norm(x) for x in text.splitlines()]
    return "\n".join(lines)


def secret_lines(source_notebooks: list[dict], helpers: Path, public: str) -> set[str]:
    """Lines of hidden tests and @reference bodies that the students do not already have: a line
    that the public text holds, as a line or inside a longer one (the same normalisation written
    with a ``.clamp_min`` in an unmarked helper), reveals nothing."""
    found = hidden_lines(source_notebooks) | reference_lines(helpers)
    return {line for line in found if line not in public and not re.match(r"(import|from)\s", line)}


def leaked(text: str, lines) -> list[str]:
    """The lines of `lines` that occur in `text` (both with whitespace collapsed)."""
    flat = norm(ANSI.sub("", text))
    return sorted(line for line in lines if line in flat)


def _output_text(output: dict) -> str:
    parts = []
    for key in ("text", "traceback", "evalue", "ename"):
        value = output.get(key)
        parts.append("".join(value) if isinstance(value, list) else str(value or ""))
    for value in (output.get("data") or {}).values():
        parts.append("".join(value) if isinstance(value, list) else str(value))
    return "\n".join(parts)


def sanitize_notebook(nb: dict, secret: set[str]) -> tuple[dict, int]:
    """The autograded notebook as feedback may show it: test cells without their hidden-test
    region and with tracebacks reduced to the error line; every output quoting a secret line
    replaced by a notice. Returns (notebook, outputs replaced)."""
    nb = json.loads(json.dumps(nb))
    replaced = 0
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        src = _cell_source(cell)
        if "### BEGIN HIDDEN TESTS" in src:
            cell["source"] = HIDDEN_REGION.sub(HIDDEN_NOTE, src)
        outputs = []
        for output in cell.get("outputs", []):
            if meta.get("grade") and output.get("output_type") == "error":
                output = {**output, "traceback": [f"{output.get('ename', '')}: {output.get('evalue', '')}"]}
            if secret and leaked(_output_text(output), secret):
                output = {"output_type": "stream", "name": "stderr", "text": SCRUBBED}
                replaced += 1
            outputs.append(output)
        cell["outputs"] = outputs
    return nb, replaced


def html_text(page: str) -> str:
    """The text a browser shows of an HTML page (tags out, entities decoded)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return htmlmod.unescape(re.sub(r"<[^>]+>", "", page))


# ------------------------------------------------------------------------------------------
# the class report (item analysis)
# ------------------------------------------------------------------------------------------
VERDICT = re.compile(r"^\s*(【(?:不对|未作答|已收到)】.*)$", re.M)


def hint_key(line: str) -> str:
    """A checker message with its numbers blanked, so that the same hint counts once."""
    line = norm(line)
    line = re.sub(r"-?\d+(\.\d+)?(e-?\d+)?", "#", line)
    return line[:160] + ("…" if len(line) > 160 else "")


def exercise_cells(nb: dict) -> dict[str, dict]:
    """{test grade_id: {"answer": answer cell source, "hints": verdict lines of the test cell}}."""
    out, answer = {}, ""
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") != "code":
            continue
        if meta.get("solution"):
            answer = _cell_source(cell)
        elif meta.get("grade"):
            text = "".join(_output_text(o) for o in cell.get("outputs", []) if o.get("output_type") != "error")
            hints = [m.group(1) for m in VERDICT.finditer(ANSI.sub("", text))]
            for o in cell.get("outputs", []):      # a failed hidden test says why in its error
                if o.get("output_type") == "error" and "隐藏测试" in str(o.get("evalue", "")):
                    hints.append(f"{o.get('ename')}: {o.get('evalue')}")
            out[meta.get("grade_id", "")] = {"answer": answer, "hints": hints}
            answer = ""
    return out


def class_report(assignment: str, scores: dict[str, dict[str, tuple]], graded: dict[str, dict],
                 out: Path, template: dict | None = None) -> dict:
    """Write report.md, report.html and report.png into `out`: per exercise how many students
    scored full, part and zero points, the mean, and the most frequent checker messages; plus the
    submissions whose answer cells touch the grading identity or the checkers (look by hand).
    `scores`: {student: {grade_id: (score, max_score)}}; `graded`: {student: autograded notebook};
    `template`: the released notebook (its answer cells' own lines, e.g. the import of the
    checkers, are not held against anyone)."""
    order = {}
    for nb in graded.values():                      # the notebook's order of the exercises
        for gid in exercise_cells(nb):
            order.setdefault(gid, len(order))
    ids = sorted({gid for s in scores.values() for gid in s}, key=lambda g: (order.get(g, len(order)), g))
    rows, flagged = [], []
    for gid in ids:
        got = [s[gid] for s in scores.values() if gid in s]
        top = max((m or 0) for _, m in got) if got else 0
        full = sum(1 for sc, m in got if m and (sc or 0) >= m)
        zero = sum(1 for sc, _ in got if not sc)
        hints = collections.Counter()
        for nb in graded.values():
            for line in exercise_cells(nb).get(gid, {}).get("hints", []):
                hints[hint_key(line)] += 1
        rows.append({"exercise": gid.removesuffix("_test"), "grade_id": gid, "points": top,
                     "students": len(got), "full": full, "part": len(got) - full - zero, "zero": zero,
                     "mean": round(sum((sc or 0) for sc, _ in got) / len(got), 2) if got else 0.0,
                     "hints": hints.most_common(3)})
    given = {gid: {norm(x) for x in c["answer"].splitlines()}
             for gid, c in (exercise_cells(template) if template else {}).items()}
    for student, nb in sorted(graded.items()):
        for gid, cell in exercise_cells(nb).items():
            own = "\n".join(x for x in cell["answer"].splitlines() if norm(x) not in given.get(gid, set()))
            found = sorted(set(SUSPICIOUS.findall(own)))
            if found:
                flagged.append({"student": student, "exercise": gid.removesuffix("_test"), "uses": found})
    out.mkdir(parents=True, exist_ok=True)
    title = f"作业 {assignment} 班级报告（{len(scores)} 名学生）"
    md = [f"# {title}", "", "| 练习 | 分值 | 满分 | 部分分 | 零分 | 平均分 | 最常见的提示（次数） |",
          "|---|---|---|---|---|---|---|"]
    for r in rows:
        hint = "<br>".join(f"{h.replace('|', '/')}（{n}）" for h, n in r["hints"]) or "—"
        md.append(f"| {r['exercise']} | {r['points']:g} | {r['full']} | {r['part']} | {r['zero']} | "
                  f"{r['mean']:g} | {hint} |")
    md += ["", "![每道题的得分分布](report.png)", ""]
    if flagged:
        md += ["## 需要人工复核的提交", "",
               "答案单元格里出现了评分身份、检查函数模块或读取源码的代码（可能是正常用法，请打开看看）：", ""]
        md += [f"- {f['student']}，{f['exercise']}：{', '.join(f['uses'])}" for f in flagged]
    (out / "report.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    esc = htmlmod.escape
    body = [f"<h1>{esc(title)}</h1>", "<table border='1' cellspacing='0' cellpadding='4'>",
            "<tr><th>练习</th><th>分值</th><th>满分</th><th>部分分</th><th>零分</th><th>平均分</th>"
            "<th>最常见的提示（次数）</th></tr>"]
    for r in rows:
        hint = "<br>".join(f"{esc(h)}（{n}）" for h, n in r["hints"]) or "—"
        body.append(f"<tr><td>{esc(r['exercise'])}</td><td>{r['points']:g}</td><td>{r['full']}</td>"
                    f"<td>{r['part']}</td><td>{r['zero']}</td><td>{r['mean']:g}</td><td>{hint}</td></tr>")
    body += ["</table>", "<p><img src='report.png' alt='每道题的得分分布' style='max-width:100%'></p>"]
    if flagged:
        body += ["<h2>需要人工复核的提交</h2><ul>"] + [
            f"<li>{esc(f['student'])}，{esc(f['exercise'])}：{esc(', '.join(f['uses']))}</li>" for f in flagged] + ["</ul>"]
    (out / "report.html").write_text("<!doctype html><meta charset='utf-8'><title>" + esc(title) +
                                     "</title>\n" + "\n".join(body) + "\n", encoding="utf-8")
    plot_report(rows, title, out / "report.png")
    summary = {"assignment": assignment, "students": len(scores), "exercises": rows, "flagged": flagged}
    (out / "report.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    return summary


def plot_report(rows: list[dict], title: str, path: Path) -> None:
    """One horizontal bar per exercise: how many students scored full, part and zero points."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sys.path.insert(0, str(ROOT))
    from helpers.plots.plotting import use_chinese_font
    use_chinese_font()
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(rows) + 1.6), dpi=110)
    names = [r["exercise"] for r in rows][::-1]
    left = [0] * len(rows)
    for key, label, color in (("full", "满分", "#2e7d32"), ("part", "部分分", "#f9a825"), ("zero", "零分", "#c62828")):
        values = [r[key] for r in rows][::-1]
        ax.barh(names, values, left=left, color=color, label=label)
        for i, (v, l0) in enumerate(zip(values, left)):
            if v:
                ax.text(l0 + v / 2, i, str(v), ha="center", va="center", color="white", fontsize=10)
        left = [a + b for a, b in zip(left, values)]
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("学生人数")
    ax.set_title(title)
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=9, frameon=False)
    ax.set_xlim(0, max(left + [1]))
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path)
    plt.close(fig)


# ------------------------------------------------------------------------------------------
# the course repository closed to students
# ------------------------------------------------------------------------------------------
OPEN_ENTRIES = {".venv"}     # what the students' servers run: the interpreter and the packages


def lock_course(root: Path = ROOT) -> dict[str, int]:
    """Close the course repository to other users: `root` becomes 711 (passable, not listable) and
    every entry in it except .venv loses the other users' permissions. Returns the old modes of
    what changed ({path: mode}) for restore_modes."""
    changed = {}
    mode = stat.S_IMODE(root.stat().st_mode)
    if mode & 0o077 != 0o011:
        changed[str(root)] = mode
        os.chmod(root, (mode & 0o700) | 0o011)
    for entry in root.iterdir():
        if entry.name in OPEN_ENTRIES or entry.is_symlink():
            continue
        mode = stat.S_IMODE(entry.lstat().st_mode)
        if mode & 0o007:
            changed[str(entry)] = mode
            os.chmod(entry, mode & ~0o007)
    return changed


def restore_modes(saved: dict[str, int]) -> None:
    for path, mode in saved.items():
        try:
            os.chmod(path, mode)
        except OSError:
            pass


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
    p = sub.add_parser("report", help="the class report: score distribution and frequent hints per exercise")
    p.add_argument("assignment")
    p.add_argument("--out", help="folder (default <course folder>/reports/<assignment>)")
    p = sub.add_parser("lock-course", help="close the course repository to other users (make hub does it)")
    p.add_argument("--root", default=str(ROOT))
    args = parser.parse_args(argv)
    try:
        if args.cmd == "install-config":
            print(f"installed {install_config()}")
            return 0
        if args.cmd == "lock-course":
            need_root()
            changed = lock_course(Path(args.root).resolve())
            log(f"course repository {args.root}: readable by root only ({len(changed)} modes changed; "
                ".venv stays open for the students' servers)")
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
        elif args.cmd == "report":
            summary = course.report(args.assignment, Path(args.out) if args.out else None)
            for r in summary["exercises"]:
                print(f"{r['exercise']}: full {r['full']}, part {r['part']}, zero {r['zero']}, "
                      f"mean {r['mean']:g}/{r['points']:g}")
    except (HomeworkError, subprocess.TimeoutExpired) as exc:
        print(f"homework.py {args.cmd}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
