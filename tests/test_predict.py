"""Chapter 16 against lme4 1.1-31 (`lme4_inference.json`: `predict`, `diagnostics`, `simulate` of each model).

LMMs: mixednb's optimum is lme4's, so predictions and fitted values agree to 1e-5 relative (mostly 1e-6); residuals
(differences of nearly equal numbers) to 1e-5 of the response's scale, Cook's distances to 1e-4.
GLMMs: lme4's optimum differs slightly from mixednb's (about 1e-3 on the link scale), so the comparisons
are to 2e-3, and `test_glmm_predict_dense` checks mixednb at its own optimum against dense algebra to 1e-8.
"""
import pickle

import numpy as np
import pandas as pd
import pytest

from mixednb import fit, dataset, Poisson, Binomial, LinearMixedModel, GeneralizedLinearMixedModel
from mixednb.lmm import dense_parts
from mixednb.predict import restoreoptsum, _dense_pred, _glmm_moments
from refs import SHARED, load_json

REF = {m["id"]: m for m in load_json(SHARED / "reference" / "lme4_inference.json")["models"]}
LMMS = ["sleepstudy_ML", "sleepstudy_REML", "sleepstudy_intercept_ML", "penicillin_ML", "dyestuff_ML"]
GLMMS = ["verbagg_laplace", "contra_laplace"]
_CACHE = {}


def model(id):
    "The fitted model of reference `id` (cached)"
    if id not in _CACHE:
        f = REF[id]["fit"]
        formula = f["mm_formula"].split("  [")[0]
        fam = "bernoulli" if f.get("family") in ("binomial", "bernoulli") else None
        _CACHE[id] = fit(formula, REF[id]["dataset"], family=fam, reml=f["method"] == "REML")
    return _CACHE[id]


def close(a, b, id, rtol=1e-5, atol_glmm=2e-3):
    if id in GLMMS: np.testing.assert_allclose(a, b, atol=atol_glmm)
    else: np.testing.assert_allclose(a, b, rtol=rtol)


@pytest.mark.parametrize("id", LMMS + GLMMS)
def test_fitted_and_residuals(id):
    m, d = model(id), REF[id]["diagnostics"]
    close(m.fitted()[:10], d["fitted_first10"]["values"], id)
    scale = 1e-5 * np.max(np.abs(m.y))
    for t, v in d["residuals_first10"].items():
        if t in ("note", "elapsed_s"): continue
        if id in GLMMS: np.testing.assert_allclose(m.residuals(type=t)[:10], v, atol=3e-3)
        else: np.testing.assert_allclose(m.residuals(type=t)[:10], v, atol=scale / (m.sigma if t == "scaled" else 1))


@pytest.mark.parametrize("id", LMMS + GLMMS)
def test_hatvalues_and_cooks(id):
    "lme4's hatvalues: our leverage for an LMM, leverage / working weight for a GLMM (see the chapter)"
    m, d = model(id), REF[id]["diagnostics"]
    h = m.leverage()
    if id in GLMMS:
        hl = h / m.wrkwt
        np.testing.assert_allclose(hl.sum(), d["hatvalues"]["sum"], rtol=1e-3)
        np.testing.assert_allclose(hl[:5], d["hatvalues"]["first5"], rtol=2e-3)
        r = m.residuals(type="pearson")
        cd = r**2 * hl / (m.feterm.rank * (1 - hl)**2)
        np.testing.assert_allclose(cd[:10], d["cooks_distance_first10"]["values"], rtol=5e-3)
        return
    np.testing.assert_allclose(h.sum(), d["hatvalues"]["sum"], rtol=1e-5)
    np.testing.assert_allclose(h[:5], d["hatvalues"]["first5"], rtol=1e-4)
    ref = np.array(d["cooks_distance_first10"]["values"])
    np.testing.assert_allclose(m.cooksdistance()[:10], ref, rtol=1e-3, atol=1e-5 * ref.max())


def _pred_cases(id):
    p = REF[id]["predict"]
    for sec in ("first5", "newdata_seen", "newdata_new"):
        yield sec, pd.DataFrame(p[sec]["rows"]), p[sec]


