"""Fixed-effects matrices and responses of `model_frame` against formulaic's (a test-only dependency).

Each case is (data set, our formula, our contrasts, formulaic's formula, names of function columns).
formulaic codes categoricals with treatment contrasts, first level as reference, like our default
`DummyCoding()`; `C(x, contr.sum)` is our `EffectsCoding(base=<last level>)`, `C(x, contr.helmert)` our
`HelmertCoding()`. Its columns are renamed to ours (`a[T.y]:x` -> `a: y & x`) and, since formulaic orders
terms by degree, matched by name: both sides must have exactly the same set of columns, equal to 1e-12.
"""
import re

import numpy as np
import pandas as pd
import pytest

formulaic = pytest.importorskip("formulaic")

from mixednb.data import dataset
from mixednb.modelframe import model_frame
from mixednb.schema import DummyCoding, EffectsCoding, HelmertCoding

D = DummyCoding()
CASES = [
    # sleepstudy: continuous and factor days, interactions with subjects, functions, transformed responses
    ("sleepstudy", "reaction ~ 1 + days + (1 + days | subj)", None, "reaction ~ 1 + days", {}),
    ("sleepstudy", "reaction ~ 0 + days", None, "reaction ~ 0 + days", {}),
    ("sleepstudy", "reaction ~ 1 + days", {"days": D}, "reaction ~ 1 + C(days)", {}),
    ("sleepstudy", "reaction ~ 0 + days", {"days": D}, "reaction ~ 0 + C(days)", {}),
    ("sleepstudy", "reaction ~ 1 + subj", None, "reaction ~ 1 + subj", {}),
    ("sleepstudy", "reaction ~ 1 + days * subj", None, "reaction ~ 1 + days * subj", {}),
    ("sleepstudy", "reaction ~ 1 + days + days & subj", None, "reaction ~ 1 + days + days:subj", {}),
    ("sleepstudy", "reaction ~ 1 + abs2(days) + (1|subj)", None, "reaction ~ 1 + I(days ** 2)", {"I(days ** 2)": "abs2(days)"}),
    ("sleepstudy", "reaction ~ 1 + I(days ^ 2) + sqrt(days)", None, "reaction ~ 1 + I(days ** 2) + np.sqrt(days)",
     {"I(days ** 2)": "I(days ^ 2)", "np.sqrt(days)": "sqrt(days)"}),
    ("sleepstudy", "reaction ~ 1 + abs(days - 5) + exp(days / 10)", None, "reaction ~ 1 + np.abs(days - 5) + np.exp(days / 10)",
     {"np.abs(days - 5)": "abs(days - 5)", "np.exp(days / 10)": "exp(days / 10)"}),
    ("sleepstudy", "log(reaction) ~ 1 + days", None, "np.log(reaction) ~ 1 + days", {}),
    ("sleepstudy", "1000 / reaction ~ 1 + days", None, "I(1000 / reaction) ~ 1 + days", {}),
    # insteval: MixedModels.jl's documented fm5 and other factor crossings
    ("insteval", "y ~ 1 + service * dept + (1|s) + (1|d)", None, "y ~ 1 + service * dept", {}),
    ("insteval", "y ~ 1 + studage + lectage + service", None, "y ~ 1 + studage + lectage + service", {}),
    ("insteval", "y ~ 1 + studage * lectage", None, "y ~ 1 + studage * lectage", {}),
    ("insteval", "y ~ 0 + dept + service", None, "y ~ 0 + dept + service", {}),
    ("insteval", "y ~ 1 + dept", {"dept": HelmertCoding()}, "y ~ 1 + C(dept, contr.helmert)", {}),
    ("insteval", "y ~ 1 + studage", {"studage": EffectsCoding(base="8")}, "y ~ 1 + C(studage, contr.sum)", {}),
    # verbagg, contra: MixedModels.jl's documented GLMMs (binary responses compared as X only)
    ("verbagg", "r2 ~ 1 + anger + gender + btype + situ + mode + (1|subj) + (1|item)", None,
     "1 + anger + gender + btype + situ + mode", {}),
    ("verbagg", "r2 ~ 1 + anger * gender + btype * situ", None, "1 + anger * gender + btype * situ", {}),
    ("verbagg", "r2 ~ 1 + btype * situ * mode", None, "1 + btype * situ * mode", {}),
    ("contra", "use ~ 1 + age + abs2(age) + livch + urban + (1|dist)", None, "1 + age + I(age ** 2) + livch + urban",
     {"I(age ** 2)": "abs2(age)"}),
    ("contra", "use ~ 1 + age * urban + livch", None, "1 + age * urban + livch", {}),
    ("contra", "use ~ 1 + urban * livch", None, "1 + urban * livch", {}),
    ("contra", "use ~ 1 + livch", {"livch": D}, "1 + C(livch, contr.treatment)", {}),
    # small designs
    ("pastes", "strength ~ 1 + batch + cask + (1|batch/cask)", None, "strength ~ 1 + batch + cask", {}),
    ("pastes", "strength ~ 1 + batch * cask", None, "strength ~ 1 + batch * cask", {}),
    ("penicillin", "diameter ~ 1 + plate + sample", None, "diameter ~ 1 + plate + sample", {}),
    ("dyestuff", "yield ~ 0 + batch", None, "yield ~ 0 + batch", {}),
    ("dyestuff2", "yield ~ 1 + batch", {"batch": DummyCoding(base="C")}, "yield ~ 1 + C(batch, contr.treatment('C'))", {}),
    ("cake", "angle ~ 1 + recipe * temperature + (1|replicate)", None, "angle ~ 1 + recipe * temperature", {}),
    ("cake", "angle ~ 1 + recipe + temp + recipe & temp", None, "angle ~ 1 + recipe + temp + recipe:temp", {}),
    ("cake", "angle ~ 0 + recipe + temp", None, "angle ~ 0 + recipe + temp", {}),
    ("cake", "angle ~ 1 + recipe", {"recipe": EffectsCoding(base="C")}, "angle ~ 1 + C(recipe, contr.sum)", {}),
    ("oxboys", "height ~ 1 + age + abs2(age) + occasion", None, "height ~ 1 + age + I(age ** 2) + occasion", {"I(age ** 2)": "abs2(age)"}),
    ("oxboys", "height ~ 1 + age * subj", None, "height ~ 1 + age * subj", {}),
    ("mmec", "deaths ~ 1 + uvb + log(expected) + (1|region)", None, "deaths ~ 1 + uvb + np.log(expected)", {"np.log(expected)": "log(expected)"}),
    ("mmec", "deaths ~ 1 + uvb * nation", None, "deaths ~ 1 + uvb * nation", {}),
    ("grouseticks", "ticks ~ 1 + year + height + year & height", None, "ticks ~ 1 + year + height + year:height", {}),
    ("grouseticks", "log1p(ticks) ~ 1 + year * location", None, "np.log1p(ticks) ~ 1 + year * location", {}),
    ("arabidopsis", "total_fruits ~ 1 + nutrient * amd + status + rack", None, "total_fruits ~ 1 + nutrient * amd + status + rack", {}),
    ("arabidopsis", "total_fruits ~ 1 + reg * amd", None, "total_fruits ~ 1 + reg * amd", {}),
    ("cbpp", "incidence ~ 1 + period + size", None, "incidence ~ 1 + period + size", {}),
    ("cbpp", "incidence ~ 0 + period + herd", None, "incidence ~ 0 + period + herd", {}),
    ("machines", "score ~ 1 + machine * worker + (1|worker)", None, "score ~ 1 + machine * worker", {}),
    ("oxide", "thickness ~ 1 + source * site", None, "thickness ~ 1 + source * site", {}),
]

