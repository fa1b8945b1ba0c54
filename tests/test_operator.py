"""The normalized operators against float64 dense formulas."""
import pytest
import torch

from graphs import (batch_of_graphs, dense_gcn_operator,
                    dense_laplacian_operator, random_graph, rel_err)
from pyg_spectral.ops import (cache_info, cached, clear_cache,
                              gcn_operator, laplacian_operator)

D = torch.float64


@pytest.mark.parametrize('normalization', [None, 'sym', 'rw'])
@pytest.mark.parametrize('directed', [True, False])
@pytest.mark.parametrize('weighted', [True, False])
@pytest.mark.parametrize('lambda_max', [None, 1.7, 3.0])
def test_laplacian_operator_dense(normalization, directed, weighted,
                                  lambda_max):
    ei, w = random_graph(25, 90, directed=directed, weighted=weighted,
                         dtype=D)
    op = laplacian_operator(ei, w, 25, normalization, lambda_max, dtype=D)
    ref = dense_laplacian_operator(ei, w, 25, normalization, lambda_max)
    assert rel_err(op.to_dense(), ref) < 1e-12
    x = torch.randn(25, 3, dtype=D)
    assert rel_err(op.matmul(x), ref @ x) < 1e-12
    assert rel_err(op.t().matmul(x), ref.t() @ x) < 1e-12
    z = torch.randn(25, 3, dtype=D)
    assert rel_err(op.matmul(x, alpha=2.0, z=z, beta=-1.0),
                   2 * ref @ x - z) < 1e-12


def test_laplacian_per_graph_lambda():
    ei, w, batch, sizes = batch_of_graphs()
    lam = torch.tensor([1.5, 2.0, 2.5], dtype=D)
    op = laplacian_operator(ei, w.double(), sum(sizes), 'sym', lam, batch)
    ref = dense_laplacian_operator(ei, w, sum(sizes), 'sym', lam, batch)
    assert rel_err(op.to_dense(), ref) < 1e-12


@pytest.mark.parametrize('improved', [False, True])
@pytest.mark.parametrize('add_self_loops,normalize', [(True, True),
                                                      (False, True),
                                                      (False, False)])
@pytest.mark.parametrize('weighted', [True, False])
def test_gcn_operator_dense(improved, add_self_loops, normalize, weighted):
    ei, w = random_graph(25, 90, weighted=weighted, dtype=D)
    op = gcn_operator(ei, w, 25, improved, add_self_loops, normalize,
                      dtype=D)
    ref = dense_gcn_operator(ei, w, 25, improved, add_self_loops, normalize)
    assert rel_err(op.to_dense(), ref) < 1e-12
    x = torch.randn(25, 4, dtype=D)
    assert rel_err(op.t().matmul(x), ref.t() @ x) < 1e-12


def test_isolated_nodes_and_empty_graph_are_finite():
    ei = torch.empty(2, 0, dtype=torch.long)
    x = torch.randn(5, 3)
    # sym / rw: L = I (PyG puts 1 on every diagonal), lambda_max = 2 -> 0
    for norm in ['sym', 'rw']:
        assert torch.equal(laplacian_operator(ei, None, 5, norm).matmul(x),
                           torch.zeros_like(x))
    # None: L = D - A = 0, so the scaled Laplacian is -I for any lambda_max
    # (PyG divides 0 by lambda_max = 0 here and returns NaN)
    assert torch.equal(laplacian_operator(ei, None, 5, None).matmul(x), -x)
    op = gcn_operator(ei, None, 5)
    assert torch.equal(op.matmul(x), x)


def test_symmetry_detection():
    ei, w = random_graph(20, 60, directed=False, dtype=D)
    assert laplacian_operator(ei, w, 20, 'sym').is_symmetric
    assert not laplacian_operator(ei, w, 20, 'rw').is_symmetric
    ei, w = random_graph(20, 60, directed=True, dtype=D)
    assert not laplacian_operator(ei, w, 20, 'sym').is_symmetric


def test_cache_keyed_to_tensors():
    clear_cache()
    ei, w = random_graph(20, 60)
    build = lambda: laplacian_operator(ei, w, 20, 'sym')
    a = cached(build, (ei, w), ('k', ))
    b = cached(build, (ei, w), ('k', ))
    assert a is b and cache_info()['hits'] == 1
    # a different static key misses
    assert cached(build, (ei, w), ('other', )) is not a
    # an in-place change bumps the version and misses
    w.mul_(2.0)
    c = cached(lambda: laplacian_operator(ei, w, 20, 'sym'), (ei, w), ('k', ))
    assert c is not a
    ref = dense_laplacian_operator(ei, w, 20, 'sym')
    assert rel_err(c.to_dense(), ref) < 1e-6
    # an equal but distinct tensor misses too
    d = cached(build, (ei.clone(), w), ('k', ))
    assert d is not c
    # entries die with their tensors
    n_before = cache_info()['size']
    del d
    ei2 = ei.clone()
    cached(build, (ei2, w), ('k', ))
    assert cache_info()['size'] == n_before + 1
    del ei2
    import gc
    gc.collect()
    assert cache_info()['size'] == n_before


