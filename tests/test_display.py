"""The formatters of `mixednb.display` against every table printed in MixedModels.jl's documentation.

MixedModels.jl's documented text lost its leading and repeated spaces, so lines are compared as token sequences;
the width of each coefficient table's rules (which did survive) checks the column layout.
"""
import math, re, warnings
from pathlib import Path

import numpy as np
import pytest

from mixednb.display import (compact, fmt_z, fmt_pvalue, format_table, coeftable_lines, varcorr_lines,
                             vc_digits, fitstats_lines, reml_line)

from refs import SPEC, require
require(SPEC)
RULE = re.compile(r"^─+$")


def _lines():
    return SPEC.read_text().split("\n")


def spec_coeftables():
    "Every coefficient table of MixedModels.jl's documentation: (line number, rule width, [(name, [4 cells])])"
    ls, out, i = _lines(), [], 0
    while i < len(ls):
        if RULE.match(ls[i]) and ls[i + 1].startswith("Coef."):
            rows, j = [], i + 3
            while not RULE.match(ls[j]):
                t = ls[j].split(); rows.append((" ".join(t[:-4]), t[-4:])); j += 1
            out.append((i, len(ls[i]), rows)); i = j + 1
        else: i += 1
    return out


def spec_varcorrs():
    "Every variance-components table of MixedModels.jl's documentation: (line number, [token lists of its lines])"
    ls, out = _lines(), []
    for i, l in enumerate(ls):
        if l == "Variance components:":
            j = i + 2
            while j < len(ls) and re.search(r"([\d.]|NaN)$", ls[j]) and not ls[j].startswith("Number of obs"): j += 1
            out.append((i, ls[i:j]))
    return out


CORR = re.compile(r"^([+-]\d\.\d\d|\.|NaN)$")
CNAME = re.compile(r"(\(Intercept\)|days(: \d+)?)$")


def _sigma(var: str, sd: str, d: int) -> float:
    "A σ that prints as `sd` and whose square prints as `var` with d decimals"
    h = 0.5 * 10.0 ** -d
    lo = max(float(sd) - h, math.sqrt(max(float(var) - h, 0)))
    hi = min(float(sd) + h, math.sqrt(float(var) + h))
    assert lo <= hi, (var, sd)
    return 0.0 if float(sd) == 0 else (lo + hi) / 2


def parse_varcorr(lines):
    "Rebuild varcorr_lines' arguments from a printed table"
    rows, residual = [], None
    for l in lines[2:]:
        t = l.split()
        k = len(t)
        while CORR.match(t[k - 1]): k -= 1
        label, var, sd, corr = " ".join(t[:k - 2]), t[k - 2], t[k - 1], t[k:]
        d = len(var.split(".")[1]) if "." in var else 0
        if label == "Residual": residual = (var, sd, d); continue
        m = CNAME.search(label)
        g, c = label[:m.start()].strip(), m.group(0)
        rows.append((g, c, var, sd, d, corr))
    groups = []
    for g, c, var, sd, d, corr in rows:
        if g: groups.append([g, [], [], []])
        groups[-1][1].append(c); groups[-1][2].append(_sigma(var, sd, d)); groups[-1][3].append(corr)
    out = []
    for g, cn, σ, corr in groups:
        S = len(cn); ρ = np.eye(S); mask = np.zeros((S, S), bool)
        for i, cs in enumerate(corr):
            for j, c in enumerate(cs):
                if c == ".": mask[i, j] = mask[j, i] = True; ρ[i, j] = ρ[j, i] = 0.0
                else: ρ[i, j] = ρ[j, i] = float(c)
        out.append((g, cn, σ, ρ, mask))
    return out, None if residual is None else _sigma(*residual)


def test_found_every_table():
    assert len(spec_coeftables()) == 20
    assert len(spec_varcorrs()) == 21


@pytest.mark.parametrize("i,width,rows", spec_coeftables(), ids=lambda v: str(v) if isinstance(v, int) else None)
def test_coeftable_layout(i, width, rows):
    "The layout reproduces each table's width and tokens, from the printed cells"
    names = [r[0] for r in rows]
    cols = [(h, [r[1][k] for r in rows]) for k, h in enumerate(["Coef.", "Std. Error", "z", "Pr(>|z|)"])]
    ls = format_table(names, cols)
    assert len(ls[0]) == len(ls[1]) == len(ls[-1]) == width and max(map(len, ls)) == width
    assert [l.split() for l in ls[3:-1]] == [r[0].split() + r[1] for r in rows]
    assert ls[1].split() == ["Coef.", "Std.", "Error", "z", "Pr(>|z|)"]