@pytest.mark.parametrize("id", LMMS + GLMMS)
def test_predict(id):
    m = model(id)
    for sec, nd, ref in _pred_cases(id):
        for kind, suffix in ([("linpred", "_link"), ("response", "_response")] if id in GLMMS else [("response", "")]):
            cond, pop, new = ref["conditional" + suffix], ref["population" + suffix], ref["allow_new_levels" + suffix]
            if isinstance(cond, dict):
                with pytest.raises(ValueError, match="NEW"): m.predict(nd, new_re_levels="error", type=kind)
                assert np.isnan(m.predict(nd, type=kind)).any()
            else:
                close(m.predict(nd, new_re_levels="error", type=kind), cond, id)
            close(m.predict(nd, re=False, type=kind), pop, id)
            close(m.predict(nd, new_re_levels="population", type=kind), new, id)


@pytest.mark.parametrize("id", LMMS + GLMMS)
def test_predict_dense(id):
    "At mixednb's own optimum: predictions and their conditional variances against dense algebra to 1e-8"
    m = model(id)
    for re in (True, False):
        d = m.predict(type="linpred", re=re, interval="confidence")
        eta, var = _dense_pred(m, re)
        np.testing.assert_allclose(d.prediction, eta, rtol=1e-8)
        np.testing.assert_allclose(((d.upper - d.prediction) / 1.959963984540054)**2, var, rtol=1e-8)


def test_predict_newdata_equals_own_rows():
    "Predicting the model's own data as newdata gives the fitted values; offsets shift the linear predictor"
    m = model("contra_laplace")
    d = dataset("contra")
    np.testing.assert_allclose(m.predict(d, type="linpred"), m.eta, rtol=1e-10)
    np.testing.assert_allclose(m.predict(d.head(3), type="linpred", offset=0.5), m.eta[:3] + 0.5, rtol=1e-10)
    with pytest.raises(ValueError, match="lacks the column"): m.predict(d.drop(columns="age"))
    with pytest.raises(ValueError, match="prediction intervals"): m.predict(interval="prediction")


def test_prediction_intervals_lmm():
    "Prediction intervals are wider than confidence intervals by σ² (plus σ²‖Λᵀz‖² for a new level)"
    m = model("sleepstudy_ML")
    nd = pd.DataFrame({"subj": ["S308", "NEW"], "days": [2.0, 2.0]})
    c = m.predict(nd, new_re_levels="population", interval="confidence")
    p = m.predict(nd, new_re_levels="population", interval="prediction")
    z = 1.959963984540054
    vc, vp = ((c.upper - c.prediction) / z)**2, ((p.upper - p.prediction) / z)**2
    lam = m.reterms[0].lambda_
    np.testing.assert_allclose(vp - vc, m.sigma**2 * (1 + np.array([0, np.sum((np.array([1, 2.0]) @ lam)**2)])), rtol=1e-10)


@pytest.mark.parametrize("id", ["dyestuff_ML", "contra_laplace"])
def test_simulate_moments(id):
    m, s = model(id), REF[id]["simulate"]
    N = 10_000
    ys = m.simulate(N, seed=11)
    assert ys.shape == (N, m.nobs)
    if id in GLMMS:
        Ey, Vy = _glmm_moments(m)
        np.testing.assert_allclose(Ey[:3], s["theoretical"]["first3_obs_mean"], atol=2e-3)
        np.testing.assert_allclose(Vy.mean(), s["theoretical"]["mean_of_obs_var"], rtol=1e-3)
    else:
        Λ, X, Z = dense_parts(m)
        Ey, Vy = X @ m.beta, m.sigma**2 * (1 + ((Z @ Λ)**2).sum(1))
        np.testing.assert_allclose(Ey[:3], s["theoretical"]["first3_obs_mean"], rtol=1e-6)
        np.testing.assert_allclose(Vy[:3], s["theoretical"]["first3_obs_var"], rtol=1e-5)
        assert np.all(np.abs(ys.var(0) / Vy - 1) < 4.5 * np.sqrt(2 / N))
    assert np.all(np.abs(ys.mean(0) - Ey) < 4.5 * np.sqrt(Vy / N))
    assert abs(ys.var(0).mean() / s["theoretical"]["mean_of_obs_var"] - 1) < 0.02


