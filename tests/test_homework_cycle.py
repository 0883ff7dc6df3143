"""One week of homework on the class hub, end to end, with nbgrader's own exchange and grader.

Real hub (scripts/hub/jupyterhub_config.py through scripts/hub/loadtest.py's helpers), real
temporary system users, real HTTP to each student's own server. The teacher is root running
scripts/hub/homework.py (nbgrader's commands underneath); the assignment is chapter 04 as
`scripts/assignments.py build` makes it, with per-student variants
(helpers.exercises._core.variant). As on a real class server, the students' servers run the
student edition (scripts/assignments.py student-edition: @reference bodies stripped) and the
course repository is closed to them (homework.py lock-course) for the whole test. Four students
fetch the assignment in their own JupyterLab server through nbgrader's server API (what the
Assignments panel calls), and submit:

    correct  the reference answers, computed for their own variant
    wrong    a classmate's (correct's) correct numbers where the answer is a value, a typical
             mistake where it is a function
    blank    the release as fetched
    hostile  see make_submissions: an endless loop, an edited test cell, code that probes the
             grader and tries to carry the reference out, and a classmate's numbers with
             os.environ["SEQHW_STUDENT"] set to the classmate

What it proves:
- variants: correct's and wrong's expected answers differ (at least one exercise); the reference
  solution passes every test cell for 20 student identities (one IPython process outside the
  hub and nbgrader: the chapter once, then only the answer and test cells per identity); a
  classmate's numbers score 0 on every exercise whose answer differs between the two, also when
  the answer cell sets SEQHW_STUDENT to the classmate;
- the scores equal what the course's checkers say for each answer (the same independent IPython
  run, the test cells as the grader restores them), the edited test cells are restored, the
  endless loop is cut by the time limit and scores zero;
- every attempt of the hostile student gets nothing that is not theirs (own server and grading
  time); the grading kernel reads the teacher's full helpers, the students' kernels the edition;
- feedback reaches each student and nobody else, without hidden tests and without the reference
  source the hostile printed at grading time;
- as a student's system user (runuser), no file readable anywhere on the machine holds a line of a
  hidden test or of a @reference body (tests/readscan.py: course files, helpers, build output,
  exchange, feedback, git objects);
- the class report (homework.py report) and the CSV export have every student;
- what a student meets in JupyterLab: nbgrader's teacher panels (formgrader, course list,
  "Create Assignment") are disabled in the page config and the formgrader is not served, the
  Assignment List and Validate are not; a terminal opens and runs bash as the student.
Needs root (temporary users), the hub packages and nbgrader; in CI (CI=true) a missing piece is a
failure, elsewhere a skip. SEQHW_TEST_CELL_TIMEOUT (default 30 s) is the per-cell time limit the
assignment is built with for the test.
"""
from __future__ import annotations

import ast
import csv
import json
import os
import pwd
import re
import secrets
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HUB = ROOT / "scripts" / "hub"
VENV_BIN = ROOT / ".venv" / "bin"
PY = VENV_BIN / "python"
IN_CI = bool(os.environ.get("CI"))
ASSIGNMENT = "04_bptt"
COURSE = "seqcourse"
CELL_TIMEOUT = int(os.environ.get("SEQHW_TEST_CELL_TIMEOUT", "30"))
LOOP_MARK = "while True:"


def missing(reason: str):
    if IN_CI:
        pytest.fail(f"{reason} (CI must run the homework-cycle test)")
    pytest.skip(reason)


