"""The spectral zoo against closed forms: every filter of
``pyg_spectral.nn.FILTERS`` equals V h(Lambda) V^-1 X from a float64
eigendecomposition of its paper's operator, with h written here from the
paper's formula (never the layer's ``response``), and ``response`` equals
the same h; gradcheck; the registry builds what the class builds; the PyG
drop-ins (SGConv, SSGConv, APPNP) equal PyG's layers."""
import math

import numpy as np
import pytest
import torch
import torch_geometric.nn as pygnn

from graphs import (dense_gcn_operator, dense_laplacian_operator,
                    perturbed, random_graph, rel_err)
from pyg_spectral.nn import (FILTERS, APPNP, AdaConv,  # noqa: F401 (by name)
                             FavardConv, FilterBank, FixedConv, HornerConv,
                             LegendreConv, SGConv, ShiftConv, SSGConv,
                             build_filter)
from pyg_spectral.ops import gcn_operator
from pyg_spectral.ops.schemes import SCHEMES, scheme_coefficients

D = torch.float64
C = 3
N = 16


# -- each paper's formula h(t), t an eigenvalue of the layer's operator ------
def cheb_T(k, t):
    """T_k(t) = ((t + s)^k + (t - s)^k) / 2, s = sqrt(t^2 - 1)."""
    s = np.sqrt(t * t - 1 + 0j)
    return ((t + s) ** k + (t - s) ** k) / 2


def jacobi_P(k, a, b, t):
    """Jacobi P_k^(a,b)(t) = sum_s C(k+a, k-s) C(k+b, s) ((t-1)/2)^s
    ((t+1)/2)^(k-s)."""
    return sum(_gbinom(k + a, k - s) * _gbinom(k + b, s) *
               ((t - 1) / 2) ** s * ((t + 1) / 2) ** (k - s)
               for s in range(k + 1))


def _gbinom(x, k):
    return math.gamma(x + 1) / (math.gamma(k + 1) * math.gamma(x - k + 1))


def _p(t):  # a parameter as float64 numpy
    return t.detach().double().numpy()


def h_gpr(m, t):
    g = _p(m.temp)
    return sum(g[k] * t ** k for k in range(m.K + 1))


def h_bern(m, t):  # BernNet, t + 1 = lambda of L
    th, K, lam = np.maximum(_p(m.temp), 0), m.K, t + 1
    return sum(th[k] * math.comb(K, k) / 2 ** K * lam ** k *
               (2 - lam) ** (K - k) for k in range(K + 1))


def h_chebii(m, t):  # ChebNetII: interpolation of relu(gamma) at nodes
    K, g = m.K, np.maximum(_p(m.temp), 0)
    x = np.cos((K - np.arange(K + 1) + 0.5) * np.pi / (K + 1))
    out = 0
    for k in range(K + 1):
        c = 2 / (K + 1) * sum(g[j] * np.cos(k * np.arccos(x[j]))
                              for j in range(K + 1))
        out = out + (c / 2 if k == 0 else c) * cheb_T(k, t)
    return out


def h_chebbase(m, t):
    th = _p(m.theta)
    return sum(th[k] / max(k, 1) ** m.alpha * cheb_T(k, t)
               for k in range(m.K + 1))


def h_jacobi(m, t):  # per channel
    eta, w = _p(m.alphas), _p(m.comb_weight)
    out = 0
    for k in range(m.K + 1):
        scale = np.prod([m.alpha * np.tanh(eta[i]) for i in range(k)])
        out = out + np.multiply.outer(jacobi_P(k, m.a, m.b, t),
                                      w[k] * scale)
    return out


def h_legendre(m, t):
    w = _p(m.temp)
    return sum(w[k] * jacobi_P(k, 0, 0, t) for k in range(m.K + 1))


def _gates(m):
    a = np.array([0.5 if m.alpha is None else
                  min(math.log(m.alpha / (k + 1) + 1), 1.0)
                  for k in range(m.K + 1)])
    return a + (1 - a) * _p(m.theta)


def h_horner(m, t):
    """sum_k beta_k (prod_{j >= k} g_j) t^(K-k): Horner's form expanded."""
    g, beta, K = _gates(m), _p(m.beta), m.K
    return sum(beta[k] * np.prod(g[k:]) * t ** (K - k) for k in range(K + 1))


def h_clenshaw(m, t):
    g, beta = _gates(m), _p(m.beta)
    u2, u1 = 0 * t, g[0] * beta[0] + 0 * t
    for k in range(1, m.K + 1):
        u2, u1 = u1, g[k] * (2 * t * u1 - u2 + beta[k])
    return u1