def test_operator_inputs_sparse_forms():
    torch_sparse = pytest.importorskip('torch_sparse')
    ei, w = random_graph(20, 60, dtype=D)
    ref = laplacian_operator(ei, w, 20, 'sym').to_dense()
    adj_t = torch_sparse.SparseTensor(row=ei[1], col=ei[0], value=w,
                                      sparse_sizes=(20, 20))
    assert rel_err(laplacian_operator(adj_t, None, 20, 'sym').to_dense(),
                   ref) < 1e-12


def test_operator_torch_sparse_input():
    ei, w = random_graph(20, 60, dtype=D, self_loops=0, duplicates=0)
    ref = laplacian_operator(ei, w, 20, 'rw').to_dense()
    adj_t = torch.sparse_coo_tensor(ei.flip(0), w, (20, 20))
    for a in [adj_t, adj_t.to_sparse_csr()]:
        assert rel_err(laplacian_operator(a, None, 20, 'rw').to_dense(),
                       ref) < 1e-12


def test_reference_backend_matches_torch_backend():
    from pyg_spectral.ops import use_backend
    ei, w = random_graph(40, 160, dtype=D)
    op = laplacian_operator(ei, w, 40, None, 7.0)
    x = torch.randn(40, 5, dtype=D)
    z = torch.randn(40, 5, dtype=D)
    a = op.matmul(x, 2.0, z, -1.0)
    with use_backend('reference'):
        b = op.matmul(x, 2.0, z, -1.0)
    assert rel_err(a, b) < 1e-12


def test_out_buffer_contents_are_ignored():
    """The torch kernel writes into `out` with beta=0: stale NaNs must not
    leak into the result."""
    from pyg_spectral.ops.backends import kernel
    ei, w = random_graph(25, 90, dtype=D)
    op = laplacian_operator(ei, w, 25, 'sym', dtype=D)
    x = torch.randn(25, 3, dtype=D)
    out = torch.full((25, 3), float('nan'), dtype=D)
    kernel(op, x, out=out)
    ref = dense_laplacian_operator(ei, w, 25, 'sym')
    assert rel_err(out, ref @ x) < 1e-12


@pytest.mark.parametrize('n,e', [(1, 0), (7, 0), (30, 200), (300, 40)])
def test_csr_transpose_equals_sorting_the_swapped_coo(n, e):
    """The stable-sort transpose == coo_to_csr of the swapped entries
    (fast == exact), for empty, sparse, dense-ish and duplicate-heavy
    directed graphs; and the transpose of the transpose is the operator."""
    from pyg_spectral.ops.csr import coo_to_csr, csr_transpose
    g = torch.Generator().manual_seed(n + e)
    dst, src = torch.randint(0, n, (2, e), generator=g)
    val = torch.randn(e, dtype=D, generator=g)
    crow, col, v = coo_to_csr(dst, src, val, n)
    rows = torch.repeat_interleave(torch.arange(n),
                                   (crow[1:] - crow[:-1]).long())
    got = csr_transpose(crow, col, v, n)
    ref = coo_to_csr(col.long(), rows, v, n)
    for a, b in zip(got, ref):
        assert a.dtype == b.dtype and torch.equal(a, b)
    ei = torch.stack([src, dst])
    op = laplacian_operator(ei, val.abs(), n, None, 3.0, dtype=D)
    assert rel_err(op.t().to_dense(), op.to_dense().t()) < 1e-15 \
        or op.num_edges == 0
    assert op.t().t() is op


def test_to_is_identity_when_nothing_changes():
    """A precomputed operator handed to a layer keeps its cached transpose:
    ``to`` returns it unchanged unless dtype or device differ."""
    ei, w = random_graph(12, 40, directed=True, dtype=torch.float32)
    op = laplacian_operator(ei, w, 12)
    t = op.t()
    assert op.to(dtype=torch.float32) is op and op.to('cpu') is op
    assert op.t() is t
    op64 = op.to(dtype=D)
    assert op64 is not op and op64.dtype == D
    assert rel_err(op64.to_dense(), op.to_dense().double()) < 1e-7
