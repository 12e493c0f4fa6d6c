"""Benchmarks: mixednb beside lme4 on the same machine, data and models, in one run.

    python benchmarks/run.py [--quick] [--lme4] [--only NAME ...] [--out benchmarks/results.json]

Every timed fit goes from the formula and the data to a fitted model (never a refit); the first
(warm-up) fit is excluded and the median of the repeats is reported. With `--lme4` (and `Rscript`
with lme4 installed) each model is also fitted by lme4 in an `Rscript` child that times inside R.
See benchmarks/README.md for how to read the table.
"""
import argparse, json, os, platform, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import simdata  # noqa: E402

import mixednb  # noqa: E402

# name, data, mixednb formula, lme4 formula, family, nagq, fast, reml, repeats (full run)
MODELS = [
    ("dyestuff", "dyestuff", "yield ~ 1 + (1|batch)", None, None, 1, False, False, 50),
    ("dyestuff2", "dyestuff2", "yield ~ 1 + (1|batch)", None, None, 1, False, False, 50),
    ("sleepstudy", "sleepstudy", "reaction ~ 1 + days + (1 + days|subj)", None, None, 1, False, False, 30),
    ("sleepstudy_zerocorr", "sleepstudy", "reaction ~ 1 + days + zerocorr(1 + days|subj)",
     "reaction ~ 1 + days + (1|subj) + (0 + days|subj)", None, 1, False, False, 30),
    ("penicillin", "penicillin", "diameter ~ 1 + (1|plate) + (1|sample)", None, None, 1, False, False, 30),
    ("pastes", "pastes", "strength ~ 1 + (1|batch/cask)", None, None, 1, False, False, 30),
    ("insteval", "insteval", "y ~ 1 + service * dept + (1|s) + (1|d)", None, None, 1, False, False, 5),
    ("verbagg", "verbagg", "r2 ~ 1 + anger + gender + btype + situ + mode + (1|subj) + (1|item)",
     None, "binomial", 1, False, False, 5),
    ("verbagg_fast", "verbagg", "r2 ~ 1 + anger + gender + btype + situ + mode + (1|subj) + (1|item)",
     None, "binomial", 0, True, False, 5),
    ("contra", "contra", "use ~ 1 + age + abs2(age) + livch + urban + (1|dist)",
     "use ~ 1 + age + I(age^2) + livch + urban + (1|dist)", "binomial", 1, False, False, 11),
    ("contra_nagq9", "contra", "use ~ 1 + age + abs2(age) + livch + urban + (1|dist)",
     "use ~ 1 + age + I(age^2) + livch + urban + (1|dist)", "binomial", 9, False, False, 11),
    ("sim_crossed_200k", "sim_crossed_200k", "y ~ 1 + x + (1|A) + (1|B)", None, None, 1, False, False, 3),
    ("movielens_1m", "movielens_like", "y ~ 1 + (1|g) + (1|h)", None, None, 1, False, False, 1),
]
QUICK = {"dyestuff", "sleepstudy", "penicillin", "pastes", "contra"}


def load(name: str) -> pd.DataFrame:
    return simdata.movielens_like() if name == "movielens_like" else mixednb.dataset(name)


def family_of(fam):
    return None if fam is None else {"binomial": mixednb.Bernoulli}[fam]()


def mixednb_fit(formula, data, fam, nagq, fast, reml):
    if fam is None:
        return mixednb.fit(formula, data, reml=reml)
    return mixednb.fit(formula, data, family=family_of(fam), nagq=max(nagq, 1), fast=fast)


def objective(m) -> float:
    "−2 log-likelihood (REML criterion for REML fits; the Laplace/AGQ deviance for GLMMs)"
    return float(m.objective())


def time_mixednb(formula, data, fam, nagq, fast, reml, reps):
    m = mixednb_fit(formula, data, fam, nagq, fast, reml)         # warm-up (numba compile), excluded
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        m = mixednb_fit(formula, data, fam, nagq, fast, reml)
        times.append(time.perf_counter() - t)
    return times, objective(m), m