def h_favard(m, t):  # per channel
    gam, w = _p(m.gammas), _p(m.comb_weight)
    sb = np.maximum(_p(m.sqrt_betas), 0.01)
    t = t[:, None]
    prev, p = 0 * t, 1 / sb[0] + 0 * t
    out = w[0] * p
    for k in range(m.K):
        prev, p = p, ((t - gam[k]) * p - sb[k] * prev) / sb[k + 1]
        out = out + w[k + 1] * p
    return out


def h_ada(m, t):  # per channel, prod_k (1 - phi_k lambda), lambda = t + 1
    phi, lam = _p(m.phi), (t + 1)[:, None]
    out = 1 + 0 * lam * phi[0]
    for k in range(m.K):
        out = out * (1 - phi[k] * lam)
    return out


def h_fixed(m, t):  # scheme 'appr', param 0.3 (see SPECS)
    return sum(0.3 * 0.7 ** k * t ** k for k in range(m.K + 1))


def h_hk(m, t):  # t0 = 2.0 (see SPECS)
    return sum(math.exp(-2.0) * 2.0 ** k / math.factorial(k) * t ** k
               for k in range(m.K + 1))


def h_ppr(m, t):  # alpha = 0.2
    return sum(0.2 * 0.8 ** k * t ** k for k in range(m.K + 1))


def h_shift(m, t):  # FAGCN's high-pass eps I - A
    return float(m.eps) - t


def h_sgc(m, t):
    return t ** m.K


def h_s2gc(m, t):
    a = m.alpha
    return a + (1 - a) / m.K * sum(t ** k for k in range(1, m.K + 1))


def h_appnp(m, t):
    a, K = m.alpha, m.K
    return sum(a * (1 - a) ** k * t ** k for k in range(K)) + \
        (1 - a) ** K * t ** K


#: name -> (constructor kwargs, the paper's operator, h, per channel)
SPECS = {
    'gprgnn': (dict(K=6, alpha=0.2), 'gcn', h_gpr, False),
    'bernnet': (dict(K=6), 'laplacian', h_bern, False),
    'chebnetii': (dict(K=6), 'laplacian', h_chebii, False),
    'chebbase': (dict(K=6, alpha=1.5), 'laplacian', h_chebbase, False),
    'jacobiconv': (dict(channels=C, K=5, a=1.0, b=1.0, alpha=1.0),
                   'adjacency', h_jacobi, True),
    'legendrenet': (dict(K=6), 'adjacency', h_legendre, False),
    'hornergcn': (dict(K=6, alpha=0.8), 'gcn', h_horner, False),
    'clenshawgcn': (dict(K=6), 'gcn', h_clenshaw, False),
    'favardgnn': (dict(channels=C, K=5), 'gcn', h_favard, True),
    'adagnn': (dict(channels=C, K=4), 'laplacian', h_ada, True),
    'optbasisgnn': (dict(channels=C, K=4), 'gcn', None, True),
    'fixed': (dict(K=6, scheme='appr', param=0.3), 'gcn', h_fixed, False),
    'heat_kernel': (dict(K=8, t=2.0), 'gcn', h_hk, False),
    'ppr': (dict(K=6, alpha=0.2), 'gcn', h_ppr, False),
    'fagcn': (dict(kind='high', eps=0.4, learn_eps=True), 'adjacency',
              h_shift, False),
    'sgc': (dict(in_channels=C, out_channels=2, K=3), 'gcn', h_sgc, False),
    's2gc': (dict(in_channels=C, out_channels=2, alpha=0.15, K=4), 'gcn',
             h_s2gc, False),
    'appnp': (dict(K=5, alpha=0.2), 'gcn', h_appnp, False),
}


def test_every_registered_filter_has_a_closed_form_here():
    assert set(SPECS) == set(FILTERS)


_perturbed = perturbed


def _layer(name, seed=0, **over):
    kwargs, _, _, _ = SPECS[name]
    torch.manual_seed(seed)
    return _perturbed(FILTERS[name](**{**kwargs, **over}).double(), seed)


def dense_operator(kind, ei, w, n, rho=0.5):
    """y = S x of each paper's operator (graphs.py's dense oracles): GCN's
    D^-rho (A + I) D^(rho-1), the adjacency without added loops, and the
    scaled Laplacian L - I."""
    if kind == 'laplacian':
        return dense_laplacian_operator(ei, w, n, 'sym', 2.0)
    return dense_gcn_operator(ei, w, n, add_self_loops=kind == 'gcn',
                              rho=rho)


