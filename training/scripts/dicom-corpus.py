"""Builds the DICOM test corpus of imaging/dicom: small uncompressed sources
written with pydicom, converted to the other transfer syntaxes by Debian's
dcmtk and gdcm tools, a few byte-edited malformed files, and for each valid
file the reference decode by an independent reader. Usage:
dicom-corpus.py OUTDIR

OUTDIR/files/<name>    the DICOM files (no extension)
OUTDIR/ref/<name>.npy  stored sample values, int32 [frames, rows, cols, samples]
                       (int64 for unsigned 32-bit values above 2^31 - 1;
                       YBR files: the RGB after colour conversion, see
                       "reference"); palette files also ref/<name>.rgb.npy
OUTDIR/inputs/<name>.npy  grey files: the toolkit's model input (read_dicom,
                       size 32, channels 1, minmax) float32 [frames, 1, 32, 32];
                       <name>.bits.npy the same with bits
OUTDIR/digits/NNN.png  120 MNIST test digits at 7x7, as the demo's PNGs: the
                       frames of the digits-* files hold exactly their pixels
OUTDIR/corpus.json     one entry per file, see entry() and malformed()
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import gdcm
import numpy as np
import pydicom
from PIL import Image
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.pixel_data_handlers.util import apply_color_lut, convert_color_space
from pydicom.uid import generate_uid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from didicm_train import data as D  # noqa: E402
from didicm_train.dicom import read_dicom  # noqa: E402

TS = {
    "implicit": "1.2.840.10008.1.2", "explicit": "1.2.840.10008.1.2.1", "deflated": "1.2.840.10008.1.2.1.99",
    "big": "1.2.840.10008.1.2.2", "rle": "1.2.840.10008.1.2.5", "baseline": "1.2.840.10008.1.2.4.50",
    "extended": "1.2.840.10008.1.2.4.51", "lossless": "1.2.840.10008.1.2.4.57",
    "sv1": "1.2.840.10008.1.2.4.70", "jpegls": "1.2.840.10008.1.2.4.80", "j2k": "1.2.840.10008.1.2.4.90",
}
LOSSY = {TS["baseline"], TS["extended"]}
SC, CT = "1.2.840.10008.5.1.4.1.1.7", "1.2.840.10008.5.1.4.1.1.2"
# Decompressors for the cross-check: a native Explicit VR LE copy read by pydicom's numpy handler.
NATIVE = (TS["implicit"], TS["explicit"], TS["deflated"], TS["big"])
UNDO = {
    TS["implicit"]: ["dcmconv", "+te"], TS["deflated"]: ["dcmconv", "+te"], TS["big"]: ["dcmconv", "+te"],
    TS["rle"]: ["dcmdrle"], TS["baseline"]: ["dcmdjpeg"], TS["extended"]: ["dcmdjpeg"],
    TS["lossless"]: ["dcmdjpeg"], TS["sv1"]: ["dcmdjpeg"], TS["jpegls"]: ["dcmdjpls"],
    TS["j2k"]: ["gdcmconv", "--raw"],
}


def grey(frames, rows, cols, lo, hi, seed):
    """A smooth ramp with a disc and noise, integers in [lo, hi]."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:rows, 0:cols]
    out = []
    for f in range(frames):
        v = 0.15 + 0.55 * (x + y + 3 * f) / (rows + cols + 6)
        v = v + 0.3 * ((x - cols / 2 - f) ** 2 + (y - rows / 2) ** 2 < (min(rows, cols) / 3) ** 2)
        v = v + rng.normal(0, 0.02, v.shape)
        out.append(lo + np.clip(v, 0, 1) * (hi - lo))
    out = np.rint(np.stack(out)).astype(np.int64)
    out.flat[0], out.flat[-1] = lo, hi  # the full range, for the sign and the masks
    return out


