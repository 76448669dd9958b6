#!/usr/bin/env bash
# Prediction sets on the shipped models at 7 px: the 10,000 MNIST test digits
# (written by the demo, with their labels), split in two seeded halves by
# `didicm calibrate` (fit on one, measured on the other: 5,000 held out), APS
# at alpha 0.1, 0.05 and 0.01 with randomised sets, randomised sets never
# empty (the top class where one would be) and non-randomised sets, for
# DiDiCM (CP at T=STEPS, by default the model's recommended T) and the CE
# baseline. Prints the Markdown table of models/README.md and
# docs/calibration.md. "To review" counts sets that are empty or hold more
# than one class (pipeline.ReviewRule).
#   [STEPS=T] [ALPHAS="0.1 0.05 0.01"] [SETS="randomized randomized-nonempty non-randomized"] scripts/calibration-table.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
make -s build build-demo >&2
STEPS=${STEPS:-$(bin/didicm model inspect --json models/didirn-mnist-7px-5pct.onnx 2>/dev/null |
  $PY -c 'import json, sys; print(json.load(sys.stdin)["recommended_steps"])')}
work=build/calibration
rm -rf "$work"
bin/didicm-demo demo --archive-only --images 10000 --dir "$work" >&2
$PY - "$work" <<'PYEOF'
import json, sys
w = sys.argv[1]
labels = json.load(open(f"{w}/labels.json"))
with open(f"{w}/labels.csv", "w") as f:
    f.write("key,label\n")
    for k, v in sorted(labels.items()):
        if k.startswith("shard-"):
            f.write(f"{k},{v}\n")
PYEOF
echo "| model | α | sets | coverage (held out) | mean set size | empty | error among empty | to review (size ≠ 1) | error among accepted | temperature |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for m in didirn-mnist-7px-5pct ce-mnist-7px-5pct; do
  for a in ${ALPHAS:-0.1 0.05 0.01}; do
    for sets in ${SETS:-randomized randomized-nonempty non-randomized}; do
      bin/didicm calibrate --model "models/$m.onnx" --steps "$STEPS" --labels "$work/labels.csv" --alpha "$a" \
        --sets "$sets" --out "$work/$m-$a-$sets.json" "$work/archive" 2>/dev/null >&2
      $PY - "$work/$m-$a-$sets.json" "$m" "$STEPS" <<'PYEOF'
import json, sys
c = json.load(open(sys.argv[1])); h = c["held_out"]
name = f"DiDiCM (CP, T={sys.argv[3]})" if sys.argv[2].startswith("didirn") else "CE baseline"
print(f"| {name} | {c['alpha']} | {c['sets']} | {100*h['coverage']:.2f}% | {h['mean_set_size']:.2f} | {100*h['empty']:.1f}% | "
      f"{100*h['empty_error']:.2f}% | {100*h['review']:.1f}% | {100*h['accepted_error']:.2f}% | {c['temperature']:.3f} |")
PYEOF
    done
  done
done
