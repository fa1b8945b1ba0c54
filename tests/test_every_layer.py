"""Invariants checked on every public layer: bitwise determinism of outputs
and gradients (CPU), state_dict round trips (in memory and through
torch.save), and hypothesis property tests of the layers not covered in
test_properties.py against float64 dense oracles."""
import io

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from graphs import (dense_adj, dense_cheb_filter, dense_gcn_operator,
                    dense_laplacian_operator, random_graph, rel_err)
from pyg_spectral.nn import (STGCN, Align, ChebConv, GCNConv, GraphPool,
                             OutputLayer, SpatialGraphConv, SpectralConv,
                             STConv, TemporalConv)
from test_properties import SEEDS, _seeded, graphs

D = torch.float64
N = 12
EI, W = random_graph(N, 40, directed=False, isolated=1, seed=3)
CLUSTER = torch.arange(N) // 3


def _x(shape, seed):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


# name -> (factory, input shape, takes a graph, edge weights need grad)
LAYERS = {
    'ChebConv': (lambda: ChebConv(4, 3, 4), (N, 4), True),
    'ChebConv-rw': (lambda: ChebConv(4, 3, 4, 'rw'), (N, 4), True),
    'GCNConv': (lambda: GCNConv(4, 3), (N, 4), True),
    'SpectralConv-chebyshev': (lambda: SpectralConv(4, 3, 6, K=12),
                               (N, 4), True),
    'SpectralConv-exact': (lambda: SpectralConv(4, 3, 6, mode='exact'),
                           (N, 4), True),
    'SpatialGraphConv-cheb': (lambda: SpatialGraphConv(4, 3, 3),
                              (2, 5, N, 4), True),
    'SpatialGraphConv-gcn': (lambda: SpatialGraphConv(4, 3, 1, 'gcn'),
                             (2, 5, N, 4), True),
    'TemporalConv-glu': (lambda: TemporalConv(4, 3, 3), (2, 5, N, 4), False),
    'TemporalConv-relu': (lambda: TemporalConv(3, 5, 2, 'relu'),
                          (2, 5, N, 3), False),
    'Align': (lambda: Align(4, 2), (2, 5, N, 4), False),
    'STConv': (lambda: STConv(N, 4, 6, 5, 3, 3, dropout=0.0), (2, 7, N, 4),
               True),
    'STGCN': (lambda: STGCN(N, 9, [(2, 4, 6), (6, 4, 5)], 2, 3,
                            out_channels=3), (2, 9, N, 2), True),
    'OutputLayer': (lambda: OutputLayer(4, 5, N, 2), (2, 5, N, 4), False),
    'GraphPool-max': (lambda: GraphPool(CLUSTER, 'max'), (2, N, 4), False),
    'GraphPool-mean': (lambda: GraphPool(CLUSTER, 'mean'), (2, N, 4), False),
}


def _run(name, seed=0, edge_weight_grad=False):
    make, shape, graph = LAYERS[name]
    torch.manual_seed(seed)
    layer = make()
    x = _x(shape, 1).requires_grad_()
    w = W.clone().requires_grad_(edge_weight_grad)
    out = layer(x, EI, w) if graph else layer(x)
    (out * _x(out.shape, 2)).sum().backward()
    grads = [x.grad] + [p.grad for p in layer.parameters()]
    if edge_weight_grad:
        grads.append(w.grad)
    return layer, out.detach(), grads


@pytest.mark.parametrize('name', list(LAYERS))
def test_deterministic(name):
    graph = LAYERS[name][2]
    for ew_grad in ([False, True] if graph else [False]):
        _, out1, g1 = _run(name, edge_weight_grad=ew_grad)
        _, out2, g2 = _run(name, edge_weight_grad=ew_grad)
        assert torch.equal(out1, out2)
        assert len(g1) == len(g2)
        for a, b in zip(g1, g2):
            assert (a is None and b is None) or torch.equal(a, b)


@pytest.mark.parametrize('name', list(LAYERS))
def test_state_dict_round_trip(name):
    make, shape, graph = LAYERS[name]
    src, out, _ = _run(name, seed=0)
    x = _x(shape, 1).requires_grad_()  # the same (training) code path
    for via_file in (False, True):
        torch.manual_seed(123)  # different initialization
        dst = make()
        state = src.state_dict()
        if via_file:
            buf = io.BytesIO()
            torch.save(state, buf)
            buf.seek(0)
            state = torch.load(buf, weights_only=True)
        assert list(state) == list(dst.state_dict())
        dst.load_state_dict(state)
        again = dst(x, EI, W) if graph else dst(x)
        assert torch.equal(again.detach(), out)


