"""Everything PyG does *through* MessagePassing works with our layers, with
PyG's own layers (same weights) as the oracle: explainers, edge masks,
hooks, decomposed_layers, aggr, static graphs, flow, submodules, the cache
attributes, annotations, batched backward. ``patch()``:
tests/test_patch.py; TorchScript: tests/test_torchscript.py; STConv's
signature: tests/test_stgcn.py."""
import inspect

import pytest
import torch
import torch_geometric.nn as pygnn
from torch_geometric.explain import (CaptumExplainer, Explainer, GNNExplainer,
                                     PGExplainer)
from torch_geometric.explain.algorithm import GraphMaskExplainer
from torch_geometric.explain.algorithm.utils import clear_masks, set_masks

import pyg_spectral
import pyg_spectral.nn as ours
from graphs import dense_laplacian_operator, random_graph, rel_err

TOL = 1e-5


def _pair(name, *args, **kwargs):
    torch.manual_seed(0)
    ref = getattr(pygnn, name)(*args, **kwargs)
    mine = getattr(ours, name)(*args, **kwargs)
    with torch.no_grad():
        if ref.bias is not None:
            ref.bias.normal_()
    mine.load_state_dict(ref.state_dict())
    return mine, ref


LAYERS = [
    ('ChebConv', (6, 4, 3), {}),
    ('ChebConv', (4, 6, 4), {'normalization': 'rw'}),
    ('ChebConv', (6, 4, 2), {'normalization': None}),
    ('GCNConv', (6, 4), {}),
    ('GCNConv', (4, 6), {'improved': True}),
    ('GCNConv', (6, 4), {'add_self_loops': False}),
]
IDS = [f'{n}-{a}-{k}' for n, a, k in LAYERS]


def _graph(directed=True):
    # self-loops and duplicate edges included (random_graph adds both)
    ei, w = random_graph(30, 90, directed=directed, seed=4)
    return ei, w


def _compare(mine, ref, x, ei, w, extra=()):
    """Outputs and gradients (x, parameters, ``extra``) within TOL."""
    a, b = mine(x, ei, w), ref(x, ei, w)
    assert a.shape == b.shape
    assert rel_err(a, b) < TOL
    g = torch.randn_like(a)
    ga = torch.autograd.grad(a, [x, *mine.parameters(), *extra], g,
                             allow_unused=True)
    gb = torch.autograd.grad(b, [x, *ref.parameters(), *extra], g,
                             allow_unused=True)
    for u, v in zip(ga, gb):
        assert rel_err(u, v) < TOL


# -- features that need per-edge messages ---------------------------------
@pytest.mark.parametrize('name,args,kwargs', LAYERS, ids=IDS)
def test_edge_mask_equals_pyg(name, args, kwargs):
    """An explainer's edge mask (set_masks) changes our output exactly as
    PyG's, and its gradient equals PyG's; a zero mask is not ignored."""
    mine, ref = _pair(name, *args, **kwargs)
    ei, w = _graph()
    x = torch.randn(30, args[0], requires_grad=True)
    mask = torch.randn(ei.size(1), requires_grad=True)
    for m in (mine, ref):
        set_masks(m, mask, ei, apply_sigmoid=True)
    _compare(mine, ref, x, ei, w, extra=(mask, ))
    zero = torch.zeros(ei.size(1))
    for m in (mine, ref):
        set_masks(m, zero, ei, apply_sigmoid=False)
    masked = mine(x, ei, w)
    assert rel_err(masked, ref(x, ei, w)) < TOL
    for m in (mine, ref):
        clear_masks(m)
    assert not torch.allclose(masked, mine(x, ei, w))  # the mask acted


