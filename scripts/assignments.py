"""Graded homework from the chapters' exercises (nbgrader), and a student edition without answers.

Interface (stable; the class-server scripts call it):

    .venv/bin/python scripts/assignments.py build [--out build/nbgrader] [--timeout S] [IDS ...]
    .venv/bin/python scripts/assignments.py student-edition [--out build/student-edition]
    .venv/bin/python scripts/assignments.py list            # exercises and points of every chapter

``build`` writes an nbgrader course directory (course id ``seqcourse``)::

    <out>/nbgrader_config.py            course settings (course id, stub text, time limit per cell)
    <out>/source/<id>/<id>.ipynb        the assignment WITH the answers (teacher side)
    <out>/source/<id>/media/*.svg       the figures the chapter shows
    <out>/release/<id>/<id>.ipynb       what students fetch: no answers, no hidden tests
    <out>/gradebook.db                  nbgrader's gradebook (the assignment and its graded cells)

``IDS`` are notebook stems such as ``04_bptt`` (default: every chapter ``notebooks/NN_*.ipynb``
that has exercises; only the chapters built need entries in grading.toml). ``--timeout`` is the
time limit per cell when autograding (default 300 s; see CELL_TIMEOUT). nbgrader runs ``alembic``
from PATH: run the ``nbgrader`` command line with ``.venv/bin`` on PATH (this script does it). Exchange settings (``c.Exchange.root``) and the course's students are the
class server's business (its own nbgrader config); this config holds only what grading needs.

One source of truth. Nothing of an exercise is copied by hand: every build reads the chapter
notebook (``notebooks/NN_*.ipynb``, owned by the chapter's author) and its checker module
(``helpers/exercises/chNN.py``). An exercise is found by the course's convention (CONTRIBUTING.md,
动手练习): a student cell whose last line is a call ``check_xxx(answer, ...)`` of a checker imported
from ``helpers.exercises``, and the reference cell that follows it (tag ``solution``, first line
``# 参考答案``) with ``assert check_xxx(solution, ...)``. In the assignment

- the student cell becomes an autograded answer cell: its own lines (``answer = None`` stays, so an
  unanswered release runs like the chapter), then ``### BEGIN SOLUTION`` + the reference code, in
  which each ``assert check_xxx(solution, ...)`` becomes ``answer = solution`` (the argument in the
  position of each of the student's answer variables) + ``### END SOLUTION``, then the check line;
- the reference cell is dropped;
- a locked test cell with points follows: the student's checker call, imported afresh from its
  module (so an answer cell that redefines ``check_xxx`` cannot pass it), plus hidden tests where
  the visible checker could be gamed (fixed inputs).

The only per-exercise data that does not exist in the chapters (points, hidden tests) is kept
teacher-side in ``scripts/nbgrader/grading.toml``, keyed by checker name; ``tests/test_assignments.py``
checks that every exercise of every chapter has an entry and every entry an exercise.

``build`` writes with umask 077 into a folder of mode 700: the answers, the hidden tests and the
gradebook are the teacher's (and root's) alone from the moment they exist, wherever ``--out`` is.

``student-edition`` writes ``<out>`` as a git repository (one commit per build, for nbgitpuller):
``notebooks/`` (every chapter without its reference cells and without outputs), ``helpers/``,
``media/`` and the files needed to install and run them. It is what the class hub's students run
(their servers import its ``helpers``), so it holds no graded answer: in ``helpers/exercises/*.py``
the body of every function decorated ``@reference`` (``helpers.exercises._core.reference``: the
reference implementation of a graded exercise, or the wrong answers its hints name) is replaced by
``raise GradedAtSubmission()`` (an AST transform that keeps the decorators, the signature and the
docstring; comments inside the body go with it); the checkers then print that the exercise is
graded after submission. The edition is assembled in a private staging folder (mode 700) next to
``<out>`` and only moved into ``<out>`` (readable by everyone) once stripped and verified, so no
reference body is ever world-readable. An edition built before references were stripped has its
git history (which holds them) started afresh.
"""
from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
GRADING = ROOT / "scripts" / "nbgrader" / "grading.toml"
COURSE_ID = "seqcourse"
# seconds per cell when autograding: the slowest cell of any chapter (a training loop) takes well
# under 30 s on an idle 2-core CPU, but 96 s (05_lstm) and over 180 s (08_language_models, then
# interrupted) were measured at a load average of 20 on 2 cores. A student's endless loop costs
# this long per submission.
CELL_TIMEOUT = 300
CODE_STUB = "# 在这里作答（YOUR CODE HERE）"
SCHEMA = 3
CHAPTER = re.compile(r"^\d\d_.+\.ipynb$")
REFERENCE_MARK = "# 参考答案"


