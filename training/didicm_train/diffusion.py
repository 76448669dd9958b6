"""Noise schedule, forward process and the DiDiCM score-entropy loss.

Formulas: shared/didicm-method.md. Everything here works on batches and on
either float32 (training) or float64 (samplers, tests).
"""
import math

import torch

# EPS is the log-linear schedule's epsilon.
EPS = 1e-3
# T_MIN is the smallest training time; t ~ U(T_MIN, 1).
T_MIN = 1e-3


def sigma(t):
    """Total noise sigma(t) = -log(1 - (1-eps) t)."""
    return -torch.log1p(-(1 - EPS) * t)


def dsigma(t):
    """Rate sigma'(t) = (1-eps) / (1 - (1-eps) t)."""
    return (1 - EPS) / (1 - (1 - EPS) * t)


def forward_marginal(p0, sig):
    """p_t = e^{-sigma} p0 + (1 - e^{-sigma}) / K, the closed form of exp(sigma R) p0.

    p0 is [B, K] (one-hot or soft); sig is [B].
    """
    k = p0.shape[-1]
    decay = torch.exp(-sig).unsqueeze(-1)
    return decay * p0 + (1 - decay) / k


def rate_matrix(k, dtype=torch.float64):
    """R = (1 1^T - K I) / K, the uniform forward rate matrix (test oracle only)."""
    return (torch.ones(k, k, dtype=dtype) - k * torch.eye(k, dtype=dtype)) / k


def score_entropy(log_score, ct, pt, dsig):
    """DiDiCM loss for one batch, averaged over it.

    log_score: [B, K] model output for conditioning labels ct [B];
    pt: [B, K] forward marginals (already clamped and renormalised);
    dsig: [B] sigma'(t).

    Per sample: dsig * mean_i (1 - delta_{i,ct}) [e^{l_i} - r_i l_i + r_i (log r_i - 1)]
    with r_i = pt_i / pt_ct. The bracket is >= 0 with equality at l_i = log r_i.
    The method note's constant r_i (log r_i - 1) is masked at i = ct as well, so
    the loss is exactly 0 at the optimum; including it would only shift the loss
    by -dsig/K and leave every gradient unchanged (docs/training.md).
    """
    k = log_score.shape[-1]
    l = log_score.clamp(-20, 20)
    ref = pt.gather(1, ct.unsqueeze(1))
    r = (pt / ref).clamp(1e-10, 1e10)
    off = 1 - torch.nn.functional.one_hot(ct, k).to(l.dtype)
    per = off * (torch.exp(l) - r * l + r * (torch.log(r) - 1))
    return (dsig * per.mean(dim=1)).mean()


def noisy_labels(p0, generator=None):
    """Draw t, sigma, sigma', p_t and c_t ~ Cat(p_t) for a batch of label
    distributions p0 [B, K]. Returns (ct, sig, dsig, pt)."""
    b = p0.shape[0]
    t = T_MIN + (1 - T_MIN) * torch.rand(b, generator=generator, dtype=p0.dtype, device=p0.device)
    sig, dsig = sigma(t), dsigma(t)
    pt = forward_marginal(p0, sig).clamp_min(1e-10)
    pt = pt / pt.sum(dim=1, keepdim=True)
    ct = torch.multinomial(pt, 1, generator=generator).squeeze(1)
    return ct, sig, dsig, pt


def didicm_loss(model, images, p0, generator=None):
    """Score-entropy loss of model on images with label distributions p0."""
    ct, sig, dsig, pt = noisy_labels(p0, generator)
    out = model(images, ct, sig.to(images.dtype))
    return score_entropy(out, ct, pt, dsig)


def sinusoidal(sig, dim=256, max_period=10000.0):
    """[cos, sin] embedding of sigma [B] into [B, dim]."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=sig.device) / half)
    args = sig.float().unsqueeze(1) * freqs.unsqueeze(0)
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)
