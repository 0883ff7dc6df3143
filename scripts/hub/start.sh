#!/usr/bin/env bash
# Start the course's JupyterHub in the foreground (Ctrl-C or scripts/hub/stop.sh stops it and
# every student's server). Needs root (one system user per student) and students created by
# scripts/hub/students.py; see docs/classroom-server.md. Settings (make hub passes them on):
#   SEQHUB_AUTH=shared (default: one class password in SEQHUB_PASSWORD) or native (each student
#     signs up, the teacher SEQHUB_ADMIN_USER, default "teacher", with SEQHUB_ADMIN_PASSWORD
#     approves them at /hub/authorize)
#   SEQHUB_HOST (127.0.0.1; 0.0.0.0 or a LAN address lets students' laptops in, always over HTTPS)
#   SEQHUB_PORT (8000), SEQHUB_CERT + SEQHUB_KEY (the teacher's certificate; else self-signed)
#   SEQHUB_STUDENT_EDITION (/srv/seqcourse/student-edition: rebuilt here at every start, what the
#     students' servers import; the course repository itself is then closed to other users)
set -euo pipefail
cd "$(dirname "$0")/../.."
auth="${SEQHUB_AUTH:-shared}"
if [ "$auth" = shared ] && [ -z "${SEQHUB_PASSWORD:-}" ]; then
  echo "start.sh: set the class's shared password first (8 characters or more), e.g." >&2
  echo "    export SEQHUB_PASSWORD='...'   # there is no default password" >&2
  echo "  or give every student a login of their own: make hub AUTH=native" >&2
  exit 2
fi
if [ "$auth" = native ] && [ -z "${SEQHUB_ADMIN_PASSWORD:-}" ]; then
  echo "start.sh: per-student logins need the teacher's password (12 characters or more), e.g." >&2
  echo "    export SEQHUB_ADMIN_PASSWORD='...'   # there is no default password" >&2
  echo "  the teacher logs in as ${SEQHUB_ADMIN_USER:-teacher} (SEQHUB_ADMIN_USER)" >&2
  exit 2
fi
if [ "$(id -u)" != 0 ]; then
  echo "start.sh: run as root: each student's server runs as that student's system user" >&2
  exit 2
fi
export PATH="$PWD/.venv/bin:$PATH"
mkdir -p "${SEQHUB_STATE_DIR:-artifacts/hub}"
chmod 700 "${SEQHUB_STATE_DIR:-artifacts/hub}"
# the address(es) to give the students and, with TLS, the certificate's SHA-256 fingerprint
# (a self-signed certificate is made here on first start)
.venv/bin/python scripts/hub/tls.py banner || exit 2
if [ "$auth" = native ]; then
  echo "start.sh: per-student logins: students sign up at <address>/hub/signup; the teacher (${SEQHUB_ADMIN_USER:-teacher}) approves them at <address>/hub/authorize" >&2
fi
echo "start.sh: class list: $(tr '\n' ' ' < artifacts/hub/users.txt 2>/dev/null || echo "${SEQHUB_USERS:-?}")" >&2
.venv/bin/python scripts/hub/homework.py install-config >&2   # nbgrader's exchange for every server
# the students' servers run the student edition (no reference implementations), and the course
# repository (reference answers, reference implementations, hidden tests) is closed to them
edition="${SEQHUB_STUDENT_EDITION:-/srv/seqcourse/student-edition}"
export SEQHUB_STUDENT_EDITION="$edition"
mkdir -p "$(dirname "$edition")"
chmod 755 "$(dirname "$edition")"
.venv/bin/python scripts/assignments.py student-edition --out "$edition" >&2 || exit 2
.venv/bin/python scripts/hub/homework.py lock-course >&2 || exit 2
exec .venv/bin/jupyterhub -f scripts/hub/jupyterhub_config.py "$@"