class MappingError(ValueError):
    """A chapter's exercise does not follow the convention, so it cannot become an assignment."""


# ----------------------------------------------------------------------------- exercises
@dataclass
class Exercise:
    checker: str                  # check_xxx: the key of the exercise
    module: str                   # helpers.exercises.chNN (where the checker is imported from)
    student: int                  # index of the student cell
    reference: int                # index of the reference cell
    call: str                     # the student's checker call, e.g. check_window_count(answer, T=...)
    answer_vars: list[str]        # the student's answer variables (assigned None in the cell)
    solution_code: str            # reference code with its checker asserts turned into assignments
    points: int = 0
    hidden: str = ""

    @property
    def grade_id(self) -> str:
        return self.checker.removeprefix("check_")


def source_of(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def is_reference(cell) -> bool:
    return cell["cell_type"] == "code" and (
        "solution" in cell.get("metadata", {}).get("tags", [])
        or source_of(cell).lstrip().startswith(REFERENCE_MARK))


def checker_modules(cells) -> dict[str, str]:
    """{check_xxx: module} for every checker the notebook imports from helpers.exercises."""
    found = {}
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        try:
            tree = ast.parse(source_of(cell))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("helpers.exercises"):
                for alias in node.names:
                    if alias.name.startswith("check_"):
                        found[alias.asname or alias.name] = node.module
    return found


def _last_check_call(source: str, checkers) -> ast.Call | None:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    if not tree.body:
        return None
    last = tree.body[-1]
    if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call) \
            and isinstance(last.value.func, ast.Name) and last.value.func.id in checkers:
        return last.value
    return None


def _none_assigned(source: str) -> set[str]:
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and node.value.value is None:
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _solution_code(ref_source: str, checker: str, student_call: ast.Call, answer_vars: list[str],
                   where: str) -> str:
    """The reference code with each top-level ``assert checker(...)`` replaced by assignments of
    its arguments to the student's answer variables (same position or keyword)."""
    tree = ast.parse(ref_source)
    lines = ref_source.splitlines()
    positions = {i: a.id for i, a in enumerate(student_call.args) if isinstance(a, ast.Name) and a.id in answer_vars}
    keywords = {k.arg: k.value.id for k in student_call.keywords
                if isinstance(k.value, ast.Name) and k.value.id in answer_vars}
    replaced = 0
    for node in reversed(tree.body):
        if not (isinstance(node, ast.Assert) and isinstance(node.test, ast.Call)
                and isinstance(node.test.func, ast.Name) and node.test.func.id == checker):
            continue
        call = node.test
        assign = []
        for i, arg in enumerate(call.args):
            if i in positions:
                assign.append((positions[i], arg))
        for kw in call.keywords:
            if kw.arg in keywords:
                assign.append((keywords[kw.arg], kw.value))
        if not assign:
            raise MappingError(f"{where}: `assert {checker}(...)` in the reference cell has no argument "
                               f"in the place of the student's answer {answer_vars}")
        indent = " " * node.col_offset
        new = [f"{indent}{var} = {ast.get_source_segment(ref_source, value)}" for var, value in assign
               if not (isinstance(value, ast.Name) and value.id == var)]
        lines[node.lineno - 1:node.end_lineno] = new
        replaced += 1
    if not replaced:
        raise MappingError(f"{where}: the reference cell has no top-level `assert {checker}(...)`")
    return "\n".join(lines).strip("\n")


