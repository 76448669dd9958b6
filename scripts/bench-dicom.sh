#!/usr/bin/env bash
# One core reading 512x512 16-bit CT slices (pydicom writes them; dcmtk's
# dcmcjpeg re-encodes them as JPEG Lossless SV1) into a 224x224 windowed grey
# model input: the Go reader (imaging/dicom) and, in the same run, pydicom
# (pixel_array with the GDCM handler) plus the toolkit's transform and resize.
#   scripts/bench-dicom.sh        # SLICES=16
set -euo pipefail
cd "$(dirname "$0")/.."
SLICES=${SLICES:-16} PY=${PY:-/usr/bin/python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/uncompressed" "$work/jpeg-lossless"
$PY - "$work/uncompressed" "$SLICES" <<'PYEOF'
import sys
import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
out, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
y, x = np.mgrid[0:512, 0:512]
for i in range(n):
    r = np.hypot(x - 256, y - 256)
    hu = np.where(r < 200, 40, -1000) + np.where((r > 170) & (r < 185), 900, 0) + rng.normal(0, 15, (512, 512))
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.PatientName = "CT", "BENCH^ANON"
    ds.Rows = ds.Columns = 512
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    ds.PixelData = np.clip(hu + 1024, -32768, 32767).astype("<i2").tobytes()
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(f"{out}/ct-{i:03d}.dcm", write_like_original=False)
PYEOF
for f in "$work"/uncompressed/*; do dcmcjpeg --encode-lossless-sv1 "$f" "$work/jpeg-lossless/$(basename "$f")"; done
echo "| input | reader | images/s | allocated per image |"
echo "|---|---|---|---|"
DIDICM_BENCH_DICOM="$work" taskset -c 0 go test -run '^$' -bench CTSlice -benchtime "$((SLICES * 4))x" ./imaging/dicom |
  awk '/^BenchmarkCTSlice/ {split($1, n, "/"); sub(/-[0-9]+$/, "", n[2]);
    for (i = 2; i <= NF; i++) { if ($(i+1) == "images/s") ips = $i; if ($(i+1) == "B/op") bop = $i }
    printf "| %s | didicm (Go) | %.0f | %.1f MB |\n", n[2], ips, bop / 1e6}'
for kind in uncompressed jpeg-lossless; do
  taskset -c 0 $PY - "$work/$kind" "$kind" <<'PYEOF'
import glob, os, sys, time
import numpy as np, torch, pydicom
sys.path.insert(0, os.path.join(os.getcwd(), "training"))
from didicm_train.data import resize
torch.set_num_threads(1)
paths = sorted(glob.glob(sys.argv[1] + "/*"))
t = time.perf_counter()
for _ in range(4):
    for p in paths:
        ds = pydicom.dcmread(p)
        hu = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        v = np.clip((hu - 39.5) / 399 + 0.5, 0, 1)
        resize(torch.from_numpy(v)[None, None], 224, 224)
n = 4 * len(paths)
print(f"| {sys.argv[2]} | pydicom + toolkit | {n / (time.perf_counter() - t):.0f} | - |")
PYEOF
done