def digits(n=120, side=7):
    """The first n MNIST test digits shrunk to side x side as the demo's PNGs
    are (area means of 28/side square blocks, rounded), uint8 [n, side, side]."""
    raw = D.read_idx(os.path.join(D.mnist_dir(), "t10k-images-idx3-ubyte.gz"))[:n].astype(np.float64)
    k = 28 // side
    return np.floor(raw.reshape(n, side, k, side, k).mean(axis=(2, 4)) + 0.5).astype(np.uint8)


def colour(frames, rows, cols, seed):
    return np.stack([grey(frames, rows, cols, 0, 255, seed + c) for c in range(3)], axis=-1)


def source(path, name, arr, photometric, bits, stored=None, signed=False, planar=0, **attrs):
    """Writes arr [frames, rows, cols(, samples)] (the stored values) as a
    native Explicit VR Little Endian file; returns the dataset."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CT if "RescaleIntercept" in attrs else SC
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=["didicm-corpus", name])
    meta.TransferSyntaxUID = TS["explicit"]
    ds = FileDataset(path, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid(entropy_srcs=["didicm-corpus", "study"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=["didicm-corpus", "series", name])
    ds.Modality = "CT" if meta.MediaStorageSOPClassUID == CT else "OT"
    ds.PatientName, ds.PatientID, ds.ImageType = "CORPUS^TEST", "didicm-corpus", ["ORIGINAL", "PRIMARY"]
    samples = arr.shape[3] if arr.ndim == 4 else 1
    ds.SamplesPerPixel, ds.PhotometricInterpretation = samples, photometric
    if samples > 1:
        ds.PlanarConfiguration = planar
    if arr.shape[0] > 1:
        ds.NumberOfFrames = arr.shape[0]
    ds.Rows, ds.Columns = arr.shape[1:3]
    ds.BitsAllocated, ds.BitsStored = bits, stored or bits
    ds.HighBit, ds.PixelRepresentation = ds.BitsStored - 1, int(signed)
    for k, v in attrs.items():
        setattr(ds, k, v)
    ds.PixelData = pack(arr, bits, signed, planar)
    ds["PixelData"].VR = "OB" if bits <= 8 else "OW"
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(path, write_like_original=False)
    return ds


def pack(arr, bits, signed, planar):
    if bits == 1:
        return np.packbits(arr.ravel().astype(np.uint8), bitorder="little").tobytes()
    if planar and arr.ndim == 4:
        arr = arr.transpose(0, 3, 1, 2)
    dtype = {8: "u1", 16: "<u2", 32: "<u4"}[bits]
    return (arr.astype(dtype.replace("u", "i")) if signed else arr).astype(dtype).tobytes()


def sources(tmp):
    """The pixel variants, written to tmp: name -> {"path", "modality": what
    a reader must produce, float [f, r, c, s]: grey in modality units, colour
    as RGB (palette: the indices)}."""
    out = {}

    def add(name, arr, photometric, bits, want=None, **kw):
        path = os.path.join(tmp, name)
        ds = source(path, name, arr, photometric, bits, **kw)
        want = arr if want is None else want
        want = want.astype(np.float64) * float(ds.get("RescaleSlope", 1)) + float(ds.get("RescaleIntercept", 0))
        out[name] = {"path": path, "modality": want if want.ndim == 4 else want[..., None]}
        return ds

    add("gray8", grey(1, 33, 41, 0, 255, 1), "MONOCHROME2", 8)  # odd length: padded
    add("gray12", grey(1, 40, 33, 0, 4095, 2), "MONOCHROME2", 16, stored=12, RescaleSlope=0.5,
        RescaleIntercept=10, WindowCenter=[1000, 500], WindowWidth=[1500, 800])
    add("gray16", grey(1, 29, 36, 0, 65535, 3), "MONOCHROME2", 16)
    add("ct16", grey(1, 33, 40, -2000, 3000, 4), "MONOCHROME2", 16, signed=True, RescaleSlope=1,
        RescaleIntercept=-1024, WindowCenter=40, WindowWidth=400)
    add("ct12", grey(1, 40, 33, -2048, 2047, 5), "MONOCHROME2", 16, stored=12, signed=True, RescaleSlope=1,
        RescaleIntercept=-1024)
    add("mono1", grey(1, 24, 31, 0, 4095, 6), "MONOCHROME1", 16, stored=12)
    add("gray32", grey(1, 17, 20, 0, 2 ** 32 - 1, 7), "MONOCHROME2", 32)
    add("gray32s", grey(1, 20, 17, -2 ** 31, 2 ** 31 - 1, 8), "MONOCHROME2", 32, signed=True)
    add("mask1", (grey(1, 33, 40, 0, 1, 9) > 0).astype(np.int64), "MONOCHROME2", 1)
    add("rgb", colour(1, 33, 40, 10), "RGB", 8)
    add("rgbp", colour(1, 40, 33, 13), "RGB", 8, planar=1)
    ybr = convert_color_space(colour(1, 32, 40, 16).astype(np.uint8), "RGB", "YBR_FULL")
    add("ybr", ybr, "YBR_FULL", 8, want=convert_color_space(ybr, "YBR_FULL", "RGB"))
    add("palette", grey(1, 33, 40, 0, 255, 19), "PALETTE COLOR", 8, **palette_lut())
    add("mf8", grey(3, 27, 32, 0, 255, 20), "MONOCHROME2", 8)
    add("mf16", grey(3, 32, 27, 0, 65535, 21), "MONOCHROME2", 16)
    add("mfct", grey(3, 24, 30, -1024, 2000, 22), "MONOCHROME2", 16, signed=True, RescaleSlope=1,
        RescaleIntercept=-1024)
    add("mfrgb", colour(3, 24, 30, 23), "RGB", 8)
    # YBR_FULL_422 native (pydicom does not subsample): Y1 Y2 Cb Cr, the chroma of each pair averaged.
    ybr = convert_color_space(colour(1, 32, 40, 26).astype(np.uint8), "RGB", "YBR_FULL").astype(np.int64)
    pairs = ybr.reshape(1, 32, 20, 2, 3)
    chroma = (pairs[..., 1:].sum(axis=3) + 1) // 2
    full = np.concatenate([pairs[..., :1], np.repeat(chroma[..., None, :], 2, axis=3)], axis=-1).reshape(ybr.shape)
    ds = add("ybr422", full, "YBR_FULL_422", 8, want=convert_color_space(full.astype(np.uint8), "YBR_FULL", "RGB"))
    ds.PixelData = np.concatenate([pairs[..., 0], chroma], axis=-1).astype(np.uint8).tobytes()
    ds.save_as(out["ybr422"]["path"], write_like_original=False)
    # Garbage in the unused high bits of a 12-bit image (overlay-era files): readers must mask.
    clean = grey(1, 40, 33, 0, 4095, 27)
    noise = np.random.default_rng(28).integers(0, 16, clean.shape) << 12
    add("dirty12", clean | noise, "MONOCHROME2", 16, want=clean, stored=12)
    add("digits", digits().astype(np.int64), "MONOCHROME2", 8)
    return out


def palette_lut():
    """256-entry 16-bit palette LUTs: a rainbow-ish map."""
    i = np.arange(256) / 255
    lut = {c: np.rint(65535 * np.clip(f, 0, 1)).astype("<u2") for c, f in
           [("Red", 1.5 - abs(4 * i - 3)), ("Green", 1.5 - abs(4 * i - 2)), ("Blue", 1.5 - abs(4 * i - 1))]}
    attrs = {}
    for c, v in lut.items():
        attrs[f"{c}PaletteColorLookupTableDescriptor"] = [256, 0, 16]
        attrs[f"{c}PaletteColorLookupTableData"] = v.tobytes()
    return attrs


# (source, syntax, tool command before "in out"); the name is source-syntax[-variant].
# Left out, the tools disagreeing: Explicit VR Big Endian of 32-bit samples
# (dcmtk swaps 16-bit OW words, pydicom reads 32-bit big-endian values);
# gdcmconv -J -Y of 12-bit data (SOF1 with precision 16, dcmtk refuses it)
# and of RGB (YCbCr-coded JPEG labelled RGB); gdcmconv --j2k of 32-bit data
# (precision 32, OpenJPEG decodes up to 31).
PLAN = [
    *[(s, "explicit", None) for s in ("gray8", "gray12", "gray16", "ct16", "ct12", "mono1", "gray32", "gray32s",
                                     "mask1", "rgb", "rgbp", "ybr", "ybr422", "palette", "mf8", "mf16", "mfct",
                                     "mfrgb", "dirty12")],
    *[(s, "implicit", ["dcmconv", "+ti"]) for s in ("gray8", "ct16", "mask1", "rgbp", "palette")],
    *[(s, "deflated", ["dcmconv", "+td"]) for s in ("gray12", "rgb", "mf16", "mask1", "palette")],
    ("ct16", "deflated-gdcm", ["gdcmconv", "--deflated"]),
    *[(s, "big", ["dcmconv", "+tb"]) for s in ("gray8", "gray12", "ct16", "mask1", "rgb", "palette", "mf16")],
    *[(s, "rle", ["dcmcrle"]) for s in ("gray12", "ct16", "mono1", "gray32", "rgb", "rgbp", "ybr", "mf16", "mfrgb")],
    *[(s, "rle-gdcm", ["gdcmconv", "--rle"]) for s in ("ct12", "gray32s", "palette")],
    ("gray8", "baseline", ["dcmcjpeg", "+eb", "+un"]),
    ("mf8", "baseline", ["dcmcjpeg", "+eb", "+un"]),
    ("rgb", "baseline-422", ["dcmcjpeg", "+eb", "+un"]),
    ("rgb", "baseline-444", ["dcmcjpeg", "+eb", "+s4", "+un"]),
    ("rgb", "baseline-rgb", ["dcmcjpeg", "+eb", "+cr", "+un"]),
    ("gray8", "baseline-gdcm", ["gdcmconv", "-J", "-Y"]),
    ("gray12", "extended", ["dcmcjpeg", "+ee", "+un"]),
    *[(s, "lossless", ["dcmcjpeg", "+el"]) for s in ("ct16", "rgb", "mf16")],
    *[(s, "sv1", ["dcmcjpeg", "+e1"]) for s in ("gray8", "gray12", "ct12", "mono1", "rgbp", "ybr", "mfct")],
    ("gray16", "sv1-gdcm", ["gdcmconv", "-J"]),
    *[(s, "jpegls", ["dcmcjpls"]) for s in ("gray8", "gray12", "gray16", "ct16", "ct12", "palette", "mf16")],
    *[("rgb", f"jpegls-{m}", ["dcmcjpls", f"+i{m[0]}"]) for m in ("line", "sample", "none")],
    ("ct16", "jpegls-gdcm", ["gdcmconv", "-L"]),
    *[(s, "j2k", ["gdcmconv", "--j2k"]) for s in ("gray8", "gray12", "ct16", "ct12", "mono1", "rgb", "mfct")],
    # The demo's 7x7 digits (one a frame) in every lossless syntax but JPEG
    # 2000 (gdcmconv --j2k crashes on frames under 9x9: OpenJPEG): each frame
    # must classify exactly as its PNG in digits/ (imaging/dicom/digits_test.go).
    ("digits", "explicit", None), ("digits", "implicit", ["dcmconv", "+ti"]),
    ("digits", "deflated", ["dcmconv", "+td"]), ("digits", "big", ["dcmconv", "+tb"]), ("digits", "rle", ["dcmcrle"]),
    ("digits", "lossless", ["dcmcjpeg", "+el"]), ("digits", "sv1", ["dcmcjpeg", "+e1"]),
    ("digits", "jpegls", ["dcmcjpls"]),
]


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip() or r.stdout.strip()}")


def decode(path):
    """Stored values of a file as read by pydicom (GDCM for compressed
    syntaxes), int64 [frames, rows, cols, samples], masked to BitsStored and
    sign-extended; YBR converted to RGB."""
    ds = pydicom.dcmread(path)
    arr = ds.pixel_array
    f, r, c, s = int(ds.get("NumberOfFrames", 1) or 1), ds.Rows, ds.Columns, ds.SamplesPerPixel
    arr = arr.reshape(f, r, c, s)
    if str(ds.PhotometricInterpretation) in ("YBR_FULL", "YBR_FULL_422"):
        arr = convert_color_space(arr, ds.PhotometricInterpretation, "RGB", per_frame=True)
    arr = arr.astype(np.int64)
    if ds.BitsStored < ds.BitsAllocated and ds.BitsAllocated > 1:
        arr = (arr >> (ds.HighBit + 1 - ds.BitsStored)) & ((1 << ds.BitsStored) - 1)
        if ds.PixelRepresentation:
            arr = np.where(arr >= 1 << (ds.BitsStored - 1), arr - (1 << ds.BitsStored), arr)
    return arr


def rendered(path, tmp):
    """8-bit RGB as dcmtk's dcm2pnm renders a colour file (its own YBR conversion)."""
    from PIL import Image

    out = os.path.join(tmp, "render.ppm")
    run(["dcm2pnm", "--write-raw-pnm", path, out])
    with Image.open(out) as im:
        return np.asarray(im.convert("RGB")).astype(np.int64)[None]


