"""ONNX export with the contract the Go side relies on, and the parity fixture.

Score model: inputs image float32 [B,C,H,W] (normalised), label int64 [B],
sigma float32 [B]; output log_score float32 [B,K] (entry at label is 0).
Classifier: input image; output logits [B,K]. Batch axis dynamic.
metadata_props under "didicm.": see METADATA_KEYS and docs/model-format.md.
"""
import json
import os

import onnx
import torch

from . import samplers
from .diffusion import EPS

FORMAT_VERSION = "1"
OPSET = 17
METADATA_KEYS = (
    "format_version", "kind", "layout", "num_classes", "class_names", "input_channels", "input_height",
    "input_width", "color_mode", "norm_mean", "norm_std", "schedule", "schedule_eps", "degradation",
    "data_fraction", "training",
)
# Optional keys: written when set (score models: the sampler's advice on T;
# intensity: the DICOM intensity transform the model was trained with, JSON).
OPTIONAL_KEYS = ("recommended_steps", "min_steps", "intensity")


def metadata(kind, layout, classes, shape, mean, std, resolution, fraction, training):
    c, h, w = shape
    return {
        "format_version": FORMAT_VERSION, "kind": kind, "layout": layout, "num_classes": str(len(classes)),
        "class_names": json.dumps(list(classes)), "input_channels": str(c), "input_height": str(h),
        "input_width": str(w), "color_mode": "gray" if c == 1 else "rgb", "norm_mean": json.dumps(list(mean)),
        "norm_std": json.dumps(list(std)), "schedule": "loglinear", "schedule_eps": repr(EPS),
        "degradation": json.dumps({"kind": "lowres", "resolution": resolution} if resolution < h else {"kind": "none"}),
        "data_fraction": repr(fraction), "training": json.dumps(training, sort_keys=True),
    }


def export(model, kind, path, meta):
    """Writes model to path as ONNX with meta (keys without prefix) as metadata_props."""
    model = model.eval().cpu()
    c, h, w = int(meta["input_channels"]), int(meta["input_height"]), int(meta["input_width"])
    image = torch.zeros(2, c, h, w)
    if kind == "score":
        args = (image, torch.tensor([0, 1]), torch.tensor([1.0, 0.5]))
        names, out, axes = ["image", "label", "sigma"], ["log_score"], {
            "image": {0: "batch"}, "label": {0: "batch"}, "sigma": {0: "batch"}, "log_score": {0: "batch"}}
    else:
        args = (image,)
        names, out, axes = ["image"], ["logits"], {"image": {0: "batch"}, "logits": {0: "batch"}}
    tmp = path + ".tmp"
    torch.onnx.export(model, args, tmp, input_names=names, output_names=out, dynamic_axes=axes,
                      opset_version=OPSET, do_constant_folding=True)
    m = onnx.load(tmp)
    del m.metadata_props[:]
    for key in METADATA_KEYS + tuple(k for k in OPTIONAL_KEYS if meta.get(k)):
        p = m.metadata_props.add()
        p.key, p.value = "didicm." + key, str(meta[key])
    onnx.checker.check_model(m)
    onnx.save(m, path)
    os.remove(tmp)


@torch.no_grad()
def parity(model, kind, images, k, steps=(1, 2, 4), seed=0, clamp=samplers.DEFAULT_CLAMP):
    """Parity fixture: direct model calls on random labels and sigmas, and for
    score models the CP posterior for each T (with clamp) with every call it made."""
    g = torch.Generator().manual_seed(seed)
    b = images.shape[0]
    fx = {"format_version": FORMAT_VERSION, "kind": kind, "num_classes": k,
          "shape": list(images.shape[1:]), "images": images.reshape(b, -1).tolist()}
    if kind == "classifier":
        fx["logits"] = model(images).tolist()
        return fx
    labels = torch.randint(0, k, (b,), generator=g)
    sig = torch.rand(b, generator=g) * 7
    fx["calls"] = [{"label": labels.tolist(), "sigma": sig.tolist(), "log_score": model(images, labels, sig).tolist()}]
    fx["cp"] = []
    for t in steps:
        trace = []
        post = samplers.cp(samplers.model_scorer(model), images, k, t, trace=trace, clamp=clamp)
        fx["cp"].append({"steps": t, "clamp": clamp, "posterior": post.tolist(), "trace": trace})
    return fx


def write_parity(fx, path):
    with open(path, "w") as f:
        json.dump(fx, f, separators=(",", ":"))
