"""Table-driven bad-input test over every public layer and function: each
bad input raises the exact exception type with a message naming the
argument; valid edge-case inputs never give NaN/Inf (float32, float64,
bfloat16). The last section: the graph arguments (edge_index, edge_weight,
lambda_max, batch, K, normalization) of ChebConv / GCNConv and the
operator functions. The zoo filters' arguments: tests/test_zoo.py."""
import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from graphs import random_graph
from pyg_spectral.datasets import dense_to_graph, distance_to_adjacency
from pyg_spectral.graph import (coarsen, estimate_graph, grid_graph,
                                knn_gaussian_graph)
from pyg_spectral.nn import (STGCN, Align, ChebConv, GCNConv, GraphPool,
                             OutputLayer, SpatialGraphConv, SpectralConv,
                             STConv, TemporalConv)
from pyg_spectral.ops import (SparseOperator, cheb_basis, cheb_filter,
                              clenshaw, estimate_lambda_max, gcn_operator,
                              laplacian_operator, set_backend,
                              set_cache_size, spmm, to_edge_index)
from pyg_spectral.ops.spline import bspline_basis, chebyshev_coefficients
from pyg_spectral.transforms import ChebOperator, GCNOperator

N = 10
_g = torch.Generator().manual_seed(0)
_e = torch.randint(0, N, (2, 25), generator=_g)
EI = torch.cat([_e, _e.flip(0)], 1)  # undirected
_w = torch.rand(25, generator=_g) + 0.1
W = torch.cat([_w, _w])  # symmetric weights
X2 = torch.randn(N, 4, generator=_g)  # [N, C]
X4 = torch.randn(2, 12, N, 4, generator=_g)  # [B, T, N, C]


def _nan(t):
    t = t.clone()
    t.view(-1)[0] = float('nan')
    return t


def _inf(t):
    t = t.clone()
    t.view(-1)[-1] = float('inf')
    return t


# --- graph layers: layout, factory ---------------------------------------
GRAPH_LAYERS = {
    'ChebConv': (2, lambda: ChebConv(4, 3, 3)),
    'GCNConv': (2, lambda: GCNConv(4, 3)),
    'SpectralConv-chebyshev': (2, lambda: SpectralConv(4, 3, 5)),
    'SpectralConv-exact': (2, lambda: SpectralConv(4, 3, 5, mode='exact')),
    'SpatialGraphConv-cheb': (4, lambda: SpatialGraphConv(4, 3, 3, 'cheb')),
    'SpatialGraphConv-gcn': (4, lambda: SpatialGraphConv(4, 3, 1, 'gcn')),
    'STConv': (4, lambda: STConv(N, 4, 8, 6, 3, 3)),
    'STGCN': (4, lambda: STGCN(N, 12, [(4, 8, 6)], 3, 3)),
}


def _x(layout):
    return X2 if layout == 2 else X4


def _fewer_nodes(layout):
    return X2[:5] if layout == 2 else X4[:, :, :5]


