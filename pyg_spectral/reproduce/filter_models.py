r"""The models of the image-filter experiment (:mod:`.filters`), ``B``
images trained at once as independent channels.

Every model exists twice:

* the **reference** (one image, ``[N, 1] -> [N, 1]``): the authors' model
  as BernNet's ``LearningFilters/models.py`` builds it, from PyG's layers
  (GCNConv, GATConv, ARMAConv, ChebConv) and the authors' propagate-K-times
  filters (:mod:`.reference_props`);
* the **batched** model (``B`` images, ``[N, B] -> [N, B]``), built from
  ``B`` freshly initialized references: their dense weights stacked to
  ``[B, *shape]`` under the references' parameter names, their filters as
  ``B`` of this package's layers whose coefficients become per-channel
  coefficients of one engine call. Nothing is shared between images, so
  the summed loss gives each image its own gradient and one Adam over the
  stacked tensors takes each image's own steps: ``B`` separate runs.
  :meth:`Batched.reference` writes image ``i``'s weights back into its
  reference (the oracle of the test, and the authors' one-image loop of
  the timing).

Layout: activations ``h`` are ``[N, B, C]`` (node-major, then image, then
channel); a graph product acts on the view ``[N, B * C]``.
"""
from __future__ import annotations

from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Parameter

from ..nn import BernConv, ChebIIConv, GPRConv, JacobiConv
from ..nn._poly_conv import PolyConv
from ..ops import gcn_operator, laplacian_operator, spmm
from ..ops.chebyshev import cheb_terms, run_filter
from . import reference_props as ref


class BasisFilter(PolyConv):
    r""":math:`\sum_{k=0}^{K} c_k P_k(\mathbf{L} - \mathbf{I})\mathbf{x}`
    with free coefficients ``temp`` (initialized to 0) in one basis of the
    engine (``'chebyshev'``, ``'legendre'``, ``'monomial'``): the plain
    degree-``K`` filter of the experiment."""
    graph = 'laplacian'

    def __init__(self, K: int = 10, basis: str = 'chebyshev', **kwargs):
        self.basis = basis
        super().__init__(K, **kwargs)
        self.temp = Parameter(torch.zeros(K + 1))

    def reset_parameters(self):
        super().reset_parameters()
        if hasattr(self, 'temp'):
            with torch.no_grad():
                self.temp.zero_()

    def coefficients(self) -> Tensor:
        return self.temp

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(K={self.K}, basis={self.basis})'


# -- the authors' one-image models (BernNet LearningFilters/models.py) -------

class _Ref(torch.nn.Module):
    """Base of the one-image references: ``forward(x [N, 1], edge_index)
    -> [N, 1]``."""


class TwoLayerRef(_Ref):
    """BernNet's ``GcnNet`` / ``GatNet`` / ``ARMANet`` / ``ChebNet``: two
    PyG convolutions with ``act`` after each, then ``Linear(width, 1)``."""

    def __init__(self, conv1, conv2, width: int, act=F.relu):
        super().__init__()
        self.conv1, self.conv2 = conv1, conv2
        self.fc2 = torch.nn.Linear(width, 1)
        self.act = act

    def forward(self, x, ei):
        x = self.act(self.conv2(self.act(self.conv1(x, ei)), ei))
        return self.fc2(x)


def gcn_ref():
    from torch_geometric.nn import GCNConv
    return TwoLayerRef(GCNConv(1, 32), GCNConv(32, 64), 64)


def gat_ref():
    from torch_geometric.nn import GATConv
    return TwoLayerRef(GATConv(1, 8, heads=4, concat=True, dropout=0.0),
                       GATConv(32, 8, heads=8, concat=True, dropout=0.0),
                       64, F.elu)


def arma_ref():
    from torch_geometric.nn import ARMAConv
    return TwoLayerRef(ARMAConv(1, 32, 1, 1, False, dropout=0.0),
                       ARMAConv(32, 64, 1, 1, False, dropout=0.0), 64)


def cheb_ref():
    from torch_geometric.nn import ChebConv
    return TwoLayerRef(ChebConv(1, 32, 3), ChebConv(32, 32, 3), 32)


class GprRef(_Ref):
    def __init__(self, K: int = 10):
        super().__init__()
        self.lin1, self.lin2 = torch.nn.Linear(1, 32), torch.nn.Linear(32, 64)
        self.prop1 = ref.GPRPropRef(K)
        self.fc2 = torch.nn.Linear(64, 1)

    def forward(self, x, ei):
        x = F.relu(self.lin2(F.relu(self.lin1(x))))
        return self.fc2(self.prop1(x, ei))


