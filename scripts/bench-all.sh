#!/usr/bin/env bash
# Runs every recorded benchmark one after another on a quiet machine and keeps
# the raw output in build/bench/ (docs/benchmarks.md quotes it).
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/bench
mkdir -p "$out"
scripts/fetch-onnxruntime.sh >/dev/null
export ONNXRUNTIME_LIB=$PWD/.cache/onnxruntime/1.29.0/libonnxruntime.so.1
run() { local name=$1; shift; echo "== $*" | tee "$out/$name.txt"; "$@" 2>&1 | tee -a "$out/$name.txt"; }
run sampler go test -run '^$' -bench . -benchmem -count 3 ./sampler
run imaging go test -run '^$' -bench . -benchmem -count 3 ./imaging
run ort go test -run '^$' -bench . -benchtime 3s -count 3 ./ort
run redis go test -run '^$' -bench RedisMemory -benchtime 1x ./pipeline
run e2e go test -run '^$' -bench EndToEnd -benchtime 1x -count 3 -timeout 30m ./workers
run scaling scripts/bench-scaling.sh
if command -v perf >/dev/null; then run profile scripts/profile-e2e.sh; fi
