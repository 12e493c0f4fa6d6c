"GLMM acceptance tests: MixedModels.jl's documented gm1/contra fits, lme4's GLMM references, dense yardsticks, bad input"
import json, math, warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.special import gammaln

import mixednb
from mixednb import fit, dataset, Bernoulli, Binomial, Poisson, GeneralizedLinearMixedModel
from mixednb.families import ProbitLink, CloglogLink
from mixednb.glmm import dense_laplace
from mixednb.remat import zmatrix

GM1 = "r2 ~ 1 + anger + gender + btype + situ + mode + (1|subj) + (1|item)"
CONTRA = "use ~ 1 + age + abs2(age) + livch + urban + (1|dist)"
from refs import SEED_EXPECTATIONS, LME4_FITS, load_json


def uvec(m):
    "The conditional modes of all terms, concatenated level by level (the order of Z's columns)"
    return np.concatenate([x.T.ravel() for x in m.u])

def _seed(id_):
    return next(f for f in load_json(SEED_EXPECTATIONS)["fits"] if f["id"] == id_)


@pytest.fixture(scope="module")
def gm1():
    return fit(GM1, dataset("verbagg"), family=Bernoulli())


def test_gm1_deviance(gm1):
    ref = _seed("gm1_verbagg")
    assert abs(gm1.deviance() - ref["deviance"]) <= 1e-6 * ref["deviance"]
    assert gm1.deviance() <= ref["deviance"] * (1 + 1e-10)       # MixedModels.jl's documented optimum or a lower one
    assert abs(gm1.loglikelihood() - ref["loglik"]) <= 1e-6 * abs(ref["loglik"])
    for k in ("aic", "aicc", "bic"):
        assert round(getattr(gm1, k)(), 3) == pytest.approx(ref[k], abs=2e-3)
    assert gm1.coefnames == ref["coefnames"]


def test_gm1_estimates(gm1):
    """θ and SEs within 1e-4 relative of MixedModels.jl's documentation; β within 1% of a standard error.
    MixedModels.jl's documented optimiser stops ~1.2e-5 deviance units above the optimum on a flat ridge (intercept against
    the uncentred `anger`), so its intercept is 1% (0.004 SE) away from the optimum: see chapter 12."""
    ref = _seed("gm1_verbagg")
    se = np.array(ref["stderror"])
    np.testing.assert_allclose(gm1.stderror(), se, rtol=1e-4)
    np.testing.assert_allclose(gm1.theta, list(ref["sd"].values()), rtol=1e-4)
    assert np.max(np.abs(gm1.coef - ref["beta"]) / se) < 0.01
    np.testing.assert_allclose(gm1.coef[2:], np.array(ref["beta"])[2:], rtol=1e-3)


def test_gm1_fast(gm1):
    fast = fit(GM1, dataset("verbagg"), family=Bernoulli(), fast=True)
    assert fast.deviance() == pytest.approx(_seed("gm1a_verbagg_fast")["deviance"], rel=1e-9)
    assert fast.deviance() - gm1.deviance() == pytest.approx(0.338, abs=0.01)


@pytest.mark.parametrize("id_,kw", [("contra_default", {}), ("contra_fast", dict(fast=True)),
                                    ("contra_nagq9", dict(nagq=9)), ("contra_nagq9_fast", dict(nagq=9, fast=True))])
def test_contra(id_, kw):
    m = fit(CONTRA, dataset("contra"), family=Bernoulli(), **kw)
    assert round(m.deviance(), 2) == _seed(id_)["deviance"]


@pytest.mark.parametrize("id_", ["verbagg_laplace", "contra_laplace", "contra_agq9"])
def test_lme4_glmms(id_):
    ref = next(f for f in load_json(LME4_FITS)["models"] if f["id"] == id_)
    m = fit(ref["mm_formula"], dataset(ref["dataset"]), family=Bernoulli(), nagq=ref["nAGQ"])
    assert m.deviance() <= ref["deviance"] * (1 + 1e-4)
    assert m.objective() == pytest.approx(ref["deviance"], rel=1e-4)
    assert m.loglikelihood() == pytest.approx(ref["logLik"], rel=1e-4)
    assert m.dof() == ref["df"]