@pytest.mark.parametrize('name,args,kwargs', LAYERS, ids=IDS)
def test_message_hooks_fire_as_in_pyg(name, args, kwargs):
    """Propagate/message/aggregate hooks see the same tensors as PyG's."""
    mine, ref = _pair(name, *args, **kwargs)
    ei, w = _graph()
    x = torch.randn(30, args[0], requires_grad=True)
    seen = {}
    for tag, m in (('mine', mine), ('ref', ref)):
        log = seen[tag] = []
        m.register_propagate_forward_pre_hook(
            lambda mod, inp, log=log: log.append(('pre', inp[0].clone())))
        m.register_message_forward_hook(
            lambda mod, inp, out, log=log: log.append(
                ('msg', out.detach().clone())))
        m.register_aggregate_forward_hook(
            lambda mod, inp, out, log=log: log.append(
                ('aggr', out.detach().clone())))
        m.register_propagate_forward_hook(
            lambda mod, inp, out, log=log: log.append(
                ('post', out.detach().clone())))
    _compare(mine, ref, x, ei, w)
    assert [t for t, _ in seen['mine']] == [t for t, _ in seen['ref']]
    assert len(seen['mine']) > 0
    for (ta, a), (_, b) in zip(seen['mine'], seen['ref']):
        if ta == 'pre':
            assert torch.equal(a, b)  # PyG's edge order, loops appended
        else:
            assert rel_err(a, b) < TOL


def test_hook_can_change_messages():
    mine, ref = _pair('ChebConv', 6, 4, 3)
    ei, w = _graph()
    x = torch.randn(30, 6, requires_grad=True)
    for m in (mine, ref):
        m.register_message_forward_hook(lambda mod, inp, out: 0.5 * out)
    _compare(mine, ref, x, ei, w)


@pytest.mark.parametrize('name,args,kwargs', LAYERS, ids=IDS)
def test_decomposed_layers_equals_pyg(name, args, kwargs):
    mine, ref = _pair(name, *args, decomposed_layers=2, **kwargs)
    assert mine.decomposed_layers == 2
    ei, w = _graph()
    x = torch.randn(30, args[0], requires_grad=True)
    calls = []
    mine.register_message_forward_pre_hook(lambda m, i: calls.append(1))
    _compare(mine, ref, x, ei, w)
    assert len(calls) >= 2  # messages were computed in two chunks


@pytest.mark.parametrize('aggr', ['mean', 'max'])
@pytest.mark.parametrize('name', ['ChebConv', 'GCNConv'])
def test_other_aggr_equals_pyg(name, aggr):
    args = (6, 4, 3) if name == 'ChebConv' else (6, 4)
    mine, ref = _pair(name, *args, aggr=aggr)
    ei, w = _graph()
    x = torch.randn(30, 6, requires_grad=True)
    _compare(mine, ref, x, ei, w)


def test_subclass_message_override_is_honored():
    class Mine(ours.GCNConv):
        def message(self, x_j, edge_weight):
            return 2 * super().message(x_j, edge_weight)

    class Ref(pygnn.GCNConv):
        def message(self, x_j, edge_weight):
            return 2 * super().message(x_j, edge_weight)

    torch.manual_seed(0)
    ref = Ref(6, 4)
    mine = Mine(6, 4)
    mine.load_state_dict(ref.state_dict())
    ei, w = _graph()
    x = torch.randn(30, 6, requires_grad=True)
    _compare(mine, ref, x, ei, w)


# -- explainers ------------------------------------------------------------
class _Net(torch.nn.Module):
    def __init__(self, lib, graph_level):
        super().__init__()
        self.conv1 = lib.ChebConv(8, 8, 3)
        self.conv2 = lib.GCNConv(8, 8)
        self.graph_level = graph_level

    def forward(self, x, edge_index, batch=None):
        h = self.conv2(self.conv1(x, edge_index).relu(), edge_index)
        if self.graph_level:
            h = pygnn.global_mean_pool(h, batch)
        return h


