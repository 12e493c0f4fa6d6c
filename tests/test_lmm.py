"""The LMM engine against MixedModels.jl's documented printed fits (seed_expectations.json) and against dense linear algebra.

Objectives must match to 1e-6 relative (the days-as-factor fits with tens of θ: the printed value or lower).
Other figures are compared at the precision MixedModels.jl's documentation prints them, loosened to 1e-4 relative for quantities that
move with θ̂ on a flat optimum (variance components, leverage sums): two optimisers stopping at different points
of a flat ridge agree on the objective to 1e-8 but on θ̂ only to ~1e-5.
"""
import json
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg as sla

import mixednb
from mixednb import fit, LinearMixedModel, dense_objective
from mixednb.lmm import dense_parts
from mixednb.blocks import blocktype
from mixednb.remat import zmatrix
from mixednb.schema import DummyCoding

from refs import SEED_EXPECTATIONS, load_json
SEED = load_json(SEED_EXPECTATIONS)
LMMS = [f for f in SEED["fits"] if f.get("reml") is not None]


@lru_cache(maxsize=None)
def seed_model(fid):
    f = next(f for f in LMMS if f["id"] == fid)
    data = mixednb.dataset(f["dataset"])
    if fid == "fm4b_pastes":  # sample = cask & "&" & batch, as the seed builds it
        data = data.assign(sample=[f"{c}&{b}" for c, b in zip(data["cask"], data["batch"])])
    con = {k: DummyCoding() for k in f.get("contrasts", {})} or None
    return fit(f["formula"], data, reml=f["reml"], contrasts=con)


def varcomps(m):
    "{'gname cname': variance} plus 'Residual', as MixedModels.jl's documentation prints them"
    s2, out = m.varest(), {}
    for r in m.reterms:
        v = s2 * np.sum(r.lambda_**2, axis=1)
        for c, vi in zip(r.cnames, v): out[f"{r.gname} {c}"] = vi
    out["Residual"] = s2
    return out


def close(a, b, rtol, atol=0.0):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=atol)


def reaches(fid):
    "Does our objective equal the printed one (to 1e-6 relative)? Otherwise we found a lower optimum"
    f = next(f for f in LMMS if f["id"] == fid)
    return abs(seed_model(fid).objective() - f["objective"]) <= 1e-6 * abs(f["objective"])


@pytest.mark.parametrize("fid", [f["id"] for f in LMMS])
def test_seed_objective(fid):
    f = next(f for f in LMMS if f["id"] == fid)
    obj, ref = seed_model(fid).objective(), f["objective"]
    if fid.startswith("days_cat"):        # tens of θ: the printed optimum or a lower one
        assert obj <= ref * (1 + 1e-6), (obj, ref)
    else:
        close(obj, ref, rtol=1e-6)


@pytest.mark.parametrize("fid", [f["id"] for f in LMMS])
def test_seed_estimates(fid):
    f, m = next(f for f in LMMS if f["id"] == fid), seed_model(fid)
    if not reaches(fid): pytest.skip("a lower optimum than MixedModels.jl's documented one: estimates differ by design")
    if "beta" in f: close(m.coef, f["beta"], rtol=2e-5, atol=1e-6)
    if "fulldummy" in fid:   # 11 columns for a 10-dimensional span: θ̂, σ̂ lie on a flat ridge; only β̂ is determined
        return
    if "stderror" in f: close(np.sqrt(np.diag(m.vcov())), f["stderror"], rtol=1e-4)
    if "varcomp" in f:
        vc = varcomps(m)
        for k, v in f["varcomp"].items(): close(vc[k], v, rtol=1e-4, atol=1e-6 * vc["Residual"])
    if "sd" in f:
        vc = varcomps(m)
        for k, v in f["sd"].items(): close(np.sqrt(vc[k]), v, rtol=1e-4, atol=1e-6)
    if "residual_var" in f: close(m.varest(), f["residual_var"], rtol=1e-4)
    if "nlevels" in f: assert [r.nlevels for r in m.reterms] == f["nlevels"]
    if "size" in f: assert list(m.size) == f["size"]
    if "nobs" in f: assert m.nobs == f["nobs"]
    if "leverage_sum" in f: close(m.leverage().sum(), f["leverage_sum"], rtol=1e-5)
    if "vcov" in f: close(m.vcov(), f["vcov"], rtol=1e-4)
    if "varest" in f: close(m.varest(), f["varest"], rtol=1e-5)
    if "sdest" in f: close(m.sdest(), f["sdest"], rtol=1e-5)
    if "coefnames" in f: assert m.coefnames == f["coefnames"]
    if "corr" in f:
        lam = m.reterms[0].lambda_
        c = lam @ lam.T; d = np.sqrt(np.diag(c))
        close(round((c / np.outer(d, d))[1, 0], 2), f["corr"]["subj (Intercept),days"], rtol=0, atol=1e-12)
    if f.get("singular"): assert np.any(m.theta[m.lowerbd == 0] == 0)