_PART = re.compile(r"^(?P<var>.*)\[(?:[THS]\.)?(?P<lev>.*)\]$")
_CALL = re.compile(r"^C\((?P<var>[^,)]*)(?:,.*)?\)$")

def our_name(fname:str, funcs:dict)->str:
    "formulaic column name -> ours: Intercept -> (Intercept), a[T.y]:x -> 'a: y & x', C(days)[T.1] -> 'days: 1'"
    if fname == "Intercept": return "(Intercept)"
    parts = []
    for p in fname.split(":"):
        m = _PART.match(p)
        if m is None: parts.append(funcs.get(p, p)); continue
        var, lev = m["var"], m["lev"]
        c = _CALL.match(var)
        parts.append(f"{c['var'] if c else var}: {lev}")
    return " & ".join(parts)

def check(name, ours, contrasts, theirs, funcs):
    df = dataset(name)
    mf = model_frame(ours, df, contrasts=contrasts, binary_response=True)
    mm = formulaic.model_matrix(theirs, df)
    rhs = mm.rhs if hasattr(mm, "rhs") else mm
    cols = {our_name(c, funcs): np.asarray(rhs[c], dtype=float) for c in rhs.columns}
    assert set(cols) == set(mf.coefnames), (sorted(set(cols) ^ set(mf.coefnames)))
    assert len(cols) == len(mf.coefnames) == mf.X.shape[1]
    for j, c in enumerate(mf.coefnames):
        np.testing.assert_allclose(mf.X[:, j], cols[c], rtol=1e-12, atol=1e-12, err_msg=c)
    if hasattr(mm, "lhs"):
        np.testing.assert_allclose(mf.y, np.asarray(mm.lhs, dtype=float).ravel(), rtol=1e-12)
    return mf

@pytest.mark.parametrize("name,ours,contrasts,theirs,funcs", CASES, ids=[f"{c[0]}: {c[1]}" for c in CASES])
def test_against_formulaic(name, ours, contrasts, theirs, funcs):
    check(name, ours, contrasts, theirs, funcs)

def test_enough_cases():
    assert len(CASES) >= 30

def test_missing_rows_against_formulaic():
    "Both drop the rows with a missing value in a used column (formulaic's default na_action='drop')"
    df = dataset("sleepstudy")
    df.loc[[3, 50, 51], "reaction"] = np.nan
    df["days"] = df["days"].astype(float); df.loc[[7], "days"] = np.nan
    mf = model_frame("reaction ~ 1 + days * subj", df)
    mm = formulaic.model_matrix("reaction ~ 1 + days * subj", df)
    assert mf.nmissing == 4 and mf.X.shape[0] == mm.rhs.shape[0] == 176
    cols = {our_name(c, {}): np.asarray(mm.rhs[c], dtype=float) for c in mm.rhs.columns}
    for j, c in enumerate(mf.coefnames):
        np.testing.assert_allclose(mf.X[:, j], cols[c], rtol=1e-12)
    np.testing.assert_allclose(mf.y, np.asarray(mm.lhs, dtype=float).ravel(), rtol=1e-12)

def test_interaction_column_order_matches_formulaic():
    "Row-wise Kronecker order: the first factor varies fastest, as in formulaic"
    df = dataset("cake")
    mf = model_frame("angle ~ 1 + recipe * temperature", df)
    mm = formulaic.model_matrix("angle ~ 1 + recipe * temperature", df)
    theirs = [our_name(c, {}) for c in mm.rhs.columns if ":" in c]
    assert [c for c in mf.coefnames if "&" in c] == theirs