@pytest.mark.parametrize("i,width,rows", spec_coeftables(), ids=lambda v: str(v) if isinstance(v, int) else None)
def test_coeftable_numbers(i, width, rows):
    "Estimates and standard errors are their own compact form; z and p from them print as MixedModels.jl's documentation prints them"
    for name, (b, se, z, p) in rows:
        assert compact(float(b)) == b and compact(float(se)) == se
        assert fmt_z(float(z)) == z
        if p.startswith("<"):
            assert fmt_pvalue(0.9 * 10.0 ** int(p[3:])) == p
        else:
            assert fmt_pvalue(float(p)) == p


def test_coeftable_from_estimates():
    "The whole insteval table from its printed estimates and standard errors (z = β/se, p = 2Φ(-|z|))"
    from scipy.stats import norm
    (_, width, rows), = [t for t in spec_coeftables() if len(t[2]) == 28]
    β = np.array([float(r[1][0]) for r in rows]); se = np.array([float(r[1][1]) for r in rows])
    z = β / se
    ls = coeftable_lines([r[0] for r in rows], β, se, z, 2 * norm.sf(np.abs(z)))
    assert len(ls[0]) == width == 64
    assert [l.split() for l in ls[3:-1]] == [r[0].split() + r[1] for r in rows]


@pytest.mark.parametrize("i,lines", spec_varcorrs(), ids=lambda v: str(v) if isinstance(v, int) else None)
def test_varcorr(i, lines):
    "Every VarCorr of MixedModels.jl's documentation, digits rule included, from its σ's and correlations"
    groups, residual = parse_varcorr(lines)
    out = varcorr_lines(groups, residual)
    assert [l.split() for l in out] == [l.split() for l in lines]


def test_varcorr_alignment():
    "Columns line up: every Std.Dev. ends at the same place, as does every variance"
    out = varcorr_lines([("subj", ["(Intercept)", "days"], np.sqrt([565.51068, 32.68212]), [[1, .08], [.08, 1]],
                          np.zeros((2, 2), bool))], 25.591823908942917)
    assert out[2].index("565.51068") + 9 == out[3].index("32.68212") + 8 == out[4].index("654.94145") + 9
    assert out[2].index("23.78047") == out[4].index("25.59182") == out[3].index("5.71683") - 1
    assert out[1].index("Std.Dev.") + len("Std.Dev.") == out[2].index("23.78047") + 8


def test_vc_digits_edge():
    assert vc_digits([0.0, 0.0]) == 5
    assert vc_digits([1234567.0]) == 0


def test_fitstats():
    l1, l2 = fitstats_lines({"logLik": -875.9697, "-2 logLik": 1751.9393, "AIC": 1763.9393, "AICc": 1764.4249,
                             "BIC": 1783.0971})
    assert l1.split() == ["logLik", "-2", "logLik", "AIC", "AICc", "BIC"]
    assert l2.split() == ["-875.9697", "1751.9393", "1763.9393", "1764.4249", "1783.0971"]
    assert reml_line(330.86058899108457)[0].split()[-1] == "330.86058899108457"


def test_compact_sweep():
    "compact() round-trips to 6 significant digits and never prints more than needed"
    rng = np.random.default_rng(1)
    for x in rng.standard_normal(2000) * 10.0 ** rng.integers(-8, 9, 2000):
        s = compact(x)
        assert math.isclose(float(s), x, rel_tol=5e-6)
        mant = s.split("e")[0].lstrip("-").replace(".", "").lstrip("0").rstrip("0")
        assert len(mant) <= 6


# ---------------------------------------------------------------------------------------------
# Whole summaries of fitted models against MixedModels.jl's documented printouts

def spec_summaries():
    "Printed LMM summaries of MixedModels.jl's documentation, in order: lists of non-blank lines"
    ls, out, i = _lines(), [], 0
    while i < len(ls):
        if ls[i].startswith("Linear mixed model fit by"):
            j, rules = i, 0
            while rules < 3:
                j += 1
                if RULE.match(ls[j]) and j > i + 1 and rules == 0 and ls[j - 1] == "Fixed-effects parameters:": rules = 1
                elif RULE.match(ls[j]) and rules: rules += 1
            out.append(ls[i:j + 1]); i = j + 1
        else: i += 1
    return out


def _num(t):
    try: return float(t)
    except ValueError: return None


def assert_tokens(out: str, spec: list, rtol: float):
    a = [l.split() for l in out.split("\n") if l.strip()]
    b = [l.split() for l in spec]
    assert len(a) == len(b), (len(a), len(b))
    for la, lb in zip(a, b):
        assert len(la) == len(lb), (la, lb)
        for x, y in zip(la, lb):
            if x != y:
                assert _num(x) is not None and _num(y) is not None, (la, lb)
                assert math.isclose(_num(x), _num(y), rel_tol=rtol, abs_tol=0.011 if "." in y and len(y.split(".")[1]) == 2 else 0), (la, lb)


