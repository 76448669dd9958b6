#!/usr/bin/env bash
# Top-1 and ECE of the shipped models through the Go engine (`didicm classify`)
# on fresh MNIST test digits at the models' degradation (the demo's archive,
# with its labels): the CE baseline, then DiDiCM (CP) at each T and clamp.
# Prints the Markdown table of models/README.md ("through didicm classify"),
# with the mean model calls per image. DIDIRN names another DiDiRN (an export
# of a control run, say); CE stays the shipped baseline. SETTLE adds CP rows
# at the largest T with adaptive steps (`--settle S`, negatives clamp) for
# each S (docs/sampler.md, "Adaptive steps").
#   [DIDIRN=path.onnx] [SETTLE="S..."] scripts/classify-eval.sh [IMAGES] [STEPS...]     # default 10000, T = 1 2 4 8
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
IMAGES=${1:-10000}; shift || true
STEPS=${*:-1 2 4 8}
DIDIRN=${DIDIRN:-models/didirn-mnist-7px-5pct.onnx}
make -s build build-demo >&2
work=build/classify-eval
rm -rf "$work" # ours: made by the previous run
bin/didicm-demo demo --archive-only --images "$IMAGES" --dir "$work" >&2
score() { # name, then classify's flags
  local name=$1; shift
  bin/didicm classify --format jsonl "$@" "$work/archive" 2>/dev/null >"$work/out.jsonl"
  $PY - "$work" "$name" <<'PYEOF'
import json, sys
w, name = sys.argv[1], sys.argv[2]
labels = json.load(open(f"{w}/labels.json"))
rows = [json.loads(l) for l in open(f"{w}/out.jsonl")]
for r in rows:  # classify names each image by its path
    r["key"] = r["key"].split("/archive/", 1)[1]
rows = [r for r in rows if r["key"].startswith("shard-") and r.get("error") is None]
right = [r["class_index"] == labels[r["key"]] for r in rows]
conf = [r["max_prob"] for r in rows]
bins = [[] for _ in range(15)]
for c, ok in zip(conf, right):
    bins[min(14, int(c * 15))].append((c, ok))
ece = sum(abs(sum(c for c, _ in b) / len(b) - sum(ok for _, ok in b) / len(b)) * len(b) for b in bins if b) / len(rows)
calls = sum(r["nfe"] for r in rows) / len(rows)
print(f"| {name} | {len(rows)} | {100 * sum(right) / len(rows):.2f} | {ece:.3f} | {calls:.2f} |")
PYEOF
}
echo "| model, sampler | images | top-1 % | ECE | calls per image |"
echo "|---|---|---|---|---|"
score "CE baseline" --model models/ce-mnist-7px-5pct.onnx
for clamp in paper negatives; do
  for t in $STEPS; do
    score "DiDiCM, CP T=$t, clamp $clamp" --model "$DIDIRN" --sampler cp --steps "$t" --force-steps --clamp "$clamp"
  done
done
last=${STEPS##* }
for s in ${SETTLE:-}; do
  score "DiDiCM, CP T=$last, clamp negatives, settle $s" --model "$DIDIRN" --sampler cp --steps "$last" --force-steps \
    --clamp negatives --settle "$s"
done
