"""Bad input raises ValueError/TypeError naming the argument."""

import pytest
import torch

from graphs import random_graph
from pyg_spectral.nn import ChebConv, GCNConv
from pyg_spectral.ops import estimate_lambda_max, laplacian_operator

ei, w = random_graph(20, 60)
x = torch.randn(20, 8)

CASES = [
    # (description, callable, exception, message fragment)
    ('index out of range', lambda c: c(x[:10], ei, w), ValueError,
     'edge_index contains node index'),
    ('negative index', lambda c: c(x, ei - 1, None), ValueError,
     'edge_index contains a negative'),
    ('float edge_index', lambda c: c(x, ei.float(), w), TypeError,
     'edge_index'),
    ('edge_index wrong shape', lambda c: c(x, ei[:1], None), ValueError,
     'edge_index'),
    ('edge_index 3 rows', lambda c: c(x, torch.cat([ei, ei[:1]]), None),
     ValueError, 'edge_index'),
    ('NaN edge weight',
     lambda c: c(x, ei, torch.where(w > 0.5, w, float('nan'))), ValueError,
     'edge_weight'),
    ('edge weight wrong length', lambda c: c(x, ei, w[:-1]), ValueError,
     'edge_weight'),
    ('integer edge weight', lambda c: c(x, ei, w.long()), TypeError,
     'edge_weight'),
    ('integer x', lambda c: c(x.long(), ei, w), TypeError,
     'x must be floating point'),
    ('x 1-d', lambda c: c(x[0], ei, w), ValueError, 'x must have shape'),
    ('x not a tensor', lambda c: c(x.tolist(), ei, w), TypeError,
     'x must be a Tensor'),
]


@pytest.mark.parametrize('desc,call,exc,frag', CASES,
                         ids=[c[0] for c in CASES])
@pytest.mark.parametrize('layer', ['cheb', 'gcn'])
def test_bad_graph_input(desc, call, exc, frag, layer):
    conv = ChebConv(8, 4, 3) if layer == 'cheb' else GCNConv(8, 4)
    with pytest.raises(exc, match=frag):
        call(conv)


@pytest.mark.parametrize('lam', [0.0, -1.0, float('nan'), float('inf'),
                                 torch.tensor([0.0]),
                                 torch.tensor([2.0, float('nan')])])
def test_bad_lambda_max(lam):
    with pytest.raises(ValueError, match='lambda_max'):
        ChebConv(8, 4, 3)(x, ei, w, lambda_max=lam)


def test_bad_lambda_max_type():
    with pytest.raises(TypeError, match='lambda_max'):
        ChebConv(8, 4, 3)(x, ei, w, lambda_max='2')
    with pytest.raises(ValueError, match='lambda_max'):  # 3 values, no batch
        ChebConv(8, 4, 3)(x, ei, w, lambda_max=torch.tensor([1., 2., 3.]))


def test_bad_batch():
    with pytest.raises(ValueError, match='batch'):
        ChebConv(8, 4, 3)(x, ei, w, batch=torch.zeros(5, dtype=torch.long))
    with pytest.raises(TypeError, match='batch'):
        ChebConv(8, 4, 3)(x, ei, w, batch=torch.zeros(20))
    with pytest.raises(ValueError, match='lambda_max'):  # 2 values, 1 graph
        ChebConv(8, 4, 3)(x, ei, w, batch=torch.zeros(20, dtype=torch.long),
                          lambda_max=torch.tensor([1., 2.]))


@pytest.mark.parametrize('K,exc', [(0, ValueError), (-2, ValueError),
                                   (2.0, TypeError), (True, TypeError)])
def test_bad_K(K, exc):
    want = (r'K must be >= 1 \(got ' if exc is ValueError
            else r'K must be an int \(got ')
    with pytest.raises(exc, match=want):
        ChebConv(8, 4, K)


def test_bad_normalization():
    with pytest.raises(ValueError, match='normalization'):
        ChebConv(8, 4, 3, normalization='symmetric')
    with pytest.raises(ValueError, match='normalization'):
        laplacian_operator(ei, w, 20, 'Sym')


def test_sparse_adjacency_with_edge_weight():
    adj = torch.sparse_coo_tensor(ei.flip(0), w, (20, 20))
    with pytest.raises(ValueError, match='edge_weight'):
        ChebConv(8, 4, 3)(x, adj, w)
    with pytest.raises(ValueError,
                       match='the sparse adjacency has 20 nodes but x has 5'):
        GCNConv(8, 4)(x[:5], adj)


def test_bad_estimate_args():
    with pytest.raises(ValueError, match='method'):
        estimate_lambda_max(ei, w, 20, method='arnoldi')
    with pytest.raises(ValueError, match='margin'):
        estimate_lambda_max(ei, w, 20, margin=0.5)


@pytest.mark.parametrize('layer', ['cheb', 'gcn'])
def test_valid_edge_cases_are_finite(layer):
    conv = ChebConv(8, 4, 3, normalization=None) if layer == 'cheb' \
        else GCNConv(8, 4)
    cases = [
        (torch.empty(2, 0, dtype=torch.long), None, 5),  # no edges
        (torch.tensor([[0], [0]]), None, 1),  # single node, self-loop
        (torch.tensor([[0, 0, 1], [1, 1, 0]]), torch.tensor([1., 2., 0.]),
         4),  # duplicates, zero weight, isolated nodes
    ]
    for edge_index, weight, n in cases:
        out = conv(torch.randn(n, 8), edge_index, weight)
        assert out.shape == (n, 4) and torch.isfinite(out).all()
