"""The shared `MixedModel` layer: one entry point, one optimiser, one kind per extractor for LMMs and GLMMs."""
import inspect
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixednb
from mixednb import fit, MixedModel, LinearMixedModel, GeneralizedLinearMixedModel, Bernoulli, Binomial, Poisson

PKG = Path(mixednb.__file__).parent

# every extractor both models share, with what it returns: "prop" (property) or "method" (called without arguments)
SHARED = {
    "theta": "prop", "θ": "prop", "lowerbd": "prop", "lambda_": "prop", "λ": "prop", "beta": "prop", "β": "prop",
    "fixef": "prop", "coef": "prop", "coefnames": "prop", "fixefnames": "prop", "X": "prop", "nobs": "prop",
    "size": "prop", "sigma": "prop", "σ": "prop", "u": "prop", "b": "prop", "sigmas": "prop", "σs": "prop",
    "sigmarhos": "prop", "σρs": "prop", "optsum": "prop", "fitlog": "prop", "isfitted": "prop", "working": "prop",
    "vcov": "method", "stderror": "method", "coeftable": "method", "ranef": "method", "raneftables": "method",
    "condvar": "method", "condvartables": "method", "varcorr": "method", "dof": "method", "dof_residual": "method",
    "aic": "method", "aicc": "method", "bic": "method", "loglikelihood": "method", "deviance": "method",
    "objective": "method", "issingular": "method", "pca": "method", "propertynames": "method", "summary": "method",
    "fitstats": "method", "dispersion": "method", "varest": "method", "sdest": "method", "fitted": "method",
    "residuals": "method", "leverage": "method", "response": "method", "modelmatrix": "method", "corr": "method",
    "pvalues": "method", "describe_blocks": "method", "refit": "method", "fit": "method",
    "_repr_html_": "method", "_repr_markdown_": "method", "_repr_latex_": "method",
}


@pytest.fixture(scope="module")
def models():
    lmm = fit("reaction ~ 1 + days + (1 + days|subj)", "sleepstudy")
    glmm = fit("use ~ 1 + age + abs2(age) + livch + urban + (1|dist)", "contra", family="bernoulli")
    return lmm, glmm


def kind(m, name):
    "How `m.name` reads: a property or plain attribute is read as `m.name`, a method is called"
    a = inspect.getattr_static(m, name)
    return "prop" if isinstance(a, property) or not callable(a) else "method"


@pytest.mark.parametrize("name", sorted(SHARED))
def test_same_kind_on_both(models, name):
    for m in models:
        assert isinstance(m, MixedModel)
        assert kind(m, name) == SHARED[name], (type(m).__name__, name)


def shape_of(v):
    "The structure of a value: type, and the number of dimensions of arrays (sizes differ between models)"
    if isinstance(v, np.ndarray): return ("ndarray", v.ndim)
    if isinstance(v, (list, tuple)): return (type(v).__name__, tuple(shape_of(x) for x in v[:1]))
    if isinstance(v, dict): return ("dict", tuple(shape_of(x) for x in list(v.values())[:1]))
    if isinstance(v, pd.DataFrame): return ("DataFrame", v.columns[0] == v.index.name or v.columns[0])
    if isinstance(v, (bool, np.bool_)): return "bool"
    if isinstance(v, (int, float, np.floating, np.integer)): return "number"
    return type(v).__name__


SKIP_COMPARE = {"fit", "refit", "sigma", "σ", "sigmas", "σs", "varest", "sdest", "optsum", "working",
                "describe_blocks", "summary", "fitstats", "propertynames", "raneftables", "condvartables", "fitlog"}


@pytest.mark.parametrize("name", sorted(set(SHARED) - SKIP_COMPARE))
def test_same_return_structure(models, name):
    lmm, glmm = models
    get = (lambda m: getattr(m, name)) if SHARED[name] == "prop" else (lambda m: getattr(m, name)())
    assert shape_of(get(lmm)) == shape_of(get(glmm)), name


def test_tables_have_one_shape(models):
    for m in models:
        for g, t in m.raneftables().items():
            assert t.columns[0] == g and t.index.equals(pd.RangeIndex(len(t)))   # levels in the first column
        assert set(m.fitstats()) >= {"logLik", "AIC", "AICc", "BIC"}
        assert isinstance(m.summary(), str) and str(m) == repr(m) == m.summary()
    lmm, glmm = models
    assert lmm.sdest() > 0 and glmm.sdest() is None and glmm.varcorr().residual is None
    assert lmm.dof() == 3 + 3 and glmm.dof() == len(glmm.beta) + 1           # σ counts for the LMM only


def test_glmm_extractors_from_the_working_factor(models):
    "vcov and condvar of a GLMM are the working LMM's, with the dispersion 1 in place of σ̂²"
    _, g = models
    w = g.working
    np.testing.assert_allclose(g.vcov(), w.vcov() / w.varest(), rtol=1e-12)
    np.testing.assert_allclose(g.condvar()[0], w.condvar()[0] / w.varest(), rtol=1e-12)
    assert g.leverage().sum() == pytest.approx(w.leverage().sum(), rel=1e-12)


@pytest.mark.parametrize("family,expect", [(None, LinearMixedModel), ("gaussian", LinearMixedModel),
                                           ("Bernoulli", Bernoulli), (Bernoulli, Bernoulli),
                                           (Bernoulli(), Bernoulli), ("binomial", Bernoulli)])
def test_fit_dispatch(family, expect):
    if expect is LinearMixedModel:
        m = fit("yield ~ 1 + (1|batch)", "dyestuff", family=family)
        assert type(m) is LinearMixedModel and m.objective() == pytest.approx(327.3270598811301, rel=1e-8)
    else:
        m = fit("use ~ 1 + urban + (1|dist)", "contra", family=family, fast=True)
        assert type(m) is GeneralizedLinearMixedModel and type(m.family) is expect


def test_binomial_with_trials_stays_binomial():
    cbpp = mixednb.dataset("cbpp").assign(prop=lambda d: d["incidence"] / d["size"])
    m = fit("prop ~ 1 + period + (1|herd)", cbpp, family="binomial", weights="size", fast=True)
    assert type(m.family) is Binomial


def test_one_optimiser_driver():
    src = "\n".join(p.read_text() for p in PKG.glob("*.py"))
    assert len(re.findall(r"nlopt\.opt\(", src)) == 1
    assert "@patch" not in (PKG / "gausshermite.py").read_text()
    assert "register_family_fitter" not in src


def test_verbose_for_both(capsys):
    fit("yield ~ 1 + (1|batch)", "dyestuff", verbose=True)
    lmm_out = capsys.readouterr().out
    fit("use ~ 1 + urban + (1|dist)", "contra", family=Bernoulli, fast=True, verbose=True)
    glmm_out = capsys.readouterr().out
    assert lmm_out.count("\n") > 5 and glmm_out.count("\n") > 5
