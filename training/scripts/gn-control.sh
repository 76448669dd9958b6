#!/usr/bin/env bash
# The GroupNorm controls of issue 14: DiDiRN at the shipped recipe (7 px / 5%,
# 14,000 steps, seed 0) with at least N channels per GroupNorm group, and with
# BLIND=B the label and sigma left out of the first B stages, evaluated like
# the shipped pair (negatives clamp, the 10,000 test digits). Resumable: a
# killed run continues from build/training/gn<N>/high-score-gn<N>[-blind<B>].pt.partial.
#   [THREADS=2] [BLIND=B] training/scripts/gn-control.sh [N]     # default 4
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
N=${1:-4}
B=${BLIND:-0}
NAME=gn$N$([ "$B" = 0 ] || echo "-blind$B")
CK=$PWD/build/training/gn$N
mkdir -p "$CK" models/eval
run() { (cd training && PYTHONPATH=. "$PY" -m didicm_train "$@"); }
[ -e "$CK/high-score-$NAME.pt" ] || run train --kind score --resolution 7 --fraction 0.05 --steps 14000 --seed 0 \
  --threads "${THREADS:-2}" --gn-min-channels "$N" --blind-stages "$B" --out "$CK/high-score-$NAME.pt" \
  | tee -a "$CK/high-score-$NAME.log"
run evaluate --score "$CK/high-score-$NAME.pt" --cl-chains 0 --out "$PWD/models/eval/high-$NAME.json" \
  | tee "models/eval/high-$NAME.md"
