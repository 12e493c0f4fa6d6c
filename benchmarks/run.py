"""Benchmarks: mixednb beside lme4 on the same machine, data and models, in one run.

    python benchmarks/run.py [--quick] [--lme4] [--only NAME ...] [--no-extras] [--out FILE]
                             [--lme4-settings SETTING ...] [--no-lme4 NAME ...]

Every timed fit goes from the formula and the data to a fitted model (never a refit); the first (warm-up) fit
is excluded and the median of the repeats is reported. With `--lme4` (and `Rscript` with lme4 installed) each
model is also fitted by lme4 in an `Rscript` child that times inside R, on a CSV copy of the same data.
The extras: the scaling series (10⁴, 10⁵, 10⁶ rows), the first fit in a fresh process (cold and warm numba
cache) and "where the time goes" for InstEval and the MovieLens-sized design.
See benchmarks/README.md for how to read the table.
"""
import argparse, json, os, platform, shutil, statistics, subprocess, sys, tempfile, time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import simdata  # noqa: E402

import mixednb  # noqa: E402


@dataclass
class Model:
    name: str
    data: str                     # a bundled data set, or "movielens_like"
    formula: str                  # mixednb's formula
    rformula: str = None          # lme4's, when it differs
    family: str = None            # None (LMM) or "binomial"
    nagq: int = 1                 # 0: the fast fit (lme4's nAGQ = 0, mixednb's fast=True)
    reml: bool = False
    reps: int = 20                # timed repeats of a full run
    lme4: list = field(default_factory=lambda: ["default"])   # lme4 optimizer settings timed


GLMM_SETTINGS = ["default", "nloptwrap"]      # glmer's default (bobyqa + Nelder-Mead) and its fastest
KB07_20 = "rt ~ 1 + spkr * prec * load + (1 + spkr + prec + load|subj) + (1 + spkr + prec + load|item)"       # 20 θ
KB07_72 = "rt ~ 1 + spkr * prec * load + (1 + spkr * prec * load|subj) + (1 + spkr * prec * load|item)"       # 72 θ
MODELS = [
    Model("dyestuff", "dyestuff", "yield ~ 1 + (1|batch)", reps=100),
    Model("dyestuff2", "dyestuff2", "yield ~ 1 + (1|batch)", reps=100),
    Model("sleepstudy", "sleepstudy", "reaction ~ 1 + days + (1 + days|subj)", reps=50),
    Model("sleepstudy_zerocorr", "sleepstudy", "reaction ~ 1 + days + zerocorr(1 + days|subj)",
          "reaction ~ 1 + days + (1|subj) + (0 + days|subj)", reps=50),
    Model("penicillin", "penicillin", "diameter ~ 1 + (1|plate) + (1|sample)", reps=50),
    Model("pastes", "pastes", "strength ~ 1 + (1|batch/cask)", reps=50),
    Model("insteval", "insteval", "y ~ 1 + service * dept + (1|s) + (1|d)", reps=5, lme4=["default", "bobyqa"]),
    Model("verbagg", "verbagg", "r2 ~ 1 + anger + gender + btype + situ + mode + (1|subj) + (1|item)",
          family="binomial", reps=5, lme4=GLMM_SETTINGS),
    Model("verbagg_fast", "verbagg", "r2 ~ 1 + anger + gender + btype + situ + mode + (1|subj) + (1|item)",
          family="binomial", nagq=0, reps=11),
    Model("contra", "contra", "use ~ 1 + age + abs2(age) + livch + urban + (1|dist)",
          "use ~ 1 + age + I(age^2) + livch + urban + (1|dist)", family="binomial", reps=11, lme4=GLMM_SETTINGS),
    Model("contra_nagq9", "contra", "use ~ 1 + age + abs2(age) + livch + urban + (1|dist)",
          "use ~ 1 + age + I(age^2) + livch + urban + (1|dist)", family="binomial", nagq=9, reps=11,
          lme4=GLMM_SETTINGS),
    Model("sim_crossed_200k", "sim_crossed_200k", "y ~ 1 + x + (1|A) + (1|B)", reps=5, lme4=["default", "bobyqa"]),
    Model("movielens_1m", "movielens_like", "y ~ 1 + (1|g) + (1|h)", reps=1),
    Model("kb07_20", "kb07_like", KB07_20, reps=5, lme4=["default", "bobyqa"]),
    Model("kb07_72", "kb07_like", KB07_72, reps=1, lme4=["default"]),
]
QUICK = {"dyestuff", "sleepstudy", "penicillin", "pastes", "contra"}
BIG = 500_000                     # rows above which the warm-up fit is a small model of the same shape


