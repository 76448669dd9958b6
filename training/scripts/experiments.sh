#!/usr/bin/env bash
# Follow-up experiments to the shipped models' evaluation (models/README.md):
# does DiDiCM beat the CE baseline with longer training, or at a harsher
# degradation? Results: models/eval/extra-*.{md,json}. ~35 min on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
CK=$PWD/build/training
mkdir -p "$CK" models/eval
run() { (cd training && PYTHONPATH=. "$PY" -m didicm_train "$@"); }
# 1. Longer training: DiDiRN at the shipped setting (7 px, 5%) for 3x the steps; the
#    CE baseline with the same 3x budget.
for kind in score classifier; do
  run train --kind $kind --resolution 7 --fraction 0.05 --steps 4500 --seed 0 --out "$CK/long-$kind.pt" | tail -1
done
run evaluate --score "$CK/long-score.pt" --classifier "$CK/long-classifier.pt" --limit 5000 \
  --out "$PWD/models/eval/extra-long.json" | tee models/eval/extra-long.md
# 2. Harsher degradation and scarcer data: 4 px, 2% (1200 images).
for kind in score classifier; do
  run train --kind $kind --resolution 4 --fraction 0.02 --steps 1500 --seed 0 --out "$CK/harsh-$kind.pt" | tail -1
done
run evaluate --score "$CK/harsh-score.pt" --classifier "$CK/harsh-classifier.pt" --limit 5000 \
  --out "$PWD/models/eval/extra-harsh.json" | tee models/eval/extra-harsh.md
