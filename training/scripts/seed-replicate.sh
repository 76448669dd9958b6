#!/usr/bin/env bash
# A seed replicate of the shipped pair (issue 14's spread between training
# runs): the recipe of make-models.sh's "high" setting (7 px, 5%, 14,000
# steps, at least two channels per GroupNorm group) with another seed for the
# data subset, initialisation and shifts, both models side by side (one
# thread each), then the same evaluation (negatives clamp, CP T=1,2,4,8, no
# CL). Resumable from build/training/seedN/*.pt.partial (every 500 steps).
#   training/scripts/seed-replicate.sh [SEED]     # default 1
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
SEED=${1:-1}
CK=$PWD/build/training/seed$SEED
mkdir -p "$CK" models/eval
run() { (cd training && PYTHONPATH=. "$PY" -m didicm_train "$@"); }
pids=()
for kind in score classifier; do
  [ -e "$CK/high-$kind.pt" ] && continue
  run train --kind "$kind" --resolution 7 --fraction 0.05 --steps 14000 --seed "$SEED" --threads 1 \
    --out "$CK/high-$kind.pt" >>"$CK/high-$kind.log" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
run evaluate --score "$CK/high-score.pt" --classifier "$CK/high-classifier.pt" --cl-chains 0 \
  --out "$PWD/models/eval/high-seed$SEED.json" | tee "models/eval/high-seed$SEED.md"
