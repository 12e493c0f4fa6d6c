"""Benchmark of the likelihood profile: mixednb's `m.profile()` beside lme4's `confint(m, method = "profile")`.

    python benchmarks/profile.py [--reps 5] [--lme4-reps 3] [--no-lme4] [--out FILE]

Each model is fitted once (not timed); a warm-up profile is excluded; the median of `--reps` profiles is reported,
in wall seconds and in CPU seconds (user + system of the process: steadier on a loaded machine).
When `Rscript` (with lme4) is on the PATH, lme4 is timed in the same run, in an `Rscript` child
(`benchmarks/lme4_profile.R`, on a CSV copy of the same data), and the ratio is printed; otherwise lme4's figures are
read from `../shared/reference/lme4_inference.json` (`timings.confint_profile_s`, recorded on the reference
machine), so that ratio compares two machines only if this one is that one. Benchmarks are not tests.
"""
import argparse, json, os, platform, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path

import numpy as np
import pandas as pd

import mixednb

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("MIXEDNB_SHARED") or HERE.parents[1] / "shared")
CASES = [("sleepstudy_ML", "reaction ~ 1 + days + (1 + days|subj)", "sleepstudy", False),
         ("penicillin_ML", "diameter ~ 1 + (1|plate) + (1|sample)", "penicillin", False)]


def time_mixednb(m, reps: int) -> tuple:
    "A warm-up profile (excluded), then `reps` timed ones: wall times, CPU times, the last profile"
    m.profile()
    times, cpu = [], []
    for _ in range(reps):
        t, c = time.perf_counter(), time.process_time()
        pr = m.profile()
        times.append(time.perf_counter() - t); cpu.append(time.process_time() - c)
    return times, cpu, pr


def time_lme4(formula: str, df: pd.DataFrame, data: str, reml: bool, reps: int, tmp: str) -> dict:
    "Time lme4's confint(method = 'profile') in an Rscript child on a CSV copy of `df`"
    csv = Path(tmp) / f"{data}.csv"
    if not csv.exists(): df.to_csv(csv, index=False)
    cats = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    cmd = ["Rscript", str(HERE / "lme4_profile.R"), str(csv), formula, "TRUE" if reml else "FALSE", str(reps), ",".join(cats)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0: raise RuntimeError(f"lme4 failed on {data}: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5, help="timed mixednb profiles per model")
    ap.add_argument("--lme4-reps", type=int, default=3, help="timed lme4 profiles per model")
    ap.add_argument("--no-lme4", action="store_true", help="do not run lme4, read its recorded times")
    ap.add_argument("--out", default=None, help="write the results as JSON")
    a = ap.parse_args(argv)
    ref = {m["id"]: m for m in json.loads((SHARED / "reference" / "lme4_inference.json").read_text())["models"]}
    use_r = not a.no_lme4 and shutil.which("Rscript") is not None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for mid, formula, data, reml in CASES:
            df = mixednb.dataset(data)
            m = mixednb.fit(formula, df, reml=reml)
            times, cpu, pr = time_mixednb(m, a.reps)
            row = dict(model=mid, mixednb_times_s=times, mixednb_s=statistics.median(times),
                       mixednb_cpu_s=statistics.median(cpu), points=len(pr.table))
            if use_r:
                r = time_lme4(formula, df, data, reml, a.lme4_reps, tmp)
                ci = pr.confint()
                row.update(lme4_times_s=r["times"], lme4_s=statistics.median(r["times"]), lme4_source="this run",
                           lme4_cpu_s=statistics.median(r["cpu"]),
                           max_rel_diff=float(np.max(np.abs(np.r_[ci.lower / r["lower"], ci.upper / r["upper"]] - 1))))
            else:
                row.update(lme4_s=ref[mid]["timings"]["confint_profile_s"], lme4_source="reference file")
            row["ratio"] = row["lme4_s"] / row["mixednb_s"]
            if "lme4_cpu_s" in row: row["cpu_ratio"] = row["lme4_cpu_s"] / row["mixednb_cpu_s"]
            rows.append(row)
    print(f"{'model':<16}{'mixednb (s)':>12}{'lme4 (s)':>10}{'lme4/mixednb':>14}{'CPU ratio':>11}  lme4 timed in")
    for r in rows:
        cr = f"{r['cpu_ratio']:>11.1f}" if "cpu_ratio" in r else f"{'':>11}"
        print(f"{r['model']:<16}{r['mixednb_s']:>12.3f}{r['lme4_s']:>10.3f}{r['ratio']:>14.1f}{cr}  {r['lme4_source']}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: a loaded machine inflates wall times; "
          "the CPU ratio (user + system seconds of each process) is steadier")
    res = dict(machine=platform.platform(), python=sys.version.split()[0], loadavg=os.getloadavg(), rows=rows)
    if a.out: Path(a.out).write_text(json.dumps(res, indent=1))
    return res


if __name__ == "__main__": main()
