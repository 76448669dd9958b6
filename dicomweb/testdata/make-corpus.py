"""Writes the DICOMweb test corpus: MNIST test digits as DICOM instances in
three studies and seven series, converted by Debian's dcmtk and gdcm tools
into the transfer syntaxes imaging/dicom reads, plus two multi-frame objects.
UIDs are derived from fixed names, so a rerun writes the same files.

Usage: /usr/bin/python3 dicomweb/testdata/make-corpus.py
(from the repository root; needs python3-pydicom, dcmtk, libgdcm-tools).

dicomweb/testdata/corpus/NAME       the instances (no extension, as PACS exports)
dicomweb/testdata/corpus.json       one entry per instance: file, study, series,
                                    sop, transfer syntax, frames, MNIST labels
"""
import gzip
import json
import os
import shutil
import subprocess
import tempfile

import numpy as np
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import generate_uid

HERE = os.path.dirname(os.path.abspath(__file__))
MNIST = os.path.join(HERE, "..", "..", "cmd", "didicm", "demodata")
TS = {
    "explicit": ("1.2.840.10008.1.2.1", None), "implicit": ("1.2.840.10008.1.2", ["dcmconv", "+ti"]),
    "big": ("1.2.840.10008.1.2.2", ["dcmconv", "+tb"]), "deflated": ("1.2.840.10008.1.2.1.99", ["dcmconv", "+td"]),
    "rle": ("1.2.840.10008.1.2.5", ["dcmcrle"]), "baseline": ("1.2.840.10008.1.2.4.50", ["dcmcjpeg", "+eb", "+un"]),
    "sv1": ("1.2.840.10008.1.2.4.70", ["dcmcjpeg", "+e1"]), "jpegls": ("1.2.840.10008.1.2.4.80", ["dcmcjpls"]),
    "j2k": ("1.2.840.10008.1.2.4.90", ["gdcmconv", "--j2k"]),
}
CT, MR, CR, SC = ("1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.5.1.4.1.1.1",
                  "1.2.840.10008.5.1.4.1.1.7")
# study, date, patient; series: (name, modality, SOP class, description, body part, image type, 16-bit CT values,
# instances as (transfer syntax, frames)).
STUDIES = [
    ("chest-ct", "20240110", "P1", [
        ("axial", "CT", CT, "AX CHEST 1mm", "CHEST", ["ORIGINAL", "PRIMARY", "AXIAL"], True,
         [("explicit", 1), ("implicit", 1), ("big", 1), ("deflated", 1), ("rle", 1), ("sv1", 1), ("jpegls", 1),
          ("j2k", 1)]),
        ("scout", "CT", CT, "SCOUT", "CHEST", ["ORIGINAL", "PRIMARY", "LOCALIZER"], True, [("explicit", 1)]),
    ]),
    ("head-mr", "20240120", "P2", [
        ("t1", "MR", MR, "T1 AX", "HEAD", ["ORIGINAL", "PRIMARY"], False,
         [("explicit", 1), ("baseline", 1), ("rle", 1), ("j2k", 1), ("jpegls", 1)]),
        ("t2", "MR", MR, "T2 multi-frame", "HEAD", ["ORIGINAL", "PRIMARY"], False, [("explicit", 3), ("rle", 2)]),
    ]),
    ("chest-cr", "20240301", "P3", [
        ("pa", "CR", CR, "CHEST PA", "CHEST", ["DERIVED", "SECONDARY"], False,
         [("explicit", 1), ("baseline", 1), ("deflated", 1)]),
        ("lat", "CR", CR, "CHEST LAT", "CHEST", ["ORIGINAL", "PRIMARY"], False, [("explicit", 1)]),
        ("capture", "OT", SC, "screen capture", "", ["DERIVED", "SECONDARY"], False, [("implicit", 1)]),
    ]),
]


def digits():
    with gzip.open(os.path.join(MNIST, "t10k-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(os.path.join(MNIST, "t10k-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return images, labels


def uid(*names):
    return generate_uid(entropy_srcs=["didicm-dicomweb-corpus", *names])


def write(path, study, series, sop, number, frames, ct):
    """A native Explicit VR Little Endian instance of frames (uint8 [f, 28, 28])."""
    name, date, patient, _ = study
    sname, modality, sop_class, desc, body, image_type, _, _ = series
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = sop_class, sop
    meta.TransferSyntaxUID = TS["explicit"][0]
    ds = FileDataset(path, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, sop
    ds.StudyInstanceUID, ds.SeriesInstanceUID = uid(name), uid(name, sname)
    ds.StudyDate, ds.StudyTime, ds.StudyID, ds.AccessionNumber = date, "101500", name[:16], ""
    ds.StudyDescription = name
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = f"CORPUS^{patient}", patient, "", "O"
    ds.Modality, ds.SeriesDescription, ds.SeriesNumber = modality, desc, 1 + [s[0] for s in study[3]].index(sname)
    ds.InstanceNumber = number
    if body:
        ds.BodyPartExamined = body
    ds.ImageType = image_type
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows, ds.Columns = 28, 28
    if len(frames) > 1:
        ds.NumberOfFrames = len(frames)
    if ct:  # digits as HU: 0 → -1000 (air), 255 → 1040, stored signed with an intercept
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
        ds.WindowCenter, ds.WindowWidth = 0, 2100
        values = (frames.astype(np.int16) * 8 + 24).astype("<i2")
        ds.PixelData = values.tobytes()
        ds["PixelData"].VR = "OW"
    else:
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
        ds.PixelData = frames.astype(np.uint8).tobytes()
        ds["PixelData"].VR = "OB"
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(path, write_like_original=False)
    return ds


def main():
    images, labels = digits()
    out = os.path.join(HERE, "corpus")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    entries, next_digit = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for study in STUDIES:
            for series in study[3]:
                for n, (syntax, frames) in enumerate(series[7]):
                    name = f"{study[0]}-{series[0]}-{n + 1}-{syntax}"
                    sop = uid(study[0], series[0], str(n))
                    digit = list(range(next_digit, next_digit + frames))
                    next_digit += frames
                    native = os.path.join(tmp, name)
                    write(native, study, series, sop, n + 1, images[digit], series[6])
                    ts, cmd = TS[syntax]
                    path = os.path.join(out, name)
                    if cmd:
                        subprocess.run(cmd + [native, path], check=True, capture_output=True)
                    else:
                        shutil.copyfile(native, path)
                    entries.append({"file": f"corpus/{name}", "study": uid(study[0]), "series": uid(study[0], series[0]),
                                    "sop": sop, "transfer_syntax": ts, "frames": frames, "modality": series[1],
                                    "labels": [int(labels[d]) for d in digit]})
    with open(os.path.join(HERE, "corpus.json"), "w") as f:
        json.dump(entries, f, indent=1)
        f.write("\n")
    print(f"{len(entries)} instances, {sum(os.path.getsize(os.path.join(HERE, e['file'])) for e in entries)} bytes")


if __name__ == "__main__":
    main()
