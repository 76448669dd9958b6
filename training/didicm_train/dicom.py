"""DICOM files: detection by content, frames in modality units, and the
intensity transform to [0, 1] (stored in model metadata as didicm.intensity)
that the Go pipeline applies too.

Intensity transforms (JSON): {"kind": "bits"} (the stored value over its
bit depth, v / (2^BitsStored - 1), signed values shifted by
2^(BitsStored - 1) first, whatever the rescale: a grey DICOM reads as a PNG
of the same samples does; the default), {"kind": "window", "center": C,
"width": W} (DICOM's linear VOI function on rescaled values), {"kind":
"file_window"} (the file's first WindowCenter/WindowWidth, else minmax) and
{"kind": "minmax"} (per frame). Colour frames are divided by the largest
sample value whatever the kind; MONOCHROME1 is inverted after the transform.

A model records the transform in its metadata only when it was trained on
DICOM files or given one (train --intensity); a model without it reads grey
DICOM with bits, in the Go pipeline as here.
"""
import json

import numpy as np
import torch

from . import data as D

MAX_PIXEL_BYTES = 1 << 30
DEFAULT_INTENSITY = {"kind": "bits"}
# DICOM groups a bare dataset (no preamble) may start with, as read little- and big-endian.
BARE_GROUPS = (b"\x02\x00", b"\x08\x00", b"\x00\x08")


def is_dicom(path):
    """True for a Part 10 file (b"DICM" at offset 128), or a bare dataset
    (starting with a group 0002 or 0008 tag) that has PixelData."""
    try:
        with open(path, "rb") as f:
            head = f.read(132)
    except OSError:
        return False
    if head[128:132] == b"DICM":
        return True
    if len(head) < 8 or head[:2] not in BARE_GROUPS:
        return False
    import pydicom

    try:
        return "PixelData" in pydicom.dcmread(path, force=True, defer_size=256)
    except Exception:  # pydicom raises many types on arbitrary bytes
        return False


def parse_intensity(text):
    """The intensity transform from its JSON text, checked."""
    spec = json.loads(text) if isinstance(text, str) else dict(text)
    kind = spec.get("kind")
    if kind == "window":
        if not all(isinstance(spec.get(k), (int, float)) for k in ("center", "width")) or spec["width"] < 1:
            raise ValueError(f"intensity {text}: a window needs a numeric center and a width >= 1")
    elif kind not in ("bits", "file_window", "minmax"):
        raise ValueError(f"intensity {text}: kind must be bits, window, file_window or minmax")
    return spec


def _dataset(path):
    import pydicom
    from pydicom import uid

    ds = pydicom.dcmread(path, force=True, defer_size=1024)
    if "PixelData" not in ds:
        raise ValueError("no PixelData")
    if "TransferSyntaxUID" not in ds.file_meta:  # a bare dataset: native pixels as read
        ds.file_meta.TransferSyntaxUID = (uid.ImplicitVRLittleEndian if ds.is_implicit_VR else
                                          uid.ExplicitVRLittleEndian if ds.is_little_endian else
                                          uid.ExplicitVRBigEndian)
    frames, samples = int(ds.get("NumberOfFrames", 1) or 1), int(ds.get("SamplesPerPixel", 1))
    size = int(ds.Rows) * int(ds.Columns) * frames * samples * int(ds.BitsAllocated) / 8
    if size > MAX_PIXEL_BYTES:
        raise ValueError(f"{ds.Rows}x{ds.Columns}x{frames}x{samples} samples of {ds.BitsAllocated} bits "
                         f"exceed the {MAX_PIXEL_BYTES >> 30} GiB limit")
    return ds, frames, samples


def _stored(arr, ds):
    """Keeps the BitsStored bits ending at HighBit, sign-extended if signed
    (pydicom 2 leaves whatever the unused high bits held)."""
    bits, stored = arr.dtype.itemsize * 8, int(ds.BitsStored)
    if arr.dtype.kind not in "iu" or stored >= bits:
        return arr
    high = int(ds.get("HighBit", stored - 1))
    u = arr.view(arr.dtype.str.replace("i", "u")) >> (high + 1 - stored)
    u = u & ((1 << stored) - 1)
    if ds.get("PixelRepresentation", 0) == 1:
        return (u << (bits - stored)).view(arr.dtype.str.replace("u", "i")) >> (bits - stored)
    return u