# (id, (layout -> (x, edge_index, edge_weight)), exception, message)
GRAPH_CASES = [
    ('index out of range', lambda d: (_x(d), EI.clamp(max=N - 2) + (EI == N - 1) * 2, W), ValueError, 'edge_index'),  # noqa
    ('negative index', lambda d: (_x(d), EI - 1, None), ValueError, 'edge_index.*negative'),  # noqa
    ('float edge_index', lambda d: (_x(d), EI.float(), W), TypeError, 'edge_index'),  # noqa
    ('edge_index 1 row', lambda d: (_x(d), EI[:1], None), ValueError, r'edge_index must have shape \[2'),  # noqa
    ('edge_index 3-d', lambda d: (_x(d), EI[None], None), ValueError, 'edge_index must have shape'),  # noqa
    ('edge_index list', lambda d: (_x(d), EI.tolist(), None), TypeError, 'edge_index must be a Tensor'),  # noqa
    ('NaN edge_weight', lambda d: (_x(d), EI, _nan(W)), ValueError, 'edge_weight contains NaN'),  # noqa
    ('Inf edge_weight', lambda d: (_x(d), EI, _inf(W)), ValueError, 'edge_weight contains NaN or Inf'),  # noqa
    ('negative degree', lambda d: (_x(d), EI, -W), ValueError, 'edge_weight gives node .* negative degree'),  # noqa
    ('edge_weight length', lambda d: (_x(d), EI, W[:-1]), ValueError, r'edge_weight must have shape \[num_edges\]'),  # noqa
    ('edge_weight 2-d', lambda d: (_x(d), EI, W[:, None]), ValueError, 'edge_weight must have shape'),  # noqa
    ('integer edge_weight', lambda d: (_x(d), EI, W.long()), TypeError, 'edge_weight must be floating'),  # noqa
    ('integer x', lambda d: (_x(d).long(), EI, W), TypeError, 'x must be floating point'),  # noqa
    ('x not a tensor', lambda d: (_x(d).tolist(), EI, W), TypeError, 'x must be a Tensor'),  # noqa
    ('x wrong channels', lambda d: (_x(d)[..., :3], EI, W), ValueError, 'x must have shape'),  # noqa
    ('x wrong rank', lambda d: (_x(d)[0, 0] if d == 4 else _x(d)[0], EI, W), ValueError, 'x must have shape'),  # noqa
    ('x fewer nodes than edge_index', lambda d: (_fewer_nodes(d), EI, W), ValueError, r'edge_index contains node index 9, out of range|built for num_nodes=10|\[B, 12, 10, C\]'),  # noqa
    ('NaN x', lambda d: (_nan(_x(d)), EI, W), ValueError, 'x contains NaN or Inf'),  # noqa
    ('Inf x', lambda d: (_inf(_x(d)), EI, W), ValueError, 'x contains NaN or Inf'),  # noqa
    ('x float64, layer float32', lambda d: (_x(d).double(), EI, W), TypeError, 'x has dtype torch.float64 but .* parameters are torch.float32'),  # noqa
    ('x on another device than the layer', lambda d: (_x(d).to('meta'), EI, W), ValueError, 'x is on meta but .* on cpu'),  # noqa
    ('edge_index on another device', lambda d: (_x(d), EI.to('meta'), None), ValueError, 'x is on cpu but edge_index is on meta'),  # noqa
]


@pytest.fixture(autouse=True)
def finite_checks():
    """This file's NaN/Inf cases need the (opt-in) output checks."""
    from pyg_spectral.nn import set_finite_checks
    from pyg_spectral.ops import get_backend
    previous, backend = set_finite_checks(True), get_backend()
    try:
        yield
    finally:  # a case that wrongly accepted set_backend('cuda') leaks none
        set_finite_checks(previous)
        set_backend(backend)


@pytest.mark.parametrize('case', GRAPH_CASES, ids=[c[0] for c in GRAPH_CASES])
@pytest.mark.parametrize('layer', list(GRAPH_LAYERS))
def test_graph_layer_bad_input(layer, case):
    layout, make = GRAPH_LAYERS[layer]
    _, args, exc, msg = case
    module = make()
    with pytest.raises(exc, match=msg):
        module(*args(layout))


def test_nan_parameter_is_named():
    conv = ChebConv(4, 3, 3)
    with torch.no_grad():
        conv.lins[1].weight[0, 0] = float('nan')
    with pytest.raises(ValueError, match=r"parameter 'lins.1.weight'"):
        conv(X2, EI, W)
    model = STGCN(N, 12, [(4, 8, 6)], 3, 3)
    with torch.no_grad():
        model.blocks[0].spatial.weight.fill_(float('inf'))
    with pytest.raises(ValueError, match='blocks.0.spatial.weight'):
        model(X4, EI, W)


def test_overflow_is_reported():
    conv = GCNConv(4, 3).half()
    with torch.no_grad():
        conv.lin.weight.fill_(60000.0)
    with pytest.raises(ValueError, match='overflows torch.float16'):
        conv(X2.half() * 100, EI, W)


