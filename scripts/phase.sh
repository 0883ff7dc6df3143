#!/usr/bin/env bash
# Phase times of `make test` (issue #26: "print the phase times at the end of make test").
#   scripts/phase.sh start              forget the last run's times (artifacts/phases.tsv)
#   scripts/phase.sh NAME SINCE         record a phase that began at epoch second SINCE and ends now
#   scripts/phase.sh NAME -- CMD ...    run CMD as phase NAME; its time and exit status are recorded
#                                       and printed at once (so they show even when CMD fails)
#   scripts/phase.sh summary            print the table of this run's phases and their total
set -u
cd "$(dirname "$0")/.."
log=artifacts/phases.tsv
mkdir -p artifacts
case "${1:-}" in
  start) : > "$log"; exit 0 ;;
  summary)
    awk -F'\t' 'BEGIN { print "\nmake test, phase times (wall s):" }
                { printf "  %-34s %8.1f  %s\n", $1, $2, ($3 == 0 ? "" : "exit " $3); t += $2 }
                END { printf "  %-34s %8.1f  (%.1f min)\n", "total", t, t / 60 }' "$log"
    exit 0 ;;
esac
name=$1; shift
if [ "${1:-}" != "--" ]; then          # NAME SINCE
  now=$(date +%s.%N)
  secs=$(awk -v a="$1" -v b="$now" 'BEGIN { printf "%.1f", b - a }')
  printf '%s\t%s\t0\n' "$name" "$secs" >> "$log"
  echo "== phase $name: $secs s"
  exit 0
fi
shift
t0=$(date +%s.%N)
"$@"
rc=$?
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
printf '%s\t%s\t%s\n' "$name" "$secs" "$rc" >> "$log"
echo "== phase $name: $secs s (exit $rc)"
[ "$rc" = 0 ] || bash scripts/phase.sh summary
exit "$rc"
