"""Benchmark of `coeftable(ddf=…)`: mixednb's time beside lmerTest's Satterthwaite and pbkrtest's Kenward–Roger tables.

    python benchmarks/ddf.py [--repeats 50] [--r] [--out FILE]

lmerTest's times are read from `../shared/reference/lme4_inference.json` (`timings.lmertest_convert_s`,
`lmertest_summary_s`, `lmertest_kr_summary_s`: one run each on the reference machine); with `--r` they are also
measured in this run (medians over the same number of repeats, an `Rscript` child). lmerTest's Satterthwaite table
costs `as_lmerModLmerTest` (its numerical Hessian and Jacobian) plus `summary`; mixednb's `coeftable` does both.
BLAS runs one thread (set before numpy loads). A warm-up call is excluded; each timed call starts from the fitted model (no caching between calls).
"""
import argparse, json, os, platform, statistics, subprocess, sys, tempfile, time
from pathlib import Path

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):   # one BLAS thread, as R's reference BLAS:
    os.environ.setdefault(_v, "1")      # Kenward–Roger's n×n algebra otherwise fights other processes for 2 cores

import mixednb

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("MIXEDNB_SHARED") or HERE.parents[1] / "shared")
CASES = [("sleepstudy_ML", "satterthwaite", False), ("sleepstudy_REML", "satterthwaite", True),
         ("sleepstudy_REML", "kenward-roger", True)]
FORMULA = "reaction ~ 1 + days + (1 + days|subj)"

R_SCRIPT = r"""
suppressMessages({library(lmerTest); library(pbkrtest)})
a <- commandArgs(TRUE); d <- read.csv(a[1], stringsAsFactors = TRUE); k <- as.integer(a[2])
med <- function(f) median(replicate(k, system.time(f())[["elapsed"]]))
out <- c()
for (reml in c(FALSE, TRUE)) {
  m <- lme4::lmer(reaction ~ 1 + days + (1 + days|subj), d, REML = reml)
  out[paste0(if (reml) "REML" else "ML", "_satterthwaite")] <- med(function() summary(as_lmerModLmerTest(m)))
  if (reml) { mt <- as_lmerModLmerTest(m); out["REML_kenward-roger"] <- med(function() summary(mt, ddf = "Kenward-Roger")) }
}
cat(paste(names(out), out), sep = "\n")
"""


def time_r(repeats:int)->dict:
    "Median seconds of lmerTest's tables in an Rscript child: {'ML_satterthwaite': …, …}"
    with tempfile.TemporaryDirectory() as tmp:
        csv, rs = Path(tmp) / "sleepstudy.csv", Path(tmp) / "ddf.R"
        mixednb.dataset("sleepstudy").to_csv(csv, index=False); rs.write_text(R_SCRIPT)
        out = subprocess.run(["Rscript", str(rs), str(csv), str(repeats)], capture_output=True, text=True, check=True).stdout
    return {k: float(v) for k, v in (l.split() for l in out.strip().splitlines())}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--r", action="store_true", help="also time lmerTest/pbkrtest in this run")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    ref = {m["id"]: m["timings"] for m in json.loads((SHARED / "reference" / "lme4_inference.json").read_text())["models"]}
    rnow = time_r(a.repeats) if a.r else {}
    rows = []
    for mid, ddf, reml in CASES:
        m = mixednb.fit(FORMULA, "sleepstudy", reml=reml)
        m.coeftable(ddf=ddf)                                          # warm-up
        ts = []
        for _ in range(a.repeats):
            t = time.perf_counter(); m.coeftable(ddf=ddf); ts.append(time.perf_counter() - t)
        tr = ref[mid]
        refs = tr["lmertest_convert_s"] + tr["lmertest_summary_s"] if ddf == "satterthwaite" else tr["lmertest_kr_summary_s"]
        rows.append(dict(model=mid, ddf=ddf, mixednb_ms=1e3 * statistics.median(ts), ref_ms=1e3 * refs,
                         r_now_ms=1e3 * rnow.get(f"{mid.split('_')[1]}_{ddf}", float("nan"))))
    print(f"{'model':<17}{'ddf':<15}{'mixednb ms':>11}{'ref file ms':>12}{'R now ms':>10}{'ref/mixednb':>12}")
    for r in rows:
        print(f"{r['model']:<17}{r['ddf']:<15}{r['mixednb_ms']:>11.2f}{r['ref_ms']:>12.1f}{r['r_now_ms']:>10.1f}"
              f"{r['ref_ms'] / r['mixednb_ms']:>12.1f}")
    res = dict(machine=platform.platform(), python=sys.version.split()[0], repeats=a.repeats, rows=rows)
    if a.out: Path(a.out).write_text(json.dumps(res, indent=1))
    return res


if __name__ == "__main__": main()
