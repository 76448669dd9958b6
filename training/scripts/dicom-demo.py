"""Writes N (default 3) synthetic CT-like slices for the Go demo: 64x64,
16-bit signed with RescaleIntercept -1024 and padding -2000 outside a round
field of view, a body with a bone ring and noise; patient DEMO^ANON, no real
data. Part 10 files named by their SOP Instance UID without extension (UIDs
random but seeded); the second is JPEG Lossless SV1 (dcmcjpeg). Usage:
dicom-demo.py OUTDIR [N]"""
import os
import subprocess
import sys

import numpy as np
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

SEED = "didicm-demo-0"
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"


def slice_hu(i, size=64):
    """Hounsfield units: air, a body disc (soft tissue), a bone ring, noise; -3024 outside the field of view."""
    rng = np.random.default_rng(i)
    y, x = np.mgrid[0:size, 0:size] - (size - 1) / 2
    r = np.hypot(x / (0.42 + 0.02 * i), y / 0.36) / size
    hu = np.where(r < 1, 40.0, -1000.0)
    hu = np.where((r > 0.55 + 0.03 * i) & (r < 0.7 + 0.03 * i), 800.0, hu)
    hu += rng.normal(0, 15, hu.shape)
    return np.where(np.hypot(x, y) > size / 2, -3024, np.rint(hu)).astype(np.int16)


def write(path, i, n, study, series):
    uid = generate_uid(entropy_srcs=[SEED, "instance", str(i)])
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = CT_IMAGE, uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = CT_IMAGE, uid
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.FrameOfReferenceUID = generate_uid(entropy_srcs=[SEED, "frame"])
    ds.PatientName, ds.PatientID, ds.Modality = "DEMO^ANON", "DEMO0001", "CT"
    ds.SeriesDescription, ds.InstanceNumber = "didicm synthetic demo", i + 1
    ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [-160, -160, 5.0 * (i - n // 2)], [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing, ds.SliceThickness = [5, 5], 5
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.Rows, ds.Columns = 1, "MONOCHROME2", 64, 64
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
    ds.WindowCenter, ds.WindowWidth, ds.PixelPaddingValue = 40, 400, -2000
    stored = slice_hu(i).astype(np.int32) + 1024  # -3024 HU outside the field of view: the padding value
    ds.PixelData = stored.astype("<i2").tobytes()
    ds.is_little_endian, ds.is_implicit_VR = True, False
    out = os.path.join(path, uid)
    ds.save_as(out, write_like_original=False)
    return out


def main(out, n=3):
    os.makedirs(out, exist_ok=True)
    study, series = generate_uid(entropy_srcs=[SEED, "study"]), generate_uid(entropy_srcs=[SEED, "series"])
    for i in range(n):
        path = write(out, i, n, study, series)
        if i == 1:
            subprocess.run(["dcmcjpeg", "+e1", path, path + ".tmp"], check=True)
            os.replace(path + ".tmp", path)
        print(path)


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:3]))