SIMULATED = {"movielens_like": simdata.movielens_like, "kb07_like": simdata.kb07_like}   # seeded generators


def load(name: str) -> pd.DataFrame:
    return SIMULATED[name]() if name in SIMULATED else mixednb.dataset(name)


def glmm_available() -> bool:
    return hasattr(mixednb, "Bernoulli") and hasattr(mixednb, "GeneralizedLinearMixedModel")


def fit_mixednb(mod: Model, df):
    "Formula and data to a fitted model"
    if mod.family is None:
        return mixednb.fit(mod.formula, df, reml=mod.reml)
    fam = {"binomial": mixednb.Bernoulli}[mod.family]()
    return mixednb.fit(mod.formula, df, family=fam, nagq=max(mod.nagq, 1), fast=mod.nagq == 0)


def objective(m) -> float:
    "−2 log-likelihood (REML criterion for REML fits; the Laplace/AGQ −2 log-likelihood for GLMMs)"
    return float(m.objective())


def time_mixednb(mod: Model, df, reps: int):
    "Warm-up fit (excluded), then `reps` timed fits; returns times, objective, evaluations"
    if len(df) > BIG:        # the warm-up only loads compiled kernels: a small design of the same shape does it
        fit_mixednb(mod, simdata.crossed(10_000))
    else:
        fit_mixednb(mod, df)
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        m = fit_mixednb(mod, df)
        times.append(time.perf_counter() - t)
    return times, objective(m), int(m.optsum.feval)


def time_lme4(mod: Model, df, reps: int, settings: list, tmp: str) -> dict:
    "Time lme4 in an Rscript child on a CSV copy of `df`: {setting: {times, objective}}"
    csv = Path(tmp) / f"{mod.data}.csv"
    if not csv.exists(): df.to_csv(csv, index=False)
    cats = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    cmd = ["Rscript", str(HERE / "lme4_bench.R"), str(csv), mod.rformula or mod.formula, mod.family or "gaussian",
           str(mod.nagq), "TRUE" if mod.reml else "FALSE", str(reps), ",".join(cats), ",".join(settings)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=6 * 3600)
    if out.returncode != 0:
        raise RuntimeError(f"lme4 failed on {mod.name}: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])["settings"]


def bench_model(mod: Model, quick: bool, use_r: bool, tmp: str, settings: list = None) -> dict:
    df = load(mod.data)
    reps = min(mod.reps, 3) if quick else mod.reps
    times, obj, feval = time_mixednb(mod, df, reps)
    row = {"model": mod.name, "n": len(df), "formula": mod.formula, "mixednb_median_s": statistics.median(times),
           "mixednb_times_s": times, "mixednb_objective": obj, "mixednb_feval": feval}
    if use_r:
        rreps = max(1, min(reps, 3 if len(df) > 100_000 else 5 if len(df) > 50_000 else reps, 21))
        settings = ["default"] if quick else [s for s in mod.lme4 if settings is None or s == "default" or s in settings]
        res = time_lme4(mod, df, rreps, settings, tmp)
        per = {s: {"median_s": statistics.median(r["times"]), "times_s": r["times"], "objective": r["objective"]}
               for s, r in res.items()}
        fastest = min(per, key=lambda s: per[s]["median_s"])
        row.update(lme4=per, lme4_default_median_s=per["default"]["median_s"], lme4_fastest=fastest,
                   lme4_median_s=per[fastest]["median_s"], lme4_objective=per[fastest]["objective"],
                   ratio=per[fastest]["median_s"] / row["mixednb_median_s"],
                   ratio_default=per["default"]["median_s"] / row["mixednb_median_s"])
    return row


# ---------------------------------------------------------------------------------------------- extras

def _child(code: str, env=None) -> dict:
    "Run `code` in a fresh Python; it prints one JSON line last"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=3600)
    if out.returncode != 0: raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


FIRST_FIT = """
import json, time, warnings
warnings.simplefilter("ignore")
t0 = time.perf_counter()
import mixednb
out = {"import_s": time.perf_counter() - t0}
for name, data, form, fam in [("dyestuff", "dyestuff", "yield ~ 1 + (1|batch)", None),
                              ("penicillin", "penicillin", "diameter ~ 1 + (1|plate) + (1|sample)", None),
                              ("sleepstudy", "sleepstudy", "reaction ~ 1 + days + (1 + days|subj)", None),
                              ("contra", "contra", "use ~ 1 + age + abs2(age) + livch + urban + (1|dist)", "b")]:
    t = time.perf_counter()
    if fam is None: mixednb.fit(form, data)
    else: mixednb.fit(form, data, family=mixednb.Bernoulli())
    out[name + "_s"] = time.perf_counter() - t
out["import_and_first_fit_s"] = out["import_s"] + out["dyestuff_s"]
print(json.dumps(out))
"""


