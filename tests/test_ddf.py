"Denominator degrees of freedom (chapter 15b) on designs beyond the notebook's: zerocorr, prior weights, nesting, rank deficiency"
import warnings

import numpy as np
import pandas as pd
import pytest

import mixednb as mn
from mixednb.ddf import kr_components, satterthwaite_parts, satterthwaite_df

# R 4.2.2, lme4 1.1-31, lmerTest 3.1-3, pbkrtest 0.5.2, on the data of `unbalanced()`:
# summary(m)$coefficients (Satterthwaite) and summary(m, ddf = "Kenward-Roger")$coefficients


def unbalanced():
    "sleepstudy without the rows i with 7i ≡ 0 (mod 11), plus dgrp: days 0–2 'a', 3–5 'b', 6–9 'c' (as chapter 15b)"
    ss = mn.dataset("sleepstudy")
    ss = ss[[(7 * i) % 11 != 0 for i in range(len(ss))]].reset_index(drop=True)
    ss["dgrp"] = np.where(ss["days"] < 3, "a", np.where(ss["days"] < 6, "b", "c"))
    return ss


def check(ct, df, p, se=None):
    np.testing.assert_allclose(ct["df"], df, rtol=1e-3)
    np.testing.assert_allclose(ct["Pr(>|t|)"], p, atol=1e-4, rtol=0)
    if se is not None: np.testing.assert_allclose(ct["Std. Error"], se, rtol=1e-4)


def test_zerocorr_reml():
    "lmer(reaction ~ 1 + days + (1 + days || subj), REML = TRUE): KR skips the structurally zero covariance"
    m = mn.fit("reaction ~ 1 + days + zerocorr(1 + days | subj)", unbalanced(), reml=True)
    assert len(kr_components(m)[0]) == 3
    check(m.coeftable(ddf="satterthwaite"), [18.3352989617663, 18.0259940435992], [2.68907507527583e-18, 2.49595497152960e-06],
          [7.10202505763520, 1.58355496981068])
    check(m.coeftable(ddf="kenward-roger"), [18.5674922793584, 18.5953556610117], [1.84338823822545e-18, 2.12356262257133e-06],
          [7.10369207845988, 1.58376579113250])


def weighted(reml):
    d = unbalanced()
    d["w"] = np.resize([1.0, 2.0, 0.5], len(d))
    return mn.fit("reaction ~ 1 + days + (1|subj)", d, reml=reml, weights="w")


def test_weights_satterthwaite():
    "lmer(reaction ~ 1 + days + (1|subj), weights = rep(c(1, 2, 0.5), length.out = n)), ML and REML"
    check(weighted(False).coeftable(ddf="satterthwaite"), [24.3876583671116, 145.1890128179048],
          [1.52583515421051e-19, 8.66941653267648e-25], [9.416634722180989, 0.818589676653415])
    check(weighted(True).coeftable(ddf="satterthwaite"), [22.723525988751, 144.180220307910],
          [2.14252672437575e-18, 1.24644895444075e-24], [9.655993213649728, 0.821437777449635])


def test_pastes_penicillin_reml():
    "Nested (pastes) and crossed (penicillin) REML fits: lmerTest and pbkrtest"
    p = mn.fit("strength ~ 1 + (1|batch) + (1|sample)", "pastes", reml=True)
    check(p.coeftable(ddf="satterthwaite"), [9.00000034827726], [1.48783161495267e-14], [0.676870046254119])
    check(p.coeftable(ddf="kenward-roger"), [8.99999999999983], [1.48783313863845e-14], [0.676870046254117])
    np.testing.assert_allclose(p.vcov_kr(), [[0.458153059516051]], rtol=1e-4)
    q = mn.fit("diameter ~ 1 + (1|plate) + (1|sample)", "penicillin", reml=True)
    check(q.coeftable(ddf="satterthwaite"), [5.48659236245505], [3.62352024057688e-07], [0.808595361386344])
    check(q.coeftable(ddf="kenward-roger"), [5.4870618604518], [3.61997538873013e-07], [0.80859536138626])
    np.testing.assert_allclose(q.vcov_kr(), [[0.653826458455376]], rtol=1e-4)


