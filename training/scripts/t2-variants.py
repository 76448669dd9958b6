"""Issue 14: can a different CP discretisation close T=2's gap? Evaluates
variants of the CP sampler's time grid and of the label each step conditions
on, on a DiDiRN checkpoint (the 10,000 test digits of its setting, negatives
clamp), and prints a markdown table. None is used by the sampler; the answer
(no) is in docs/sampler.md.

  /usr/bin/python3 training/scripts/t2-variants.py CHECKPOINT > models/eval/t2-variants.md

models/eval/t2-variants.md is for the DiDiRN with two channels per GroupNorm
group shipped before (build/training/gn2/high-score-gn2.pt here).

Grid variants (T=2): the first call stays at t=1 with h = 0.5 sigma'(1) (the
spec's first step); the second call moves from t = 1e-5 to t2, with the step
h2 taken three ways: the spec's rule 0.5 sigma'(t2), an Euler step over the
rest of the interval (t2 - 1e-5) sigma'(t2), and the remaining noise
sigma(t2). Label variants: every step after the first conditions on argmax p
instead of argmin p, at the spec's grid.
"""
import sys

import torch

sys.path.insert(0, __file__.rsplit("/scripts/", 1)[0])
from didicm_train import evaluate as E  # noqa: E402
from didicm_train import samplers as S  # noqa: E402
from didicm_train.__main__ import _load, _test_set  # noqa: E402
from didicm_train.diffusion import dsigma, sigma  # noqa: E402


def f64(t):
    return torch.tensor(t, dtype=torch.float64)


def cp(scorer, images, k, ts, hs, pick):
    p = torch.full((images.shape[0], k), 1.0 / k, dtype=torch.float64)
    for n, (t, h) in enumerate(zip(ts, hs)):
        j = torch.argmax(p, dim=1) if pick == "argmax" and n > 0 else torch.argmin(p, dim=1)
        _, q = S._column(scorer, images, j, sigma(f64(t)).item())
        p = S._clamp(S.cp_step_rank1(p, q, h))
    return p


def main(path):
    torch.set_num_threads(1)
    model, ck = _load(path)
    x, y = _test_set(ck, 0)
    k, scorer = len(ck["classes"]), S.model_scorer(model)
    d = lambda t: dsigma(f64(t)).item()  # noqa: E731
    rows = []
    for steps in (2, 4, 8):
        ts, dt = S.times(steps)
        ts = ts.tolist()
        rows.append((f"spec grid, T={steps}", "argmin", ts, [dt * d(t) for t in ts]))
        rows.append((f"spec grid, T={steps}", "argmax", ts, [dt * d(t) for t in ts]))
    h1 = 0.5 * d(1.0)
    for t2 in (1e-3, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5):
        rows.append((f"T=2, t2={t2}, h2=0.5 sigma'(t2)", "argmin", [1.0, t2], [h1, 0.5 * d(t2)]))
        rows.append((f"T=2, t2={t2}, h2=(t2-1e-5) sigma'(t2)", "argmin", [1.0, t2], [h1, (t2 - 1e-5) * d(t2)]))
        rows.append((f"T=2, t2={t2}, h2=sigma(t2)", "argmin", [1.0, t2], [h1, sigma(f64(t2)).item()]))
    print("| variant | label | top-1 | NLL | ECE |\n|---|---|---|---|---|")
    for name, pick, ts, hs in rows:
        post = torch.cat([cp(scorer, x[i:i + 1000], k, ts, hs, pick) for i in range(0, len(x), 1000)])
        m = E.metrics(post, y)
        print(f"| {name} | {pick} | {100 * m['top1']:.2f} | {m['nll']:.4f} | {m['ece']:.4f} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
