"""torch.compile(fullgraph=True) (aot_eager and inductor, static and
dynamic shapes), torch.export and torch.func for every layer, each against
eager; the custom ops pass torch.library.opcheck; a cached training step
reads nothing back to the host."""
import pytest
import torch
from torch.func import functional_call, grad, jacrev, vmap

from graphs import random_graph, rel_err
from pyg_spectral.nn import (APPNP, STGCN, AdaConv, BernConv, ChebConv,
                             ChebIIConv, FavardConv, GCNConv, GPRConv,
                             HornerConv, JacobiConv, LegendreConv, SGConv,
                             ShiftConv, SpatialGraphConv, SpectralConv,
                             STConv, TemporalConv)

N = 12
TOL = 1e-9  # float64: compiled and eager differ by rounding only

LAYERS = {
    'ChebConv': (lambda: ChebConv(4, 3, 3), (N, 4)),
    'GCNConv': (lambda: GCNConv(4, 3), (N, 4)),
    'SpectralConv-chebyshev': (lambda: SpectralConv(4, 3, 5, K=6), (N, 4)),
    'SpectralConv-exact': (lambda: SpectralConv(4, 3, 5, mode='exact'),
                           (N, 4)),
    'TemporalConv': (lambda: TemporalConv(4, 3), (2, 5, N, 4)),
    'SpatialGraphConv': (lambda: SpatialGraphConv(4, 3), (2, 5, N, 4)),
    'STConv': (lambda: STConv(N, 4, 6, 3), (2, 7, N, 4)),
    'STGCN': (lambda: STGCN(N, 12, [(4, 8, 6)], 3, 3), (2, 12, N, 4)),
    'GPRConv': (lambda: GPRConv(3), (N, 4)),
    'ChebIIConv': (lambda: ChebIIConv(3), (N, 4)),
    'BernConv': (lambda: BernConv(3), (N, 4)),
    'JacobiConv': (lambda: JacobiConv(4, 3), (N, 4)),
    'HornerConv': (lambda: HornerConv(3), (N, 4)),
    'FavardConv': (lambda: FavardConv(4, 3), (N, 4)),
    'AdaConv': (lambda: AdaConv(4, 3), (N, 4)),
    'LegendreConv': (lambda: LegendreConv(3, channels=4, rho=0.3), (N, 4)),
    'ShiftConv': (lambda: ShiftConv('high', learn_eps=True), (N, 4)),
    'SGConv': (lambda: SGConv(4, 3, K=2), (N, 4)),
    'APPNP': (lambda: APPNP(3, 0.1), (N, 4)),
}


@pytest.fixture(autouse=True)
def fresh_dynamo():
    """Each test compiles afresh (the layers share their forward wrapper's
    code object, and Dynamo limits recompilations per code object)."""
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def _setup(name, n=N, seed=0):
    torch.manual_seed(seed)
    make, shape = LAYERS[name]
    layer = make().double()
    shape = tuple(n if s == N else s for s in shape)
    x = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    ei, w = random_graph(n, 3 * n, directed=False, seed=seed,
                         dtype=torch.float64)
    graph = () if name == 'TemporalConv' else (ei, w)
    return layer, x, graph


def _step(layer, x, graph):
    out = layer(x, *graph)
    g = torch.autograd.grad(out.square().sum(), [x, *layer.parameters()])
    return out, g


def _equal(a, b, tol=TOL):
    out_a, g_a = a
    out_b, g_b = b
    assert rel_err(out_a, out_b) < tol
    for u, v in zip(g_a, g_b):
        assert rel_err(u, v) < tol


@pytest.mark.parametrize('dynamic', [False, True])
@pytest.mark.parametrize('name', list(LAYERS))
def test_compile_fullgraph_equals_eager(name, dynamic):
    layer, x, graph = _setup(name)
    compiled = torch.compile(layer, fullgraph=True, backend='aot_eager',
                             dynamic=dynamic)
    _equal(_step(compiled, x, graph), _step(layer, x, graph))
    if dynamic:  # another graph (and size) through the same compiled layer
        n = N if name in ('STConv', 'STGCN') else N + 5  # N fixed there
        _, x2, graph2 = _setup(name, n=n, seed=1)
        _equal(_step(compiled, x2, graph2), _step(layer, x2, graph2))


@pytest.mark.parametrize('name', list(LAYERS))
def test_compile_inductor_cpu_equals_eager(name):
    layer, x, graph = _setup(name)
    compiled = torch.compile(layer, fullgraph=True, backend='inductor')
    _equal(_step(compiled, x, graph), _step(layer, x, graph))


@pytest.mark.parametrize('name', list(LAYERS))
def test_export_equals_eager(name):
    layer, x, graph = _setup(name)
    x = x.detach()
    program = torch.export.export(layer, (x, *graph))
    assert rel_err(program.module()(x, *graph), layer(x, *graph)) < TOL
    # the graph holds our custom ops, not a Python fallback
    if name not in ('TemporalConv', 'SpectralConv-exact'):
        targets = {str(n.target) for n in program.graph.nodes}
        assert any('pyg_spectral' in t for t in targets), targets


