"""GPRConv, ChebIIConv, BernConv, JacobiConv against float64 dense oracles
written from each paper's reference code (its K propagations on a dense
operator), outputs and gradients; the same graph inputs as ChebConv; PyG's
MessagePassing features through the propagate path; gradcheck."""
import math

import pytest
import torch
import torch.nn.functional as F

from graphs import (batch_of_graphs, dense_gcn_operator,
                    dense_laplacian_operator, perturbed, random_graph,
                    rel_err)
from pyg_spectral.nn import BernConv, ChebIIConv, GPRConv, JacobiConv
from pyg_spectral.ops.bases import (bernstein_to_chebyshev,
                                    chebyshev_interpolation, chebyshev_nodes)
from pyg_spectral.transforms import ChebOperator, GCNOperator

D = torch.float64
C = 4


# -- the reference algorithms, dense, float64 --------------------------------

def gpr_reference(S, x, temp):  # GPR_prop.forward
    hidden = x * temp[0]
    for k in range(temp.numel() - 1):
        x = S @ x
        hidden = hidden + temp[k + 1] * x
    return hidden


def _cheby(i, x):  # ChebNetII's utils.cheby
    if i == 0:
        return 1.0
    if i == 1:
        return x
    t0, t1 = 1.0, x
    for _ in range(2, i + 1):
        t0, t1 = t1, 2 * x * t1 - t0
    return t1


def chebii_reference(S, x, temp):  # ChebnetII_prop.forward
    K = temp.numel() - 1
    coe_tmp = F.relu(temp)
    coe = []
    for i in range(K + 1):
        c = 0.0
        for j in range(K + 1):
            x_j = math.cos((K - j + 0.5) * math.pi / (K + 1))
            c = c + coe_tmp[j] * _cheby(i, x_j)
        coe.append(2 * c / (K + 1))
    tx0, out = x, coe[0] / 2 * x
    if K >= 1:
        tx1 = S @ x
        out = out + coe[1] * tx1
    for i in range(2, K + 1):
        tx0, tx1 = tx1, 2 * (S @ tx1) - tx0
        out = out + coe[i] * tx1
    return out


def bern_reference(S, x, temp):  # Bern_prop.forward, S = (L - I)^T
    K = temp.numel() - 1
    I = torch.eye(S.size(0), dtype=D)
    L, L2 = S + I, I - S  # L and 2I - L
    t = F.relu(temp)
    tmp = [x]
    for _ in range(K):
        tmp.append(L2 @ tmp[-1])
    out = math.comb(K, 0) / 2 ** K * t[0] * tmp[K]
    for i in range(K):
        h = tmp[K - i - 1]
        for _ in range(i + 1):
            h = L @ h
        out = out + math.comb(K, i + 1) / 2 ** K * t[i + 1] * h
    return out


def jacobi_reference(A, x, alphas_raw, comb, a, b, basealpha):
    """JacobiConv's PolyConvFrame + Combination (l=-1, r=1)."""
    K = comb.size(0) - 1
    alphas = [basealpha * torch.tanh(v) for v in alphas_raw]
    xs = [x]
    for L in range(1, K + 1):
        if L == 1:
            c1 = (a - b) / 2 * alphas[0]
            c2 = (a + b + 2) / 2 * alphas[0]
            xs.append(c1 * xs[-1] + c2 * (A @ xs[-1]))
            continue
        coef_l = 2 * L * (L + a + b) * (2 * L - 2 + a + b)
        c11 = (2 * L + a + b - 1) * (2 * L + a + b) * (2 * L + a + b - 2)
        c12 = (2 * L + a + b - 1) * (a ** 2 - b ** 2)
        c2 = 2 * (L - 1 + a) * (L - 1 + b) * (2 * L + a + b)
        tmp1 = alphas[L - 1] * (c11 / coef_l)
        tmp2 = alphas[L - 1] * (c12 / coef_l)
        tmp3 = alphas[L - 1] * alphas[L - 2] * (c2 / coef_l)
        xs.append(tmp1 * (A @ xs[-1]) - tmp2 * xs[-1] - tmp3 * xs[-2])
    return sum(comb[k] * xs[k] for k in range(K + 1))


