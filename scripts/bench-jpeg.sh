#!/usr/bin/env bash
# One core preprocessing photo-like 1080p JPEG frames to a model input:
# libjpeg-turbo at the model's scale (imaging/jpegturbo) and Go's image/jpeg,
# against Pillow with draft() and Pillow's full decode (each followed by the
# toolkit's resize), for 224x224 RGB and 28x28 grey. ROUNDS interleaved
# rounds; each figure is the median. Prints a Markdown table (docs/benchmarks.md).
#   scripts/bench-jpeg.sh        # FRAMES=32 ROUNDS=3
set -euo pipefail
cd "$(dirname "$0")/.."
FRAMES=${FRAMES:-32} ROUNDS=${ROUNDS:-3} PY=${PY:-/usr/bin/python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$PY training/scripts/w2-frames.py "$work/frames" "$FRAMES" >&2
go test -c -o "$work/jpeg.test" ./imaging/jpegturbo
for r in $(seq "$ROUNDS"); do
  echo "round $r" >&2
  (cd imaging/jpegturbo && DIDICM_BENCH_FRAMES="$work/frames" taskset -c 0 "$work/jpeg.test" -test.run '^$' \
    -test.bench JPEG1080p -test.benchtime "${FRAMES}x" -test.count 1) |
    awk '/^BenchmarkJPEG1080p/ {split($1, n, "/"); sub(/-[0-9]+$/, "", n[3]);
      for (i = 2; i <= NF; i++) { if ($(i+1) == "images/s") ips = $i; if ($(i+1) == "B/op") bop = $i }
      printf "%s %s %s %s\n", n[2], n[3], ips, bop}' >> "$work/go.txt"
  for spec in "224 3 rgb224" "28 1 gray28"; do
    set -- $spec
    taskset -c 0 $PY training/scripts/bench-pillow.py "$work/frames" "$1" "$2" 1 |
      $PY -c 'import json,sys
for l in sys.stdin:
    d = json.loads(l); print(sys.argv[1], d["decoder"], d["images_per_s"], "-")' "$3" >> "$work/go.txt"
  done
done
$PY - "$work/go.txt" <<'PYEOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    size, dec, ips, bop = line.split()
    rows.setdefault((size, dec), []).append((float(ips), bop))
print("| input | decoder | images/s (median) | rounds | allocated per image | vs Pillow draft | vs Pillow full |")
print("|---|---|---|---|---|---|---|")
for size in ("rgb224", "gray28"):
    med = {d: statistics.median(v for v, _ in rows[(s, d)]) for (s, d) in rows if s == size}
    for dec in ("turbo", "image-jpeg", "pillow-draft", "pillow-full"):
        v = rows[(size, dec)]
        alloc = v[0][1]
        alloc = f"{int(alloc) / 1024:.0f} KiB" if alloc != "-" else "-"
        print(f"| {size} | {dec} | {med[dec]:.1f} | {', '.join(f'{x:.0f}' for x, _ in v)} | {alloc} | "
              f"{med[dec] / med['pillow-draft']:.2f}x | {med[dec] / med['pillow-full']:.2f}x |")
PYEOF
