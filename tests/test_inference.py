"Inference (chapter 15): nesting checks, simulation and bootstrap bookkeeping beyond the notebook's reference tests"
import copy, json, warnings

import numpy as np
import pandas as pd
import pytest

import mixednb as mn
from mixednb.inference import (likelihoodratiotest, parametricbootstrap, load, param_rows, param_values,
                               shortestcovint, _xspan_nested)
from refs import SHARED, load_json

REF = load_json(SHARED / "reference" / "lme4_inference.json")
MODELS = {m["id"]: m for m in REF["models"]}


@pytest.fixture(scope="module")
def ss():
    return mn.fit("reaction ~ 1 + days + (1 + days|subj)", "sleepstudy")


@pytest.fixture(scope="module")
def ss_int():
    return mn.fit("reaction ~ 1 + days + (1|subj)", "sleepstudy")


def test_lrt_order_free_and_frame(ss, ss_int):
    a, b = likelihoodratiotest(ss, ss_int), likelihoodratiotest(ss_int, ss)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert list(a.frame.columns) == ["model", "dof", "deviance", "AIC", "BIC", "chisq", "ddof", "p"]
    ref = next(t for t in MODELS["sleepstudy_intercept_ML"]["lrt"] if t["id"] == "vs_slope")["rows"]
    np.testing.assert_allclose(a.frame["chisq"][1], ref[1]["Chisq"], rtol=1e-6)
    np.testing.assert_allclose(a.pvalues[0], ref[1]["p_value"], rtol=1e-6)
    np.testing.assert_allclose(a.frame["AIC"], [r["AIC"] for r in ref], rtol=1e-8)
    np.testing.assert_allclose(a.frame["BIC"], [r["BIC"] for r in ref], rtol=1e-8)
    assert "P(>χ²)" in repr(a) and "<table" in a._repr_html_()


def test_lrt_penicillin_drop_plate():
    full = mn.fit("diameter ~ 1 + (1|plate) + (1|sample)", "penicillin")
    lrt = likelihoodratiotest(mn.fit("diameter ~ 1 + (1|sample)", "penicillin"), full)
    ref = next(t for t in MODELS["penicillin_ML"]["lrt"] if t["id"] == "drop_plate")["rows"][1]
    np.testing.assert_allclose(lrt.frame["chisq"][1], ref["Chisq"], rtol=1e-6)
    np.testing.assert_allclose(lrt.pvalues[0], ref["p_value"], rtol=1e-5)


def test_lrt_refuses_non_nested_fixed_effects():
    df = mn.dataset("sleepstudy").copy()
    df["d2"] = df["days"] ** 2
    m1 = mn.fit("reaction ~ 1 + days + (1|subj)", df)
    m2 = mn.fit("reaction ~ 1 + d2 + (1 + days|subj)", df)
    with pytest.raises(ValueError, match="not in the span"):
        likelihoodratiotest(m1, m2)


def test_lrt_refuses_lmm_vs_glmm():
    df = mn.dataset("sleepstudy").copy()
    df["hi"] = (df["reaction"] > df["reaction"].median()).astype(float)
    lmm = mn.fit("hi ~ 1 + (1|subj)", df)
    glmm = mn.fit("hi ~ 1 + days + (1|subj)", df, family="bernoulli")
    with pytest.raises(ValueError, match="different kinds"):
        likelihoodratiotest(lmm, glmm)


def test_lrt_reml_refit_true_matches_lme4():
    m_full = mn.fit("reaction ~ 1 + days + (1 + days|subj)", "sleepstudy", reml=True)
    m_int = mn.fit("reaction ~ 1 + days + (1|subj)", "sleepstudy", reml=True)
    with pytest.warns(UserWarning, match="refitting"):
        lrt = likelihoodratiotest(m_full, m_int, refit=True)
    assert not lrt.reml and m_full.reml and m_int.reml
    ref = [r for t in MODELS["sleepstudy_REML"]["lrt"] if t["id"] == "re_structure" for r in t["rows"]]
    ref = [ref[0], ref[2]]
    np.testing.assert_allclose(lrt.frame["deviance"], [r["deviance"] for r in ref], rtol=1e-6)


