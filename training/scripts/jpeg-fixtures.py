"""Writes the JPEG fixtures of imaging/ (small files, committed):
progressive, CMYK and greyscale JPEGs made by Pillow, and a photo-like JPEG
with Pillow's draft() decode of it for a 64x64 model input (raw RGB bytes),
which the Go decoder must reproduce. Usage: jpeg-fixtures.py OUTDIR"""
import json
import os
import sys

import numpy as np
from PIL import Image, ImageDraw


def photo(w, h, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([120 + 80 * np.sin(x / w * 3 + c) * np.cos(y / h * 2 - c) for c in range(3)], axis=-1)
    base += rng.normal(0, 4, base.shape)
    im = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(im)
    for _ in range(6):
        x0, y0 = int(rng.integers(0, w - 20)), int(rng.integers(0, h - 20))
        d.rectangle([x0, y0, x0 + int(rng.integers(10, w // 3)), y0 + int(rng.integers(10, h // 3))],
                    fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    return im


def main(out):
    os.makedirs(out, exist_ok=True)
    im = photo(120, 90, 1)
    im.save(os.path.join(out, "progressive.jpg"), quality=90, progressive=True)
    im.convert("CMYK").save(os.path.join(out, "cmyk.jpg"), quality=90)
    im.convert("L").save(os.path.join(out, "gray.jpg"), quality=90)
    src = os.path.join(out, "draft.jpg")
    photo(400, 300, 2).save(src, quality=90)
    with Image.open(src) as d:
        d.draft("RGB", (64, 64))
        rgb = d.convert("RGB")
        with open(os.path.join(out, "draft-pillow.rgb"), "wb") as f:
            f.write(np.asarray(rgb).tobytes())
        with open(os.path.join(out, "draft-pillow.json"), "w") as f:
            json.dump({"width": rgb.size[0], "height": rgb.size[1], "model": 64}, f)
    print(f"wrote fixtures to {out}")


if __name__ == "__main__":
    main(sys.argv[1])
