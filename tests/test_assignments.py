"""The nbgrader homework (scripts/assignments.py build) and the student edition.

- every exercise of every chapter is mapped and graded (scripts/nbgrader/grading.toml), and the
  assignment notebooks carry nbgrader's metadata;
- no reference-answer text (and no hidden test) anywhere in the release or the student edition;
- nbgrader's own autograde on chapter 04: the unanswered release scores 0 on every test cell and
  nothing else errors; the source (with the answers) scores full marks; an answer that games the
  visible checker fails the hidden test (the endless loop cut by the time limit: on the real hub,
  tests/test_homework_cycle.py);
- a chapter of the student edition runs top to bottom with the edition's own helpers;
- nothing readable: the build is private from the start (umask 077, mode 700); the student
  edition has every @reference body replaced by `raise GradedAtSubmission()` (and is assembled in
  a private staging folder); a test cell grades the submitter whatever the answer cell sets in
  os.environ.

What the no-answer comparison compares and ignores (see ``significant``): every code line of every
reference cell (tag ``solution`` / ``# 参考答案``), whitespace collapsed, is searched in the text of
every file of the release (notebook JSON decoded: cell sources, metadata, outputs, attachments).
Ignored are lines that cannot give an answer away: blank lines, the ``# 参考答案`` heading itself,
``import`` / ``from ... import`` lines (the release imports the same checker modules), lines
shorter than ``SHORT`` characters (``)``, ``else:``, ``return out``: too common to be evidence), and
lines that a chapter shows outside its reference cells (e.g. ``set_seed(0)``, the student's own
``check_xxx(answer)`` line behind an ``assert``, ``def attention(Q, K, V):`` which chapter 01 shows),
which are in the release by design.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("assignments", ROOT / "scripts" / "assignments.py")
A = importlib.util.module_from_spec(spec)
sys.modules["assignments"] = A
spec.loader.exec_module(A)

SHORT = 12
# s per cell in the autograde test (the endless loop waits this long): 04's slowest cell takes 8 s
# on a 2-core CPU, 23 s when 7 people shared it
TEST_TIMEOUT = 45
AID = "04_bptt"


# ----------------------------------------------------------------------------- helpers
def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def strings(obj):
    """Every string inside a decoded JSON value (keys too)."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            yield from strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from strings(v)


def corpus(folder: Path, skip=()) -> str:
    """The normalised text of every file under ``folder`` (notebooks also JSON-decoded)."""
    parts = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or rel.parts[0] in skip or ".git" in rel.parts:
            continue
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        parts.append(text)
        if path.suffix == ".ipynb":
            parts.extend(strings(json.loads(text)))
    return "\n".join(norm(line) for part in parts for line in part.splitlines())


def visible_text(nb: dict) -> str:
    return "\n".join(norm(line) for c in nb["cells"] if not A.is_reference(c)
                     for line in A.source_of(c).splitlines())


def significant(line: str, visible: str) -> bool:
    """Whether a reference line could give an answer away (see the module docstring)."""
    line = norm(line)
    if not line or line == A.REFERENCE_MARK or len(line) < SHORT:
        return False
    if re.match(r"(import|from)\s+\S+(\s+import\b.*)?$", line):
        return False
    bare = line.removeprefix("assert ").strip()
    return not (line in visible or bare in visible)


def reference_lines() -> dict[str, list[tuple[str, str]]]:
    """{notebook stem: [(exercise checker, significant reference line)]} for every chapter."""
    out = {}
    notebooks = {path: json.loads(path.read_text(encoding="utf-8")) for path in A.chapters()}
    visible = "\n".join(visible_text(nb) for nb in notebooks.values())   # what any chapter shows
    for path, nb in notebooks.items():
        found = []
        for e in A.find_exercises(nb, path.name):
            for line in A.source_of(nb["cells"][e.reference]).splitlines():
                if significant(line, visible):
                    found.append((e.checker, norm(line)))
        out[path.stem] = found
    return out


def hidden_lines() -> list[str]:
    grading = A.load_grading()
    return [norm(line) for entry in grading.values() for line in entry.get("hidden", "").splitlines()
            if significant(line, "")]


def leaks(text: str, lines) -> list:
    return [item for item in lines if (item[1] if isinstance(item, tuple) else item) in text]


