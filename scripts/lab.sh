#!/usr/bin/env bash
# Start JupyterLab for the course: only on 127.0.0.1, always with token authentication
# (Jupyter prints the URL with its token), server root at the repository so that the
# notebooks can show ../media figures, opening on the welcome notebook.
# Extra arguments go to jupyter lab (e.g. --no-browser, --port=8899).
set -euo pipefail
cd "$(dirname "$0")/.."
# nbgrader (installed for the class server) stays off in this plain course lab: its formgrader,
# course list and assignment list need a course directory and an exchange. A config dir first
# on the path disables its server extensions and its JupyterLab extension; the hub does not use
# this script, so teachers and students there keep "Assignments" and the formgrader.
export JUPYTER_CONFIG_PATH="$PWD/scripts/nbgrader/lab-config${JUPYTER_CONFIG_PATH:+:$JUPYTER_CONFIG_PATH}"
args=(--ip=127.0.0.1 --ServerApp.root_dir="$PWD"
      --ServerApp.default_url=/lab/tree/notebooks/00_welcome.ipynb)
[ "$(id -u)" = 0 ] && args+=(--allow-root)   # JupyterLab refuses root without it (CI, containers)
exec .venv/bin/jupyter lab "${args[@]}" "$@"