def test_param_rows_crossed_and_zerocorr():
    zc = mn.fit("reaction ~ 1 + days + zerocorr(1 + days|subj)", "sleepstudy")
    assert [k for k, _, _ in param_rows(zc)] == ["sd", "sd", "sigma", "beta", "beta"]
    pen = mn.fit("diameter ~ 1 + (1|plate) + (1|sample)", "penicillin")
    ref = MODELS["penicillin_ML"]["confint"]["parameters"]
    assert [(k, g if k != "sigma" else None) for k, g, _ in param_rows(pen)] == [(p["kind"], p.get("group")) for p in ref]
    np.testing.assert_allclose(param_values(pen), [p["estimate"] for p in ref], rtol=1e-4)


def test_glmm_wald_loose_verbagg_free():
    "The GLMM Wald intervals use the working-factor vcov: close to lme4's Hessian-based ones"
    m = mn.fit("use ~ 1 + age + I(age^2) + urban + livch + (1|dist)", "contra", family="bernoulli")
    ci = m.confint(level=0.9)
    b = ci[ci.kind == "beta"]
    z = (b.upper - b.lower) / (2 * m.stderror())
    np.testing.assert_allclose(z, 1.6448536269514722, rtol=1e-12)


def test_bootstrap_seed_and_distinct(ss_int):
    a = parametricbootstrap(ss_int, 5, seed=7, progress=False)
    b = parametricbootstrap(ss_int, 5, seed=7, progress=False)
    c = parametricbootstrap(ss_int, 5, seed=8, progress=False)
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.array_equal(a.values, c.values)
    assert a.frame["group"][a.frame.kind == "beta"].isna().all()


def test_bootstrap_roundtrip(tmp_path, ss_int):
    a = parametricbootstrap(ss_int, 4, seed=1, progress=False)
    a.save(tmp_path / "b.arrow")
    b = load(tmp_path / "b.arrow")
    np.testing.assert_array_equal(a.values, b.values)
    pd.testing.assert_frame_equal(a.frame, b.frame)


def test_simulate_poisson_and_binomial():
    rng = np.random.default_rng(0)
    g = mn.fit("y ~ 1 + (1|g)", pd.DataFrame({"y": rng.poisson(3, 200), "g": np.repeat(list("abcdefghij"), 20)}),
               family="poisson")
    ys = g.simulate(500, seed=rng)
    assert np.all(ys == np.round(ys)) and abs(ys.mean() / np.exp(g.beta[0] + g.theta[0] ** 2 / 2) - 1) < 0.05
    cbpp = mn.dataset("cbpp").copy()
    cbpp["prop"] = cbpp["incidence"] / cbpp["size"]
    gb = mn.fit("prop ~ 1 + period + (1|herd)", cbpp, family="binomial", weights="size")
    y = gb.simulate(seed=rng)
    k = y * gb.wt
    np.testing.assert_allclose(k, np.round(k), atol=1e-9)
    assert np.all((y >= 0) & (y <= 1))
    bs = parametricbootstrap(gb, 3, seed=2, progress=False)
    assert np.isfinite(bs.values).all()


def test_shortestcovint_edges():
    assert np.isnan(shortestcovint(np.array([np.nan, np.nan]))[0])
    v = np.arange(100.0)
    lo, hi = shortestcovint(v, 0.9)
    assert hi - lo == 89
    with pytest.raises(ValueError):
        shortestcovint(v, 1.0)


def test_xspan():
    X = np.column_stack([np.ones(10), np.arange(10.0)])
    assert _xspan_nested(X[:, :1], X) and not _xspan_nested(X, X[:, :1])
    assert _xspan_nested(X @ np.array([[1, 2], [3, 4.0]]), X)