def _dense_Z(m):
    Z = sp.hstack([zmatrix(r) for r in m.LMM.reterms]).toarray()
    import scipy.linalg as sla
    Λ = sla.block_diag(*[np.kron(np.eye(r.nlevels), r.lambda_) for r in m.LMM.reterms])
    return Z, Λ


@pytest.mark.parametrize("formula", [GM1, "r2 ~ 1 + anger + btype + (1 + anger|item) + (1|subj)",
                                     "r2 ~ 1 + btype + mode + (1 + mode|item)"])
def test_laplace_vs_dense(formula):
    rng = np.random.default_rng(7)
    m = GeneralizedLinearMixedModel(formula, dataset("verbagg"))
    for _ in range(2):
        th = m.theta + rng.uniform(0.1, 0.6, len(m.theta)) * np.where(m.LMM.lowerbd == 0, 1, 0.1)
        beta = m.glm.beta * (1 + rng.normal(0, 0.1, len(m.beta)))
        m.set_theta(th).set_beta(beta); m._u[:] = 0; m.pirls()
        Z, Λ = _dense_Z(m)
        ref = dense_laplace(m.family, m.y, m.X, Z, Λ, beta)
        assert m.deviance() == pytest.approx(ref, rel=1e-9)


def test_fast_pirls_is_pls_optimum():
    "With β varying, PIRLS minimises the penalized deviance jointly in (β, u): the gradient in β vanishes"
    m = GeneralizedLinearMixedModel(CONTRA, dataset("contra"))
    m.set_theta([0.5]); m.pirls(vary_beta=True)
    g = m.X.T @ (m.wt * m.mu_eta / m.family.variance(m.mu) * (m.y - m.mu))
    assert np.max(np.abs(g)) < 1e-6


def test_poisson_and_links_vs_dense():
    d = dataset("grouseticks")
    d = d.assign(h=(d.height - d.height.mean()) / d.height.std())
    for fam, f in [(Poisson(), "ticks ~ 1 + year + h + (1|brood) + (1|location)"),
                   (Bernoulli(ProbitLink()), "t ~ 1 + h + (1|location)"),
                   (Bernoulli(CloglogLink()), "t ~ 1 + h + (1|location)")]:
        dd = d.assign(t=(d.ticks > 0).astype(float))
        m = GeneralizedLinearMixedModel(f, dd, fam)
        m.set_theta(np.full(len(m.theta), 0.7)); m.pirls()
        Z, Λ = _dense_Z(m)
        assert m.deviance() == pytest.approx(dense_laplace(m.family, m.y, m.X, Z, Λ, m.beta), rel=1e-9)
    m = fit("ticks ~ 1 + year + h + (1|brood) + (1|location)", d, family=Poisson())
    assert np.isfinite(m.deviance()) and m.varest() is None
    assert m.loglikelihood() == pytest.approx(
        np.sum(Poisson().loglik_obs(m.y, m.y)) - m.deviance() / 2, rel=1e-12)


def test_binomial_weights_equal_expanded_bernoulli():
    "A Binomial proportion with weights = trials is the same model as the expanded 0/1 rows"
    d = dataset("cbpp")
    d = d.assign(prop=d.incidence / d["size"])
    mb = fit("prop ~ 1 + period + (1|herd)", d, family=Binomial(), weights="size")
    rows = []
    for _, r in d.iterrows():
        rows += [dict(y=1.0, period=r.period, herd=r.herd)] * int(r.incidence)
        rows += [dict(y=0.0, period=r.period, herd=r.herd)] * int(r["size"] - r.incidence)
    e = pd.DataFrame(rows).astype({"period": d.period.dtype, "herd": d.herd.dtype})
    me = fit("y ~ 1 + period + (1|herd)", e, family=Bernoulli())
    np.testing.assert_allclose(mb.theta, me.theta, rtol=1e-4)
    np.testing.assert_allclose(mb.coef, me.coef, rtol=1e-4)
    lchoose = np.sum(gammaln(d["size"] + 1) - gammaln(d.incidence + 1)
                     - gammaln(d["size"] - d.incidence + 1))
    assert mb.loglikelihood() == pytest.approx(me.loglikelihood() + lchoose, rel=1e-7)
    assert mb.loglikelihood() == pytest.approx(-92.0266, abs=1e-3)           # lme4's cbpp gm1