@pytest.mark.parametrize('name', list(LAYERS))
def test_reset_parameters_redraws_every_parameter(name):
    """reset_parameters() reaches every parameter: with the generator
    reseeded it reproduces the freshly built state exactly, after every
    parameter was overwritten."""
    make = LAYERS[name][0]
    torch.manual_seed(7)
    layer = make()
    if not list(layer.parameters()):
        pytest.skip('no parameters')
    assert hasattr(layer, 'reset_parameters'), name
    torch.manual_seed(11)
    layer.reset_parameters()
    want = {k: v.clone() for k, v in layer.state_dict().items()}
    with torch.no_grad():
        for p in layer.parameters():
            p.fill_(3.25)
    torch.manual_seed(11)
    layer.reset_parameters()
    for k, v in layer.state_dict().items():
        assert torch.equal(v, want[k]), k
    assert not any(bool((p == 3.25).all()) for p in layer.parameters()
                   if p.numel() > 1)


def test_spectral_conv_state_dict_moves_between_modes():
    a = SpectralConv(4, 3, 6, mode='exact')
    b = SpectralConv(4, 3, 6, mode='chebyshev', K=60)
    b.load_state_dict(a.state_dict())
    x = _x((N, 4), 0)
    assert rel_err(a(x, EI, W), b(x, EI, W)) < 1e-3


# --- property tests against float64 dense oracles ------------------------
@settings(max_examples=30, deadline=None)
@given(graphs(), st.sampled_from(['cheb', 'gcn']), st.integers(1, 4),
       st.integers(1, 3), st.integers(1, 3), SEEDS)
def test_spatial_graph_conv_property(g, kind, K, B, T, seed):
    g_x = _seeded(seed)  # layer init and inputs from the drawn seed
    n, ei, w = g
    conv = SpatialGraphConv(3, 2, K, kind).double()
    x = torch.randn(B, T, n, 3, dtype=D, generator=g_x)
    out = conv(x, ei, w)
    if kind == 'cheb':
        S = dense_laplacian_operator(ei, w, n, 'sym')
        ref = torch.stack([torch.stack([
            dense_cheb_filter(S, x[b, t], conv.weight) for t in range(T)])
            for b in range(B)])
    else:
        ref = dense_gcn_operator(ei, w, n) @ x @ conv.weight[0]
    ref = ref + conv.bias
    assert torch.isfinite(out).all()
    assert rel_err(out, ref) < 1e-10 or (out - ref).abs().max() < 1e-12


@settings(max_examples=30, deadline=None)
@given(graphs(), st.integers(1, 3), st.integers(4, 7), SEEDS)
def test_spectral_conv_exact_property(g, C, M, seed):
    g_x = _seeded(seed)  # layer init and inputs from the drawn seed
    n, ei, w = g
    ei = torch.cat([ei, ei.flip(0)], 1)  # undirected, symmetric weights
    w = None if w is None else torch.cat([w, w])
    conv = SpectralConv(C, 2, M, mode='exact').double()
    x = torch.randn(n, C, dtype=D, generator=g_x)
    out = conv(x, ei, w)
    # oracle: eigendecomposition of the dense normalized Laplacian, the
    # splines evaluated on its eigenvalues
    from pyg_spectral.ops.spline import bspline_basis
    A = dense_adj(ei, w, n)
    deg = A.sum(1)
    d = torch.where(deg > 0, deg.clamp_min(1e-300) ** -0.5, 0 * deg)
    L = torch.eye(n, dtype=D) - d[:, None] * A * d[None]
    lam, U = torch.linalg.eigh(L)
    Bm = bspline_basis(lam.clamp(0, 2), M, 2.0).to(D)  # [n, M]
    ref = U @ torch.einsum('nm,nc,mcf->nf', Bm, U.t() @ x, conv.weight)
    ref = ref + conv.bias
    assert rel_err(out, ref) < 1e-8 or (out - ref).abs().max() < 1e-10


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 12), st.integers(1, 5), st.sampled_from(['max', 'mean']),
       st.integers(0, 2**16))
