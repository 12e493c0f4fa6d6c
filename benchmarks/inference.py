"""Benchmark of inference and prediction: mixednb beside lme4, in the same run on the same machine.

    python benchmarks/inference.py [--nboot 500] [--boot-reps 3] [--nlarge 10000] [--nsim 1000] [--reps 5] [--large]
                                   [--lme4] [--out FILE]

For sleepstudy and penicillin (ML fits): the parametric bootstrap (`parametricbootstrap` vs lme4's `bootMer`
with `use.u = FALSE`, both simulating new random effects and refitting), per replicate (the median of `--boot-reps`
runs of `--nboot` replicates each side, mixednb's and lme4's alternating); `simulate` of `--nsim` responses; and
`predict` on the model's rows.
For sleepstudy also `--nlarge` replicates in one run of mixednb's bootstrap (median of `--boot-reps`), to compare with
lme4's `--nboot` (500: the issue's "10,000 replicates in less time than lme4's 500"). With `--large`, `predict` on 10⁶ new rows of the 10⁶-row crossed
design of `simdata.movielens_like()` (new rows from the same levels, 1% of them with an unseen level of each
factor), for lme4 too only with `--large --lme4` (its fit of 10⁶ rows takes minutes).
With `--lme4` and `Rscript` on the PATH, `lme4_inference.R` times lme4 inside R on a CSV copy of the same data.
Warm-ups are excluded; the tables report medians of `--reps` repeats (`--boot-reps` for the bootstrap). Benchmarks are not tests: `tests/test_benchmarks.py` only runs the quick path.
"""
import argparse, json, os, platform, shutil, statistics, subprocess, sys, tempfile, time, warnings
from pathlib import Path

import numpy as np
import pandas as pd

import mixednb
from mixednb.inference import parametricbootstrap

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from simdata import crossed_frame, movielens_like   # noqa: E402

CASES = [("sleepstudy", "reaction ~ 1 + days + (1 + days|subj)", "sleepstudy", ["subj"]),
         ("penicillin", "diameter ~ 1 + (1|plate) + (1|sample)", "penicillin", ["plate", "sample"])]


