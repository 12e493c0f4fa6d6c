"""Chapter 8's Newton polish: θ̂ is the stationary point of the objective, so fits of the same rows agree to rounding.

Without the polish, the optimiser's θ̂ moves by 1e-8 to 3e-5 when the rows are shuffled (A summed in another order),
and the gradient at θ̂ is 1e-9 to 1e-7 of the objective: the tests below fail without it.
"""
import json, warnings

import numpy as np
import pytest

import mixednb
from mixednb import LinearMixedModel, dataset
from mixednb.fitting import default_polish, newton_polish, POLISH_Q, SingularFitWarning
from mixednb.predict import restoreoptsum

SLEEP = "reaction ~ 1 + days + (1 + days|subj)"
MODELS = {"sleepstudy": (SLEEP, "sleepstudy", {}), "sleepstudy_reml": (SLEEP, "sleepstudy", dict(reml=True)),
          "penicillin": ("diameter ~ 1 + (1|plate) + (1|sample)", "penicillin", {}),
          "pastes": ("strength ~ 1 + (1|batch/cask)", "pastes", {}),
          "sleepstudy_sigma": (SLEEP, "sleepstudy", dict(sigma=25.0)),
          "singular": ("reaction ~ 1 + days + (1 + days|subj) + (1|days)", "sleepstudy", {})}


def _fit(id, data=None, **kw):
    form, d, opts = MODELS[id]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularFitWarning)
        return mixednb.fit(form, dataset(d) if data is None else data, **opts, **kw)


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.where(a == b, 0.0, np.abs(a - b) / np.maximum(np.abs(b), 1e-300))))


@pytest.mark.parametrize("id", list(MODELS))
def test_gradient_vanishes_at_theta_hat(id):
    "(a) At the default fit's θ̂ the gradient on the free θ is rounding: < 1e-11 of the objective (1e-9 to 1e-7 unpolished)"
    m = _fit(id)
    assert m.optsum.polish is True
    free = (m.lowerbd != 0) | (m.theta != 0)
    assert np.linalg.norm(m.gradient()[free]) < 1e-11 * abs(m.objective())


@pytest.mark.parametrize("id", ["sleepstudy", "sleepstudy_reml", "pastes", "singular"])
def test_shuffled_rows_give_the_same_fit(id):
    "(b) The same rows in another order: θ̂, β̂ and the objective to 1e-10 (the optimiser alone: 1e-8 to 3e-5)"
    df = dataset(MODELS[id][1])
    a, b = _fit(id, df), _fit(id, df.sample(frac=1, random_state=1).reset_index(drop=True))
    assert max(_rel(b.theta, a.theta), _rel(b.beta, a.beta), _rel(b.objective(), a.objective())) < 1e-10


def test_singular_fit_keeps_its_zero():
    "A θ snapped to 0 stays exactly 0; the others are polished on that face"
    m = _fit("singular")
    assert m.issingular() and m.theta[3] == 0.0 and np.all(m.theta[:3] != 0)
    np.testing.assert_allclose(m.theta[:3], _fit("sleepstudy").theta, rtol=1e-9)   # the (1|days) term is absent


def test_log_and_record():
    "The polish's evaluations are in the fit log and in feval; fmin, final and L are at the polished θ"
    m0, m = _fit("sleepstudy", polish=False), _fit("sleepstudy")
    os_ = m.optsum
    assert m0.optsum.polish is False and os_.feval == len(os_.fitlog) - 1 and os_.feval > m0.optsum.feval
    assert np.array_equal(os_.final, m.theta)
    np.testing.assert_allclose(m.objective(), os_.fmin, rtol=1e-14)
    assert m.objective() <= m0.objective() * (1 + 1e-12)
    np.testing.assert_allclose(min(o for _, o in os_.fitlog), os_.fmin, rtol=1e-12)
    np.testing.assert_allclose(m.set_theta(m.theta).update_L().objective(), os_.fmin, rtol=1e-14)
    assert "Polish" in repr(os_)


def test_default_gate():
    "Polished by default with 2 to 9 θ and at most POLISH_Q random effects; one θ, L-BFGS and large models are not"
    lmm = lambda f, d, **kw: LinearMixedModel(f, dataset(d), **kw)
    assert default_polish(lmm(SLEEP, "sleepstudy")) and default_polish(lmm("diameter ~ 1 + (1|plate) + (1|sample)", "penicillin"))
    assert not default_polish(lmm("yield ~ 1 + (1|batch)", "dyestuff"))
    assert not default_polish(lmm("reaction ~ 1 + days + zerocorr(1 + days|subj)", "sleepstudy",
                                  contrasts={"days": mixednb.DummyCoding()}))                  # 11 θ: L-BFGS
    assert not default_polish(lmm("y ~ 1 + service + (1|s) + (1|d)", "insteval"))             # 4,100 random effects
    assert POLISH_Q < 4100
    m = _fit("sleepstudy", polish=False)
    assert m.optsum.polish is False
    d = mixednb.fit("yield ~ 1 + (1|batch)", "dyestuff", polish=True)                           # asked for: done
    assert d.optsum.polish is True and np.linalg.norm(d.gradient()) < 1e-11 * d.objective()


def test_no_polish_past_maxfeval():
    "A run stopped by maxfeval is not polished: the limit holds"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = _fit("sleepstudy", maxfeval=20)
    assert m.optsum.returnvalue == "MAXEVAL_REACHED" and m.optsum.feval <= 20


def test_polish_keeps_theta_when_it_cannot_help():
    "A gradient that fails, or an H that is not positive definite: θ and the objective as they were, L at θ"
    m = _fit("penicillin", polish=False)
    th, f = m.theta, m.objective()
    for bad in (lambda: (_ for _ in ()).throw(np.linalg.LinAlgError("no")), lambda: -LinearMixedModel.gradient(m)):
        m.gradient = bad
        t2, f2 = newton_polish(m, th, f)
        assert np.array_equal(t2, th) and f2 == f and np.array_equal(m.theta, th)
        np.testing.assert_allclose(m.objective(), f, rtol=1e-14)
    del m.gradient


def test_saveoptsum_keeps_the_setting(tmp_path):
    m = _fit("penicillin")
    m.saveoptsum(tmp_path / "m.json")
    assert json.loads((tmp_path / "m.json").read_text())["polish"] is True
    m2 = restoreoptsum(LinearMixedModel(MODELS["penicillin"][0], dataset("penicillin")), tmp_path / "m.json")
    assert m2.optsum.polish is True and m2.objective() == m.objective()


def test_rounding_does_not_stop_the_polish():
    "pastes' objective scatters over 3.5e-12 (relative) near θ̂, more than a Newton step lowers it: 20 shuffles all polished"
    df, form = dataset("pastes"), MODELS["pastes"][0]
    th = mixednb.fit(form, df).theta
    for s in range(20):
        m = mixednb.fit(form, df.sample(frac=1, random_state=s))
        assert np.linalg.norm(m.gradient()) < 1e-11 * m.objective() and _rel(m.theta, th) < 1e-10, s
