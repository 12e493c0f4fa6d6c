"""Time per evaluation beside its floor, for each benchmark LMM.

    python benchmarks/floor.py [--only NAME ...] [--all] [--out FILE]

An evaluation of the objective is `update_L` (scale A into L, then the blocked Cholesky) and `objective`.
Its **floor** is the arithmetic of its dense parts at the machine's measured GEMM rate: the multiply-adds of every
call the model's `FactorPlan` makes on dense blocks (the dense Cholesky N³/3, triangular solves m·N²/2, symmetric
rank updates N²m/2, products mnk, divisions and updates of dense blocks by block-diagonal ones, counted as divisions
where a kernel fuses the division with the scaling), times two flops,
divided by the rate of a 1000 × 1000 `dgemm` on the engine's BLAS threads (one by default). The sparse and
block-diagonal kernels are not counted, so the floor is a lower bound that no implementation of these blocks can beat.
`--all` adds the MovieLens-sized design (10⁶ rows).
"""
import argparse, json, os, statistics, sys, time, warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import run  # noqa: E402   (the model set and the data)

from mixednb import linalg  # noqa: E402
from mixednb.lmm import LinearMixedModel  # noqa: E402


def gemm_rate(n: int = 1000, reps: int = 5) -> float:
    "Flops per second of an n × n dgemm on the engine's BLAS threads (median of `reps`)"
    from scipy.linalg.blas import dgemm
    rng = np.random.default_rng(0)
    a, b = np.asfortranarray(rng.standard_normal((n, n))), np.asfortranarray(rng.standard_normal((n, n)))
    ts = []
    with linalg._threads():
        dgemm(1.0, a, b)
        for _ in range(reps):
            t = time.perf_counter(); dgemm(1.0, a, b); ts.append(time.perf_counter() - t)
    return 2 * n**3 / statistics.median(ts)


def _fma(fn, args) -> float:
    "Multiply-adds of one dense kernel call of a FactorPlan (0 for sparse and block-diagonal work)"
    if fn is linalg.chol_dense: return args[0].shape[0] ** 3 / 3
    if fn is linalg.rdiv_dense: B, L = args; return B.size * L.shape[0] / 2
    if fn in (linalg.rdiv_ubd_dense, linalg.rdiv_ubd_rows): B, Ld = args; return B.size * Ld.shape[1] / 2
    if fn is linalg.scale_div_sparse_dense: L, M = args[0], args[5]; return L.size * M.shape[1] / 2   # the division it includes
    if fn is linalg.rmul_ubd: L, M = args[0], args[2]; return L.size * M.shape[1] / 2
    if fn is linalg.syrk_dense: C, P = args; return P.shape[0] ** 2 * P.shape[1] / 2
    if fn is linalg.syrk_dense_ubd: Cd, P = args; return Cd.size * P.shape[1]
    if fn is linalg._sub_product: C, P, Q = args; return P.shape[0] * Q.shape[0] * P.shape[1]
    return 0.0


def dense_flops(m: LinearMixedModel) -> float:
    "Flops of the dense parts of one evaluation of `m` (its FactorPlan, made by one update_L)"
    m.update_L()
    return 2 * sum(_fma(fn, args) for fn, args in m._plan.steps)


def per_eval(m: LinearMixedModel, min_time: float = 0.5, min_reps: int = 5) -> float:
    "Median time of one evaluation at the model's θ (repeated for at least `min_time` seconds)"
    th, ts = m.theta, []
    while len(ts) < min_reps or sum(ts) < min_time:
        t = time.perf_counter(); m.set_theta(th).update_L().objective(); ts.append(time.perf_counter() - t)
        if len(ts) >= 1000: break
    return statistics.median(ts)


def floor_row(mod, rate: float) -> dict:
    df = run.load(mod.data)
    m = LinearMixedModel(mod.formula, df, reml=mod.reml)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter(); m.fit(); t_fit = time.perf_counter() - t
    fl = dense_flops(m)
    t_eval = per_eval(m)
    return {"model": mod.name, "n": len(df), "q": sum(r.nranef for r in m.reterms), "ntheta": len(m.theta),
            "feval": int(m.optsum.feval), "fit_s": t_fit, "seconds_per_eval": t_eval, "dense_gflop": fl / 1e9,
            "floor_s": fl / rate, "ratio": t_eval / (fl / rate) if fl else float("inf"),
            "blocks": repr(m.describe_blocks())}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--all", action="store_true", help="include the 10⁶-row MovieLens-sized design")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    models = [mod for mod in run.MODELS if mod.family is None and (a.all or mod.name != "movielens_1m")
              and (not a.only or mod.name in a.only)]
    rate = gemm_rate()
    print(f"dgemm 1000 × 1000 on {linalg.blas_threads()} BLAS thread(s): {rate / 1e9:.1f} GFlop/s; "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'model':<20}{'q':>7}{'θ':>4}{'evals':>7}{'ms/eval':>10}{'floor ms':>10}{'× floor':>9}{'dense GFlop':>13}")
    rows = []
    for mod in models:
        r = floor_row(mod, rate); rows.append(r)
        print(f"{r['model']:<20}{r['q']:>7}{r['ntheta']:>4}{r['feval']:>7}{1e3 * r['seconds_per_eval']:10.3f}"
              f"{1e3 * r['floor_s']:10.3f}{r['ratio']:9.1f}{r['dense_gflop']:13.5f}", flush=True)
    out = {"gemm_flops_per_s": rate, "loadavg": os.getloadavg(), "models": rows}
    if a.out: Path(a.out).write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
