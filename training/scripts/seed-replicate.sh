#!/usr/bin/env bash
# A seed replicate of the shipped pair (issue 14's spread between training
# runs): the recipe of make-models.sh's "high" setting (7 px, 5%, 14,000
# steps) with another seed for the data subset, initialisation and shifts,
# then the same evaluation (negatives clamp, CP T=1,2,4,8, no CL).
# GN is DiDiRN's least channels per GroupNorm group: 1 is the shipped recipe,
# 2 the one shipped before. DiDiRN and, if the seed has none yet, the CE
# baseline (which has no GroupNorm) train side by side, one thread each.
# Resumable from build/training/seedN/*.pt.partial (every 500 steps).
#   training/scripts/seed-replicate.sh [SEED] [GN]     # defaults 1 and 1
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
SEED=${1:-1}
GN=${2:-1}
CK=$PWD/build/training/seed$SEED
mkdir -p "$CK" models/eval
run() { (cd training && PYTHONPATH=. "$PY" -m didicm_train "$@"); }
pids=()
if [ ! -e "$CK/high-score-gn$GN.pt" ]; then
  run train --kind score --resolution 7 --fraction 0.05 --steps 14000 --seed "$SEED" --threads 1 \
    --gn-min-channels "$GN" --out "$CK/high-score-gn$GN.pt" >>"$CK/high-score-gn$GN.log" &
  pids+=($!)
fi
if [ ! -e "$CK/high-classifier.pt" ]; then
  run train --kind classifier --resolution 7 --fraction 0.05 --steps 14000 --seed "$SEED" --threads 1 \
    --out "$CK/high-classifier.pt" >>"$CK/high-classifier.log" &
  pids+=($!)
fi
for p in "${pids[@]}"; do wait "$p"; done
run evaluate --score "$CK/high-score-gn$GN.pt" --classifier "$CK/high-classifier.pt" --cl-chains 0 \
  --out "$PWD/models/eval/high-seed$SEED-gn$GN.json" | tee "models/eval/high-seed$SEED-gn$GN.md"
