#!/usr/bin/env bash
# Reproduces the shipped models and their evaluation tables (models/README.md).
# Trains DiDiRN and the same-backbone CE baseline in two settings:
#   low uncertainty:  28 px (no degradation), all 60k training images
#   high uncertainty:  7 px, a class-balanced 5% (3000 images)  <- shipped, used by the demo
# Checkpoints go to build/training/ (git-ignored); ONNX files, parity fixtures and
# evaluation results to models/. Usage: training/scripts/make-models.sh [STEPS]
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
STEPS=${1:-1500}
CK=build/training
mkdir -p "$CK" models/eval
run() { (cd training && PYTHONPATH=. "$PY" -m didicm_train "$@"); }
ab() { case "$1" in /*) echo "$1";; *) echo "$PWD/$1";; esac; }

for setting in "high 7 0.05" "low 28 1.0"; do
  set -- $setting
  name=$1 res=$2 frac=$3
  for kind in score classifier; do
    start=$(date +%s)
    run train --kind "$kind" --resolution "$res" --fraction "$frac" --steps "$STEPS" \
      --seed 0 --out "$(ab "$CK/$name-$kind.pt")" | tee "$CK/$name-$kind.log"
    echo "wall_s $(( $(date +%s) - start ))" | tee -a "$CK/$name-$kind.log"
  done
  run evaluate --score "$(ab "$CK/$name-score.pt")" --classifier "$(ab "$CK/$name-classifier.pt")" \
    --out "$(ab "models/eval/$name.json")" | tee "models/eval/$name.md"
done
run export --checkpoint "$(ab "$CK/high-score.pt")" --out "$(ab models/didirn-mnist-7px-5pct.onnx)"
run export --checkpoint "$(ab "$CK/high-classifier.pt")" --out "$(ab models/ce-mnist-7px-5pct.onnx)"
