"""Writes testdata/clamp-parity.json: single CP steps (rank-one update then
each clamp) on random distributions, large and small h, from the reference
samplers, for the Go sampler's parity test. Usage: clamp-parity.py OUT"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from didicm_train import samplers  # noqa: E402


def main(out):
    g = torch.Generator().manual_seed(11)
    cases = []
    for k, h in [(10, 700.0), (10, 0.3), (37, 60.0), (5, 2.5)]:
        p = torch.rand(1, k, generator=g, dtype=torch.float64) + 0.01
        p /= p.sum()
        q = torch.rand(1, k, generator=g, dtype=torch.float64) + 0.01
        q /= q.sum()
        case = {"k": k, "h": h, "p": p[0].tolist(), "q": q[0].tolist()}
        for clamp in samplers.CLAMPS:
            case[clamp] = samplers._clamp(samplers.cp_step_rank1(p, q, h), clamp)[0].tolist()
        cases.append(case)
    with open(out, "w") as f:
        json.dump(cases, f)


if __name__ == "__main__":
    main(sys.argv[1])