def first_fit(cache_dir: str) -> dict:
    "A fresh process: import time, then the first fit of each kind (LMM scalar, crossed, vector; GLMM)"
    return _child(FIRST_FIT, dict(os.environ, NUMBA_CACHE_DIR=cache_dir))


SCALING = """
import sys, time, json, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, %r)
import simdata, mixednb
def status(key):                                    # kB -> MB, from /proc/self/status (Linux)
    for line in open("/proc/self/status"):
        if line.startswith(key): return int(line.split()[1]) / 1024
mixednb.fit("y ~ 1 + (1|g) + (1|h)", simdata.crossed(2000))            # loads the compiled kernels
df = simdata.crossed(%d)
rss0 = status("VmRSS")
with open("/proc/self/clear_refs", "w") as f: f.write("5")              # restart the peak (VmHWM) here
t = time.perf_counter(); m = mixednb.fit("y ~ 1 + (1|g) + (1|h)", df); t = time.perf_counter() - t
print(json.dumps({"seconds": t, "peak_rss_mb": status("VmHWM"), "rss_before_fit_mb": rss0,
                  "feval": int(m.optsum.feval), "levels": [len(df.g.cat.categories), len(df.h.cat.categories)]}))
"""


def scaling_point(n: int) -> dict:
    """Fit the crossed scaling design of n rows in a fresh process: time, evaluations, the resident memory before
    the fit (Python, the libraries, the data) and its peak during the fit (Linux: VmHWM, restarted before the fit;
    `ru_maxrss` would not do, a child inherits its parent's)"""
    return {"n": n, **_child(SCALING % (str(HERE), n))}


def where_time_goes(name: str, formula: str, df) -> dict:
    """Split a fit: building A (formula and data to blocks) vs the evaluations (updating L), and compare the
    evaluations with the floor: the dense Cholesky of the largest filled-in block, once per evaluation"""
    from mixednb.lmm import LinearMixedModel
    from mixednb.blocks import block, UniformBlockDiagonal
    from mixednb import linalg
    t = time.perf_counter(); m = LinearMixedModel(formula, df); t_build = time.perf_counter() - t
    t = time.perf_counter(); m.fit(); t_fit = time.perf_counter() - t
    nupd = len(m.optsum.fitlog)                       # update_L calls of the fit (the log has every one)
    theta, reps = m.theta, 5
    def med(f):
        ts = []
        for _ in range(reps):
            t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
        return statistics.median(ts)
    t_eval = med(lambda: m.set_theta(theta).update_L().objective())
    lams = [r.lambda_ for r in m.reterms]
    t_copyscale = med(lambda: linalg.copyscale(m.L, m.A, lams))
    # the largest dense diagonal block, as the factorisation sees it: everything before its dpotrf
    k = len(m.reterms)
    dense = [j for j in range(k) if not isinstance(m.L[block(j, j)], UniformBlockDiagonal)]
    out = {"model": name, "n": len(df), "build_s": t_build, "fit_s": t_fit, "feval": int(m.optsum.feval),
           "update_L_calls": nupd, "seconds_per_eval": t_eval, "copyscale_s": t_copyscale,
           "evaluations_s": nupd * t_eval, "blas_threads": linalg.blas_threads()}
    from mixednb.blocks import refill_A
    out["fill_A_s"] = med(lambda: refill_A(m.A, m.reterms, m.Xy, m._w))    # refilling A from the data (compensated sums)
    if dense:
        j = max(dense, key=lambda j: m.L[block(j, j)].shape[0])
        N = m.L[block(j, j)].shape[0]
        M = np.full((N, N), 0.5) + N * np.eye(N)       # dpotrf's time does not depend on the values
        t_copy = med(lambda: M.copy())
        t_chol = max(med(lambda: linalg.chol_dense(M.copy())) - t_copy, 1e-9)
        prev = linalg.blas_threads(2)                  # the opt-in: OpenBLAS on both cores
        try: t_chol2 = max(med(lambda: linalg.chol_dense(M.copy())) - t_copy, 1e-9)
        finally: linalg.blas_threads(prev)
        out.update(largest_dense_block=N, dense_cholesky_gflop=N**3 / 3 / 1e9, dense_cholesky_s=t_chol,
                   dense_cholesky_gflops_per_s=N**3 / 3 / 1e9 / t_chol, floor_s=nupd * t_chol,
                   share_of_eval_in_dense_cholesky=t_chol / t_eval, dense_cholesky_2threads_s=t_chol2)
    out["share_build"] = t_build / (t_build + out["evaluations_s"])
    return out


