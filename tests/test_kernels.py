"""Each numba kernel of `mixednb.linalg` and `mixednb.blocks` against a plain NumPy computation, on random shapes."""
import numpy as np
from hypothesis import given, settings, strategies as st

from mixednb.blocks import (UniformBlockDiagonal, BlockedSparse, sparse_crossprod, xy_z_crossprod)
from mixednb.linalg import (scale_inflate_ubd, scale_inflate_ubd_dense, scale_sparse, scale_sparse_dense, rmul_lambda,
                            chol_ubd, chol_dense, rdiv_ubd_dense, rdiv_ubd_sparse, rdiv_dense, syrk_sparse_ubd,
                            syrk_dense_ubd, sparse_sparse_t_dense, syrk_sparse_dense, dense_sparse_t, syrk_dense,
                            logdet_ubd)

SET = settings(max_examples=25, deadline=None)


def lower(rng, S):
    return np.tril(rng.standard_normal((S, S))) + 2 * np.eye(S)


def spd(rng, l, S):
    M = rng.standard_normal((l, S, S))
    return M @ M.transpose(0, 2, 1) + S * np.eye(S)


def blocked(rng, nrow, ncol, Si, Sj, density=0.5):
    "Random BlockedSparse with sorted rows within each block column"
    mask = rng.random((nrow, ncol)) < density
    rows, cols = np.nonzero(mask.T)[1], np.nonzero(mask.T)[0]
    colptr = np.searchsorted(cols, np.arange(ncol + 1)).astype(np.int64)
    return BlockedSparse(colptr, rows.astype(np.int32), rng.standard_normal((len(rows), Si, Sj)), nrow)


def kron_blocks(l, lam):
    return np.kron(np.eye(l), lam)


dims = st.tuples(st.integers(1, 7), st.integers(1, 4), st.integers(0, 2**31))


@SET
@given(dims, st.integers(1, 3))
def test_crossprods(d, Sj):
    l, S, seed = d
    rng = np.random.default_rng(seed)
    n = 30
    refs = rng.integers(0, l, n).astype(np.int32)
    z, w, Xy = rng.standard_normal((n, S)), rng.uniform(0.5, 2, n), rng.standard_normal((n, 3))
    Z = np.zeros((n, l * S)); Z[np.arange(n)[:, None], refs[:, None] * S + np.arange(S)] = z
    out = np.zeros((l, S, S)); sparse_crossprod(out, refs, z, z, w, lo := np.zeros_like(out)); out += lo
    np.testing.assert_allclose(UniformBlockDiagonal(out).todense(), Z.T @ (w[:, None] * Z), rtol=1e-12, atol=1e-12)
    out = np.zeros((3, l * S)); xy_z_crossprod(out, Xy, refs, z, w, lo := np.zeros_like(out)); out += lo
    np.testing.assert_allclose(out, (w[:, None] * Xy).T @ Z, rtol=1e-12, atol=1e-12)
    zj, obs = rng.standard_normal((n, Sj)), rng.integers(0, 5, n).astype(np.int32)
    out = np.zeros((5, S, Sj)); sparse_crossprod(out, obs, z, zj, w, lo := np.zeros_like(out)); out += lo
    ref = np.zeros_like(out); np.add.at(ref, obs, w[:, None, None] * z[:, :, None] * zj[:, None, :])
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)


@SET
@given(dims)
def test_scale_inflate(d):
    l, S, seed = d
    rng = np.random.default_rng(seed)
    Ad, lam = spd(rng, l, S), lower(rng, S)
    ref = UniformBlockDiagonal(lam.T @ Ad @ lam).todense() + np.eye(l * S)
    Ld = np.empty_like(Ad); scale_inflate_ubd(Ld, Ad, lam)
    np.testing.assert_allclose(UniformBlockDiagonal(Ld).todense(), ref, rtol=1e-12, atol=1e-12)
    L = np.full((l * S, l * S), np.nan); scale_inflate_ubd_dense(L, Ad, lam)   # writes the lower triangle only
    np.testing.assert_allclose(np.tril(L), np.tril(ref), rtol=1e-12, atol=1e-12)