def _operator(kind, ei, w, n, flow='source_to_target'):
    """PyG's conventions for flow='target_to_source': get_laplacian sums
    degrees over edge_index[0] in both flows (the operator is transposed),
    gcn_norm over the targets (the graph is reversed)."""
    t2s = flow == 'target_to_source'
    if kind == 'laplacian':
        S = dense_laplacian_operator(ei, w, n, 'sym', 2.0)
        return S.t() if t2s else S
    return dense_gcn_operator(ei.flip(0) if t2s else ei, w, n,
                              add_self_loops=kind == 'gcn')


_perturbed = perturbed


def _reference(layer, S, x):
    if isinstance(layer, GPRConv):
        return gpr_reference(S, x, layer.temp)
    if isinstance(layer, ChebIIConv):
        return chebii_reference(S, x, layer.temp)
    if isinstance(layer, BernConv):
        return bern_reference(S, x, layer.temp)
    return jacobi_reference(S, x, layer.alphas, layer.comb_weight, layer.a,
                            layer.b, layer.alpha)


LAYERS = {
    'GPRConv': lambda K: GPRConv(K, alpha=0.1),
    'ChebIIConv': lambda K: ChebIIConv(K),
    'BernConv': lambda K: BernConv(K),
    'JacobiConv': lambda K: JacobiConv(C, K, a=1.0, b=1.0, alpha=1.0),
    'JacobiConv-ab': lambda K: JacobiConv(C, K, a=0.5, b=0.5, alpha=2.0),
}


#: each paper's operator, written here (not read from the layer): GPR-GNN
#: propagates with GCN's D^-1/2 (A + I) D^-1/2; ChebNetII and BernNet filter
#: the normalized Laplacian (scaled L - I, lambda_max = 2); JacobiConv the
#: adjacency D^-1/2 A D^-1/2 without self-loops
PAPER_GRAPH = {'GPRConv': 'gcn', 'ChebIIConv': 'laplacian',
               'BernConv': 'laplacian', 'JacobiConv': 'adjacency',
               'JacobiConv-ab': 'adjacency'}


def _paper_operator(layer, *args):
    name = type(layer).__name__
    return _operator(PAPER_GRAPH[name], *args)


def _make(name, K=5, seed=0):
    return _perturbed(LAYERS[name](K).double(), seed)


# -- outputs and gradients vs the reference ----------------------------------

@pytest.mark.parametrize('K', [0, 1, 2, 10])
@pytest.mark.parametrize('name', list(LAYERS))
@pytest.mark.parametrize('directed', [False, True])
def test_equals_reference_with_gradients(name, K, directed):
    n = 30
    ei, w = random_graph(n, 90, directed=directed, dtype=D, seed=K)
    layer = _make(name, K)
    S = _paper_operator(layer, ei, w, n)
    x = torch.randn(n, C, dtype=D, requires_grad=True)
    out = layer(x, ei, w)
    ref = _reference(layer, S, x)
    assert rel_err(out, ref) < 1e-12
    g = torch.randn_like(out)
    params = list(layer.parameters())
    got = torch.autograd.grad(out, [x] + params, g, allow_unused=True)
    want = torch.autograd.grad(ref, [x] + params, g, allow_unused=True)
    for u, v, p in zip(got, want, [x] + params):
        if p.numel() == 0:  # JacobiConv's alphas at K = 0
            continue
        assert rel_err(u, v) < 1e-11


@pytest.mark.parametrize('name', list(LAYERS))
def test_float32_close_to_float64_reference(name):
    n = 40
    ei, w = random_graph(n, 150, directed=False, seed=3)
    layer = _make(name, 10)
    S = _paper_operator(layer, ei, w, n)
    x = torch.randn(n, C, dtype=D)
    ref = _reference(layer, S, x)
    out = layer.float()(x.float(), ei, w.float())
    assert rel_err(out, ref) < 1e-5


@pytest.mark.parametrize('name', list(LAYERS))
def test_gradcheck_with_edge_weights(name):
    """x, every parameter and learnable edge weights (the composed path),
    on a directed graph."""
    n = 9
    ei, w = random_graph(n, 25, directed=True, dtype=D, seed=1)
    layer = _make(name, 3)
    x = torch.randn(n, C, dtype=D, requires_grad=True)
    w = w.clone().requires_grad_()
    params = list(layer.parameters())

    def f(x, w, *ps):
        with torch.no_grad():
            for p, v in zip(params, ps):
                p.copy_(v)
        return torch.func.functional_call(
            layer, dict(zip([k for k, _ in layer.named_parameters()], ps)),
            (x, ei, w))

    ps = [p.detach().clone().requires_grad_() for p in params]
    assert torch.autograd.gradcheck(f, (x, w, *ps))


