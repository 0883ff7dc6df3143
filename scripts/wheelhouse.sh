#!/usr/bin/env bash
# `make wheelhouse`: every pinned wheel (with its dependencies) for one platform in one folder a
# teacher can copy to machines without network; `make lab` / `make test` then install from it
# (pip --no-index --find-links wheelhouse) and `make book` / `make slides` take reveal.js and
# MathJax from wheelhouse/npm/.
#   make wheelhouse                                   this machine's platform and Python
#   make wheelhouse PLATFORM=win_amd64                 another platform (Python 3.11 by default;
#   make wheelhouse PLATFORM=macosx_11_0_arm64 PYVER=3.12   PLATFORM is a pip --platform tag)
#   WHEELHOUSE=DIR                                     another folder (default: wheelhouse)
# On Linux torch comes from PyTorch's CPU-only index when it answers (TORCH_INDEX as in install.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY="$VENV/bin/python"
WH=${WHEELHOUSE:-wheelhouse}
PLATFORM=${PLATFORM:-}
PYVER=${PYVER:-3.11}
SETUPTOOLS=setuptools==84.2.1      # builds the course's own package (-e .) offline
mkdir -p "$WH"
PIP=("$PY" -m pip --disable-pip-version-check)
TORCH_INDEX=${TORCH_INDEX:-auto}
source scripts/torch_index.sh
TORCH_ARGS=$(torch_index_args)
pins() { grep -hE '^[A-Za-z0-9_.-]+==' requirements.txt requirements-book.txt | sed 's/[[:space:]]*#.*//'; }

if [ -z "$PLATFORM" ]; then
  # this platform: wheels as they are, sdist-only pins (jieba, snownlp) built into wheels
  # shellcheck disable=SC2086
  "${PIP[@]}" wheel -q -w "$WH" $TORCH_ARGS -r requirements.txt -r requirements-book.txt "$SETUPTOOLS"
else
  # another platform: pip can only take binary wheels, so pins published only as sdists are
  # first built here (they are pure Python, so the wheel fits every platform)
  for pin in $(pins) "$SETUPTOOLS"; do
    # shellcheck disable=SC2086
    if ! "${PIP[@]}" download -q --no-deps --only-binary=:all: --platform "$PLATFORM" --python-version "$PYVER" \
         --implementation cp $TORCH_ARGS -d "$WH" "$pin" >/dev/null 2>&1; then
      "${PIP[@]}" wheel -q --no-deps -w "$WH" "$pin"
    fi
  done
  # shellcheck disable=SC2086
  "${PIP[@]}" download -q --only-binary=:all: --platform "$PLATFORM" --python-version "$PYVER" --implementation cp \
    --find-links "$WH" $TORCH_ARGS -d "$WH" -r requirements.txt -r requirements-book.txt "$SETUPTOOLS"
fi
"$PY" scripts/npm_assets.py "$WH/npm" >/dev/null
[ -n "$PLATFORM" ] || PYVER=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
echo "wheelhouse: $(ls "$WH"/*.whl | wc -l) wheels, $(du -sh "$WH" | cut -f1) in $WH/ (platform: ${PLATFORM:-this machine}, Python $PYVER)"