def _explain(model, make_algorithm, level, x, ei, explanation_type, **kw):
    torch.manual_seed(1)
    algorithm = make_algorithm()
    explainer = Explainer(
        model, algorithm, explanation_type=explanation_type,
        model_config=dict(mode='multiclass_classification',
                          task_level=level, return_type='raw'), **kw)
    args = {}
    if level == 'graph':
        args['batch'] = torch.zeros(x.size(0), dtype=torch.long)
    index = 2 if level == 'node' else 0
    if explanation_type == 'phenomenon':
        target = model(x, ei, **args).argmax(-1)
        for epoch in range(3):
            algorithm.train(epoch, model, x, ei, target=target, index=index,
                            **args)
        return explainer(x, ei, target=target, index=index, **args)
    return explainer(x, ei, index=index, **args)


EXPLAINERS = {
    'GNNExplainer': (lambda: GNNExplainer(epochs=20), 'model',
                     dict(edge_mask_type='object',
                          node_mask_type='attributes')),
    'CaptumExplainer': (lambda: CaptumExplainer('IntegratedGradients'),
                        'model', dict(edge_mask_type='object',
                                      node_mask_type='attributes')),
    'GraphMaskExplainer': (lambda: GraphMaskExplainer(2, epochs=5), 'model',
                           dict(edge_mask_type='object',
                                node_mask_type='attributes')),
    'PGExplainer': (lambda: PGExplainer(epochs=3), 'phenomenon',
                    dict(edge_mask_type='object')),
}


@pytest.mark.parametrize('level', ['node', 'graph'])
@pytest.mark.parametrize('name', list(EXPLAINERS))
def test_explainer_masks_equal_pyg(name, level):
    """The same model built from PyG's layers and from ours, same weights
    and seeds: the explainers' masks agree within 1e-4 (relative to the
    largest entry; they are trained by a few optimizer steps, which float
    rounding differences could move slightly)."""
    torch.manual_seed(0)
    ref = _Net(pygnn, level == 'graph').eval()
    mine = _Net(ours, level == 'graph').eval()
    mine.load_state_dict(ref.state_dict())
    ei, _ = random_graph(20, 60, directed=False, seed=3)
    x = torch.randn(20, 8)
    make, kind, kw = EXPLAINERS[name]
    a = _explain(mine, make, level, x, ei, kind, **kw)
    b = _explain(ref, make, level, x, ei, kind, **kw)
    assert a.edge_mask.shape == (ei.size(1), )
    assert float(b.edge_mask.detach().abs().max()) > 0
    assert rel_err(a.edge_mask, b.edge_mask) < 1e-4
    if b.get('node_mask') is not None:
        assert rel_err(a.node_mask, b.node_mask) < 1e-4


# -- static graphs, flow ---------------------------------------------------
@pytest.mark.parametrize('shape', [(3, 30), (2, 3, 30)])
@pytest.mark.parametrize('name,args,kwargs', LAYERS, ids=IDS)
def test_static_graph_equals_pyg(name, args, kwargs, shape):
    mine, ref = _pair(name, *args, **kwargs)
    ei, w = _graph()
    x = torch.randn(*shape, args[0], requires_grad=True)
    _compare(mine, ref, x, ei, w)
    # one sparse product for all signals == one call per signal
    full = mine(x, ei, w)
    for idx in torch.cartesian_prod(*[torch.arange(s) for s in shape[:-1]]
                                    ).view(-1, len(shape) - 1).tolist():
        assert rel_err(full[tuple(idx)], mine(x[tuple(idx)], ei, w)) < TOL


def test_node_dim_zero():
    """``node_dim=0``: ``[N, M, C]`` (PyG's own ChebConv fails on it: its
    message broadcasts ``norm`` over the wrong axis), equal to the default
    layout ``[M, N, C]``."""
    for name, args in (('ChebConv', (6, 4, 3)), ('GCNConv', (6, 4))):
        mine, _ = _pair(name, *args)
        first, _ = _pair(name, *args, node_dim=0)
        ei, w = _graph()
        x = torch.randn(30, 5, 6)
        assert rel_err(first(x, ei, w),
                       mine(x.transpose(0, 1), ei, w).transpose(0, 1)) < TOL


