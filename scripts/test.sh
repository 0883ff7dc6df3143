#!/usr/bin/env bash
# `make test` after its setup: every phase, one after another, and their times at the end (issue #26).
#
#   bash scripts/test.sh SINCE      SINCE: the epoch second `make test` began (the setup's start)
#
# The phases, each without network (scripts/offline.sh):
#   pytest   every test file and every chapter on both cores (nbval runs a chapter twice in one
#            kernel and its first run is the book's execution: tests/nbval_passes.py)
#   book, slides, and their tests, from nbval's executed copies
#   robust   every notebook under 5 seed offsets and 2 threads (scripts/robust.py); the run at
#            offset 1 of each notebook is the browser test's Run All (tests/test_browser.py runs its
#            kernels at that offset and hands over what they claimed: robust --borrow)
# A failing phase stops make test at once with its exit status; the table of phase times (each
# phase's start in seconds after SINCE, its length, its exit status, the run's wall time) is
# printed at the end either way.
#
# Why robust does not run beside pytest: tried on 2026-12-08 (robust in the background at nice 19,
# its kernels' autogroups lowered too), it took almost nothing from pytest's idle time, because on
# 2 cores the pytest phase keeps both cores busy (vmstat: 4 % idle over the whole run); pytest
# itself became slower (1156.9 s against 931.8 s) and the whole run was no shorter.
set -u
cd "$(dirname "$0")/.."
since=${1:?"usage: scripts/test.sh SINCE (epoch seconds of make test's start)"}
PY=${PY:-.venv/bin/python}
STATIC_TESTS=(tests/test_book.py tests/test_slides.py)

bash scripts/phase.sh start "$since"
bash scripts/phase.sh "setup (venv, hub, assets, wheels)" "$since"
# phase.sh prints the table when a phase fails; then stop with that phase's exit status
rm -rf artifacts/browser/robust        # the browser test's runs at seed offset 1, for robust (below)
bash scripts/phase.sh "pytest (tests, notebooks twice)" -- bash scripts/offline.sh "$PY" -m pytest -rs \
  -n 2 --dist loadfile --no-loadscope-reorder tests notebooks --nbval-lax --nbval-current-env \
  "${STATIC_TESTS[@]/#/--ignore=}" || exit
bash scripts/phase.sh book -- bash scripts/offline.sh "$PY" scripts/build_book.py || exit
bash scripts/phase.sh slides -- bash scripts/offline.sh "$PY" scripts/build_slides.py || exit
bash scripts/phase.sh "pytest (book, slides)" -- bash scripts/offline.sh "$PY" -m pytest -rs -n 2 \
  "${STATIC_TESTS[@]}" || exit
bash scripts/phase.sh "robust (seed offsets, threads)" -- bash scripts/offline.sh "$PY" scripts/robust.py \
  --borrow artifacts/browser/robust || exit
bash scripts/phase.sh summary