def build(out, tmp):
    src = sources(tmp)
    entries, notes = [], []
    for name in ("files", "ref", "inputs", "digits"):
        os.makedirs(os.path.join(out, name), exist_ok=True)
    for i, d in enumerate(digits()):
        Image.fromarray(d, "L").save(os.path.join(out, "digits", f"{i:03d}.png"))
    for base, variant, cmd in PLAN:
        name = f"{base}-{variant}"
        path = os.path.join(out, "files", name)
        try:
            run(cmd + [src[base]["path"], path]) if cmd else shutil.copyfile(src[base]["path"], path)
        except RuntimeError as err:
            notes.append(f"{name}: not produced: {err}")
            continue
        e = entry(name, path, src[base], cmd, tmp)
        if e.pop("drop", False):
            notes.append(f"{name}: left out: {e['note']}")
            os.remove(path)
            continue
        entries.append(e)
    entries += malformed(out)
    with open(os.path.join(out, "corpus.json"), "w") as f:
        json.dump(entries, f, indent=1)
    return entries, notes


def entry(name, path, src, cmd, tmp):
    """The manifest entry of a file: decoded with pydicom (+GDCM), compared
    with a second decoder (dcmtk; gdcm for JPEG 2000; dcm2pnm's colour
    conversion for native YBR) and with the source in modality units. Writes
    ref/ (and inputs/ for grey files)."""
    out = os.path.dirname(os.path.dirname(path))
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    ts = str(ds.file_meta.TransferSyntaxUID)
    e = {"file": f"files/{name}", "transfer_syntax": ts, "photometric": str(ds.PhotometricInterpretation),
         "rows": ds.Rows, "columns": ds.Columns, "frames": int(ds.get("NumberOfFrames", 1) or 1),
         "samples": ds.SamplesPerPixel, "bits_allocated": ds.BitsAllocated, "bits_stored": ds.BitsStored,
         "signed": bool(ds.PixelRepresentation), "planar": int(ds.get("PlanarConfiguration", 0)),
         "lossless": ts not in LOSSY,
         "rescale": [float(ds.get("RescaleSlope", 1)), float(ds.get("RescaleIntercept", 0))],
         "producer": " ".join(cmd) if cmd else f"pydicom {pydicom.__version__}", "malformed": False}
    converted = e["photometric"] in ("YBR_FULL", "YBR_FULL_422")
    e["reference"] = "rgb_converted" if converted else "stored"
    e["reference_tool"] = f"pydicom {pydicom.__version__}" + (
        "" if ts in NATIVE else f" + GDCM {gdcm.Version.GetVersion()}") + (
        ", YBR_FULL to RGB by pydicom convert_color_space" if converted else "")
    ref, alt = None, {}
    try:
        ref = decode(path)
    except Exception as err:  # pydicom and GDCM raise many types; the decompressor below decides
        e["note"] = f"pydicom could not decode it ({type(err).__name__}: {err})"
    if ts in UNDO:
        try:
            run(UNDO[ts] + [path, os.path.join(tmp, "native")])
        except RuntimeError as err:
            return {**e, "drop": True, "note": f"the cross-check decoder failed: {err}"}
        alt[UNDO[ts][0]] = decode(os.path.join(tmp, "native"))
        if ref is None:
            ref, e["reference_tool"] = alt[UNDO[ts][0]], f"{' '.join(UNDO[ts])} + pydicom {pydicom.__version__}"
    if converted and ts in NATIVE:
        alt["dcm2pnm"] = rendered(path, tmp)
    if ref is None:
        return {**e, "drop": True, "note": "no reader could decode it"}
    diff = {f"vs_{k}": int(np.abs(ref - v).max()) if v.shape == ref.shape else -1 for k, v in alt.items()}
    slope, icpt = e["rescale"] if e["samples"] == 1 else (1, 0)
    diff["vs_source"] = round(float(np.abs(ref * slope + icpt - src["modality"]).max()), 3)
    e["measured"] = diff
    if e["lossless"] and any(diff.values()) and not converted:
        return {**e, "drop": True, "note": f"lossless but the decodes differ: {diff}"}
    e["tolerance"] = 0 if e["lossless"] and not converted else max(
        [tolerance_floor(e)] + [v for k, v in diff.items() if k != "vs_source"])
    np.save(os.path.join(out, "ref", name + ".npy"), ref.astype(np.int64 if ref.max() >= 1 << 31 else np.int32))
    if e["photometric"] == "PALETTE COLOR":
        # pydicom 2.3 reads a big-endian file's lookup tables with their bytes
        # swapped (dcmdump shows the file's values): take them from a little-endian copy.
        lut_source = path
        if ts == "1.2.840.10008.1.2.2":
            lut_source = os.path.join(tmp, "lut-le")
            subprocess.run(["dcmconv", "+te", path, lut_source], check=True, capture_output=True)
        lut = apply_color_lut(ref[..., 0].astype(np.uint16), pydicom.dcmread(lut_source))
        np.save(os.path.join(out, "ref", name + ".rgb.npy"), lut.astype(np.int32))
        e["lut_reference"] = f"ref/{name}.rgb.npy"
    elif e["samples"] == 1:
        for kind, suffix, key in (("minmax", "", "input"), ("bits", ".bits", "input_bits")):
            x = np.stack([t.numpy() for t in read_dicom(path, 32, 1, {"kind": kind})])
            np.save(os.path.join(out, "inputs", name + suffix + ".npy"), x.astype(np.float32))
            e[key] = f"inputs/{name}{suffix}.npy"
    return e


