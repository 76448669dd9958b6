import math

import pytest
import torch

from didicm_train import diffusion as d
from didicm_train import samplers as s


def test_schedule_matches_formulas():
    t = torch.tensor([0.0, 0.25, 0.5, 1.0], dtype=torch.float64)
    for ti, sig, ds in zip(t, d.sigma(t), d.dsigma(t)):
        assert sig.item() == pytest.approx(-math.log(1 - 0.999 * ti.item()), rel=1e-12)
        assert ds.item() == pytest.approx(0.999 / (1 - 0.999 * ti.item()), rel=1e-12)
    # sigma' is the derivative of sigma.
    h = 1e-6
    assert ((d.sigma(t[1:3] + h) - d.sigma(t[1:3] - h)) / (2 * h)).tolist() == pytest.approx(
        d.dsigma(t[1:3]).tolist(), rel=1e-6)


@pytest.mark.parametrize("k", [2, 3, 10])
def test_forward_closed_form_equals_matrix_exponential(k):
    g = torch.Generator().manual_seed(k)
    p0 = torch.rand(4, k, generator=g, dtype=torch.float64)
    p0 = p0 / p0.sum(dim=1, keepdim=True)  # soft labels
    p0[0] = torch.nn.functional.one_hot(torch.tensor(1), k)  # and a one-hot one
    sig = torch.tensor([0.01, 0.5, 2.0, 6.9], dtype=torch.float64)
    got = d.forward_marginal(p0, sig)
    r = d.rate_matrix(k)
    for b in range(4):
        want = torch.matrix_exp(sig[b] * r) @ p0[b]
        assert torch.allclose(got[b], want, atol=1e-12)
    assert torch.allclose(got.sum(dim=1), torch.ones(4, dtype=torch.float64))


def test_loss_against_hand_computed_value():
    # K=3, p_t = [.5, .3, .2], c_t = 0 so r = [1, .6, .4]; l = [0, 0, log 2]; sigma' = 2.
    # i=1: e^0 - .6*0 + .6(log .6 - 1) = 0.0935046...
    # i=2: 2 - .4 log 2 + .4(log .4 - 1) = 0.9562248...
    # loss = 2 * (0 + 0.0935046 + 0.9562248) / 3
    pt = torch.tensor([[0.5, 0.3, 0.2]], dtype=torch.float64)
    l = torch.tensor([[0.0, 0.0, math.log(2)]], dtype=torch.float64)
    got = d.score_entropy(l, torch.tensor([0]), pt, torch.tensor([2.0], dtype=torch.float64))
    i1 = 1 + 0.6 * (math.log(0.6) - 1)
    i2 = 2 - 0.4 * math.log(2) + 0.4 * (math.log(0.4) - 1)
    assert got.item() == pytest.approx(2 * (i1 + i2) / 3, rel=1e-12)
    assert got.item() == pytest.approx(0.69981962, rel=1e-7)


def test_loss_is_zero_at_true_ratios_and_positive_elsewhere():
    g = torch.Generator().manual_seed(3)
    pt = torch.rand(5, 7, generator=g, dtype=torch.float64) + 0.01
    pt = pt / pt.sum(dim=1, keepdim=True)
    ct = torch.tensor([0, 3, 6, 2, 2])
    true = torch.log(pt / pt.gather(1, ct.unsqueeze(1)))
    ds = torch.ones(5, dtype=torch.float64)
    assert d.score_entropy(true, ct, pt, ds).item() == pytest.approx(0.0, abs=1e-12)
    assert d.score_entropy(true + 0.1, ct, pt, ds).item() > 1e-4