@pytest.mark.parametrize('name,args,kwargs', LAYERS, ids=IDS)
def test_flow_target_to_source_equals_pyg(name, args, kwargs):
    mine, ref = _pair(name, *args, flow='target_to_source', **kwargs)
    ei, w = _graph(directed=True)
    x = torch.randn(30, args[0], requires_grad=True)
    mine.propagate = None  # the fast path never calls propagate
    _compare(mine, ref, x, ei, w)


def test_flow_set_as_attribute():
    mine, ref = _pair('ChebConv', 6, 4, 3, normalization='rw')
    ei, w = _graph(directed=True)
    x = torch.randn(30, 6, requires_grad=True)
    before = mine(x, ei, w)
    mine.flow = ref.flow = 'target_to_source'
    _compare(mine, ref, x, ei, w)
    assert not torch.allclose(before, mine(x, ei, w))
    mine.flow = 'sideways'
    with pytest.raises(ValueError, match='flow'):
        mine(x, ei, w)


def test_precomputed_operator_with_flow():
    from torch_geometric.data import Data

    from pyg_spectral.transforms import ChebOperator, GCNOperator
    ei, w = _graph(directed=True)
    x = torch.randn(30, 6)
    flow = 'target_to_source'
    for make, name, args in ((ChebOperator, 'ChebConv', (6, 4, 3)),
                             (GCNOperator, 'GCNConv', (6, 4))):
        data = make(flow=flow)(Data(x=x, edge_index=ei, edge_weight=w))
        op = data[make().key]
        mine, ref = _pair(name, *args, flow=flow)
        assert rel_err(mine(x, op), ref(x, ei, w)) < TOL
        with pytest.raises(ValueError, match='flow'):
            getattr(ours, name)(*args)(x, op)  # built for the other flow


def test_flow_with_sparse_matrix_raises():
    ei, w = _graph()
    adj_t = torch.sparse_coo_tensor(ei.flip(0), w, (30, 30))
    conv = ours.GCNConv(6, 4, flow='target_to_source')
    with pytest.raises(ValueError, match='target_to_source'):
        conv(torch.randn(30, 6), adj_t)


# -- submodules ------------------------------------------------------------
@pytest.mark.parametrize('name,args,kwargs', LAYERS, ids=IDS)
def test_linear_hooks_fire_as_in_pyg(name, args, kwargs):
    mine, ref = _pair(name, *args, **kwargs)
    ei, w = _graph()
    x = torch.randn(30, args[0], requires_grad=True)
    seen = {'mine': [], 'ref': []}
    for tag, m in (('mine', mine), ('ref', ref)):
        lins = m.lins if name == 'ChebConv' else [m.lin]
        for lin in lins:
            lin.register_forward_hook(
                lambda mod, inp, out, log=seen[tag]: log.append(
                    (inp[0].detach().clone(), out.detach().clone())))
    _compare(mine, ref, x, ei, w)
    # every submodule call fires its hooks (PyG's ChebConv calls lins[k] for
    # k >= 2 as lin.forward(), which skips them: there we fire more)
    assert len(seen['mine']) == len(lins)
    assert len(seen['ref']) == (min(len(lins), 2) if name == 'ChebConv'
                                else 1)
    for (ia, oa), (ib, ob) in zip(seen['mine'], seen['ref']):
        assert rel_err(ia, ib) < TOL and rel_err(oa, ob) < TOL
    if name == 'ChebConv':  # every k, PyG's silent ones too: T_k(S) x
        S = dense_laplacian_operator(ei, w, 30, kwargs.get(
            'normalization', 'sym')).float()
        t_prev, t = None, x.detach()
        for k, (ia, oa) in enumerate(seen['mine']):
            assert rel_err(ia, t) < TOL
            assert rel_err(oa, lins[k](t).detach()) < TOL
            t_prev, t = t, (S @ t if k == 0 else 2 * S @ t - t_prev)


@pytest.mark.parametrize('name', ['ChebConv', 'GCNConv'])
def test_replaced_linear_takes_effect(name):
    args = (6, 4, 3) if name == 'ChebConv' else (6, 4)
    mine, ref = _pair(name, *args)
    torch.manual_seed(5)
    new = pygnn.Linear(6, 4, bias=True)
    for m in (mine, ref):
        if name == 'ChebConv':
            m.lins[1] = new
        else:
            m.lin = new
    ei, w = _graph()
    x = torch.randn(30, 6, requires_grad=True)
    _compare(mine, ref, x, ei, w)


