"""ChebConv / GCNConv against PyG's own layers with the same weights: outputs
and gradients within 1e-5 relative in float32, and within 1e-12 in float64."""
import copy

import pytest
import torch
import torch_geometric.nn as pygnn

from graphs import batch_of_graphs, random_graph, rel_err
from pyg_spectral.nn import ChebConv, GCNConv
from pyg_spectral.transforms import ChebOperator, GCNOperator

TOL = 1e-5
TOL64 = 1e-12


def _pair(ours_cls, pyg_cls, *args, **kwargs):
    torch.manual_seed(0)
    ref = pyg_cls(*args, **kwargs)
    ours = ours_cls(*args, **kwargs)
    with torch.no_grad():
        if ref.bias is not None:
            ref.bias.normal_()
    ours.load_state_dict(ref.state_dict())  # PyG checkpoint loads as is
    return ours, ref


def _grads(model, out, x, extra=()):
    g = torch.randn_like(out, generator=torch.Generator().manual_seed(1))
    return torch.autograd.grad(out, [x, *model.parameters(), *extra], g)


def _compare_at(ours, ref, tol, x, *args, extra=(), **kwargs):
    a = ours(x, *args, **kwargs)
    b = ref(x, *args, **kwargs)
    assert rel_err(a, b) < tol
    ga, gb = _grads(ours, a, x, extra), _grads(ref, b, x, extra)
    assert len(ga) == len(gb)
    for u, v in zip(ga, gb):
        assert rel_err(u, v) < tol


def _compare(ours, ref, x, *args, extra=(), **kwargs):
    """Float32 within 1e-5, then the same in float64 within 1e-12: the two
    agree to rounding, so a convention drift below float32's tolerance
    cannot hide."""
    _compare_at(ours, ref, TOL, x, *args, extra=extra, **kwargs)
    seen = {}

    def f64(t):
        if not (isinstance(t, torch.Tensor) and t.is_floating_point()):
            return t
        if id(t) not in seen:
            seen[id(t)] = t.detach().double().requires_grad_(t.requires_grad)
        return seen[id(t)]
    x64 = f64(x)
    args64 = [f64(t) for t in args]
    kwargs64 = {k: f64(v) for k, v in kwargs.items()}
    extra64 = [f64(t) for t in extra]
    _compare_at(copy.deepcopy(ours).double(), copy.deepcopy(ref).double(),
                TOL64, x64, *args64, extra=extra64, **kwargs64)


@pytest.mark.parametrize('normalization', [None, 'sym', 'rw'])
@pytest.mark.parametrize('K', [1, 2, 3, 6])
@pytest.mark.parametrize('C,F', [(16, 4), (4, 16)])
@pytest.mark.parametrize('directed', [True, False])
def test_chebconv_equals_pyg(normalization, K, C, F, directed):
    ours, ref = _pair(ChebConv, pygnn.ChebConv, C, F, K,
                      normalization=normalization)
    ei, w = random_graph(40, 160, directed=directed, seed=K)
    x = torch.randn(40, C, requires_grad=True)
    _compare(ours, ref, x, ei, w)
    _compare(ours, ref, x, ei)  # unweighted
    _compare(ours, ref, x, ei, w, lambda_max=3.5)


def test_chebconv_edge_weight_grad_equals_pyg():
    ours, ref = _pair(ChebConv, pygnn.ChebConv, 8, 4, 3)
    ei, w = random_graph(30, 100)
    w.requires_grad_(True)
    x = torch.randn(30, 8, requires_grad=True)
    _compare(ours, ref, x, ei, w, extra=(w, ), lambda_max=2.0)


@pytest.mark.parametrize('normalization', ['sym', 'rw', None])
def test_chebconv_batch_per_graph_lambda(normalization):
    ours, ref = _pair(ChebConv, pygnn.ChebConv, 6, 5, 4,
                      normalization=normalization)
    ei, w, batch, sizes = batch_of_graphs()
    lam = torch.tensor([1.9, 2.4, 3.1]) * (1 if normalization else 6)
    x = torch.randn(sum(sizes), 6, requires_grad=True)
    _compare(ours, ref, x, ei, w, batch=batch, lambda_max=lam)
    # batched == per graph
    full = ours(x, ei, w, batch=batch, lambda_max=lam)
    off = 0
    for i, n in enumerate(sizes):
        mask = (ei[0] >= off) & (ei[0] < off + n)
        part = ours(x[off:off + n], ei[:, mask] - off, w[mask],
                    lambda_max=float(lam[i]))
        assert rel_err(full[off:off + n], part) < TOL
        off += n


@pytest.mark.parametrize('improved', [False, True])
@pytest.mark.parametrize('add_self_loops,normalize', [(True, True),
                                                      (False, True),
                                                      (False, False)])
@pytest.mark.parametrize('C,F', [(16, 4), (4, 16)])
def test_gcnconv_equals_pyg(improved, add_self_loops, normalize, C, F):
    ours, ref = _pair(GCNConv, pygnn.GCNConv, C, F, improved=improved,
                      add_self_loops=add_self_loops, normalize=normalize)
    ei, w = random_graph(40, 160)
    x = torch.randn(40, C, requires_grad=True)
    _compare(ours, ref, x, ei, w)
    # edge_weight=None means all ones (PyG 2.8's None ignores `improved`;
    # with ones it adds 2I and keeps the weight of existing loops)
    _compare(ours, ref, x, ei, torch.ones(ei.size(1)))
    a, b = ours(x, ei), ours(x, ei, torch.ones(ei.size(1)))
    assert torch.equal(a, b)