class BernRef(_Ref):
    """BernNet's ``BernNet``: two ``BernConv`` (filter, then ``x W + b``)
    sharing one coefficient vector ``coe`` (here ``prop.temp``)."""

    def __init__(self, K: int = 10):
        super().__init__()
        self.prop = ref.BernPropRef(K)
        self.weight1, self.bias1 = _glorot(1, 32), Parameter(torch.zeros(32))
        self.weight2, self.bias2 = _glorot(32, 64), Parameter(torch.zeros(64))
        self.fc2 = torch.nn.Linear(64, 1)

    def forward(self, x, ei):
        x = F.relu(self.prop(x, ei) @ self.weight1 + self.bias1)
        x = F.relu(self.prop(x, ei) @ self.weight2 + self.bias2)
        return self.fc2(x)


class FilterRef(_Ref):
    """A linear filter ``x -> filter(x)`` (JacobiConv's image model)."""

    def __init__(self, prop: torch.nn.Module):
        super().__init__()
        self.prop = prop

    def forward(self, x, ei):
        return self.prop(x, ei)


def _glorot(fan_in: int, fan_out: int) -> Parameter:
    """BernNet's ``BernConv.reset_parameters``: U(±sqrt(6 / (in + out)))."""
    bound = (6.0 / (fan_in + fan_out)) ** 0.5
    return Parameter(torch.empty(fan_in, fan_out).uniform_(-bound, bound))


# -- the batched models ------------------------------------------------------

class Batched(torch.nn.Module):
    """``B`` images at once (see the module docstring). Subclasses define
    ``forward_hidden(h [N, B, 1]) -> [N, B, 1]``; the filter layers of
    image ``i`` are ``self.filters[i]`` (``None`` for models without a
    polynomial filter)."""

    def __init__(self, refs: List[_Ref], edge_index: Tensor, num_nodes: int,
                 filters: Optional[List[PolyConv]] = None,
                 filter_name: str = '', dtype=torch.float32):
        super().__init__()
        self._refs = refs  # plain list: not submodules
        skip = filter_name + '.' if filter_name else None
        self._names = [n for n, _ in refs[0].named_parameters()
                       if skip is None or not n.startswith(skip)]
        self.stacked = torch.nn.ParameterDict({
            n.replace('.', '__'): Parameter(torch.stack(
                [dict(r.named_parameters())[n].detach().to(dtype)
                 for r in refs]))
            for n in self._names})
        self.filter_name = filter_name
        self.filters = None if filters is None else \
            torch.nn.ModuleList(filters).to(dtype)
        if filters is not None:
            self.filter_op = filters[0].operator(edge_index, num_nodes,
                                                 dtype=dtype)
        self.edge_index, self.num_nodes, self.dtype = \
            edge_index, num_nodes, dtype
        self._ops: Dict[str, object] = {}

    @property
    def num_images(self) -> int:
        return len(self._refs)

    def w(self, name: str) -> Tensor:
        """The stacked reference parameter ``name``, ``[B, *shape]``."""
        return self.stacked[name.replace('.', '__')]

    def op(self, kind: str):
        """``'gcn'`` (with self-loops), ``'adjacency'`` (without) or
        ``'laplacian'`` (:math:`\\mathbf{L} - \\mathbf{I}`), built once."""
        if kind not in self._ops:
            ei, n, dt = self.edge_index, self.num_nodes, self.dtype
            self._ops[kind] = laplacian_operator(
                ei, num_nodes=n, lambda_max=2.0, dtype=dt) \
                if kind == 'laplacian' else gcn_operator(
                    ei, num_nodes=n, add_self_loops=kind == 'gcn', dtype=dt)
        return self._ops[kind]

    def prop(self, kind: str, h: Tensor) -> Tensor:
        """:math:`\\mathbf{S} h` on every image and channel."""
        n, b, c = h.shape
        return spmm(self.op(kind), h.reshape(n, b * c)).view(n, b, c)

    def linear(self, h: Tensor, prefix: str) -> Tensor:
        """A stacked ``torch.nn.Linear``: ``h W^T + b`` per image."""
        y = torch.einsum('nbi,boi->nbo', h, self.w(prefix + '.weight'))
        return y + self.w(prefix + '.bias')

    def filter(self, h: Tensor) -> Tensor:
        """Image ``i``'s filter on its channels of ``h [N, B, C]``: one
        engine call with the ``B`` coefficient vectors as per-channel
        coefficients ``[K+1, B * C]``."""
        n, b, c = h.shape
        coef = torch.stack([f.coefficients().reshape(f.K + 1, -1)
                            for f in self.filters], 1)  # [K+1, B, 1|C]
        coef = coef.expand(-1, b, c).reshape(-1, b * c)  # [K+1, B * C]
        f0 = self.filters[0]
        rec = None if f0.basis == 'chebyshev' else f0.rec
        y = run_filter(h.reshape(n, b * c), coef.to(h.dtype), self.filter_op,
                       rec=rec)
        return y.view(n, b, c)

    def forward(self, x: Tensor) -> Tensor:
        """``x`` ``[N, B]`` (one image per column) -> ``[N, B]``."""
        return self.forward_hidden(x.unsqueeze(-1)).squeeze(-1)

    def forward_hidden(self, h: Tensor) -> Tensor:
        raise NotImplementedError

    def reference(self, i: int) -> _Ref:
        """Image ``i``'s reference model holding its current weights."""
        r = self._refs[i]
        with torch.no_grad():
            own = dict(r.named_parameters())
            for n in self._names:
                own[n].copy_(self.w(n)[i].to(own[n].dtype))
            if self.filters is not None:
                getattr(r, self.filter_name).load_state_dict(
                    self.filters[i].state_dict(), strict=False)
        return r