def test_finite_checks_can_be_switched_off():
    from pyg_spectral.nn import set_finite_checks
    previous = set_finite_checks(False)
    try:
        out = ChebConv(4, 3, 3)(_nan(X2), EI, W)
        assert torch.isnan(out).any()  # propagated, not checked
    finally:
        set_finite_checks(previous)
    with pytest.raises(ValueError, match='x contains NaN'):
        ChebConv(4, 3, 3)(_nan(X2), EI, W)


def test_finite_checks_are_opt_in():
    """Off by default (the check reads a value back: a device sync on
    CUDA); PYG_SPECTRAL_FINITE_CHECKS=1 turns them on."""
    import os
    import subprocess
    import sys
    code = ('import torch; from pyg_spectral.nn import ChebConv\n'
            'x = torch.randn(5, 2); x[0, 0] = float("nan")\n'
            'ei = torch.tensor([[0, 1], [1, 0]])\n'
            'try:\n'
            '    out = ChebConv(2, 2, 2)(x, ei); print("unchecked")\n'
            'except ValueError as e:\n'
            '    print("checked:", e)\n')
    for env, expect in (('0', 'unchecked'), ('1', 'checked: x contains')):
        res = subprocess.run(
            [sys.executable, '-c', code], capture_output=True, text=True,
            env=dict(os.environ, PYG_SPECTRAL_FINITE_CHECKS=env),
            timeout=120)
        assert res.stdout.startswith(expect), res.stdout + res.stderr