def test_verbagg_wald_and_lrt():
    "VerbAgg (crossed Bernoulli GLMM, 7584 rows): Wald intervals and the test of `mode`, against lme4 at its optimum"
    full = "r2 ~ 1 + anger + gender + btype + situ + mode + (1|subj) + (1|item)"
    ref = MODELS["verbagg_laplace"]
    m1 = mn.fit(full, "verbagg", family="bernoulli")
    m0 = mn.fit(full.replace(" + mode", ""), "verbagg", family="bernoulli")
    rows = next(t for t in ref["lrt"] if t["id"] == "drop_mode")["rows"]
    lrt = likelihoodratiotest(m0, m1)
    # lme4's GLMM optimum is about 1e-4 above ours in −2ℓ; a lower objective is never worse
    assert np.all(lrt.frame["deviance"].to_numpy() <= np.array([r["deviance"] for r in rows]) + 1e-6)
    np.testing.assert_allclose(lrt.frame["deviance"], [r["deviance"] for r in rows], rtol=1e-6)
    np.testing.assert_allclose(lrt.frame["chisq"][1], rows[1]["Chisq"], rtol=1e-3)
    np.testing.assert_allclose(lrt.pvalues[0], rows[1]["p_value"], rtol=1e-2)
    ci = m1.confint()
    wald = [r for r in ref["confint"]["wald"]["rows"] if r["lower"] is not None]
    b = ci[ci.kind == "beta"]
    width = np.array([r["upper"] - r["lower"] for r in wald])
    np.testing.assert_allclose(b.estimate, [r["estimate"] for r in wald], atol=2e-3 * width.max())
    np.testing.assert_allclose(b.upper - b.lower, width, rtol=0.02)   # working-factor vcov vs lme4's Hessian


@pytest.mark.parametrize("mid,formula,data", [("sleepstudy_ML", "reaction ~ 1 + days + (1 + days|subj)", "sleepstudy"),
                                              ("penicillin_ML", "diameter ~ 1 + (1|plate) + (1|sample)", "penicillin")])
def test_bootstrap_2000_against_bootmer_and_profile(mid, formula, data):
    """2,000 replicates: equal-tail intervals agree with lme4's bootMer percentile intervals (500 replicates) within
    their Monte-Carlo error. They are not the profile intervals: with 18 subjects or 6 samples the percentile
    bootstrap inherits the ML variance estimates' downward bias, and lme4's bootstrap and profile intervals differ
    by the same amounts as ours (up to 1.9 bootstrap sds for penicillin's sample sd; 0.5 for its intercept)."""
    m = mn.fit(formula, data)
    b = parametricbootstrap(m, 2000, seed=11, progress=False)
    ci, ref = b.confint(method="equaltail"), MODELS[mid]["bootstrap"]["stats"]
    # Monte-Carlo standard error of a 500-replicate quantile, from four disjoint 500-replicate batches of ours
    batches = b.values.reshape(4, 500, -1)
    q = np.stack([np.nanquantile(batches, p, axis=1) for p in (0.025, 0.975)])     # 2 × 4 × params
    se = q.std(axis=1, ddof=1) * np.sqrt(1 + 1 / 4)                                # lme4's 500 and our 2000
    for j, r in enumerate(ref):
        for k, (ours, theirs) in enumerate(((ci.lower.iloc[j], r["perc_ci_lower"]), (ci.upper.iloc[j], r["perc_ci_upper"]))):
            if se[k, j] == 0: assert ours == theirs, (r["name"], ours, theirs)         # a correlation at ±1
            else: assert abs(ours - theirs) < 4 * se[k, j] + 1e-12, (r["name"], k, ours, theirs, se[k, j])
    # and the profile intervals differ from the bootstrap's as lme4's do (chapter 15a matches lme4's profile to 1e-3)
    pr, lp = m.confint(method="profile"), MODELS[mid]["confint"]["profile"]["by_level"][0]["rows"]
    sd = np.nanstd(b.values, axis=0, ddof=1)
    for j, r in enumerate(lp):
        for ours, theirs in ((ci.lower.iloc[j] - pr.lower.iloc[j], ref[j]["perc_ci_lower"] - r["lower"]),
                             (ci.upper.iloc[j] - pr.upper.iloc[j], ref[j]["perc_ci_upper"] - r["upper"])):
            assert abs(ours - theirs) < 0.5 * sd[j], (r["name"], ours, theirs, sd[j])