def test_fm1_details():
    f, m = LMMS[0], seed_model("fm1")
    close(m.ranef()[0][0], f["ranef"][0], rtol=1e-5)
    close(m.condvar()[0][:, 0, 0], f["condvar"], rtol=1e-6)
    close(m.leverage(), np.full(30, f["leverage_each"]), rtol=1e-6)
    close(m.beta, f["beta"], rtol=1e-12)
    assert list(m.size) == f["size"] and m.nobs == f["nobs"]


def test_split_equals_zerocorr():
    a, b = seed_model("fm2_split"), seed_model("fm2_zerocorr")
    assert a.reterms[0].diagonal and b.reterms[0].diagonal
    close(a.theta, b.theta, rtol=1e-6)
    close(a.objective(), b.objective(), rtol=1e-12)


# ---------------------------------------------------------------------------------------------------------
# the blocked objective equals the dense reference at random θ

def _random_data(rng, n=400):
    import pandas as pd
    return pd.DataFrame({"a": rng.integers(0, 40, n).astype(str), "b": rng.integers(0, 12, n).astype(str),
                         "c": rng.integers(0, 5, n).astype(str), "x": rng.standard_normal(n),
                         "y": rng.standard_normal(n)})


def _models():
    rng = np.random.default_rng(3)
    df = _random_data(rng)
    df["ab"] = df["a"] + ":" + df["b"]
    pastes = mixednb.dataset("pastes")
    return {
        "penicillin": ("diameter ~ 1 + (1|plate) + (1|sample)", mixednb.dataset("penicillin")),
        "pastes": ("strength ~ 1 + (1|batch/cask)", pastes),
        "sleepstudy": ("reaction ~ 1 + days + (1 + days|subj)", mixednb.dataset("sleepstudy")),
        "three_crossed": ("y ~ 1 + x + (1|a) + (1|b) + (1|c)", df),
        "vector_crossed": ("y ~ 1 + x + (1 + x|a) + (1|b)", df),
        "vector_crossed2": ("y ~ 1 + x + (1 + x|a) + (1 + x|b) + (1|c)", df),
        "nested3": ("y ~ 1 + x + (1|c/b/a)", df),
        "nested_vector": ("y ~ 1 + x + (1 + x|ab) + (1 + x|b)", df),
    }


@pytest.mark.parametrize("name", list(_models()))
@pytest.mark.parametrize("reml,weighted,sigma", [(False, False, None), (True, False, None), (False, True, None),
                                                 (True, True, 2.5)])