def test_simulate_poisson_binomial_and_args():
    d = dataset("grouseticks")
    d = d.assign(h=(d.height - d.height.mean()) / d.height.std())
    m = fit("ticks ~ 1 + year + h + (1|location)", d, family=Poisson())
    Ey, Vy = _glmm_moments(m)
    ys = m.simulate(20_000, seed=4)
    assert np.all(np.abs(ys.mean(0) - Ey) < 5 * np.sqrt(Vy / 20_000))
    np.testing.assert_array_equal(m.simulate(seed=1), m.simulate(seed=1))
    assert m.simulate(seed=1).shape == (m.nobs,)
    c = dataset("cbpp")
    c = c.assign(prop=c.incidence / c["size"])
    mb = fit("prop ~ 1 + period + (1|herd)", c, family=Binomial(), weights="size")
    yb = mb.simulate(5, seed=2)
    np.testing.assert_allclose(yb * mb.wt, np.round(yb * mb.wt))
    assert np.all((yb >= 0) & (yb <= 1))
    l = model("dyestuff_ML")
    y0 = l.simulate(2000, seed=3, beta=[0.0], sigma=1.0, theta=[0.0])
    assert abs(y0.mean()) < 0.01 and abs(y0.var() - 1) < 0.02


def test_prediction_interval_coverage_refits():
    "Simulate data from the fitted model as truth, refit, predict a new observation of each row: ~95% coverage"
    truth = model("sleepstudy_ML")
    m = LinearMixedModel("reaction ~ 1 + days + (1 + days | subj)", dataset("sleepstudy")).fit()
    rng, hits, total = np.random.default_rng(7), 0, 0
    for k in range(40):
        b = [truth.sigma * r.lambda_ @ rng.standard_normal((r.S, r.nlevels)) for r in truth.reterms]
        mean = truth.X @ truth.beta + sum(np.einsum("ns,sn->n", r.z, bb[:, r.refs]) for r, bb in zip(truth.reterms, b))
        y, ynew = mean + truth.sigma * rng.standard_normal((2, truth.nobs))
        m.refit(y)
        p = m.predict(interval="prediction")
        hits += np.sum((ynew > p.lower) & (ynew < p.upper)); total += len(ynew)
    assert 0.93 < hits / total < 0.97, hits / total


@pytest.mark.parametrize("id", ["sleepstudy_REML", "penicillin_ML", "contra_laplace"])
def test_saveoptsum_roundtrip(id, tmp_path):
    m = model(id)
    path = tmp_path / "m.json"
    m.saveoptsum(path)
    f = REF[id]["fit"]
    formula = f["mm_formula"].split("  [")[0]
    if id in GLMMS: m2 = GeneralizedLinearMixedModel(formula, dataset(REF[id]["dataset"]), m.family)
    else: m2 = LinearMixedModel(formula, dataset(REF[id]["dataset"]), reml=m.reml)
    restoreoptsum(m2, path)
    assert repr(m2.summary()) == repr(m.summary())
    np.testing.assert_allclose(m2.predict(), m.predict(), rtol=1e-10)
    np.testing.assert_allclose(m2.objective(), m.objective(), rtol=1e-12)
    assert len(m2.optsum.fitlog) == len(m.optsum.fitlog) and m2.isfitted
    m3 = pickle.loads(pickle.dumps(m))
    assert repr(m3.summary()) == repr(m.summary())
    np.testing.assert_array_equal(m3.predict(), m.predict())


def test_restoreoptsum_rejects_other_data(tmp_path):
    m = model("sleepstudy_ML")
    m.saveoptsum(tmp_path / "m.json")
    d = dataset("sleepstudy")
    other = LinearMixedModel("reaction ~ 1 + days + (1 + days | subj)", d.assign(reaction=d.reaction * 1.1))
    with pytest.raises(ValueError, match="different data"): restoreoptsum(other, tmp_path / "m.json")
    (tmp_path / "x.json").write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="not a mixednb optsum"): restoreoptsum(other, tmp_path / "x.json")
