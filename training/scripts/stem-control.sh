#!/usr/bin/env bash
# The stem control of models/README.md: DiDiRN and the CE baseline, each with
# a stride-1 (layout small) and a stride-2 (small-s2) stem, trained at 7 px /
# 5% fed at native size (7x7 input), STEPS steps (3,000: the control compares
# stems at one budget; the shipped pair has 14,000), seed 0; then each pair's
# evaluation on the 10,000 test digits. Checkpoints (resumable) in
# build/training/stem/, tables in models/eval/stem-*.{json,md}.
#   training/scripts/stem-control.sh [STEPS]
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
STEPS=${1:-3000}
CK=$PWD/build/training/stem
mkdir -p "$CK" models/eval
run() { (cd training && PYTHONPATH=. "$PY" -m didicm_train "$@"); }
for layout in small small-s2; do
  for kind in score classifier; do
    out=$CK/$layout-$kind.pt
    [ -e "$out" ] && continue
    run train --kind "$kind" --layout "$layout" --resolution 7 --native --fraction 0.05 --steps "$STEPS" \
      --seed 0 --threads 1 --out "$out" | tee "$CK/$layout-$kind.log"
  done
  run evaluate --score "$CK/$layout-score.pt" --classifier "$CK/$layout-classifier.pt" --cp-steps 1 2 4 8 \
    --clamp negatives --threads 1 --out "$PWD/models/eval/stem-$layout.json" | tee "models/eval/stem-$layout.md"
done