@pytest.mark.parametrize('name', list(LAYERS))
def test_torch_func_equals_autograd(name):
    layer, x, graph = _setup(name)
    x = x.detach()
    params = {k: v.detach() for k, v in layer.named_parameters()}

    def loss(p, xx):
        return functional_call(layer, p, (xx, *graph)).square().sum()

    gp, gx = grad(loss, argnums=(0, 1))(params, x)
    xr = x.clone().requires_grad_()
    ref = torch.autograd.grad(layer(xr, *graph).square().sum(),
                              [xr, *layer.parameters()])
    assert rel_err(gx, ref[0]) < TOL
    for (k, _), r in zip(layer.named_parameters(), ref[1:]):
        assert rel_err(gp[k], r) < TOL
    # vmap over a batch of signals == a loop
    xb = torch.randn((3, ) + tuple(x.shape), dtype=x.dtype)
    batched = vmap(lambda xx: layer(xx, *graph))(xb)
    looped = torch.stack([layer(xx, *graph) for xx in xb])
    assert rel_err(batched, looped) < TOL
    # jacrev == autograd's Jacobian (of a small slice of the output)
    def f(xx):
        return layer(xx, *graph).reshape(-1)[:6]
    jac = jacrev(f)(x)
    ref_jac = torch.autograd.functional.jacobian(f, x)
    assert rel_err(jac, ref_jac) < TOL


def test_export_whole_stgcn_with_paper_blocks():
    from pyg_spectral.nn import PAPER_BLOCKS
    torch.manual_seed(0)
    model = STGCN(N, 12, PAPER_BLOCKS, 3, 3).double().eval()
    x = torch.randn(2, 12, N, 1, dtype=torch.float64)
    ei, w = random_graph(N, 3 * N, directed=False, dtype=torch.float64)
    program = torch.export.export(model, (x, ei, w))
    assert rel_err(program.module()(x, ei, w), model(x, ei, w)) < TOL


def test_pyg_gcn_model_compiles_without_graph_breaks():
    import pyg_spectral
    with pyg_spectral.patch():
        from torch_geometric.nn.models import GCN
        model = GCN(4, 8, 2, 3)
    ei, w = random_graph(N, 3 * N, directed=False)
    x = torch.randn(N, 4)
    explanation = torch._dynamo.explain(model)(x, ei, w)
    assert explanation.graph_break_count == 0, explanation.break_reasons


def test_custom_ops_pass_opcheck():
    from pyg_spectral.ops import laplacian_operator
    from pyg_spectral.ops.bases import recurrence
    from pyg_spectral.ops.custom_ops import (poly_filter_backward_op,
                                          poly_filter_op, spmm_op)
    from pyg_spectral.ops.traced_operator import graph_operator_op
    ei, w = random_graph(10, 30, directed=True, dtype=torch.float64)
    op = laplacian_operator(ei, w, 10, 'rw', dtype=torch.float64)
    arrays, arrays_t = op.arrays(), op.t().arrays()[:3]
    x = torch.randn(10, 3, dtype=torch.float64, requires_grad=True)
    z = torch.randn(10, 3, dtype=torch.float64)
    weight = torch.randn(3, 3, 2, dtype=torch.float64, requires_grad=True)
    torch.library.opcheck(spmm_op, (x, z, *arrays, *arrays_t, 2.0, -1.0))
    jacobi = recurrence('jacobi', 3, 0.5, -0.3).flat()
    g = torch.randn(10, 2, dtype=torch.float64)
    for order in ('project_first', 'project_last'):
        for rec in ([], jacobi):  # Chebyshev, a basis with beta != 0
            torch.library.opcheck(poly_filter_op,
                                  (x, weight, *arrays, *arrays_t, order,
                                   rec))
            torch.library.opcheck(poly_filter_backward_op,
                                  (g, x.detach(), weight.detach(), *arrays,
                                   *arrays_t, order, rec, True, True))
    # wide input: the weight gradient comes from one [C, K*F] product
    xw = torch.randn(10, 40, dtype=torch.float64)
    ww = torch.randn(3, 40, 2, dtype=torch.float64)
    torch.library.opcheck(poly_filter_backward_op,
                          (g, xw, ww, *arrays, *arrays_t, 'project_first',
                           [], True, True))
    torch.library.opcheck(graph_operator_op,
                          (ei, w, None, None, 2.0, x.new_empty(0), 10,
                           repr({'kind': 'laplacian', 'normalization': 'rw',
                                 'flow': 'source_to_target'}), True))


@pytest.mark.parametrize('name', ['ChebConv', 'GCNConv', 'STConv'])
def test_cached_training_step_reads_nothing_back(name):
    """Once the operator is cached, forward and backward make no
    data-dependent host read (``.item()``, ``bool(tensor)``: the device
    synchronizations of a CUDA step): counted at the dispatcher."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Count(TorchDispatchMode):
        reads = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func is torch.ops.aten._local_scalar_dense.default:
                Count.reads += 1
            return func(*args, **(kwargs or {}))

    layer, x, graph = _setup(name)
    _step(layer, x, graph)  # builds and caches the operator
    with Count():
        _step(layer, x, graph)
    assert Count.reads == 0