def _frames(path):
    """(frames, dataset): see read_frames."""
    from pydicom.pixel_data_handlers.util import apply_color_lut, convert_color_space

    try:
        ds, frames, samples = _dataset(path)
        arr = _stored(ds.pixel_array, ds)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from e
    except Exception as e:  # decoders raise many types on broken files
        raise ValueError(f"{path}: {type(e).__name__}: {e}") from e
    arr = arr.reshape((frames, int(ds.Rows), int(ds.Columns)) + ((samples,) if samples > 1 else ()))
    photometric = str(ds.PhotometricInterpretation).strip()
    if photometric == "PALETTE COLOR":
        return list(apply_color_lut(arr, ds).astype(np.float64)), ds
    if photometric in ("YBR_FULL", "YBR_FULL_422"):
        arr = convert_color_space(arr, photometric, "RGB")
    if samples > 1:
        return list(arr.astype(np.float64)), ds
    slope, intercept = _rescale(ds)
    return list(arr.astype(np.float64) * slope + intercept), ds


def _rescale(ds):
    return float(ds.get("RescaleSlope", 1) or 1), float(ds.get("RescaleIntercept", 0) or 0)


def bits_range(ds):
    """The modality values of the least and the greatest stored value that
    BitsStored bits hold (signed with PixelRepresentation 1): bits maps them
    to 0 and 1, which divides the stored value by its bit depth whatever the
    rescale."""
    bits = int(ds.get("BitsStored", ds.BitsAllocated))
    if ds.get("PixelRepresentation", 0) == 1:
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    else:
        lo, hi = 0, (1 << bits) - 1
    slope, intercept = _rescale(ds)
    return lo * slope + intercept, hi * slope + intercept


def _linear(frame, lo, hi):
    """lo to 0 and hi to 1, clipped; zeros when they are equal."""
    if hi == lo:
        return np.zeros_like(frame)
    return np.clip((frame - lo) / (hi - lo), 0, 1)


def read_frames(path):
    """The frames of a DICOM file as float64 arrays, H x W in modality units
    (stored x RescaleSlope + RescaleIntercept) or H x W x 3 RGB (YBR and
    palette colour converted)."""
    return _frames(path)[0]


def _first(value):
    from pydicom.multival import MultiValue

    return float(value[0] if isinstance(value, MultiValue) else value)


def window(x, center, width):
    """DICOM's linear VOI function to [0, 1] (a step at center - 0.5 when width is 1)."""
    if width <= 1:
        return (x > center - 0.5).astype(np.float64)
    return np.clip((x - (center - 0.5)) / (width - 1) + 0.5, 0, 1)


def to_unit(frame, ds, intensity):
    """One frame from read_frames as float32 in [0, 1] under the intensity
    transform; ds gives the file's window, bit depth and photometric."""
    photometric = str(ds.PhotometricInterpretation).strip()
    if frame.ndim == 3:
        bits = int(ds.RedPaletteColorLookupTableDescriptor[2]) if photometric == "PALETTE COLOR" else int(ds.BitsStored)
        return (frame / float((1 << bits) - 1)).astype(np.float32)
    kind = intensity["kind"]
    if kind == "file_window" and "WindowCenter" in ds and "WindowWidth" in ds:
        out = window(frame, _first(ds.WindowCenter), _first(ds.WindowWidth))
    elif kind == "window":
        out = window(frame, float(intensity["center"]), float(intensity["width"]))
    elif kind in ("minmax", "file_window"):
        out = _linear(frame, frame.min(), frame.max())
    else:
        out = _linear(frame, *bits_range(ds))
    if photometric == "MONOCHROME1":
        out = 1 - out
    return out.astype(np.float32)


def read_dicom(path, size, channels, intensity=None):
    """The frames of a DICOM file as float32 tensors [channels, size, size]
    in [0, 1]: to_unit, grey repeated to RGB or RGB to grey (0.299 R +
    0.587 G + 0.114 B), then data.resize."""
    intensity = intensity or DEFAULT_INTENSITY
    frames, ds = _frames(path)
    out = []
    for frame in frames:
        unit = to_unit(frame, ds, intensity)
        if unit.ndim == 2:
            chw = np.repeat(unit[None], channels, axis=0)
        elif channels == 1:
            chw = (0.299 * unit[..., 0] + 0.587 * unit[..., 1] + 0.114 * unit[..., 2])[None].astype(np.float32)
        else:
            chw = unit.transpose(2, 0, 1)
        out.append(D.resize(torch.from_numpy(np.ascontiguousarray(chw)).unsqueeze(0), size, size)[0])
    return out