def find_exercises(nb: dict, where: str = "") -> list[Exercise]:
    """Every exercise of a chapter by the convention; MappingError names a cell that breaks it."""
    cells = nb["cells"]
    checkers = checker_modules(cells)
    exercises, pending = [], None
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        src = source_of(cell)
        if is_reference(cell):
            if pending is None:
                raise MappingError(f"{where} cell {i}: a reference cell without a student cell "
                                   "(ending in check_xxx(answer)) before it")
            j, call = pending
            checker = call.func.id
            student_src = source_of(cells[j])
            none_vars = _none_assigned(student_src)
            answer_vars = [a.id for a in call.args if isinstance(a, ast.Name) and a.id in none_vars]
            answer_vars += [k.value.id for k in call.keywords
                            if isinstance(k.value, ast.Name) and k.value.id in none_vars]
            if not answer_vars:
                raise MappingError(f"{where} cell {j}: {checker}(...) takes no variable that the cell "
                                   "sets to None (the student's answer)")
            exercises.append(Exercise(
                checker=checker, module=checkers[checker], student=j, reference=i,
                call=ast.get_source_segment(student_src, call), answer_vars=answer_vars,
                solution_code=_solution_code(src, checker, call, answer_vars, f"{where} cell {i}")))
            pending = None
            continue
        call = _last_check_call(src, checkers)
        if call is not None:
            if pending is not None:
                raise MappingError(f"{where} cell {pending[0]}: a student cell without its reference cell")
            pending = (i, call)
    if pending is not None:
        raise MappingError(f"{where} cell {pending[0]}: a student cell without its reference cell")
    names = [e.checker for e in exercises]
    if len(set(names)) != len(names):
        raise MappingError(f"{where}: a checker is used by two exercises: {names}")
    return exercises


def chapters() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.glob("*.ipynb") if CHAPTER.match(p.name))


def load_grading(path: Path = GRADING) -> dict:
    with open(path, "rb") as f:
        data = tomllib.load(f)
    for name, entry in data.items():
        if not isinstance(entry.get("points"), int) or entry["points"] <= 0:
            raise ValueError(f"{path.name}: [{name}] needs points = a positive integer, got {entry.get('points')!r}")
        unknown = set(entry) - {"points", "hidden", "why"}
        if unknown:
            raise ValueError(f"{path.name}: [{name}] has unknown keys {sorted(unknown)}")
    return data


def course_exercises(ids=None, grading: dict | None = None, strict: bool = True) -> dict[str, list[Exercise]]:
    """{assignment id: its exercises with points and hidden tests} for every chapter with exercises
    (only those in ``ids`` when given); an exercise without an entry in grading.toml is an error
    (``strict``) or gets 0 points."""
    grading = load_grading() if grading is None else grading
    out, missing = {}, []
    for path in chapters():
        if ids and path.stem not in ids:
            continue
        nb = json.loads(path.read_text(encoding="utf-8"))
        exercises = find_exercises(nb, path.name)
        for e in exercises:
            entry = grading.get(e.checker)
            if entry is None:
                missing.append(f"{path.stem}: {e.checker}")
                continue
            e.points, e.hidden = entry["points"], entry.get("hidden", "").strip("\n")
        if exercises:
            out[path.stem] = exercises
    if missing and strict:
        raise MappingError(f"{GRADING.relative_to(ROOT)} has no entry (points) for: " + ", ".join(missing))
    return out


# ----------------------------------------------------------------------------- the assignment notebook
def _meta(**kw) -> dict:
    return {"schema_version": SCHEMA, **kw}


