"""Dense or sparse storage of L's off-diagonal block, by its fill: the measurement behind `blocks.DENSE_FILL`.

    python benchmarks/fill.py [--reps 7] [--out benchmarks/fill.json]

Two crossed factors g0 (300 levels) and g1 (100 levels); each level of g0 meets a share f of the levels of g1
(two observations per pair), so the block of L between them is a share f full. For scalar terms
`y ~ 1 + (1|g0) + (1|g1)` and vector terms (S = 4) `y ~ 1 + x1 + x2 + x3 + (1 + x1 + x2 + x3|g0) + (… |g1)`, one
evaluation of the objective (`update_L` + `objective`) is timed with that block stored sparse and stored dense
(the median of `reps`, the two storages interleaved). Prints one line per (S, f) and the fill above which dense wins.
"""
import argparse, json, os, statistics, sys, time
from pathlib import Path

import numpy as np
import pandas as pd

import mixednb
from mixednb.lmm import LinearMixedModel
from mixednb.blocks import block, blocktype, fill_ratio
import mixednb.lmm as _lmm

FILLS = [0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0]


def design(f: float, n0: int = 300, n1: int = 100, seed: int = 1) -> pd.DataFrame:
    "g0 × g1 with each g0 level meeting round(f·n1) levels of g1, twice each; x1..x3 random; y random"
    rng = np.random.default_rng(seed)
    k = max(1, round(f * n1))
    g1 = np.concatenate([rng.choice(n1, size=k, replace=False) for _ in range(n0)])
    g1[:n1] = np.arange(n1)                              # every level of g1 present
    g0 = np.repeat(np.arange(n0), k)
    g0, g1 = np.repeat(g0, 2), np.repeat(g1, 2)
    n = len(g0)
    return pd.DataFrame({"g0": pd.Categorical(g0), "g1": pd.Categorical(g1), "x1": rng.standard_normal(n),
                         "x2": rng.standard_normal(n), "x3": rng.standard_normal(n), "y": rng.standard_normal(n)})


def model(form: str, df, dense_fill: float) -> LinearMixedModel:
    "The model with the block below the first term dense (dense_fill = 0) or sparse (dense_fill = 1)"
    orig = _lmm.create_AL
    _lmm.create_AL = lambda rts, Xy, w=None: orig(rts, Xy, w, dense_fill=dense_fill)
    try: m = LinearMixedModel(form, df)
    finally: _lmm.create_AL = orig
    return m


def per_eval(m, reps: int) -> float:
    th = np.asarray(m.optsum.initial, float) * 0.7
    m.set_theta(th).update_L().objective()                # compiles / plans
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); m.set_theta(th).update_L().objective(); ts.append(time.perf_counter() - t)
    return statistics.median(ts)


FORMS = {1: "y ~ 1 + (1|g0) + (1|g1)",
         4: "y ~ 1 + x1 + x2 + x3 + (1 + x1 + x2 + x3|g0) + (1 + x1 + x2 + x3|g1)"}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--fills", type=float, nargs="*", default=FILLS)
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    rows = []
    print(f"{'S':>2} {'fill':>6} {'rows':>7} {'sparse ms':>10} {'dense ms':>9} {'sparse/dense':>13}")
    for S, form in FORMS.items():
        for f in a.fills:
            df = design(f)
            ms, md = model(form, df, 1.0), model(form, df, 0.0)
            assert blocktype(ms.L[block(1, 0)]) == "Sparse" and blocktype(md.L[block(1, 0)]) == "Dense"
            ts, td = [], []
            for _ in range(3):                            # interleaved: the machine's load hits both alike
                ts.append(per_eval(ms, a.reps)); td.append(per_eval(md, a.reps))
            r = dict(S=S, fill=fill_ratio(ms.A[block(1, 0)]), rows=len(df), sparse_s=statistics.median(ts),
                     dense_s=statistics.median(td))
            r["ratio"] = r["sparse_s"] / r["dense_s"]
            rows.append(r)
            print(f"{S:>2} {r['fill']:6.3f} {r['rows']:7d} {1e3 * r['sparse_s']:10.3f} {1e3 * r['dense_s']:9.3f} {r['ratio']:13.2f}")
    out = {"rows": rows, "loadavg": os.getloadavg(), "DENSE_FILL": mixednb.blocks.DENSE_FILL}
    if a.out: Path(a.out).write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
