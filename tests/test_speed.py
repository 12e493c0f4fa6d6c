"""What keeps mixednb fast to start and to evaluate, checked without timing (timings live in benchmarks/)."""
import subprocess
import sys


def _modules_after(code: str) -> set:
    "The modules loaded by a fresh Python after running `code`"
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_import_loads_nothing_heavy():
    "`import mixednb` loads neither scipy.stats (≈0.9 s) nor tqdm: only code that a fit needs"
    mods = _modules_after("import mixednb")
    assert "mixednb.inference" in mods and "mixednb.predict" in mods     # every chapter is imported …
    assert "scipy.stats" not in mods and "tqdm" not in mods             # … without their heavy, rarely used imports


def test_first_fit_loads_nothing_heavy():
    "A first LMM fit, its polish's gradient included, needs no p-value, sparse matrix or Parquet reader"
    mods = _modules_after("import mixednb; mixednb.fit('reaction ~ 1 + days + (1 + days|subj)', 'sleepstudy')")
    assert not {"scipy.stats", "tqdm", "scipy.special", "scipy.sparse", "pyarrow.dataset"} & mods


def test_inference_chapters_load_their_helpers_on_use():
    "Profiles, denominator df, bootstrap and out-of-core fits load scipy.optimize/interpolate, joblib, tqdm, dask when used"
    mods = _modules_after("import mixednb")
    assert not {"scipy.optimize", "scipy.interpolate", "joblib", "dask", "matplotlib"} & mods