def _lines(text: str) -> list[str]:
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + [parts[-1]]


# Whose variant a test cell grades comes from the grader (SEQHW_STUDENT in the environment the
# grading kernel was started with, scripts/hub/grading_kernel.py), not from the notebook: each test
# cell first puts that value back into os.environ, so an answer cell that sets, changes or deletes
# SEQHW_STUDENT (to be graded as a classmate) changes nothing. /proc/self/environ is the
# environment the kernel process was started with; os.environ edits do not reach it. Outside the
# grader (the student's own server, a laptop) the variable is absent and nothing happens.
REASSERT_STUDENT = (
    "import os as _os\n"
    "try:  # 评分时的学生身份来自评分程序启动内核时的环境，笔记本里改 os.environ 无效\n"
    "    _os.environ.update(_v.split('=', 1) for _v in open('/proc/self/environ', errors='replace')"
    ".read().split('\\0') if _v.startswith('SEQHW_STUDENT='))\n"
    "except OSError:\n"
    "    pass\n")


def test_cell_source(e: Exercise) -> str:
    module_alias = "_checkers"
    call = e.call.replace(e.checker + "(", f"{module_alias}.{e.checker}(", 1)
    src = (f"# 自动评分（{e.points} 分）：重新导入检查函数，答案单元格里改写它无效\n"
           f"{REASSERT_STUDENT}"
           f"import importlib as _importlib\n"
           f"import {e.module} as {module_alias}\n"
           f"{module_alias} = _importlib.reload({module_alias})\n"
           f"assert {call}, \"没有通过检查（见上面的提示）\"")
    if e.hidden:
        args = ", ".join(e.answer_vars)
        params = ", ".join(f"ANSWER{'' if k == 0 else k}" for k in range(len(e.answer_vars)))
        src += ("\n### BEGIN HIDDEN TESTS\n"
                f"def _hidden_tests({params}):\n{textwrap.indent(e.hidden, '    ')}\n"
                f"_hidden_tests({args})\n"
                "del _hidden_tests\n"
                "### END HIDDEN TESTS")
    return src


def make_assignment(nb: dict, exercises: list[Exercise]) -> dict:
    """The chapter as an nbgrader source notebook: answer cells with solution regions, locked
    test cells with points, reference cells dropped, figures from media/ next to the notebook."""
    nb = copy.deepcopy(nb)
    by_student = {e.student: e for e in exercises}
    references = {e.reference for e in exercises}
    cells = []
    for i, cell in enumerate(nb["cells"]):
        if i in references:
            continue
        cell = copy.deepcopy(cell)
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        if cell["cell_type"] == "markdown":
            cell["source"] = _lines(source_of(cell).replace("](../media/", "](media/"))
        e = by_student.get(i)
        if e is None:
            cells.append(cell)
            continue
        src = source_of(cell).rstrip("\n")
        before, last = src.rsplit(e.call, 1)
        if last.strip():
            raise MappingError(f"{e.checker}: text after the checker call in the student cell")
        cell["source"] = _lines(f"{before.rstrip()}\n### BEGIN SOLUTION\n{e.solution_code}\n"
                                f"### END SOLUTION\n{e.call}".lstrip("\n"))
        cell["metadata"]["nbgrader"] = _meta(grade=False, solution=True, locked=False,
                                             grade_id=f"{e.grade_id}_answer")
        cells.append(cell)
        meta = {k: v for k, v in cell["metadata"].items() if k == "slideshow"}
        meta["nbgrader"] = _meta(grade=True, solution=False, locked=True, points=e.points,
                                 grade_id=f"{e.grade_id}_test")
        meta["tags"] = ["autograder"]
        cells.append({"cell_type": "code", "execution_count": None, "id": f"{e.grade_id}-test",
                      "metadata": meta, "outputs": [], "source": _lines(test_cell_source(e))})
    nb["cells"] = cells
    return nb