# --- the compiled bootstrap path (chapter 15, "A replicate in one compiled call") ---------------------------------
from mixednb.lmm import LinearMixedModel
from mixednb.inference import _boot_plan, _fast_replicates, _general_replicates, _param_matrix, BOOT_DENSE


def _refit_objectives(m, seeds, **opts):
    "The general path's objective on each replicate: `refit` of a copy to the same simulated response"
    work, out = copy.deepcopy(m), []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in seeds:
            work.refit(m.simulate(seed=np.random.default_rng(s)), **opts)
            out.append(work.objective())
    return np.array(out)


def _fast(m, seeds):
    plan = _boot_plan(m)
    assert plan is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _fast_replicates(m, *plan, seeds, copy.deepcopy(m))


@pytest.mark.parametrize("formula,data", [("reaction ~ 1 + days + (1 + days|subj)", "sleepstudy"),
                                          ("diameter ~ 1 + (1|plate) + (1|sample)", "penicillin")])
def test_compiled_replicates_reach_refits_objective(formula, data):
    "On each of 200 replicates the compiled refit's objective is the general path's or lower (1e-6 relative), cold or warm"
    m = mn.fit(formula, data)
    seeds = np.random.SeedSequence(2024).spawn(200)
    out, F, nev, general = _fast(m, seeds)
    for opts in ({}, dict(initial=m.theta, restart=False)):
        ref = _refit_objectives(m, seeds, **opts)
        assert np.all(F <= ref + 1e-6 * np.abs(ref)), np.max((F - ref) / np.abs(ref))
    assert general.sum() <= 2 and np.median(nev) < 60
    # the values are the parameters at the compiled optimum: β̂ and σ̂ as a model at that θ gives them
    work = copy.deepcopy(m)
    i = int(np.argmax(~general))
    work.refit(m.simulate(seed=np.random.default_rng(seeds[i])))
    np.testing.assert_allclose(out[i], param_values(work), rtol=1e-2, atol=1e-3)


def _three_terms():
    "Three crossed factors, a random slope on the second: 5 θ, a dense block of 7·2 + 4 + 3 rows"
    r, i = np.random.default_rng(3), np.arange(400)
    x = r.normal(size=len(i))
    y = (2 * r.normal(size=20)[i % 20] + 2 * r.normal(size=7)[i % 7] * (1 + x) + 2 * r.normal(size=4)[i % 4]
         + r.normal(size=len(i)))
    return mn.fit("y ~ 1 + x + (1|g) + (1 + x|h) + (1|k)", pd.DataFrame({"g": i % 20, "h": i % 7, "k": i % 4, "x": x, "y": y}))


@pytest.mark.parametrize("case", ["reml", "weights", "sigma", "two_terms", "nested", "three_terms", "no_fixed", "three_columns"])
def test_compiled_replicates_variants(case):
    "REML, prior weights, a fixed σ, two terms on one factor, nested and three crossed terms, no β, S = 3: `refit`'s objective or lower"
    ss = mn.dataset("sleepstudy")
    m = {"reml": lambda: mn.fit("reaction ~ 1 + days + (1 + days|subj)", ss, reml=True),
         "weights": lambda: LinearMixedModel("reaction ~ 1 + days + (1 + days|subj)", ss,
                                             weights=np.random.default_rng(4).uniform(0.5, 2, len(ss))).fit(),
         "sigma": lambda: LinearMixedModel("yield ~ 1 + (1|batch)", mn.dataset("dyestuff"), sigma=50.0).fit(),
         "two_terms": lambda: mn.fit("reaction ~ 1 + days + (1|subj) + (0 + days|subj)", ss),
         "nested": lambda: mn.fit("strength ~ 1 + (1|batch) + (1|batch & cask)", "pastes"),
         "three_terms": _three_terms,
         "no_fixed": lambda: mn.fit("reaction ~ 0 + (1 + days|subj)", ss),
         "three_columns": lambda: mn.fit("reaction ~ 1 + days + (1 + days + I(days^2)|subj)", ss)}[case]()
    seeds = np.random.SeedSequence(7).spawn(40)
    _, F, _, _ = _fast(m, seeds)
    ref = _refit_objectives(m, seeds)
    assert np.all(F <= ref + 1e-6 * np.abs(ref)), np.max((F - ref) / np.abs(ref))


