"""The order in which pytest-xdist hands out the test files (`make test`: -n 2 --dist loadfile).

xdist gives each worker the next file as it frees up, and by default it orders the files by their
number of tests. That sends the chapters (a hundred nbval cells each) first and the long files of
one or two tests last: the classroom load test (then 380 s), the wheelhouse install (206 s) and the
homework cycle (219 s) started after 20 minutes, and one worker ran them while the other sat
idle. Longest first is the classic remedy (LPT scheduling): `make test` passes
--no-loadscope-reorder, so xdist keeps the collection order, and this module puts the files
measured longest first, in this order; the rest follow in collection order. Seconds per file
(calls and fixtures) from `pytest --durations=0` in `make test`'s own command on this 2-core
machine, 2026-12-07 evening (1880 worker-seconds in 995 s of wall time; a chapter's nbval file
counts both of its runs). vmstat over that run said the two cores were 68 % busy on average;
2026-12-08's runs did not confirm it: a cpuacct cgroup per xdist worker counted 2095 CPU-seconds
(every process a test starts included) in a 1164 s phase, 90 % of both cores, and vmstat over
whole make test runs saw 4-10 % idle. The CPU per file that day: the browser test 582 (its
kernels about 315, the rest Chromium, JupyterLab and the full-page screenshots), the load test
275, the homework cycle 194, the ch08 checker table 127, the wheelhouse install 97, the
assignments 66, the chapters' nbval runs 437 together. So -n 3 has little idle time to fill.
"""
from __future__ import annotations

HEAVIEST_FIRST = [
    "tests/test_browser.py",                # 427 s: every chapter's Run All in JupyterLab + Chromium
    "tests/test_hub.py",                    # 308 s: the classroom load test (4 students, 04 + 05)
    "tests/test_homework_cycle.py",         # 138 s
    "tests/test_wheelhouse.py",             # 134 s: a fresh venv from the wheelhouse, offline
    "tests/test_hub_auth.py",               # 106 s
    "tests/test_exercises_ch08.py",         # 92 s (235 s before its measurements were memoised)
    "notebooks/08_language_models.ipynb",   # 57 s for its two runs
    "notebooks/07_attention_transformer.ipynb",   # 52 s
    "tests/test_assignments.py",            # 52 s
    "tests/test_hub_limits_class.py",       # 38 s
    "notebooks/05_lstm.ipynb",              # 38 s
    "tests/test_nbval_passes.py",           # 33 s
    "notebooks/09_applications_1b_baselines.ipynb",
    "notebooks/01_sequence_tasks.ipynb",
    "notebooks/06_gru.ipynb",
]


def heaviest_first(items) -> None:
    """Reorder ``items`` in place: whole files, HEAVIEST_FIRST first; a file's items keep their order."""
    rank = {name: i for i, name in enumerate(HEAVIEST_FIRST)}

    def file_of(item) -> str:
        return item.nodeid.split("::", 1)[0]

    order = {}
    for i, item in enumerate(items):
        order.setdefault(file_of(item), i)
    items.sort(key=lambda it: (rank.get(file_of(it), len(rank)), order[file_of(it)]))