# ------------------------------------------------------------------------------------------
# the four submissions, built from the real source and release notebooks
# ------------------------------------------------------------------------------------------
def src(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def nbg(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def exercises(nb: dict) -> list[dict]:
    """[{answer: index, test: index, grade_id, points, var}] in order (answer cell, its test)."""
    out, answer = [], None
    for i, cell in enumerate(nb["cells"]):
        meta = nbg(cell)
        if cell["cell_type"] == "code" and meta.get("solution"):
            answer = i
        elif cell["cell_type"] == "code" and meta.get("grade") and answer is not None:
            call = re.findall(r"(check_\w+)\(\s*([A-Za-z_]\w*)", src(nb["cells"][answer]))
            out.append({"answer": answer, "test": i, "grade_id": meta["grade_id"],
                        "points": float(meta.get("points", 0)),
                        "checker": call[-1][0] if call else "", "var": call[-1][1] if call else "answer"})
            answer = None
    return out


def reference_answer(source_cell) -> str:
    """The answer cell as the teacher wrote it: the solution region kept, its markers dropped."""
    return "\n".join(line for line in src(source_cell).split("\n")
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


WRONG = {   # per checker: an answer the checker must reject (a typical mistake where one is known)
    "check_delta_step": "def {var}(delta_next, h_k, W):\n    return delta_next @ W   # 漏了 (1 - h_k**2)",
    "check_must_vanish": "{var} = [True, True, True, True, True]",
    "check_clipped_grad": "{var} = [[0.0, 0.0], [0.0, 0.0]]",
    "check_vanish_experiment": '{var} = {{"scale": 0.5, "mode": "sigma", "activation": "tanh", "reason": "A"}}',
}


def with_answer(release_cell, code: str, stub: str) -> str:
    """The release answer cell with the stub line replaced by `code` (the check line stays)."""
    text = src(release_cell)
    assert stub in text, f"no stub {stub!r} in the answer cell:\n{text}"
    return text.replace(stub, code, 1)


def set_source(cell, text: str) -> None:
    cell["source"] = text


def grading_probe(paths: dict) -> str:
    """Code the hostile student hides in an answer cell: it runs when the teacher autogrades.
    GRADING-PROBE lines must all be DENIED; LEAK lines are attempts to carry the reference
    implementation out (printed into the feedback, left in /tmp and the exchange for a classmate)
    whose result the feedback and the readability scan check."""
    return ("\nimport os as _os, subprocess as _sp, inspect as _inspect\n"
            "def _probe(label, fn):\n"
            "    try:\n"
            "        got = fn()\n"
            "        print(f'GRADING-PROBE {label}: GOT {str(got)[:60]!r}')\n"
            "    except Exception as exc:\n"
            "        print(f'GRADING-PROBE {label}: DENIED {type(exc).__name__}')\n"
            "print('GRADING-PROBE uid', _os.getuid())\n"
            + "".join(f"_probe({label!r}, lambda: {expr})\n" for label, expr in [
                ("read the gradebook", f"open({paths['gradebook']!r}, 'rb').read(16)"),
                ("write the gradebook", f"open({paths['gradebook']!r}, 'ab').write(b'x')"),
                ("read the source notebook", f"open({paths['source']!r}).read(100)"),
                ("list the collected submissions", f"_os.listdir({paths['submitted']!r})"),
                ("read its own autograded notebook", f"open({paths['autograded_self']!r}).read(100)"),
                ("read another student's home", f"open({paths['other_home_nb']!r}).read(100)"),
                ("list the exchange inbound", f"_os.listdir({paths['inbound']!r})"),
                ("read the hub's cookie secret", f"open({paths['cookie_secret']!r}).read()"),
                ("read the course repository's grading.toml", f"open({paths['grading_toml']!r}).read(100)"),
            ])
            + "import helpers.exercises.ch04 as _ref\n"
            "print('LEAK helpers from', _ref.__file__)\n"
            "_src = _inspect.getsource(_ref)\n"
            "print('LEAK printed the reference source:\\n' + _src)\n"
            "for _where in ('/tmp', '/dev/shm', " + repr(paths["exchange"]) + "):\n"
            "    try:\n"
            "        _p = _os.path.join(_where, 'seqhw-leak-' + str(_os.getpid()) + '.py')\n"
            "        open(_p, 'w').write(_src); _os.chmod(_p, 0o644)\n"
            "        print('LEAK wrote', _p)\n"
            "    except Exception as exc:\n"
            "        print('LEAK could not write in', _where, type(exc).__name__)\n"
            "_sp.Popen(['sleep', '300'], start_new_session=True)\n"
            "print('GRADING-PROBE left a process running')\n")


def copy_of(value_src: str, var: str) -> str:
    """An answer cell body that hands in a value someone else computed."""
    return f"{var} = {value_src}   # 抄来的数字"


def make_submissions(source_nb: dict, release_nb: dict, names: dict, paths: dict, stub: str,
                     copied: dict) -> dict:
    """{role: notebook} for correct, wrong, blank, hostile; and 'oracle_hostile': what the
    hostile notebook means once nbgrader has restored its test cells and cut the loop.
    `copied`: {grade_id: source text of the correct student's answer value} for the exercises
    whose answer is a value (the classmate's numbers)."""
    exs = exercises(release_nb)
    src_exs = {e["grade_id"]: e for e in exercises(source_nb)}
    assert len(exs) >= 3, f"the assignment needs at least 3 autograded exercises, has {len(exs)}"
    assert [e["grade_id"] for e in exs] == list(src_exs), "source and release disagree"
    subs = {}

    def copy():
        return json.loads(json.dumps(release_nb))

    def right(e):
        return reference_answer(source_nb["cells"][src_exs[e["grade_id"]]["answer"]])

    def wrong(e):
        if e["grade_id"] in copied:
            return copy_of(copied[e["grade_id"]], e["var"])
        return WRONG.get(e["checker"], "{var} = '不知道'").format(var=e["var"])

    def marker(role):
        return f"# {names[role]} 的作业"

    nb = copy()
    for e in exs:
        set_source(nb["cells"][e["answer"]], marker("correct") + "\n" + right(e))
    subs["correct"] = nb
    nb = copy()
    for e in exs:
        set_source(nb["cells"][e["answer"]], with_answer(nb["cells"][e["answer"]],
                                                         marker("wrong") + "\n" + wrong(e), stub))
    subs["wrong"] = nb
    subs["blank"] = copy()
    nb, oracle = copy(), copy()
    e0, e1, e2, rest = exs[0], exs[1], exs[2], exs[3:]
    set_source(nb["cells"][e0["answer"]], with_answer(
        nb["cells"][e0["answer"]], marker("hostile") + f"\n{LOOP_MARK}\n    pass", stub))
    set_source(oracle["cells"][e0["answer"]], with_answer(   # what the time limit does to the loop
        oracle["cells"][e0["answer"]], "raise KeyboardInterrupt()", stub))
    for target in (nb, oracle):
        set_source(target["cells"][e1["answer"]],
                   with_answer(target["cells"][e1["answer"]], wrong(e1), stub))
    set_source(nb["cells"][e1["test"]], "print('这个测试被学生改掉了：总是通过')")
    set_source(nb["cells"][e2["answer"]], right(e2) + "\n" + grading_probe(paths))
    set_source(oracle["cells"][e2["answer"]], right(e2))
    tamper = (f"import os\nos.environ['SEQHW_STUDENT'] = {names['correct']!r}   # 冒充同学\n"
              f"os.environ['JUPYTERHUB_USER'] = {names['correct']!r}\n")
    for e in rest:
        if e["grade_id"] in copied:      # the classmate's numbers, graded "as the classmate"
            code = with_answer(nb["cells"][e["answer"]], tamper + copy_of(copied[e["grade_id"]], e["var"]), stub)
        else:
            code = right(e)
        for target in (nb, oracle):
            set_source(target["cells"][e["answer"]], code)
        set_source(nb["cells"][e["test"]], "assert True  # 学生把测试改成了总是通过")
    subs["hostile"] = nb
    subs["oracle_hostile"] = oracle
    return subs


# The independent run of the checkers (outside the hub and nbgrader): one IPython shell runs the
# teacher's source notebook once as the first identity, then, per further identity, only the
# answer cells and the test cells (the chapter's other cells do not depend on who the student
# is). Each test cell's identity line (scripts/assignments.py REASSERT_STUDENT, which restores
# SEQHW_STUDENT from the grading kernel's start environment) is replaced by setting the identity
# explicitly: the same effect in a process that was not started with it. Protocol: one JSON line
# in (the job), "VALUES {...}" out (per identity: every test verdict, and the answer values of the
# first identities as Python source); then one JSON line in ({role: [notebook path, identity]}),
# "ORACLE {...}" out (per role: the test verdicts).
ORACLE = r"""
import json, os, sys
from IPython.core.interactiveshell import InteractiveShell
job = json.loads(sys.stdin.readline())
source = json.load(open(job["source"]))
reassert = job["reassert"]
src = lambda c: "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
meta = lambda c: c.get("metadata", {}).get("nbgrader", {})
tests = {meta(c)["grade_id"]: src(c) for c in source["cells"] if meta(c).get("grade")}
shell = InteractiveShell.instance()

def as_identity(code, ident):
    assert reassert in code, "the test cell does not restore the grader's identity"
    return code.replace(reassert, f"import os as _os\n_os.environ['SEQHW_STUDENT'] = {ident!r}\n")

def literal(v):
    import torch
    if isinstance(v, torch.Tensor):
        return f"torch.tensor({v.tolist()!r}, dtype={v.dtype})"
    if isinstance(v, dict):
        parts = [f"{literal(k)}: {literal(x)}" for k, x in v.items()]
        return None if None in parts or any(p.startswith("None:") for p in parts) else "{" + ", ".join(parts) + "}"
    if isinstance(v, (list, tuple)):
        parts = [literal(x) for x in v]
        if any(p is None for p in parts):
            return None
        return ("[" + ", ".join(parts) + "]") if isinstance(v, list) else ("(" + ", ".join(parts) + ",)")
    if v is None or isinstance(v, (bool, int, float, str)):
        return repr(v)
    return None

def run(cells, ident, full, capture):
    os.environ["SEQHW_STUDENT"] = ident
    passed, values, var = {}, {}, None
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        m = meta(cell)
        if m.get("grade"):
            ok = shell.run_cell(as_identity(tests[m["grade_id"]], ident), silent=True).success
            passed[m["grade_id"]] = bool(ok)
            if capture and var:
                v = shell.user_ns.get(var)
                values[m["grade_id"]] = None if callable(v) else literal(v)
            var = None
        elif m.get("solution") or full:
            shell.run_cell(src(cell), silent=True)
            if m.get("solution"):
                var = job["answer_vars"].get(m["grade_id"])
    return passed, values

out, values = {}, {}
for i, ident in enumerate(job["identities"]):
    out[ident], vals = run(source["cells"], ident, full=(i == 0), capture=(i < job["capture"]))
    if i < job["capture"]:
        values[ident] = vals
print("VALUES " + json.dumps({"passed": out, "values": values}), flush=True)
roles = json.loads(sys.stdin.readline())
verdicts = {}
for role, (path, ident) in roles.items():
    verdicts[role], _ = run(json.load(open(path))["cells"], ident, full=False, capture=False)
print("ORACLE " + json.dumps(verdicts), flush=True)
"""


class Oracle:
    """The independent checker run (ORACLE) in its own process, as root on the teacher's side."""

    def __init__(self, workdir: Path, source_path: Path, identities: list[str], answer_vars: dict,
                 reassert: str, capture: int):
        env = {k: v for k, v in os.environ.items() if k not in ("SEQHW_STUDENT", "JUPYTERHUB_USER")}
        env.update(MPLBACKEND="agg", OMP_NUM_THREADS="1")
        self.workdir = workdir
        self.proc = subprocess.Popen([str(PY), "-c", ORACLE], cwd=workdir, env=env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.proc.stdin.write(json.dumps({"source": str(source_path), "identities": identities,
                                          "answer_vars": answer_vars, "reassert": reassert,
                                          "capture": capture}) + "\n")
        self.proc.stdin.flush()
        self.lines: list[str] = []
        self.started = time.monotonic()

    def _wait_for(self, prefix: str) -> dict:
        for line in self.proc.stdout:
            if line.startswith(prefix + " "):
                return json.loads(line[len(prefix) + 1:])
            self.lines.append(line)
        raise AssertionError(f"the independent checker run ended without {prefix}:\n"
                             + "".join(self.lines[-60:]))

    def values(self) -> dict:
        return self._wait_for("VALUES")

    def ask(self, notebooks: dict[str, tuple[dict, str]]) -> None:
        """Start judging {role: (notebook, identity)}; verdicts() waits for the answer."""
        roles = {}
        for role, (nb, ident) in notebooks.items():
            path = self.workdir / f"oracle-{role}.ipynb"
            path.write_text(json.dumps(nb), encoding="utf-8")
            roles[role] = [str(path), ident]
        self.proc.stdin.write(json.dumps(roles) + "\n")
        self.proc.stdin.flush()

    def verdicts(self) -> dict:
        out = self._wait_for("ORACLE")
        self.proc.wait(timeout=60)
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


def wait_for_server(s, limit: float = 900) -> None:
    """Wait until the student's server is up; ask again when a spawn gave up (on a machine this
    busy a server can take longer than the hub's start timeout to import JupyterLab)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        state = s.server_state()
        if state and state.get("ready"):
            return
        if not state or not state.get("pending"):
            s.start_server()
        time.sleep(2)
    raise AssertionError(f"{s.name}'s server did not start within {limit:.0f} s")


def student_lab(s) -> dict:
    """The page config of s's JupyterLab (what /user/<name>/lab hands the browser)."""
    r = s.api("GET", f"/user/{s.name}/lab", timeout=120)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    m = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                  r.text, re.S)
    assert m, r.text[:500]
    return json.loads(m.group(1))


def terminal_says(s, command: str, expect: str, limit: float = 60) -> str:
    """Open a terminal in s's server as JupyterLab's Terminal does (REST, then terminado's
    websocket), type `command`, return what it printed once `expect` appears; closed afterwards.
    A terminal whose shell exits (nologin) disconnects at once: the output says so."""
    import websocket
    r = s.api("POST", f"/user/{s.name}/api/terminals", json={})
    assert r.status_code == 200, (r.status_code, r.text[:300])
    term = r.json()["name"]
    out, t0 = "", time.monotonic()
    ws = websocket.create_connection(
        s.base.replace("http://", "ws://") + f"/user/{s.name}/terminals/websocket/{term}",
        header=[f"Authorization: token {s.token}"], timeout=5)
    try:
        ws.send(json.dumps(["stdin", command + "\r"]))
        while expect not in out and time.monotonic() - t0 < limit:
            try:
                frame = ws.recv()
            except websocket.WebSocketTimeoutException:
                continue
            if not frame:
                break
            msg = json.loads(frame)
            if msg[0] == "stdout":
                out += msg[1]
            elif msg[0] == "disconnect":
                out += f"[terminal disconnected: {msg}]"
                break
    finally:
        ws.close()
        s.api("DELETE", f"/user/{s.name}/api/terminals/{term}", timeout=30)
    assert expect in out, f"{s.name}'s terminal: {out[-500:]!r}"
    return out


def join_other_x(accounts):
    """Another hub test already lets other users pass the folders on the way to the venv's Python
    (scripts/hub/students.py other_x_granted, a flock'd record): hold the lock shared like it does,
    instead of waiting for it to finish; None when this test must grant them itself."""
    if not hasattr(accounts, "other_x_granted") or accounts.blocked_dirs():
        return None
    import fcntl
    fd = os.open(accounts.LOCK_DIR / "seqhub-other-x.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_SH)
    if accounts.blocked_dirs():     # restored meanwhile: do it the full way
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        return None
    return fd


# ------------------------------------------------------------------------------------------
def test_homework_cycle(monkeypatch, capsys):
    if os.geteuid() != 0:
        missing("the homework cycle creates temporary system users: run it as root")
    for path in (VENV_BIN / "jupyterhub", VENV_BIN / "nbgrader",
                 ROOT / "node_modules" / ".bin" / "configurable-http-proxy"):
        if not path.exists():
            missing(f"{path} is missing: run `make hub-install`")
    if not (ROOT / "scripts" / "assignments.py").exists():
        pytest.fail("scripts/assignments.py is missing: the test grades the real chapter-04 assignment")
    sys.path.insert(0, str(HUB))
    import loadtest  # noqa: E402  (scripts/hub/loadtest.py: users, hub, students over HTTP)
    import students as accounts  # noqa: E402
    import homework  # noqa: E402  (scripts/hub/homework.py: lock_course, secret lines)
    import classroom  # noqa: E402  (scripts/hub/classroom.py: the students' Jupyter settings)
    A = homework.assignments_module()

    t_start, wall_start = time.monotonic(), time.time()
    shared = None
    prefix = "sqw" + secrets.token_hex(3)
    lt = loadtest.LoadTest([4], [], timeout=1800, prefix=prefix)
    report: list[str] = []
    locked: dict = {}
    oracle = None

    def say(msg: str) -> None:
        report.append(msg)
        with capsys.disabled():
            print(f"[homework-test {time.strftime('%H:%M:%S')}] {msg}", flush=True)

    try:
        shared = join_other_x(accounts)
        if shared is None:
            lt.preflight()  # lets other users pass /root etc. (o+x) while any hub test runs
        lt.create_users()
        base = lt.base_dir
        grader = f"{prefix}grader"
        lt.created.append(grader)
        accounts.create_user(grader, base / "home" / grader)
        roles = ["correct", "wrong", "blank", "hostile"]
        names = dict(zip(roles, lt.names))
        course_dir, exchange = base / "course", base / "exchange"
        hw = [str(PY), str(HUB / "homework.py"), f"--course-dir={course_dir}",
              f"--exchange={exchange}", f"--grader-user={grader}", f"--sandbox-base={base / 'grading'}"]

        def teacher(*args: str, timeout: float = 600) -> str:
            proc = subprocess.run([*hw, *args], capture_output=True, text=True, timeout=timeout)
            out = proc.stdout + proc.stderr
            assert proc.returncode == 0, f"homework.py {' '.join(args)} failed:\n{out}"
            return out

        # as make hub does: the students' servers import the student edition, the course
        # repository is closed to them (restored at the end of the test)
        edition = base / "edition"
        # the helpers the edition is made from, kept (root only) to tell later what is secret:
        # on a shared machine others may edit helpers/ while this test runs
        snapshot = base / "helpers-snapshot"
        shutil.copytree(ROOT / "helpers", snapshot / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
        os.chmod(snapshot, 0o700)
        A.student_edition(edition)
        monkeypatch.setenv("SEQHUB_STUDENT_EDITION", str(edition))
        locked = homework.lock_course(ROOT)
        say(f"student edition in {edition}; course repository closed to other users "
            f"({len(locked)} modes changed, restored afterwards)")
        # the hub first (the students' servers start while the assignment is built)
        monkeypatch.setenv("SEQHW_EXCHANGE_ROOT", str(exchange))    # reaches the students' servers
        hub_base = lt.start_hub()
        students = {r: loadtest.Student(n, hub_base, lt.deadline) for r, n in names.items()}
        for s in students.values():
            assert s.login(lt.password), f"{s.name} could not log in"
            s.get_token()
            s.start_server()
            s.keep_tab_open(lt.tabs_closed)    # an open JupyterLab tab: the idle culler (60 s here) waits
        say(f"hub on {hub_base}; 4 students logged in, their servers starting")

        # -- the real chapter-04 assignment, built for this test --------------------------------
        build = base / "build"
        build.mkdir(mode=0o700)
        proc = subprocess.run([str(PY), str(ROOT / "scripts" / "assignments.py"), "build",
                               "--out", str(build), "--timeout", str(CELL_TIMEOUT), ASSIGNMENT],
                              capture_output=True, text=True, timeout=300, cwd=ROOT)
        assert proc.returncode == 0, f"scripts/assignments.py build failed:\n{proc.stdout}{proc.stderr}"
        source_path = build / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        release_path = build / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        config_text = (build / "nbgrader_config.py").read_text()
        assert f'course_id = "{COURSE}"' in config_text
        assert re.search(rf"Execute\.timeout\s*=\s*{CELL_TIMEOUT}\b", config_text), config_text
        stub = re.search(r"ClearSolutions\.code_stub\s*=\s*(.*)$", config_text, re.M)
        stub_text = ast.literal_eval(stub.group(1)) if stub else "# YOUR CODE HERE\nraise NotImplementedError()"
        stub_text = stub_text["python"] if isinstance(stub_text, dict) else stub_text
        source_nb = json.loads(source_path.read_text(encoding="utf-8"))
        release_nb = json.loads(release_path.read_text(encoding="utf-8"))
        say(f"built {ASSIGNMENT} with scripts/assignments.py: {len(exercises(release_nb))} "
            f"autograded exercises, {CELL_TIMEOUT} s per cell")
        assert not [p for p in build.rglob("*") if p.stat().st_mode & 0o077], "build readable by others"
        # the independent checker run starts now (the students' servers start meanwhile): the
        # reference for 20 identities, the answer values of correct, wrong and hostile
        identities = [names["correct"], names["wrong"], names["hostile"], names["blank"]] + [
            f"{prefix}v{i:02d}" for i in range(16)]
        answer_vars = {nbg(source_nb["cells"][e["answer"]])["grade_id"]: e["var"] for e in exercises(source_nb)}
        oracle = Oracle(base, source_path, identities, answer_vars, A.REASSERT_STUDENT, capture=3)

        # -- the teacher: course folder, exchange, grading user, release with a due date -------
        teacher("setup", f"--from={build}", "--students", *names.values())
        due = (datetime.now(timezone.utc) + timedelta(days=7)).strftime("%Y-%m-%d %H:%M:%S UTC")
        teacher("release", ASSIGNMENT, f"--due={due}")
        say(f"teacher: setup (course folder, exchange, grading user {grader}) and release, due {due}")
        installed = (ROOT / ".venv" / "etc" / "jupyter" / "nbgrader_config.py").read_text()
        assert installed == (HUB / "nbgrader_config.py").read_text()
        assert oct(exchange.stat().st_mode & 0o7777) == "0o1777"
        inbound = exchange / COURSE / "inbound"
        paths = {"gradebook": str(course_dir / "gradebook.db"),
                 "source": str(course_dir / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
                 "submitted": str(course_dir / "submitted"),
                 "autograded_self": str(course_dir / "autograded" / names["hostile"] / ASSIGNMENT
                                        / f"{ASSIGNMENT}.ipynb"),
                 "other_home_nb": str(Path(pwd.getpwnam(names["correct"]).pw_dir) / ASSIGNMENT
                                      / f"{ASSIGNMENT}.ipynb"),
                 "inbound": str(inbound), "exchange": str(exchange),
                 "grading_toml": str(ROOT / "scripts" / "nbgrader" / "grading.toml"),
                 "cookie_secret": str(base / "state" / "jupyterhub_cookie_secret")}

        # -- per-student variants: the reference for 20 identities, two students' answers -------
        t0 = time.monotonic()
        got = oracle.values()
        values = got["values"]
        failed = {i: [g for g, ok in v.items() if not ok] for i, v in got["passed"].items()}
        assert len(got["passed"]) == 20 and not any(failed.values()), \
            f"the reference solution fails for some identities: { {i: f for i, f in failed.items() if f} }"
        # (keyed by the test cells' grade ids, as exercises() names an exercise)
        copied = {g: v for g, v in values[names["correct"]].items() if v is not None}
        differ = {g for g in values[names["correct"]]
                  if values[names["correct"]][g] is not None
                  and values[names["correct"]][g] != values[names["wrong"]].get(g)}
        assert differ, ("the two students' expected answers are the same in every exercise: "
                        f"no per-student variant ({values})")
        say(f"variants: the reference passes every test cell for 20 identities "
            f"(the independent run took {time.monotonic() - oracle.started:.0f} s, beside the hub; "
            f"{time.monotonic() - t0:.0f} s waited for it); correct's and wrong's answers differ in "
            f"{sorted(differ)}; value answers copied: {sorted(copied)}")
        subs = make_submissions(source_nb, release_nb, names, paths, stub_text, copied)

        # -- four students in their own servers -----------------------------------------------------
        for s in students.values():
            wait_for_server(s)
        say("the 4 students' servers are ready")
        # what a student meets in JupyterLab: nbgrader's student side only, a terminal that works
        s = students["blank"]
        page = student_lab(s)
        off = page["disabledExtensions"]          # (the page lists them; the config file maps them)
        off = {name for name, yes in off.items() if yes} if isinstance(off, dict) else set(off)
        assert set(classroom.TEACHER_LAB_PLUGINS) <= off, off
        assert not set(classroom.STUDENT_LAB_PLUGINS) & off, off
        assert s.api("GET", f"/user/{s.name}/formgrader", timeout=60).status_code == 404
        assert page["terminalsAvailable"] is True
        out = terminal_says(s, "echo seq-$((6*7)) $(id -un) $0", f"seq-42 {s.name} ")
        shell = re.search(rf"seq-42 {s.name} (\S+)", out).group(1)
        assert shell == classroom.TERMINAL_SHELL, out
        say(f"{s.name}'s JupyterLab: {', '.join(sorted(off))} disabled, no /formgrader; a terminal "
            f"runs {shell} as {s.name}")
        # the independent checker's verdicts on the four submissions (before the timed autograde)
        oracle.ask({"correct": (subs["correct"], names["correct"]),
                    "wrong": (subs["wrong"], names["wrong"]),
                    "blank": (subs["blank"], names["blank"]),
                    "hostile": (subs["oracle_hostile"], names["hostile"])})

        def action(s, what: str) -> object:
            r = s.api("POST", f"/user/{s.name}/assignments/{what}", timeout=180,
                      json={"course_id": COURSE, "assignment_id": ASSIGNMENT})
            assert r.status_code == 200, f"{s.name}: {what} gave {r.status_code}: {r.text[:300]}"
            body = r.json()
            assert not (isinstance(body, dict) and body.get("success") is False), f"{s.name}: {what}: {body}"
            return body

        nb_path = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
        for role, s in students.items():
            r = s.server("GET", f"../assignments?course_id={COURSE}")
            assert r.status_code == 200 and ASSIGNMENT in r.text, f"{s.name} does not see the release"
            action(s, "fetch")
            got = s.server("GET", f"contents/{nb_path}").json()["content"]
            assert [src(c) for c in got["cells"]] == [src(c) for c in release_nb["cells"]]
            if role != "blank":
                s.upload(nb_path, nb=subs[role])
            action(s, "submit")
        say("each student fetched the release in their own server and submitted "
            "(nbgrader's server API, as the Assignments panel does)")

        # -- the hostile student, in their own server -------------------------------------------
        hostile = students["hostile"]
        other = names["correct"]
        other_home = Path(pwd.getpwnam(other).pw_dir)
        kernel = hostile.open_kernel("probe.ipynb")
        kernel.wait_ready()
        attempts = {
            "list the exchange inbound": f"os.listdir({str(inbound)!r})",
            "find another student's submission by pattern": f"glob.glob({str(inbound)!r} + '/{other}+*') or 'nothing found'",
            "read another's submission by the pre-0.7 name (no random part)":
                f"open({str(inbound)!r} + '/{other}+{ASSIGNMENT}+' + 'x').read()",
            "list the teacher's course folder": f"os.listdir({str(course_dir)!r})",
            "read the teacher's gradebook": f"open({paths['gradebook']!r}, 'rb').read(16)",
            "read the teacher's source notebook (answers, hidden tests)": f"open({paths['source']!r}).read(100)",
            "read a submission the teacher collected": f"open({paths['submitted']!r} + '/{other}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb').read(100)",
            "read another student's home": f"open({paths['other_home_nb']!r}).read(100)",
            "read the hub's cookie secret": f"open({paths['cookie_secret']!r}).read()",
            "rename the course's exchange folder": f"os.rename({str(exchange / COURSE)!r}, {str(exchange / 'stolen')!r})",
            "overwrite the released notebook": f"open({str(exchange / COURSE / 'outbound' / ASSIGNMENT / (ASSIGNMENT + '.ipynb'))!r}, 'a').write('x')",
            "add a file to the release": f"open({str(exchange / COURSE / 'outbound' / ASSIGNMENT / 'extra.py')!r}, 'w').write('x')",
            "read the assignment build (answers, hidden tests)": f"os.listdir({str(base / 'build')!r})",
        }
        attempts.update({   # the course repository and the grader's copy of the full helpers
            "read a chapter with its reference answers (repo notebooks/)": f"open({str(ROOT / 'notebooks' / '04_bptt.ipynb')!r}).read(100)",
            "read the reference implementations (repo helpers/exercises/ch04.py)": f"open({str(ROOT / 'helpers' / 'exercises' / 'ch04.py')!r}).read(100)",
            "read the hidden tests (repo scripts/nbgrader/grading.toml)": f"open({str(ROOT / 'scripts' / 'nbgrader' / 'grading.toml')!r}).read(100)",
            "list the course repository": f"os.listdir({str(ROOT)!r})",
            "read the grader's full helpers": f"open({str(base / 'grading' / 'lib' / 'helpers' / 'exercises' / 'ch04.py')!r}).read(100)",
            "list the grading sandboxes": f"os.listdir({str(base / 'grading')!r})",
        })
        code = ("import os, glob\n"
                "def _t(label, fn):\n"
                "    try:\n        print('ATTEMPT', label, '=> GOT', repr(str(fn())[:50]))\n"
                "    except Exception as exc:\n        print('ATTEMPT', label, '=> DENIED', type(exc).__name__)\n"
                + "".join(f"_t({k!r}, lambda: {v})\n" for k, v in attempts.items())
                + "import helpers, helpers.exercises.ch04 as ch04, inspect\n"
                  "print('EDITION', helpers.__file__)\n"
                  "ref = [n for n, f in vars(ch04).items() if getattr(f, '__seqcourse_reference__', False)]\n"
                  "print('REFERENCES', len(ref))\n"
                  "for n in ref:\n"
                  "    print('REFBODY', n, ' '.join(inspect.getsource(getattr(ch04, n)).split())[-60:])\n")
        out = kernel.output_of(code, limit=120)
        results = dict(re.findall(r"^ATTEMPT (.*?) => (.*)$", out, re.M))
        assert set(results) == set(attempts), out
        for label in attempts:
            ok = results[label].startswith("DENIED") or "nothing found" in results[label]
            say(f"hostile (own server): {label}: {results[label]}")
            assert ok, f"the hostile student could {label}: {results[label]}"
        edition_file = re.search(r"^EDITION (.*)$", out, re.M)
        assert edition_file and edition_file.group(1).startswith(str(edition)), out
        bodies = re.findall(r"^REFBODY (\S+) (.*)$", out, re.M)
        assert bodies and all(b.endswith("raise GradedAtSubmission()") for _, b in bodies), out
        say(f"hostile (own server): imports helpers from the student edition; its {len(bodies)} "
            f"@reference functions of ch04 end in `raise GradedAtSubmission()`")
        # forged submissions: under another's name (nbgrader's own --student), a symlink folder, a
        # symlinked notebook; all with a later time than the real ones so that they would win
        forge = (
            "import os, json, subprocess\n"
            f"inbound = {str(inbound)!r}\n"
            "later = '2099-01-01 00:00:00.000000 UTC'\n"
            "p = subprocess.run(['nbgrader', 'submit', " + repr(ASSIGNMENT) + ", '--student=" + other + "'],"
            " capture_output=True, text=True, cwd=os.path.expanduser('~'))\n"
            "print('FORGE submit-as-other exit', p.returncode)\n"
            f"os.symlink({str(course_dir / 'source' / ASSIGNMENT)!r}, inbound + '/{names['hostile']}+{ASSIGNMENT}+' + later + '+lnk')\n"
            "print('FORGE symlinked folder made')\n"
            f"d = inbound + '/{names['hostile']}+{ASSIGNMENT}+' + later + '+nb'\n"
            "os.mkdir(d)\n"
            f"os.symlink({paths['other_home_nb']!r}, d + '/{ASSIGNMENT}.ipynb')\n"
            "open(d + '/timestamp.txt', 'w').write(later)\n"
            "print('FORGE symlinked notebook made')\n")
        out = kernel.output_of(forge, limit=180)
        assert "FORGE submit-as-other exit 0" in out and "symlinked notebook made" in out, out
        kernel.shutdown()

        verdicts = oracle.verdicts()

        # -- the teacher collects (vetted) and autogrades in the sandbox ------------------------
        out = teacher("collect", ASSIGNMENT, f"--json={base / 'rejected.json'}")
        rejected = json.loads((base / "rejected.json").read_text())
        reasons = {r["claimed"] + ": " + r["reason"] for r in rejected}
        say("collect rejected: " + "; ".join(sorted(reasons)))
        assert len(rejected) == 3, rejected
        assert any(r["claimed"] == other and "belongs to " + names["hostile"] in r["reason"] for r in rejected)
        assert any("symbolic link" in r["reason"] and "not a folder" in r["reason"] for r in rejected)
        assert any("contains a symbolic link" in r["reason"] for r in rejected)
        collected = json.loads((course_dir / "submitted" / other / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
        assert [src(c) for c in collected["cells"]] == [src(c) for c in subs["correct"]["cells"]], \
            "the forged submission under the correct student's name replaced theirs"

        t0 = time.monotonic()
        out = teacher("autograde", ASSIGNMENT, f"--json={base / 'autograde.json'}", timeout=1200)
        grade_wall = time.monotonic() - t0
        rows = {r["student"]: r for r in json.loads((base / "autograde.json").read_text())}
        assert set(rows) == set(names.values())
        left = homework.live_pids_of(pwd.getpwnam(grader).pw_uid)
        assert not left, f"processes of the grading user survived: {left}"
        assert rows[names["hostile"]]["killed_leftovers"] >= 1, "the hostile's sleeper was not found"

        # -- what the checkers say, and what nbgrader gave ---------------------------------------
        points = {e["grade_id"]: e["points"] for e in exercises(release_nb)}
        from nbgrader.api import Gradebook
        scores = {}
        with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}", course_id=COURSE) as gb:
            for role, name in names.items():
                sub = gb.find_submission(ASSIGNMENT, name)
                got = {g.name: g.auto_score for g in sub.notebooks[0].grades if g.name in points}
                want = {gid: (points[gid] if ok else 0.0) for gid, ok in verdicts[role].items()}
                assert got == want, f"{role} ({name}): nbgrader gave {got}, the checkers say {want}"
                scores[role] = (sub.score, sub.max_score)
        max_score = sum(points.values())
        assert scores["correct"][0] == max_score and scores["blank"][0] == 0
        assert scores["wrong"][0] < max_score
        e = exercises(release_nb)
        assert not verdicts["hostile"][e[0]["grade_id"]] and not verdicts["hostile"][e[1]["grade_id"]]
        say("scores (nbgrader = checkers): " + ", ".join(
            f"{r} {names[r]} {scores[r][0]:g}/{scores[r][1]:g}" for r in roles))
        # a classmate's numbers score 0 wherever the two students' answers differ, also when the
        # answer cell claims to be the classmate (os.environ["SEQHW_STUDENT"])
        with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}", course_id=COURSE) as gb:
            auto = {role: {g.name: g.auto_score for g in gb.find_submission(ASSIGNMENT, name).notebooks[0].grades}
                    for role, name in names.items()}
        for gid in differ:
            assert auto["wrong"][gid] == 0, f"a classmate's numbers got points in {gid}"
        tampered = [x["grade_id"] for x in e[3:] if x["grade_id"] in copied
                    and values[names["correct"]][x["grade_id"]] != values[names["hostile"]].get(x["grade_id"])]
        for gid in tampered:
            assert auto["hostile"][gid] == 0, f"setting SEQHW_STUDENT to a classmate got points in {gid}"
        say(f"a classmate's numbers scored 0 in {sorted(differ)}; with os.environ['SEQHW_STUDENT'] set "
            f"to the classmate, 0 in {tampered or 'no exercise (none after the third is a value)'}")

        # restored test cells, the loop cut by the time limit, the sandbox's view at grading time
        graded = json.loads(Path(paths["autograded_self"]).read_text())
        by_id = {nbg(c).get("grade_id"): c for c in graded["cells"]}
        source_tests = {nbg(c)["grade_id"]: src(c) for c in source_nb["cells"] if nbg(c).get("grade")}
        for gid, text in source_tests.items():
            assert src(by_id[gid]) == text, f"nbgrader did not restore the test cell {gid}"
        loop_cell = by_id[nbg(release_nb["cells"][e[0]["answer"]])["grade_id"]]
        assert LOOP_MARK in src(loop_cell)
        enames = {o.get("ename") for o in loop_cell.get("outputs", []) if o["output_type"] == "error"}
        assert enames & {"CellTimeoutError", "KeyboardInterrupt"}, f"loop cell outputs: {enames}"
        say(f"edited test cells restored by nbgrader ({len(source_tests)} checked); the endless loop "
            f"was interrupted after {CELL_TIMEOUT} s ({', '.join(sorted(x for x in enames if x))}) "
            "and scored 0")
        probe_text = "".join("".join(o.get("text", "")) for c in graded["cells"]
                             for o in c.get("outputs", []) if o["output_type"] == "stream")
        probes = dict(re.findall(r"^GRADING-PROBE (.*?): (.*)$", probe_text, re.M))
        uid = re.search(r"^GRADING-PROBE uid (\d+)", probe_text, re.M)
        assert uid and int(uid.group(1)) == pwd.getpwnam(grader).pw_uid, probe_text
        assert len(probes) == 9, probe_text
        for label, result in probes.items():
            say(f"hostile (at grading time, as {grader}): {label}: {result}")
            assert result.startswith("DENIED"), f"at grading time the hostile code could {label}"
        lib = re.search(r"^LEAK helpers from (.*)$", probe_text, re.M)
        assert lib and lib.group(1).startswith(str(base / "grading" / "lib")), probe_text
        assert "LEAK printed the reference source" in probe_text
        say("at grading time the kernel imports the teacher's full helpers ("
            + lib.group(1).removeprefix(str(base)) + "); the hostile printed their source and "
            + "; ".join(sorted(set(re.findall(r"^LEAK (wrote .*|could not write in .*)$", probe_text, re.M)))))

        # -- feedback: each student gets their own and nobody else's -----------------------------
        teacher("feedback", ASSIGNMENT)
        # what must not reach a student: hidden-test lines and @reference body lines (those that
        # the release, the chapters and the unmarked helpers do not show anyway)
        public = homework.public_text(course_dir / "release" / ASSIGNMENT, snapshot / "helpers") + "\n" + "\n".join(
            homework.norm(line) for path in A.chapters()
            for c in A.strip_answers(json.loads(path.read_text(encoding="utf-8")))["cells"]
            for line in A.source_of(c).splitlines())
        secret = homework.secret_lines([source_nb], snapshot / "helpers", public)
        hidden = homework.hidden_lines([source_nb]) & secret
        in_ch04 = homework.leaked((snapshot / "helpers" / "exercises" / "ch04.py").read_text(encoding="utf-8"), secret)
        assert hidden and in_ch04, f"nothing to look for: hidden {len(hidden)}, reference lines of ch04 {len(in_ch04)}"
        markers = {r: f"{names[r]} 的作业" for r in roles}
        feedback_files = {}
        for role, s in students.items():
            action(s, "fetch_feedback")
            listing = s.server("GET", f"contents/{ASSIGNMENT}/feedback").json()["content"]
            files = [f for d in listing for f in
                     s.server("GET", f"contents/{d['path']}").json()["content"] if f["name"].endswith(".html")]
            assert len(files) == 1, f"{s.name} fetched {[f['path'] for f in files]}"
            html = s.server("GET", f"contents/{files[0]['path']}?format=text&type=file").json()["content"]
            mine = [r for r, mk in markers.items() if mk in html]
            assert mine == ([] if role == "blank" else [role]), f"{s.name}'s feedback shows {mine}"
            shown = homework.html_text(html)
            assert "BEGIN HIDDEN TESTS" not in html and not homework.leaked(shown, hidden), \
                f"{s.name}'s feedback shows hidden tests: {homework.leaked(shown, hidden)[:3]}"
            feedback_files[role] = Path(pwd.getpwnam(s.name).pw_dir) / files[0]["path"]
            if role == "hostile":
                assert "此输出已删除" in shown and not homework.leaked(shown, set(in_ch04)), \
                    "the reference source the hostile printed at grading time reached its feedback"
        say(f"feedback: no hidden test in any; the reference source the hostile printed at grading "
            f"time was cut from its feedback ({len(hidden)} hidden-test lines, {len(secret)} lines in all checked)")
        kernel = hostile.open_kernel("probe2.ipynb")
        kernel.wait_ready()
        fb_attempts = {
            "list the released feedback": f"os.listdir({str(exchange / COURSE / 'feedback')!r})",
            "read another student's fetched feedback": f"os.listdir({str(other_home / ASSIGNMENT / 'feedback')!r})",
        }
        out = kernel.output_of(
            "import os, subprocess\n"
            "def _t(label, fn):\n"
            "    try:\n        print('ATTEMPT', label, '=> GOT', repr(str(fn())[:50]))\n"
            "    except Exception as exc:\n        print('ATTEMPT', label, '=> DENIED', type(exc).__name__)\n"
            + "".join(f"_t({k!r}, lambda: {v})\n" for k, v in fb_attempts.items())
            + f"p = subprocess.run(['nbgrader', 'fetch_feedback', {ASSIGNMENT!r}, '--student={other}'],"
              " capture_output=True, text=True, cwd=os.path.expanduser('~'))\n"
              f"found = subprocess.run(['grep', '-rl', {markers['correct']!r}, os.path.expanduser('~')],"
              " capture_output=True, text=True).stdout.strip()\n"
              "print('ATTEMPT fetch_feedback as the other student => ' + "
              "('GOT ' + found if found else 'DENIED nothing of theirs arrived'))\n", limit=180)
        kernel.shutdown()
        results = dict(re.findall(r"^ATTEMPT (.*?) => (.*)$", out, re.M))
        assert len(results) == 3, out
        for label, result in results.items():
            say(f"hostile (feedback): {label}: {result}")
            assert result.startswith("DENIED"), f"the hostile student could {label}: {result}"

        # -- as a student's system user: nothing readable anywhere holds a graded answer ----------
        scanner = base / "readscan.py"
        scanner.write_text((ROOT / "tests" / "readscan.py").read_text(encoding="utf-8"), encoding="utf-8")
        os.chmod(scanner, 0o644)
        must_read = [edition / "helpers" / "exercises" / "ch04.py", feedback_files["wrong"],
                     exchange / COURSE / "outbound" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"]
        must_not = [ROOT / "helpers" / "exercises" / "ch04.py", ROOT / "scripts" / "nbgrader" / "grading.toml",
                    ROOT / "notebooks" / f"{ASSIGNMENT}.ipynb", Path(paths["source"]),
                    base / "grading" / "lib" / "helpers" / "exercises" / "ch04.py",
                    course_dir / "feedback-source" / names["wrong"] / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"]
        # every file made since the test began (by the hub, nbgrader, the grading kernel, the
        # students), and the course's own folders whatever their age; files older than the test
        # elsewhere (other people's scratch copies on a shared machine) are not the hub's doing
        # the walk starts at / and at every folder the student knows by name but may not list
        # (the test's base folder is 711): their home, the edition, the exchange, the course's
        job = {"secrets": sorted(secret), "since": wall_start - 5,
               "roots": ["/", pwd.getpwnam(names["wrong"]).pw_dir, str(edition), str(exchange),
                         str(course_dir), str(build), str(base / "grading"), str(base / "state")],
               "full_trees": [str(ROOT), str(base), "/srv"], "skip_trees": [str(ROOT / ".venv")],
               "keep_in_skipped": ["helpers", "seqcourse", ".pth"],
               "watch": [str(p) for p in must_read + must_not]}
        t0 = time.monotonic()
        proc = subprocess.run(["runuser", "-u", names["wrong"], "--", str(PY), str(scanner)],
                              input=json.dumps(job), capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
        scan = json.loads(proc.stdout)
        assert scan["user"] == pwd.getpwnam(names["wrong"]).pw_uid
        assert {p: scan["watch"][str(p)] for p in must_read} == {p: "read" for p in must_read}, scan["watch"]
        assert {p: scan["watch"][str(p)] for p in must_not} == {p: "denied" for p in must_not}, scan["watch"]
        # what the hub made: anything in the course's folders, or anywhere in a file owned by a
        # student or the grading user (e.g. a copy the graded code left in /tmp). A readable
        # root-owned file elsewhere that appeared meanwhile is someone else's on a shared machine
        # (another person's scratch copy): named in the output, not the hub's doing.
        ours = [str(ROOT), str(base), "/srv"]
        test_uids = {pwd.getpwnam(n).pw_uid for n in [*names.values(), grader]}
        hub_made = [f for f in scan["found"] if f.get("uid") in test_uids
                    or any(f["path"] == t or f["path"].startswith(t + "/") for t in ours)]
        assert not hub_made, f"readable by {names['wrong']}: {hub_made[:5]}"
        foreign = sorted({f["path"] for f in scan["found"]} - {f["path"] for f in hub_made})
        if foreign:
            say(f"NOTE: readable copies of course code made meanwhile by others on this machine (root's, "
                f"outside the course folders, not the hub's doing): {foreign[:5]}")
        say(f"as {names['wrong']} (runuser): {scan['files_read']} readable files "
            f"({scan['bytes_read'] / 2**20:.0f} MB) and {len(scan['git_repos'])} git repositories searched "
            f"in {time.monotonic() - t0:.0f} s for {len(secret)} hidden-test and reference lines: none found "
            f"(the edition, the release and its own feedback read; the repository, the build and "
            f"the grader's helpers denied)")

        # -- the class report --------------------------------------------------------------------------
        teacher("report", ASSIGNMENT, f"--out={base / 'report'}")
        summary = json.loads((base / "report" / "report.json").read_text(encoding="utf-8"))
        assert summary["students"] == 4 and len(summary["exercises"]) == len(exercises(release_nb))
        for r in summary["exercises"]:
            assert r["full"] + r["part"] + r["zero"] == 4 and r["full"] >= 1, r
        flagged = {f["student"] for f in summary["flagged"]}
        assert names["hostile"] in flagged and not flagged & {names["correct"], names["blank"]}, summary["flagged"]
        assert any(f["student"] == names["hostile"] and "SEQHW_STUDENT" in f["uses"] for f in summary["flagged"])
        assert (base / "report" / "report.png").stat().st_size > 5000
        keep = ROOT / "artifacts" / "homework-report"        # the figure TEACHING shows comes from here
        keep.mkdir(parents=True, exist_ok=True)
        for name in ("report.md", "report.html", "report.png", "report.json"):
            shutil.copyfile(base / "report" / name, keep / name)
        say("class report: " + "; ".join(f"{r['exercise']} {r['full']}/{r['part']}/{r['zero']}"
                                         for r in summary["exercises"])
            + f" (full/part/zero); flagged for a look: {sorted({f['student'] for f in summary['flagged']})}")

        # -- grades to CSV ------------------------------------------------------------------------
        teacher("export", f"--to={base / 'grades.csv'}")
        with open(base / "grades.csv", newline="") as fh:
            table = list(csv.DictReader(fh))
        assert len(table) == 4, table
        for row in table:
            role = next(r for r, n in names.items() if n == row["student_id"])
            assert row["assignment"] == ASSIGNMENT
            assert float(row["score"]) == scores[role][0] and float(row["max_score"]) == max_score
        say(f"grades.csv: 4 rows, scores as above")

        # -- the measurements ---------------------------------------------------------------------
        per = [r["wall_s"] for r in rows.values()]
        benign = [rows[names[r]]["wall_s"] for r in ("correct", "wrong", "blank")]
        rss = max(r["kernel_peak_rss_mb"] for r in rows.values())
        cpu = [rows[names[r]]["kernel_cpu_s"] for r in ("correct", "wrong", "blank")]
        say(f"autograde: 4 submissions in {grade_wall:.0f} s (per submission "
            f"{min(per):.0f}-{max(per):.0f} s; without the endless loop {sum(benign) / 3:.0f} s, so "
            f"about {40 * sum(benign) / 3 / 60:.0f} min for 40 on one core); one grading kernel: "
            f"peak RSS {rss:.0f} MB, CPU {min(cpu):.1f}-{max(cpu):.1f} s")
        (ROOT / "artifacts").mkdir(exist_ok=True)
        (ROOT / "artifacts" / "homework-cycle.json").write_text(json.dumps({
            "autograde_4_s": grade_wall, "rows": list(rows.values()),
            "scores": {r: scores[r][0] for r in roles}, "max_score": max_score,
            "cell_timeout_s": CELL_TIMEOUT, "cpus": os.cpu_count(),
            "report": report, "total_s": time.monotonic() - t_start}, indent=1, ensure_ascii=False))
    except BaseException:
        if lt.hub_log and lt.hub_log.exists():
            lines = lt.hub_log.read_text(errors="replace").splitlines()
            tail = [x for x in lines if re.search(r"rror|arn|pawn|xception|raceback", x)][-40:] + lines[-10:]
            with capsys.disabled():
                print("---- hub log (last 40 lines) ----\n" + "\n".join(tail), flush=True)
        raise
    finally:
        try:
            if oracle is not None:
                oracle.stop()
            if locked:
                homework.restore_modes(locked)
            lt.cleanup()
            if shared is not None:
                accounts.release_other_x(shared)
        finally:
            leftovers = [p.pw_name for p in pwd.getpwall() if p.pw_name.startswith(prefix)]
            with capsys.disabled():
                print(f"[homework-test] finished in {time.monotonic() - t_start:.0f} s", flush=True)
            assert not leftovers, f"the test left users behind: {leftovers}"