def test_blocked_equals_dense(name, reml, weighted, sigma):
    formula, data = _models()[name]
    m = LinearMixedModel(formula, data)
    rng = np.random.default_rng(abs(hash((name, reml, weighted))) % 2**32)
    w = rng.uniform(0.3, 3.0, m.nobs) if weighted else None
    m.reml, m.sigma_fixed = reml, sigma
    m.update_A(weights=w)
    for _ in range(3):
        th = rng.uniform(0.05, 2.0, len(m.theta)) * np.where(np.isinf(m.lowerbd), rng.choice([-1, 1], len(m.theta)), 1)
        blocked = m.set_theta(th).update_L().objective()
        dense = dense_objective(*dense_parts(m), m.y, reml=reml, weights=w, sigma=sigma)
        assert abs(blocked - dense) <= 1e-10 * abs(dense), (blocked, dense)


def test_fill_in_types():
    formula, data = _models()["three_crossed"]
    m = LinearMixedModel(formula, data)
    # b and c meet 56 % and 86 % of a's levels: their blocks below a are dense by chapter 5's rule (fill > 20 %)
    assert [blocktype(b) for b in m.L[:6]] == ["Diagonal", "Dense", "Dense", "Dense", "Dense", "Dense"]
    assert [blocktype(b) for b in m.A[:6]] == ["Diagonal", "Sparse", "Diagonal", "Sparse", "Sparse", "Diagonal"]
    formula, data = _models()["nested3"]
    m = LinearMixedModel(formula, data)
    assert [blocktype(m.L[i]) for i in (0, 2, 5)] == ["Diagonal", "Diagonal", "Diagonal"]


# ---------------------------------------------------------------------------------------------------------
# extractors against dense formulas

def _dense_pls(m):
    "Dense β̂, u, (ΛᵀZᵀWZΛ+I)⁻¹ and the hat matrix at the model's θ"
    Λ, X, Z = dense_parts(m)
    w = m._w; sw = np.sqrt(w)[:, None]
    ZΛ = sw * (Z @ Λ); Xw = sw * X; yw = sw[:, 0] * m.y
    q, p = ZΛ.shape[1], X.shape[1]
    M = np.hstack([ZΛ, Xw]); M = M.T @ M; M[:q, :q] += np.eye(q)
    sol = np.linalg.solve(M, np.hstack([ZΛ, Xw]).T @ yw)
    H = np.hstack([ZΛ, Xw]) @ np.linalg.solve(M, np.hstack([ZΛ, Xw]).T)
    return sol[q:], sol[:q], np.linalg.inv(ZΛ.T @ ZΛ + np.eye(q)), np.diag(H), Λ


@pytest.mark.parametrize("name", ["penicillin", "sleepstudy", "vector_crossed", "nested3"])
def test_extractors_dense(name):
    formula, data = _models()[name]
    m = LinearMixedModel(formula, data)
    rng = np.random.default_rng(11)
    m.update_A(weights=rng.uniform(0.5, 2, m.nobs))
    th = rng.uniform(0.2, 1.5, len(m.theta))
    m.set_theta(th).update_L()
    beta, u, Minv, h, Λ = _dense_pls(m)
    close(m.fixef, beta, rtol=1e-9, atol=1e-12)
    close(np.concatenate([x.T.ravel() for x in m.ranef(uscale=True)]), u, rtol=1e-8, atol=1e-10)
    close(m.leverage(), h, rtol=1e-8, atol=1e-12)
    C = m.varest() * Λ @ Minv @ Λ.T
    o = 0
    for r, cv in zip(m.reterms, m.condvar()):
        for lv in range(r.nlevels):
            blk = C[o + lv * r.S:o + (lv + 1) * r.S, o + lv * r.S:o + (lv + 1) * r.S]
            close(cv[lv], blk, rtol=1e-8, atol=1e-12 * np.abs(C).max())
        o += r.nranef
    close(m.fitted(), m.X @ m.coef + sum(zmatrix(r) @ b.T.ravel() for r, b in zip(m.reterms, m.ranef())), rtol=1e-10)


# ---------------------------------------------------------------------------------------------------------
# fitting behaviour

