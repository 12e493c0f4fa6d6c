"""Out-of-core fits (chapter 18): write a seeded crossed LMM data set as Parquet, fit it out of core and in memory.

    python benchmarks/scale.py write /tmp/scale10m --rows 10_000_000 --users 100_000 --items 2_000
    python benchmarks/scale.py fit /tmp/scale10m --mode parquet      # or: --mode memory, dask, cluster
    python benchmarks/scale.py fit /tmp/scale1m --mode memory --polish on     # θ̂ polished by Newton steps (chapter 8)
    python benchmarks/scale.py write /tmp/pois10m --rows 10_000_000 --counts   # adds a Poisson count column k
    python benchmarks/scale.py fit /tmp/pois10m --family poisson                # k ~ 1 + x + (1 | user) + (1 | item), Laplace
    python benchmarks/scale.py fit /tmp/pois10m --family poisson --fast         # θ only, β by PIRLS (nAGQ = 0)
Each `fit` runs in its own process and prints one JSON line: wall time per phase, peak RSS, θ, β, objective.
"""
import argparse, json, os, resource, sys, time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

FORMULA = "y ~ 1 + x + c + (1 | user) + (1 | item)"
FORMULA_POISSON = "k ~ 1 + x + (1 | user) + (1 | item)"

def write(out, rows, users, items, files, seed=20261129, counts=False):
    "Skewed activity: user i has weight ∝ exp(N(0, 1)) (a few heavy users), items ∝ 1/(rank+10)"
    rng = np.random.default_rng(seed)
    pu = np.exp(rng.standard_normal(users)); pu /= pu.sum()
    pi = 1.0 / (np.arange(items) + 10.0); pi /= pi.sum()
    bu, bi = 0.8 * rng.standard_normal(users), 0.5 * rng.standard_normal(items)
    os.makedirs(out, exist_ok=True)
    per = rows // files
    for k in range(files):
        n = per if k < files - 1 else rows - per * (files - 1)
        u, i = rng.choice(users, n, p=pu), rng.choice(items, n, p=pi)
        x = rng.standard_normal(n); c = rng.integers(0, 3, n)
        y = 3.0 + 0.4 * x + np.array([0.0, 0.2, -0.1])[c] + bu[u] + bi[i] + rng.standard_normal(n)
        cols = {"y": y, "x": x, "c": pa.array(np.array(["a", "b", "c"])[c]), "user": u.astype(np.int64), "item": i.astype(np.int64)}
        if counts: cols["k"] = rng.poisson(np.exp(-0.5 + 0.3 * x + 0.5 * bu[u] + 0.4 * bi[i]))
        t = pa.table(cols)
        pq.write_table(t, os.path.join(out, f"part-{k:04d}.parquet"), row_group_size=1 << 20)

def peak_rss_mb(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def fit(path, mode, chunk_rows, family=None, fast=False, polish=None):
    import mixednb
    form, kw = (FORMULA, {}) if family is None else (FORMULA_POISSON, dict(family=family, fast=fast))
    if polish is not None: kw["polish"] = polish          # LMM: chapter 8's Newton polish on or off (default: its gate)
    t0 = time.perf_counter(); rss0 = peak_rss_mb()
    if mode == "memory":
        import pandas as pd
        df = pd.read_parquet(path); t1 = time.perf_counter()
        m = mixednb.fit(form, df, **kw)
        phases = {"read": t1 - t0, "fit": time.perf_counter() - t1}
    elif mode == "dask":
        import dask.dataframe as dd
        m = mixednb.fit(form, dd.read_parquet(path), scheduler="threads", **kw)
        phases = m.timings
    elif mode == "cluster":                        # two worker processes on this machine
        import dask.dataframe as dd
        from distributed import Client, LocalCluster
        with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cl, Client(cl) as c:
            t1 = time.perf_counter()
            m = mixednb.fit(form, dd.read_parquet(path), scheduler=c, **kw)
            workers = c.run(peak_rss_mb)
        phases = dict(m.timings, cluster_start=t1 - t0, workers_peak_rss_mb=sorted(workers.values()))
    else:
        m = mixednb.fit(form, os.path.join(path, "*.parquet"), chunk_rows=chunk_rows, **kw)
        phases = m.timings
    wall = time.perf_counter() - t0
    print(json.dumps(dict(mode=mode, n=int(m.nobs), wall_s=round(wall, 2), phases={k: (round(v, 2) if isinstance(v, float) else v) for k, v in phases.items()},
                          peak_rss_mb=round(peak_rss_mb(), 1), rss_at_start_mb=round(rss0, 1), objective=m.objective(),
                          theta=m.theta.tolist(), beta=m.beta.tolist(), feval=m.optsum.feval, npasses=getattr(m, "npasses", None),
                          polish=getattr(m.optsum, "polish", None))))

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["write", "fit"]); ap.add_argument("path")
    ap.add_argument("--rows", type=int, default=10_000_000); ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--items", type=int, default=2_000); ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--mode", default="parquet", choices=["parquet", "memory", "dask", "cluster"])
    ap.add_argument("--chunk-rows", type=int, default=1 << 20)
    ap.add_argument("--counts", action="store_true"); ap.add_argument("--family", default=None)
    ap.add_argument("--fast", action="store_true", help="GLMM: θ only, β by PIRLS (lme4's nAGQ = 0)")
    ap.add_argument("--polish", choices=["on", "off"], default=None, help="LMM: Newton polish of θ̂ (default: chapter 8's gate)")
    a = ap.parse_args()
    if a.cmd == "write": write(a.path, a.rows, a.users, a.items, a.files, counts=a.counts)
    else: fit(a.path, a.mode, a.chunk_rows, a.family, a.fast, None if a.polish is None else a.polish == "on")