# -- the papers' parametrizations ---------------------------------------------

def test_gpr_initializations():
    K, a = 10, 0.1
    t = GPRConv(K, alpha=a).temp.detach().double()
    want = torch.tensor([a * (1 - a) ** k for k in range(K)] +
                        [(1 - a) ** K], dtype=D)
    assert rel_err(t, want) < 1e-6
    assert float(t.sum()) == pytest.approx(1.0, abs=1e-6)  # PPR sums to 1
    sgc = GPRConv(4, alpha=2, init='SGC').temp.detach()
    assert sgc.tolist() == [0, 0, 1, 0, 0]
    nppr = GPRConv(4, alpha=0.5, init='NPPR').temp.detach().double()
    assert rel_err(nppr, torch.tensor([16, 8, 4, 2, 1], dtype=D) / 31) < 1e-6
    rnd = GPRConv(6, init='Random').temp.detach()
    assert float(rnd.abs().sum()) == pytest.approx(1.0, abs=1e-6)
    ws = GPRConv(2, init='WS', gamma=[0.5, 0.25, 0.125]).temp.detach()
    assert ws.tolist() == [0.5, 0.25, 0.125]


@pytest.mark.parametrize('kwargs, match', [
    (dict(K=-1), 'K'), (dict(K=2.5), 'K'), (dict(alpha=1.5), 'alpha'),
    (dict(init='ppr'), 'init'), (dict(init='SGC', alpha=0.1), 'alpha'),
    (dict(init='WS'), 'gamma'), (dict(init='WS', K=1, gamma=[1.0]), 'gamma'),
    (dict(gamma=[1.0] * 11), 'gamma'),
])
def test_gpr_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        GPRConv(**kwargs)


def test_other_bad_arguments():
    with pytest.raises(ValueError, match='init'):
        ChebIIConv(3, init='x')
    with pytest.raises(ValueError, match=r'K must be >= 0 \(got -2\)'):
        BernConv(-2)
    with pytest.raises(ValueError, match=r'channels must be >= 1 \(got 0\)'):
        JacobiConv(0)
    with pytest.raises(ValueError, match='alpha'):
        JacobiConv(4, alpha=0.0)
    with pytest.raises(ValueError, match='a > -1'):
        JacobiConv(4, a=-1.0)
    with pytest.raises(ValueError,
                       match=r'x must have shape \[\*, num_nodes, 4\]'):
        JacobiConv(4)(torch.randn(5, 3), torch.zeros(2, 0, dtype=torch.long))


@pytest.mark.parametrize('K', [0, 1, 4, 10, 25])
def test_chebii_interpolates_the_node_values(K):
    """sum_k c_k T_k(x_j) == relu(gamma_j) at every Chebyshev node."""
    layer = _make('ChebIIConv', K)
    c = layer.coefficients().detach()
    nodes = chebyshev_nodes(K)
    T = torch.cos(torch.arange(K + 1, dtype=D)[None] *
                  torch.acos(nodes)[:, None])  # [node, k]
    assert rel_err(T @ c, F.relu(layer.temp.detach())) < 1e-12
    assert chebyshev_interpolation(K).shape == (K + 1, K + 1)


def _bernstein_exact(K):
    """Bernstein -> Chebyshev coefficients in exact rational arithmetic."""
    from fractions import Fraction
    rows = []
    for k in range(K + 1):
        a = [math.comb(k, i) for i in range(k + 1)]
        b = [math.comb(K - k, i) * (-1) ** i for i in range(K - k + 1)]
        mono = [0] * (K + 1)  # (1 + t)^k (1 - t)^(K-k)
        for i, ai in enumerate(a):
            for j, bj in enumerate(b):
                mono[i + j] += ai * bj
        cheb = [Fraction(0)] * (K + 1)
        for n, m in enumerate(mono):  # t^n = 2^-n sum_j C(n,j) T_|n-2j|
            for j in range(n + 1):
                cheb[abs(n - 2 * j)] += Fraction(
                    math.comb(K, k) * m * math.comb(n, j), 2 ** (K + n))
        rows.append([float(v) for v in cheb])
    return torch.tensor(rows, dtype=D)


