"""Command line: python3 -m didicm_train {train,evaluate,export,fixture,random} ...

Run from training/ (or with training/ on PYTHONPATH) with /usr/bin/python3.
"""
import argparse
import json
import os
import sys

import torch

from . import data as D
from . import dicom
from . import evaluate as E
from . import export as X
from . import samplers
from .model import GN_MIN_CHANNELS, build
from .train import load_dataset, train


def _save(path, model, cfg, classes, shape, summary):
    torch.save({"state": model.state_dict(), "cfg": cfg, "classes": classes, "shape": shape,
                "summary": summary}, path)


def _load(path):
    ck = torch.load(path, map_location="cpu")
    cfg = ck["cfg"]
    # Checkpoints from before gn_min_channels was recorded used one channel per group.
    model = build(cfg["kind"], cfg["layout"], ck["shape"][0], len(ck["classes"]), cfg.get("gn_min_channels", 1),
                  cfg.get("blind_stages", 0))
    model.load_state_dict(ck["state"])
    return model.eval(), ck


def cmd_train(a):
    mean, std = (a.mean or [D.MNIST_MEAN]), (a.std or [D.MNIST_STD])
    cfg = {"kind": a.kind, "layout": a.layout, "data": a.data, "resolution": a.resolution, "fraction": a.fraction,
           "steps": a.steps, "batch": a.batch, "lr": a.lr, "seed": a.seed, "shift": a.shift, "mean": mean, "std": std,
           "weight_decay": a.weight_decay, "intensity": a.intensity, "gn_min_channels": a.gn_min_channels}
    if a.blind_stages:
        cfg["blind_stages"] = a.blind_stages
    if a.native:
        cfg["native"] = True
    torch.set_num_threads(a.threads) if a.threads else None
    partial = a.out + ".partial"
    model, classes, shape, summary = train(cfg, log=lambda m: print(m, flush=True), checkpoint=partial,
                                           every=a.checkpoint_every)
    _save(a.out, model, cfg, classes, shape, summary)
    if os.path.exists(partial):
        os.remove(partial)
    print(json.dumps(summary))


def _test_set(ck, limit):
    cfg = ck["cfg"]
    ds = load_dataset(cfg["data"], "test", ck["shape"][1], ck["shape"][0], cfg.get("intensity"))
    if limit and limit < len(ds):
        ds = ds.subset(D.balanced_fraction(ds.labels, limit / len(ds), 1234))
    x = D.normalise(D.degrade(ds.images, cfg["resolution"], cfg.get("native", False)), cfg["mean"], cfg["std"])
    return x, ds.labels


def cmd_evaluate(a):
    torch.set_num_threads(a.threads) if a.threads else None
    rows = []
    if a.classifier:
        model, ck = _load(a.classifier)
        x, y = _test_set(ck, a.limit)
        rows.append(E.run("ce", model, x, y, len(ck["classes"]), batch=a.batch))
    if a.score:
        model, ck = _load(a.score)
        x, y = _test_set(ck, a.limit)
        k = len(ck["classes"])
        for t in a.cp_steps:
            rows.append(E.run("cp", model, x, y, k, steps=t, batch=a.batch, clamp=a.clamp,
                              readout=a.readout))
        if a.cl_chains > 0:
            rows.append(E.run("cl", model, x, y, k, steps=a.cl_steps, chains=a.cl_chains, batch=a.batch, seed=a.seed))
    md = E.table(rows)
    print(md)
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"rows": rows, "threads": torch.get_num_threads()}, f, indent=1)


def cmd_export(a):
    model, ck = _load(a.checkpoint)
    cfg = ck["cfg"]
    meta = X.metadata(cfg["kind"], cfg["layout"], ck["classes"], ck["shape"], cfg["mean"], cfg["std"],
                      cfg["resolution"], cfg["fraction"], {**ck["summary"], "cfg": cfg})
    if cfg["kind"] == "score":
        if a.min_steps and a.recommended_steps and a.min_steps > a.recommended_steps:
            raise SystemExit("--min-steps is above --recommended-steps")
        meta.update(recommended_steps=a.recommended_steps, min_steps=a.min_steps)
    if cfg.get("intensity"):
        meta["intensity"] = json.dumps(cfg["intensity"])
    X.export(model, cfg["kind"], a.out, meta)
    x, _ = _test_set(ck, 0)
    fx = X.parity(model, cfg["kind"], x[:a.parity_images], len(ck["classes"]))
    X.write_parity(fx, a.out.removesuffix(".onnx") + ".parity.json")
    print(f"wrote {a.out}")


def cmd_fixture(a):
    """A random-weight small score model with K classes, for Go tests."""
    torch.manual_seed(a.seed)
    model = build("score", "small", 1, a.k).eval()
    with torch.no_grad():  # make log-scores spread like a trained model's
        model.head.weight.mul_(a.gain)
    classes = [f"c{i}" for i in range(a.k)]
    meta = X.metadata("score", "small", classes, (1, 28, 28), [0.5], [0.25], 28, 1.0,
                      {"note": "random weights, test fixture", "seed": a.seed})
    X.export(model, "score", a.out, meta)
    g = torch.Generator().manual_seed(a.seed)
    x = torch.randn(a.parity_images, 1, 28, 28, generator=g)
    fx = X.parity(model, "score", x, a.k, steps=tuple(a.steps))
    X.write_parity(fx, a.out.removesuffix(".onnx") + ".parity.json")
    print(f"wrote {a.out}")