def media_of(nb: dict) -> set[str]:
    names = set()
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            names |= set(re.findall(r"\]\(media/([^)\s]+)\)", source_of(cell)))
    return names


CONFIG = '''\
# nbgrader settings of the course (written by scripts/assignments.py; do not edit, rebuild).
# The exchange (c.Exchange.root) and the students belong to the class server's own config.
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "{course}"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.ClearSolutions.code_stub = {{"python": {stub!r}}}
c.ClearSolutions.text_stub = "在这里写你的回答（YOUR ANSWER HERE）"
# A cell that runs longer than this (an endless loop) is interrupted and errors: its test cells
# then score zero and the rest of the notebook still runs.
c.Execute.timeout = {timeout}
c.Execute.interrupt_on_timeout = True
c.ExecutePreprocessor.timeout = {timeout}
'''


def _venv_on_path() -> None:
    """nbgrader runs ``alembic`` (the gradebook's migrations) from PATH: the venv's bin must be on it."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def nbgrader_api(course: Path):
    """nbgrader's Python API on the course directory ``course`` with its nbgrader_config.py."""
    _venv_on_path()
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(course)
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def generate(course: Path, ids: list[str]) -> None:
    """``nbgrader generate_assignment`` for each id (in this process: one import of nbgrader)."""
    api = nbgrader_api(course)
    for aid in ids:
        result = api.generate_assignment(aid, force=True, create=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader generate_assignment {aid} failed:\n{result.get('log', '')}\n"
                               f"{result.get('error', '')}")


def build(out: Path, ids: list[str] | None = None, timeout: int = CELL_TIMEOUT,
          release: bool = True) -> dict[str, list[Exercise]]:
    """Write the course directory (config, source/<id>/, release/<id>/); returns the exercises."""
    course = course_exercises(ids)
    unknown = sorted(set(ids or ()) - set(course))
    if unknown:
        raise SystemExit(f"no chapter with exercises named {unknown}; known: {sorted(course)}")
    ids = list(ids) if ids else list(course)
    old_umask = os.umask(0o077)      # answers, hidden tests, gradebook: the teacher's from the start
    try:
        return _build(out, ids, course, timeout, release)
    finally:
        os.umask(old_umask)


def _build(out: Path, ids: list[str], course: dict, timeout: int, release: bool) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    private_tree(out)
    (out / "nbgrader_config.py").write_text(
        CONFIG.format(course=COURSE_ID, stub=CODE_STUB, timeout=int(timeout)), encoding="utf-8")
    for aid in ids:
        nb = json.loads((NOTEBOOKS / f"{aid}.ipynb").read_text(encoding="utf-8"))
        source_nb = make_assignment(nb, course[aid])
        folder = out / "source" / aid
        if folder.exists():
            shutil.rmtree(folder)
        (folder / "media").mkdir(parents=True)
        for name in sorted(media_of(source_nb)):
            shutil.copyfile(ROOT / "media" / name, folder / "media" / name)   # umask 077, not the repo's mode
        (folder / f"{aid}.ipynb").write_text(json.dumps(source_nb, ensure_ascii=False, indent=1) + "\n",
                                             encoding="utf-8")
    if release:
        generate(out, ids)
        private_tree(out)        # (inside the mode-700 folder already; nbgrader copies modes)
    return {aid: course[aid] for aid in ids}


def private_tree(folder: Path) -> None:
    """Take every other-user and group permission off ``folder`` and what is under it (a build
    made by an older version, or copied in with a loose umask)."""
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
            st = os.lstat(name)
            if not os.path.islink(name) and st.st_mode & 0o077:
                os.chmod(name, st.st_mode & 0o7700)


# ----------------------------------------------------------------------------- @reference bodies out
GRADED_EXCEPTION = "GradedAtSubmission"
CORE_MODULES = ("helpers.exercises._core", "._core", "_core")


