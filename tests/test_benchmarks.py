"""The benchmark runner's smallest paths, so that it cannot rot. No timing is asserted: timings belong to
`benchmarks/run.py` runs, reported in benchmarks/README.md, never to tests."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))
import run  # noqa: E402
import simdata  # noqa: E402


def test_quick_dyestuff(tmp_path, capsys):
    out = tmp_path / "results.json"
    res = run.main(["--quick", "--only", "dyestuff", "--no-extras", "--out", str(out)])
    saved = json.loads(out.read_text())
    assert saved["models"] == json.loads(json.dumps(res["models"]))
    (row,) = saved["models"]
    assert row["model"] == "dyestuff" and row["n"] == 30 and len(row["mixednb_times_s"]) == 3
    np.testing.assert_allclose(row["mixednb_objective"], 327.3270598811, rtol=1e-8)
    assert "dyestuff" in capsys.readouterr().out          # the printed table


def test_unknown_model_is_an_error():
    with pytest.raises(SystemExit):
        run.main(["--only", "no_such_model", "--no-extras"])


def test_where_time_goes_small():
    w = run.where_time_goes("penicillin", "diameter ~ 1 + (1|plate) + (1|sample)", run.mixednb.dataset("penicillin"))
    assert w["largest_dense_block"] == 6 and w["feval"] > 0 and w["update_L_calls"] >= w["feval"]
    assert 0 < w["share_build"] < 1 and w["dense_cholesky_gflop"] == pytest.approx(6**3 / 3 / 1e9)


def test_simdata_shapes():
    df = simdata.crossed(2000)
    assert len(df) == 2000 and len(df.g.cat.categories) == 100 and df.g.cat.codes.min() == 0
    big = simdata.crossed_frame(5000, 60, 37, seed=3, alpha=0.6)
    assert len(big.g.cat.categories) == 60 and big.h.value_counts().min() >= 1    # every level present
    np.testing.assert_array_equal(simdata.crossed(2000).y, df.y)                  # seeded


def test_inference_quick(capsys):
    import inference  # noqa: E402  (benchmarks/inference.py)
    res = inference.main(["--nboot", "3", "--boot-reps", "1", "--nlarge", "20", "--nsim", "5", "--reps", "1"])
    assert [r["model"] for r in res["rows"]] == ["sleepstudy", "penicillin"]
    assert all(r["boot_ms"] > 0 and r["predict_ms"] > 0 and "lme4_boot_ms" not in r for r in res["rows"])
    assert res["rows"][0]["large_s"] > 0 and "large_s" not in res["rows"][1]
    out = capsys.readouterr().out
    assert "bootstrap/replicate" in out and "20 replicates in" in out
def test_kb07_like_design():
    df = simdata.kb07_like()
    assert len(df) == 1790 and df.subj.nunique() == 56 and df.item.nunique() == 32
    for c in ("spkr", "prec", "load"):                     # effects coding, balanced
        assert set(df[c]) == {-1.0, 1.0} and abs(df[c].sum()) <= 2
    assert (df.groupby(["subj", "item"], observed=True).size() == 1).all()        # each pair seen once
    np.testing.assert_array_equal(simdata.kb07_like().rt, df.rt)                  # seeded


def test_floor_counts_dense_work():
    "penicillin: the multiply-adds of every dense call of one evaluation, counted by hand"
    import floor
    m = run.mixednb.LinearMixedModel("diameter ~ 1 + (1|plate) + (1|sample)", run.mixednb.dataset("penicillin"))
    # L₁₀ (6 × 24, dense: every plate meets every sample) and the [X y] row (2 × 24) divided by the diagonal L₀₀,
    # L₁₁ −= L₁₀L₁₀ᵀ, L₂₁ −= L₂₀L₁₀ᵀ, L₂₂ −= L₂₀L₂₀ᵀ, chol(L₁₁), L₂₁ ← L₂₁L₁₁⁻ᵀ, L₂₂ −= L₂₁L₂₁ᵀ, chol(L₂₂)
    fma = 6 * 24 / 2 + 2 * 24 / 2 + 6 * 6 * 24 / 2 + 2 * 6 * 24 + 2 * 2 * 24 / 2 + 6**3 / 3 + 2 * 6 * 6 / 2 + 2 * 2 * 6 / 2 + 2**3 / 3
    assert floor.dense_flops(m) == pytest.approx(2 * fma)
    row = floor.floor_row(run.Model("penicillin", "penicillin", "diameter ~ 1 + (1|plate) + (1|sample)"), 1e9)
    assert row["feval"] > 0 and row["seconds_per_eval"] > 0 and row["floor_s"] == pytest.approx(2 * fma / 1e9)


def test_fill_design():
    import fill
    from mixednb.blocks import block, fill_ratio, blocktype
    df = fill.design(0.2, n0=30, n1=10)
    ms, md = fill.model(fill.FORMS[1], df, 1.0), fill.model(fill.FORMS[1], df, 0.0)
    assert fill_ratio(ms.A[block(1, 0)]) == pytest.approx(0.2)
    assert blocktype(ms.L[block(1, 0)]) == "Sparse" and blocktype(md.L[block(1, 0)]) == "Dense"
    np.testing.assert_allclose(ms.set_theta([0.5, 0.7]).update_L().objective(),
                               md.set_theta([0.5, 0.7]).update_L().objective(), rtol=1e-12)