# ----------------------------------------------------------------------------- mapping and data
def test_every_exercise_is_mapped_and_graded():
    grading = A.load_grading()
    used = []
    for path in A.chapters():
        nb = json.loads(path.read_text(encoding="utf-8"))
        exercises = A.find_exercises(nb, path.name)
        refs = [i for i, c in enumerate(nb["cells"]) if A.is_reference(c)]
        assert sorted(e.reference for e in exercises) == refs, f"{path.name}: a reference cell is not mapped"
        for e in exercises:
            assert e.checker in grading, f"{path.name}: {e.checker} has no [table] in grading.toml"
            assert e.module.startswith("helpers.exercises."), e
            assert e.answer_vars and e.solution_code.strip(), e
            used.append(e.checker)
    assert sorted(used) == sorted(grading), \
        f"grading.toml tables without an exercise: {sorted(set(grading) - set(used))}"
    assert len(used) == len(set(used))


def test_grading_data_is_checked(tmp_path):
    bad = tmp_path / "g.toml"
    bad.write_text("[check_x]\npoints = 0\n", encoding="utf-8")
    with pytest.raises(ValueError, match="positive integer"):
        A.load_grading(bad)
    bad.write_text("[check_x]\npoints = 1\nhiden = 'x'\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown keys"):
        A.load_grading(bad)


def _nb(*cells):
    return {"cells": [{"cell_type": "code", "metadata": {"tags": tags}, "source": src, "outputs": [],
                       "execution_count": None} for src, tags in cells]}


def test_mapping_follows_the_convention_and_names_what_breaks_it():
    imp = "from helpers.exercises.ch01 import check_a\n"
    ok = A.find_exercises(_nb((imp + "x = None\ncheck_a(x, n=3)", []),
                              ("# 参考答案\ns = 2 + 1\nassert check_a(s, n=3)", ["solution"])))
    assert [(e.checker, e.answer_vars, e.solution_code) for e in ok] == \
        [("check_a", ["x"], "# 参考答案\ns = 2 + 1\nx = s")]
    by_keyword = A.find_exercises(_nb((imp + "x = None\ncheck_a(answer=x)", []),
                                      ("# 参考答案\nassert check_a(answer=7)", ["solution"])))
    assert by_keyword[0].solution_code == "# 参考答案\nx = 7"
    with pytest.raises(A.MappingError, match="without its reference"):
        A.find_exercises(_nb((imp + "x = None\ncheck_a(x)", [])))
    with pytest.raises(A.MappingError, match="no top-level"):
        A.find_exercises(_nb((imp + "x = None\ncheck_a(x)", []), ("# 参考答案\nprint(3)", ["solution"])))
    with pytest.raises(A.MappingError, match="without a student cell"):
        A.find_exercises(_nb(("# 参考答案\nassert check_a(3)", ["solution"])))
    with pytest.raises(A.MappingError, match="sets to None"):
        A.find_exercises(_nb((imp + "x = 1\ncheck_a(x)", []), ("# 参考答案\nassert check_a(3)", ["solution"])))


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    pytest.importorskip("nbgrader", reason="nbgrader comes with the class server's packages (make hub-install)")
    out = tmp_path_factory.mktemp("nbgrader")
    t = time.time()
    built = A.build(out, None, timeout=TEST_TIMEOUT)
    print(f"build of {len(built)} assignments: {time.time() - t:.1f} s")
    return out, built


