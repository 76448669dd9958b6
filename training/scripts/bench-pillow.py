"""Pillow's side of scripts/bench-jpeg.sh: one core preprocessing JPEG
frames to a model input, with draft() (libjpeg-turbo's DCT scaling, as the
toolkit reads JPEGs) and with a full decode, both followed by the toolkit's
resize. Prints one JSON line per mode.
    bench-pillow.py FRAMES_DIR SIZE CHANNELS ROUNDS"""
import glob
import json
import os
import sys
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from didicm_train.data import resize  # noqa: E402


def preprocess(path, size, channels, draft):
    mode = "L" if channels == 1 else "RGB"
    with Image.open(path) as im:
        if draft:
            im.draft(mode, (size, size))
        a = np.asarray(im.convert(mode), dtype=np.float32) / 255.0
    a = a[None] if channels == 1 else a.transpose(2, 0, 1)
    return resize(torch.from_numpy(a.copy()).unsqueeze(0), size, size)[0]


def main(folder, size, channels, rounds):
    torch.set_num_threads(1)
    paths = sorted(glob.glob(os.path.join(folder, "*.jpg")))
    for draft in (True, False):
        best = 0.0
        for _ in range(rounds):
            t = time.perf_counter()
            for p in paths:
                preprocess(p, size, channels, draft)
            best = max(best, len(paths) / (time.perf_counter() - t))
        print(json.dumps({"decoder": "pillow-draft" if draft else "pillow-full", "size": size, "channels": channels,
                          "images": len(paths), "images_per_s": round(best, 1)}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
