#!/usr/bin/env bash
# A seed replicate of the shipped pair (issue 14's spread between training
# runs): the recipe of make-models.sh's "high" setting (7 px, 5%, 14,000
# steps) with another seed for the data subset, initialisation and shifts,
# then the same evaluation (negatives clamp, CP T=1,2,4,8, no CL).
# GN is DiDiRN's least channels per GroupNorm group: 2 (the default, the
# shipped recipe) trains DiDiRN and the CE baseline side by side (one thread
# each); another GN trains only DiDiRN (CE has no GroupNorm) and evaluates it
# with the seed's CE if that exists. Resumable from build/training/seedN/
# *.pt.partial (every 500 steps).
#   training/scripts/seed-replicate.sh [SEED] [GN]     # defaults 1 and 2
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
SEED=${1:-1}
GN=${2:-2}
CK=$PWD/build/training/seed$SEED
SUFFIX=$([ "$GN" = 2 ] || echo "-gn$GN")
mkdir -p "$CK" models/eval
run() { (cd training && PYTHONPATH=. "$PY" -m didicm_train "$@"); }
pids=()
if [ ! -e "$CK/high-score$SUFFIX.pt" ]; then
  run train --kind score --resolution 7 --fraction 0.05 --steps 14000 --seed "$SEED" --threads 1 \
    --gn-min-channels "$GN" --out "$CK/high-score$SUFFIX.pt" >>"$CK/high-score$SUFFIX.log" &
  pids+=($!)
fi
if [ "$GN" = 2 ] && [ ! -e "$CK/high-classifier.pt" ]; then
  run train --kind classifier --resolution 7 --fraction 0.05 --steps 14000 --seed "$SEED" --threads 1 \
    --out "$CK/high-classifier.pt" >>"$CK/high-classifier.log" &
  pids+=($!)
fi
for p in "${pids[@]}"; do wait "$p"; done
ce=()
[ -e "$CK/high-classifier.pt" ] && ce=(--classifier "$CK/high-classifier.pt")
run evaluate --score "$CK/high-score$SUFFIX.pt" "${ce[@]}" --cl-chains 0 \
  --out "$PWD/models/eval/high-seed$SEED$SUFFIX.json" | tee "models/eval/high-seed$SEED$SUFFIX.md"