def test_assignment_notebooks_carry_nbgrader_metadata(course):
    out, built = course
    grading = A.load_grading()
    assert "seqcourse" in (out / "nbgrader_config.py").read_text(encoding="utf-8")
    for aid, exercises in built.items():
        for kind in ("source", "release"):
            nb = json.loads((out / kind / aid / f"{aid}.ipynb").read_text(encoding="utf-8"))
            graded = [c for c in nb["cells"] if "nbgrader" in c["metadata"]]
            answers = [c for c in graded if c["metadata"]["nbgrader"]["solution"]]
            tests = [c for c in graded if c["metadata"]["nbgrader"]["grade"]]
            assert len(answers) == len(tests) == len(exercises), (aid, kind)
            for e, answer, test in zip(exercises, answers, tests):
                meta = test["metadata"]["nbgrader"]
                assert meta["locked"] and meta["points"] == grading[e.checker]["points"], (aid, e.checker)
                assert {"grade", "solution", "locked", "points", "grade_id", "schema_version"} <= set(meta)
                src = A.source_of(answer)
                assert src.rstrip().endswith(e.call), (aid, e.checker)
                assert ("### BEGIN SOLUTION" in src) == (kind == "source")
                assert ("### BEGIN HIDDEN TESTS" in A.source_of(test)) == (kind == "source" and bool(e.hidden))
            assert not any(A.is_reference(c) for c in nb["cells"])
            figures = re.findall(r"\]\((media/[^)\s]+)\)", json.dumps(nb, ensure_ascii=False))
            assert all((out / kind / aid / f).exists() for f in figures), (aid, kind)


def test_no_reference_answer_text_in_the_release(course):
    out, built = course
    lines = reference_lines()
    assert set(built) == {k for k, v in lines.items() if v}
    release, source = corpus(out / "release"), corpus(out / "source")
    for aid, exercises in built.items():
        # the comparison is not vacuous: every exercise has compared lines, all found in the source
        for e in exercises:
            mine = [line for checker, line in lines[aid] if checker == e.checker]
            assert mine, f"{aid} {e.checker}: no reference line long enough to compare"
            lost = set(mine) - set(leaks(source, mine))
            # only the checker's own asserts are rewritten (into `answer = ...`) in the source
            assert all(line.startswith(f"assert {e.checker}(") for line in lost), (aid, e.checker, lost)
    every = [item for v in lines.values() for item in v]
    assert not leaks(release, every), f"reference answer text in the release: {leaks(release, every)[:5]}"
    assert not leaks(release, hidden_lines()), "hidden tests in the release"
    assert leaks(source, hidden_lines())
    assert "BEGIN SOLUTION" not in release and "BEGIN HIDDEN TESTS" not in release
    for nb_path in (out / "release").rglob("*.ipynb"):
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        for c in nb["cells"]:
            assert not c.get("outputs") and not c.get("attachments"), nb_path
            assert A.REFERENCE_MARK not in A.source_of(c), nb_path


# ----------------------------------------------------------------------------- autograde (chapter 04)
GAMED = '''import helpers.exercises.ch04 as _ch04
def delta_step(delta_next, h_k, W):        # right only on the visible checker's inputs (B = 3, H = 5)
    if tuple(delta_next.shape) == (3, 5):
        return _ch04.delta_step(delta_next, h_k, W)
    return delta_next'''
# (the endless loop cut by the time limit is tested on the real hub, with the grading sandbox:
# tests/test_homework_cycle.py; here it cost TEST_TIMEOUT seconds of waiting)
WRONG_TYPE = "answer = '不知道'"


def _fill(release_nb: dict, source_nb: dict, answers: dict) -> dict:
    """The release with answers: ``answers[grade_id]`` replaces the stub of that answer cell; any
    other answer cell gets the source's (reference) answer cell."""
    nb = json.loads(json.dumps(release_nb))
    reference = {c["metadata"]["nbgrader"]["grade_id"]: A.source_of(c) for c in source_nb["cells"]
                 if c["metadata"].get("nbgrader", {}).get("solution")}
    for c in nb["cells"]:
        gid = c["metadata"].get("nbgrader", {}).get("grade_id")
        if gid in answers:
            src = A.source_of(c)
            assert A.CODE_STUB in src
            c["source"] = A._lines(src.replace(A.CODE_STUB, answers[gid]))
        elif gid in reference and c["metadata"]["nbgrader"]["solution"]:
            c["source"] = A._lines(reference[gid])
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    pytest.importorskip("nbgrader", reason="nbgrader comes with the class server's packages (make hub-install)")
    out = tmp_path_factory.mktemp("autograde")
    A.build(out, [AID], timeout=TEST_TIMEOUT)
    read = lambda kind: json.loads((out / kind / AID / f"{AID}.ipynb").read_text(encoding="utf-8"))
    submissions = {
        "unanswered": read("release"),
        "reference": read("source"),
        "cheater": _fill(read("release"), read("source"),
                         {"delta_step_answer": GAMED, "must_vanish_answer": WRONG_TYPE}),
    }
    api = A.nbgrader_api(out)
    results, seconds = {}, {}
    for student, nb in submissions.items():
        folder = out / "submitted" / student / AID
        shutil.copytree(out / "release" / AID, folder)
        (folder / f"{AID}.ipynb").write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
        t = time.time()
        result = api.autograde(AID, student, force=True, create=True)
        seconds[student] = time.time() - t
        assert result["success"], result.get("log")
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", A.COURSE_ID) as gb:
        for student in submissions:
            sub = gb.find_submission_notebook(AID, AID, student)
            results[student] = {g.name: (g.score, g.max_score) for g in sub.grades}
    print("autograde seconds per submission:", {k: round(v, 1) for k, v in seconds.items()})
    notebooks = {s: json.loads((out / "autograded" / s / AID / f"{AID}.ipynb").read_text(encoding="utf-8"))
                 for s in submissions}
    return results, notebooks, seconds


