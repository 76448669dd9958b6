#!/usr/bin/env bash
# Runs on a CUDA machine in one go: reassembles the pack made by
# scripts/pack-gpu-check.sh (chunks in build/gpu-chunks/, or in $CHUNKS),
# puts the CUDA 13 runtime from the NVIDIA pip packages that come with
# PyTorch cu130 on LD_LIBRARY_PATH, then runs the shipped model with cuda and
# cpu on the same batch and prints posteriors' agreement and images/s.
#   deploy/gpu-check.sh [gpucheck flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
CHUNKS=${CHUNKS:-build/gpu-chunks}
dest=${DEST:-/tmp/didicm-gpu}
if [ ! -x "$dest/bin/gpucheck" ]; then
  (cd "$CHUNKS" && sha256sum -c --quiet SHA256SUMS)
  mkdir -p "$dest"
  cat "$CHUNKS"/part-* | zstd -d -q | tar -C "$dest" -xf -
fi
nv=""
for py in python3 /usr/bin/python3; do
  sp=$("$py" -c 'import nvidia, os; print(os.path.dirname(list(nvidia.__path__)[0]))' 2>/dev/null) || continue
  for d in "$sp"/nvidia/*/lib; do nv="$nv:$d"; done
  break
done
[ -n "$nv" ] || echo "gpu-check: no NVIDIA pip libraries found; relying on the system's CUDA 13 runtime" >&2
export LD_LIBRARY_PATH="$dest/lib${nv}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export ONNXRUNTIME_LIB="$dest/lib/libonnxruntime.so.1"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
exec "$dest/bin/gpucheck" "$@"