@pytest.mark.parametrize('K', [0, 1, 3, 10, 40])
def test_bernstein_to_chebyshev_is_exact(K):
    B = bernstein_to_chebyshev(K)
    assert (B - _bernstein_exact(K)).abs().max() < 1e-14
    assert B.abs().max() <= 2.0


def test_initial_filters_are_the_papers():
    """ChebNetII and BernNet start all-pass (X' = X); GPR-GNN at PPR."""
    n = 25
    ei, w = random_graph(n, 70, directed=False, dtype=D)
    x = torch.randn(n, C, dtype=D)
    for layer in (ChebIIConv(10).double(), BernConv(10).double()):
        assert rel_err(layer(x, ei, w), x) < 1e-13
    S = dense_gcn_operator(ei, w, n)
    gpr = GPRConv(10, alpha=0.1).double()
    t = gpr.temp.detach()  # PPR (checked in test_gpr_initializations)
    ppr = sum(t[k] * torch.matrix_power(S, k) for k in range(11))
    assert rel_err(gpr(x, ei, w), ppr @ x) < 1e-12


# -- the graph inputs of ChebConv ---------------------------------------------

def _graph_form(form, ei, w, n, layer):
    if form == 'torch.sparse':
        return torch.sparse_coo_tensor(ei.flip(0), w, (n, n)).coalesce()
    if form == 'SparseTensor':  # optional package: skipped without it
        SparseTensor = pytest.importorskip('torch_sparse').SparseTensor
        return SparseTensor(row=ei[1], col=ei[0], value=w,
                            sparse_sizes=(n, n))
    from torch_geometric.data import Data
    data = Data(x=torch.zeros(n, 1, dtype=D), edge_index=ei, edge_weight=w)
    if layer.graph == 'laplacian':
        return ChebOperator('sym')(data).cheb_op
    return GCNOperator(add_self_loops=layer.graph == 'gcn')(data).gcn_op


@pytest.mark.parametrize('form', ['torch.sparse', 'SparseTensor',
                                  'operator'])
@pytest.mark.parametrize('name', list(LAYERS))
def test_every_graph_input_form(name, form):
    n = 20
    ei, w = random_graph(n, 60, directed=True, dtype=D, self_loops=0,
                         duplicates=0)
    layer = _make(name)
    x = torch.randn(n, C, dtype=D)
    want = layer(x, ei, w)
    got = layer(x, _graph_form(form, ei, w, n, layer))
    assert rel_err(got, want) < 1e-12


def test_wrong_precomputed_operator_raises():
    n = 10
    ei, _ = random_graph(n, 30, directed=False, weighted=False)
    from torch_geometric.data import Data
    data = Data(x=torch.zeros(n, 1), edge_index=ei)
    x = torch.randn(n, C)
    with pytest.raises(ValueError, match='lambda_max'):
        ChebIIConv(3)(x, ChebOperator('sym', lambda_max=1.5)(data).cheb_op)
    with pytest.raises(ValueError, match='kind'):
        BernConv(3)(x, GCNOperator()(data).gcn_op)
    with pytest.raises(ValueError, match='add_self_loops'):
        JacobiConv(C, 3)(x, GCNOperator()(data).gcn_op)


@pytest.mark.parametrize('name', list(LAYERS))
def test_batch_equals_per_graph_and_static_graph(name):
    ei, w, batch, sizes = batch_of_graphs(directed=True)
    w = w.double()
    layer = _make(name, 6)
    n = sum(sizes)
    x = torch.randn(n, C, dtype=D)
    out = layer(x, ei, w)
    off = 0
    for i, m in enumerate(sizes):
        keep = batch[ei[0]] == i
        got = layer(x[off:off + m], ei[:, keep] - off, w[keep])
        assert rel_err(out[off:off + m], got) < 1e-12
        off += m
    xs = torch.randn(3, 5, n, C, dtype=D)  # [*, N, C], one graph
    static = layer(xs, ei, w)
    for i in range(3):
        for j in range(5):
            assert rel_err(static[i, j], layer(xs[i, j], ei, w)) < 1e-12
    layer.node_dim = 0  # [N, M, C]
    xn = torch.randn(n, 3, C, dtype=D)
    got = layer(xn, ei, w)
    for j in range(3):
        assert rel_err(got[:, j], layer.__class__.forward(
            layer, xn[:, j], ei, w)) < 1e-12