def tolerance_floor(e):
    """The least tolerance of a lossy or colour-converted file, whatever the
    two decoders here measured: YBR to RGB rounding is 1 between
    implementations, a JPEG IDCT 2 more, and chroma upsampling of 4:2:2 (libjpeg
    interpolates, Go's image/jpeg replicates) 2 more again."""
    return 1 + 2 * (not e["lossless"]) + 2 * (not e["lossless"] and e["photometric"] == "YBR_FULL_422")


def elements(data, implicit=False):
    """Top-level elements of a Part 10 file up to PixelData: tag -> (header
    offset, length-field offset, length-field size, value offset, length)."""
    pos, out = 132, {}
    long_vrs = (b"OB", b"OW", b"OF", b"OD", b"OL", b"SQ", b"UT", b"UN", b"UC", b"UR", b"OV", b"SV", b"UV")
    while pos < len(data):
        group, elem = np.frombuffer(data[pos:pos + 4], "<u2")
        tag = (int(group) << 16) | int(elem)
        if implicit and group != 2:
            lpos, lsize = pos + 4, 4
        elif data[pos + 4:pos + 6] in long_vrs:
            lpos, lsize = pos + 8, 4
        else:
            lpos, lsize = pos + 6, 2
        length = int.from_bytes(data[lpos:lpos + lsize], "little")
        out[tag] = (pos, lpos, lsize, lpos + lsize, length)
        if tag == 0x7FE00010:
            break
        pos = lpos + lsize + length
    return out


