"""The lean operator build of huge graphs (row chunks, a few bytes per
entry) gives the same arrays as the one-shot build: forced on small graphs
by lowering its thresholds, compared array for array (and against the
float64 dense formulas)."""
import pytest
import torch

import pyg_spectral.ops.csr as csr
import pyg_spectral.ops.normalize as normalize
from graphs import dense_gcn_operator, dense_laplacian_operator, random_graph
from pyg_spectral.ops import SparseOperator, gcn_operator, laplacian_operator
from pyg_spectral.ops.host_reads import static_shapes

D = torch.float64


def _force_lean(m):
    """Every eager build lean, in chunks of about 7 entries (so a graph has
    many chunks, empty ones included), passes in slices of 5 entries."""
    m.setattr(csr, '_LEAN_MIN', 1)
    m.setattr(csr, '_LEAN_CHUNK', 7)
    m.setattr(csr, '_LEAN_SLICE', 5)
    m.setattr(normalize, '_SLICE', 5)


@pytest.fixture
def lean(monkeypatch):
    _force_lean(monkeypatch)


def _same(a: SparseOperator, b: SparseOperator):
    for name in ('crow', 'col', 'val'):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and torch.equal(x, y), name
    assert a._symmetric == b._symmetric
    assert a.max_nnz == b.max_nnz
    da, db = a.diag, b.diag
    assert type(da) is type(db)
    if isinstance(da, torch.Tensor):
        assert torch.equal(da, db)
    else:
        assert da == db


CASES = [dict(kind='lap', normalization='sym'),
         dict(kind='lap', normalization=None),
         dict(kind='lap', normalization='rw', flow='target_to_source'),
         dict(kind='gcn'), dict(kind='gcn', improved=True),
         dict(kind='gcn', add_self_loops=False, normalize=False)]


def _build(case, ei, w, n):
    kw = dict(case)
    fn = laplacian_operator if kw.pop('kind') == 'lap' else gcn_operator
    return fn(ei, w, n, dtype=D, **kw)


@pytest.mark.parametrize('case', CASES, ids=str)
@pytest.mark.parametrize('directed', [True, False])
@pytest.mark.parametrize('weighted', [True, False])
@pytest.mark.parametrize('seed', [0, 1])
def test_lean_build_equals_one_shot(case, directed, weighted, seed,
                                    monkeypatch):
    """Self-loops (dropped), duplicates (summed in input order), isolated
    nodes: array for array the one-shot build's, and the dense formula."""
    n = 40
    ei, w = random_graph(n, 160, directed=directed, weighted=weighted,
                         self_loops=6, duplicates=9, seed=seed, dtype=D)
    one_shot = _build(case, ei, w, n)
    with monkeypatch.context() as m:
        _force_lean(m)
        chunked = _build(case, ei, w, n)
    _same(chunked, one_shot)
    kw = dict(case)
    if kw.pop('kind') == 'lap':
        ref = dense_laplacian_operator(ei, w, n, kw.get('normalization'),
                                       None)
        if kw.get('flow') == 'target_to_source':
            ref = ref.t()
    else:
        ref = dense_gcn_operator(ei, w, n, **kw)
    assert torch.allclose(chunked.to_dense(), ref, rtol=1e-12, atol=1e-12)


def test_lean_build_edge_cases(lean):
    """Only self-loops (every entry dropped), a single row holding every
    entry (one chunk larger than the chunk size), 1 node."""
    loops = torch.arange(5).repeat(2, 1)
    op = laplacian_operator(loops, num_nodes=5)
    assert op.num_edges == 0 and op.crow.tolist() == [0] * 6
    assert op.max_nnz == (0, 0) and op._symmetric
    hub = torch.stack([torch.arange(1, 31),
                       torch.zeros(30, dtype=torch.long)])  # i -> 0
    op = laplacian_operator(hub, num_nodes=31, normalization=None)
    assert op.crow.tolist() == [0] + [30] * 31  # row 0: all 30 entries
    assert op.col.tolist() == list(range(1, 31))
    assert op.max_nnz == (30, 1) and op._symmetric is False
    op = gcn_operator(torch.zeros(2, 3, dtype=torch.long), num_nodes=1)
    assert op.num_edges == 0 and float(op.diag_tensor()[0]) == 1.0


def test_lean_build_keeps_no_slack(lean):
    """Many duplicates: the arrays are cut to the distinct entries and do
    not keep the longer buffer alive."""
    ei = torch.tensor([[0, 1, 2], [1, 2, 0]]).repeat(1, 20)
    op = laplacian_operator(ei, num_nodes=3)
    assert op.num_edges == 3
    assert op.col.untyped_storage().nbytes() == 3 * op.col.element_size()
    assert op.val.untyped_storage().nbytes() == 3 * op.val.element_size()


def test_lean_build_checks_input_first(lean):
    """Out-of-range indices raise the queued check's error (no index error
    from inside a chunk)."""
    with pytest.raises(ValueError, match='edge_index'):
        laplacian_operator(torch.tensor([[0, 9], [1, 0]]), num_nodes=3)


def test_lean_build_not_used_while_shapes_are_static(lean):
    """Under static shapes the build keeps every entry (no read at all)."""
    ei = torch.tensor([[0, 0, 1], [1, 1, 0]])
    with static_shapes():
        op = laplacian_operator(ei, num_nodes=2)
    assert op.num_edges == 3


def test_lean_build_with_grad_values_matches(lean):
    """Edge weights that require grad take the differentiable build: the
    values of the lean build, gradients that pass ``gradcheck``."""
    ei, w = random_graph(20, 60, directed=True, dtype=D)
    lean_op = laplacian_operator(ei, w, 20, 'sym', 2.0, dtype=D)
    w.requires_grad_(True)
    op = laplacian_operator(ei, w, 20, 'sym', 2.0, dtype=D)
    assert torch.equal(op.val.detach(), lean_op.val)
    assert torch.autograd.gradcheck(
        lambda w: laplacian_operator(ei, w, 20, 'sym', 2.0, dtype=D).val,
        (w, ))


@pytest.mark.parametrize('n,e', [(1, 0), (7, 3), (40, 300), (300, 40)])
def test_lean_transpose_equals_one_shot(n, e, monkeypatch):
    """The transpose of a directed operator, lean (chunks) and one-shot:
    the same arrays, and the dense transpose."""
    from pyg_spectral.ops.csr import csr_transpose
    g = torch.Generator().manual_seed(n + e)
    ei = torch.randint(0, n, (2, e), generator=g)
    op = laplacian_operator(ei, torch.rand(e, generator=g, dtype=D), n,
                            None, dtype=D)
    one_shot = csr_transpose(op.crow, op.col, op.val, n)
    with monkeypatch.context() as m:
        _force_lean(m)
        lean = csr_transpose(op.crow, op.col, op.val, n)
    for a, b in zip(lean, one_shot):
        assert a.dtype == b.dtype and torch.equal(a, b)
    t = SparseOperator(*lean, op.diag, n)
    assert torch.equal(t.to_dense(), op.to_dense().t())
