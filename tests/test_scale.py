"""Chapter 18 on a real cluster: a `distributed.LocalCluster` of two worker processes fits what memory fits.

Dask and distributed are in the dev extra: without them this module fails (it does not skip), so CI notices.
"""
import numpy as np
import pandas as pd
import pytest

import dask.dataframe as dd
from distributed import Client, LocalCluster

import mixednb
from mixednb import fit
from mixednb.scale import OutOfCoreLMM


def crossed(n=6_000, nu=120, ni=60, seed=3):
    "Crossed users × items, users as strings, items as integers, a 3-level fixed factor"
    rng = np.random.default_rng(seed)
    u, i = rng.integers(0, nu, n), rng.integers(0, ni, n)
    x, c = rng.standard_normal(n), rng.choice(["a", "b", "c"], n)
    bu, su, bi = 0.7 * rng.standard_normal(nu), 0.3 * rng.standard_normal(nu), 0.4 * rng.standard_normal(ni)
    y = 1 + 0.5 * x + 0.3 * (c == "b") + bu[u] + su[u] * x + bi[i] + rng.standard_normal(n)
    return pd.DataFrame({"y": y, "x": x, "c": c, "user": [f"u{k}" for k in u], "item": i})


@pytest.fixture(scope="module")
def parquet_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("scale")
    df = crossed()
    for k, rows in enumerate(np.array_split(np.arange(len(df)), 6)): df.iloc[rows].to_parquet(d / f"part-{k}.parquet", index=False)
    return d


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as c:
        yield c


def _same(m, m0):
    "Objective, θ̂ and β̂ to the last bit: A's compensated sums (chapters 5 and 18) are the same doubles in any order of rows and chunks"
    assert m.objective() == m0.objective()
    np.testing.assert_array_equal(np.r_[m.theta, m.beta], np.r_[m0.theta, m0.beta])


@pytest.mark.parametrize("form", ["y ~ 1 + x + c + (1 | user) + (1 | item)", "y ~ 1 + x + (1 + x | user)"])
def test_local_cluster_fits_as_memory(parquet_dir, client, form):
    m0 = fit(form, pd.read_parquet(parquet_dir))
    m = fit(form, dd.read_parquet(parquet_dir), scheduler=client)
    assert isinstance(m, OutOfCoreLMM)
    _same(m, m0)
    r = m.residuals().compute()                      # a lazy Series, computed on the workers
    np.testing.assert_allclose(r.to_numpy(), m0.residuals(), atol=1e-9)


def test_parquet_glob_fits_as_memory(parquet_dir):
    form = "y ~ 1 + x + c + (1 | user) + (1 | item)"
    _same(fit(form, str(parquet_dir / "*.parquet"), chunk_rows=700), fit(form, pd.read_parquet(parquet_dir)))


def test_insteval_parquet_fits_as_memory(tmp_path):
    "InstEval (not polished: 4,114 random effects) agrees to the last bit too"
    df, form = mixednb.dataset("insteval"), "y ~ 1 + service + (1|s) + (1|d) + (1|dept)"
    for k, rows in enumerate(np.array_split(np.arange(len(df)), 8)): df.iloc[rows].to_parquet(tmp_path / f"part-{k}.parquet", index=False)
    m0, m = fit(form, df), fit(form, str(tmp_path / "*.parquet"))
    assert not m.optsum.polish and m.objective() == m0.objective()
    np.testing.assert_array_equal(np.r_[m.theta, m.beta], np.r_[m0.theta, m0.beta])


@pytest.fixture(scope="module")
def glmm_dir(tmp_path_factory):
    "Counts and 0/1 outcomes with user and item effects, an offset, in five Parquet files"
    d = tmp_path_factory.mktemp("scale_glmm")
    df = crossed(n=4_000, nu=80, ni=40, seed=5)
    rng = np.random.default_rng(6)
    eta = (-0.3 + 0.4 * df["x"] + 0.6 * rng.standard_normal(80)[pd.factorize(df["user"])[0]]
           + 0.4 * rng.standard_normal(40)[df["item"].to_numpy()])
    df = df.assign(k=rng.poisson(np.exp(eta)), b=(rng.uniform(size=len(df)) < 1 / (1 + np.exp(-eta))).astype(float),
                   o=0.1 * np.cos(np.arange(len(df))))
    for k, rows in enumerate(np.array_split(np.arange(len(df)), 5)): df.iloc[rows].to_parquet(d / f"part-{k}.parquet", index=False)
    return d


def _same_glmm(m, m0):
    "The same fit to the last bit: every PIRLS pass returns the in-memory sums (compensated) and the GLM start is the same PIRLS"
    _same(m, m0)


GLMMS = [("k ~ 1 + x + (1 | user) + (1 | item)", "poisson", None), ("b ~ 1 + x + (1 | user) + (1 | item)", "bernoulli", "o")]


@pytest.mark.parametrize("form,family,offset", GLMMS)
def test_glmm_parquet_fits_as_memory(glmm_dir, form, family, offset):
    from mixednb.scale import OutOfCoreGLMM
    m0 = fit(form, pd.read_parquet(glmm_dir), family=family, offset=offset)
    m = fit(form, str(glmm_dir / "*.parquet"), family=family, offset=offset, chunk_rows=900)
    assert isinstance(m, OutOfCoreGLMM) and m.npasses > 2 * m.optsum.feval
    _same_glmm(m, m0)


@pytest.mark.parametrize("form,family,offset", GLMMS)
def test_glmm_local_cluster_fits_as_memory(glmm_dir, client, form, family, offset):
    m0 = fit(form, pd.read_parquet(glmm_dir), family=family, offset=offset)
    m = fit(form, dd.read_parquet(glmm_dir), family=family, offset=offset, scheduler=client)
    _same_glmm(m, m0)
