"""PyTorch reference for the W2 benchmark: the same random-weight score model
(state_dict from `didicm_train random --state`) classifies the first N JPEG
frames of a folder with the rank-one CP sampler, in micro-batches of 16.

Each frame is read as the Go pipeline does (JPEG draft, EXIF orientation),
resized to size x size and normalised with mean 0.5, std 0.25. Prints one
line of JSON with the wall time, split into decoding and the model (CP).
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from didicm_train import data as D  # noqa: E402
from didicm_train import samplers  # noqa: E402
from didicm_train.model import build  # noqa: E402

BATCH = 16


def load(path, size, channels):
    """One frame as [1, C, size, size] in [0, 1]."""
    return D.resize(torch.from_numpy(D.read_image(path, size, channels))[None], size, size)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--state", required=True, help="state_dict of the score model (.pt)")
    p.add_argument("--layout", default="resnet18")
    p.add_argument("--k", type=int, default=1000)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--channels", type=int, choices=[1, 3], default=3)
    p.add_argument("--frames", required=True, help="folder of JPEG frames (w2-frames.py)")
    p.add_argument("--steps", type=int, default=4, help="CP steps T")
    p.add_argument("--images", type=int, default=32)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    model = build("score", a.layout, a.channels, a.k)
    model.load_state_dict(torch.load(a.state, map_location="cpu"))
    model.eval()
    scorer = samplers.model_scorer(model)
    files = sorted(f for f in os.listdir(a.frames) if f.lower().endswith((".jpg", ".jpeg")))[:a.images]
    if len(files) < a.images:
        raise SystemExit(f"{a.frames}: {len(files)} JPEG frames, want {a.images}")
    mean, std = [0.5] * a.channels, [0.25] * a.channels
    decode_s = model_s = 0.0
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(files), BATCH):
            t0 = time.perf_counter()
            x = D.normalise(torch.cat([load(os.path.join(a.frames, f), a.size, a.channels)
                                       for f in files[i:i + BATCH]]), mean, std)
            t1 = time.perf_counter()
            samplers.cp(scorer, x, a.k, a.steps)
            decode_s, model_s = decode_s + t1 - t0, model_s + time.perf_counter() - t1
    total = time.perf_counter() - start
    print(json.dumps({"images": len(files), "seconds": round(total, 3), "images_per_s": round(len(files) / total, 2),
                      "decode_s": round(decode_s, 3), "model_s": round(model_s, 3), "threads": a.threads,
                      "steps": a.steps, "k": a.k, "layout": a.layout}))


if __name__ == "__main__":
    main()
