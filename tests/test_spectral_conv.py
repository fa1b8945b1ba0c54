"""SpectralConv (SCNN spline filters): exact mode against an independent
float64 eigendecomposition, chebyshev mode converging to exact."""
import numpy as np
import pytest
import torch

from graphs import dense_adj, random_graph, rel_err
from pyg_spectral.nn import SpectralConv
from pyg_spectral.ops.spline import bspline_basis

D = torch.float64


def mdeff_bspline_basis(K, x, degree=3):
    """mdeff/cnn_graph lib/models.py bspline_basis, verbatim logic."""
    kv1 = x.min() * np.ones(degree)
    kv2 = np.linspace(x.min(), x.max(), K - degree + 1)
    kv3 = x.max() * np.ones(degree)
    kv = np.concatenate((kv1, kv2, kv3))

    def cox_deboor(k, d):
        if d == 0:
            return ((x - kv[k] >= 0) & (x - kv[k + 1] < 0)).astype(int)
        denom1 = kv[k + d] - kv[k]
        term1 = 0
        if denom1 > 0:
            term1 = ((x - kv[k]) / denom1) * cox_deboor(k, d - 1)
        denom2 = kv[k + d + 1] - kv[k + 1]
        term2 = 0
        if denom2 > 0:
            term2 = (-(x - kv[k + d + 1]) / denom2) * cox_deboor(k + 1,
                                                                  d - 1)
        return term1 + term2
    basis = np.column_stack([cox_deboor(k, degree) for k in range(K)])
    basis[-1, -1] = 1
    return basis


def test_basis_equals_mdeff():
    x = np.linspace(0, 2, 57)
    ours = bspline_basis(torch.from_numpy(x), 7, 2.0).numpy()
    assert np.abs(ours - mdeff_bspline_basis(7, x)).max() < 1e-12
    assert np.allclose(ours.sum(1), 1.0)


def _oracle(ei, w, n, x, weight, lam_max=2.0):
    A = dense_adj(ei, w, n)
    A = (A + A.t()) / 2 if not torch.equal(A, A.t()) else A
    deg = A.sum(1)
    d = torch.where(deg > 0, deg.clamp_min(1e-300) ** -0.5, 0 * deg)
    L = torch.eye(n, dtype=D) - d[:, None] * A * d[None]
    lam, U = np.linalg.eigh(L.numpy())
    B = torch.from_numpy(mdeff_bspline_basis(weight.size(0), np.concatenate(
        [[0.0], np.clip(lam, 0, lam_max), [lam_max]]))[1:-1])
    U = torch.from_numpy(U)
    xh = U.t() @ x.double()
    yh = torch.einsum('nm,nc,mcf->nf', B, xh, weight.double())
    return U @ yh


def test_exact_mode_matches_oracle():
    ei, w = random_graph(30, 100, directed=False, dtype=D, isolated=2)
    conv = SpectralConv(4, 3, num_basis=6, mode='exact', bias=False).double()
    x = torch.randn(30, 4, dtype=D)
    assert rel_err(conv(x, ei, w), _oracle(ei, w, 30, x, conv.weight)) < 1e-8


@pytest.mark.parametrize('seed', [0, 1])
def test_chebyshev_converges_to_exact(seed):
    ei, w = random_graph(40, 150, directed=False, dtype=D, seed=seed)
    x = torch.randn(40, 3, dtype=D)
    exact = SpectralConv(3, 2, 6, mode='exact').double()
    errs = []
    for K in (5, 10, 20, 40):
        cheb = SpectralConv(3, 2, 6, mode='chebyshev', K=K).double()
        cheb.load_state_dict(exact.state_dict())  # same parameters
        errs.append(rel_err(cheb(x, ei, w), exact(x, ei, w)))
    assert errs[-1] < 1e-3
    assert errs[-1] < errs[0]


def test_chebyshev_gradients_and_batches():
    ei, w = random_graph(20, 60, directed=False, dtype=D)
    conv = SpectralConv(3, 2, 5, K=15).double()
    x = torch.randn(20, 3, dtype=D, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a: conv(a, ei, w), (x, ))
    # exact mode on a block-diagonal batch == per graph
    ex = SpectralConv(3, 2, 5, mode='exact').double()
    ei2 = torch.cat([ei, ei + 20], 1)
    w2 = torch.cat([w, w])
    x2 = torch.randn(40, 3, dtype=D)
    full = ex(x2, ei2, w2)
    assert rel_err(full[:20], ex(x2[:20], ei, w)) < 1e-8
    assert rel_err(full[20:], ex(x2[20:], ei, w)) < 1e-8


def test_exact_mode_refuses_large_graphs():
    ei, w = random_graph(30, 100, directed=False)
    conv = SpectralConv(2, 2, 5, mode='exact', max_exact_nodes=10)
    with pytest.raises(ValueError, match='max_exact_nodes'):
        conv(torch.randn(30, 2), ei, w)
    with pytest.raises(ValueError, match="mode must be 'chebyshev' or 'exact'"):
        SpectralConv(2, 2, 5, mode='fast')


@pytest.mark.parametrize('mode', ['exact', 'chebyshev'])
def test_folded_signals(mode):
    ei, w = random_graph(20, 60, directed=False, dtype=D)
    conv = SpectralConv(3, 2, 5, mode=mode, K=10).double()
    x = torch.randn(20, 4, 3, dtype=D)
    y = conv(x, ei, w)
    ref = torch.stack([conv(x[:, m], ei, w) for m in range(4)], 1)
    assert rel_err(y, ref) < 1e-10