def _reference_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """(names under which ``reference`` is imported, module aliases of _core) in a checker module."""
    names, modules = {"reference"}, set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            mod = ("." * node.level) + (node.module or "")
            for alias in node.names:
                if alias.name == "reference" and (mod.endswith("_core") or mod.endswith("exercises")):
                    names.add(alias.asname or alias.name)
                if alias.name == "_core":
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.endswith("_core"):
                    modules.add(alias.asname or alias.name.split(".")[-1])
    return names, modules | {"_core", "core"}


def _is_reference(node, names: set[str], modules: set[str]) -> bool:
    for dec in getattr(node, "decorator_list", []):
        target = dec.func if isinstance(dec, ast.Call) else dec
        if isinstance(target, ast.Name) and target.id in names:
            return True
        if isinstance(target, ast.Attribute) and target.attr == "reference":
            return True
    return False


def reference_functions(source: str) -> list[ast.FunctionDef]:
    """Every function (any depth) decorated ``@reference`` in a module's source."""
    tree = ast.parse(source)
    names, modules = _reference_names(tree)
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            and _is_reference(n, names, modules)]


def _docstring_node(fn) -> ast.stmt | None:
    first = fn.body[0] if fn.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first
    return None


def reference_bodies(source: str) -> dict[str, str]:
    """{"name@line": the body's source text, comments included, docstring not} of every @reference
    function (what the student edition must not contain)."""
    out, lines = {}, source.splitlines()
    for fn in reference_functions(source):
        doc = _docstring_node(fn)
        body = [n for n in fn.body if n is not doc]
        if not body:
            continue
        first = fn.body[0]
        if lines[first.lineno - 1][:first.col_offset].strip():      # body on the header's line
            out[f"{fn.name}@{fn.lineno}"] = "\n".join(ast.get_source_segment(source, n) for n in body)
            continue
        a = fn.args
        ends = [fn.lineno] + [n.end_lineno for n in [*a.posonlyargs, *a.args, *a.kwonlyargs, *a.defaults,
                                                     *[d for d in a.kw_defaults if d is not None],
                                                     *[x for x in (a.vararg, a.kwarg, fn.returns) if x]]]
        start = doc.end_lineno if doc is not None else max(ends)
        out[f"{fn.name}@{fn.lineno}"] = "\n".join(lines[start:fn.end_lineno])
    return out


def strip_references(source: str, where: str = "") -> str:
    """``source`` with the body of every @reference function replaced by ``raise
    GradedAtSubmission()`` (decorators, signature and docstring kept); the exception is imported
    from helpers.exercises._core where the module does not define it."""
    tree = ast.parse(source)
    found = reference_functions(source)
    if not found:
        return source
    # outermost first; a reference function inside another one goes with the outer body
    spans, kept = sorted(((fn.lineno, fn.end_lineno, fn) for fn in found), key=lambda t: (t[0], -t[1])), []
    for start, end, fn in spans:
        if kept and start >= kept[-1][0] and end <= kept[-1][1]:
            continue
        kept.append((start, end, fn))
    lines = source.splitlines()
    for _, end, fn in reversed(kept):
        doc = _docstring_node(fn)
        first = fn.body[0]
        if lines[first.lineno - 1][:first.col_offset].strip():
            # the body shares a line with the header (`def f(x): return ...`): rewrite the def
            new = copy.deepcopy(fn)
            new.body = ([doc] if doc is not None else []) + [ast.parse(f"raise {GRADED_EXCEPTION}()").body[0]]
            top = min([fn.lineno] + [d.lineno for d in fn.decorator_list])
            lines[top - 1:end] = textwrap.indent(ast.unparse(new), " " * fn.col_offset).splitlines()
            continue
        body_start = doc.end_lineno + 1 if doc is not None else first.lineno
        lines[body_start - 1:end] = [" " * first.col_offset + f"raise {GRADED_EXCEPTION}()"]
    out = "\n".join(lines) + "\n"
    defined = any(isinstance(n, ast.ClassDef) and n.name == GRADED_EXCEPTION for n in tree.body)
    imported = any(isinstance(n, ast.ImportFrom) and any((a.asname or a.name) == GRADED_EXCEPTION for a in n.names)
                   for n in tree.body)
    if not (defined or imported):
        out = _add_import(out, f"from helpers.exercises._core import {GRADED_EXCEPTION}")
    check = ast.parse(out)           # the result compiles and no reference body is left
    for fn in reference_functions(out):
        doc = _docstring_node(fn)
        body = [n for n in fn.body if n is not doc]
        if not (len(body) == 1 and isinstance(body[0], ast.Raise)):
            raise MappingError(f"{where}: the body of @reference {fn.name} survived the strip")
    compile(check, where or "<edition>", "exec")
    return out


