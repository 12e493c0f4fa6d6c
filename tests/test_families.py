"Families, links, the per-observation kernel and the IRLS GLM fit"
import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.optimize import minimize

from mixednb.families import (Bernoulli, Binomial, Poisson, LogitLink, ProbitLink, CloglogLink, LogLink, IdentityLink,
                              SqrtLink, InverseLink, Normal, Gamma, InverseGaussian, glm_update, glm_update_ref,
                              glm_fit, check_response)

FAMS = [Bernoulli(), Bernoulli(ProbitLink()), Bernoulli(CloglogLink()), Binomial(), Binomial(ProbitLink()),
        Poisson(), Poisson(SqrtLink()), Poisson(IdentityLink())]


def _data(d, rng, n):
    if d.code == 0: return rng.integers(0, 2, n).astype(float), np.ones(n)
    if d.code == 1:
        w = rng.integers(1, 7, n).astype(float)
        return rng.binomial(w.astype(int), 0.4) / w, w
    return rng.poisson(2.5, n).astype(float), np.ones(n)


@pytest.mark.parametrize("d", FAMS, ids=repr)
def test_kernel_matches_twin(d):
    rng = np.random.default_rng(11)
    n = 300
    y, w = _data(d, rng, n)
    eta = rng.normal(0, 2.5, n)
    if isinstance(d.link, (SqrtLink, IdentityLink)): eta = np.abs(eta) + 0.2
    elif d.code == 2: eta = np.clip(eta, -20, 20)
    out = [np.empty(n) for _ in range(5)]
    tot = glm_update(*out, y, w, eta, d.code, d.link.code)
    for a, b in zip(out, glm_update_ref(d, y, w, eta)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
    assert tot == pytest.approx(out[4].sum(), rel=1e-12)


def test_logit_tails():
    "Beyond |η| = 36 the clamped formulas: finite weights and residuals"
    d = Bernoulli()
    eta = np.array([-800., -40, -36.5, 36.5, 40, 800]); y = np.array([0., 1, 0, 1, 0, 1])
    out = [np.empty(6) for _ in range(5)]
    glm_update(*out, y, np.ones(6), eta, d.code, d.link.code)
    assert all(np.all(np.isfinite(o)) for o in out)


@pytest.mark.parametrize("d", FAMS, ids=repr)
def test_loglik_and_devresid(d):
    rng = np.random.default_rng(2)
    y, w = _data(d, rng, 50)
    mu = rng.uniform(0.1, 0.9, 50) if d.code < 2 else rng.uniform(0.3, 5, 50)
    np.testing.assert_allclose(d.devresid(y, mu, w), 2 * (d.loglik_obs(y, y, w) - d.loglik_obs(y, mu, w)), rtol=1e-9, atol=1e-12)
    ref = (stats.bernoulli.logpmf(y, mu) if d.code == 0 else
           stats.binom.logpmf(np.round(y * w), w, mu) if d.code == 1 else stats.poisson.logpmf(y, mu))
    np.testing.assert_allclose(d.loglik_obs(y, mu, w), ref, rtol=1e-10)


@pytest.mark.parametrize("d", FAMS, ids=repr)
def test_glm_fit_maximises_loglik(d):
    rng = np.random.default_rng(5)
    n = 500
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.uniform(size=n)])
    off = rng.normal(0, 0.2, n)
    eta = off + X @ np.array([0.2, 0.5, -0.4])
    if isinstance(d.link, (SqrtLink, IdentityLink)): eta = 1.5 + 0.3 * (eta - off); off = np.zeros(n)
    mu = d.link.linkinv(eta)
    if d.code == 0: y, w = (rng.uniform(size=n) < mu).astype(float), None
    elif d.code == 1:
        w = rng.integers(1, 9, n).astype(float); y = rng.binomial(w.astype(int), mu) / w
    else: y, w = rng.poisson(mu).astype(float), None
    f = glm_fit(X, y, d, w, off)
    ww = np.ones(n) if w is None else w
    nll = lambda b: -np.sum(d.loglik_obs(y, d.link.linkinv(off + X @ b), ww))
    ref = minimize(nll, f.beta + 0.05, method="Nelder-Mead", options=dict(xatol=1e-10, fatol=1e-12, maxiter=20000))
    assert f.loglik >= -ref.fun - 1e-7
    np.testing.assert_allclose(f.beta, ref.x, rtol=1e-4, atol=1e-5)


def test_refusals():
    for F in (Gamma, InverseGaussian):
        with pytest.raises(NotImplementedError, match="dispersion"): F()
    with pytest.raises(NotImplementedError, match="fit an LMM"): Normal(LogLink())
    assert isinstance(Normal().link, IdentityLink)
    with pytest.raises(ValueError, match="does not map"): Bernoulli(InverseLink())
    with pytest.raises(TypeError, match="Link"): Poisson("log")


def test_check_response():
    with pytest.raises(ValueError, match="0 or 1"): check_response(Bernoulli(), np.array([0., .5]))
    with pytest.raises(ValueError, match="proportion"): check_response(Binomial(), np.array([0., 2.]), np.ones(2))
    with pytest.raises(ValueError, match="non-finite"): check_response(Poisson(), np.array([0., np.nan]))
    with pytest.warns(UserWarning, match="non-integer"): check_response(Poisson(), np.array([0., 1.5]))
    d, y, w = check_response(Binomial(), np.array([0., 1.]))
    assert type(d) is Bernoulli and np.all(w == 1)
