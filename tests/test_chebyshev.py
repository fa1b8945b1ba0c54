"""The Chebyshev filter against a float64 dense oracle, and gradcheck of its
custom op in both evaluation orders."""
import pytest
import torch

from graphs import (dense_cheb_filter, dense_laplacian_operator,
                    random_graph, rel_err)
from pyg_spectral.ops import (cheb_basis, cheb_filter, choose_order, clenshaw,
                              laplacian_operator)
from pyg_spectral.ops.filter_engine import batch_gemms

D = torch.float64


@pytest.mark.parametrize('normalization', [None, 'sym', 'rw'])
@pytest.mark.parametrize('K', list(range(1, 11)))
@pytest.mark.parametrize('C,F', [(6, 3), (3, 6), (64, 2)])
def test_filter_matches_dense_oracle(normalization, K, C, F):
    ei, w = random_graph(30, 110, directed=True, dtype=D, seed=K)
    op = laplacian_operator(ei, w, 30, normalization, dtype=D)
    S = dense_laplacian_operator(ei, w, 30, normalization)
    x = torch.randn(30, C, dtype=D)
    weight = torch.randn(K, C, F, dtype=D)
    assert (choose_order(C, F) == 'project_first') == (F < C)
    assert batch_gemms(x, weight) == (C >= 2 * K * F)
    ref = dense_cheb_filter(S, x, weight)
    for order in [None, 'project_first', 'project_last']:
        assert rel_err(cheb_filter(x, weight, op, order), ref) < 1e-10


def test_clenshaw_equals_basis():
    ei, w = random_graph(30, 110, dtype=D)
    op = laplacian_operator(ei, w, 30, 'rw', dtype=D)
    z = torch.randn(7, 30, 4, dtype=D)
    basis = cheb_basis(op, torch.eye(30, dtype=D), 7)  # [K, N, N] = T_k(S)
    for K in range(1, 8):
        ref = sum(basis[k] @ z[k] for k in range(K))
        zc = z[:K].clone()
        assert rel_err(clenshaw(op, zc), ref) < 1e-10
        assert torch.equal(zc, z[:K])  # the input is not overwritten
        assert rel_err(clenshaw(op, lambda k: z[k].clone(), K), ref) < 1e-10


@pytest.mark.parametrize('directed,normalization', [(False, 'sym'),
                                                    (True, 'sym'),
                                                    (False, 'rw'),
                                                    (True, None)])
@pytest.mark.parametrize('C,F', [(5, 2), (2, 5), (3, 3), (17, 2)])
@pytest.mark.parametrize('K', [1, 2, 4])
def test_gradcheck(directed, normalization, C, F, K):
    ei, w = random_graph(12, 40, directed=directed, dtype=D)
    op = laplacian_operator(ei, w, 12, normalization, dtype=D)
    assert op.is_symmetric == (not directed and normalization == 'sym')
    x = torch.randn(12, C, dtype=D, requires_grad=True)
    weight = torch.randn(K, C, F, dtype=D, requires_grad=True)
    for order in ['project_first', 'project_last']:
        assert torch.autograd.gradcheck(
            lambda a, b: cheb_filter(a, b, op, order), (x, weight))


def test_sparse_input_features():
    ei, w = random_graph(30, 110, dtype=D)
    op = laplacian_operator(ei, w, 30, 'sym', dtype=D)
    x = torch.randn(30, 12, dtype=D) * (torch.rand(30, 12) < 0.2)
    weight = torch.randn(3, 12, 4, dtype=D, requires_grad=True)
    dense = cheb_filter(x, weight, op)
    g_dense, = torch.autograd.grad(dense.square().sum(), weight)
    for xs in [x.to_sparse(), x.to_sparse_csr()]:
        out = cheb_filter(xs, weight, op)
        g, = torch.autograd.grad(out.square().sum(), weight)
        assert rel_err(out, dense) < 1e-12
        assert rel_err(g, g_dense) < 1e-12


def test_edge_weight_gradients_flow():
    """With learnable edge weights the plain-autograd path is used; check
    against finite differences."""
    ei, w = random_graph(10, 30, dtype=D, self_loops=0)
    w.requires_grad_(True)
    x = torch.randn(10, 3, dtype=D)
    weight = torch.randn(3, 3, 2, dtype=D)

    for order in ['project_first', 'project_last']:
        def f(w):
            op = laplacian_operator(ei, w, 10, 'sym', 2.0, dtype=D)
            return cheb_filter(x, weight, op, order)
        assert torch.autograd.gradcheck(f, (w, ))


def test_deterministic():
    ei, w = random_graph(200, 2000)
    op = laplacian_operator(ei, w, 200, 'rw')
    x = torch.randn(200, 16, requires_grad=True)
    weight = torch.randn(5, 16, 8, requires_grad=True)
    outs = []
    for _ in range(2):
        y = cheb_filter(x, weight, op)
        g = torch.autograd.grad(y.square().sum(), [x, weight])
        outs.append((y, *g))
    for a, b in zip(*outs):
        assert torch.equal(a, b)


@pytest.mark.parametrize('C,F', [(6, 3), (3, 6)])
def test_folded_signals_equal_per_signal(C, F):
    """x [N, M, C] (M signals folded into the columns of one sparse product)
    equals M separate filters, forward and backward."""
    ei, w = random_graph(20, 70, dtype=D)
    op = laplacian_operator(ei, w, 20, 'rw', dtype=D)
    x = torch.randn(20, 4, C, dtype=D, requires_grad=True)
    weight = torch.randn(3, C, F, dtype=D, requires_grad=True)
    for order in ['project_first', 'project_last']:
        y = cheb_filter(x, weight, op, order)
        ref = torch.stack([cheb_filter(x[:, m], weight, op, order)
                           for m in range(4)], 1)
        assert rel_err(y, ref) < 1e-12
        assert torch.autograd.gradcheck(
            lambda a, b: cheb_filter(a, b, op, order), (x, weight))


def test_non_contiguous_inputs():
    """Strided views (e.g. permuted [B, N, 1] signals) work in both
    orders, forward and backward."""
    ei, w = random_graph(20, 70, dtype=D)
    op = laplacian_operator(ei, w, 20, 'sym', dtype=D)
    base = torch.randn(5, 20, 1, dtype=D)
    x = base.transpose(0, 1)  # [N, M=5, C=1], not contiguous
    weight = torch.randn(3, 1, 4, dtype=D, requires_grad=True)
    for order in ['project_first', 'project_last']:
        xr = base.clone().requires_grad_(True)
        xs = xr.transpose(0, 1)  # strided view
        xc = x.contiguous().requires_grad_(True)
        y = cheb_filter(xs, weight, op, order)
        ref = cheb_filter(xc, weight, op, order)
        assert rel_err(y, ref) < 1e-12
        g = torch.randn_like(y)
        ga = torch.autograd.grad(y, [xr, weight], g)
        gb = torch.autograd.grad(ref, [xc, weight], g)
        assert rel_err(ga[0].transpose(0, 1), gb[0]) < 1e-12
        assert rel_err(ga[1], gb[1]) < 1e-12