# --- layers without a graph ----------------------------------------------
OTHER_LAYER_CASES = [
    ('TemporalConv integer x', lambda: TemporalConv(4, 6)(X4.long()), TypeError, 'x must be floating'),  # noqa
    ('TemporalConv 3-d x', lambda: TemporalConv(4, 6)(X4[0]), ValueError, r'x must have shape \[B, T, N, 4\]'),  # noqa
    ('TemporalConv channels', lambda: TemporalConv(3, 6)(X4), ValueError, r'x must have shape \[B, T, N, 3\]'),  # noqa
    ('TemporalConv too few steps', lambda: TemporalConv(4, 6, 13)(X4), ValueError, 'fewer than kernel_size'),  # noqa
    ('TemporalConv NaN x', lambda: TemporalConv(4, 6)(_nan(X4)), ValueError, 'x contains NaN'),  # noqa
    ('TemporalConv float64 x', lambda: TemporalConv(4, 6)(X4.double()), TypeError, 'x has dtype torch.float64'),  # noqa
    ('Align channels', lambda: Align(4, 2)(X4[..., :3]), ValueError, 'x must have shape'),  # noqa
    ('OutputLayer channels', lambda: OutputLayer(4, 12, N)(X4[..., :3]), ValueError, 'x must have shape'),  # noqa
    ('STConv wrong node count', lambda: STConv(N + 1, 4, 8, 6)(X4, EI, W), ValueError, 'num_nodes=11'),  # noqa
    ('STGCN wrong n_his', lambda: STGCN(N, 12, [(4, 8, 6)])(X4[:, :11], EI, W), ValueError, r'x must have shape \[B, 12'),  # noqa
    ('GraphPool node count', lambda: GraphPool(torch.arange(6) // 2)(X2), ValueError, 'x has 10 nodes but the clustering has 6'),  # noqa
    ('GraphPool integer x', lambda: GraphPool(torch.arange(10) // 2)(X2.long()), TypeError, 'x must be floating'),  # noqa
    ('GraphPool NaN x', lambda: GraphPool(torch.arange(10) // 2)(_nan(X2)), ValueError, 'x contains NaN'),  # noqa
    ('GraphPool node_dim', lambda: GraphPool(torch.arange(10) // 2, node_dim=3)(X2), ValueError, 'node_dim=3'),  # noqa
]

CONSTRUCTOR_CASES = [
    ('ChebConv K=0', lambda: ChebConv(4, 3, 0), ValueError, 'K must be >= 1'),
    ('ChebConv K float', lambda: ChebConv(4, 3, 2.0), TypeError, 'K must be an int'),  # noqa
    ('ChebConv normalization', lambda: ChebConv(4, 3, 2, 'Sym'), ValueError, 'normalization'),  # noqa
    ('ChebConv in_channels=0', lambda: ChebConv(0, 3, 2), ValueError, 'in_channels'),  # noqa
    ('ChebConv out_channels float', lambda: ChebConv(4, 3.0, 2), TypeError, 'out_channels'),  # noqa
    ('GCNConv out_channels=0', lambda: GCNConv(4, 0), ValueError, 'out_channels'),  # noqa
    ('GCNConv self-loops without normalize', lambda: GCNConv(4, 3, add_self_loops=True, normalize=False), ValueError, 'self-loops'),  # noqa
    ('SpectralConv mode', lambda: SpectralConv(4, 3, 5, mode='dense'), ValueError, 'mode'),  # noqa
    ('SpectralConv num_basis', lambda: SpectralConv(4, 3, 3), ValueError, 'num_basis'),  # noqa
    ('SpectralConv K', lambda: SpectralConv(4, 3, 5, K=0), ValueError, 'K must be'),  # noqa
    ('SpectralConv lambda_max', lambda: SpectralConv(4, 3, 5, lambda_max=float('nan')), ValueError, 'lambda_max'),  # noqa
    ('SpectralConv normalization', lambda: SpectralConv(4, 3, 5, normalization='lap'), ValueError, 'normalization'),  # noqa
    ('SpatialGraphConv kind', lambda: SpatialGraphConv(4, 3, 3, 'gat'), ValueError, 'kind'),  # noqa
    ('SpatialGraphConv K', lambda: SpatialGraphConv(4, 3, -1), ValueError, 'K must be'),  # noqa
    ('TemporalConv activation', lambda: TemporalConv(4, 3, 3, 'tanh'), ValueError, 'activation'),  # noqa
    ('TemporalConv kernel_size', lambda: TemporalConv(4, 3, 0), ValueError, 'kernel_size'),  # noqa
    ('TemporalConv in_channels', lambda: TemporalConv(-4, 3), ValueError, 'in_channels'),  # noqa
    ('STConv dropout', lambda: STConv(N, 4, 8, 6, dropout=1.5), ValueError, 'dropout'),  # noqa
    ('STConv num_nodes', lambda: STConv(0, 4, 8, 6), ValueError, 'num_nodes'),  # noqa
    ('STGCN block shape', lambda: STGCN(N, 12, [(4, 8)]), ValueError, 'each block'),  # noqa
    ('STGCN n_his too short', lambda: STGCN(N, 4, [(4, 8, 6)], 3), ValueError, 'n_his=4 is too short'),  # noqa
    ('STGCN num_nodes', lambda: STGCN(0), ValueError, 'num_nodes'),
    ('GraphPool reduce', lambda: GraphPool(torch.arange(4), 'sum'), ValueError, 'reduce'),  # noqa
    ('GraphPool float cluster', lambda: GraphPool(torch.rand(4)), TypeError, 'cluster'),  # noqa
    ('GraphPool negative cluster', lambda: GraphPool(torch.tensor([0, -1])), ValueError, 'cluster'),  # noqa
]

OP = laplacian_operator(EI, W, N)
THETA = torch.randn(3, 4, 2)  # [K, C, F]

FUNCTION_CASES = [
    ('laplacian_operator normalization', lambda: laplacian_operator(EI, W, N, 'Sym'), ValueError, 'normalization'),  # noqa
    ('laplacian_operator lambda_max=0', lambda: laplacian_operator(EI, W, N, lambda_max=0.0), ValueError, 'lambda_max'),  # noqa
    ('laplacian_operator lambda_max<0', lambda: laplacian_operator(EI, W, N, lambda_max=-1.0), ValueError, 'lambda_max'),  # noqa
    ('laplacian_operator lambda_max NaN', lambda: laplacian_operator(EI, W, N, lambda_max=float('nan')), ValueError, 'lambda_max'),  # noqa
    ('laplacian_operator lambda_max str', lambda: laplacian_operator(EI, W, N, lambda_max='2'), TypeError, 'lambda_max'),  # noqa
    ('laplacian_operator per-graph lambda_max without batch', lambda: laplacian_operator(EI, W, N, lambda_max=torch.tensor([1., 2.])), ValueError, 'lambda_max'),  # noqa
    ('laplacian_operator num_nodes too small', lambda: laplacian_operator(EI, W, 3), ValueError, 'out of range for num_nodes=3'),  # noqa
    ('laplacian_operator num_nodes<0', lambda: laplacian_operator(EI, W, -1), ValueError, 'num_nodes'),  # noqa
    ('laplacian_operator num_nodes float', lambda: laplacian_operator(EI, W, 10.0), TypeError, 'num_nodes'),  # noqa
    ('laplacian_operator batch length', lambda: laplacian_operator(EI, W, N, batch=torch.zeros(3, dtype=torch.long)), ValueError, 'batch'),  # noqa
    ('laplacian_operator float batch', lambda: laplacian_operator(EI, W, N, batch=torch.zeros(N)), TypeError, 'batch'),  # noqa
    ('laplacian_operator negative degree (rw)', lambda: laplacian_operator(EI, -W, N, 'rw'), ValueError, 'negative degree'),  # noqa
    ('gcn_operator float edge_index', lambda: gcn_operator(EI.float(), W), TypeError, 'edge_index'),  # noqa
    ('gcn_operator NaN weight', lambda: gcn_operator(EI, _nan(W)), ValueError, 'edge_weight'),  # noqa
    ('estimate_lambda_max method', lambda: estimate_lambda_max(EI, W, N, method='arnoldi'), ValueError, 'method'),  # noqa
    ('estimate_lambda_max margin', lambda: estimate_lambda_max(EI, W, N, margin=0.5), ValueError, 'margin'),  # noqa
    ('estimate_lambda_max num_iters', lambda: estimate_lambda_max(EI, W, N, num_iters=0), ValueError, 'num_iters'),  # noqa
    ('to_edge_index sparse + edge_weight', lambda: to_edge_index(torch.sparse_coo_tensor(EI.flip(0), W, (N, N)), W), ValueError, 'edge_weight must be None'),  # noqa
    ('to_edge_index non-square sparse', lambda: to_edge_index(torch.sparse_coo_tensor(EI.flip(0), W, (N, N + 1))), ValueError, 'square'),  # noqa
    ('ChebConv precomputed op node count', lambda: ChebConv(4, 2, 3)(X2[:5], OP), ValueError, 'x has 5 nodes but the precomputed operator has 10'),  # noqa
    ('ChebConv precomputed op + edge_weight', lambda: ChebConv(4, 2, 3)(X2, OP, W), ValueError, 'edge_weight must be None'),  # noqa
    ('ChebConv precomputed op normalization', lambda: ChebConv(4, 2, 3, normalization='rw')(X2, OP), ValueError, "built with normalization='sym'"),  # noqa
    ('GCNConv given a Laplacian', lambda: GCNConv(4, 2)(X2, OP), ValueError, "built with kind='laplacian'"),  # noqa
    ('cheb_basis K=0', lambda: cheb_basis(OP, X2, 0), ValueError, 'K must be >= 1'),  # noqa
    ('cheb_basis rows', lambda: cheb_basis(OP, X2[:5], 3), ValueError, 'x has 5 rows but the graph has 10'),  # noqa
    ('cheb_basis integer x', lambda: cheb_basis(OP, X2.long(), 3), TypeError, 'x must be floating'),  # noqa
    ('cheb_basis dtype', lambda: cheb_basis(OP, X2.double(), 3), TypeError, 'x has dtype torch.float64 but op'),  # noqa
    ('cheb_basis device', lambda: cheb_basis(OP, X2.to('meta'), 3), ValueError, 'x is on meta but op'),  # noqa
    ('cheb_basis op type', lambda: cheb_basis(EI, X2, 3), TypeError, 'op must be a SparseOperator'),  # noqa
    ('clenshaw K=0', lambda: clenshaw(OP, lambda k: X2.clone(), 0), ValueError, 'K must be >= 1'),  # noqa
    ('clenshaw empty z', lambda: clenshaw(OP, []), ValueError, 'z holds no terms'),  # noqa
    ('clenshaw rows', lambda: clenshaw(OP, X2[None, :5]), ValueError, r'z\[0\] has 5 rows'),  # noqa
    ('cheb_filter weight rank', lambda: cheb_filter(X2, THETA[0], OP), ValueError, 'weight must have shape'),  # noqa
    ('cheb_filter weight channels', lambda: cheb_filter(X2, torch.randn(3, 5, 2), OP), ValueError, 'weight expects 5'),  # noqa
    ('cheb_filter weight dtype', lambda: cheb_filter(X2, THETA.double(), OP), TypeError, 'weight has dtype'),  # noqa
    ('cheb_filter op type', lambda: cheb_filter(X2, THETA, EI), TypeError, 'op must be'),  # noqa
    ('SparseOperator.matmul rows', lambda: OP.matmul(X2[:5]), ValueError, r'x must have shape \[10, F\]'),  # noqa
    ('spmm z shape', lambda: spmm(OP, X2, z=X2[:, :2]), ValueError, 'z must have the shape of x'),  # noqa
    ('SparseOperator.from_coo lengths', lambda: SparseOperator.from_coo(EI[1], EI[0], W[:5], None, N), ValueError, 'equal length'),  # noqa
    ('SparseOperator.from_coo range', lambda: SparseOperator.from_coo(EI[1], EI[0], W, None, 5), ValueError, 'edge_index contains node index'),  # noqa
    ('set_backend', lambda: set_backend('cuda'), ValueError, 'backend must be one of'),  # noqa
    ('set_cache_size', lambda: set_cache_size(-1), ValueError, 'n must be'),  # noqa
    ('bspline_basis num_basis', lambda: bspline_basis(torch.rand(5), 3, 2.0), ValueError, 'num_basis'),  # noqa
    ('bspline_basis lambda_max', lambda: bspline_basis(torch.rand(5), 6, -2.0), ValueError, 'lambda_max'),  # noqa
    ('chebyshev_coefficients K', lambda: chebyshev_coefficients(lambda t: t, 0, 2.0), ValueError, 'K must be'),  # noqa
    ('grid_graph m', lambda: grid_graph(1), ValueError, 'm must be'),
    ('grid_graph k', lambda: grid_graph(5, 0), ValueError, 'k must be'),
    ('knn_gaussian_graph 1-d', lambda: knn_gaussian_graph(np.zeros(5)), ValueError, 'points must be'),  # noqa
    ('knn_gaussian_graph k > n-1', lambda: knn_gaussian_graph(np.random.rand(5, 2), 8), ValueError, 'k must be'),  # noqa
    ('knn_gaussian_graph NaN', lambda: knn_gaussian_graph(np.full((5, 2), np.nan), 2), ValueError, 'points contain NaN'),  # noqa
    ('estimate_graph 1-d', lambda: estimate_graph(np.zeros(5)), ValueError, 'X must be'),  # noqa
    ('estimate_graph NaN', lambda: estimate_graph(np.full((5, 6), np.nan), 2), ValueError, 'X contains NaN'),  # noqa
    ('coarsen levels', lambda: coarsen(EI, W, N, levels=-1), ValueError, 'levels'),  # noqa
    ('coarsen out of range', lambda: coarsen(EI, W, 3), ValueError, 'edge_index'),  # noqa
    ('coarsen negative weight', lambda: coarsen(EI, -W, N), ValueError, 'edge_weight'),  # noqa
    ('ChebOperator normalization', lambda: ChebOperator('x'), ValueError, 'normalization'),  # noqa
    ('ChebOperator lambda_max', lambda: ChebOperator(lambda_max=-1.0), ValueError, 'lambda_max'),  # noqa
    ('ChebOperator method', lambda: ChebOperator(lambda_max='estimate', method='x'), ValueError, 'method'),  # noqa
    ('ChebOperator float edge_index', lambda: ChebOperator()(Data(x=X2, edge_index=EI.float())), TypeError, 'edge_index'),  # noqa
    ('GCNOperator no edge_index', lambda: GCNOperator()(Data(x=X2)), TypeError, 'edge_index'),  # noqa
    ('distance_to_adjacency shape', lambda: distance_to_adjacency(np.random.rand(5, 4)), ValueError, 'dist must be a square'),  # noqa
    ('distance_to_adjacency NaN', lambda: distance_to_adjacency(np.full((5, 5), np.nan)), ValueError, 'dist contains NaN'),  # noqa
    ('distance_to_adjacency sigma2', lambda: distance_to_adjacency(np.random.rand(5, 5), sigma2=0.0), ValueError, 'sigma2'),  # noqa
    ('dense_to_graph shape', lambda: dense_to_graph(np.random.rand(5, 4)), ValueError, 'adj must be a square'),  # noqa
]

TABLE = OTHER_LAYER_CASES + CONSTRUCTOR_CASES + FUNCTION_CASES


@pytest.mark.parametrize('case', TABLE, ids=[c[0] for c in TABLE])
def test_bad_input(case):
    _, call, exc, msg = case
    with pytest.raises(exc, match=msg):
        call()


# --- valid edge cases never give NaN/Inf ---------------------------------
EDGE_GRAPHS = {
    'no edges': (torch.empty(2, 0, dtype=torch.long), None, 5),
    'single node with self-loop': (torch.tensor([[0], [0]]), None, 1),
    'duplicates, zero weight, isolated': (
        torch.tensor([[0, 0, 1], [1, 1, 0]]), torch.tensor([1., 2., 0.]), 4),
    'directed star': (torch.tensor([[0, 0, 0], [1, 2, 3]]), None, 4),
}
DTYPES = [torch.float32, torch.float64, torch.bfloat16]


def _valid_layers(n):
    return {
        'ChebConv-sym': (2, ChebConv(3, 2, 3)),
        'ChebConv-None': (2, ChebConv(3, 2, 3, normalization=None)),
        'ChebConv-rw': (2, ChebConv(3, 2, 3, normalization='rw')),
        'GCNConv': (2, GCNConv(3, 2)),
        'GCNConv-improved': (2, GCNConv(3, 2, improved=True)),
        'SpectralConv': (2, SpectralConv(3, 2, 5, K=10)),
        'SpatialGraphConv': (4, SpatialGraphConv(3, 2, 3)),
        'STConv': (4, STConv(n, 3, 4, 2, 3, 3)),
    }


@pytest.mark.parametrize('dtype', DTYPES, ids=str)
@pytest.mark.parametrize('graph', list(EDGE_GRAPHS))
def test_valid_inputs_are_finite(graph, dtype):
    ei, w, n = EDGE_GRAPHS[graph]
    g = torch.Generator().manual_seed(1)
    for name, (layout, layer) in _valid_layers(n).items():
        layer = layer.to(dtype)
        shape = (n, 3) if layout == 2 else (2, 7, n, 3)
        x = torch.randn(shape, generator=g).to(dtype).requires_grad_()
        out = layer(x, ei, None if w is None else w.to(dtype))
        out.float().square().sum().backward()
        assert torch.isfinite(out.float()).all(), name
        assert torch.isfinite(x.grad.float()).all(), name
        for pname, p in layer.named_parameters():
            assert p.grad is None or torch.isfinite(p.grad.float()).all(), \
                (name, pname)


# -- graph arguments of ChebConv / GCNConv and the operator functions -------
ei, w = random_graph(20, 60)  # directed, loops, duplicates
x = torch.randn(20, 8)

GRAPH_ARGUMENT_CASES = [
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


@pytest.mark.parametrize('desc,call,exc,frag', GRAPH_ARGUMENT_CASES,
                         ids=[c[0] for c in GRAPH_ARGUMENT_CASES])
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