def test_loss_with_soft_labels_trains_towards_their_ratios():
    # A free parameter vector l fit by the loss on a fixed soft p_t recovers log ratios.
    pt = torch.tensor([[0.6, 0.3, 0.1]], dtype=torch.float64)
    l = torch.zeros(1, 3, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([l], max_iter=500, tolerance_grad=1e-12, tolerance_change=1e-15)

    def closure():
        opt.zero_grad()
        loss = d.score_entropy(l, torch.tensor([1]), pt, torch.ones(1, dtype=torch.float64))
        loss.backward()
        return loss

    opt.step(closure)
    want = torch.log(pt / 0.3)
    assert l.detach()[0, [0, 2]].tolist() == pytest.approx(want[0, [0, 2]].tolist(), abs=1e-5)


def _exact_scorer(p0):
    """Scores from the true forward marginals of a known posterior p0 [B, K]."""

    def score(images, labels, sigmas):
        p = p0[: len(labels)] if len(labels) == len(p0) else p0.repeat_interleave(len(labels) // len(p0), 0)
        pt = d.forward_marginal(p, sigmas.double())
        return torch.log(pt / pt.gather(1, labels.unsqueeze(1))).float()

    return score


@pytest.mark.parametrize("k", [2, 5, 50])
def test_rank_one_cp_step_equals_dense(k):
    g = torch.Generator().manual_seed(k)
    p = torch.rand(3, k, generator=g, dtype=torch.float64)
    p = p / p.sum(dim=1, keepdim=True)
    q = torch.rand(3, k, generator=g, dtype=torch.float64) + 1e-3
    q = q / q.sum(dim=1, keepdim=True)
    for h in [0.01, 1.0, 500.0]:
        dense, fast = s.cp_step_dense(p, q, h), s.cp_step_rank1(p, q, h)
        assert torch.allclose(fast, dense, rtol=1e-9, atol=1e-12 * h)


@pytest.mark.parametrize("steps", [1, 2, 8])
def test_cp_dense_and_rank_one_samplers_agree(steps):
    p0 = torch.tensor([[0.7, 0.2, 0.05, 0.05], [0.25, 0.25, 0.25, 0.25]], dtype=torch.float64)
    x = torch.zeros(2, 1, 2, 2)
    a = s.cp(_exact_scorer(p0), x, 4, steps, dense=True)
    b = s.cp(_exact_scorer(p0), x, 4, steps)
    assert torch.allclose(a, b, atol=1e-9)
    assert torch.allclose(b.sum(dim=1), torch.ones(2, dtype=torch.float64))


def test_cp_with_exact_scores_recovers_the_posterior():
    p0 = torch.tensor([[0.7, 0.2, 0.05, 0.05]], dtype=torch.float64)
    got = s.cp(_exact_scorer(p0), torch.zeros(1, 1, 2, 2), 4, 64)
    assert got[0].tolist() == pytest.approx(p0[0].tolist(), abs=0.03)


def test_cp_denoise_readout_is_the_last_calls_normalised_column():
    p0 = torch.tensor([[0.1, 0.6, 0.3], [0.5, 0.25, 0.25]], dtype=torch.float64)
    trace = []
    got = s.cp(_exact_scorer(p0), torch.zeros(2, 1, 2, 2), 3, 2, trace=trace, readout="denoise")
    last = torch.exp(torch.tensor(trace[-1]["log_score"], dtype=torch.float64))
    assert torch.allclose(got, last / last.sum(dim=1, keepdim=True), atol=1e-12)
    # Exact scores at the last time (t = 1e-5) are the posterior itself, to 1e-4.
    assert torch.allclose(got, p0, atol=1e-4)
    assert not torch.allclose(got, s.cp(_exact_scorer(p0), torch.zeros(2, 1, 2, 2), 3, 2), atol=1e-6)


def test_cp_records_every_call_with_argmin_column():
    trace = []
    p0 = torch.tensor([[0.1, 0.6, 0.3]], dtype=torch.float64)
    s.cp(_exact_scorer(p0), torch.zeros(1, 1, 2, 2), 3, 4, trace=trace)
    assert len(trace) == 4
    assert trace[0]["label"] == [0]  # uniform start: ties go to the lowest index
    assert all(row["log_score"][0][row["label"][0]] == 0.0 for row in trace)


def test_cl_is_reproducible_and_approaches_cp():
    p0 = torch.tensor([[0.6, 0.3, 0.1], [0.1, 0.1, 0.8]], dtype=torch.float64)
    x = torch.zeros(2, 1, 2, 2)
    a = s.cl(_exact_scorer(p0), x, 3, 8, 4000, torch.Generator().manual_seed(1))
    b = s.cl(_exact_scorer(p0), x, 3, 8, 4000, torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    cp = s.cp(_exact_scorer(p0), x, 3, 8)
    assert torch.allclose(a, cp, atol=0.04)
