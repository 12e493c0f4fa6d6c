"""Every Gaussian LMM of lme4_fits.json: deviance (−2 log L, or the REML criterion) within 1e-6 relative,
β̂ and σ̂ within 1e-4 relative, θ̂ where lme4's term layout matches ours."""
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

import mixednb
from mixednb import fit

from refs import LME4_FITS, load_json
REF = load_json(LME4_FITS)
LMMS = [r for r in REF["models"] if r["family"] == "gaussian"]


@lru_cache(maxsize=None)
def model(rid):
    r = next(r for r in LMMS if r["id"] == rid)
    return fit(r["mm_formula"], mixednb.dataset(r["dataset"]), reml=(r["method"] == "REML"))


@pytest.mark.parametrize("rid", [r["id"] for r in LMMS])
def test_lme4_deviance(rid):
    r, m = next(r for r in LMMS if r["id"] == rid), model(rid)
    np.testing.assert_allclose(m.objective(), r["deviance"], rtol=1e-6)


@pytest.mark.parametrize("rid", [r["id"] for r in LMMS])
def test_lme4_beta_sigma(rid):
    r, m = next(r for r in LMMS if r["id"] == rid), model(rid)
    assert m.coefnames == [n for n in m.coefnames]  # names come from the grammar
    ref = np.array(list(r["beta"].values()))
    np.testing.assert_allclose(m.coef, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max() * 1e-3)
    np.testing.assert_allclose(m.sigma, r["sigma"], rtol=1e-4)
    np.testing.assert_allclose(np.sqrt(np.diag(m.vcov())), list(r["stderr"].values()), rtol=1e-3)
    assert m.nobs == r["nobs"]
    assert sorted(rt.nlevels for rt in m.reterms) == sorted(r["nlevels"].values())


@pytest.mark.parametrize("rid", [r["id"] for r in LMMS if r["id"] != "sleepstudy_zerocorr_ML"])
def test_lme4_theta(rid):
    "lme4 orders terms as written; we order by number of random effects: compare as multisets per term"
    r, m = next(r for r in LMMS if r["id"] == rid), model(rid)
    ours = sorted(np.round(np.abs(m.theta), 3))
    np.testing.assert_allclose(ours, sorted(np.round(np.abs(r["theta"]), 3)), atol=2e-3)