def cmd_random(a):
    """A random-weight model at full input size for benchmarks (W2), with its
    state_dict when --state is given so PyTorch can run the same weights."""
    torch.manual_seed(a.seed)
    model = build(a.kind, a.layout, a.channels, a.k).eval()
    classes = [f"c{i}" for i in range(a.k)]
    meta = X.metadata(a.kind, a.layout, classes, (a.channels, a.size, a.size), [0.5] * a.channels,
                      [0.25] * a.channels, a.size, 1.0, {"note": "random weights, W2 benchmark", "seed": a.seed})
    X.export(model, a.kind, a.out, meta)
    if a.state:
        torch.save(model.state_dict(), a.state)
    print(f"wrote {a.out}" + (f" and {a.state}" if a.state else ""))


def main(argv=None):
    p = argparse.ArgumentParser(prog="didicm_train")
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train DiDiRN (score) or the CE baseline (classifier)")
    t.add_argument("--kind", choices=["score", "classifier"], required=True)
    t.add_argument("--layout", default="small")
    t.add_argument("--data", default="mnist", help='"mnist" or TRAIN_DIR[:TEST_DIR], one subfolder per class')
    t.add_argument("--resolution", type=int, default=28, help="low-resolution degradation r (r >= input: none)")
    t.add_argument("--fraction", type=float, default=1.0, help="class-balanced fraction of the training set")
    t.add_argument("--steps", type=int, default=1000)
    t.add_argument("--batch", type=int, default=128)
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--weight-decay", type=float, default=0.05)
    t.add_argument("--shift", type=int, default=2, help="random translation augmentation, pixels")
    t.add_argument("--mean", type=float, nargs="*")
    t.add_argument("--std", type=float, nargs="*")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--gn-min-channels", type=int, default=GN_MIN_CHANNELS,
                   help="DiDiRN: least channels per GroupNorm group (1 erases the conditioning; see model.py)")
    t.add_argument("--blind-stages", type=int, default=0,
                   help="DiDiRN: leave the label and sigma out of the first N stages (a control; see model.py)")
    t.add_argument("--intensity", type=dicom.parse_intensity, default=None,
                   help='DICOM intensity transform, JSON: {"kind": "bits"} (the default), {"kind": "minmax"}, '
                        '{"kind": "file_window"} or {"kind": "window", "center": C, "width": W}; the model '
                        'records it when given or when the training data holds DICOM files, and a model '
                        'without one reads grey DICOM with bits (as a PNG of the same samples)')
    t.add_argument("--native", action="store_true",
                   help="feed the model the r x r low-resolution image itself, not its upsampling to the input size")
    t.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    t.add_argument("--checkpoint-every", type=int, default=500,
                   help="save OUT.partial every N steps; a rerun with the same settings resumes from it")
    t.add_argument("--out", required=True)
    t.set_defaults(fn=cmd_train)
    e = sub.add_parser("evaluate", help="evaluation table on the test split at the training degradation")
    e.add_argument("--score")
    e.add_argument("--classifier")
    e.add_argument("--limit", type=int, default=0, help="class-balanced test subset size (0: all)")
    e.add_argument("--cp-steps", type=int, nargs="*", default=[1, 2, 4, 8])
    e.add_argument("--clamp", choices=list(samplers.CLAMPS), default=samplers.DEFAULT_CLAMP,
                   help="CP's clamp (docs/sampler.md)")
    e.add_argument("--readout", choices=list(samplers.READOUTS), default=samplers.DEFAULT_READOUT,
                   help="CP's readout: p after the last step, or the last step's model column (docs/sampler.md)")
    e.add_argument("--cl-steps", type=int, default=2)
    e.add_argument("--cl-chains", type=int, default=16, help="CL's chains N (0: no CL row)")
    e.add_argument("--batch", type=int, default=500)
    e.add_argument("--threads", type=int, default=0)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--out")
    e.set_defaults(fn=cmd_evaluate)
    x = sub.add_parser("export", help="checkpoint -> ONNX with metadata and parity fixture")
    x.add_argument("--checkpoint", required=True)
    x.add_argument("--out", required=True)
    x.add_argument("--parity-images", type=int, default=4)
    x.add_argument("--recommended-steps", type=int, default=0,
                   help="score models: the T the sampler uses by default (from the model's evaluation)")
    x.add_argument("--min-steps", type=int, default=0,
                   help="score models: the least T the pipeline accepts without --force-steps")
    x.set_defaults(fn=cmd_export)
    f = sub.add_parser("fixture", help="random-weight score model for Go tests")
    f.add_argument("--k", type=int, required=True)
    f.add_argument("--seed", type=int, default=7)
    f.add_argument("--gain", type=float, default=20.0)
    f.add_argument("--steps", type=int, nargs="*", default=[1, 2, 4])
    f.add_argument("--parity-images", type=int, default=3)
    f.add_argument("--out", required=True)
    f.set_defaults(fn=cmd_fixture)
    r = sub.add_parser("random", help="random-weight model at full size for benchmarks")
    r.add_argument("--kind", choices=["score", "classifier"], required=True)
    r.add_argument("--layout", default="resnet18")
    r.add_argument("--size", type=int, default=224)
    r.add_argument("--channels", type=int, choices=[1, 3], default=3)
    r.add_argument("--k", type=int, default=1000)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--out", required=True)
    r.add_argument("--state", help="also save the state_dict here (torch.save)")
    r.set_defaults(fn=cmd_random)
    a = p.parse_args(argv)
    a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
