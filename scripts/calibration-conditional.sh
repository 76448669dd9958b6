#!/usr/bin/env bash
# Coverage where a marginal guarantee says nothing, on the shipped DiDiCM (CP
# at T=STEPS, by default the model's recommended T) and the 10,000 MNIST test
# digits at 7 px (written by the demo, with their labels), at alpha 0.1:
#  1. per class: `didicm calibrate --by image` and `--by class` on 8,000 of the
#     digits (4,000 calibrate, 4,000 held out), each class's held-out coverage,
#     set size and top-1 accuracy from the file's held_out.per_class; then the
#     same over SEEDS splits (calibrate/internal/simulate classes);
#  2. from review decisions: a simulated job's review list (its rule: set size
#     under a calibration, or entropy), labelled by MNIST's truth, fitted on
#     as if random, for its stratum (what --from-reviews does) and, for
#     comparison, a random sample as large; coverage on 4,000 held-out digits
#     (simulate reviews);
#  3. studies made of digits, calibrated by study (simulate studies).
# Prints the Markdown tables of docs/calibration.md. Hold the bench lock:
#   flock /tmp/didicm-bench.lock scripts/calibration-conditional.sh
#   [STEPS=T] [SEEDS=100] scripts/calibration-conditional.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
GO=${GO:-go}
SEEDS=${SEEDS:-100}
make -s build build-demo >&2
model=models/didirn-mnist-7px-5pct.onnx
STEPS=${STEPS:-$(bin/didicm model inspect --json "$model" 2>/dev/null |
  $PY -c 'import json, sys; print(json.load(sys.stdin)["recommended_steps"])')}
work=build/calibration-conditional
rm -rf "$work" # ours: made by the previous run
bin/didicm-demo demo --archive-only --images 10000 --dir "$work" >&2
$PY - "$work" <<'PYEOF'
import json, random, sys
w = sys.argv[1]
labels = {k: v for k, v in json.load(open(f"{w}/labels.json")).items() if k.startswith("shard-")}
keys = sorted(random.Random(0).sample(sorted(labels), 8000))
with open(f"{w}/labels-8000.csv", "w") as f:
    f.write("key,label\n")
    for k in keys:
        f.write(f"{k},{labels[k]}\n")
PYEOF
echo "### 1. Per class: didicm calibrate on 8,000 digits (split seed 0; 4,000 held out), DiDiCM (CP, T=$STEPS), alpha 0.1"
echo
echo "| sets | by | coverage | mean set size | class 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | worst class |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for sets in randomized randomized-nonempty; do
  for by in image class; do
    bin/didicm calibrate --model "$model" --steps "$STEPS" --labels "$work/labels-8000.csv" --alpha 0.1 --sets "$sets" \
      --by "$by" --out "$work/$sets-$by.json" "$work/archive" 2>/dev/null >&2
    $PY - "$work/$sets-$by.json" <<'PYEOF'
import json, sys
c = json.load(open(sys.argv[1])); h = c["held_out"]; pc = h["per_class"]
cells = " | ".join(f"{100*p['coverage']:.1f}% ({p['images']})" for p in pc)
w = min(pc, key=lambda p: p["coverage"])
print(f"| {c['sets']} | {c['by']} | {100*h['coverage']:.2f}% | {h['mean_set_size']:.3f} | {cells} | {w['class']}: {100*w['coverage']:.1f}% |")
PYEOF
  done
done
echo
bin/didicm classify --model "$model" --steps "$STEPS" --format jsonl "$work/archive" 2>/dev/null >"$work/records.jsonl"
sim() { $GO run ./calibrate/internal/simulate -records "$work/records.jsonl" -labels "$work/labels.json" -seeds "$SEEDS" "$@"; }
echo "### 1b. Per class over $SEEDS splits of 8,000 digits (simulate classes)"
echo
sim classes
echo
echo "### 2. From review decisions (simulate reviews; $SEEDS simulated nights)"
echo
sim reviews
echo
echo "### 3. Studies of digits (simulate studies; $SEEDS orders)"
echo
sim studies
