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
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
WHEELHOUSE=${WHEELHOUSE:-wheelhouse}
TORCH_INDEX=${TORCH_INDEX:-auto}
LAB_LOCALE=${LAB_LOCALE:-zh_CN}
CPU_INDEX=https://download.pytorch.org/whl/cpu

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PY="$VENV/bin/python"
PIP=("$PY" -m pip install --disable-pip-version-check -q)

# Prints the pip options for PyTorch's index (nothing when the default index is to be used).
torch_index_args() {
  local url=$TORCH_INDEX
  case "$url" in
    none|"") return 0 ;;
    auto) [ "$(uname -s)" = Linux ] || return 0; url=$CPU_INDEX ;;
  esac
  # A few seconds at most, whatever the network does (DNS included): `timeout` kills the probe.
  if timeout 6 "$PY" - "$url" >/dev/null 2>&1 <<'EOF'
import sys, urllib.request
urllib.request.urlopen(sys.argv[1].rstrip("/") + "/torch/", timeout=4).read(1)
EOF
  then
    echo "install: torch from $url" >&2
    echo "--extra-index-url $url"
  else
    echo "install: $url did not answer within 6 s; using the default index (set TORCH_INDEX=none to skip this probe)" >&2
  fi
}

if compgen -G "$WHEELHOUSE/*.whl" >/dev/null; then
  echo "install: from $WHEELHOUSE/ only (no network)" >&2
  "${PIP[@]}" --no-index --find-links "$WHEELHOUSE" -r requirements.txt
  "${PIP[@]}" --no-index --find-links "$WHEELHOUSE" --no-deps -e .
else
  # shellcheck disable=SC2046
  "${PIP[@]}" $(torch_index_args) -r requirements.txt
  "${PIP[@]}" --no-deps -e .
fi

# The interface language of this venv's JupyterLab (merged into an existing overrides.json).
"$PY" scripts/lab_locale.py "$LAB_LOCALE"
