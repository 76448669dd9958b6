#!/usr/bin/env bash
# Where the CPU goes during BenchmarkEndToEnd's job (and only the job: the
# benchmark switches perf on after enqueue and off at the summary). Needs
# perf (apt-get install linux-perf). Prints shares of all CPU samples by
# pipeline stage (scripts/perf-categories.py); docs/benchmarks.md.
#   scripts/profile-e2e.sh              # STEPS=2 IMAGES=16384
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${STEPS:-2} IMAGES=${IMAGES:-16384}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go test -c -o "$work/workers.test" ./workers
mkfifo "$work/ctl" "$work/ack"
(cd workers && DIDICM_BENCH_STEPS=$STEPS DIDICM_BENCH_IMAGES=$IMAGES DIDICM_BENCH_PERF_FIFOS="$work/ctl,$work/ack" \
  perf record -q -D -1 --control "fifo:$work/ctl,$work/ack" -F 999 -g -o "$work/perf.data" -- \
  "$work/workers.test" -test.run '^$' -test.bench "EndToEnd/cp-T=$STEPS\$" -test.benchtime 1x -test.count 1) |
  grep '^Benchmark'
perf script -i "$work/perf.data" -F comm,tid,ip,sym,dso 2>/dev/null | python3 scripts/perf-categories.py