class GcnBatched(Batched):
    def forward_hidden(self, h):
        for p in ('conv1', 'conv2'):
            h = torch.einsum('nbi,boi->nbo', h, self.w(p + '.lin.weight'))
            h = F.relu(self.prop('gcn', h) + self.w(p + '.bias'))
        return self.linear(h, 'fc2')


class ArmaBatched(Batched):
    """PyG's ``ARMAConv`` with one stack and one layer:
    :math:`\\mathrm{ReLU}(\\hat{\\mathbf{A}} h W + h V + b)`,
    :math:`\\hat{\\mathbf{A}}` without self-loops."""

    def forward_hidden(self, h):
        for p in ('conv1', 'conv2'):
            w = self.w(p + '.init_weight')[:, 0]  # [B, 1, in, out]
            v = self.w(p + '.root_weight')[:, 0, 0]  # [B, 1, 1, in, out]
            b = self.w(p + '.bias')[:, 0, 0, 0]  # [B, 1, 1, 1, out]
            out = self.prop('adjacency', torch.einsum('nbi,bio->nbo', h, w))
            h = F.relu(out + torch.einsum('nbi,bio->nbo', h, v) + b)
        return self.linear(h, 'fc2')


class ChebBatched(Batched):
    """PyG's ``ChebConv(K=3)``: :math:`\\sum_{k<3} T_k(\\mathbf{L} -
    \\mathbf{I}) h \\Theta_k + b` (``lambda_max = 2``)."""

    def forward_hidden(self, h):
        for p in ('conv1', 'conv2'):
            n, b, c = h.shape
            out = self.w(p + '.bias')
            for k, t in enumerate(cheb_terms(self.op('laplacian'),
                                             h.reshape(n, b * c), 3)):
                out = out + torch.einsum(
                    'nbi,boi->nbo', t.view(n, b, c),
                    self.w(f'{p}.lins.{k}.weight'))
            h = F.relu(out)
        return self.linear(h, 'fc2')


class GatBatched(Batched):
    """PyG's ``GATConv`` (self-loops added, LeakyReLU 0.2, heads
    concatenated), the attention of every image on its own channels."""

    def forward_hidden(self, h):
        from torch_geometric.utils import add_self_loops, remove_self_loops
        from torch_geometric.utils import softmax
        ei, _ = remove_self_loops(self.edge_index)
        ei, _ = add_self_loops(ei, num_nodes=self.num_nodes)
        src, dst = ei
        for p, heads in (('conv1', 4), ('conv2', 8)):
            n, b, _ = h.shape
            z = torch.einsum('nbi,boi->nbo', h, self.w(p + '.lin.weight'))
            z = z.view(n, b, heads, -1)  # [N, B, H * C] -> [N, B, H, C]
            att_s = self.w(p + '.att_src').squeeze(1)  # [B, H, C]
            att_d = self.w(p + '.att_dst').squeeze(1)
            a_src = (z * att_s).sum(-1)  # [N, B, H]
            a_dst = (z * att_d).sum(-1)
            e = F.leaky_relu(a_src[src] + a_dst[dst], 0.2)  # [E, B, H]
            alpha = softmax(e, dst, num_nodes=n)
            msg = z[src] * alpha.unsqueeze(-1)  # [E, B, H, C]
            out = torch.zeros_like(z).index_add_(0, dst, msg)
            h = F.elu(out.reshape(n, b, -1) + self.w(p + '.bias'))
        return self.linear(h, 'fc2')