def spectral_oracle(S, x, h, per_channel):
    """V diag(h(lambda)) V^-1 x (per channel: column c by h(lambda)[:, c])."""
    lam, V = np.linalg.eig(S.numpy())
    Vi = np.linalg.inv(V)
    hv = np.asarray(h(lam))
    xs = Vi @ x.detach().numpy().astype(complex)  # [N, C] in the eigenbasis
    out = V @ ((hv if per_channel else hv[:, None]) * xs)
    assert np.abs(out.imag).max() < 1e-8 * max(1, np.abs(out.real).max())
    return torch.from_numpy(out.real)


def _graph(directed, seed=0, n=N):
    ei, w = random_graph(n, 3 * n, directed=directed, isolated=2, seed=seed,
                         dtype=D)
    if directed:  # a directed cycle through the connected nodes
        ring = torch.arange(n - 2)
        ei = torch.cat([ei, torch.stack([ring, (ring + 1) % (n - 2)])], 1)
        w = torch.cat([w, torch.rand(n - 2, dtype=D) + 0.5])
    return ei, w


def _apply(layer, name, y):
    """The drop-ins end with their Linear."""
    return layer.lin(y) if name in ('sgc', 's2gc') else y


@pytest.mark.parametrize('directed', [False, True])
@pytest.mark.parametrize('name', sorted(SPECS))
def test_output_equals_spectral_closed_form(name, directed):
    _, kind, h, per_channel = SPECS[name]
    if directed and kind == 'laplacian':
        pytest.skip("PyG's Laplacian of a directed graph has complex "
                    "spectra; covered undirected")
    layer = _layer(name)
    ei, w = _graph(directed)
    x = torch.randn(N, C, dtype=D)
    S = dense_operator(kind, ei, w, N)
    if h is None:  # OptBasisGNN: the signal's own basis
        want = krylov_oracle(S, x, layer.alpha.detach())
    else:
        want = _apply(layer, name, spectral_oracle(
            S, x, lambda t: h(layer, t), per_channel))
    got = layer(x, ei, w)
    tol = 1e-9 if directed else 1e-11
    assert rel_err(got, want) < tol


def krylov_oracle(S, x, alpha):
    """OptBasisGNN per channel: Q of the QR of the Krylov matrix [x, Sx,
    ..., S^K x] (positive diagonal of R: Gram-Schmidt's orthonormal basis,
    which Lanczos' recurrence builds), combined by alpha[:, c]."""
    K = alpha.size(0) - 1
    cols = []
    for c in range(x.size(1)):
        kry = [x[:, c]]
        for _ in range(K):
            kry.append(S @ kry[-1])
        Q, R = torch.linalg.qr(torch.stack(kry, 1))
        Q = Q * torch.sign(torch.diagonal(R))
        cols.append(Q @ alpha[:, c])
    return torch.stack(cols, 1)


def test_opt_basis_is_orthonormal_with_gradients_and_zero_channels():
    layer = _layer('optbasisgnn')
    ei, w = _graph(False, seed=4)
    x = torch.randn(N, C, dtype=D)
    x[:, 1] = 0  # a zero channel stays zero, no NaN
    x.requires_grad_(True)
    out = layer(x, ei, w)
    S = dense_operator('gcn', ei, w, N)
    xd = x.detach().clone()
    want = krylov_oracle(S, xd[:, [0, 2]], layer.alpha.detach()[:, [0, 2]])
    assert rel_err(out[:, [0, 2]], want) < 1e-10
    assert torch.equal(out[:, 1], torch.zeros(N, dtype=D))
    g = torch.autograd.grad(out.sum(), [x, layer.alpha])
    assert all(torch.isfinite(t).all() for t in g)
    with pytest.raises(TypeError, match='signal'):
        layer.response(torch.zeros(3))
    n = 7  # gradients through the inner products and norms
    ei, w = random_graph(n, 18, directed=False, isolated=0, seed=6, dtype=D)
    small = _layer('optbasisgnn', K=2)
    xs = torch.randn(n, C, dtype=D, requires_grad=True)
    fn = lambda x, a: torch.func.functional_call(small, {'alpha': a},
                                                 (x, ei, w))
    assert torch.autograd.gradcheck(fn, (xs, small.alpha))