def test_compiled_path_qualifies():
    "GLMMs, singular fits and models past BOOT_DENSE take the general path"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _boot_plan(mn.fit("yield ~ 1 + (1|batch)", "dyestuff2")) is None            # θ̂ = 0
        assert _boot_plan(mn.fit("use ~ 1 + age + (1|dist)", "contra", family="bernoulli")) is None
        rng, i = np.random.default_rng(1), np.arange(1200)
        g, h = i % (BOOT_DENSE + 10), i % (BOOT_DENSE + 20)                 # h first, then g: a dense block past BOOT_DENSE
        big = mn.fit("y ~ 1 + (1|g) + (1|h)", pd.DataFrame({"y": rng.normal(size=g.max() + 1)[g] + rng.normal(size=h.max() + 1)[h]
                                                                 + rng.normal(size=len(i)), "g": g, "h": h}))
        X = rng.normal(size=(900, 3)); g = np.arange(900) % 30                # (1 + x1 + x2 + x3 | g): 10 θ, L-BFGS's
        b = rng.normal(size=(30, 4)) * 3
        wide = mn.fit("y ~ 1 + x1 + x2 + x3 + (1 + x1 + x2 + x3|g)", pd.DataFrame(
            {"y": b[g, 0] + (b[g, 1:] * X).sum(1) + rng.normal(size=900), "x1": X[:, 0], "x2": X[:, 1], "x3": X[:, 2], "g": g}))
    assert not big.issingular() and _boot_plan(big) is None
    assert len(wide.theta) == 10 and not wide.issingular() and _boot_plan(wide) is None
    assert _boot_plan(mn.fit("yield ~ 1 + (1|batch)", "dyestuff")) is not None


def test_compiled_bootstrap_independent_of_batches_and_processes():
    "Batches of 256 in one process and chunks in two give the same replicates, bit for bit"
    m = mn.fit("diameter ~ 1 + (1|plate) + (1|sample)", "penicillin")
    a = parametricbootstrap(m, 600, seed=5, progress=False)
    b = parametricbootstrap(m, 600, seed=5, progress=False, n_jobs=2)
    np.testing.assert_array_equal(a.values, b.values)
    c = parametricbootstrap(m, 10, seed=5, progress=False)
    np.testing.assert_array_equal(a.values[:10], c.values)


def test_general_path_agrees_with_compiled():
    "The two paths give the same replicates up to the optimiser's tolerance"
    m = mn.fit("reaction ~ 1 + days + (1 + days|subj)", "sleepstudy")
    seeds = np.random.SeedSequence(9).spawn(20)
    fast, _, _, _ = _fast(m, seeds)
    gen = _general_replicates(m, seeds)
    np.testing.assert_allclose(fast, gen, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("formula,data,family", [
    ("reaction ~ 1 + days + (1 + days|subj)", "sleepstudy", None),
    ("reaction ~ 1 + days + zerocorr(1 + days|subj)", "sleepstudy", None),
    ("diameter ~ 1 + (1|plate) + (1|sample)", "penicillin", None),
    ("use ~ 1 + age + (1|dist)", "contra", "bernoulli")])
def test_param_values_are_varcorrs(formula, data, family):
    "param_values reads the sds and correlations `varcorr` reports, then σ and β; `_param_matrix` row by row"
    m = mn.fit(formula, data, family=family)
    vc, want = m.varcorr(), []
    for r, g in zip(m.reterms, vc.groups):
        for c in range(r.S):
            for i in range(c, r.S):
                if i == c: want.append(g.sigma[c])
                elif not g.structural[i, c]: want.append(g.rho[i, c])
    want = np.r_[want, [m.sigma] if m.has_dispersion else [], m.beta]
    np.testing.assert_allclose(param_values(m), want, rtol=1e-13)
    th = np.vstack([m.theta, 0.5 * m.theta])
    two = _param_matrix(m, th, [m.dispersion(), 2.0], np.vstack([m.beta, m.beta]))
    np.testing.assert_array_equal(two[0], param_values(m))
    assert len(param_rows(m)) == two.shape[1]
