"""Checks of chapter 15a (likelihood profiles) that teach nothing in the chapter: an independent constrained
optimisation of a 3×3 term's correlation profile, the β offset closed form with prior weights, a zerocorr term,
and the smallest path of `benchmarks/profile.py` (no timing asserted)."""
import importlib.util, math, warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize as sp_minimize

import mixednb
from mixednb.lmm import dense_objective, dense_parts
from mixednb.inference import param_rows
from mixednb.profiles import _MLObjective, _sdcor

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def three():
    "sleepstudy with a third random-effects column x: a 3×3 λ"
    df = pd.DataFrame(mixednb.dataset("sleepstudy"))
    rng = np.random.default_rng(5)
    df["x"] = rng.normal(size=len(df))
    subj = pd.factorize(df["subj"])[0]
    df["reaction"] = df["reaction"] + rng.normal(0, 8, 18)[subj] * df["x"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mixednb.fit("reaction ~ 1 + days + x + (1 + days + x|subj)", df)


def test_cor_profile_against_constrained_optimisation(three):
    "Each profiled ρ point: its −2ℓ is no worse than SLSQP's minimum over θ with ρ(θ) = v as a constraint"
    m = three
    pr = m.profile()
    ml, r = _MLObjective(m), m.reterms[0]
    def rho(th, ic):
        lam = np.zeros(9); lam[r.inds] = th
        return _sdcor(lam.reshape(3, 3))[1][ic]
    th0, checked = m.theta.copy(), 0
    try:
        for (name, ic) in [("(Intercept), days", (1, 0)), ("days, x", (2, 1))]:
            pts = pr.table[(pr.table.kind == "cor") & (pr.table.name == name) & (pr.table.value.abs() < 0.95)]
            for v, obj in pts[["value", "objective"]].to_numpy()[::2]:
                res = sp_minimize(lambda th: ml(th), th0, method="SLSQP",
                                  constraints=[{"type": "eq", "fun": lambda th: rho(th, ic) - v}],
                                  options={"ftol": 1e-12, "maxiter": 500})
                if not (res.success and abs(rho(res.x, ic) - v) < 1e-7): continue
                assert obj <= ml(res.x) + 1e-6, (name, v, obj, ml(res.x))
                assert obj >= pr.fmin - 1e-6
                checked += 1
    finally:
        m.set_theta(th0).update_L()
    assert checked >= 6, checked


def test_three_column_rows_and_state(three):
    m = three
    obj = m.objective()
    ci = m.profile().confint()
    assert [tuple(x) for x in ci[["kind", "group", "name"]].itertuples(index=False)] == \
           [(k, g if k != "beta" else None, n) for k, g, n in param_rows(m)]
    assert (ci.lower <= ci.estimate + 1e-9).all() and (ci.estimate <= ci.upper + 1e-9).all()
    assert m.objective() == obj


def test_beta_offset_with_weights():
    "With prior weights, the closed form for β_j fixed is the objective of the offset model (dense)"
    df = pd.DataFrame(mixednb.dataset("sleepstudy"))
    w = np.random.default_rng(3).uniform(0.5, 2.0, len(df))
    m = mixednb.fit("reaction ~ 1 + days + (1 + days|subj)", df, weights=w)
    ml, rng = _MLObjective(m), np.random.default_rng(4)
    for _ in range(3):
        th = m.theta * rng.uniform(0.6, 1.4, 3)
        ml(th)
        Λ, X, Z = dense_parts(m)
        for j, b in [(0, 245.0), (1, 9.0)]:
            want = dense_objective(Λ, np.delete(X, j, 1), Z, m.y - X[:, j] * b, weights=w)
            assert math.isclose(ml(th, fix=(j, b)), want, rel_tol=1e-10)
        assert math.isclose(ml(th, sigma=27.0), dense_objective(Λ, X, Z, m.y, weights=w, sigma=27.0), rel_tol=1e-10)


def test_zerocorr_term():
    m = mixednb.fit("reaction ~ 1 + days + zerocorr(1 + days|subj)", "sleepstudy")
    ci = m.profile().confint(0.9)
    assert list(ci.kind) == ["sd", "sd", "sigma", "beta", "beta"]
    assert (ci.lower < ci.estimate).all() and (ci.estimate < ci.upper).all()


def test_benchmark_smallest_path(capsys):
    spec = importlib.util.spec_from_file_location("bench_profile", BENCH / "profile.py")   # not the stdlib's profile
    bench_profile = importlib.util.module_from_spec(spec); spec.loader.exec_module(bench_profile)
    res = bench_profile.main(["--no-lme4", "--reps", "1"])
    assert [r["model"] for r in res["rows"]] == ["sleepstudy_ML", "penicillin_ML"]
    assert all(r["ratio"] > 0 and r["lme4_source"] == "reference file" for r in res["rows"])
    assert "sleepstudy_ML" in capsys.readouterr().out


def test_rank_deficient_x():
    "A column dropped as dependent is not profiled, and the others' intervals are those of the model without it"
    df = pd.DataFrame(mixednb.dataset("sleepstudy")); df["d2"] = 2 * df["days"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = mixednb.fit("reaction ~ 1 + days + d2 + (1|subj)", df)
    ci = m.profile().confint()
    ref = mixednb.fit("reaction ~ 1 + days + (1|subj)", "sleepstudy").profile().confint()
    assert list(ci.name) == list(ref.name)
    np.testing.assert_allclose(ci[["lower", "upper"]], ref[["lower", "upper"]], rtol=1e-7)