@pytest.mark.parametrize('name', sorted(SPECS))
def test_response_equals_closed_form(name):
    _, _, h, _ = SPECS[name]
    if h is None:
        pytest.skip('OptBasisGNN: no fixed response (tested above)')
    layer = _layer(name, seed=2)
    if name in ('sgc', 's2gc', 'appnp'):
        pytest.skip('fixed drop-ins: covered by the output test')
    t = torch.linspace(-1, 1, 41, dtype=D)
    want = torch.from_numpy(np.real(np.asarray(h(layer, t.numpy()))))
    got = layer.response(t)
    if want.dim() == 0 or want.numel() == 1:
        want = want.expand_as(got)
    assert rel_err(got, want) < 1e-11


@pytest.mark.parametrize('rho', [0.0, 0.3, 1.0])
@pytest.mark.parametrize('name', ['gprgnn', 'hornergcn', 'favardgnn',
                                  'legendrenet'])
def test_rho_normalization_equals_closed_form(name, rho):
    """D^-rho (A + I) D^(rho-1): not symmetric, so the backward runs on
    the exact transpose; checked against the dense formula and its
    gradient."""
    _, kind, h, per_channel = SPECS[name]
    layer = _layer(name, rho=rho)
    ei, w = _graph(False, seed=1)
    x = torch.randn(N, C, dtype=D, requires_grad=True)
    S = dense_operator(kind, ei, w, N, rho)
    want = spectral_oracle(S, x, lambda t: h(layer, t), per_channel)
    got = layer(x, ei, w)
    assert rel_err(got, want) < 1e-10
    # the gradient wrt x is the filter on S^T: h(S)^T g
    g = torch.randn_like(got)
    (gx, ) = torch.autograd.grad(got, [x], g)
    want_gx = spectral_oracle(S.t().contiguous(), g,
                              lambda t: h(layer, t), per_channel)
    assert rel_err(gx, want_gx) < 1e-10


def test_rho_operator_matches_dense_and_is_rejected_on_laplacian():
    ei, w = _graph(True, seed=3)
    op = gcn_operator(ei, w, N, rho=0.25, dtype=D)
    assert rel_err(op.to_dense(), dense_operator('gcn', ei, w, N, 0.25)) \
        < 1e-14
    with pytest.raises(ValueError, match='rho'):
        FILTERS['bernnet'](K=3, rho=0.3)
    with pytest.raises(ValueError, match='rho'):
        gcn_operator(ei, w, N, rho=1.5)


@pytest.mark.parametrize('name', ['chebbase', 'legendrenet', 'hornergcn',
                                  'clenshawgcn', 'favardgnn', 'adagnn',
                                  'fagcn'])
def test_gradcheck(name):
    n = 8
    kwargs, _, _, _ = SPECS[name]
    over = {'K': 3} if 'K' in kwargs else {}
    layer = _layer(name, **over)
    ei, w = random_graph(n, 20, directed=False, isolated=1, seed=5, dtype=D)
    x = torch.randn(n, C, dtype=D, requires_grad=True)
    params = list(layer.parameters())
    names = [k for k, _ in layer.named_parameters()]

    def fn(x, *ps):
        state = dict(zip(names, ps))
        return torch.func.functional_call(layer, state, (x, ei, w))
    assert torch.autograd.gradcheck(fn, (x, *params))


@pytest.mark.parametrize('name', sorted(SPECS))
def test_registry_builds_the_class(name):
    kwargs, _, _, _ = SPECS[name]
    torch.manual_seed(0)
    a = build_filter(name.upper(), **kwargs)
    torch.manual_seed(0)
    b = FILTERS[name](**kwargs)
    assert type(a) is type(b) and repr(a) == repr(b)
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    ei, w = _graph(False)
    x = torch.randn(N, C)
    assert torch.equal(a(x, ei, w.float()), b(x, ei, w.float()))


def test_registry_errors_name_the_filter():
    with pytest.raises(ValueError, match='unknown filter'):
        build_filter('nope')
    assert type(build_filter('GPR-GNN')) is FILTERS['gprgnn']
    assert type(build_filter('HeatKernel')) is FILTERS['heat_kernel']


@pytest.mark.parametrize('name', sorted(SPECS))
def test_reset_parameters_restores_the_initial_state(name):
    kwargs, _, _, _ = SPECS[name]
    torch.manual_seed(0)
    layer = FILTERS[name](**kwargs)
    if name in ('sgc', 's2gc'):
        pytest.skip('random Linear init, as PyG')
    init = {k: v.clone() for k, v in layer.state_dict().items()}
    _perturbed(layer)
    layer.reset_parameters()
    for k, v in layer.state_dict().items():
        assert torch.equal(v, init[k]), k


