"""Writes photo-like 1920x1080 RGB JPEG frames (quality 90) for the W2 benchmark.

Each frame: a smooth colour field, hard-edged objects in contrasting colours,
then sensor-like Gaussian noise; deterministic from --seed and the frame index.
Usage: w2-frames.py OUTDIR [N] [--seed S]
"""
import argparse
import os
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

W, H = 1920, 1080
QUALITY = 90


def smooth(rng, gh, gw, channels, amp):
    """A random gh x gw grid upsampled to the frame: bicubic to 1/8 size, a
    blur of half a cell (no visible grid), bicubic to full size.
    [H, W, channels] in about [-amp, amp]."""
    grid = rng.integers(0, 256, (gh, gw, channels), dtype=np.uint8)
    im = Image.fromarray(grid if channels == 3 else grid[:, :, 0]).resize((W // 8, H // 8), Image.BICUBIC)
    im = im.filter(ImageFilter.GaussianBlur(W / 8 / gw / 2)).resize((W, H), Image.BICUBIC)
    return (np.asarray(im, dtype=np.float32).reshape(H, W, channels) / 127.5 - 1) * amp


def field(rng):
    """Low-frequency colour field: a base colour, coarse colour blobs, a finer
    brightness texture and a colour ramp."""
    base = rng.uniform(60, 200, 3).astype(np.float32)
    ramp = np.linspace(-1, 1, W, dtype=np.float32)[:, None] * rng.uniform(-40, 40, 3).astype(np.float32)
    return base + ramp + smooth(rng, rng.integers(3, 7), rng.integers(4, 10), 3, 70) + smooth(rng, 27, 48, 1, 40)


def objects(im, rng):
    """Draws filled rectangles, ellipses and polygons, each in a colour about
    128 levels per channel away from the frame's colour at its centre."""
    d = ImageDraw.Draw(im)
    for _ in range(rng.integers(6, 14)):
        x, y = rng.integers(-100, W), rng.integers(-100, H)
        w, h = rng.integers(60, 600), rng.integers(60, 500)
        under = np.array(im.getpixel((int(np.clip(x + w // 2, 0, W - 1)), int(np.clip(y + h // 2, 0, H - 1)))))
        fill = tuple(int(v) for v in np.clip((under + 128) % 256 + rng.integers(-30, 31, 3), 0, 255))
        kind = rng.integers(3)
        if kind == 0:
            d.rectangle((x, y, x + w, y + h), fill=fill)
        elif kind == 1:
            d.ellipse((x, y, x + w, y + h), fill=fill)
        else:
            n = rng.integers(3, 8)
            ang = np.sort(rng.uniform(0, 2 * np.pi, n))
            r = rng.uniform(0.4, 1.0, n)
            d.polygon([(float(x + w / 2 * (1 + ri * np.cos(a))), float(y + h / 2 * (1 + ri * np.sin(a))))
                       for a, ri in zip(ang, r)], fill=fill)


def frame(seed, i):
    rng = np.random.default_rng([seed, i])
    im = Image.fromarray(np.clip(field(rng), 0, 255).astype(np.uint8))
    objects(im, rng)
    noise = rng.standard_normal((H, W, 3), dtype=np.float32) * rng.uniform(4, 6)
    return Image.fromarray(np.clip(np.asarray(im, dtype=np.float32) + noise, 0, 255).astype(np.uint8))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("n", type=int, nargs="?", default=64)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    start, total = time.perf_counter(), 0
    for i in range(a.n):
        path = os.path.join(a.out, f"frame-{i:04d}.jpg")
        frame(a.seed, i).save(path + ".tmp", format="JPEG", quality=QUALITY)
        os.replace(path + ".tmp", path)
        total += os.path.getsize(path)
    secs = time.perf_counter() - start
    print(f"wrote {a.n} frames to {a.out}: mean {total / a.n / 1024:.0f} KiB, {secs / a.n:.2f} s/frame")


if __name__ == "__main__":
    main()
