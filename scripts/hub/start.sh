#!/usr/bin/env bash
# Start the course's JupyterHub in the foreground (Ctrl-C or scripts/hub/stop.sh stops it and
# every student's server). Needs root (one system user per student), the shared password in
# SEQHUB_PASSWORD and students created by scripts/hub/students.py; see docs/classroom-server.md.
# It listens on http://127.0.0.1:${SEQHUB_PORT:-8000} only: for a classroom, put a TLS reverse
# proxy in front of it, or use The Littlest JupyterHub (the guide says how).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${SEQHUB_PASSWORD:-}" ]; then
  echo "start.sh: set the class's shared password first (8 characters or more), e.g." >&2
  echo "    export SEQHUB_PASSWORD='...'   # there is no default password" >&2
  exit 2
fi
if [ "$(id -u)" != 0 ]; then
  echo "start.sh: run as root: each student's server runs as that student's system user" >&2
  exit 2
fi
export PATH="$PWD/.venv/bin:$PATH"
mkdir -p artifacts/hub
echo "start.sh: JupyterHub on http://127.0.0.1:${SEQHUB_PORT:-8000}/ (log in as one of: $(tr '\n' ' ' < artifacts/hub/users.txt 2>/dev/null || echo "${SEQHUB_USERS:-?}"))" >&2
exec .venv/bin/jupyterhub -f scripts/hub/jupyterhub_config.py "$@"
