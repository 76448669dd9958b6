#!/usr/bin/env bash
# The realistic workload (W2): photo-like 1080p JPEG frames through a full
# queue job (real redis-server, file://, one in-process worker configured as
# `didicm worker` configures itself) on a random-weight ResNet-18 DiDiRN at
# 224x224 RGB, K=1000, CP T=STEPS; then the PyTorch reference on the same
# weights (Pillow draft() decode + the toolkit's CP sampler) on all cores.
# Prints the benchmark lines and the reference's JSON (docs/benchmarks.md).
#   scripts/bench-w2.sh        # IMAGES=128 BATCH=32 STEPS=4 MICRO=16
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES=${IMAGES:-128} BATCH=${BATCH:-32} STEPS=${STEPS:-4} MICRO=${MICRO:-16} PY=${PY:-/usr/bin/python3}
make -s w2 >&2
export ONNXRUNTIME_LIB=${ONNXRUNTIME_LIB:-$PWD/.cache/onnxruntime/1.29.0/libonnxruntime.so.1}
DIDICM_BENCH_MODEL=$PWD/build/w2/didirn-w2.onnx DIDICM_BENCH_FRAMES=$PWD/build/w2/frames \
DIDICM_BENCH_IMAGES=$IMAGES DIDICM_BENCH_BATCH=$BATCH DIDICM_BENCH_STEPS=$STEPS DIDICM_BENCH_MICRO=$MICRO \
  go test -run '^$' -bench EndToEnd -benchtime 1x -timeout 30m ./workers | grep '^Benchmark'
$PY training/scripts/torch-reference.py --state build/w2/didirn-w2.pt --frames build/w2/frames \
  --steps "$STEPS" --images "$(( IMAGES < 64 ? IMAGES : 64 ))" --threads "$(nproc)"