def test_extractors(gm1):
    n = gm1.nobs
    assert gm1.fitted().shape == (n,) and np.all((gm1.fitted() > 0) & (gm1.fitted() < 1))
    np.testing.assert_allclose(np.sum(gm1.residuals() ** 2), np.sum(gm1.devres), rtol=1e-12)
    np.testing.assert_allclose(gm1.residuals("response"), gm1.y - gm1.fitted())
    assert gm1.sdest() is None and gm1.varest() is None
    b = gm1.ranef()
    assert [x.shape for x in b] == [(1, 316), (1, 24)]
    np.testing.assert_allclose(b[0], gm1.theta[0] * gm1.ranef(uscale=True)[0])
    t = gm1.raneftables()
    assert list(t) == ["subj", "item"] and list(t["item"].columns) == ["item", "(Intercept)"] and len(t["item"]) == 24
    cv = gm1.condvar()
    assert cv[0].shape == (316, 1, 1) and np.all(cv[0] > 0)
    ct = gm1.coeftable().frame
    assert list(ct.columns) == ["Coef.", "Std. Error", "z", "Pr(>|z|)"]
    s = str(gm1)
    for line in ["Generalized Linear Mixed Model fit by maximum likelihood (nAGQ = 1)", "Distribution: Bernoulli{Float64}",
                 "Link: LogitLink()", "-4067.9164  8135.8329  8153.8329  8153.8566  8216.2370",
                 "Number of obs: 7584; levels of grouping factors: 316, 24"]:
        assert line in s


def test_bad_input():
    va = dataset("verbagg")
    with pytest.raises(ValueError, match="must be 0 or 1"):
        GeneralizedLinearMixedModel("anger ~ 1 + (1|subj)", va)
    with pytest.raises(ValueError, match="non-negative"):
        GeneralizedLinearMixedModel("y ~ 1 + (1|g)", pd.DataFrame({"y": [1.0, -1, 2, 3], "g": list("aabb")}), Poisson())
    with pytest.raises(ValueError, match="single scalar random-effects term"):
        fit(GM1, va, family=Bernoulli(), nagq=3)
    with pytest.raises(ValueError, match="positive"):
        fit(CONTRA, dataset("contra"), family=Bernoulli(), nagq=0)
    with pytest.raises(NotImplementedError, match="dispersion"):
        fit(CONTRA, dataset("contra"), family=mixednb.Gamma())
    with pytest.raises(ValueError, match="weights"):
        fit(CONTRA, dataset("contra"), family=Binomial(), weights=np.zeros(1934))


def test_offset_shifts_intercept():
    "A constant offset c is absorbed by the intercept: β₀ moves by −c, the deviance is unchanged"
    d = dataset("contra")
    m0 = fit(CONTRA, d, family=Bernoulli(), fast=True)
    m1 = fit(CONTRA, d, family=Bernoulli(), fast=True, offset=np.full(len(d), 0.3))
    assert m1.deviance() == pytest.approx(m0.deviance(), rel=1e-8)
    assert m1.coef[0] == pytest.approx(m0.coef[0] - 0.3, abs=1e-4)