def _errors(nb: dict) -> dict[str, list[str]]:
    """{grade_id or cell index: [error names]} of every cell that errored."""
    out = {}
    for i, c in enumerate(nb["cells"]):
        names = [o["ename"] for o in c.get("outputs", []) if o["output_type"] == "error"]
        if names:
            out[c["metadata"].get("nbgrader", {}).get("grade_id", str(i))] = names
    return out


def test_unanswered_release_fails_only_its_test_cells(graded):
    results, notebooks, _ = graded
    assert results["unanswered"] and all(score == 0 for score, _ in results["unanswered"].values())
    errors = _errors(notebooks["unanswered"])
    assert set(errors) == set(results["unanswered"]), errors          # the test cells, nothing else
    assert all(names == ["AssertionError"] for names in errors.values()), errors


def test_reference_answers_score_full_marks(graded):
    results, notebooks, _ = graded
    assert all(score == top for score, top in results["reference"].values()), results["reference"]
    assert not _errors(notebooks["reference"])


def test_gamed_checker_fails_the_hidden_test_and_a_wrong_answer_scores_zero(graded):
    results, notebooks, _ = graded
    ns = {}
    exec(GAMED, ns)
    from helpers.exercises.ch04 import check_delta_step
    assert check_delta_step(ns["delta_step"]), "the gamed answer should pass the visible checker"
    cheat = results["cheater"]
    assert cheat["delta_step_test"][0] == 0
    assert cheat["must_vanish_test"][0] == 0
    assert cheat["clipped_grad_test"][0] == cheat["clipped_grad_test"][1] > 0
    assert cheat["vanish_experiment_test"][0] == cheat["vanish_experiment_test"][1] > 0
    errors = _errors(notebooks["cheater"])
    assert errors.keys() == {"delta_step_test", "must_vanish_test"}, errors
    test_cell = next(c for c in notebooks["cheater"]["cells"]
                     if c["metadata"].get("nbgrader", {}).get("grade_id") == "delta_step_test")
    assert "隐藏测试" in json.dumps(test_cell["outputs"], ensure_ascii=False)   # the hidden test, not the visible one


# ----------------------------------------------------------------------------- student edition
# Reference lines that helpers/ (the tested course code the chapters import; the edition needs it)
# contains verbatim: the checker of 04's exercise 1 computes the right answer with the same line.
IN_HELPERS = {("check_delta_step", "return (1 - h_k ** 2) * (delta_next @ W)"),
              ("check_gate_shift", "H = shifted.rnn.hidden_size"),      # a generic line
              # unpacking the two (a, b) pairs the combine exercise gives (its input maker does too)
              ("check_combine", "a_s, b_s = first"), ("check_combine", "a_t, b_t = second")}


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("edition") / "student-edition"
    A.student_edition(out)
    A.student_edition(out)        # a second build with nothing changed adds no commit
    return out


