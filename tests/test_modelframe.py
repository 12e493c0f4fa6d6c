"""model_frame: the contract with the LMM/GLMM engines, MixedModels.jl's documented names, missing values and bad input."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mixednb.data import dataset
from mixednb.formula import FormulaError, parse_formula
from mixednb.modelframe import model_frame, ModelFrame, ReTermSpec
from mixednb.schema import DummyCoding, EffectsCoding, HelmertCoding, Grouping

from refs import SEED_EXPECTATIONS as REF, LME4_FITS


@pytest.fixture(scope="module")
def sleep(): return dataset("sleepstudy")


def check_contract(mf: ModelFrame):
    n, p = mf.X.shape
    assert mf.y.dtype == np.float64 and mf.y.shape == (n,)
    assert mf.X.dtype == np.float64 and mf.X.flags.c_contiguous and len(mf.coefnames) == p
    assert mf.rows.dtype == np.int64 and mf.rows.shape == (n,) and len(mf.data) == n
    for r in mf.reterms:
        assert isinstance(r, ReTermSpec)
        assert r.z.dtype == np.float64 and r.z.flags.c_contiguous and r.z.shape == (n, len(r.cnames))
        assert r.refs.dtype == np.int32 and r.refs.shape == (n,)
        assert r.refs.min() >= 0 and r.refs.max() == len(r.levels) - 1
        assert len(set(r.refs.tolist())) == len(r.levels)                   # only levels present
        assert r.levels == sorted(r.levels) or " & " in r.gname or r.levels == sorted(r.levels, key=float)


def test_reference_fits_coefnames_and_levels():
    "Every fit in the shared expectations: coefnames where listed, numbers of levels, nobs"
    if not REF.exists(): pytest.skip("no shared reference")
    for fit in json.loads(REF.read_text())["fits"]:
        contrasts = {k: {"DummyCoding": DummyCoding()}[v] for k, v in (fit.get("contrasts") or {}).items()}
        mf = model_frame(fit["formula"], dataset(fit["dataset"]), contrasts=contrasts,
                         binary_response=fit["dataset"] in ("verbagg", "contra"))
        check_contract(mf)
        if fit.get("coefnames"): assert mf.coefnames == fit["coefnames"], fit["id"]
        if fit.get("nobs"): assert len(mf.y) == fit["nobs"]
        if fit.get("nlevels"): assert sorted(len(r.levels) for r in mf.reterms) == sorted(fit["nlevels"]), fit["id"]


def test_fm5_28_names():
    mf = model_frame("y ~ 1 + service * dept + (1|s) + (1|d)", dataset("insteval"))
    check_contract(mf)
    assert len(mf.coefnames) == 28 and mf.coefnames[1] == "service: Y" and mf.coefnames[-1] == "service: Y & dept: D15"
    assert [(r.gname, len(r.levels), r.cnames) for r in mf.reterms] == [("s", 2972, ["(Intercept)"]), ("d", 1128, ["(Intercept)"])]
    if REF.exists():
        fm5 = next(f for f in json.loads(REF.read_text())["fits"] if f["id"].startswith("fm5"))
        assert mf.coefnames == fm5["coefnames"]


def test_days_as_factor(sleep):
    days = [f"days: {d}" for d in range(10)]
    mf = model_frame("reaction ~ 1 + days + (1 + days | subj)", sleep, contrasts={"days": DummyCoding()})
    assert mf.coefnames == ["(Intercept)"] + days[1:] and mf.reterms[0].cnames == ["(Intercept)"] + days[1:]
    mf = model_frame("reaction ~ 1 + days + (1 + fulldummy(days)|subj)", sleep, contrasts={"days": DummyCoding()})
    assert mf.reterms[0].cnames == ["(Intercept)"] + days
    np.testing.assert_array_equal(mf.reterms[0].z[:, 1:].sum(1), np.ones(180))
    mf = model_frame("reaction ~ 1 + days + (1|subj) + (days|subj)", sleep, contrasts={"days": DummyCoding()})
    assert [r.cnames for r in mf.reterms] == [["(Intercept)"], days[1:]]
    mf = model_frame("reaction ~ 1 + days + zerocorr(1 + fulldummy(days)|subj)", sleep, contrasts={"days": DummyCoding()})
    assert mf.reterms[0].zerocorr and mf.reterms[0].cnames == ["(Intercept)"] + days
    assert str(mf.formula) == "reaction ~ 1 + days + MixedModels.ZeroCorr((1 + days | subj))"


def test_other_contrasts(sleep):
    mf = model_frame("reaction ~ 1 + days", sleep, contrasts={"days": EffectsCoding(base=9)})
    assert mf.coefnames[1:] == [f"days: {d}" for d in range(9)]
    assert (mf.X[sleep["days"].to_numpy() == 9, 1:] == -1).all()
    mf = model_frame("reaction ~ 1 + days", sleep, contrasts={"days": HelmertCoding()})
    np.testing.assert_allclose(mf.X.T @ mf.X, np.diag(18.0 * np.r_[10, [k * (k + 1) for k in range(1, 10)]]))
    mf = model_frame("reaction ~ 1 + days + (1|subj)", sleep, contrasts={"subj": Grouping()})  # grouping only: fine
    assert len(mf.reterms[0].levels) == 18


def test_full_rank_coding():
    df = dataset("cake")
    assert model_frame("angle ~ 0 + recipe + temperature", df).coefnames[:4] == ["recipe: A", "recipe: B", "recipe: C", "temperature: 185"]
    assert model_frame("angle ~ 1 + temp + temp & recipe", df).coefnames == ["(Intercept)", "temp", "temp & recipe: B", "temp & recipe: C"]
    assert model_frame("angle ~ 0 + temp & recipe", df).coefnames == ["temp & recipe: A", "temp & recipe: B", "temp & recipe: C"]


def test_interaction_kron_order():
    df = dataset("cake")
    mf = model_frame("angle ~ 1 + recipe * temperature", df)
    inter = [c for c in mf.coefnames if " & " in c]
    assert inter[:3] == ["recipe: B & temperature: 185", "recipe: C & temperature: 185", "recipe: B & temperature: 195"]
    j = mf.coefnames.index("recipe: C & temperature: 195")
    np.testing.assert_array_equal(mf.X[:, j], (df.recipe == "C").to_numpy() * (df.temperature == "195").to_numpy())


def test_interaction_grouping_and_nesting():
    df = dataset("pastes")
    a = model_frame("strength ~ 1 + (1|batch/cask)", df)
    b = model_frame("strength ~ 1 + (1|batch) + (1|batch & cask)", df)
    assert [r.gname for r in a.reterms] == ["batch", "batch & cask"]
    for r, s in zip(a.reterms, b.reterms):
        assert r.levels == s.levels and (r.refs == s.refs).all()
    r = a.reterms[1]
    assert r.levels[0] == "A & a" and len(r.levels) == 30
    # same partition as the data's own `sample` column
    samp = model_frame("strength ~ 1 + (1|sample)", df).reterms[0]
    assert len({(x, y) for x, y in zip(r.refs, samp.refs)}) == 30


def test_levels_order_and_unused_dropped():
    df = pd.DataFrame({"y": np.arange(6.0), "g": pd.Categorical(list("bbaZZb"), categories=["b", "q", "a", "Z"]),
                       "h": [3, 1, 2, 3, 1, 10]})
    mf = model_frame("y ~ 1 + g + (1|h)", df)
    assert mf.coefnames == ["(Intercept)", "g: a", "g: Z"]              # the Categorical's order: b is the base
    mf = model_frame("y ~ 1 + g + (1|h)", df.assign(g=df.g.astype(str)))
    assert mf.coefnames == ["(Intercept)", "g: a", "g: b"]              # plain strings: Z is the base, code-point order
    assert mf.reterms[0].levels == ["1", "2", "3", "10"]              # numbers sort numerically
    assert mf.reterms[0].refs.tolist() == [2, 0, 1, 2, 0, 3]


def test_strings_booleans_objects():
    df = pd.DataFrame({"y": [1.0, 2, 3, 4], "s": ["u", "v", "u", "w"], "b": [True, False, True, True],
                       "g": pd.array(["x", "y", "x", "y"], dtype="string")})
    mf = model_frame("y ~ 1 + s + b + (1|g)", df)
    assert mf.coefnames == ["(Intercept)", "s: v", "s: w", "b: True"]
    assert mf.reterms[0].levels == ["x", "y"]


def test_missing_values():
    df = dataset("sleepstudy")
    df["days"] = df["days"].astype(float)
    df.loc[[1, 2], "days"] = np.nan
    df["subj"] = df["subj"].astype(object)
    df.loc[[5], "subj"] = None
    df["reaction"] = df["reaction"].astype("Float64")
    df.loc[[7], "reaction"] = pd.NA
    df["other"] = np.nan                                            # unused: no effect
    mf = model_frame("reaction ~ 1 + days + (1|subj)", df)
    assert mf.nmissing == 4 and len(mf.y) == 176
    assert not np.isin([1, 2, 5, 7], mf.rows).any()
    np.testing.assert_array_equal(mf.y, df["reaction"].to_numpy(dtype=float, na_value=np.nan)[mf.rows])
    check_contract(mf)
    with pytest.raises(FormulaError, match="no rows left: all 180 rows have a missing value"):
        model_frame("reaction ~ 1 + other", df)


def test_binary_response():
    vb = dataset("verbagg")
    mf = model_frame("r2 ~ 1 + anger + (1|subj)", vb, binary_response=True)
    np.testing.assert_array_equal(mf.y, (vb["r2"] == "Y").to_numpy(float))
    with pytest.raises(FormulaError, match="the response 'r2' is not numeric .*binary_response=True"):
        model_frame("r2 ~ 1 + anger", vb)
    with pytest.raises(FormulaError, match="a binary response needs 2 levels; 'btype' has 3: curse, scold, shout"):
        model_frame("btype ~ 1 + anger", vb, binary_response=True)
    b = model_frame("y ~ 1", pd.DataFrame({"y": [True, False, True]}))
    assert b.y.tolist() == [1.0, 0.0, 1.0]


def test_transformed_response(sleep):
    mf = model_frame("1000 / reaction ~ 1 + days", sleep)
    assert mf.yname == "1000 / reaction"
    np.testing.assert_allclose(mf.y, 1000 / sleep["reaction"].to_numpy(), rtol=1e-15)
    assert model_frame("log(reaction) ~ 1 + days", sleep).yname == "log(reaction)"


def test_not_errors_here(sleep):
    one = sleep[sleep["subj"] == "S308"]
    assert len(model_frame("reaction ~ 1 + days + (1|subj)", one).reterms[0].levels) == 1
    assert np.ptp(model_frame("reaction ~ 1 + (1|subj)", sleep.assign(reaction=5.0)).y) == 0


@pytest.mark.parametrize("formula,kw,msg", [
    ("reaction ~ 1 + dayz + (1|subj)", {}, "unknown column 'dayz' in the formula; did you mean 'days'?"),
    ("reaction ~ 1 + days + (1|subject)", {}, "unknown column 'subject'"),
    ("reaction ~ 1 + days + (1|subj", {}, "expected ')' before the end at position 29"),
    ("subj ~ 1 + days", {}, "the response 'subj' is not numeric (categorical with levels S308, S309"),
    ("reaction ~ 1 + lg(days)", {}, "unknown function 'lg' (did you mean 'log' or 'log2'?) at position 15"),
    ("reaction ~ 1 + days", {"contrasts": {"subj": DummyCoding()}}, "contrasts given for 'subj', which the formula does not use"),
    ("reaction ~ 1 + days", {"contrasts": {"days": DummyCoding}}, "give an instance, DummyCoding(), not the class"),
    ("reaction ~ 1 + days", {"contrasts": {"days": "dummy"}}, "must be DummyCoding(), EffectsCoding()"),
    ("reaction ~ 1 + days", {"contrasts": [("days", DummyCoding())]}, "contrasts must be a dict"),
    ("reaction ~ 1 + days", {"contrasts": {"days": DummyCoding(base=12)}}, "DummyCoding(base=12): 12 is not a level of 'days'"),
    ("reaction ~ 1 + days", {"contrasts": {"days": Grouping()}}, "'days' has Grouping() contrasts: it can only be a grouping factor"),
    ("reaction ~ 1 + log(subj)", {}, "a function of 'subj' needs numbers, but 'subj' is categorical"),
    ("reaction ~ 1 + log(days)", {}, "log(days) is not finite in 18 rows"),
    ("reaction ~ 1 + (1 + fulldummy(days) | subj)", {}, "fulldummy(days) needs a categorical column; 'days' is numeric"),
    ("~ 1 + days", {}, "the formula has no response"),
])
def test_errors(sleep, formula, kw, msg):
    with pytest.raises(FormulaError) as e: model_frame(formula, sleep, **kw)
    assert msg in str(e.value)


def test_data_as_mapping():
    mf = model_frame("y ~ 1 + x + (1|g)", {"y": [1.0, 2, 3], "x": [0.0, 1, 2], "g": ["a", "b", "a"]})
    assert mf.coefnames == ["(Intercept)", "x"] and mf.reterms[0].levels == ["a", "b"]


def test_million_level_grouping_factor():
    "A grouping factor is codes and labels: no indicator matrix, fast for 10⁶ levels"
    n = 1_000_000
    rng = np.random.default_rng(1)
    g = np.array([f"g{i:07d}" for i in range(n)], dtype=object)[rng.permutation(n)]
    mf = model_frame("y ~ 1 + (1|g)", pd.DataFrame({"y": rng.standard_normal(n), "g": g}))
    r = mf.reterms[0]
    assert len(r.levels) == n and r.z.shape == (n, 1) and r.levels[:2] == ["g0000000", "g0000001"]
    assert [r.levels[k] for k in r.refs[:5]] == list(g[:5])


def test_lme4_reference_formulas():
    "lme4's own spellings (I(age^2), (0 + days|subj)) and MixedModels.jl's give the same frames as lme4's fits"
    ref = LME4_FITS
    if not ref.exists(): pytest.skip("no shared reference")
    for m in json.loads(ref.read_text())["models"]:
        if m["dataset"] == "sim_crossed_200k": continue
        df = dataset(m["dataset"])
        a = model_frame(m["formula"], df, binary_response=True)
        b = model_frame(m["mm_formula"], df, binary_response=True)
        assert len(a.coefnames) == len(b.coefnames) == len(m["beta"]) and len(a.y) == m["nobs"], m["id"]
        np.testing.assert_allclose(a.X, b.X, rtol=1e-15)
        assert sorted({r.gname: len(r.levels) for r in a.reterms}.values()) == sorted(m["nlevels"].values())


# ---- issue 10: any table in, the user's level order, rows lined up with the data ----

import pyarrow as pa
import mixednb
from mixednb.modelframe import as_table, frame_column

SLEEP_FM = "reaction ~ 1 + days + (1 + days | subj)"


def _sleep_plain():
    s = dataset("sleepstudy")
    return s.assign(subj=s.subj.astype(str))


def _same(a, b):
    assert a.coefnames == b.coefnames and a.nrows_data == b.nrows_data
    np.testing.assert_array_equal(a.y, b.y)
    np.testing.assert_array_equal(a.X, b.X)
    for r, s in zip(a.reterms, b.reterms, strict=True):
        assert r.levels == s.levels and r.cnames == s.cnames
        np.testing.assert_array_equal(r.refs, s.refs)


@pytest.mark.parametrize("kind", ["table", "batch", "dict", "structured", "c_stream", "interchange"])
def test_any_table_same_frame(kind):
    s = _sleep_plain()
    tbl = pa.Table.from_pandas(s, preserve_index=False)

    class CStream:                       # only the Arrow PyCapsule interface
        def __arrow_c_stream__(self, requested_schema=None): return tbl.__arrow_c_stream__(requested_schema)

    class Interchange:                   # only the dataframe interchange protocol
        def __dataframe__(self, *a, **k): return tbl.__dataframe__(*a, **k)

    data = {"table": tbl, "batch": tbl.combine_chunks().to_batches()[0], "dict": {c: s[c].to_numpy() for c in s},
            "structured": s.to_records(index=False), "c_stream": CStream(), "interchange": Interchange()}[kind]
    _same(model_frame(SLEEP_FM, data), model_frame(SLEEP_FM, dataset("sleepstudy")))


def test_polars_fit_same_as_pandas():
    pl = pytest.importorskip("polars")
    m = mixednb.fit(SLEEP_FM, pl.from_pandas(_sleep_plain()))
    assert m.objective() == pytest.approx(1751.9393444647, rel=1e-6)          # lme4 / MixedModels.jl fm2
    ref = mixednb.fit(SLEEP_FM, "sleepstudy")
    assert m.coefnames == ref.coefnames == ["(Intercept)", "days"]
    np.testing.assert_allclose(m.beta, ref.beta, rtol=1e-6)


def test_pyarrow_fit_same_as_pandas():
    m = mixednb.fit(SLEEP_FM, pa.Table.from_pandas(_sleep_plain(), preserve_index=False))
    assert m.objective() == pytest.approx(1751.9393444647, rel=1e-6)


def test_polars_enum_and_categorical_order():
    pl = pytest.importorskip("polars")
    df = pl.DataFrame({"y": [1.0, 2, 4, 3, 5, 9], "g": pl.Series(list("abcabc"), dtype=pl.Enum(["c", "a", "b"]))})
    mf = model_frame("y ~ 1 + g + (1|g)", df)
    assert mf.coefnames == ["(Intercept)", "g: a", "g: b"] and mf.reterms[0].levels == ["c", "a", "b"]
    mf = model_frame("y ~ 1 + g + (1|g)", df.with_columns(pl.col("g").cast(pl.String)))
    assert mf.coefnames == ["(Intercept)", "g: b", "g: c"] and mf.reterms[0].levels == ["a", "b", "c"]


def test_arrow_dictionary_order():
    t = pa.table({"y": [1.0, 2, 4, 3, 5, 9],
                  "g": pa.DictionaryArray.from_arrays(pa.array([1, 2, 0, 1, 2, 0], pa.int8()), pa.array(["c", "a", "b"]))})
    mf = model_frame("y ~ 1 + g + (1|g)", t)
    assert mf.coefnames == ["(Intercept)", "g: a", "g: b"] and mf.reterms[0].levels == ["c", "a", "b"]


def test_categorical_order_in_a_fit():
    rng = np.random.default_rng(1)
    g = np.repeat(["a", "b", "c"], 10)
    df = pd.DataFrame({"y": rng.normal(size=30) + np.repeat([0.0, 1, 2], 10),
                       "x": rng.normal(size=30), "g": pd.Categorical(g, categories=["c", "a", "b"])})
    m = mixednb.fit("y ~ 1 + g + (1 + x|g)", df)
    assert m.coefnames == ["(Intercept)", "g: a", "g: b"]                       # c is the reference level
    assert m.raneftables()["g"]["g"].tolist() == ["c", "a", "b"]
    m2 = mixednb.fit("y ~ 1 + g + (1 + x|g)", df.assign(g=g))                    # plain strings: sorted
    assert m2.coefnames == ["(Intercept)", "g: b", "g: c"]
    assert m2.raneftables()["g"]["g"].tolist() == ["a", "b", "c"]


def test_unsupported_input_is_type_error():
    with pytest.raises(TypeError, match="not a table; mixednb accepts a pandas DataFrame, a polars DataFrame"):
        model_frame(SLEEP_FM, [[1, 2, 3]])
    with pytest.raises(TypeError, match="NumPy array without column names"):
        as_table(np.zeros((4, 3)))
    with pytest.raises(TypeError, match="needs 1-D arrays"):
        as_table({"a": np.zeros((2, 2))})
    assert as_table("sleepstudy").shape == (180, 3)


def test_rows_and_nrows_data():
    s = dataset("sleepstudy").set_index(np.arange(500, 680))
    s.loc[[500, 505, 679], "reaction"] = np.nan
    mf = model_frame(SLEEP_FM, s)
    assert mf.rows.dtype == np.int64 and mf.nrows_data == 180 and mf.nmissing == 3
    assert mf.rows.tolist() == [i for i in range(180) if i not in (0, 5, 179)]
    np.testing.assert_array_equal(mf.y, s["reaction"].to_numpy()[mf.rows])
    mf0 = model_frame(SLEEP_FM, dataset("sleepstudy"))
    assert mf0.rows.tolist() == list(range(180)) and mf0.nrows_data == 180 and mf0.nmissing == 0


def test_frame_column_lines_up():
    s = dataset("sleepstudy").assign(w=np.arange(180.0))
    s.loc[[0, 7], "days"] = np.nan
    mf = model_frame(SLEEP_FM, s)
    expect = np.delete(np.arange(180.0), [0, 7])
    np.testing.assert_array_equal(frame_column(mf, "w", "weights"), expect)
    np.testing.assert_array_equal(frame_column(mf, np.arange(180.0), "weights"), expect)       # per data row
    np.testing.assert_array_equal(frame_column(mf, expect, "weights"), expect)                 # per kept row
    np.testing.assert_array_equal(frame_column(mf, pa.array(np.arange(180.0)), "offset"), expect)
    with pytest.raises(ValueError, match="one value per data row"):
        frame_column(mf, np.arange(10.0), "weights")
    with pytest.raises(ValueError, match="missing or non-finite"):
        frame_column(mf, s.w.where(s.w != 3), "weights")
    pl = pytest.importorskip("polars")
    mfp = model_frame(SLEEP_FM, pl.from_pandas(s.assign(subj=s.subj.astype(str))))
    np.testing.assert_array_equal(frame_column(mfp, "w", "weights"), expect)


def test_random_effects_without_intercept_get_every_level():
    "lme4 (1.1-31, checked in R): score ~ 1 + machine + (0 + machine | worker), ML: 18 random effects, deviance 216.417827"
    import mixednb
    m = mixednb.fit("score ~ 1 + machine + (0 + machine | worker)", "machines")
    assert m.reterms[0].cnames == ["machine: A", "machine: B", "machine: C"] and sum(r.nranef for r in m.reterms) == 18
    np.testing.assert_allclose(m.objective(), 216.417827, rtol=1e-8)
    new = mixednb.dataset("machines").iloc[[0, 20, 40]]
    np.testing.assert_allclose(m.predict(new), m.fitted()[[0, 20, 40]], rtol=1e-10)