def test_gcnconv_edge_weight_grad_equals_pyg():
    ours, ref = _pair(GCNConv, pygnn.GCNConv, 8, 4)
    ei, w = random_graph(30, 100)
    w.requires_grad_(True)
    x = torch.randn(30, 8, requires_grad=True)
    _compare(ours, ref, x, ei, w, extra=(w, ))


def test_sparse_adjacency_inputs():
    ei, w = random_graph(30, 100, self_loops=0, duplicates=0)
    # no self-loops: PyG's SparseTensor path overwrites their weights
    # (fill_diag) while its edge_index path keeps them
    ei, w = ei[:, ei[0] != ei[1]], w[ei[0] != ei[1]]
    x = torch.randn(30, 8, requires_grad=True)
    adj_t = torch.sparse_coo_tensor(ei.flip(0), w, (30, 30)).coalesce()
    ours, ref = _pair(ChebConv, pygnn.ChebConv, 8, 4, 3)
    for adj in [adj_t, adj_t.to_sparse_csr()]:
        assert rel_err(ours(x, adj), ref(x, ei, w)) < TOL
    ours, ref = _pair(GCNConv, pygnn.GCNConv, 8, 4)
    for adj in [adj_t, adj_t.to_sparse_csr()]:
        assert rel_err(ours(x, adj), ref(x, ei, w)) < TOL
    torch_sparse = pytest.importorskip('torch_sparse')
    st = torch_sparse.SparseTensor(row=ei[1], col=ei[0], value=w,
                                   sparse_sizes=(30, 30))
    assert rel_err(ours(x, st), ref(x, st)) < TOL


def test_sparse_features():
    ei, w = random_graph(30, 100)
    x = torch.randn(30, 20) * (torch.rand(30, 20) < 0.1)
    for ours, ref in [_pair(ChebConv, pygnn.ChebConv, 20, 4, 3),
                      _pair(GCNConv, pygnn.GCNConv, 20, 4)]:
        for xs in [x.to_sparse(), x.to_sparse_csr()]:
            out = ours(xs, ei, w)
            assert rel_err(out, ref(x, ei, w)) < TOL
            ga = torch.autograd.grad(out.square().sum(), ours.parameters())
            gb = torch.autograd.grad(ref(x, ei, w).square().sum(),
                                     ref.parameters())
            for a, b in zip(ga, gb):
                assert rel_err(a, b) < TOL


@pytest.mark.parametrize('lambda_max', [None, 'estimate', 3.0])
def test_transform_path_equals_on_the_fly(lambda_max):
    from torch_geometric.data import Data
    ei, w = random_graph(30, 100, directed=False)
    data = Data(x=torch.randn(30, 8), edge_index=ei, edge_weight=w)
    data = ChebOperator('sym', lambda_max)(data)
    conv = ChebConv(8, 4, 3)
    a = conv(data.x, data.cheb_op)
    b = conv(data.x, ei, w, lambda_max=data.lambda_max)
    assert torch.allclose(a, b, rtol=1e-6, atol=1e-6)
    data = GCNOperator()(data)
    gcn = GCNConv(8, 4)
    assert torch.allclose(gcn(data.x, data.gcn_op), gcn(data.x, ei, w),
                          rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match='normalization'):
        ChebConv(8, 4, 3, normalization='rw')(data.x, data.cheb_op)


def test_repr_and_state_dict_keys():
    for ours, ref in [_pair(ChebConv, pygnn.ChebConv, 8, 4, 3,
                            normalization='rw'),
                      _pair(GCNConv, pygnn.GCNConv, 8, 4)]:
        assert repr(ours) == repr(ref)
        assert list(ours.state_dict()) == list(ref.state_dict())
    # and back: a checkpoint of ours loads into PyG
    ours = ChebConv(8, 4, 3)
    pygnn.ChebConv(8, 4, 3).load_state_dict(ours.state_dict())


def test_lazy_in_channels():
    ei, w = random_graph(30, 100)
    x = torch.randn(30, 8)
    for conv in [ChebConv(-1, 4, 3), GCNConv(-1, 4)]:
        assert conv(x, ei, w).shape == (30, 4)
        weights = [v for k, v in conv.state_dict().items()
                   if k.endswith('weight')]
        assert all(v.shape == (4, 8) for v in weights)


def test_pyg_sequential_and_training_step():
    from torch_geometric.nn import Sequential
    ei, w = random_graph(40, 160, directed=False)
    model = Sequential('x, edge_index', [
        (ChebConv(8, 16, 3), 'x, edge_index -> x'),
        torch.nn.ReLU(),
        (GCNConv(16, 3), 'x, edge_index -> x'),
    ])
    x = torch.randn(40, 8)
    y = torch.randint(0, 3, (40, ))
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x, ei), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def test_torch_compile():
    ei, w = random_graph(30, 100)
    x = torch.randn(30, 8)
    for conv in [ChebConv(8, 4, 3), GCNConv(8, 4)]:
        compiled = torch.compile(conv, backend='aot_eager')
        out = compiled(x, ei, w)
        assert torch.allclose(out, conv(x, ei, w), rtol=1e-6, atol=1e-6)
        out.sum().backward()


def test_to_hetero():
    from torch_geometric.data import HeteroData
    from torch_geometric.nn import to_hetero

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = GCNConv(-1, 4, add_self_loops=False)

        def forward(self, x, edge_index):
            return self.conv(x, edge_index)

    data = HeteroData()
    data['a'].x = torch.randn(10, 5)
    data['a', 'to', 'a'].edge_index = torch.randint(0, 10, (2, 30))
    model = to_hetero(Net(), data.metadata())
    out = model(data.x_dict, data.edge_index_dict)
    assert out['a'].shape == (10, 4)
