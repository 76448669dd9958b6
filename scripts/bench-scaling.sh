#!/usr/bin/env bash
# Scaling on this machine: the same job (IMAGES MNIST digits at 7 px, CP T=STEPS)
# with 1, 2 and 4 `didicm worker` processes against one real redis-server;
# then an elastic run: a worker added mid-job must take batches, and one
# stopped with SIGTERM must finish or hand back its batch, with exactly one
# record per image at the end. Prints a Markdown table (docs/benchmarks.md).
#   scripts/bench-scaling.sh            # IMAGES=4000 STEPS=8 THREADS=0
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES=${IMAGES:-4000} STEPS=${STEPS:-8} THREADS=${THREADS:-0} BATCH=${BATCH:-128}
go build -o bin/didicm ./cmd/didicm
make -s build-demo
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" > "$work/redis.log" 2>&1 &
rpid=$!
pids=()
cleanup() { kill "${pids[@]}" "$rpid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done
export DIDICM_REDIS_URL=redis://127.0.0.1:$port DIDICM_ONNXRUNTIME_INTRA_OP_THREADS=$THREADS
bin/didicm-demo demo --archive-only --dir "$work" --images "$IMAGES" 2>/dev/null
total=$(find "$work/archive" -type f | wc -l)

start_worker() { # $1 = log file
  bin/didicm worker --metrics-addr "" --log-level debug > "$1" 2>&1 &
  pids+=($!)
}
run_job() { # $1 = job id; prints seconds from enqueue to summary
  local t0 t1
  t0=$(date +%s.%N)
  bin/didicm enqueue --job "$1" --input "file://$work/archive" --output "file://$work/out?create_dir=true" --steps "$STEPS" \
    --batch-size "$BATCH" >/dev/null 2>&1
  bin/didicm status --job "$1" --output "file://$work/out?create_dir=true" --wait --every 100ms >/dev/null 2>&1
  t1=$(date +%s.%N)
  python3 -c "print(f'{$t1-$t0:.2f}')"
}
records() { cat "$work/out/$1"/results/*.jsonl | wc -l; }

peak_mib() { # peak resident memory of the given processes, MiB each
  for p in "$@"; do awk '/^VmHWM:/ {printf "%d ", $2/1024}' "/proc/$p/status"; done
}

echo "| workers | images | wall s | images/s | speed-up | peak RSS per worker, MiB |"
echo "|---|---|---|---|---|---|"
base=""
for n in 1 2 4; do
  redis-cli -p "$port" flushall >/dev/null
  pids=()
  for i in $(seq "$n"); do start_worker "$work/w$n-$i.log"; done
  secs=$(run_job "scale-$n")
  rss=$(peak_mib "${pids[@]}")
  kill -TERM "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true
  rate=$(python3 -c "print(f'{$total/$secs:.0f}')")
  [ -n "$base" ] || base=$rate
  echo "| $n | $total | $secs | $rate | $(python3 -c "print(f'{$rate/$base:.2f}')") | $rss|"
  [ "$(records "scale-$n")" -eq "$total" ] || { echo "scale-$n: $(records scale-$n) records for $total images" >&2; exit 1; }
done

echo
echo "Elastic run ($total images, batch $BATCH):"
redis-cli -p "$port" flushall >/dev/null
pids=()
start_worker "$work/e1.log"; w1=${pids[0]}
bin/didicm enqueue --job elastic --input "file://$work/archive" --output "file://$work/out?create_dir=true" --steps "$STEPS" \
  --batch-size "$BATCH" >/dev/null 2>&1
until [ "$(ls "$work/out/elastic/results" 2>/dev/null | wc -l)" -ge 2 ]; do sleep 0.1; done
done_before=$(ls "$work/out/elastic/results" | wc -l)
start_worker "$work/e2.log"
until grep -q 'batch done' "$work/e2.log"; do sleep 0.1; done
echo "- worker 2, added when $done_before batches were done, took its first batch"
kill -TERM "$w1"
if wait "$w1"; then echo "- worker 1 exited 0 after SIGTERM ($(grep -c 'batch done' "$work/e1.log") batches done by it)"; fi
bin/didicm status --job elastic --output "file://$work/out?create_dir=true" --wait --every 100ms >/dev/null 2>&1
echo "- job finished: $(records elastic) records for $total images; worker 2 did $(grep -c 'batch done' "$work/e2.log") batches"
[ "$(records elastic)" -eq "$total" ]
