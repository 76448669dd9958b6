#!/usr/bin/env bash
# Prepares the CUDA check for a GPU machine that can reach nothing: builds
# bin/gpucheck, fetches ONNX Runtime 1.29.0's CUDA provider libraries (npm
# com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9; the core is
# onnxruntime-node@1.29.0's, scripts/fetch-onnxruntime.sh), and packs core,
# providers and binary into zstd chunks under 55 MiB in build/gpu-chunks/
# (git-ignored), so each can travel in its own call. deploy/gpu-check.sh
# reassembles them on the GPU machine and runs the check.
set -euo pipefail
cd "$(dirname "$0")/.."
PKG=com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9
SHA_CUDA=56cf3254b118ad837ccc4ed8f6d1b23504bbf7ef91b34cbc0b289cb7f10b3037
SHA_SHARED=c6a12593396095f5670160e284c35d1700b7708cf3037b7042e2a5200ccae772
core=$(scripts/fetch-onnxruntime.sh)
stage=build/gpu-stage
rm -rf "$stage" build/gpu-chunks && mkdir -p "$stage/lib" "$stage/bin" build/gpu-chunks
go build -o "$stage/bin/gpucheck" ./deploy/gpucheck
cp "$core" "$stage/lib/libonnxruntime.so.1"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$PKG" >/dev/null && tar xzf ./*.tgz)
x64=$tmp/package/Plugins/Linux/x64
echo "$SHA_CUDA  $x64/libonnxruntime_providers_cuda.so" | sha256sum -c --quiet -
echo "$SHA_SHARED  $x64/libonnxruntime_providers_shared.so" | sha256sum -c --quiet -
cp "$x64/libonnxruntime_providers_cuda.so" "$x64/libonnxruntime_providers_shared.so" "$stage/lib/"
tar -C "$stage" -cf - . | zstd -q -T0 -12 | split -b 55M -d - build/gpu-chunks/part-
(cd build/gpu-chunks && sha256sum part-* > SHA256SUMS)
ls -la build/gpu-chunks