def test_summary_shows_submodules_called():
    from torch_geometric.nn import summary
    torch.manual_seed(0)
    model = _Net(ours, False)
    ei, _ = random_graph(20, 60, directed=False, seed=3)
    text = summary(model, torch.randn(20, 8), ei, leaf_module=None)
    rows = [r for r in text.splitlines() if 'Linear' in r]
    assert len(rows) == 4  # conv1.lins[0..2], conv2.lin
    assert all('[20, 8]' in r for r in rows), text  # called, with shapes


# -- edge_weight=None, cache, annotations, TorchScript ---------------------
@pytest.mark.parametrize('name,args,kwargs', LAYERS + [
    ('GCNConv', (6, 4), {'improved': True, 'add_self_loops': False}),
    ('GCNConv', (6, 4), {'normalize': False, 'add_self_loops': False}),
], ids=IDS + ['GCN-improved-noloops', 'GCN-raw'])
@pytest.mark.parametrize('explain', [False, True])
def test_edge_weight_none_is_all_ones(name, args, kwargs, explain):
    mine, ref = _pair(name, *args, **kwargs)
    ei, _ = _graph()  # has self-loops and duplicates
    assert bool((ei[0] == ei[1]).any())
    x = torch.randn(30, args[0])
    ones = torch.ones(ei.size(1))
    if explain:  # the propagate path too
        set_masks(mine, torch.randn(ei.size(1)), ei)
        set_masks(ref, mine._edge_mask, ei)
    a = mine(x, ei)
    assert torch.equal(a, mine(x, ei, ones))
    assert rel_err(a, ref(x, ei, ones)) < TOL


def test_gcn_cache_attributes_as_pyg():
    mine, ref = _pair('GCNConv', 6, 4, cached=True)
    ei, w = _graph()
    x = torch.randn(30, 6)
    assert mine._cached_edge_index is None and mine._cached_adj_t is None
    mine(x, ei, w)
    ref(x, ei, w)
    (ea, wa), (eb, wb) = mine._cached_edge_index, ref._cached_edge_index
    assert torch.equal(ea, eb) and rel_err(wa, wb) < TOL
    # the cache is used: another graph gives the cached result, as in PyG
    other, _ = random_graph(30, 50, seed=9)
    assert rel_err(mine(x, other), ref(x, other)) < TOL
    # assigning None clears it, as PyG code does
    mine._cached_edge_index = ref._cached_edge_index = None
    assert rel_err(mine(x, other), ref(x, other)) < TOL
    # a cached normalized graph can be handed over
    mine._cached_edge_index = ref._cached_edge_index
    assert rel_err(mine(x, ei, w), ref(x, ei, w)) < TOL


def test_cached_layer_deepcopy_and_pickle():
    import copy
    import io
    ei, w = _graph()
    x = torch.randn(30, 6)
    conv = ours.GCNConv(6, 4, cached=True)
    out = conv(x, ei, w)
    twin = copy.deepcopy(conv)
    buf = io.BytesIO()
    torch.save(conv, buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=False)
    other, _ = random_graph(30, 50, seed=9)
    for c in (twin, loaded):  # the cache came along
        assert torch.equal(c(x, other), out)


def test_edge_index_class_input():
    from torch_geometric import EdgeIndex
    for name, args in (('ChebConv', (6, 4, 3)), ('GCNConv', (6, 4))):
        mine, ref = _pair(name, *args)
        ei, w = _graph()
        e = EdgeIndex(ei, sparse_size=(30, 30))
        x = torch.randn(30, 6)
        assert rel_err(mine(x, e, w), ref(x, e, w)) < TOL


