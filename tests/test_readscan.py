"""The readability scanner (tests/readscan.py) that the homework-cycle test runs as a student on
the real hub, and the pieces of scripts/hub/homework.py that keep graded answers from students
(feedback sanitizing, secret lines, the course lock) and write the class report.

The scanner must find a secret line wherever a readable file holds it (plain, JSON-escaped in a
notebook, split by syntax-highlighting tags and HTML entities, only in a git repository's
history) and must not report a file the user cannot read. As root it runs as `nobody` (the real
permission check); otherwise as this user, without the unreadable-file case.
"""
from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts" / "hub"))
sys.path.insert(0, str(ROOT / "tests"))
import homework as H  # noqa: E402
import readscan  # noqa: E402

SECRET = "return (1 - h_k ** 2) * (delta_next @ W)"


SYSTEM_PYTHON = "/usr/bin/python3"      # the scanner needs only the standard library


def run_scan(job: dict, as_nobody: bool) -> dict:
    cmd = [sys.executable, str(ROOT / "tests" / "readscan.py")]
    if as_nobody:
        script = Path(job["roots"][0]).parent / "readscan.py"
        shutil.copy(ROOT / "tests" / "readscan.py", script)
        os.chmod(script, 0o644)
        cmd = ["runuser", "-u", "nobody", "--", SYSTEM_PYTHON, str(script)]
    proc = subprocess.run(cmd, input=json.dumps(job), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture
def open_tmp():
    """A folder every user may pass (pytest's tmp_path lies under a folder of mode 700)."""
    import tempfile
    path = Path(tempfile.mkdtemp(prefix="seqscan-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_scanner_finds_every_readable_copy_and_no_unreadable_one(open_tmp):
    as_nobody = os.geteuid() == 0 and shutil.which("runuser") is not None and os.path.exists(SYSTEM_PYTHON)
    base = open_tmp / "machine"
    base.mkdir()
    os.chmod(base, 0o755)
    (base / "plain.py").write_text(f"def f():\n    {SECRET}\n")
    (base / "nb.ipynb").write_text(json.dumps({"cells": [{"source": [f"    {SECRET}\n"]}]}))
    (base / "fb.html").write_text('<html><span class="k">return</span> (1 - h_k <span>**</span> 2) '
                                  '* (delta_next &#64; W)</html>')
    (base / "clean.txt").write_text("return delta_next @ W  # not the secret\n")
    repo = base / "repo"
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    git = lambda *a: subprocess.run(["git", "-C", str(repo), *a], check=True, capture_output=True, env=env)
    git("init", "-q")
    (repo / "old.py").write_text(SECRET + "\n")
    git("add", "old.py")
    git("commit", "-q", "-m", "a")
    git("rm", "-q", "old.py")
    git("commit", "-q", "-m", "gone from the work tree, still in the history")
    (base / "closed").mkdir(mode=0o700)
    (base / "closed" / "ch04.py").write_text(SECRET + "\n")
    os.chmod(base / "root-only.py", 0o600) if (base / "root-only.py").exists() else None
    (base / "root-only.py").write_text(SECRET + "\n")
    os.chmod(base / "root-only.py", 0o600)
    for dirpath, dirnames, filenames in os.walk(base):
        for n in dirnames:
            if n != "closed":
                os.chmod(os.path.join(dirpath, n), 0o755)
        for n in filenames:
            if n != "root-only.py" and "closed" not in dirpath:
                os.chmod(os.path.join(dirpath, n), 0o644)
    t0 = time.time()
    result = run_scan({"secrets": [SECRET], "since": 0, "roots": [str(base)]}, as_nobody)
    found = {Path(f["path"].replace(" (git objects)", "")).name for f in result["found"]}
    assert {"plain.py", "nb.ipynb", "fb.html"} <= found, result
    assert any("git objects" in f["path"] for f in result["found"]), result
    assert "clean.txt" not in found
    if as_nobody:
        assert result["user"] == pwd.getpwnam("nobody").pw_uid
        assert "root-only.py" not in found and "ch04.py" not in found, result
    # files created before `since` are not read (they cannot hold code that arrived later)
    later = run_scan({"secrets": [SECRET], "since": time.time() + 3600, "roots": [str(base)]}, as_nobody)
    assert later["files_read"] == 0 and not [f for f in later["found"] if "git" not in f["path"]]
    print(f"scan of {result['files_read']} files in {time.time() - t0:.1f} s")


# ----------------------------------------------------------------------------- feedback
def _graded_nb(stream_text: str) -> dict:
    return {"cells": [
        {"cell_type": "code", "metadata": {"nbgrader": {"solution": True, "grade_id": "d_answer"}},
         "source": "def delta_step(d, h, W):\n    return d @ W\n", "outputs": [
             {"output_type": "stream", "name": "stdout", "text": stream_text}]},
        {"cell_type": "code", "metadata": {"nbgrader": {"grade": True, "grade_id": "d_test", "points": 2}},
         "source": "assert check(delta_step)\n### BEGIN HIDDEN TESTS\ndef _hidden_tests(ANSWER):\n"
                   "    for B, H in ((1, 3), (4, 7)):\n        assert ANSWER(B, H) == 42, '隐藏测试：不对'\n"
                   "_hidden_tests(delta_step)\n### END HIDDEN TESTS",
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "【不对】 漏了一项。\n"},
                     {"output_type": "error", "ename": "AssertionError", "evalue": "隐藏测试：不对",
                      "traceback": ["----> 2     for B, H in ((1, 3), (4, 7)):",
                                    "      3         assert ANSWER(B, H) == 42, '隐藏测试：不对'"]}]},
    ]}


def test_feedback_notebook_loses_hidden_tests_and_quoted_grader_code():
    nb = _graded_nb(f"the reference says:\n    {SECRET}\n")
    hidden = H.hidden_lines([nb])
    assert "for B, H in ((1, 3), (4, 7)):" in hidden
    clean, replaced = H.sanitize_notebook(nb, hidden | {SECRET})
    text = json.dumps(clean, ensure_ascii=False)
    assert replaced == 1 and H.SCRUBBED.strip() in text
    assert "BEGIN HIDDEN TESTS" not in text and not H.leaked(text, hidden) and SECRET not in text
    test_cell = clean["cells"][1]
    assert test_cell["outputs"][0]["text"] == "【不对】 漏了一项。\n"          # the hint stays
    assert test_cell["outputs"][1]["traceback"] == ["AssertionError: 隐藏测试：不对"]
    assert "assert check(delta_step)" in "".join(test_cell["source"])           # the visible test stays
    # an honest output is left alone
    same, n = H.sanitize_notebook(_graded_nb("loss 0.25\n"), hidden | {SECRET})
    assert n == 0 and same["cells"][0]["outputs"][0]["text"] == "loss 0.25\n"
    # the HTML check reads what a browser shows
    page = '<pre><span class="k">for</span> B, H <span class="ow">in</span> ((1, 3), (4, 7)):</pre>'
    assert H.leaked(H.html_text(page), hidden)


def test_secret_lines_leave_out_what_students_have():
    nb = _graded_nb("")
    public = "\n".join(H.norm(x) for x in ["for B, H in ((1, 3), (4, 7)):"])
    secret = H.secret_lines([nb], ROOT / "helpers", public)
    assert "for B, H in ((1, 3), (4, 7)):" not in secret
    assert "assert ANSWER(B, H) == 42, '隐藏测试：不对'" in secret
    # inside a longer public line (the same code with more after it) it is no secret either
    longer = H.norm("for B, H in ((1, 3), (4, 7)):  # the sizes, shown in the chapter")
    assert "for B, H in ((1, 3), (4, 7)):" not in H.secret_lines([nb], ROOT / "helpers", longer)


def test_lock_course_closes_everything_but_the_venv(tmp_path):
    root = tmp_path / "course"
    for d in (".venv/bin", "helpers/exercises", "notebooks", "scripts/nbgrader"):
        (root / d).mkdir(parents=True)
    (root / "README.md").write_text("x")
    for p in [root, *root.rglob("*")]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    saved = H.lock_course(root)
    mode = lambda p: oct(p.stat().st_mode & 0o777)
    assert mode(root) == "0o711" and mode(root / ".venv") == "0o755"
    assert mode(root / "helpers") == "0o750" and mode(root / "scripts") == "0o750"
    assert mode(root / "README.md") == "0o640"
    assert H.lock_course(root) == {}                      # idempotent
    H.restore_modes(saved)
    assert mode(root) == "0o755" and mode(root / "helpers") == "0o755"


# ----------------------------------------------------------------------------- the class report
def test_class_report_table_plot_hints_and_flags(tmp_path):
    def graded(answer: str, hint: str | None, hidden_fail: bool = False) -> dict:
        outputs = [{"output_type": "stream", "name": "stdout", "text": hint + "\n"}] if hint else []
        if hidden_fail:
            outputs.append({"output_type": "error", "ename": "AssertionError", "evalue": "隐藏测试：B = 1 时不对",
                            "traceback": []})
        return {"cells": [
            {"cell_type": "code", "metadata": {"nbgrader": {"solution": True, "grade_id": "clip_answer"}},
             "source": answer, "outputs": []},
            {"cell_type": "code", "metadata": {"nbgrader": {"grade": True, "grade_id": "clip_test"}},
             "source": "", "outputs": outputs},
            {"cell_type": "code", "metadata": {"nbgrader": {"solution": True, "grade_id": "exp_answer"}},
             "source": "answer = 1", "outputs": []},
            {"cell_type": "code", "metadata": {"nbgrader": {"grade": True, "grade_id": "exp_test"}},
             "source": "", "outputs": [{"output_type": "stream", "name": "stdout", "text": "【正确】\n"}]},
        ]}
    nbs = {
        "s1": graded("answer = 3.25", "【不对】 忘了按 6.5 缩放：范数应不超过 max_norm。"),
        "s2": graded("answer = 3.5", "【不对】 忘了按 7.25 缩放：范数应不超过 max_norm。"),
        "s3": graded("answer = 1", "【正确】"),
        "s4": graded("import os\nos.environ['SEQHW_STUDENT'] = 's3'\nanswer = 1", "【未作答】 还没有作答", True),
    }
    nbs["s5"] = graded("from helpers.exercises.ch04 import clip_inputs\nanswer = 1", "【正确】")
    scores = {s: {"clip_test": (1.0 if s in ("s3", "s5") else 0.0, 1.0), "exp_test": (3.0, 3.0)} for s in nbs}
    template = graded("from helpers.exercises.ch04 import clip_inputs\nanswer = None", None)
    summary = H.class_report("04_bptt", scores, nbs, tmp_path, template)
    rows = {r["exercise"]: r for r in summary["exercises"]}
    assert list(rows) == ["clip", "exp"]
    assert (rows["clip"]["full"], rows["clip"]["part"], rows["clip"]["zero"]) == (2, 0, 3)
    assert rows["clip"]["mean"] == 0.4 and rows["exp"]["full"] == 5
    top_hint, count = rows["clip"]["hints"][0]
    assert count == 2 and "忘了按 # 缩放" in top_hint                  # numbers blanked: one hint
    assert any("隐藏测试" in h for h, _ in rows["clip"]["hints"])
    # s4 touches the grading identity; s5 only has the release's own import of the checkers
    assert summary["flagged"] == [{"student": "s4", "exercise": "clip", "uses": ["SEQHW_STUDENT", "os.environ"]}]
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| clip | 1 | 2 | 0 | 3 | 0.4 |" in md and "s4" in md and "report.png" in md
    assert "<table" in (tmp_path / "report.html").read_text(encoding="utf-8")
    from matplotlib import image
    png = image.imread(tmp_path / "report.png")
    assert png.shape[0] > 100 and png.shape[1] > 400 and png.std() > 0.05   # drawn, not blank


def test_report_labels_render_in_chinese(tmp_path):
    """The plot's labels use a font with Chinese glyphs (no missing-glyph warning)."""
    import warnings
    rows = [{"exercise": "练习", "full": 1, "part": 1, "zero": 1}]
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # "Glyph ... missing from font" is a UserWarning
        H.plot_report(rows, "作业 班级报告", tmp_path / "r.png")
    assert (tmp_path / "r.png").stat().st_size > 5000