@pytest.mark.parametrize('name', list(LAYERS))
def test_flow_target_to_source(name):
    n = 20
    ei, w = random_graph(n, 60, directed=True, dtype=D)
    layer = _make(name, 4)
    layer.flow = 'target_to_source'
    S = _paper_operator(layer, ei, w, n, layer.flow)
    x = torch.randn(n, C, dtype=D)
    assert rel_err(layer(x, ei, w), _reference(layer, S, x)) < 1e-12


# -- PyG's MessagePassing features: the propagate path -------------------------

@pytest.mark.parametrize('name', list(LAYERS))
def test_propagate_path_equals_fast_path(name):
    from torch_geometric.explain.algorithm.utils import (clear_masks,
                                                         set_masks)
    n = 20
    ei, w = random_graph(n, 60, directed=True, dtype=D)
    layer = _make(name, 4)
    x = torch.randn(n, C, dtype=D)
    fast = layer(x, ei, w)
    seen = []
    h = layer.register_message_forward_hook(
        lambda m, inp, out: seen.append(out.shape))
    assert rel_err(layer(x, ei, w), fast) < 1e-12
    assert len(seen) == layer.K
    h.remove()
    layer.decomposed_layers = 2
    assert rel_err(layer(x, ei, w), fast) < 1e-12
    layer.decomposed_layers = 1
    # an explainer's edge mask over the operator's entries (edges, then one
    # loop per node): all ones == no mask; gradients reach the mask
    e_ops = layer._entries(x, 0, ei, w).edge_list()[0].size(1)
    mask = torch.nn.Parameter(torch.ones(e_ops, dtype=D))
    set_masks(layer, mask, ei, apply_sigmoid=False)
    out = layer(x, ei, w)
    clear_masks(layer)
    assert rel_err(out, fast) < 1e-12
    (gm, ) = torch.autograd.grad(out.square().sum(), [mask])
    assert gm.abs().sum() > 0


def test_explainer_runs_on_a_decoupled_model():
    from torch_geometric.explain import Explainer, GNNExplainer
    n = 20
    ei, _ = random_graph(n, 60, directed=False, weighted=False)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(5, 3)
            self.prop = GPRConv(4)

        def forward(self, x, edge_index):
            return self.prop(self.lin(x), edge_index)

    explainer = Explainer(Net(), GNNExplainer(epochs=5),
                          explanation_type='model', edge_mask_type='object',
                          model_config=dict(mode='multiclass_classification',
                                            task_level='node',
                                            return_type='raw'))
    exp = explainer(torch.randn(n, 5), ei, index=3)
    assert exp.edge_mask.shape == (ei.size(1), )
    assert exp.edge_mask.abs().sum() > 0


def test_repr_and_state_dict_names():
    assert repr(GPRConv()) == 'GPRConv(K=10, alpha=0.1, init=PPR)'
    assert repr(ChebIIConv()) == 'ChebIIConv(K=10)'
    assert repr(BernConv(3)) == 'BernConv(K=3)'
    assert repr(JacobiConv(8)) == \
        'JacobiConv(8, K=10, a=1.0, b=1.0, alpha=1.0)'
    for layer in (GPRConv(), ChebIIConv(), BernConv()):
        assert list(layer.state_dict()) == ['temp']  # the authors' name
    assert set(JacobiConv(3).state_dict()) == {'alphas', 'comb_weight'}


# -- the timing baselines of the reproductions, against the same oracles ---
@pytest.mark.parametrize('name', list(LAYERS))
def test_reference_props_equal_the_dense_reference(name):
    """reproduce/reference_props.py (the authors' propagate-K-times filters
    the reproductions time) computes the papers' filters: equal to the
    dense float64 references above, on an undirected graph."""
    from pyg_spectral.reproduce import reference_props as rp
    n, K = 25, 6
    ei, _ = random_graph(n, 80, directed=False, weighted=False, seed=9)
    layer = _make(name, K)
    make = {'GPRConv': lambda: rp.GPRPropRef(K),
            'ChebIIConv': lambda: rp.ChebIIPropRef(K),
            'BernConv': lambda: rp.BernPropRef(K)}.get(
        type(layer).__name__,
        lambda: rp.JacobiPropRef(C, K, a=layer.a, b=layer.b,
                                 alpha=layer.alpha))
    ref = make().double()
    ref.load_state_dict(layer.state_dict(), strict=False)
    x = torch.randn(n, C, dtype=D)
    S = _paper_operator(layer, ei, None, n)
    assert rel_err(ref(x, ei), _reference(layer, S, x)) < 1e-12