def _pastes_sample():
    from mixednb import dataset
    df = dataset("pastes").copy()
    df["sample"] = df["cask"].astype(str) + "&" + df["batch"].astype(str)
    return df


# (index among MixedModels.jl's documented LMM summaries, formula, data, options, relative tolerance on numbers)
# The tolerance absorbs the flat optima: our θ̂ and MixedModels.jl's documented one agree in objective to ~1e-9, in θ to ~1e-4.
# z statistics (two decimals) may differ by one unit in the last place.
CASES = [
    (0, "yield ~ 1 + (1|batch)", "dyestuff", {}, 1e-6),
    (1, "yield ~ 1 + (1|batch)", "dyestuff", {"reml": True}, 1e-5),
    (2, "reaction ~ 1 + days + (1 + days|subj)", "sleepstudy", {}, 1e-4),
    (3, "diameter ~ 1 + (1|plate) + (1|sample)", "penicillin", {}, 1e-4),
    (4, "strength ~ 1 + (1|batch/cask)", "pastes", {}, 1e-4),
    (5, "strength ~ 1 + (1|sample) + (1|batch)", _pastes_sample, {}, 1e-4),
    (7, "reaction ~ 1 + days + zerocorr(1 + days|subj)", "sleepstudy", {}, 1e-4),
    (8, "reaction ~ 1 + days + (1|subj) + (days|subj)", "sleepstudy", {}, 1e-4),
    (12, "reaction ~ 1 + days + zerocorr(1 + days|subj)", "sleepstudy", {"contrasts": "days"}, 2e-4),
    (13, "reaction ~ 1 + days + (1|subj) + zerocorr(days|subj)", "sleepstudy", {"contrasts": "days"}, 2e-4),
    (15, "yield ~ 1 + (1|batch)", "dyestuff2", {}, 1e-4),
    (16, "diameter ~ 1 + (1|plate) + (1|sample)", "penicillin", {}, 1e-4),
    (17, "diameter ~ 1 + (1|plate) + (1|sample)", "penicillin", {"reml": True}, 1e-4),
]


def test_found_every_summary():
    assert len(spec_summaries()) == 18


@pytest.mark.parametrize("k,formula,data,opts,rtol", CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_summary(k, formula, data, opts, rtol):
    import mixednb
    opts = dict(opts)
    if opts.get("contrasts") == "days": opts["contrasts"] = {"days": mixednb.DummyCoding()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mixednb.fitting.SingularFitWarning)
        m = mixednb.fit(formula, data() if callable(data) else data, **opts)
    out = str(m)
    if m.issingular():      # MixedModels.jl's layout, then our one line that says the fit is singular
        assert out.endswith("\n" + mixednb.display.SINGULAR_NOTE)
        out = out[:-len(mixednb.display.SINGULAR_NOTE) - 1]
    assert_tokens(out, spec_summaries()[k], rtol)
    assert str(m) == repr(m) == m.summary()


def test_summary_insteval():
    import mixednb
    m = mixednb.fit("y ~ 1 + service * dept + (1|s) + (1|d)", "insteval")
    assert_tokens(str(m), spec_summaries()[6], 2e-5)


def test_summary_fm1_exact():
    "print(fm1) is MixedModels.jl's documented summary token for token, every number included"
    import mixednb
    assert_tokens(str(mixednb.fit("yield ~ 1 + (1|batch)", "dyestuff")), spec_summaries()[0], 0.0)


def test_unfitted_repr():
    import mixednb
    m = mixednb.LinearMixedModel("yield ~ 1 + (1|batch)", mixednb.dataset("dyestuff"))
    assert "not fitted" in str(m)


def test_reprs():
    import mixednb
    m = mixednb.fit("diameter ~ 1 + (1|plate) + (1|sample)", "penicillin")
    md = m._repr_markdown_().split("\n")
    assert md[0] == "| |Est.|SE|z|p|σ_plate|σ_sample|"
    assert md[2].startswith("|(Intercept)|22.9722|0.7446|30.85|<1e-99|0.8456|1.7706|")
    assert md[-1].startswith("|Residual|0.5499|")
    assert m._repr_html_().count("<tr>") == 1 + 2
    assert m._repr_latex_().count(r"\\") == 3 and r"\sigma" in m._repr_latex_()
    vc = m.varcorr()._repr_markdown_().split("\n")
    assert vc[2].split("|")[1:3] == ["plate", "(Intercept)"]
    assert math.isclose(float(vc[2].split("|")[3]), 0.714979, rel_tol=1e-4)
    ct = m.coeftable()._repr_markdown_().split("\n")
    assert ct[2].split("|")[1:3] == ["(Intercept)", "22.9722"]
    assert math.isclose(float(ct[2].split("|")[3]), 0.744596, rel_tol=1e-4)