def test_refit_new_response():
    m = fit("reaction ~ 1 + days + (1 + days|subj)", "sleepstudy")
    th, obj = m.theta, m.objective()
    rng = np.random.default_rng(0)
    y2 = m.y + rng.standard_normal(m.nobs)
    m2 = fit("reaction ~ 1 + days + (1 + days|subj)", mixednb.dataset("sleepstudy").assign(reaction=y2))
    m.refit(y2)
    close(m.objective(), m2.objective(), rtol=1e-8)
    assert m.optsum.feval > 0 and len(m.optsum.fitlog) >= m.optsum.feval + 1


def test_fitlog_and_optsum():
    m = fit("diameter ~ 1 + (1|plate) + (1|sample)", "penicillin")
    os_ = m.optsum
    assert os_.optimizer == "LN_NEWUOA" and os_.feval > 10
    assert os_.returnvalue in ("FTOL_REACHED", "XTOL_REACHED", "SUCCESS")
    log = m.fitlog
    assert list(log.columns) == ["theta", "objective"]
    close(log["objective"].min(), os_.fmin, rtol=1e-12)
    close(log["theta"].iloc[0], os_.initial, rtol=0)
    close(os_.final, m.theta, rtol=0)


def test_reml_penicillin_sd():
    m = seed_model("fm4r_penicillin")
    close(m.leverage().sum(), 27.47236135264903, rtol=1e-5)


def test_rectify_and_snap():
    m = fit("yield ~ 1 + (1|batch)", "dyestuff2")
    assert m.theta[0] == 0.0 and m.optsum.final[0] == 0.0
    m = fit("reaction ~ 1 + days + (1 + days|subj)", "sleepstudy")
    assert np.all(np.diag(m.reterms[0].lambda_) >= 0)


@pytest.mark.parametrize("bad,msg", [
    (dict(data=lambda d: d.assign(**{"yield": 7.0})), "constant"),
    (dict(formula="yield ~ 1 + (1|g)", data=lambda d: d.assign(g="A")), "only one level"),
    (dict(formula="yield ~ 1 + (1|g)", data=lambda d: d.assign(g=[str(i) for i in range(30)])), "as many levels"),
    (dict(weights=np.r_[np.inf, np.ones(29)]), "non-finite"),
    (dict(weights=np.zeros(30)), "positive"),
    (dict(sigma=-1.0), "sigma"),
    (dict(data=lambda d: d.assign(x=np.r_[np.inf, np.arange(29.0)]), formula="yield ~ 1 + x + (1|batch)"), "non-finite"),
    (dict(data=lambda d: d.assign(x=np.r_[np.inf, np.arange(29.0)]), formula="yield ~ 1 + (1 + x|batch)"), "non-finite"),
])
def test_bad_input(bad, msg):
    d = mixednb.dataset("dyestuff")
    data = bad.get("data", lambda d: d)(d)
    kw = {k: v for k, v in bad.items() if k not in ("data", "formula")}
    with pytest.raises(ValueError, match=msg):
        fit(bad.get("formula", "yield ~ 1 + (1|batch)"), data, **kw)


def test_nonfinite_z_from_parts():
    from mixednb.remat import _hand_spec
    d = mixednb.dataset("sleepstudy").assign(days=lambda d: d["days"].astype(float))
    d.loc[3, "days"] = np.nan
    spec = _hand_spec(d, "subj", ["days"])
    with pytest.raises(ValueError, match="non-finite"):
        LinearMixedModel.from_parts(d["reaction"], np.ones((180, 1)), [spec])