def malformed(out):
    """Byte-edited copies of valid files that readers must refuse."""
    def read(name):
        with open(os.path.join(out, "files", name), "rb") as f:
            return bytearray(f.read())

    def put(data, off, size, value):
        data[off:off + size] = value.to_bytes(size, "little")
        return data

    cases = []
    ct = read("ct16-explicit")
    cases.append(("ct16-truncated", "ct16-explicit", "truncated", ct[:len(ct) - 700],
                  "file cut 700 bytes into the pixel data"))
    el = elements(ct)[0x7FE00010]
    cases.append(("ct16-short-pixels", "ct16-explicit", "truncated",
                  put(bytearray(ct[:el[3] + el[4] // 2]), el[1], 4, el[4] // 2),
                  "PixelData holds half of rows x columns, its length consistent with the file"))
    pos = min(v[0] for k, v in elements(ct).items() if k > 0x00081140)
    seq = (b"\x08\x00\x40\x11SQ\x00\x00\xff\xff\xff\xff" + b"\xfe\xff\x00\xe0\xff\xff\xff\xff" +
           b"\x08\x00\x50\x11UI\x04\x001.2\x00")
    cases.append(("ct16-unterminated-sequence", "ct16-explicit", "unterminated_sequence", ct[:pos] + seq + ct[pos:],
                  "undefined-length sequence (0008,1140) and item, no delimiters: the rest of the file nests in it"))
    imp = read("gray8-implicit")
    el = elements(imp, implicit=True)[0x00100010]
    cases.append(("gray8-bad-length", "gray8-implicit", "bad_length", put(imp, el[1], 4, 0x00FFFF00),
                  "PatientName's 4-byte length points past the end"))
    rle = read("mf16-rle")
    bot = elements(rle)[0x7FE00010][3]  # the Basic Offset Table item: tag, length, offsets
    cases.append(("mf16-rle-bad-offset-table", "mf16-rle", "bad_offset_table",
                  put(bytearray(rle), bot + 12, 4, 0x00FFFF00),
                  "second frame offset points past the end (pydicom ignores the table and decodes all frames)"))
    first = bot + 8 + int.from_bytes(rle[bot + 4:bot + 8], "little")
    cases.append(("mf16-rle-bad-fragment-length", "mf16-rle", "bad_length",
                  put(bytearray(rle), first + 4, 4, 0x00FFFF00), "first fragment's length points past the end"))
    entries = []
    for name, base, expect, data, note in cases:
        with open(os.path.join(out, "files", name), "wb") as f:
            f.write(data)
        entries.append({"file": f"files/{name}", "malformed": True, "expect": expect, "derived_from": f"files/{base}",
                        "note": note})
    return entries


def main(out):
    gdcm.Trace.WarningOff()  # its 12-bit JPEG fallback warns; libjpeg still prints one line for it
    with tempfile.TemporaryDirectory() as tmp:
        entries, notes = build(out, tmp)
    for n in notes:
        print(n)
    valid = [e for e in entries if not e["malformed"]]
    kb = sum(os.path.getsize(os.path.join(out, e["file"])) for e in entries) / 1024
    print(f"{len(entries)} files ({len(valid)} valid, {len(entries) - len(valid)} malformed), {kb:.0f} KB")


if __name__ == "__main__":
    main(sys.argv[1])
