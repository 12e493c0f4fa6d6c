"""Seeded generators of the simulated crossed designs that the benchmarks fit (nothing is stored).

`movielens_like()` has the size of MovieLens-1M (1,000,000 ratings, 6,040 users × 3,706 movies) with
skewed activity and popularity, as in the real data; `crossed(n)` is the scaling series, levels growing with n.
Both give `y ~ 1 + (1|g) + (1|h)`-shaped data: y = 3.5 + a[g] + b[h] + e.
"""
import numpy as np
import pandas as pd


def _labels(prefix: str, k: int) -> np.ndarray:
    w = len(str(k))
    return np.array([f"{prefix}{i + 1:0{w}d}" for i in range(k)])


def _skewed_codes(rng, n: int, k: int, alpha: float) -> np.ndarray:
    "n codes in 0..k-1, every level present, with Zipf-like frequencies ∝ rank^-alpha"
    p = np.arange(1, k + 1, dtype=float) ** -alpha
    p /= p.sum()
    codes = np.concatenate([np.arange(k), rng.choice(k, size=n - k, p=p)])
    return rng.permutation(codes)


def crossed_frame(n: int, ng: int, nh: int, seed: int = 1, alpha: float = 0.0,
                  sd_g: float = 0.6, sd_h: float = 0.4, sigma: float = 1.0) -> pd.DataFrame:
    "Simulated crossed design: n rows, grouping factors g (ng levels) and h (nh levels)"
    rng = np.random.default_rng(seed)
    g = _skewed_codes(rng, n, ng, alpha)
    h = _skewed_codes(rng, n, nh, alpha)
    a, b = sd_g * rng.standard_normal(ng), sd_h * rng.standard_normal(nh)
    y = 3.5 + a[g] + b[h] + sigma * rng.standard_normal(n)
    return pd.DataFrame({
        "y": y,
        "g": pd.Categorical.from_codes(g, categories=_labels("U", ng)),
        "h": pd.Categorical.from_codes(h, categories=_labels("M", nh)),
    })


def movielens_like(seed: int = 20031) -> pd.DataFrame:
    "1,000,000 rows, 6,040 users (g) × 3,706 movies (h), skewed like MovieLens-1M"
    return crossed_frame(1_000_000, 6040, 3706, seed=seed, alpha=0.6)


def crossed(n: int, seed: int = 7) -> pd.DataFrame:
    "Scaling series: n rows, n/20 levels of g and 4√n levels of h"
    return crossed_frame(n, n // 20, int(4 * np.sqrt(n)), seed=seed)


def kb07_like(seed: int = 2007, n_subj: int = 56, n_item: int = 32, drop: int = 2) -> pd.DataFrame:
    """A design shaped like kb07 (Kronmüller & Barr 2007): `n_subj` subjects × `n_item` items, each pair seen once,
    three two-level within-subject and within-item factors `spkr`, `prec`, `load` in effects coding (±1, numeric),
    the 8 conditions rotated over items by a Latin square, `drop` rows missing (1,790 rows by default).
    rt = 2,200 + fixed effects + subject and item effects on (1 + spkr + prec + load) + e, e ~ N(0, 650²)."""
    rng = np.random.default_rng(seed)
    s, i = np.meshgrid(np.arange(n_subj), np.arange(n_item), indexing="ij")
    s, i = s.ravel(), i.ravel()
    cond = (s + i) % 8                                            # Latin square: each subject meets every condition
    spkr, prec, load = [np.where((cond >> b) & 1, 1.0, -1.0) for b in range(3)]
    X = np.column_stack([np.ones_like(spkr), spkr, prec, load])
    beta = np.array([2200.0, 70.0, -330.0, 80.0])
    def ranef(k, sds, rho):
        C = rho * np.ones((4, 4)) + (1 - rho) * np.eye(4)
        return rng.multivariate_normal(np.zeros(4), C * np.outer(sds, sds), size=k)
    bs = ranef(n_subj, np.array([300.0, 50.0, 60.0, 40.0]), 0.3)
    bi = ranef(n_item, np.array([360.0, 40.0, 250.0, 30.0]), 0.2)
    y = X @ beta + np.einsum("nk,nk->n", X, bs[s]) + np.einsum("nk,nk->n", X, bi[i]) + 650.0 * rng.standard_normal(len(s))
    keep = np.sort(rng.choice(len(s), size=len(s) - drop, replace=False))
    return pd.DataFrame({
        "rt": y[keep],
        "spkr": spkr[keep], "prec": prec[keep], "load": load[keep],
        "subj": pd.Categorical.from_codes(s[keep], categories=_labels("S", n_subj)),
        "item": pd.Categorical.from_codes(i[keep], categories=_labels("I", n_item)),
    })