def _add_import(source: str, line: str) -> str:
    """Insert an import after the module docstring and the ``from __future__`` imports."""
    tree = ast.parse(source)
    after = 0
    for node in tree.body:
        is_doc = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        is_future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        if (is_doc and node is tree.body[0]) or is_future:
            after = node.end_lineno
        else:
            break
    lines = source.splitlines()
    lines[after:after] = [line + "  # the student edition's @reference bodies raise it"]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- student edition
EDITION_FILES = ["helpers", "media", "pyproject.toml", "requirements.txt", "environment.yml", "LICENSE"]
EDITION_README = """\
# 序列预测课程（学生版）

这是课程的学生版：各章笔记本 `notebooks/NN_*.ipynb` 里没有“参考答案”单元格，动手练习请自己完成，
每个练习最后一行的 `check_xxx(...)` 会告诉你答案对不对。

由教师的仓库用 `scripts/assignments.py student-edition` 生成，请不要在这里修改后提交。
"""


def strip_answers(nb: dict) -> dict:
    """A chapter without its reference cells, outputs, execution counts or attachments."""
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb["cells"]:
        if is_reference(cell):
            continue
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cell.pop("attachments", None)
        cells.append(cell)
    nb["cells"] = cells
    return nb


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "seqcourse", "GIT_AUTHOR_EMAIL": "seqcourse@localhost",
           "GIT_COMMITTER_NAME": "seqcourse", "GIT_COMMITTER_EMAIL": "seqcourse@localhost"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=env).stdout


EDITION_MARK = "references-stripped: 1"