@pytest.mark.parametrize('scheme', SCHEMES)
def test_schemes_as_written_in_the_benchmark(scheme):
    K, p = 5, 0.4
    k = np.arange(K + 1)
    fact = np.array([math.factorial(i) for i in k], dtype=float)
    want = {
        'impulse': np.eye(K + 1)[K] * p,
        'mono': np.r_[p, np.full(K, (1 - p) / K)],
        'appr': p * (1 - p) ** k,
        'nappr': p ** k / np.sum(p ** k),
        'hk': np.exp(-p) * p ** k / fact,
        'gaussian': p ** k / fact,
        'ones': np.full(K + 1, p),
        'inverse': p / (k + 1),
        'chebyshev': np.cos((K - k + 0.5) * np.pi / (K + 1)) ** 2,
    }[scheme]
    got = scheme_coefficients(scheme, K, None if scheme == 'chebyshev'
                              else p)
    assert np.allclose(got.numpy(), want, rtol=1e-14, atol=0)
    layer = FixedConv(K, scheme, None if scheme == 'chebyshev' else p)
    assert torch.allclose(layer.double().coefficients(), got, atol=0,
                          rtol=1e-15)


def test_bad_arguments_raise_naming_them():
    with pytest.raises(ValueError, match='scheme'):
        FixedConv(3, 'nope')
    with pytest.raises(ValueError, match='kind'):
        ShiftConv('mid')
    with pytest.raises(ValueError, match='graph'):
        LegendreConv(3, graph='grid')
    with pytest.raises(ValueError, match='graph'):
        AdaConv(4, 3, graph='gcn')
    with pytest.raises(ValueError, match='alpha'):
        HornerConv(3, alpha=-1.0)
    with pytest.raises(ValueError, match='combine'):
        FilterBank([ShiftConv()], combine='max')
    with pytest.raises(ValueError, match='channels'):
        FilterBank([ShiftConv()], combine='attention')
    with pytest.raises(TypeError, match='channels'):
        FavardConv(2.5)


# -- filter banks --------------------------------------------------------
@pytest.mark.parametrize('combine', ['sum', 'weighted', 'cat'])
def test_filter_bank_combines_its_filters(combine):
    torch.manual_seed(0)
    low, high = ShiftConv('low', 0.5), ShiftConv('high', 0.5)
    bank = FilterBank([low, high], combine).double()
    if combine == 'weighted':
        with torch.no_grad():
            bank.weight.copy_(torch.tensor([0.3, -1.2], dtype=D))
    ei, w = _graph(False)
    x = torch.randn(N, C, dtype=D)
    S = dense_operator('adjacency', ei, w, N)
    a, b = (0.5 * x + S @ x), (0.5 * x - S @ x)
    want = {'sum': a + b, 'weighted': 0.3 * a - 1.2 * b,
            'cat': torch.cat([a, b], -1)}[combine]
    assert rel_err(bank(x, ei, w), want) < 1e-12


def test_filter_bank_attention_is_acm_mixing():
    torch.manual_seed(0)
    bank = FilterBank([ShiftConv('low', 1.0), ShiftConv('high', 1.0),
                       torch.nn.Identity()], 'attention', channels=C).double()
    ei, w = _graph(False)
    x = torch.randn(N, C, dtype=D)
    S = dense_operator('adjacency', ei, w, N)
    hs = [x + S @ x, x - S @ x, x]
    s = torch.cat([torch.sigmoid(h @ lin.weight.t() + lin.bias)
                   for h, lin in zip(hs, bank.score)], 1)
    alpha = torch.softmax(s @ bank.mix.weight.t() / 3.0, 1)
    want = sum(alpha[:, f:f + 1] * hs[f] for f in range(3))
    assert rel_err(bank(x, ei, w), want) < 1e-12


# -- PyG's own layers as the oracle ----------------------------------------
def _pyg_pair(name, *args, **kwargs):
    torch.manual_seed(0)
    ref = getattr(pygnn, name)(*args, **kwargs).double()
    mine = globals()[name](*args, **kwargs).double()
    mine.load_state_dict(ref.state_dict())
    return mine, ref


DROP_INS = [
    ('SGConv', (C, 2), dict(K=3)),
    ('SGConv', (C, 2), dict(K=2, add_self_loops=False)),
    ('SSGConv', (C, 2, 0.2), dict(K=4)),
    ('APPNP', (5, 0.15), {}),
    ('APPNP', (3, 0.3), dict(add_self_loops=False)),
    ('APPNP', (4, 0.1), dict(normalize=False)),
]


