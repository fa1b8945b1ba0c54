"""What a new graph and a cached graph cost in host reads, counted with a
``TorchDispatchMode`` (the ops that read a value back to the host, which on
CUDA are device synchronizations), and that the one-read build finds the
same operator, symmetry and row/column counts as a float64 dense oracle."""
import pytest
import torch
import torch_geometric

from graphs import dense_adj, dense_laplacian_operator, random_graph, rel_err
from pyg_spectral.nn import (APPNP, ChebConv, ChebIIConv, FavardConv, GCNConv,
                             GPRConv, HornerConv, STConv)
from pyg_spectral.ops import cache_info, clear_cache, laplacian_operator
from pyg_spectral.ops.host_reads import (HOST_TENSOR_OPS, READ_OPS,
                                         CountReads)
from pyg_spectral.ops.normalize import gcn_operator

# the op lists and the counter of pyg_spectral.ops.host_reads (the same as
# benchmarks/bench_minibatch.py's host-read column)
READS, HOST_TENSORS, Ops = READ_OPS, HOST_TENSOR_OPS, CountReads


def _undirected(n, e, seed):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, e), generator=g)
    return torch.cat([ei, ei.flip(0)], 1)


LAYERS = {
    'ChebConv': lambda: ChebConv(8, 6, 3),
    'ChebConv rw': lambda: ChebConv(8, 6, 4, normalization='rw'),
    'GCNConv': lambda: GCNConv(8, 6),
    'GCNConv improved': lambda: GCNConv(8, 6, improved=True),
    'GPRConv': lambda: GPRConv(K=4),
    'ChebIIConv': lambda: ChebIIConv(K=4),
    'HornerConv': lambda: HornerConv(K=4),
    'FavardConv rho': lambda: FavardConv(8, K=4, rho=0.3),
    'APPNP': lambda: APPNP(4, 0.1),
}


@pytest.mark.parametrize('name', sorted(LAYERS))
@pytest.mark.parametrize('weighted', [False, True])
def test_new_graph_costs_one_read_and_cached_graph_none(name, weighted):
    torch.manual_seed(0)
    conv = LAYERS[name]()
    # loops, duplicates and isolated nodes included: still one read
    ei, w = random_graph(40, 120, directed=False, seed=3, weighted=weighted)
    x = torch.randn(40, 8, requires_grad=True)
    clear_cache()
    with Ops() as new:
        conv(x, ei, w).square().sum().backward()
    assert sum(new.of(READS).values()) == 1, new.of(READS)
    info = cache_info()
    memo = {id(o): set(o._memo) for o in _live_operators()}
    with Ops() as again:
        conv(x, ei, w).square().sum().backward()
    assert again.of(READS) == {}
    assert again.of(HOST_TENSORS) == {}
    assert cache_info()['misses'] == info['misses']
    assert {id(o): set(o._memo) for o in _live_operators()} == memo


def _live_operators():
    from pyg_spectral.ops.operator_data import _LIVE
    return list(_LIVE.values())


def test_layers_on_one_edge_index_share_one_read():
    torch.manual_seed(0)
    convs = [ChebConv(8, 16, 3), ChebConv(16, 16, 3), ChebConv(16, 4, 3)]
    ei = _undirected(50, 100, 1)
    x = torch.randn(50, 8)
    clear_cache()
    with Ops() as ops:
        h = x
        for c in convs:
            h = c(h, ei).relu()
        h.sum().backward()
    assert sum(ops.of(READS).values()) == 1, ops.of(READS)


def test_stconv_new_graph_one_read():
    torch.manual_seed(0)
    block = STConv(20, 4, 8, 4, kernel_size=3, K=3)
    ei = _undirected(20, 40, 2)
    x = torch.randn(2, 6, 20, 4)
    clear_cache()
    with Ops() as ops:
        block(x, ei).sum().backward()
    assert sum(ops.of(READS).values()) == 1, ops.of(READS)


@pytest.mark.parametrize('seed', range(6))
@pytest.mark.parametrize('directed', [False, True])
def test_one_read_build_matches_dense_oracle(seed, directed):
    n = 25
    ei, w = random_graph(n, 60, directed=directed, seed=seed,
                         dtype=torch.float64)
    for normalization in (None, 'sym', 'rw'):
        op = laplacian_operator(ei, w, n, normalization)
        lam = op.meta['lambda_max']
        S = dense_laplacian_operator(ei, w, n, normalization, lam)
        assert torch.allclose(op.to_dense(), S, rtol=1e-12, atol=1e-12)
        assert op._symmetric is not None  # known without a read
        assert op._symmetric == bool(torch.allclose(S, S.t(), rtol=1e-13,
                                                    atol=0.0))
    op = gcn_operator(ei, w, n)
    A = dense_adj(ei, w, n, keep_loops=True)
    assert op._symmetric == bool(torch.equal(A != 0, A.t() != 0) and
                                 torch.allclose(A, A.t(), rtol=1e-13,
                                                atol=0.0))
    # the most entries in a row / column of the stored (off-diagonal) part
    # before duplicates are summed: at least the distinct counts
    M = op.to_dense() - torch.diag(op.diag_tensor())
    assert op.max_nnz[0] >= int((M != 0).sum(1).max())
    assert op.max_nnz[1] >= int((M != 0).sum(0).max())


