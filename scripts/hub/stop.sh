#!/usr/bin/env bash
# Stop the hub that scripts/hub/start.sh started (its pid file is in the state directory); the
# hub then stops every student's server (JupyterHub.cleanup_servers).
set -euo pipefail
cd "$(dirname "$0")/../.."
pidfile="${SEQHUB_STATE_DIR:-artifacts/hub}/jupyterhub.pid"
if [ ! -s "$pidfile" ]; then echo "stop.sh: no hub is running (no $pidfile)"; exit 0; fi
pid=$(cat "$pidfile")
if ! kill -0 "$pid" 2>/dev/null; then echo "stop.sh: hub $pid is not running"; rm -f "$pidfile"; exit 0; fi
kill -TERM "$pid"
for _ in $(seq 120); do kill -0 "$pid" 2>/dev/null || { echo "stop.sh: hub $pid stopped"; exit 0; }; sleep 0.5; done
echo "stop.sh: hub $pid did not stop within 60 s; sending SIGKILL" >&2
kill -KILL "$pid" 2>/dev/null || true
