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

Layout: activations ``h`` are ``[B, N, C]`` (image, node, channel), so a
per-image weight is one ``bmm``; a graph product acts on the view
``[B * N, C]`` through the block-diagonal operator of the ``B`` copies of
the grid (the images as a batch of graphs), a filter with per-image
coefficients on ``[N, B * C]``.
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
    ``forward_hidden(h [B, N, 1]) -> [B, N, 1]``; the filter layers of
    image ``i`` are ``self.filters[i]`` (``None`` for models without a
    polynomial filter).

    ``chunk``: images per pass of ``forward_hidden`` (default: the class's
    ``chunk``, ``None`` meaning all). Models with hidden layers run one
    image at a time: their ``[N, 64]`` activations of one image stay in
    the CPU's cache, those of many do not, and their graph products gain
    little from batching. The linear filters run all images in one engine
    call."""
    chunk: Optional[int] = 1

    def __init__(self, refs: List[_Ref], edge_index: Tensor, num_nodes: int,
                 filters: Optional[List[PolyConv]] = None,
                 filter_name: str = '', dtype=torch.float32,
                 chunk: Optional[int] = None):
        super().__init__()
        chunk = self.chunk if chunk is None else chunk
        if chunk is not None and chunk < 1:
            raise ValueError(f"chunk must be at least 1 (got {chunk})")
        self._refs = refs  # plain list: not submodules
        self.chunk = chunk or len(refs)
        self._sl = slice(None)  # the images of the running chunk
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
        """The stacked reference parameter ``name`` of the running chunk's
        images, ``[B, *shape]``."""
        return self.stacked[name.replace('.', '__')][self._sl]

    def block_edges(self, b: int) -> Tensor:
        """The grid's edges once per image of ``b`` images, image ``i`` on
        the nodes ``i * N .. (i + 1) * N - 1``: ``[2, b * E]``."""
        ei, n = self.edge_index, self.num_nodes
        shift = torch.arange(b, device=ei.device).repeat_interleave(
            ei.size(1)) * n  # [B * E]
        return ei.repeat(1, b) + shift

    def op(self, kind: str, b: int):
        """``'gcn'`` (with self-loops), ``'adjacency'`` (without) or
        ``'laplacian'`` (:math:`\\mathbf{L} - \\mathbf{I}`) of ``b``
        copies of the grid (block diagonal), built once."""
        if (kind, b) not in self._ops:
            ei, n = self.block_edges(b), self.num_nodes * b
            self._ops[kind, b] = laplacian_operator(
                ei, num_nodes=n, lambda_max=2.0, dtype=self.dtype) \
                if kind == 'laplacian' else gcn_operator(
                    ei, num_nodes=n, add_self_loops=kind == 'gcn',
                    dtype=self.dtype)
        return self._ops[kind, b]

    def prop(self, kind: str, h: Tensor) -> Tensor:
        """:math:`\\mathbf{S} h` on every image and channel."""
        b, n, c = h.shape
        return spmm(self.op(kind, b), h.reshape(b * n, c)).view(b, n, c)

    def lin_w(self, name: str) -> Tensor:
        """The stacked ``torch.nn.Linear``-layout weight ``name`` (``[B,
        O, I]``) as ``[B, I, O]``."""
        return self.w(name).transpose(1, 2)

    @staticmethod
    def mm(h: Tensor, w: Tensor, out: Optional[Tensor] = None) -> Tensor:
        """``h [B, N, I]`` times each image's ``w [B, I, O]``, added to
        ``out`` ``[B, 1 | N, O]``."""
        if h.size(0) == 1:  # as the one-image model: views, one addmm
            a, v = h.squeeze(0), w.squeeze(0)  # views, cheap backward
            y = a @ v if out is None else torch.addmm(out.squeeze(0), a, v)
            return y.unsqueeze(0)
        if min(w.shape[1:]) == 1:
            # A vector per image: torch.bmm's CPU kernel is several times
            # slower here than one matrix product per image.
            outs = [None] * h.size(0) if out is None else \
                out.expand(h.size(0), -1, -1).unbind(0)
            return torch.stack([
                a @ v if o is None else torch.addmm(o, a, v)
                for a, v, o in zip(h.unbind(0), w.unbind(0), outs)])
        if out is None:
            return torch.bmm(h, w)
        return torch.baddbmm(out, h, w)

    def linear(self, h: Tensor, prefix: str) -> Tensor:
        """A stacked ``torch.nn.Linear``: ``h W^T + b`` per image."""
        return self.mm(h, self.lin_w(prefix + '.weight'),
                       self.w(prefix + '.bias').unsqueeze(1))

    def filter(self, h: Tensor) -> Tensor:
        """Image ``i``'s filter on its channels of ``h [B, N, C]``: one
        engine call with the ``B`` coefficient vectors as per-channel
        coefficients ``[K+1, B * C]``."""
        b, n, c = h.shape
        coef = torch.stack([f.coefficients().reshape(f.K + 1, -1)
                            for f in self.filters[self._sl]],
                           1)  # [K+1, B, 1|C]
        coef = coef.expand(-1, b, c).reshape(-1, b * c)  # [K+1, B * C]
        f0 = self.filters[0]
        rec = None if f0.basis == 'chebyshev' else f0.rec
        x = h.transpose(0, 1).reshape(n, b * c)  # [B, N, C] -> [N, B * C]
        y = run_filter(x, coef.to(h.dtype), self.filter_op, rec=rec)
        return y.view(n, b, c).transpose(0, 1)  # [N, B * C] -> [B, N, C]

    def forward(self, x: Tensor) -> Tensor:
        """``x`` ``[N, B]`` (one image per column) -> ``[N, B]``, ``chunk``
        images at a time (their activations stay in the CPU's cache)."""
        out = []
        try:
            for i in range(0, x.size(1), self.chunk):
                self._sl = slice(i, i + self.chunk)
                h = x[:, self._sl].t().unsqueeze(-1)  # [N, B] -> [B, N, 1]
                out.append(self.forward_hidden(h.contiguous()).squeeze(-1))
        finally:  # w() and reference() see every image again
            self._sl = slice(None)
        return torch.cat(out).t()  # [B, N] -> [N, B]

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
    """PyG's ``GCNConv``, :math:`\\hat{\\mathbf{A}} h W^\\top + b`,
    propagated before the weight (fewer input than output channels)."""

    def forward_hidden(self, h):
        for p in ('conv1', 'conv2'):
            h = F.relu(self.mm(self.prop('gcn', h),
                               self.lin_w(p + '.lin.weight'),
                               self.w(p + '.bias').unsqueeze(1)))
        return self.linear(h, 'fc2')


class ArmaBatched(Batched):
    """PyG's ``ARMAConv`` with one stack and one layer:
    :math:`\\mathrm{ReLU}(\\hat{\\mathbf{A}} h W + h V + b)`,
    :math:`\\hat{\\mathbf{A}}` without self-loops."""

    def forward_hidden(self, h):
        for p in ('conv1', 'conv2'):
            w = self.w(p + '.init_weight')[:, 0]  # [B, 1, in, out]
            v = self.w(p + '.root_weight')[:, 0, 0]  # [B, 1, 1, in, out]
            b = self.w(p + '.bias')[:, 0, 0]  # [B, 1, 1, 1, out]
            out = self.mm(h, v, b)
            h = F.relu(self.mm(self.prop('adjacency', h), w, out))
        return self.linear(h, 'fc2')


class ChebBatched(Batched):
    """PyG's ``ChebConv(K=3)``: :math:`\\sum_{k<3} T_k(\\mathbf{L} -
    \\mathbf{I}) h \\Theta_k + b` (``lambda_max = 2``)."""

    def forward_hidden(self, h):
        for p in ('conv1', 'conv2'):
            b, n, c = h.shape
            out = self.w(p + '.bias').unsqueeze(1)  # [B, O] -> [B, 1, O]
            for k, t in enumerate(cheb_terms(self.op('laplacian', b),
                                             h.reshape(b * n, c), 3)):
                out = self.mm(t.view(b, n, c),
                              self.lin_w(f'{p}.lins.{k}.weight'), out)
            h = F.relu(out)
        return self.linear(h, 'fc2')


class GatBatched(Batched):
    """PyG's ``GATConv`` (self-loops added, LeakyReLU 0.2, heads
    concatenated), the attention of every image on its own copy of the
    grid."""

    def forward_hidden(self, h):
        from torch_geometric.utils import add_self_loops, remove_self_loops
        from torch_geometric.utils import softmax
        b, n, _ = h.shape
        if ('gat', b) not in self._ops:
            ei, _ = remove_self_loops(self.block_edges(b))
            self._ops['gat', b], _ = add_self_loops(ei, num_nodes=b * n)
        src, dst = self._ops['gat', b]
        for p, heads in (('conv1', 4), ('conv2', 8)):
            z = self.mm(h, self.lin_w(p + '.lin.weight'))  # [B, N, H * C]
            z = z.view(b, n, heads, -1)  # [B, N, H * C] -> [B, N, H, C]
            att_s = self.w(p + '.att_src')  # [B, 1, H, C]
            att_d = self.w(p + '.att_dst')
            a_src = (z * att_s).sum(-1).view(b * n, heads)  # [B * N, H]
            a_dst = (z * att_d).sum(-1).view(b * n, heads)
            # index_select, as PyG: its backward is an index_add, that of
            # advanced indexing a slower accumulating index_put
            e = F.leaky_relu(a_src.index_select(0, src) +
                             a_dst.index_select(0, dst), 0.2)  # [B * E, H]
            alpha = softmax(e, dst, num_nodes=b * n)
            z = z.view(b * n, heads, -1)  # [B, N, H, C] -> [B * N, H, C]
            msg = z.index_select(0, src) * alpha.unsqueeze(-1)  # [B*E, H, C]
            out = torch.zeros_like(z).index_add_(0, dst, msg)
            out = out.view(b, n, -1)  # [B * N, H, C] -> [B, N, H * C]
            h = F.elu(out + self.w(p + '.bias').unsqueeze(1))
        return self.linear(h, 'fc2')


class GprBatched(Batched):
    """GPR-GNN's model. Its filter has one coefficient vector for all
    channels, so ``fc2`` (linear) runs before it: one channel is
    filtered instead of 64."""

    def forward_hidden(self, h):
        h = F.relu(self.linear(F.relu(self.linear(h, 'lin1')), 'lin2'))
        h = self.filter(self.mm(h, self.lin_w('fc2.weight')))
        return h + self.w('fc2.bias').unsqueeze(1)


class BernBatched(Batched):
    def forward_hidden(self, h):
        for i in ('1', '2'):  # BernConv: filter, then x W + b
            h = F.relu(self.mm(self.filter(h), self.w('weight' + i),
                               self.w('bias' + i).unsqueeze(1)))
        return self.linear(h, 'fc2')


class FilterBatched(Batched):
    chunk = None

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
          dtype=torch.float32, jacobi: Optional[dict] = None,
          chunk: Optional[int] = None) -> Batched:
    """The batched model ``name`` of :data:`MODELS` for ``num_images``
    images, each initialized as the authors' model (the global torch
    generator draws them in image order). ``jacobi``: JacobiConv's ``a``,
    ``b``, ``alpha``; ``chunk``: images per pass (:class:`Batched`)."""
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
               FILTER_NAMES.get(name, ''), dtype, chunk)


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

