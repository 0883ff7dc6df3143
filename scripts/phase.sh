#!/usr/bin/env bash
# Phase times of `make test` (issue #26: "print the phase times at the end of make test").
#   scripts/phase.sh start [SINCE]        forget the last run's times (artifacts/phases.tsv); the run
#                                         began at epoch second SINCE (default: now)
#   scripts/phase.sh NAME SINCE [RC]      record a phase that began at epoch second SINCE and ended
#                                         now with exit status RC (default 0)
#   scripts/phase.sh NAME -- CMD ...      run CMD as phase NAME; its time and exit status are recorded
#                                         and printed at once (so they show even when CMD fails)
#   scripts/phase.sh summary              the table of this run's phases: when each began (seconds
#                                         after the run's start), how long it took, its exit status;
#                                         then the run's wall time
set -u
cd "$(dirname "$0")/.."
log=artifacts/phases.tsv
mkdir -p artifacts
now() { date +%s.%N; }
case "${1:-}" in
  start) printf '#since\t%s\n' "${2:-$(now)}" > "$log"; exit 0 ;;
  summary)
    awk -F'\t' -v end="$(now)" '
      $1 == "#since" { since = $2; next }
      { n++; name[n] = $1; secs[n] = $2; rc[n] = $3; at[n] = $4; sum += $2 }
      END {
        print "\nmake test, phase times (wall s):"
        printf "  %-44s %8s %8s\n", "phase", "start", "length"
        for (i = 1; i <= n; i++)
          printf "  %-44s %8s %8.1f  %s\n", name[i], (since != "" && at[i] != "" ? sprintf("%.1f", at[i] - since) : "-"),
                 secs[i], (rc[i] == 0 ? "" : "exit " rc[i])
        t = (since != "" ? end - since : sum)
        printf "  %-44s %8s %8.1f  (%.1f min)\n", "total (wall)", "", t, t / 60
      }' "$log"
    exit 0 ;;
esac
name=$1; shift
if [ "${1:-}" != "--" ]; then          # NAME SINCE [RC]
  t1=$(now)
  secs=$(awk -v a="$1" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  printf '%s\t%s\t%s\t%s\n' "$name" "$secs" "${2:-0}" "$1" >> "$log"
  echo "== phase $name: $secs s$([ "${2:-0}" = 0 ] || echo " (exit $2)")"
  exit 0
fi
shift
t0=$(now)
"$@"
rc=$?
secs=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
printf '%s\t%s\t%s\t%s\n' "$name" "$secs" "$rc" "$t0" >> "$log"
echo "== phase $name: $secs s (exit $rc)"
[ "$rc" = 0 ] || bash scripts/phase.sh summary
exit "$rc"
