"""Training of DiDiRN (score entropy) and the CE baseline."""
import math
import os
import time

import torch
from torch.nn import functional as F

from . import data as D
from .diffusion import didicm_loss
from .dicom import DEFAULT_INTENSITY
from .model import build


def device():
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def load_dataset(spec, split, size=28, channels=1, intensity=None):
    """spec is "mnist" or a folder path (one subfolder per class). A folder
    has no split of its own: split "test" reads spec/../test if given as
    "PATH:TESTPATH". intensity: the DICOM intensity transform (dicom.py)."""
    if spec == "mnist":
        return D.load_mnist(split)
    train_dir, _, test_dir = spec.partition(":")
    if split == "test":
        if not test_dir:
            raise ValueError(f"data {spec!r}: give the test folder as TRAIN:TEST")
        return D.load_folder(test_dir, size, channels, intensity)
    return D.load_folder(train_dir, size, channels, intensity)


def shift(images, pixels, generator):
    """Weak augmentation: a random translation of up to `pixels` in each axis."""
    if pixels <= 0:
        return images
    b, _, h, w = images.shape
    padded = F.pad(images, (pixels,) * 4)
    dx = torch.randint(0, 2 * pixels + 1, (b,), generator=generator)
    dy = torch.randint(0, 2 * pixels + 1, (b,), generator=generator)
    # Each image's h x w window at (dy, dx), gathered at once.
    rows = (dy[:, None] + torch.arange(h))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w))[:, None, None, :]
    return padded[torch.arange(b)[:, None, None, None], torch.arange(images.shape[1])[None, :, None, None], rows, cols]


def _resume(path, cfg, model, opt, sched, g):
    """Loads a partial run written by _checkpoint if it was made with the same
    cfg; returns (next step, running loss, images seen, seconds so far)."""
    try:
        st = torch.load(path, map_location="cpu")
    except FileNotFoundError:
        return 0, 0.0, 0, 0.0
    if st["cfg"] != cfg:
        raise ValueError(f"{path} was written with other settings; delete it to start over")
    model.load_state_dict(st["model"])
    opt.load_state_dict(st["opt"])
    sched.load_state_dict(st["sched"])
    g.set_state(st["gen"])
    torch.set_rng_state(st["rng"])
    return st["step"], st["running"], st["seen"], st["elapsed"]


def _checkpoint(path, cfg, model, opt, sched, g, step, running, seen, elapsed):
    """Writes the whole training state atomically (write, then rename), so a
    run killed at any point resumes from the last checkpoint with the same
    batches and noise as an uninterrupted run."""
    tmp = path + ".tmp"
    torch.save({"cfg": cfg, "model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                "gen": g.get_state(), "rng": torch.get_rng_state(), "step": step, "running": running,
                "seen": seen, "elapsed": elapsed}, tmp)
    os.replace(tmp, path)


def train(cfg, log=print, checkpoint=None, every=500):
    """Trains one model. cfg keys: kind, layout, data, resolution, fraction,
    steps, batch, lr, seed, shift, mean, std, intensity (None: bits, recorded
    in cfg only when the data holds DICOM files), gn_min_channels,
    optionally native and blind_stages. With checkpoint (a
    path), the state is saved every `every` steps and a run resumes from it.
    Returns (model, classes, shape, summary)."""
    torch.manual_seed(cfg["seed"])
    g = torch.Generator().manual_seed(cfg["seed"])
    ds = load_dataset(cfg["data"], "train", intensity=cfg.get("intensity"))
    if ds.dicom_frames and not cfg.get("intensity"):
        # Recorded (and exported as didicm.intensity) because it was used: a
        # model trained on other images records none and reads DICOM with bits.
        cfg["intensity"] = dict(DEFAULT_INTENSITY)
    idx = D.balanced_fraction(ds.labels, cfg["fraction"], cfg["seed"])
    ds = ds.subset(idx)
    channels, size = ds.images.shape[1], ds.images.shape[2]
    if cfg.get("native") and cfg["resolution"] < size:
        size = cfg["resolution"]
    dev = device()
    model = build(cfg["kind"], cfg["layout"], channels, len(ds.classes), cfg["gn_min_channels"],
                  cfg.get("blind_stages", 0)).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=cfg.get("weight_decay", 0.05))
    warm = max(1, cfg["steps"] // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(s, cfg["steps"]) / cfg["steps"])))
    k = len(ds.classes)
    first, running, seen, before = _resume(checkpoint, cfg, model, opt, sched, g) if checkpoint else (0, 0.0, 0, 0.0)
    if first:
        log(f"resumed {checkpoint} at step {first}")
    start = time.time() - before
    model.train()
    for step in range(first, cfg["steps"]):
        pick = torch.randint(0, len(ds), (cfg["batch"],), generator=g)
        x = shift(ds.images[pick], cfg.get("shift", 0), g)
        x = D.normalise(D.degrade(x, cfg["resolution"], cfg.get("native", False)), cfg["mean"], cfg["std"]).to(dev)
        y = ds.labels[pick].to(dev)
        if cfg["kind"] == "score":
            loss = didicm_loss(model, x, F.one_hot(y, k).float())
        else:
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        seen += len(pick)
        running = 0.98 * running + 0.02 * loss.item() if step else loss.item()
        if step % max(1, cfg["steps"] // 10) == 0 or step == cfg["steps"] - 1:
            log(f"step {step + 1}/{cfg['steps']} loss {running:.4f} lr {sched.get_last_lr()[0]:.2e} "
                f"{seen / (time.time() - start):.0f} img/s")
        if checkpoint and (step + 1) % every == 0 and step + 1 < cfg["steps"]:
            _checkpoint(checkpoint, cfg, model, opt, sched, g, step + 1, running, seen, time.time() - start)
    model.eval().cpu()
    summary = {
        "train_images": len(ds), "steps": cfg["steps"], "batch": cfg["batch"], "lr": cfg["lr"],
        "final_loss": round(running, 5), "wall_s": round(time.time() - start, 1), "device": str(dev),
        "torch": torch.__version__,
    }
    return model, ds.classes, (channels, size, size), summary
