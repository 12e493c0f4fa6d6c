"""Benchmark of the parametric bootstrap: mixednb's time per replicate beside lme4's `bootMer`.

    python benchmarks/inference.py [--n 500] [--seed 1234321] [--out FILE]

lme4's times are not re-run here: they are read from `../shared/reference/lme4_inference.json`
(`models[i]["bootstrap"]["elapsed_s_bootMer"]`, 500 replicates, recorded on the reference machine), so the
ratio compares two machines only if this one is that one. A warm-up bootstrap of a few replicates is excluded.
"""
import argparse, json, os, platform, sys, time
from pathlib import Path

import mixednb
from mixednb.inference import parametricbootstrap

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("MIXEDNB_SHARED") or HERE.parents[1] / "shared")
CASES = [("sleepstudy_ML", "reaction ~ 1 + days + (1 + days|subj)", "sleepstudy"),
         ("penicillin_ML", "diameter ~ 1 + (1|plate) + (1|sample)", "penicillin")]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1234321)
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    ref = {m["id"]: m for m in json.loads((SHARED / "reference" / "lme4_inference.json").read_text())["models"]}
    rows = []
    for mid, formula, data in CASES:
        m = mixednb.fit(formula, data)
        parametricbootstrap(m, 5, seed=0, progress=False)               # warm-up
        t = time.perf_counter(); parametricbootstrap(m, a.n, seed=a.seed, progress=False)
        el = time.perf_counter() - t
        b = ref[mid]["bootstrap"]
        lme4_per = b["elapsed_s_bootMer"] / b["nsim"]
        rows.append(dict(model=mid, n=a.n, mixednb_s=el, mixednb_ms_per_rep=1e3 * el / a.n,
                         lme4_ms_per_rep=1e3 * lme4_per, speedup=lme4_per / (el / a.n)))
    print(f"{'model':<16}{'n':>6}{'mixednb ms/rep':>16}{'lme4 ms/rep':>14}{'lme4/mixednb':>14}")
    for r in rows:
        print(f"{r['model']:<16}{r['n']:>6}{r['mixednb_ms_per_rep']:>16.2f}{r['lme4_ms_per_rep']:>14.2f}{r['speedup']:>14.1f}")
    res = dict(machine=platform.platform(), python=sys.version.split()[0], rows=rows)
    if a.out: Path(a.out).write_text(json.dumps(res, indent=1))
    return res


if __name__ == "__main__": main()