def edition_helpers(dest: Path) -> list[str]:
    """Copy helpers/ to ``dest`` with every @reference body of helpers/exercises/*.py replaced
    (strip_references); returns "file: function" of every function stripped."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    shutil.copytree(ROOT / "helpers", dest, ignore=ignore)
    stripped = []
    for path in sorted((dest / "exercises").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        names = [fn.name for fn in reference_functions(text)]
        if names:
            path.write_text(strip_references(text, f"helpers/exercises/{path.name}"), encoding="utf-8")
            stripped += [f"{path.name}: {n}" for n in names]
    return stripped


def _world_readable(folder: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(folder):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            p = os.path.join(dirpath, name)
            if not os.path.islink(p):
                os.chmod(p, 0o755 if os.lstat(p).st_mode & 0o100 else 0o644)


def student_edition(out: Path) -> Path:
    """Write the student edition into ``out`` (a git repository) and commit it."""
    for path in chapters():            # refuse to publish a chapter whose exercises cannot be mapped
        find_exercises(json.loads(path.read_text(encoding="utf-8")), path.name)
    marker = out / ".seqcourse-student-edition"
    if out.exists() and any(out.iterdir()) and not marker.exists():
        raise SystemExit(f"{out} is not empty and not a student edition: refusing to replace its files")
    out.mkdir(parents=True, exist_ok=True)
    if (out / ".git").exists() and EDITION_MARK not in (marker.read_text() if marker.exists() else ""):
        # built before @reference bodies were stripped: its history holds them
        print(f"student-edition: {out}'s git history predates the stripping of reference "
              "implementations; starting it afresh (students pull a new history)", file=sys.stderr)
        shutil.rmtree(out / ".git")
    # assemble in a private folder next to out: nothing unstripped is ever readable by others
    old_umask = os.umask(0o077)
    staging = Path(tempfile.mkdtemp(prefix=".edition-staging-", dir=out.parent))
    try:
        for name in EDITION_FILES:
            src = ROOT / name
            if name == "helpers":
                edition_helpers(staging / name)
            elif src.is_dir():
                shutil.copytree(src, staging / name,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints"))
            elif src.exists():
                shutil.copy2(src, staging / name)
        (staging / "notebooks").mkdir()
        for path in sorted(NOTEBOOKS.glob("*.ipynb")):
            nb = strip_answers(json.loads(path.read_text(encoding="utf-8")))
            (staging / "notebooks" / path.name).write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n",
                                                           encoding="utf-8")
        (staging / "README.md").write_text(EDITION_README, encoding="utf-8")
        (staging / ".gitignore").write_text("__pycache__/\n.ipynb_checkpoints/\n", encoding="utf-8")
        (staging / marker.name).write_text(
            "written by scripts/assignments.py student-edition; every build replaces these files\n"
            f"{EDITION_MARK}\n", encoding="utf-8")
        _assert_stripped(staging / "helpers")     # verified before anything is published
        _world_readable(staging)
        os.umask(0o022)
        for child in out.iterdir():
            if child.name != ".git":
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        for child in staging.iterdir():
            os.rename(child, out / child.name)
    finally:
        os.umask(old_umask)
        shutil.rmtree(staging, ignore_errors=True)
    os.chmod(out, 0o755)
    if not (out / ".git").exists():
        _git(out, "init", "-q", "-b", "main")
    _git(out, "add", "-A")
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip() or "unknown"
    if _git(out, "status", "--porcelain").strip():
        _git(out, "commit", "-q", "-m", f"Student edition from course {head}")
    _world_readable(out / ".git")
    return out


def _assert_stripped(helpers: Path) -> None:
    """Every @reference function under ``helpers`` has a body of exactly ``raise ...``."""
    for path in helpers.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for fn in reference_functions(text):
            doc = _docstring_node(fn)
            body = [n for n in fn.body if n is not doc]
            if not (len(body) == 1 and isinstance(body[0], ast.Raise)):
                raise MappingError(f"{path}: @reference {fn.name} still has its body")


# ----------------------------------------------------------------------------- command line
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="the nbgrader course directory (source/ and release/)")
    b.add_argument("--out", type=Path, default=ROOT / "build" / "nbgrader")
    b.add_argument("--timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell when autograding")
    b.add_argument("ids", nargs="*", help="assignment ids (notebook stems, e.g. 04_bptt); default all")
    s = sub.add_parser("student-edition", help="the chapters without reference answers, as a git repository")
    s.add_argument("--out", type=Path, default=ROOT / "build" / "student-edition")
    sub.add_parser("list", help="every assignment's exercises and points")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "build":
            built = build(args.out.resolve(), args.ids, args.timeout)
            for aid, exercises in built.items():
                total = sum(e.points for e in exercises)
                print(f"{aid}: {len(exercises)} exercises, {total} points -> "
                      f"{args.out / 'release' / aid / (aid + '.ipynb')}")
        elif args.cmd == "student-edition":
            out = student_edition(args.out.resolve())
            print(f"student edition: {out} ({_git(out, 'log', '--oneline', '-1').strip()})")
        else:
            for aid, exercises in course_exercises(strict=False).items():
                print(f"{aid} ({sum(e.points for e in exercises)} points): " + ", ".join(
                    f"{e.grade_id} {e.points or 'NO ENTRY IN grading.toml'}"
                                              + (" (+hidden)" if e.hidden else "") for e in exercises))
    except MappingError as err:
        print(f"assignments: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