def test_rank_deficient():
    "A column dropped as linearly dependent gets NaN; the kept columns' tests are those of the model without it"
    d = unbalanced()
    d["days2"] = 2.0 * d["days"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = mn.fit("reaction ~ 1 + days + days2 + (1 + days|subj)", d)
    m0 = mn.fit("reaction ~ 1 + days + (1 + days|subj)", d)
    ct, ct0 = m.coeftable(ddf="satterthwaite"), m0.coeftable(ddf="satterthwaite")
    assert list(ct.index) == ["(Intercept)", "days", "days2"] and ct.loc["days2"].isna().all()
    np.testing.assert_allclose(ct["df"].iloc[:2], ct0["df"], rtol=1e-5)
    a = m.anova()
    assert list(a.index) == ["days", "days2"] and a.loc["days2", "NumDF"] == 0 and np.isnan(a.loc["days2", "F"])
    np.testing.assert_allclose(a.loc["days", "DenDF"], ct0.loc["days", "df"], rtol=1e-6)


def test_satterthwaite_steps():
    "The df hardly move when the difference steps halve: the Richardson step has removed the h² error"
    m = mn.fit("reaction ~ 1 + days + (1 + days|subj)", "sleepstudy")
    a, b = (satterthwaite_parts(m, rel) for rel in (1e-2, 5e-3))
    for j in range(2):
        l = np.eye(2)[j]
        np.testing.assert_allclose(satterthwaite_df(l, *a), satterthwaite_df(l, *b), rtol=1e-6)


def test_kr_size_limit(monkeypatch):
    import mixednb.ddf as ddf
    monkeypatch.setattr(ddf, "KR_MAXBYTES", 10**6)
    m = mn.fit("reaction ~ 1 + days + (1|subj)", "sleepstudy", reml=True)
    with pytest.raises(ValueError, match="dense n×n matrices: n = 180 and 2 variance parameters need"): m.coeftable(ddf="kenward-roger")
    assert m.coeftable(ddf="Satterthwaite")["df"].notna().all()


def test_weights_kenward_roger():
    """With prior weights Σ = σ²(ZΛΛᵀZᵀ + W⁻¹). pbkrtest 0.5.2 gives df 24.02 and 190.9 (> n − p = 161) on this fit,
    so it is no reference here; KR's df and adjusted SEs must stay near Satterthwaite's and the unadjusted ones"""
    m = weighted(True)
    kr, sat = m.coeftable(ddf="kenward-roger"), m.coeftable(ddf="satterthwaite")
    np.testing.assert_allclose(kr["df"], sat["df"], rtol=1e-2)
    np.testing.assert_allclose(kr["Std. Error"], sat["Std. Error"], rtol=1e-3)
    assert (kr["Std. Error"] >= sat["Std. Error"]).all()


def test_rank_deficient_interaction():
    """anova(lmer(reaction ~ 1 + days * dgrp * par + (1|subj), REML = TRUE)): lme4 drops the two three-way columns.
    The terms whose type III contrast avoids them agree with lmerTest; the main effects' would average over dropped
    columns, so they get a warning (lmerTest: days F 12.219, dgrp 0.744, par 0.0735)"""
    d = unbalanced()
    d["par"] = np.where(d["days"] % 2 == 0, "e", "o")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = mn.fit("reaction ~ 1 + days * dgrp * par + (1|subj)", d, reml=True)
    with pytest.warns(UserWarning, match="dropped as linearly dependent"):
        a = m.anova()
    two = a.loc[["days & dgrp", "days & par", "dgrp & par"]]
    np.testing.assert_allclose(two["F"], [1.6371833841773957, 0.0195626852708140, 0.6391706789791228], rtol=1e-4)
    np.testing.assert_allclose(two["DenDF"], [136.216621274582, 136.158893206372, 136.211255054511], rtol=1e-3)
    np.testing.assert_allclose(two["p"], [0.198331405286666929, 0.888972019904747834, 0.529305235880320302], atol=1e-4)
    assert a.loc["days & dgrp & par", "NumDF"] == 0


def test_fixed_sigma():
    """With σ fixed, φ = θ and KR's Σ keeps σ²W⁻¹ as a constant: one parameter fewer. No R package fixes σ, so this
    is a sanity bound: Satterthwaite's (observed information) and KR's (expected) df differ by a few percent, as on
    the free-σ fit of the same data (89.7 and 91.5 for `days`)"""
    from mixednb.ddf import kr_parts
    m = mn.fit("reaction ~ 1 + days + (1 + days|subj)", unbalanced(), reml=True, sigma=25.0)
    assert kr_parts(m)[3].shape == (3, 3)
    kr, sat = m.coeftable(ddf="kenward-roger"), m.coeftable(ddf="satterthwaite")
    np.testing.assert_allclose(kr["df"], sat["df"], rtol=5e-2)
    assert np.isfinite(m.anova("kenward-roger")["DenDF"]).all()
