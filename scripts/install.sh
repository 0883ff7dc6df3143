#!/usr/bin/env bash
# Install the course's pinned packages into its own virtual environment (called by `make install`,
# `make lab`, `make test`). Never touches anything outside the venv.
#
#   1. wheelhouse/ present (made by `make wheelhouse`): install from it only, no network at all
#      (pip --no-index --find-links wheelhouse).
#   2. otherwise, on Linux: PyTorch's CPU-only wheel index is added (about 200 MB instead of the
#      several GB of the default CUDA build), but only if it answers within a few seconds; if it
#      does not, pip uses the default index (or your mirror) at once and says so.
#   3. JupyterLab opens in Chinese (zh_CN) by default, for this venv only: the locale goes into
#      $VENV/share/jupyter/lab/settings/overrides.json, never into your own (~/.jupyter) settings.
#
# Settings (environment variables; `make lab TORCH_INDEX=...` passes them too):
#   TORCH_INDEX=auto      (default) CPU index on Linux when reachable; default index elsewhere
#   TORCH_INDEX=none      the default index: on Linux the CUDA build of torch (large download)
#   TORCH_INDEX=URL       any wheel index, e.g. https://download.pytorch.org/whl/cu128 (CUDA 12.8)
#   PIP_INDEX_URL=URL     a nearby PyPI mirror (pip reads it itself), e.g.
#                         https://mirrors.tuna.tsinghua.edu.cn/pypi/web/simple
#   WHEELHOUSE=DIR        where to look for the offline wheels (default: wheelhouse)
#   LAB_LOCALE=zh_CN      the default interface language written into overrides.json (en: English)
#   NUMBA_WARM=0          skip compiling chapter 09's numba code now (it then compiles on first use)
#
# `bash scripts/install.sh requirements-book.txt` installs one extra requirements file the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
WHEELHOUSE=${WHEELHOUSE:-wheelhouse}
TORCH_INDEX=${TORCH_INDEX:-auto}
LAB_LOCALE=${LAB_LOCALE:-zh_CN}

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PY="$VENV/bin/python"
PIP=("$PY" -m pip install --disable-pip-version-check -q)

# `install.sh FILE`: only that extra requirements file (e.g. requirements-book.txt for `make book`).
if [ $# -gt 0 ]; then
  if compgen -G "$WHEELHOUSE/*.whl" >/dev/null; then
    "${PIP[@]}" --no-index --find-links "$WHEELHOUSE" -r "$1"
  else
    "${PIP[@]}" -r "$1"
  fi
  exit 0
fi

# torch_index_args: the pip options for PyTorch's index (probe with a few-second limit)
source scripts/torch_index.sh

if compgen -G "$WHEELHOUSE/*.whl" >/dev/null; then
  echo "install: from $WHEELHOUSE/ only (no network)" >&2
  "${PIP[@]}" --no-index --find-links "$WHEELHOUSE" -r requirements.txt
  "${PIP[@]}" --no-index --find-links "$WHEELHOUSE" --no-deps -e .
else
  # shellcheck disable=SC2046
  "${PIP[@]}" $(torch_index_args) -r requirements.txt
  "${PIP[@]}" --no-deps -e .
fi

# numba compiles MiniRocket and sktime's DTW (helpers/baselines.py, chapter 09) on first use: about a
# minute of CPU. Do it once here; numba's cache=True files land next to sktime's sources in the venv
# (or in NUMBA_CACHE_DIR if set), so that no chapter run pays for it. Offline, like everything above.
# NUMBA_WARM=0 skips it (the Makefile then runs it as its own step, beside the other setup steps).
if [ "${NUMBA_WARM:-1}" != 0 ]; then
  "$PY" -m helpers.baselines || echo "install: numba warm-up failed; chapter 09's baselines will compile on first use" >&2
fi

# The interface language of this venv's JupyterLab (merged into an existing overrides.json).
"$PY" scripts/lab_locale.py "$LAB_LOCALE"
