"""The polynomial filter in every basis against an independent float64
oracle (scipy.special's polynomials applied to the eigenvalues of a
symmetric operator), gradcheck in both orders, and Chebyshev through the
general recurrence == the Chebyshev filter."""
import numpy as np
import pytest
import scipy.special as sp
import torch

from graphs import random_graph, rel_err
from pyg_spectral.ops import (cheb_filter, laplacian_operator, poly_filter,
                              recurrence)

D = torch.float64
BASES = {
    'chebyshev': (lambda k, x: sp.eval_chebyt(k, x), {}),
    'monomial': (lambda k, x: x ** k, {}),
    'legendre': (lambda k, x: sp.eval_legendre(k, x), {}),
    'jacobi': (lambda k, x: sp.eval_jacobi(k, 0.7, -0.4, x),
               dict(a=0.7, b=-0.4)),
}


def _oracle(S, x, weight, poly):
    """sum_k P_k(S) x W_k with P_k(S) = U diag(P_k(lambda)) U^T."""
    lam, U = np.linalg.eigh(S.numpy())
    out = 0
    for k in range(weight.size(0)):
        Pk = U @ np.diag(poly(k, lam)) @ U.T
        out = out + Pk @ x.numpy() @ weight[k].numpy()
    return torch.from_numpy(out)


@pytest.mark.parametrize('order', [None, 'project_first', 'project_last'])
@pytest.mark.parametrize('K', [1, 2, 5])
@pytest.mark.parametrize('basis', list(BASES))
def test_filter_equals_scipy_oracle(basis, K, order):
    ei, w = random_graph(25, 80, directed=False, dtype=D, seed=K)
    op = laplacian_operator(ei, w, 25, 'sym', dtype=D)
    S = op.to_dense()
    assert op.is_symmetric
    poly, params = BASES[basis]
    for C, F in ((6, 3), (3, 6)):
        x = torch.randn(25, C, dtype=D)
        weight = torch.randn(K, C, F, dtype=D)
        got = poly_filter(x, weight, op, basis, order, **params)
        assert rel_err(got, _oracle(S, x, weight, poly)) < 1e-10


@pytest.mark.parametrize('basis', list(BASES))
def test_gradcheck_every_basis(basis):
    """Directed graph (S^T != S): the backward's transposed recurrence."""
    ei, w = random_graph(10, 30, directed=True, dtype=D)
    op = laplacian_operator(ei, w, 10, 'rw', dtype=D)
    _, params = BASES[basis]
    x = torch.randn(10, 3, dtype=D, requires_grad=True)
    weight = torch.randn(4, 3, 2, dtype=D, requires_grad=True)
    for order in ('project_first', 'project_last'):
        assert torch.autograd.gradcheck(
            lambda a, b: poly_filter(a, b, op, basis, order, **params),
            (x, weight))
    # sparse x (projected outside) and learnable edge weights (composed)
    xs = x.detach().to_sparse()
    assert torch.autograd.gradcheck(
        lambda b: poly_filter(xs, b, op, basis, **params), (weight, ))
    wr = w.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda ww: poly_filter(x.detach(), weight.detach(), laplacian_operator(
            ei, ww, 10, 'rw', 2.0, dtype=D), basis, **params), (wr, ))


def test_chebyshev_recurrence_equals_cheb_filter():
    """The Chebyshev coefficients through the general path == the
    dedicated one (one recurrence, two entry points)."""
    from pyg_spectral.ops.chebyshev import run_filter
    ei, w = random_graph(30, 90, dtype=D)
    op = laplacian_operator(ei, w, 30, 'rw', dtype=D)
    x = torch.randn(30, 5, dtype=D)
    weight = torch.randn(6, 5, 4, dtype=D)
    rec = recurrence('chebyshev', 6)
    for order in ('project_first', 'project_last'):
        assert rel_err(run_filter(x, weight, op, order, rec),
                       cheb_filter(x, weight, op, order)) < 1e-13


def test_bad_basis_arguments():
    ei, w = random_graph(10, 30)
    op = laplacian_operator(ei, w, 10)
    x, weight = torch.randn(10, 3), torch.randn(2, 3, 2)
    with pytest.raises(ValueError, match='basis must be one of'):
        poly_filter(x, weight, op, 'hermite')
    with pytest.raises(ValueError, match='a > -1'):
        poly_filter(x, weight, op, 'jacobi', a=-1.0)


@pytest.mark.parametrize('shape', ['per-channel', 'scalar'])
@pytest.mark.parametrize('basis', list(BASES))
def test_coefficient_filters(basis, shape):
    """weight [K, C] / [K]: sum_k P_k(S) x diag(w_k), against the oracle
    with diagonal matrices; gradcheck (incl. [N, M, C] signals)."""
    ei, w = random_graph(20, 60, directed=False, dtype=D, seed=3)
    op = laplacian_operator(ei, w, 20, 'sym', dtype=D)
    poly, params = BASES[basis]
    K, C = 5, 4
    coef = torch.randn((K, C) if shape == 'per-channel' else (K, ),
                       dtype=D)
    x = torch.randn(20, C, dtype=D)
    mats = torch.diag_embed(coef if coef.dim() == 2 else
                            coef[:, None].expand(K, C))  # [K, C, C]
    ref = _oracle(op.to_dense(), x, mats, poly)
    assert rel_err(poly_filter(x, coef, op, basis, **params), ref) < 1e-10
    xr = torch.randn(20, 3, C, dtype=D, requires_grad=True)
    cr = coef.clone().requires_grad_(True)
    ed, wd = random_graph(20, 60, directed=True, dtype=D, seed=4)
    opd = laplacian_operator(ed, wd, 20, 'rw', dtype=D)
    assert torch.autograd.gradcheck(
        lambda a, c: poly_filter(a, c, opd, basis, **params), (xr, cr))
