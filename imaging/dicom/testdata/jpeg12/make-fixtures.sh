#!/usr/bin/env bash
# Regenerates the fixtures of imaging/dicom/jpeg12 (JPEG Extended, transfer
# syntax 1.2.840.10008.1.2.4.51), 37×29 deterministic images:
#   NAME.jpg  the single fragment of a frame that dcmtk's dcmcjpeg encoded
#             (--encode-extended, quality 90)
#   NAME.raw  that frame decoded by dcmtk's dcmdjpeg (an independent build of
#             IJG libjpeg), its native pixel data: samples interleaved,
#             little-endian, Bits Allocated bits each
# gray12: 12 bits stored in 16 (P=12); gray8 and rgb8: P=8 streams under the
# same UID (rgb8 is YBR_FULL_422 in the stream, RGB in the .raw).
# Needs: dcmtk, /usr/bin/python3 with pydicom (python3-pydicom).
set -euo pipefail
cd "$(dirname "$0")"
for tool in dcmcjpeg dcmdjpeg /usr/bin/python3; do
  command -v "$tool" >/dev/null || { echo "$0: needs $tool (apt-get install dcmtk python3-pydicom)" >&2; exit 1; }
done
/usr/bin/python3 -c 'import pydicom' 2>/dev/null || { echo "$0: needs pydicom (apt-get install python3-pydicom)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Uncompressed sources, one DICOM file per image.
/usr/bin/python3 - "$work" <<'PY'
import struct, sys
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

work = sys.argv[1]
W, H = 37, 29
seed = 4242


def rnd():
    global seed
    seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
    return seed >> 8


def plane(hi, phase):
    # smooth pattern plus noise, with both extremes present
    v = []
    for y in range(H):
        for x in range(W):
            t = hi * ((x * 3 + y * 5 + phase) % (W + H)) // (W + H - 1)
            t += rnd() % (hi // 16 + 1) - hi // 32
            v.append(min(hi, max(0, t)))
    v[0], v[-1] = 0, hi
    return v


def write(name, spp, ba, bs, photometric, pixels):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"  # Secondary Capture
    meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.10.543.12." + str(len(name) * 100 + spp * 10 + bs)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "OT"
    ds.SamplesPerPixel = spp
    ds.PhotometricInterpretation = photometric
    if spp > 1:
        ds.PlanarConfiguration = 0
    ds.Rows, ds.Columns = H, W
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = ba, bs, bs - 1
    ds.PixelRepresentation = 0
    ds.PixelData = pixels
    ds["PixelData"].VR = "OB" if ba == 8 else "OW"
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(f"{work}/{name}.dcm", write_like_original=False)


write("gray12", 1, 16, 12, "MONOCHROME2", b"".join(struct.pack("<H", v) for v in plane(4095, 0)))
write("gray8", 1, 8, 8, "MONOCHROME2", bytes(plane(255, 7)))
r, g, b = plane(255, 0), plane(255, 20), plane(255, 41)
write("rgb8", 3, 8, 8, "RGB", bytes(s for px in zip(r, g, b) for s in px))
PY

for name in gray12 gray8 rgb8; do
  dcmcjpeg --encode-extended --quality 90 "$work/$name.dcm" "$work/$name-jpeg.dcm"
  dcmdjpeg "$work/$name-jpeg.dcm" "$work/$name-dec.dcm"
done

# The fragment of each frame (trailing pad byte after EOI dropped) and the
# decoded pixel data.
/usr/bin/python3 - "$work" <<'PY'
import sys
import pydicom
from pydicom.encaps import generate_pixel_data_frame

work = sys.argv[1]
for name in ("gray12", "gray8", "rgb8"):
    ds = pydicom.dcmread(f"{work}/{name}-jpeg.dcm")
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.51", ds.file_meta.TransferSyntaxUID
    frame = next(generate_pixel_data_frame(ds.PixelData, 1))
    end = frame.rfind(b"\xff\xd9")
    assert end > 0, name
    open(f"{name}.jpg", "wb").write(frame[: end + 2])
    dec = pydicom.dcmread(f"{work}/{name}-dec.dcm")
    assert dec.file_meta.TransferSyntaxUID.is_little_endian and not dec.file_meta.TransferSyntaxUID.is_compressed
    assert (dec.Rows, dec.Columns, dec.SamplesPerPixel, dec.BitsAllocated) == (ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.BitsAllocated)
    assert dec.SamplesPerPixel == 1 or (dec.PhotometricInterpretation == "RGB" and dec.PlanarConfiguration == 0), name
    want = dec.Rows * dec.Columns * dec.SamplesPerPixel * dec.BitsAllocated // 8
    open(f"{name}.raw", "wb").write(dec.PixelData[:want])
    sof = frame.find(b"\xff\xc1")  # extended sequential, Huffman
    assert sof > 0, name
    print(f"{name}: P={frame[sof + 4]}, {ds.PhotometricInterpretation}, {end + 2} bytes")
PY