def test_rank_deficient():
    d = mixednb.dataset("sleepstudy").assign(d2=lambda d: 3.0 * d["days"] + 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = fit("reaction ~ 1 + days + d2 + (1|subj)", d)
        m0 = fit("reaction ~ 1 + days + (1|subj)", d)
    assert m.feterm.rank == 2 and len(m.fixef) == 2 and len(m.coef) == 3
    close(m.objective(), m0.objective(), rtol=1e-8)
    dropped = m.feterm.piv[2]
    assert m.coef[dropped] == 0 and np.signbit(m.coef[dropped])
    assert np.isnan(m.vcov()[dropped]).all() and np.isnan(m.vcov()[:, dropped]).all()
    fitted0 = m0.fitted()
    close(m.fitted(), fitted0, rtol=1e-6)


def test_insteval_blocks():
    m = seed_model("fm5_insteval")
    assert [blocktype(b) for b in m.L[:3]] == ["Diagonal", "Sparse", "Dense"]
    assert m.L[2].shape == (1128, 1128)       # the only dense random-effects block


@pytest.mark.parametrize("reml", [False, True])
def test_dyestuff_closed_form(reml):
    """Balanced one-way layout: the ML and REML estimates have closed forms (ANOVA).

    MixedModels.jl's documentation prints the batch variance as 1388.3334 (ML) and 1764.0517 (REML); the exact optima are
    1388.3333… and 1764.0500…: the last printed digits carry the optimiser's stopping error, at the
    level where the objective is flat to rounding. The fit must land on the exact optimum to 1e-6.
    """
    d = mixednb.dataset("dyestuff")
    y, g = d["yield"].to_numpy(float), d["batch"].cat.codes.to_numpy()
    a, n = 6, 5
    means = np.array([y[g == i].mean() for i in range(a)])
    ssw = sum(((y[g == i] - means[i]) ** 2).sum() for i in range(a))
    ssb = n * ((means - y.mean()) ** 2).sum()
    msw = ssw / (a * (n - 1))
    vb = ((ssb / (a - 1) if reml else ssb / a) - msw) / n
    m = fit("yield ~ 1 + (1|batch)", d, reml=reml)
    close(m.sigma ** 2, msw, rtol=1e-6)
    close((m.theta[0] * m.sigma) ** 2, vb, rtol=1e-6)


def test_nonpositive_definite_start_recovers():
    "A slope constant within levels and of size 1e9: L fails at θ = I; the start is shrunk once, with a warning"
    rng = np.random.default_rng(1)
    g = np.repeat(np.arange(20), 10)
    x = np.repeat(rng.normal(size=20), 10) * 1e9
    y = rng.normal(size=200) + np.repeat(rng.normal(size=20), 10)
    import pandas as pd
    d = pd.DataFrame({"y": y, "x": x, "g": pd.Categorical([f"G{i:02d}" for i in g])})
    with pytest.warns(UserWarning, match="not positive definite at the initial"):
        m = fit("y ~ 1 + (1 + x | g)", d)
    assert m.optsum.initial[0] < 1 and np.isfinite(m.objective())
    assert m.objective() <= m.optsum.finitial


def test_more_random_effects_than_observations():
    "lme4's check.nobs.vs.nRE as a warning (MixedModels.jl's documentation fits such a model): 18 × 10 = 180 for 180 observations"
    d = mixednb.dataset("sleepstudy").assign(dayf=lambda d: d["days"].astype(str))
    with pytest.warns(UserWarning, match="has 180 random effects .* for 180 observations"):
        fit("reaction ~ 1 + (1 + dayf|subj)", d)
    m = fit("reaction ~ 1 + days + zerocorr(1 + days|subj)", "sleepstudy", contrasts={"days": DummyCoding()})
    assert m.objective() == pytest.approx(1765.8276, rel=1e-6)   # zerocorr: 18 per column, as MixedModels.jl fits it


def test_singular_warning_names_the_callers_line():
    "A SingularFitWarning points at the user's call, through `fit`, the model's own `fit` and their thread decorator"
    from mixednb.fitting import SingularFitWarning
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter("always")
        fit("yield ~ 1 + (1|batch)", "dyestuff2")
        LinearMixedModel("yield ~ 1 + (1|batch)", "dyestuff2").fit()
    assert [w.filename for w in ws if issubclass(w.category, SingularFitWarning)] == [__file__] * 2
