"""LocalityOrder: a permutation that renumbers the graph, node attributes
moved with it, and layers giving the same result in the caller's order."""
import pytest
import torch
from torch_geometric.data import Data

from pyg_spectral.nn import ChebConv
from pyg_spectral.ops.ordering import locality_order, permute_graph
from pyg_spectral.transforms import LocalityOrder


def _graph(n=200, e=600, seed=0):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, e), generator=g)
    return torch.cat([ei, ei.flip(0)], 1)


def _bandwidth(ei):
    return int((ei[0] - ei[1]).abs().max())


@pytest.mark.parametrize('method', ['rcm', 'bfs'])
def test_order_is_a_permutation_that_narrows_the_band(method):
    # a path graph numbered at random: both orders recover bandwidth 1
    n = 300
    g = torch.Generator().manual_seed(1)
    label = torch.randperm(n, generator=g)
    path = torch.stack([torch.arange(n - 1), torch.arange(1, n)])
    ei = label[torch.cat([path, path.flip(0)], 1)]
    perm = locality_order(ei, n, method)
    assert torch.equal(perm.sort().values, torch.arange(n))
    assert _bandwidth(ei) > 100
    assert _bandwidth(permute_graph(ei, perm)) == 1
    # a random graph (two components and isolated nodes): still a
    # permutation, and a narrower band
    ei = torch.cat([_graph(150, 300, 2), _graph(40, 60, 3) + 150], 1)
    perm = locality_order(ei, 200, method)
    assert torch.equal(perm.sort().values, torch.arange(200))
    assert _bandwidth(permute_graph(ei, perm)) < _bandwidth(ei)


def test_bfs_orders_each_component_contiguously():
    """Two paths (one BFS each), a triangle and isolated nodes (kept
    together without a search), numbered at random: every component gets
    consecutive new numbers and each path bandwidth 1."""
    def path(a, b):
        p = torch.stack([torch.arange(a, b - 1), torch.arange(a + 1, b)])
        return torch.cat([p, p.flip(0)], 1)
    tri = torch.tensor([[180, 181, 182, 181, 182, 180],
                        [181, 182, 180, 180, 181, 182]])
    ei = torch.cat([path(0, 100), path(100, 180), tri], 1)  # 183..189 alone
    n = 190
    label = torch.randperm(n, generator=torch.Generator().manual_seed(5))
    perm = locality_order(label[ei], n, 'bfs')
    assert torch.equal(perm.sort().values, torch.arange(n))
    new = torch.empty_like(perm)
    new[perm] = torch.arange(n)
    pos = new[label]  # original node -> its new number
    for lo, hi in [(0, 100), (100, 180), (180, 183)]:
        p = pos[lo:hi]
        assert int(p.max() - p.min()) == hi - lo - 1  # contiguous
    assert _bandwidth(permute_graph(label[ei], perm)[:, :2 * 178]) == 1


def test_transform_moves_node_attributes_and_layers_agree():
    torch.manual_seed(0)
    n = 200
    ei = _graph(n)
    data = Data(x=torch.randn(n, 8), edge_index=ei, y=torch.arange(n),
                edge_attr=torch.randn(ei.size(1), 3), num_nodes=n)
    out = LocalityOrder()(data.clone())
    perm = out.locality_perm
    assert torch.equal(out.x, data.x[perm])
    assert torch.equal(out.y, perm)  # y[i] = i follows its node
    # the same edges, renumbered, with their attributes
    old = {tuple(e) + tuple(a.tolist()) for e, a in
           zip(ei.t().tolist(), data.edge_attr)}
    new = {(int(perm[s]), int(perm[d])) + tuple(a.tolist()) for (s, d), a in
           zip(out.edge_index.t().tolist(), out.edge_attr)}
    assert old == new
    conv = ChebConv(8, 4, 3).double()
    ref = conv(data.x.double(), ei)
    got = conv(out.x.double(), out.edge_index)
    back = torch.empty_like(got)
    back[perm] = got  # the caller's order
    assert torch.allclose(back, ref, rtol=1e-12, atol=1e-12)


def test_bad_method_raises():
    with pytest.raises(ValueError, match="method must be one of"):
        LocalityOrder('metis')
    with pytest.raises(ValueError, match="method must be one of"):
        locality_order(_graph(), 200, 'random')


# -- the operator build's opt-in: renumbered inside, caller's order outside --
D = torch.float64


def _weighted(n=120, seed=4):
    """A directed weighted graph with a self-loop and a duplicate."""
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, 5 * n), generator=g)
    ei = torch.cat([ei, torch.tensor([[3, 7], [3, 8]]), ei[:, :1]], 1)
    return ei, torch.rand(ei.size(1), generator=g, dtype=D) + 0.1