@pytest.mark.parametrize('flow', ['source_to_target', 'target_to_source'])
@pytest.mark.parametrize('name,args,kwargs', DROP_INS)
def test_drop_in_equals_pyg(name, args, kwargs, flow):
    mine, ref = _pyg_pair(name, *args, flow=flow, **kwargs)
    ei, w = _graph(True)
    x = torch.randn(N, C, dtype=D, requires_grad=True)
    a, b = mine(x, ei, w), ref(x, ei, w)
    assert rel_err(a, b) < 1e-12
    g = torch.randn_like(a)
    ga = torch.autograd.grad(a, [x, *mine.parameters()], g)
    gb = torch.autograd.grad(b, [x, *ref.parameters()], g)
    for u, v in zip(ga, gb):
        assert rel_err(u, v) < 1e-12


@pytest.mark.parametrize('name,args,kwargs', DROP_INS[:3])
def test_cached_drop_in_reuses_features_as_pyg(name, args, kwargs):
    mine, ref = _pyg_pair(name, *args, cached=True, **kwargs)
    ei, w = _graph(False)
    x = torch.randn(N, C, dtype=D)
    assert rel_err(mine(x, ei, w), ref(x, ei, w)) < 1e-12
    x2 = torch.randn(N, C, dtype=D)  # ignored by both: cached features
    assert rel_err(mine(x2, ei, w), ref(x2, ei, w)) < 1e-12
    assert rel_err(mine(x2, ei, w), mine(x, ei, w)) == 0
    mine.reset_parameters()
    assert mine._cached_x is None


def test_appnp_edge_dropout_masks_as_pyg():
    mine, ref = _pyg_pair('APPNP', 4, 0.1, dropout=0.3)
    ei, w = _graph(True)
    x = torch.randn(N, C, dtype=D)
    torch.manual_seed(7)
    a = mine(x, ei, w)
    torch.manual_seed(7)
    b = ref(x, ei, w)
    assert rel_err(a, b) < 1e-12
    mine.eval()
    ref.eval()
    assert rel_err(mine(x, ei, w), ref(x, ei, w)) < 1e-12


def test_drop_ins_take_sparse_tensors():
    SparseTensor = pytest.importorskip('torch_sparse').SparseTensor
    ei, w = _graph(True)
    keep = ei[0] != ei[1]  # PyG's SparseTensor path overwrites loop weights
    ei, w = ei[:, keep], w[keep]  # (a documented deviation)
    adj = SparseTensor.from_edge_index(ei, w, (N, N)).t()
    x = torch.randn(N, C, dtype=D)
    for name, args, kwargs in DROP_INS[:4]:
        mine, ref = _pyg_pair(name, *args, **kwargs)
        assert rel_err(mine(x, adj), ref(x, adj)) < 1e-12


# -- the reproductions accept every registered name ------------------------
@pytest.mark.parametrize('name', sorted(set(SPECS) - {'gprgnn', 'bernnet',
                                                      'chebnetii',
                                                      'jacobiconv',
                                                      'appnp'}))
def test_polynomial_protocol_builds_every_registered_filter(name):
    from pyg_spectral.reproduce.polynomial import Net, check_model
    assert check_model(name) == name
    torch.manual_seed(0)
    net = Net(name, 12, 4)
    assert isinstance(net.prop, FILTERS[name])
    ei, _ = _graph(False)
    x = torch.randn(N, 12)
    out = net(x, ei)
    assert out.shape == (N, 4)
    out.square().sum().backward()
    groups = net.param_groups()
    assert sum(len(list(g['params'])) for g in net.param_groups()) == \
        len(list(net.parameters()))
    assert groups[1]['weight_decay'] == 0.0
    with pytest.raises(ValueError, match='reference'):
        Net(name, 12, 4, impl='reference')


def test_polynomial_table_names_a_registered_row_by_its_layer():
    from pyg_spectral.reproduce.polynomial import _label
    assert _label('legendrenet') == 'legendrenet (LegendreConv)'
    assert _label('fagcn') == 'fagcn (ShiftConv)'
    assert _label('bernnet') == 'BernNet (K=10)'  # the paper's row


def test_polynomial_protocol_rejects_unknown_models():
    from pyg_spectral.reproduce.polynomial import check_model
    with pytest.raises(ValueError, match='registered filter'):
        check_model('nope')