def test_separation_warns():
    sep = pd.DataFrame({"x": np.r_[np.linspace(-2, -0.1, 30), np.linspace(0.1, 2, 30)],
                        "y": np.r_[np.zeros(30), np.ones(30)], "g": np.tile(list("abcdef"), 10)})
    with pytest.warns(UserWarning, match="separated"):
        fit("y ~ 1 + x + (1|g)", sep, family=Bernoulli(), fast=True)


def test_engine_pirls_equals_dense_newton():
    "PIRLS through the working LMM's factor gives dense Newton's modes and Laplace deviance (β fixed and β free)"
    rng = np.random.default_rng(1)
    m = GeneralizedLinearMixedModel(GM1, dataset("verbagg"))
    th, beta = np.array([1.2, 0.5]), m.glm.beta * (1 + rng.normal(0, 0.05, 7))
    m.set_theta(th).set_beta(beta).pirls()
    Z, Λ = _dense_Z(m)
    assert m.deviance() == pytest.approx(dense_laplace(m.family, m.y, m.X, Z, Λ, beta), rel=1e-12)
    ZΛ, u = Z @ Λ, np.zeros(Z.shape[1])
    for _ in range(30):                                       # dense Newton on u at fixed β
        eta = m.X @ beta + ZΛ @ u
        mu = 1 / (1 + np.exp(-eta)); W = mu * (1 - mu)
        u = u + np.linalg.solve(ZΛ.T @ (W[:, None] * ZΛ) + np.eye(len(u)), ZΛ.T @ (m.y - mu) - u)
    np.testing.assert_allclose(uvec(m), u, rtol=1e-8, atol=1e-10)
    m.pirls(vary_beta=True)                                   # β free: the gradient in (β, u) vanishes at (β, u)
    ZX = np.hstack([ZΛ, m.X])
    g = ZX.T @ (m.y - m.mu) - np.r_[uvec(m), np.zeros(7)]
    H = ZX.T @ (m.mu_eta[:, None] * ZX) + np.diag(np.r_[np.ones(len(u)), np.zeros(7)])
    step = np.linalg.solve(H, g)
    np.testing.assert_allclose(m.beta, m.beta + step[len(u):], rtol=1e-8)
    np.testing.assert_allclose(uvec(m), uvec(m) + step[:len(u)], rtol=1e-8, atol=1e-10)


def test_warm_start_prediction():
    "The predicted modes at new parameters (from the old factor) are closer than the old modes, for both fits"
    m = GeneralizedLinearMixedModel(GM1, dataset("verbagg"))
    m.set_theta([1.2, 0.5]); m.pirls(vary_beta=True)
    th1 = np.array([1.25, 0.47])
    b_p, u_p = m._predict(th1)
    u_old = uvec(m); b_old = m.beta.copy()
    m.set_theta(th1); m.pirls(vary_beta=True)
    assert np.max(np.abs(u_p - uvec(m))) < 0.05 * np.max(np.abs(u_old - uvec(m)))
    assert np.max(np.abs(b_p - m.beta)) < 0.1 * np.max(np.abs(b_old - m.beta))
    assert m._predict(th1, m.beta) is None                    # the factor is a β-free one: no β-fixed prediction
    m.pirls()
    b1 = m.beta + 0.01; th2 = np.array([1.22, 0.5])
    _, u_p = m._predict(th2, b1)
    u_old = uvec(m)
    m.set_theta(th2).set_beta(b1).pirls()
    assert np.max(np.abs(u_p - uvec(m))) < 0.05 * np.max(np.abs(u_old - uvec(m)))


def test_vector_term_fit():
    "A GLMM with a vector-valued term: block-diagonal blocks in the working LMM, the same PIRLS"
    m = fit("r2 ~ 1 + btype + mode + (1 + mode|item) + (1|subj)", dataset("verbagg"), family=Bernoulli(), fast=True)
    assert len(m.theta) == 4
    vc = m.varcorr()
    assert [g.name for g in vc.groups] == ["subj", "item"] and vc.groups[1].rho.shape == (2, 2)
    with pytest.raises(ValueError, match="single scalar"):
        m.fit(nagq=5)
