"""Reference reverse-process samplers (CP dense, CP rank-one, CL) in float64.

These are the oracle for the Go implementation: the parity fixture records
every model call they make. A scorer is any callable
(images [B,C,H,W] float32, labels [B] int64, sigmas [B] float32) -> [B, K].
"""
import torch

from .diffusion import EPS, dsigma, rate_matrix, sigma  # noqa: F401 (EPS re-exported)

SAMPLE_EPS = 1e-5


def times(steps):
    """t_n = linspace(1, eps_s, T) and dt = (1 - eps_s) / T."""
    t = torch.linspace(1.0, SAMPLE_EPS, steps, dtype=torch.float64)
    return t, (1 - SAMPLE_EPS) / steps


def _column(scorer, images, j, sig):
    l = scorer(images, j, torch.full((images.shape[0],), float(sig), dtype=torch.float32)).double()
    l = l.clone()
    l[torch.arange(l.shape[0]), j] = 0.0
    s = torch.exp(l)
    return l, s / s.sum(dim=1, keepdim=True)


def cp_step_dense(p, q, h):
    """One CP update in the paper's dense O(K^2) form (test oracle)."""
    k = p.shape[1]
    r = rate_matrix(k)
    out = torch.empty_like(p)
    for b in range(p.shape[0]):
        a = (q[b].unsqueeze(1) / q[b].unsqueeze(0)) * r
        a = a - torch.diag(a.sum(dim=0))  # subtract each column's sum from its diagonal
        m = torch.eye(k, dtype=p.dtype) + h * a
        out[b] = m @ p[b]
    return out


def cp_step_rank1(p, q, h):
    """The same update in O(K): p_i += h/K (q_i W - p_i / q_i), W = sum p/q."""
    k = p.shape[1]
    w = (p / q).sum(dim=1, keepdim=True)
    return p + (h / k) * (q * w - p / q)


CLAMPS = ("paper", "negatives")


# DEFAULT_CLAMP is CP's clamp when none is given, as sampler.DefaultClamp in Go.
DEFAULT_CLAMP = "negatives"


def _clamp(p, clamp=DEFAULT_CLAMP):
    """Clamps p and renormalises: "paper" clips to [0, 1] as the paper's code
    does; "negatives" clips only below 0 (renormalising keeps p a
    distribution, and the upper clip loses the ranking when h is large)."""
    p = p.clamp(0, 1) if clamp == "paper" else p.clamp_min(0)
    return p / p.sum(dim=1, keepdim=True)


READOUTS = ("final", "denoise")

# DEFAULT_READOUT is CP's readout when none is given, as sampler.DefaultReadout in Go.
DEFAULT_READOUT = "final"


def cp(scorer, images, k, steps, dense=False, trace=None, clamp=DEFAULT_CLAMP, readout=DEFAULT_READOUT):
    """DiDiCM-CP posterior [B, K]. trace, when a list, receives one dict per
    step with the labels, sigma and log-scores of that step's model call;
    clamp is "paper" or "negatives" (see _clamp). readout "final" returns p
    after the last update; "denoise" returns the last step's normalised model
    column q (the model's own estimate of p at the last time), same calls."""
    b = images.shape[0]
    p = torch.full((b, k), 1.0 / k, dtype=torch.float64)
    ts, dt = times(steps)
    for t in ts:
        sig, h = sigma(t).item(), (dt * dsigma(t)).item()
        j = torch.argmin(p, dim=1)  # ties: lowest index
        l, q = _column(scorer, images, j, sig)
        if trace is not None:
            trace.append({"label": j.tolist(), "sigma": float(torch.tensor(sig, dtype=torch.float32)),
                          "log_score": l.tolist()})
        p = _clamp(cp_step_dense(p, q, h) if dense else cp_step_rank1(p, q, h), clamp)
    return q if readout == "denoise" else p


def cl(scorer, images, k, steps, chains, generator):
    """DiDiCM-CL posterior [B, K] and per-image chain agreement with argmax."""
    b = images.shape[0]
    rep = images.repeat_interleave(chains, dim=0)
    c = torch.randint(0, k, (b * chains,), generator=generator)
    ts, dt = times(steps)
    for t in ts:
        sig, rate = sigma(t).item(), dsigma(t).item()
        l = scorer(rep, c, torch.full((b * chains,), float(sig), dtype=torch.float32)).double().clone()
        l[torch.arange(l.shape[0]), c] = 0.0
        rho = torch.exp(l) / k
        rho[torch.arange(l.shape[0]), c] = 0.0
        rho[torch.arange(l.shape[0]), c] = -rho.sum(dim=1)
        probs = torch.nn.functional.one_hot(c, k).double() + dt * rate * rho
        probs = probs.clamp_min(0)
        c = torch.multinomial(probs / probs.sum(dim=1, keepdim=True), 1, generator=generator).squeeze(1)
    hist = torch.nn.functional.one_hot(c, k).double().view(b, chains, k).sum(dim=1) / chains
    return hist


def model_scorer(model):
    """Wraps a DiDiRN module as a scorer (eval mode, no grad)."""

    @torch.no_grad()
    def score(images, labels, sigmas):
        return model(images, labels, sigmas)

    return score


__all__ = ["cp", "cl", "cp_step_dense", "cp_step_rank1", "times", "model_scorer", "EPS", "SAMPLE_EPS"]