@SET
@given(dims, st.integers(1, 3), st.integers(1, 6))
def test_scale_sparse_rmul(d, Sj, ncol):
    nrow, Si, seed = d
    rng = np.random.default_rng(seed)
    B, li, lj = blocked(rng, nrow, ncol, Si, Sj), lower(rng, Si), lower(rng, Sj)
    ref = kron_blocks(nrow, li).T @ B.todense() @ kron_blocks(ncol, lj)
    Lb = B.copy(); scale_sparse(Lb.data, B.data, li, lj)
    np.testing.assert_allclose(Lb.todense(), ref, rtol=1e-12, atol=1e-12)
    L = np.full(B.shape, np.nan); scale_sparse_dense(L, B.colptr, B.rowidx, B.data, li, lj)
    np.testing.assert_allclose(L, ref, rtol=1e-12, atol=1e-12)
    A = rng.standard_normal((3, ncol * Sj)); L = np.empty_like(A); rmul_lambda(L, A, lj)
    np.testing.assert_allclose(L, A @ kron_blocks(ncol, lj), rtol=1e-12, atol=1e-12)


@SET
@given(dims, st.integers(1, 3))
def test_chol_and_rdiv(d, Si):
    l, S, seed = d
    rng = np.random.default_rng(seed)
    P = spd(rng, l, S); Lc = P.copy()
    assert chol_ubd(Lc) == 0
    np.testing.assert_allclose(np.tril(Lc), np.linalg.cholesky(P), rtol=1e-10, atol=1e-12)
    terms = 2 * np.log(np.abs(np.diagonal(Lc, axis1=1, axis2=2)))    # a sum of logs: its rounding scales with Σ|terms|,
    np.testing.assert_allclose(logdet_ubd(Lc), np.linalg.slogdet(P)[1].sum(), rtol=1e-10,   # not with the sum, which
                               atol=1e-13 * (np.abs(terms).sum() + 1))                       # can cancel to 1e-6
    Linv = np.linalg.inv(UniformBlockDiagonal(np.tril(Lc)).todense())
    B = rng.standard_normal((4, l * S)); ref = B @ Linv.T; rdiv_ubd_dense(B, Lc)
    np.testing.assert_allclose(B, ref, rtol=1e-9, atol=1e-10)
    Bs = blocked(rng, 3, l, Si, S); ref = Bs.todense() @ Linv.T; rdiv_ubd_sparse(Bs.data, Bs.colptr, Lc)
    np.testing.assert_allclose(Bs.todense(), ref, rtol=1e-9, atol=1e-10)
    M = spd(rng, 1, l * S)[0]; Mc = M.copy()
    assert chol_dense(Mc) == 0
    np.testing.assert_allclose(np.tril(Mc), np.linalg.cholesky(M), rtol=1e-10, atol=1e-12)
    B = rng.standard_normal((3, l * S)); ref = B @ np.linalg.inv(np.tril(Mc)).T; rdiv_dense(B, Mc)
    np.testing.assert_allclose(B, ref, rtol=1e-9, atol=1e-10)
    bad = -np.eye(3); assert chol_dense(bad) != 0


@SET
@given(dims, st.integers(1, 3), st.integers(1, 5), st.integers(1, 40))
def test_rank_updates(d, Sj, ncol, band):
    nrow, Si, seed = d
    rng = np.random.default_rng(seed)
    P, Q = blocked(rng, nrow, ncol, Si, Sj), blocked(rng, 4, ncol, 2, Sj)
    Pd, Qd = P.todense(), Q.todense()
    C0 = rng.standard_normal((nrow * Si, nrow * Si))
    C = C0.copy(); syrk_sparse_dense(C, P.colptr, P.rowidx, P.data, band)
    np.testing.assert_allclose(np.tril(C), np.tril(C0 - Pd @ Pd.T), rtol=1e-10, atol=1e-10)
    C = C0.copy(); sparse_sparse_t_dense(C, P.colptr, P.rowidx, P.data, P.colptr, P.rowidx, P.data, True)
    np.testing.assert_allclose(np.tril(C), np.tril(C0 - Pd @ Pd.T), rtol=1e-10, atol=1e-10)
    C0 = rng.standard_normal((nrow * Si, 8))
    C = C0.copy(); sparse_sparse_t_dense(C, P.colptr, P.rowidx, P.data, Q.colptr, Q.rowidx, Q.data, False)
    np.testing.assert_allclose(C, C0 - Pd @ Qd.T, rtol=1e-10, atol=1e-10)
    D = rng.standard_normal((3, ncol * Sj)); C0 = rng.standard_normal((3, 8))
    C = C0.copy(); dense_sparse_t(C, D, Q.colptr, Q.rowidx, Q.data)
    np.testing.assert_allclose(C, C0 - D @ Qd.T, rtol=1e-10, atol=1e-10)
    E, C0 = rng.standard_normal((6, 2)), rng.standard_normal((6, 6))
    C = C0.copy(); syrk_dense(C, E)
    np.testing.assert_allclose(np.tril(C), np.tril(C0 - E @ E.T), rtol=1e-10, atol=1e-10)