def _median_time(f, reps):
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def _lme4(df, formula, cats, nboot, nsim, reps, newdata=None, boot_reps=1):   # reps = 0: bootMer only
    "lme4's timings from an Rscript child (None when R or lme4 is missing)"
    if shutil.which("Rscript") is None: return None
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "d.csv"; df.to_csv(csv, index=False)
        cmd = ["Rscript", str(HERE / "lme4_inference.R"), str(csv), formula, ",".join(cats), str(nboot), str(nsim), str(reps),
               str(boot_reps)]
        if newdata is not None:
            nd = Path(tmp) / "new.csv"; newdata.to_csv(nd, index=False); cmd.append(str(nd))
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=6 * 3600)
    if out.returncode != 0:
        print(f"lme4 failed: {out.stderr[-800:]}"); return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def small_case(name, formula, data, cats, a):
    df = mixednb.dataset(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = mixednb.fit(formula, df)
        parametricbootstrap(m, 5, seed=0, progress=False)                        # warm-up
        boot, lme4_boot, r = [], [], None
        for k in range(a.boot_reps):                 # mixednb's and lme4's runs alternate: a change of load hits both
            boot.append(_median_time(lambda: parametricbootstrap(m, a.nboot, seed=a.seed + k, progress=False), 1))
            if a.lme4:
                rk = _lme4(df, formula, cats, a.nboot, a.nsim, a.reps if k == 0 else 0, df if k == 0 else None)
                if rk: r = r or rk; lme4_boot.append(rk["bootMer_s"][0])
        large = (_median_time(lambda: parametricbootstrap(m, a.nlarge, seed=a.seed, progress=False), a.boot_reps)
                 if a.nlarge and name == "sleepstudy" else None)
    m.simulate(2, seed=0); m.predict()
    row = dict(model=name, nboot=a.nboot, boot_ms=1e3 * statistics.median(boot) / a.nboot, boot_s=boot,
               simulate_ms=1e3 * _median_time(lambda: m.simulate(a.nsim, seed=1), a.reps),
               predict_ms=1e3 * _median_time(lambda: m.predict(df), a.reps))
    if large is not None: row.update(nlarge=a.nlarge, large_s=large)
    if r:
        row.update(lme4_boot_ms=1e3 * statistics.median(lme4_boot) / a.nboot, lme4_boot_s=lme4_boot,
                   boot_ratios=[l / b for l, b in zip(lme4_boot, boot)],
                   lme4_simulate_ms=1e3 * statistics.median(r["simulate_s"]), lme4_predict_ms=1e3 * statistics.median(r["predict_s"]))
    return row


def large_case(a):
    "predict on 10⁶ new rows of the 10⁶-row crossed design"
    df = movielens_like()
    new = crossed_frame(1_000_000, 6040, 3706, seed=99, alpha=0.6)
    rng = np.random.default_rng(5)
    for col, p in (("g", "Unew"), ("h", "Mnew")):
        v = new[col].astype(str).to_numpy(); v[rng.random(len(v)) < 0.01] = p; new[col] = v
    formula = "y ~ 1 + (1|g) + (1|h)"
    t = time.perf_counter(); m = mixednb.fit(formula, df); fit_s = time.perf_counter() - t
    m.predict(new.iloc[:1000], new_re_levels="population")                     # warm-up
    row = dict(model="crossed 1e6", fit_s=fit_s, nboot=0,
               predict_ms=1e3 * _median_time(lambda: m.predict(new, new_re_levels="population"), a.reps))
    if a.lme4:
        r = _lme4(df.astype({"g": str, "h": str}), formula, ["g", "h"], 0, 1, a.reps, new)
        if r: row.update(lme4_fit_s=r["fit_s"], lme4_predict_ms=1e3 * statistics.median(r["predict_s"]))
    return row


def _fmt(v, w, d=2): return f"{v:>{w}.{d}f}" if isinstance(v, float) else f"{'—':>{w}}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nboot", type=int, default=500)
    ap.add_argument("--boot-reps", type=int, default=3, help="timed runs of each bootstrap (median)")
    ap.add_argument("--nlarge", type=int, default=10000, help="sleepstudy: replicates of one long mixednb run (0: none)")
    ap.add_argument("--nsim", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1234321)
    ap.add_argument("--large", action="store_true", help="also predict on 10⁶ new rows of the 10⁶-row design")
    ap.add_argument("--lme4", action="store_true", help="time lme4 too (needs Rscript and lme4)")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    rows = [small_case(*c, a) for c in CASES] + ([large_case(a)] if a.large else [])
    print(f"{'model':<13}{'what':<22}{'mixednb ms':>12}{'lme4 ms':>12}{'lme4/mixednb':>14}")
    for r in rows:
        for what, k in (("bootstrap/replicate", "boot_ms"), (f"simulate {a.nsim}", "simulate_ms"), ("predict", "predict_ms")):
            if k not in r or (k == "boot_ms" and not r["nboot"]): continue
            lm = r.get("lme4_" + k)
            print(f"{r['model']:<13}{what:<22}{_fmt(r[k], 12)}{_fmt(lm, 12)}{_fmt(lm / r[k] if lm else None, 14, 1)}")
    for r in rows:
        if "boot_ratios" in r:
            print(f"{r['model']}: lme4/mixednb bootstrap, run by run: {', '.join(f'{x:.1f}' for x in r['boot_ratios'])}")
    for r in rows:
        if "large_s" not in r: continue
        lm = (f"lme4: {statistics.median(r['lme4_boot_s']):.2f} s for {r['nboot']} replicates (bootMer, same run)"
              if "lme4_boot_s" in r else "lme4 not run")
        print(f"{r['model']}: {r['nlarge']} replicates in {r['large_s']:.2f} s; {lm}")
    res = dict(machine=platform.platform(), python=sys.version.split()[0], cpus=os.cpu_count(),
               loadavg=os.getloadavg(), rows=rows)
    if a.out: Path(a.out).write_text(json.dumps(res, indent=1))
    return res


if __name__ == "__main__": main()