def test_symmetric_flag_of_a_graph_without_duplicates_is_exact():
    n = 30
    ei = _undirected(n, 80, 5)
    from torch_geometric.utils import coalesce
    ei = coalesce(ei, num_nodes=n)
    op = laplacian_operator(ei, None, n, 'sym')
    assert op._symmetric is True
    assert op.max_nnz == (int(torch.bincount(ei[1], minlength=n).max()),
                          int(torch.bincount(ei[0], minlength=n).max()))
    w = torch.rand(ei.size(1), dtype=torch.float64)  # asymmetric weights
    assert laplacian_operator(ei, w, n, 'sym')._symmetric is False
    assert laplacian_operator(ei[:, 1:], None, n, 'sym')._symmetric is False


@pytest.mark.parametrize('bad, match', [
    (lambda ei: ei.index_fill(1, torch.tensor([3]), 40),
     'node index 40, out of range for num_nodes=30'),
    (lambda ei: ei.index_fill(1, torch.tensor([3]), -2),
     'negative node index'),
])
def test_deferred_checks_still_raise_before_any_kernel(bad, match):
    ei = bad(_undirected(30, 60, 7))
    x = torch.randn(30, 8)
    for conv in (ChebConv(8, 4, 3), GCNConv(8, 4)):
        with pytest.raises(ValueError, match=match):
            conv(x, ei)


# -- a graph that states its order: EdgeIndex ------------------------------
def _edge_index_input(n, sort_order, seed=0):
    from torch_geometric import EdgeIndex
    from torch_geometric.utils import to_undirected
    g = torch.Generator().manual_seed(seed)
    ei = to_undirected(torch.randint(0, n - 2, (2, 3 * n), generator=g),
                       num_nodes=n)  # two isolated nodes
    loops = torch.tensor([[1, 1, 4], [1, 1, 4]])  # loops, one duplicated
    ei = torch.cat([ei, loops], 1)
    key = ei[0] if sort_order == 'row' else ei[1]
    ei = ei[:, torch.sort(key, stable=True)[1]]
    return EdgeIndex(ei, sparse_size=(n, n), sort_order=sort_order,
                     is_undirected=True)


EDGE_INDEX_LAYERS = {
    'ChebConv': (lambda: ChebConv(6, 4, 3),
                 lambda: torch_geometric.nn.ChebConv(6, 4, 3)),
    # lambda_max given (its default, 2 max L_ij, is a value to read)
    'ChebConv-None': (lambda: ChebConv(6, 4, 2, normalization=None),
                      lambda: torch_geometric.nn.ChebConv(
                          6, 4, 2, normalization=None),
                      dict(lambda_max=9.0)),
    'GCNConv': (lambda: GCNConv(6, 4),
                lambda: torch_geometric.nn.GCNConv(6, 4)),
    'GCNConv-no-loops': (lambda: GCNConv(6, 4, add_self_loops=False),
                         lambda: torch_geometric.nn.GCNConv(
                             6, 4, add_self_loops=False)),
}


@pytest.mark.parametrize('flow', ['source_to_target', 'target_to_source'])
@pytest.mark.parametrize('sort_order', ['row', 'col'])
@pytest.mark.parametrize('name', sorted(EDGE_INDEX_LAYERS))
def test_sorted_undirected_edge_index_costs_no_read(name, sort_order, flow):
    """An unweighted EdgeIndex that states its sort order and symmetry
    builds its operator with no host read, no sort and no symmetry test;
    outputs and gradients equal PyG's layer and our plain-tensor path
    (float64)."""
    mine, theirs, *extra = EDGE_INDEX_LAYERS[name]
    kw = extra[0] if extra else {}
    torch.manual_seed(0)
    ref = theirs().double()
    ref.flow = flow
    ours = mine().double()
    ours.flow = flow
    ours.load_state_dict(ref.state_dict())
    n = 30
    ei = _edge_index_input(n, sort_order)
    x = torch.randn(n, 6, dtype=torch.float64, requires_grad=True)
    clear_cache()
    with Ops() as ops:
        out = ours(x, ei, **kw)
        gx, = torch.autograd.grad(out.square().sum(), [x])
    assert ops.of(READS) == {}
    plain = ei.as_tensor().clone()
    for other in (ref, ours):  # PyG, and our own plain-tensor path
        want = other(x, plain, **kw)
        gw, = torch.autograd.grad(want.square().sum(), [x])
        assert rel_err(out, want) < 1e-12 and rel_err(gx, gw) < 1e-12


def test_edge_index_with_weights_or_unsorted_takes_the_one_read_path():
    from torch_geometric import EdgeIndex
    n = 30
    ei = _edge_index_input(n, 'row')
    w = torch.rand(ei.size(1), dtype=torch.float64) + 0.1
    x = torch.randn(n, 6, dtype=torch.float64)
    conv = ChebConv(6, 4, 3).double()
    plain = ei.as_tensor().clone()
    unsorted = EdgeIndex(plain.flip(1), sparse_size=(n, n))
    for graph, weight in ((ei, w), (unsorted, None)):
        clear_cache()
        with Ops() as ops:
            out = conv(x, graph, weight)
        assert sum(ops.of(READS).values()) == 1
        assert rel_err(out, conv(x, plain.clone() if weight is None
                                 else plain, weight)) < 1e-12
    with pytest.raises(ValueError, match='sparse_size'):
        conv(x[:20], ei)
