"""The gradient of the profiled objective (chapter 7) and the quasi-Newton fit that uses it (chapter 8), on every
Gaussian reference model: seed_expectations.json (MixedModels.jl's documented fits) and lme4_fits.json."""
import re
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

import mixednb
from mixednb import fit
from mixednb.lmm import LinearMixedModel
from mixednb.fitting import default_optimizer, GRAD_THETA
from mixednb.schema import DummyCoding

from refs import SEED_EXPECTATIONS, LME4_FITS, load_json

_cases = {}
for f in load_json(SEED_EXPECTATIONS)["fits"]:
    if f.get("reml") is not None:
        _cases[f["id"]] = (f["dataset"], f["formula"], f["reml"], tuple(f.get("contrasts", {})))
for r in load_json(LME4_FITS)["models"]:
    if r["family"] == "gaussian":
        _cases["lme4_" + r["id"]] = (r["dataset"], r["mm_formula"], r["method"] == "REML", ())
CASES = sorted(_cases)


def _data(cid):
    ds = _cases[cid][0]
    data = mixednb.dataset(ds)
    if cid == "fm4b_pastes":  # sample = cask & "&" & batch, as the seed builds it
        data = data.assign(sample=[f"{c}&{b}" for c, b in zip(data["cask"], data["batch"])])
    return data


def _model(cid, **kw):
    ds, form, reml, con = _cases[cid]
    return LinearMixedModel(form, _data(cid), {k: DummyCoding() for k in con} or None, reml=reml, **kw)


def fd_gradient(m, th, h=1e-4):
    "Fourth-order central differences (leaves L at θ)"
    f = lambda t: m.set_theta(t).update_L().objective()
    g = np.array([(8 * (f(th + h * e) - f(th - h * e)) - (f(th + 2 * h * e) - f(th - 2 * h * e))) / (12 * h)
                  for e in np.eye(len(th))])
    m.set_theta(th).update_L()
    return g


@pytest.mark.parametrize("cid", CASES)
def test_gradient_matches_finite_differences(cid):
    m = _model(cid)
    rng = np.random.default_rng(abs(hash(cid)) % 2**32)
    th = rng.uniform(0.2, 1.5, len(m.theta)) * np.where(np.isinf(m.lowerbd), rng.choice([-1, 1], len(m.theta)), 1)
    g = m.set_theta(th).update_L().gradient()
    gf = fd_gradient(m, th)
    np.testing.assert_allclose(g, gf, rtol=0, atol=1e-6 * np.abs(gf).max())


@lru_cache(maxsize=None)
def _fits(cid):
    "(derivative-free objective, gradient-fit objective)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nt = len(_model(cid).theta)
        df = _model(cid).fit(optimizer="LN_BOBYQA" if nt == 1 else "LN_NEWUOA")
        gr = _model(cid).fit(optimizer="LD_LBFGS")
    return df.objective(), gr.objective(), gr.optsum.optimizer


@pytest.mark.parametrize("cid", CASES)
def test_gradient_fit_never_worse(cid):
    "L-BFGS with the gradient reaches the derivative-free optimum or a lower one (within 1e-6 relative), singular fits included"
    fdf, fgr, alg = _fits(cid)
    assert alg == "LD_LBFGS"
    assert fgr <= fdf + 1e-6 * abs(fdf), (fgr, fdf)


def test_optimizer_chosen_by_length_of_theta():
    short = LinearMixedModel("reaction ~ 1 + days + (1 + days|subj)", "sleepstudy")
    assert default_optimizer(short, "LN_NEWUOA") == "LN_NEWUOA"
    long_ = _model("days_cat_full")
    assert len(long_.theta) >= GRAD_THETA and default_optimizer(long_, "LN_NEWUOA") == "LD_LBFGS"
    assert default_optimizer(long_, "LN_COBYLA") == "LN_COBYLA"          # a chosen optimiser is kept
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert long_.fit().optsum.optimizer == "LD_LBFGS"
        assert _model("days_cat_full").fit(optimizer="LN_NEWUOA").optsum.optimizer == "LN_NEWUOA"


def test_nlopt_called_in_one_place():
    "fitting.minimize (through its helper _nlopt) is the only place that makes an NLopt optimiser"
    src = Path(mixednb.__file__).parent
    hits = [(p.name, n) for p in src.glob("*.py") for n in [len(re.findall(r"nlopt\.opt\(", p.read_text()))] if n]
    assert hits == [("fitting.py", 1)], hits
