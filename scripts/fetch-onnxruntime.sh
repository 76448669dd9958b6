#!/usr/bin/env bash
# Fetches libonnxruntime.so.1 (ONNX Runtime 1.29.0, CPU; also the core that the
# CUDA provider libraries of the same version load into) from the npm package
# onnxruntime-node@1.29.0 into a git-ignored cache, and checks its sha256.
# Prints the library's path. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=1.29.0
SHA256=89688f5cf51c7e31befbb7b9101bc027799009b18d1baa9a5b1146a72e69538d
DIR=.cache/onnxruntime/$VERSION
LIB=$DIR/libonnxruntime.so.1
if [ -f "$LIB" ] && echo "$SHA256  $LIB" | sha256sum -c --quiet - 2>/dev/null; then
  echo "$PWD/$LIB"; exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "onnxruntime-node@$VERSION" >/dev/null)
tar -xzf "$tmp"/onnxruntime-node-$VERSION.tgz -C "$tmp" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
echo "$SHA256  $tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" | sha256sum -c --quiet - \
  || { echo "fetch-onnxruntime: checksum mismatch for onnxruntime-node@$VERSION" >&2; exit 1; }
mkdir -p "$DIR"
mv "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$LIB"
ln -sf libonnxruntime.so.1 "$DIR/libonnxruntime.so"
echo "$PWD/$LIB"