# ---------------------------------------------------------------------------------------------- main

HEAD = (f"{'model':<20}{'n':>9}  {'mixednb s':>10}  {'lme4 s':>9}  {'ratio':>7}  {'(default)':>9}  "
        f"{'mixednb objective':>18}  {'lme4 objective':>18}  evals")


def fmt_row(r) -> str:
    if "lme4_median_s" in r:
        lme = (f"{r['lme4_median_s']:9.4f}  {r['ratio']:6.1f}x  {r['ratio_default']:8.1f}x  "
               f"{r['mixednb_objective']:18.6f}  {r['lme4_objective']:18.6f}")
    else:
        lme = f"{'-':>9}  {'-':>7}  {'-':>9}  {r['mixednb_objective']:18.6f}  {'-':>18}"
    return f"{r['model']:<20}{r['n']:>9}  {r['mixednb_median_s']:10.5f}  {lme}  {r['mixednb_feval']}"


def markdown(result: dict) -> str:
    "The tables of benchmarks/README.md from a results file"
    out = ["| model | n | mixednb (s) | lme4 fastest (s) | setting | ratio | lme4 default (s) | ratio to default "
           "| mixednb objective | lme4 objective | evaluations |", "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in result["models"]:
        if "lme4_median_s" in r:
            out.append(f"| {r['model']} | {r['n']:,} | {r['mixednb_median_s']:.4g} | {r['lme4_median_s']:.4g} | "
                       f"{r['lme4_fastest']} | **{r['ratio']:.1f}×** | {r['lme4_default_median_s']:.4g} | "
                       f"{r['ratio_default']:.1f}× | {r['mixednb_objective']:.6f} | {r['lme4_objective']:.6f} | "
                       f"{r['mixednb_feval']} |")
        else:
            out.append(f"| {r['model']} | {r['n']:,} | {r['mixednb_median_s']:.4g} | – | – | – | – | – | "
                       f"{r['mixednb_objective']:.6f} | – | {r['mixednb_feval']} |")
    if "first_fit" in result:
        out += ["", "| numba cache | import (s) | first dyestuff fit (s) | import + first fit (s) | first penicillin (s) "
                "| first sleepstudy (s) | first contra GLMM (s) |", "|---|---:|---:|---:|---:|---:|---:|"]
        for k, v in result["first_fit"].items():
            out.append(f"| {k.replace('_', ' ')} | {v['import_s']:.2f} | {v['dyestuff_s']:.3f} | "
                       f"**{v['import_and_first_fit_s']:.2f}** | {v['penicillin_s']:.3f} | {v['sleepstudy_s']:.3f} | "
                       f"{v['contra_s']:.3f} |")
    if "scaling" in result:
        out += ["", "| rows | levels (g × h) | fit (s) | evaluations | s / evaluation | peak RSS (MB) | RSS before fit (MB) |",
                "|---:|---|---:|---:|---:|---:|---:|"]
        for p in result["scaling"]:
            out.append(f"| {p['n']:,} | {p['levels'][0]:,} × {p['levels'][1]:,} | {p['seconds']:.3f} | {p['feval']} | "
                       f"{p['seconds'] / max(p['feval'], 1):.4f} | {p['peak_rss_mb']:.0f} | {p['rss_before_fit_mb']:.0f} |")
    if "where_time_goes" in result:
        out += ["", "| | " + " | ".join(w["model"] for w in result["where_time_goes"]) + " |",
                "|---|" + "---:|" * len(result["where_time_goes"])]
        rows = [("model construction, formula to A (s)", "build_s", "{:.3f}"), ("refilling A alone (s)", "fill_A_s", "{:.4f}"),
                ("evaluations (NLopt)", "feval", "{}"), ("update_L calls", "update_L_calls", "{}"),
                ("time per evaluation (s)", "seconds_per_eval", "{:.4f}"),
                ("all evaluations (s)", "evaluations_s", "{:.3f}"), ("whole fit (s)", "fit_s", "{:.3f}"),
                ("share of the fit building A", "share_build", "{:.1%}"),
                ("largest filled-in block", "largest_dense_block", "{}"),
                ("its dense Cholesky: N³/3 (GFlop)", "dense_cholesky_gflop", "{:.3f}"),
                ("dpotrf, 1 thread (s)", "dense_cholesky_s", "{:.4f}"),
                ("dpotrf rate (GFlop/s)", "dense_cholesky_gflops_per_s", "{:.1f}"),
                ("dpotrf, 2 threads (s)", "dense_cholesky_2threads_s", "{:.4f}"),
                ("share of an evaluation in that dpotrf", "share_of_eval_in_dense_cholesky", "{:.1%}"),
                ("floor: update_L calls × dpotrf (s)", "floor_s", "{:.3f}")]
        for label, key, f in rows:
            out.append(f"| {label} | " + " | ".join(f.format(w[key]) if key in w else "–"
                                                      for w in result["where_time_goes"]) + " |")
    return "\n".join(out)


def machine_info() -> dict:
    info = {"nproc": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0],
            "numpy": np.__version__, "mixednb": mixednb.__version__}
    try: info["loadavg_at_start"] = os.getloadavg()
    except OSError: pass
    try:
        import numba, scipy, nlopt
        info.update(numba=numba.__version__, scipy=scipy.__version__, nlopt=nlopt.__version__)
    except Exception: pass
    return info


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small models, few repeats (a smoke run)")
    ap.add_argument("--lme4", action="store_true", help="also time lme4 (needs Rscript and lme4)")
    ap.add_argument("--only", nargs="*", help="model names to run")
    ap.add_argument("--no-extras", action="store_true", help="skip scaling, first-fit and where-time-goes")
    ap.add_argument("--lme4-settings", nargs="*", metavar="SETTING",
                    help="time only these of each model's lme4 optimizer settings (besides 'default')")
    ap.add_argument("--no-lme4", nargs="*", default=[], metavar="NAME",
                    help="models fitted by mixednb only (e.g. kb07_72, whose lme4 fit takes minutes)")
    ap.add_argument("--out", default=str(HERE / "results.json"))
    ap.add_argument("--markdown", metavar="RESULTS", help="print the README tables of a results file and stop")
    a = ap.parse_args(argv)
    if a.markdown:
        print(markdown(json.loads(Path(a.markdown).read_text())))
        return None
    unknown = set(a.only or []) - {m.name for m in MODELS}
    if unknown: ap.error(f"unknown model(s) {sorted(unknown)}; known: {[m.name for m in MODELS]}")
    use_r = a.lme4 and shutil.which("Rscript") is not None
    if a.lme4 and not use_r:
        print("Rscript not found: lme4 columns left empty (see benchmarks/README.md to install R and lme4)")
    result = {"machine": machine_info(), "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "quick": a.quick,
              "models": [], "skipped": []}
    print(HEAD, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for mod in MODELS:
            if a.only and mod.name not in a.only: continue
            if a.quick and not a.only and mod.name not in QUICK: continue
            if mod.family is not None and not glmm_available():
                msg = f"{mod.name}: skipped, mixednb does not export its GLMM (mixednb.Bernoulli) yet"
                result["skipped"].append(msg); print(msg, flush=True); continue
            row = bench_model(mod, a.quick, use_r and mod.name not in a.no_lme4, tmp, a.lme4_settings)
            result["models"].append(row)
            print(fmt_row(row), flush=True)
    if not a.no_extras and not a.only:
        with tempfile.TemporaryDirectory() as cache:
            result["first_fit"] = {"cold_cache": first_fit(cache), "warm_cache": first_fit(cache)}
        print("first fit in a fresh process:", json.dumps(result["first_fit"]), flush=True)
        sizes = [10_000, 100_000] if a.quick else [10_000, 100_000, 1_000_000]
        result["scaling"] = []
        for n in sizes:
            result["scaling"].append(scaling_point(n)); print("scaling", result["scaling"][-1], flush=True)
        if not a.quick:
            result["where_time_goes"] = [
                where_time_goes("insteval", "y ~ 1 + service * dept + (1|s) + (1|d)", mixednb.dataset("insteval")),
                where_time_goes("movielens_1m", "y ~ 1 + (1|g) + (1|h)", simdata.movielens_like())]
            for w in result["where_time_goes"]: print("where the time goes", json.dumps(w), flush=True)
    try: result["machine"]["loadavg_at_end"] = os.getloadavg()
    except OSError: pass
    Path(a.out).write_text(json.dumps(result, indent=1))
    print(f"results written to {a.out}")
    return result


if __name__ == "__main__":
    main()