@pytest.mark.parametrize('method', ['rcm', 'bfs'])
@pytest.mark.parametrize('build', ['laplacian', 'laplacian_none', 'gcn'])
def test_renumbered_operator_is_the_same_operator(method, build):
    """``locality=`` gives P S P^T in its arrays and S to the caller: the
    dense matrix, products (and their gradients), the transpose, a copy."""
    from pyg_spectral.ops import gcn_operator, laplacian_operator
    ei, w = _weighted()
    n = 120
    if build == 'gcn':
        make = lambda **kw: gcn_operator(ei, w, n, dtype=D, **kw)  # noqa
    else:
        norm = None if build == 'laplacian_none' else 'sym'
        make = lambda **kw: laplacian_operator(  # noqa
            ei, w, n, norm, dtype=D, **kw)
    ref, op = make(), make(locality=method)
    assert op.perm is not None and ref.perm is None
    assert torch.equal(op.perm.sort().values, torch.arange(n))
    dense = ref.to_dense()
    assert torch.allclose(op.to_dense(), dense, rtol=0, atol=1e-15)
    local = op.local().to_dense()  # the arrays' numbering: P S P^T
    assert torch.allclose(local, dense[op.perm][:, op.perm], rtol=0,
                          atol=1e-15)
    assert _bandwidth(permute_graph(ei, op.perm)) < _bandwidth(ei)
    x = torch.randn(n, 3, dtype=D, requires_grad=True)
    z = torch.randn(n, 3, dtype=D)
    y = op.matmul(x, 2.0, z, -1.0)
    assert torch.allclose(y, 2 * dense @ x - z, rtol=1e-12, atol=1e-12)
    (gx, ) = torch.autograd.grad(y.square().sum(), x)
    (rx, ) = torch.autograd.grad((2 * dense @ x - z).square().sum(), x)
    assert torch.allclose(gx, rx, rtol=1e-12, atol=1e-12)
    assert torch.allclose(op.t().to_dense(), dense.t(), rtol=0, atol=1e-15)
    assert torch.allclose(op.t().matmul(x.detach()), dense.t() @ x,
                          rtol=1e-12, atol=1e-12)
    f32 = op.to(dtype=torch.float32)
    assert torch.equal(f32.perm, op.perm)
    assert torch.allclose(f32.to_dense().double(), dense, atol=1e-6)
    assert 'renumbered' in repr(op)


@pytest.mark.parametrize('method', ['rcm', 'bfs'])
def test_layers_on_a_renumbered_operator_equal_the_plain_graph(method):
    """ChebConv / GCNConv given a renumbered operator: the outputs and every
    gradient of the plain edge_index call (float64), in the caller's
    order."""
    from pyg_spectral.nn import GCNConv
    from pyg_spectral.ops import gcn_operator, laplacian_operator
    ei, w = _weighted()
    n = 120
    for conv, op in [
            (ChebConv(4, 5, K=4), laplacian_operator(
                ei, w, n, 'sym', 2.0, dtype=D, locality=method)),
            (GCNConv(4, 5), gcn_operator(ei, w, n, dtype=D,
                                          locality=method))]:
        conv = conv.double()
        x = torch.randn(n, 4, dtype=D, requires_grad=True)
        args = (x, ei, w) if isinstance(conv, GCNConv) else \
            (x, ei, w, None, 2.0)
        ref = conv(*args)
        grads = torch.autograd.grad(ref.square().sum(),
                                    [x, *conv.parameters()])
        out = conv(x, op)
        assert torch.allclose(out, ref, rtol=1e-12, atol=1e-12)
        mine = torch.autograd.grad(out.square().sum(),
                                   [x, *conv.parameters()])
        for a, b in zip(mine, grads):
            assert torch.allclose(a, b, rtol=1e-12, atol=1e-12)


def test_renumbered_operator_keeps_per_graph_lambda_and_batch():
    """Per-graph lambda_max follows each node's graph through the
    renumbering."""
    from pyg_spectral.ops import laplacian_operator
    ei = torch.cat([_graph(30, 60, 5), _graph(20, 40, 6) + 30], 1)
    batch = torch.cat([torch.zeros(30), torch.ones(20)]).long()
    lam = torch.tensor([1.5, 2.5], dtype=D)
    ref = laplacian_operator(ei, None, 50, 'sym', lam, batch, dtype=D)
    op = laplacian_operator(ei, None, 50, 'sym', lam, batch, dtype=D,
                            locality='rcm')
    assert torch.allclose(op.to_dense(), ref.to_dense(), rtol=0,
                          atol=1e-15)


def test_locality_argument_is_checked():
    from pyg_spectral.ops import gcn_operator, laplacian_operator
    ei = _graph(10, 20)
    for fn in (laplacian_operator, gcn_operator):
        with pytest.raises(ValueError, match=r"locality must be None or "
                           r"one of \('rcm', 'bfs'\) \(got 'fast'\)"):
            fn(ei, num_nodes=10, locality='fast')


@pytest.mark.parametrize('flow', ['source_to_target', 'target_to_source'])
def test_renumbered_operator_entries_are_in_the_callers_numbering(flow):
    """The per-edge view PyG's propagate, hooks and explainers consume
    (``operator_entries``) names the caller's nodes."""
    from pyg_spectral.nn._message_passing import operator_entries
    from pyg_spectral.ops import laplacian_operator
    ei, w = _weighted()
    kw = dict(normalization=None, dtype=D, flow=flow)
    ref = laplacian_operator(ei, w, 120, **kw)
    op = laplacian_operator(ei, w, 120, locality='bfs', **kw)

    def dense(e):
        (src, dst), val = e.edge_list()
        a = torch.zeros(120, 120, dtype=D)
        rows, cols = (dst, src) if flow == 'source_to_target' else (src, dst)
        return a.index_put((rows, cols), val, accumulate=True)
    assert torch.allclose(dense(operator_entries(op, flow)),
                          dense(operator_entries(ref, flow)), rtol=0,
                          atol=1e-15)
