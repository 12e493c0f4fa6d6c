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
    res = inference.main(["--nboot", "3", "--nsim", "5", "--reps", "1"])
    assert [r["model"] for r in res["rows"]] == ["sleepstudy", "penicillin"]
    assert all(r["boot_ms"] > 0 and r["predict_ms"] > 0 and "lme4_boot_ms" not in r for r in res["rows"])
    assert "bootstrap/replicate" in capsys.readouterr().out
