"""Evaluation: accuracy, NLL, calibration and entropy of posteriors, with NFE
and throughput, for the CE baseline and the CP/CL samplers."""
import time

import torch

from . import samplers


def metrics(post, labels, bins=15):
    """post [N, K] float64 posteriors, labels [N]. Returns a dict of
    top1, top2, nll, ece (equal-width bins over max probability), and the mean
    entropy (nats) of right and of wrong predictions."""
    post = post.double()
    n, k = post.shape
    conf, pred = post.max(dim=1)
    right = pred == labels
    top2 = (post.topk(min(2, k), dim=1).indices == labels.unsqueeze(1)).any(dim=1)
    p_true = post.gather(1, labels.unsqueeze(1)).squeeze(1)
    nll = -torch.log(p_true.clamp_min(1e-12)).mean().item()
    ece = 0.0
    edges = torch.linspace(0, 1, bins + 1, dtype=torch.float64)
    for lo, hi in zip(edges[:-1], edges[1:]):
        inb = (conf > lo) & (conf <= hi)
        if inb.any():
            ece += inb.double().mean().item() * abs(right[inb].double().mean().item() - conf[inb].mean().item())
    ent = -(post * torch.log(post.clamp_min(1e-300))).sum(dim=1)
    mean = lambda t: t.mean().item() if t.numel() else float("nan")  # noqa: E731
    return {
        "top1": right.double().mean().item(), "top2": top2.double().mean().item(), "nll": nll, "ece": ece,
        "entropy_right": mean(ent[right]), "entropy_wrong": mean(ent[~right]), "n": n,
    }


def _batched(fn, images, batch):
    outs = []
    for i in range(0, len(images), batch):
        outs.append(fn(images[i:i + batch]))
    return torch.cat(outs)


@torch.no_grad()
def run(method, model, images, labels, k, steps=0, chains=0, batch=500, seed=0, clamp=samplers.DEFAULT_CLAMP,
        readout=samplers.DEFAULT_READOUT):
    """Evaluates one method: "ce" (model is the classifier), "cp" (with
    clamp "paper" or "negatives", readout "final" or "denoise") or "cl"
    (model is DiDiRN). Returns metrics
    plus nfe (model calls per image) and images_per_s."""
    g = torch.Generator().manual_seed(seed)
    scorer = samplers.model_scorer(model) if method != "ce" else None
    if method == "ce":
        fn, nfe = (lambda x: torch.softmax(model(x).double(), dim=1)), 1
    elif method == "cp":
        fn, nfe = (lambda x: samplers.cp(scorer, x, k, steps, clamp=clamp, readout=readout)), steps
    elif method == "cl":
        fn, nfe = (lambda x: samplers.cl(scorer, x, k, steps, chains, g)), steps * chains
    else:
        raise ValueError(f"unknown method {method!r}")
    start = time.time()
    post = _batched(fn, images, batch if method != "cl" else max(1, batch // max(1, chains)))
    wall = time.time() - start
    out = metrics(post, labels)
    out.update(method=method, steps=steps, chains=chains, nfe=nfe, images_per_s=len(images) / wall)
    if method == "cp":
        out.update(clamp=clamp, readout=readout)
    return out


def table(rows):
    """Markdown table of evaluation rows."""
    head = "| method | T | N | NFE | top-1 | top-2 | NLL | ECE | H right | H wrong | img/s |\n"
    head += "|---|---|---|---|---|---|---|---|---|---|---|\n"
    for r in rows:
        head += (f"| {r['method'].upper()} | {r['steps'] or '-'} | {r['chains'] or '-'} | {r['nfe']} | "
                 f"{100 * r['top1']:.2f} | {100 * r['top2']:.2f} | {r['nll']:.4f} | {r['ece']:.4f} | "
                 f"{r['entropy_right']:.3f} | {r['entropy_wrong']:.3f} | {r['images_per_s']:.0f} |\n")
    return head