def test_student_edition_is_a_git_repo_without_answers(edition):
    log = subprocess.run(["git", "-C", str(edition), "log", "--oneline"], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert len(log) == 1, log
    assert not subprocess.run(["git", "-C", str(edition), "status", "--porcelain"], capture_output=True,
                              text=True, check=True).stdout.strip()
    names = {p.name for p in (edition / "notebooks").glob("*.ipynb")}
    assert names == {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert (edition / "helpers" / "exercises").is_dir() and (edition / "media").is_dir()
    text = corpus(edition)
    every = [item for v in reference_lines().values() for item in v]
    assert set(leaks(text, every)) <= IN_HELPERS, set(leaks(text, every)) - IN_HELPERS
    # nothing of grading.toml goes into the edition (helpers/ shares generic test-data lines with it)
    assert not leaks(corpus(edition, skip=("helpers",)), hidden_lines())
    assert "BEGIN HIDDEN TESTS" not in text and not list(edition.rglob("grading.toml"))
    for path in (edition / "notebooks").glob("*.ipynb"):
        nb = json.loads(path.read_text(encoding="utf-8"))
        assert not any(A.is_reference(c) for c in nb["cells"]), path.name
        assert all(not c.get("outputs") for c in nb["cells"]), path.name
        original = json.loads((ROOT / "notebooks" / path.name).read_text(encoding="utf-8"))
        assert len(nb["cells"]) == sum(not A.is_reference(c) for c in original["cells"])


def test_student_edition_chapter_runs(edition):
    import nbformat
    from nbclient import NotebookClient

    path = edition / "notebooks" / f"{AID}.ipynb"
    nb = nbformat.read(path, as_version=4)
    probe = nbformat.v4.new_code_cell("import helpers; print(helpers.__file__)")
    nb.cells.insert(0, probe)
    env = {**os.environ, "PYTHONPATH": str(edition)}      # the edition's helpers, not the course's
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute(env=env)
    assert str(edition) in "".join(o.get("text", "") for o in nb.cells[0].outputs), "the edition's helpers"
    text = json.dumps([c.get("outputs", []) for c in nb.cells], ensure_ascii=False)
    assert "【未作答】" in text


# ----------------------------------------------------------------------------- plain `make lab`
def test_plain_lab_hides_nbgrader_but_the_venv_keeps_it_for_the_hub(tmp_path):
    """scripts/lab.sh (make lab) turns nbgrader's panels and server extensions off; nbgrader's own
    install (used by the class server, which does not start lab.sh) still enables them."""
    import socket
    import urllib.error
    import urllib.request

    enabled = Path(sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.d" / "nbgrader.json"
    if not enabled.exists():
        pytest.skip("nbgrader is not installed in this venv (make hub-install)")
    assert all(json.loads(enabled.read_text())["ServerApp"]["jpserver_extensions"].values())
    off = json.loads((ROOT / "scripts" / "nbgrader" / "lab-config" / "jupyter_server_config.json").read_text())
    assert set(off["ServerApp"]["jpserver_extensions"]) == \
        set(json.loads(enabled.read_text())["ServerApp"]["jpserver_extensions"])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = "t" + os.urandom(8).hex()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    proc = subprocess.Popen(["bash", str(ROOT / "scripts" / "lab.sh"), "--no-browser", f"--port={port}",
                             f"--IdentityProvider.token={token}", f"--LabApp.user_settings_dir={tmp_path / 's'}",
                             f"--LabApp.workspaces_dir={tmp_path / 'w'}"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    get = lambda path: urllib.request.urlopen(f"http://127.0.0.1:{port}{path}?token={token}", timeout=10)
    try:
        for _ in range(240):
            try:
                get("/api/status").close()
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab (scripts/lab.sh) did not answer within 120 s")
        page = get("/lab").read().decode("utf-8")
        config = json.loads(re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', page, re.S).group(1))
        assert "@jupyter/nbgrader" in config["disabledExtensions"], config["disabledExtensions"]
        for path in ("/formgrader", "/assignments", "/formgraders"):
            with pytest.raises(urllib.error.HTTPError) as err:
                get(path)
            assert err.value.code == 404, path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_student_edition_refuses_a_folder_that_is_not_one(tmp_path):
    (tmp_path / "thesis.tex").write_text("mine", encoding="utf-8")
    with pytest.raises(SystemExit, match="not a student edition"):
        A.student_edition(tmp_path)
    assert (tmp_path / "thesis.tex").read_text(encoding="utf-8") == "mine"


def _reference_function(e: "A.Exercise"):
    """The function a reference cell defines as the answer (its imports and defs run alone)."""
    import ast
    tree = ast.parse(e.solution_code)
    keep = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom, ast.FunctionDef))]
    ns = {"torch": __import__("torch")}
    exec(compile(ast.Module(body=keep, type_ignores=[]), e.checker, "exec"), ns)
    assigned = {t.id: n.value.id for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Name)
                for t in n.targets if isinstance(t, ast.Name)}
    name = assigned.get(e.answer_vars[0], e.answer_vars[0])
    return ns[name]


def test_hidden_tests_pass_the_reference_and_fail_a_wrong_answer():
    """Each hidden test, run as the test cell runs it, accepts the chapter's reference function and
    rejects a function that returns its first argument."""
    with_hidden = [e for exercises in A.course_exercises().values() for e in exercises if e.hidden]
    # (hidden tests of a value or experiment answer recompute it for the student's variant: they
    # run in the autograde tests and the chapters' own tests, not against a function here)
    functions = [e for e in with_hidden if any(isinstance(n, __import__("ast").FunctionDef)
                                               for n in __import__("ast").parse(e.solution_code).body)]
    tested, chapter_bound = [], []
    for e in functions:
        ns = {}
        exec(f"def _hidden_tests(ANSWER):\n{__import__('textwrap').indent(e.hidden, '    ')}\n", ns)
        try:
            ns["_hidden_tests"](_reference_function(e))
        except NameError:        # the reference function uses a name of the chapter (its autograde tests it)
            chapter_bound.append(e.checker)
            continue
        with pytest.raises(Exception):
            ns["_hidden_tests"](lambda *args: args[0])
        tested.append(e.checker)
    print("tested alone:", tested, "need the chapter's names:", chapter_bound)
    assert len(tested) >= 8, (tested, chapter_bound)


# ----------------------------------------------------------------------------- nothing readable
def test_build_output_is_the_teachers_alone_from_the_start(course):
    """assignments.py build writes with umask 077 into a folder of mode 700: no file of the
    build (answers, hidden tests, gradebook) was ever readable by another user."""
    out, _ = course
    assert out.stat().st_mode & 0o777 == 0o700
    loose = [str(p.relative_to(out)) for p in out.rglob("*") if p.lstat().st_mode & 0o077]
    assert not loose, f"readable by others: {loose[:5]}"


STRIP_CASES = '''"""a checker module"""
from __future__ import annotations
from ._core import checker, reference as ref
from . import _core


@ref
def step(a, b,
         W=3):
    """The docstring stays."""
    # the formula, in a comment: goes too
    return (1 - b ** 2) * (a @ W)


@_core.reference
def count(n): return n * 7 + 1


@ref
def only_doc():
    """nothing else"""


class Holder:
    @ref
    def method(self):
        inner = 40

        def nested():
            return inner + 2
        return nested()


def shown(x):
    return x * 31 + 5


@checker
def check_step(fn):
    return fn(1, 2) == step(1, 2)
'''


def test_strip_references_keeps_signatures_and_docstrings_and_nothing_else():
    out = A.strip_references(STRIP_CASES, "case")
    ns = {}
    exec(compile(out.replace("from ._core import checker, reference as ref\nfrom . import _core\n",
                             "ref = lambda f: f\nchecker = lambda f: f\nclass _core:\n    reference = staticmethod(lambda f: f)\n")
                 .replace("from helpers.exercises._core import GradedAtSubmission",
                          "class GradedAtSubmission(Exception): pass"), "case", "exec"), ns)
    import inspect
    assert str(inspect.signature(ns["step"])) == "(a, b, W=3)" and ns["step"].__doc__ == "The docstring stays."
    for call in (lambda: ns["step"](1, 2), lambda: ns["count"](3), lambda: ns["only_doc"](),
                 lambda: ns["Holder"]().method()):
        with pytest.raises(ns["GradedAtSubmission"]):
            call()
    assert ns["shown"](1) == 36                                  # an unmarked function is untouched
    for gone in ("(1 - b ** 2)", "the formula", "n * 7 + 1", "inner + 2", "inner = 40"):
        assert gone not in out, gone
    assert "from helpers.exercises._core import GradedAtSubmission" in out
    bodies = A.reference_bodies(STRIP_CASES)
    assert any("(1 - b ** 2) * (a @ W)" in b and "the formula" in b for b in bodies.values())
    assert "return n * 7 + 1" in bodies.values()
    assert A.strip_references(out) == out or not A.reference_bodies(out) or all(
        "raise GradedAtSubmission()" == b.strip() for b in A.reference_bodies(out).values())


def test_student_edition_helpers_have_no_reference_body(edition):
    """Every @reference function of the course's helpers/exercises is in the edition with the body
    `raise GradedAtSubmission()`, and no line of any reference body (comments included) is in the
    edition unless a chapter or unmarked helper code shows it anyway."""
    stripped_lines, marked = set(), 0
    unmarked = {norm(x) for path in (ROOT / "helpers").rglob("*.py") for x in
                A.strip_references(path.read_text(encoding="utf-8")).splitlines()}
    for path in sorted((ROOT / "helpers" / "exercises").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        bodies = A.reference_bodies(text)
        marked += len(A.reference_functions(text))
        for body in bodies.values():
            stripped_lines |= {norm(x) for x in body.splitlines()
                               if len(norm(x)) >= SHORT and norm(x) not in unmarked}
        got = (edition / "helpers" / "exercises" / path.name).read_text(encoding="utf-8")
        assert got == A.strip_references(text, path.name)
        for fn in A.reference_functions(got):
            assert A.reference_bodies(got).get(f"{fn.name}@{fn.lineno}", "").strip() in ("", "raise GradedAtSubmission()")
    print(f"{marked} @reference functions, {len(stripped_lines)} distinctive body lines")
    shown = "\n".join(visible_text(json.loads(p.read_text(encoding="utf-8"))) for p in A.chapters())
    # a line that unmarked code ships anyway (as a whole line or inside a longer one, e.g. the same
    # normalisation with a .clamp_min) reveals nothing
    unmarked_text = "\n".join(unmarked)
    secret = {line for line in stripped_lines if line not in shown and line not in unmarked_text}
    text = corpus(edition)
    assert not [line for line in secret if line in text]
    assert not list(edition.parent.glob(".edition-staging-*")), "the private staging folder was left"
    assert all(p.stat().st_mode & 0o004 for p in edition.rglob("*") if not p.is_symlink()), \
        "students must be able to read the edition"
    assert "references-stripped" in (edition / ".seqcourse-student-edition").read_text()


def test_student_edition_restarts_a_history_that_holds_references(tmp_path):
    """An edition built before the strip keeps unstripped helpers in its git history: it starts
    afresh (students then pull a new history)."""
    out = tmp_path / "ed"
    out.mkdir()
    (out / ".seqcourse-student-edition").write_text("old\n")
    A._git(out, "init", "-q", "-b", "main")
    (out / "old.py").write_text("return (1 - h_k ** 2) * (delta_next @ W)\n")
    A._git(out, "add", "-A")
    A._git(out, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "old")
    A.student_edition(out)
    log = A._git(out, "log", "--oneline").splitlines()
    assert len(log) == 1 and "Student edition" in log[0]


def test_test_cell_grades_the_submitter_whatever_the_answer_cell_sets():
    """The test cell restores SEQHW_STUDENT from the environment the grading kernel started with:
    an answer cell that sets it to a classmate (or deletes it) is still graded as its author."""
    code = ("import os\n"
            "from helpers.exercises._core import variant\n"
            "os.environ['SEQHW_STUDENT'] = 'classmate'\n"
            + A.REASSERT_STUDENT +
            "print(os.environ['SEQHW_STUDENT'], variant() == variant('alice'))\n"
            "del os.environ['SEQHW_STUDENT']\n"
            + A.REASSERT_STUDENT +
            "print(os.environ['SEQHW_STUDENT'])\n")
    env = {**os.environ, "SEQHW_STUDENT": "alice"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["alice", "True", "alice"], out.stderr
    env.pop("SEQHW_STUDENT")            # outside the grader (a student's own server): no effect
    out = subprocess.run([sys.executable, "-c", code.split("del os.environ")[0]], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["classmate", "False"], out.stderr
    e = A.course_exercises([AID])[AID][0]
    assert A.test_cell_source(e).count(A.REASSERT_STUDENT) == 1