def test_forward_annotations_as_pyg():
    from torch_geometric.typing import Adj, OptTensor
    for cls in (ours.ChebConv, ours.GCNConv):
        sig = inspect.signature(cls.forward)
        assert sig.parameters['edge_index'].annotation == Adj
        assert sig.parameters['edge_weight'].annotation == OptTensor
    with pyg_spectral.patch():  # PyG's cheatsheet looks classes up by name
        from torch_geometric.nn.conv.utils.cheatsheet import \
            supports_sparse_tensor
        assert supports_sparse_tensor('GCNConv')
        assert supports_sparse_tensor('ChebConv')


# -- batched backward: the legacy vmap of torch.autograd.functional --------
@pytest.mark.parametrize('name,args,kwargs', LAYERS, ids=IDS)
def test_vectorized_jacobian_equals_pyg(name, args, kwargs):
    """``jacobian(vectorize=True)`` (PyG's ``utils.total_influence``) and
    ``autograd.grad(is_grads_batched=True)`` batch the backward with the
    legacy vmap: the result equals PyG's layer, float64."""
    mine, ref = _pair(name, *args, **kwargs)
    mine, ref = mine.double(), ref.double()
    ei, w = _graph()
    w = w.double()
    x = torch.randn(30, args[0], dtype=torch.float64)
    ja = torch.autograd.functional.jacobian(lambda t: mine(t, ei, w), x,
                                            vectorize=True)
    jb = torch.autograd.functional.jacobian(lambda t: ref(t, ei, w), x,
                                            vectorize=True)
    assert ja.shape == jb.shape == (30, args[1], 30, args[0])
    assert rel_err(ja, jb) < 1e-12
    xr = x.clone().requires_grad_()
    a, b = mine(xr, ei, w), ref(xr, ei, w)
    v = torch.randn((5, ) + tuple(a.shape), dtype=torch.float64)
    ga = torch.autograd.grad(a, [xr, *mine.parameters()], v,
                             is_grads_batched=True, retain_graph=True)
    gb = torch.autograd.grad(b, [xr, *ref.parameters()], v,
                             is_grads_batched=True)
    for u, t in zip(ga, gb, strict=True):
        assert u.shape == t.shape and u.size(0) == 5
        assert rel_err(u, t) < 1e-12
    # torch.func: vmap of a vjp (the functorch transform)
    va = torch.func.vmap(torch.func.vjp(lambda t: mine(t, ei, w), x)[1])(v)
    vb = torch.func.vmap(torch.func.vjp(lambda t: ref(t, ei, w), x)[1])(v)
    assert va[0].shape == vb[0].shape == (5, ) + tuple(x.shape)
    assert rel_err(va[0], vb[0]) < 1e-12


def test_total_influence_equals_pyg():
    from torch_geometric.data import Data
    from torch_geometric.utils import total_influence

    class Net(torch.nn.Module):
        def __init__(self, lib):
            super().__init__()
            self.a = lib.ChebConv(4, 8, K=3)
            self.b = lib.GCNConv(8, 3)

        def forward(self, x, edge_index):
            return self.b(self.a(x, edge_index).relu(), edge_index)

    torch.manual_seed(0)
    ref, mine = Net(pygnn), Net(ours)  # float32: PyG's influence is
    # float32 only
    mine.load_state_dict(ref.state_dict())
    ei, _ = random_graph(25, 60, directed=False, seed=7, weighted=False)
    ring = torch.stack([torch.arange(25), torch.arange(1, 26) % 25])
    ei = torch.cat([ei, ring, ring.flip(0)], 1)  # PyG's influence needs
    # every node in edge_index (its k_hop_subgraph infers the node count)
    data = Data(x=torch.randn(25, 4), edge_index=ei)
    res = []
    for model in (mine, ref):
        torch.manual_seed(1)  # the same sampled seed nodes
        res.append(total_influence(model, data, max_hops=2, num_samples=8,
                                   vectorize=True))
    (ia, ra), (ib, rb) = res
    assert ia.shape == ib.shape == (3, )
    assert rel_err(ia, ib) < TOL and abs(ra - rb) < TOL * abs(rb)