def time_lme4(df, formula, fam, nagq, reml, reps, tmp):
    csv = Path(tmp) / "data.csv"
    cats = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    df.to_csv(csv, index=False)
    cmd = ["Rscript", str(HERE / "lme4_bench.R"), str(csv), formula, fam or "gaussian",
           str(nagq), "TRUE" if reml else "FALSE", str(reps), ",".join(cats)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"lme4 failed on {formula}: {out.stderr[-2000:]}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    return res["times"], res["objective"]


def first_fit_seconds(cache_dir: str) -> float:
    "Wall time of a fresh `python` process that imports mixednb and fits dyestuff"
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    code = "import mixednb; mixednb.fit('yield ~ 1 + (1|batch)', mixednb.dataset('dyestuff'))"
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    return time.perf_counter() - t


def scaling_point(n: int) -> dict:
    "Fit the crossed scaling design of n rows in a child process: time and peak memory"
    code = (
        "import sys, time, resource; sys.path.insert(0, %r); import simdata, mixednb\n"
        "df = simdata.crossed(%d)\n"
        "mixednb.fit('y ~ 1 + (1|g) + (1|h)', simdata.crossed(1000))\n"
        "t = time.perf_counter(); m = mixednb.fit('y ~ 1 + (1|g) + (1|h)', df); t = time.perf_counter() - t\n"
        "print(t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, m.optsum.feval)\n" % (str(HERE), n))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    t, rss_kb, feval = out.stdout.split()[-3:]
    df = simdata.crossed(n)
    return {"n": n, "levels": [df.g.cat.categories.size, df.h.cat.categories.size],
            "seconds": float(t), "peak_rss_mb": int(rss_kb) / 1024, "feval": int(feval)}


def where_time_goes(name, formula, df) -> dict:
    "Split a fit into building the model (A and its blocks) and the optimisation (L updates)"
    from mixednb.lmm import LinearMixedModel
    t = time.perf_counter(); m = LinearMixedModel(formula, df); t_build = time.perf_counter() - t
    t = time.perf_counter(); m.fit(); t_opt = time.perf_counter() - t
    reps = 5
    t = time.perf_counter()
    for _ in range(reps):
        m.objective(m.theta)
    t_eval = (time.perf_counter() - t) / reps
    big = max(m.L_block_sizes()) if hasattr(m, "L_block_sizes") else None
    return {"model": name, "build_s": t_build, "optimise_s": t_opt, "feval": m.optsum.feval,
            "seconds_per_eval": t_eval, "largest_dense_block": big,
            "dense_cholesky_gflop": None if big is None else big ** 3 / 3 / 1e9}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small models, few repeats (a smoke run)")
    ap.add_argument("--lme4", action="store_true", help="also time lme4 (needs Rscript and lme4)")
    ap.add_argument("--only", nargs="*", help="model names to run")
    ap.add_argument("--no-extras", action="store_true", help="skip scaling, first-fit and where-time-goes")
    ap.add_argument("--out", default=str(HERE / "results.json"))
    a = ap.parse_args(argv)
    use_r = a.lme4 and shutil.which("Rscript") is not None
    if a.lme4 and not use_r:
        print("Rscript not found: lme4 columns left empty (see benchmarks/README.md to install R and lme4)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, data, form, rform, fam, nagq, fast, reml, reps in MODELS:
            if a.only and name not in a.only: continue
            if a.quick and name not in QUICK: continue
            reps = min(reps, 5) if a.quick else reps
            df = load(data)
            times, obj, _ = time_mixednb(form, df, fam, nagq, fast, reml, reps)
            row = {"model": name, "n": len(df), "formula": form, "mixednb_median_s": statistics.median(times),
                   "mixednb_times_s": times, "mixednb_objective": obj}
            if use_r:
                rt, robj = time_lme4(df, rform or form, fam, nagq, reml, max(1, min(reps, 5 if len(df) > 1e5 else reps)), tmp)
                row.update(lme4_median_s=statistics.median(rt), lme4_times_s=rt, lme4_objective=robj,
                           ratio=statistics.median(rt) / statistics.median(times))
            rows.append(row)
            print(fmt_row(row), flush=True)
    result = {"machine": {"nproc": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0]},
              "models": rows}
    if not a.no_extras and not a.only:
        with tempfile.TemporaryDirectory() as cache:
            result["first_fit_s"] = {"cold_cache": first_fit_seconds(cache), "warm_cache": first_fit_seconds(cache)}
        print("first fit in a fresh process:", result["first_fit_s"], flush=True)
        sizes = [10_000, 100_000] if a.quick else [10_000, 100_000, 1_000_000]
        result["scaling"] = [scaling_point(n) for n in sizes]
        for s in result["scaling"]: print("scaling", s, flush=True)
        if not a.quick:
            result["where_time_goes"] = [
                where_time_goes("insteval", "y ~ 1 + service * dept + (1|s) + (1|d)", mixednb.dataset("insteval")),
                where_time_goes("movielens_1m", "y ~ 1 + (1|g) + (1|h)", simdata.movielens_like())]
            for w in result["where_time_goes"]: print("where time goes", w, flush=True)
    Path(a.out).write_text(json.dumps(result, indent=1))
    print(f"results written to {a.out}")


def fmt_row(r) -> str:
    lme = (f"{r['lme4_median_s']:9.4f}  {r['ratio']:7.1f}x  {r['lme4_objective']:.6f}"
           if "lme4_median_s" in r else f"{'-':>9}  {'-':>8}  -")
    return f"{r['model']:<22}{r['n']:>9}  {r['mixednb_median_s']:9.4f}  {lme}  {r['mixednb_objective']:.6f}"


if __name__ == "__main__":
    print(f"{'model':<22}{'n':>9}  {'mixednb s':>9}  {'lme4 s':>9}  {'ratio':>8}  lme4 objective  mixednb objective")
    main()
