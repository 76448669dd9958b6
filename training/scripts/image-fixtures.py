"""Writes Go test fixtures for imaging/: resize golden values from PyTorch,
a WebP file and an EXIF-rotated JPEG (PIL). Usage: image-fixtures.py OUTDIR"""
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from didicm_train.data import resize  # noqa: E402


def main(out):
    os.makedirs(out, exist_ok=True)
    g = torch.Generator().manual_seed(3)
    cases = []
    for (h, w), (oh, ow) in [((6, 9), (4, 13)), ((7, 7), (28, 28)), ((28, 28), (7, 7)), ((5, 3), (5, 3)),
                             ((10, 7), (3, 3)), ((2, 3), (9, 4))]:
        x = torch.rand(1, 1, h, w, generator=g, dtype=torch.float64)
        y = resize(x, oh, ow)
        cases.append({"h": h, "w": w, "oh": oh, "ow": ow, "in": x.flatten().tolist(), "out": y.flatten().tolist()})
    with open(os.path.join(out, "resize.json"), "w") as f:
        json.dump(cases, f)
    arr = np.zeros((6, 10, 3), dtype=np.uint8)
    arr[:, :5] = [255, 0, 0]
    arr[:, 5:] = [0, 0, 255]
    Image.fromarray(arr).save(os.path.join(out, "halves.webp"), lossless=True)
    im = Image.fromarray(arr)  # 10 wide, 6 high; orientation 6 means "rotate 90 CW to display"
    exif = Image.Exif()
    exif[0x0112] = 6
    im.save(os.path.join(out, "rotated.jpg"), quality=95, exif=exif)


if __name__ == "__main__":
    main(sys.argv[1])