def test_graph_pool_property(n, n_clusters, reduce, seed):
    g = torch.Generator().manual_seed(seed)
    cluster = torch.randint(0, n_clusters, (n, ), generator=g)
    x = torch.randn(3, n, 2, generator=g, dtype=D)
    out = GraphPool(cluster, reduce)(x)
    m = int(cluster.max()) + 1
    assert out.shape == (3, m, 2)
    for c in range(m):
        members = x[:, cluster == c]
        if members.size(1) == 0:  # an unused cluster id: zeros, no -inf
            assert (out[:, c] == 0).all()
            continue
        ref = members.amax(1) if reduce == 'max' else members.mean(1)
        assert torch.equal(out[:, c], ref) if reduce == 'max' else \
            (out[:, c] - ref).abs().max() < 1e-12


@settings(max_examples=20, deadline=None)
@given(graphs(), st.integers(1, 3), st.integers(1, 2), SEEDS)
def test_stconv_property(g, K, B, seed):
    """STConv = temporal (checked against conv2d in test_stgcn) -> dense
    float64 Chebyshev filter per slice + aligned residual -> ReLU ->
    temporal -> LayerNorm over [N, C]."""
    g_x = _seeded(seed)  # layer init and inputs from the drawn seed
    n, ei, w = g
    block = STConv(n, 3, 4, 5, 2, K).double()
    x = torch.randn(B, 5, n, 3, dtype=D, generator=g_x)
    out = block(x, ei, w)
    h = block.temporal1(x)
    S = dense_laplacian_operator(ei, w, n, 'sym')
    sp = torch.stack([torch.stack([
        dense_cheb_filter(S, h[b, t], block.spatial.weight)
        for t in range(h.size(1))]) for b in range(B)]) + block.spatial.bias
    h = torch.relu(sp + block.align(h))
    h = block.temporal2(h)
    ref = F.layer_norm(h, [n, 5], block.norm.weight, block.norm.bias)
    assert rel_err(out, ref) < 1e-10


@pytest.mark.parametrize('name', ['ChebConv', 'GCNConv',
                                  'SpectralConv-chebyshev',
                                  'SpatialGraphConv-cheb', 'STConv', 'STGCN'])
def test_autocast_bfloat16(name):
    """Under CPU autocast (bfloat16) every layer runs in bfloat16 (its
    output differs from float32's, by bfloat16's rounding only), and its
    gradients reach every parameter, finite and close to float32's."""
    make, shape, _ = LAYERS[name]
    torch.manual_seed(0)
    layer = make()
    x = _x(shape, 1)
    ref = layer(x, EI, W)
    r = _x(ref.shape, 2)  # a random projection: (a sum of squares would
    (ref * r).sum().backward()  # cancel through STConv's LayerNorm)
    ref_grads = [p.grad.clone() for p in layer.parameters()]
    layer.zero_grad(set_to_none=True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = layer(x, EI, W)
        (out.float() * r).sum().backward()
    assert torch.isfinite(out.float()).all()
    assert 1e-4 < rel_err(out.float(), ref) < 5e-2  # lowered, and close
    for p in layer.parameters():
        assert p.grad is not None and p.grad.dtype == p.dtype
    # the gradient as one vector points where float32's does
    got = torch.cat([p.grad.flatten() for p in layer.parameters()])
    want = torch.cat([g.flatten() for g in ref_grads])
    assert F.cosine_similarity(got.double(), want.double(), 0) > 0.99


@pytest.mark.parametrize('name,args', [('ChebConv', (4, 3, 4)),
                                       ('GCNConv', (4, 3))])
def test_autocast_bfloat16_as_pyg(name, args):
    """ChebConv / GCNConv under autocast: PyG's output dtype, and within
    bfloat16 rounding of PyG's layer under autocast (same weights)."""
    import torch_geometric.nn as pygnn

    import pyg_spectral.nn as ours
    torch.manual_seed(0)
    ref = getattr(pygnn, name)(*args)
    mine = getattr(ours, name)(*args)
    mine.load_state_dict(ref.state_dict())
    x = _x((N, 4), 1)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        a, b = mine(x, EI, W), ref(x, EI, W)
    assert a.dtype == b.dtype
    assert rel_err(a.float(), b.float()) < 2e-2