@SET
@given(dims, st.integers(1, 3))
def test_syrk_ubd(d, Sj):
    l, S, seed = d
    rng = np.random.default_rng(seed)
    # a P with one block per column (nested pattern) so PPᵀ is block diagonal
    ncol = 6
    rows = rng.integers(0, l, ncol).astype(np.int32)
    P = BlockedSparse(np.arange(ncol + 1, dtype=np.int64), rows, rng.standard_normal((ncol, S, Sj)), l)
    Pd = P.todense()
    Cd = spd(rng, l, S)
    ref = UniformBlockDiagonal(Cd).todense() - Pd @ Pd.T
    C1 = Cd.copy(); syrk_sparse_ubd(C1, P.colptr, P.rowidx, P.data)
    np.testing.assert_allclose(UniformBlockDiagonal(C1).todense(), ref, rtol=1e-10, atol=1e-10)
    C2 = Cd.copy(); syrk_dense_ubd(C2, np.ascontiguousarray(Pd))
    np.testing.assert_allclose(UniformBlockDiagonal(C2).todense(), ref, rtol=1e-10, atol=1e-10)


def colmajor(a):
    "The same matrix stored column-major, as the [X y] row of L is"
    return np.asfortranarray(a)


@SET
@given(dims, st.integers(1, 3), st.integers(1, 6))
def test_column_major_row_kernels(d, Sj, ncol):
    "The kernels that update the [X y] row give the same result on column-major storage"
    l, S, seed = d
    rng = np.random.default_rng(seed)
    lam, m = lower(rng, S), 3
    A = colmajor(rng.standard_normal((m, l * S))); L = colmajor(np.empty((m, l * S))); rmul_lambda(L, A, lam)
    np.testing.assert_allclose(L, A @ kron_blocks(l, lam), rtol=1e-12, atol=1e-12)
    P = spd(rng, l, S); Lc = P.copy(); chol_ubd(Lc)
    Linv = np.linalg.inv(UniformBlockDiagonal(np.tril(Lc)).todense())
    B = colmajor(rng.standard_normal((m, l * S))); ref = B @ Linv.T; rdiv_ubd_dense(B, Lc)
    np.testing.assert_allclose(B, ref, rtol=1e-9, atol=1e-10)
    M = spd(rng, 1, l * S)[0]; Mc = M.copy(); chol_dense(Mc)
    B = colmajor(rng.standard_normal((m, l * S))); ref = B @ np.linalg.inv(np.tril(Mc)).T; rdiv_dense(B, Mc)
    assert B.flags.f_contiguous
    np.testing.assert_allclose(B, ref, rtol=1e-9, atol=1e-10)
    Q = blocked(rng, l, ncol, S, Sj)
    D, C0 = colmajor(rng.standard_normal((m, ncol * Sj))), colmajor(rng.standard_normal((m, l * S)))
    C = C0.copy(order="F"); dense_sparse_t(C, D, Q.colptr, Q.rowidx, Q.data)
    np.testing.assert_allclose(C, C0 - D @ Q.todense().T, rtol=1e-10, atol=1e-10)
    E, C0 = colmajor(rng.standard_normal((m, l * S))), rng.standard_normal((m, m))
    C = C0.copy(); syrk_dense(C, E)
    np.testing.assert_allclose(np.tril(C), np.tril(C0 - E @ E.T), rtol=1e-10, atol=1e-10)

