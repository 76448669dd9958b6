#!/usr/bin/env bash
# The GroupNorm control of issue 14: DiDiRN at the shipped recipe (7 px / 5%,
# 14,000 steps, seed 0) with at least N channels per GroupNorm group, evaluated
# like the shipped pair (negatives clamp, the 10,000 test digits). The shipped
# DiDiRN has N=2 (build/training/high-score.pt, make-models.sh). Resumable: a
# killed run continues from build/training/gn<N>/high-score-gn<N>.pt.partial.
#   [THREADS=2] training/scripts/gn-control.sh [N]     # default 4
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
N=${1:-4}
CK=$PWD/build/training/gn$N
mkdir -p "$CK" models/eval
run() { (cd training && PYTHONPATH=. "$PY" -m didicm_train "$@"); }
[ -e "$CK/high-score-gn$N.pt" ] || run train --kind score --resolution 7 --fraction 0.05 --steps 14000 --seed 0 \
  --threads "${THREADS:-2}" --gn-min-channels "$N" --out "$CK/high-score-gn$N.pt" | tee -a "$CK/high-score-gn$N.log"
run evaluate --score "$CK/high-score-gn$N.pt" --cl-chains 0 --out "$PWD/models/eval/high-gn$N.json" \
  | tee "models/eval/high-gn$N.md"
