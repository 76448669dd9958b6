#!/usr/bin/env bash
# Installs what `make test` and `make demo` need on a fresh Debian 12 machine
# (libturbojpeg0-dev for the JPEG decoder among them):
# Debian's PyTorch stack for training/ (used as /usr/bin/python3), pytest,
# redis-server for the integration tests, and the ONNX Runtime library (npm).
# Installs only what is missing; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=()
/usr/bin/python3 -c 'import torch, torchvision, onnx, numpy, PIL' 2>/dev/null \
  || pkgs+=(python3-torch python3-torchvision python3-onnx python3-numpy python3-pil)
/usr/bin/python3 -c 'import pytest' 2>/dev/null || pkgs+=(python3-pytest)
command -v redis-server >/dev/null || pkgs+=(redis-server)
command -v redis-sentinel >/dev/null || pkgs+=(redis-sentinel) # Redis failover tests (internal/sentineltest, make test-ha)
command -v zstd >/dev/null || pkgs+=(zstd)
[ -e /usr/include/turbojpeg.h ] || pkgs+=(libturbojpeg0-dev) # imaging/jpegturbo (cgo)
[ -e /usr/include/charls/charls.h ] || pkgs+=(libcharls-dev)  # imaging/dicom/jpegls (cgo)
ls /usr/include/openjpeg-2.*/openjpeg.h >/dev/null 2>&1 || pkgs+=(libopenjp2-7-dev) # imaging/dicom/jpeg2000 (cgo)
[ -e /usr/include/gdcm-3.0/gdcmjpeg/12/jpeglib.h ] || pkgs+=(libgdcm-dev) # imaging/dicom/jpeg12 (cgo)
# DICOM test corpus: encoders and independent decoders (dcmtk, GDCM, pydicom).
command -v dcmcjpeg >/dev/null || pkgs+=(dcmtk)
command -v gdcmconv >/dev/null || pkgs+=(libgdcm-tools)
/usr/bin/python3 -c 'import pydicom, gdcm' 2>/dev/null || pkgs+=(python3-pydicom python3-gdcm)
ls /usr/include/*/libavformat/avformat.h >/dev/null 2>&1 || pkgs+=(libavformat-dev libavcodec-dev libswscale-dev) # imaging/video/ffmpeg (cgo)
command -v ffmpeg >/dev/null || pkgs+=(ffmpeg) # video test corpus and reference decoder (ffmpeg, ffprobe)
command -v /usr/bin/time >/dev/null || pkgs+=(time) # make bench-scale measures peak memory with it
[ -e /usr/share/orthanc/plugins/libOrthancDicomWeb.so ] || pkgs+=(orthanc orthanc-dicomweb) # DICOMweb tests: a real Orthanc (internal/orthanctest)
command -v dciodvfy >/dev/null || pkgs+=(dicom3tools) # DICOM SR checks (dciodvfy)
command -v node >/dev/null || pkgs+=(nodejs npm) # DuckDB (npm) reads Parquet results in the tests
command -v chromium >/dev/null || pkgs+=(chromium) # the report is checked in a real browser
if [ ${#pkgs[@]} -gt 0 ]; then
  echo "setup: apt-get install ${pkgs[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${pkgs[@]}"
fi
scripts/fetch-onnxruntime.sh >/dev/null
go mod download
# DuckDB, the independent Parquet reader of the tests (tools/duckdb-check, pinned by its lockfile).
[ -e tools/duckdb-check/node_modules/@duckdb/node-api/package.json ] \
  || npm ci --prefix tools/duckdb-check --no-audit --no-fund --loglevel=error
# Label Studio's labelling frontend, which the export test drives in Chromium (tools/labelstudio-check, pinned by its lockfile).
[ -e tools/labelstudio-check/node_modules/@heartexlabs/label-studio/package.json ] \
  || npm ci --prefix tools/labelstudio-check --no-audit --no-fund --loglevel=error
# @mcap/core, the independent MCAP writer of imaging/mcap's corpus (tools/mcap-writer, pinned by its lockfile).
[ -e tools/mcap-writer/node_modules/@mcap/core/package.json ] \
  || npm ci --prefix tools/mcap-writer --no-audit --no-fund --loglevel=error
# golangci-lint (make lint), built from the Go module proxy into .cache/bin.
lint_version=v2.15.0
if ! .cache/bin/golangci-lint version 2>/dev/null | grep -q "version ${lint_version#v} "; then
  echo "setup: go install golangci-lint $lint_version (a few minutes, once)"
  GOBIN="$PWD/.cache/bin" go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$lint_version"
fi
echo "setup: ok"
