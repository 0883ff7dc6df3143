"""The order in which pytest-xdist hands out the test files (`make test`: -n 2 --dist loadfile).

xdist gives each worker the next file as it frees up, and by default it orders the files by their
number of tests. That sends the chapters (a hundred nbval cells each) first and the long files of
one or two tests last: the classroom load test (then 380 s), the wheelhouse install (206 s) and the
homework cycle (219 s) started after 20 minutes, and one worker ran them while the other sat
idle. Longest first is the classic remedy (LPT scheduling): `make test` passes
--no-loadscope-reorder, so xdist keeps the collection order, and this module puts the files
measured longest first, in this order; the rest follow in collection order. Seconds from `pytest --durations=0` on this 2-core machine,
2026-12-07 (a chapter's nbval file counts both of its runs).
"""
from __future__ import annotations

HEAVIEST_FIRST = [
    "tests/test_hub.py",                    # about 320 s: the classroom load test (4 students, 04 + 05)
    "tests/test_homework_cycle.py",         # 220 s
    "tests/test_wheelhouse.py",             # 206 s: a fresh venv from the wheelhouse, offline
    "tests/test_assignments.py",            # 90 s
    "tests/test_hub_auth.py",               # 79 s
    "notebooks/08_language_models.ipynb",   # about 65 s for its two runs beside another worker
    "tests/test_hub_tls.py",                # 62 s
    "notebooks/07_attention_transformer.ipynb",
    "notebooks/05_lstm.ipynb",
    "notebooks/09_applications_1b_baselines.ipynb",
    "notebooks/06_gru.ipynb",
    "notebooks/01_sequence_tasks.ipynb",
    "tests/test_exercises_ch08.py",         # about 40 s (235 s before its measurements were memoised)
    "notebooks/09_applications_1_speech_sensors.ipynb",
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