class GprBatched(Batched):
    def forward_hidden(self, h):
        h = F.relu(self.linear(F.relu(self.linear(h, 'lin1')), 'lin2'))
        return self.linear(self.filter(h), 'fc2')


class BernBatched(Batched):
    def forward_hidden(self, h):
        for i in ('1', '2'):  # BernConv: filter, then x W + b
            h = torch.einsum('nbi,bio->nbo', self.filter(h),
                             self.w('weight' + i))
            h = F.relu(h + self.w('bias' + i))
        return self.linear(h, 'fc2')


class FilterBatched(Batched):
    def forward_hidden(self, h):
        return self.filter(h)


# name -> (label, reference factory, batched class, filter factory or None,
#          polynomial class of the model: (operator, degree) or None)
MODELS: Dict[str, tuple] = {
    'gcn': ('GCN', gcn_ref, GcnBatched, None, ('gcn', 2)),
    'gat': ('GAT', gat_ref, GatBatched, None, None),
    'arma': ('ARMA', arma_ref, ArmaBatched, None, ('laplacian', 2)),
    'chebnet': ('ChebNet (PyG K=3)', cheb_ref, ChebBatched, None,
                ('laplacian', 4)),
    'gprgnn': ('GPR-GNN (K=10)', GprRef, GprBatched,
               lambda: GPRConv(10, init='Random'), ('gcn', 10)),
    'bernnet': ('BernNet (K=10)', BernRef, BernBatched,
                lambda: BernConv(10), ('laplacian', 20)),
    'chebnetii': ('ChebNetII (K=10)', lambda: FilterRef(ref.ChebIIPropRef(10)),
                  FilterBatched, lambda: ChebIIConv(10), ('laplacian', 10)),
    'jacobiconv': ('JacobiConv (K=10)', None, FilterBatched, None,
                   ('laplacian', 10)),
    'cheb': ('Chebyshev filter (K=10)', None, FilterBatched,
             lambda: BasisFilter(10, 'chebyshev'), ('laplacian', 10)),
    'legendre': ('Legendre filter (K=10)', None, FilterBatched,
                 lambda: BasisFilter(10, 'legendre'), ('laplacian', 10)),
    'monomial': ('Monomial filter (K=10)', None, FilterBatched,
                 lambda: BasisFilter(10, 'monomial'), ('laplacian', 10)),
}
FILTER_NAMES = {'gprgnn': 'prop1', 'bernnet': 'prop', 'chebnetii': 'prop',
                'jacobiconv': 'prop', 'cheb': 'prop', 'legendre': 'prop',
                'monomial': 'prop'}


def build(name: str, num_images: int, edge_index: Tensor, num_nodes: int,
          dtype=torch.float32, jacobi: Optional[dict] = None) -> Batched:
    """The batched model ``name`` of :data:`MODELS` for ``num_images``
    images, each initialized as the authors' model (the global torch
    generator draws them in image order). ``jacobi``: JacobiConv's ``a``,
    ``b``, ``alpha``."""
    if name not in MODELS:
        raise ValueError(f"model must be one of {list(MODELS)} (got "
                         f"{name!r})")
    _, make_ref, cls, make_filter, _ = MODELS[name]
    if name == 'jacobiconv':
        jac = {**dict(a=1.0, b=1.0, alpha=1.0), **(jacobi or {})}

        def make_filter():
            return JacobiConv(1, 10, **jac)

        def make_ref():
            return FilterRef(ref.JacobiPropRef(1, 10, **jac))
    if make_ref is None:  # no authors' code: the layer itself, per image
        def make_ref():
            return FilterRef(make_filter())
    refs, filters = [], []
    for _ in range(num_images):
        refs.append(make_ref().to(dtype))
        if make_filter is not None:
            filters.append(make_filter())
    return cls(refs, edge_index, num_nodes,
               filters if make_filter is not None else None,
               FILTER_NAMES.get(name, ''), dtype)


def param_groups(model: Batched, lr: float = 0.01,
                 lrs: Optional[dict] = None,
                 wds: Optional[dict] = None) -> List[dict]:
    """Adam groups: every parameter at ``lr``, except the filter
    parameters named in ``lrs`` / ``wds`` (JacobiConv's ``alphas`` and
    ``comb_weight``)."""
    lrs, wds = lrs or {}, wds or {}
    groups: Dict[tuple, List[Tensor]] = {}
    for n, p in model.named_parameters():
        leaf = n.rsplit('.', 1)[-1]
        key = (lrs.get(leaf, lr), wds.get(leaf, 0.0))
        groups.setdefault(key, []).append(p)
    return [dict(params=ps, lr=r, weight_decay=w)
            for (r, w), ps in groups.items()]

