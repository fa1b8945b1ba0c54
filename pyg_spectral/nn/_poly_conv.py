"""The base of the learnable polynomial filters (GPR-GNN, BernNet, ChebNetII,
JacobiConv): :math:`\\mathbf{X}' = \\sum_{k=0}^{K} c_k P_k(\\mathbf{S})
\\mathbf{X}` with scalar (``[K+1]``) or per-channel (``[K+1, C]``)
coefficients, ``K`` the polynomial order as in these papers (``K + 1``
terms), on one of three graph operators:

* ``'gcn'``: :math:`\\hat{\\mathbf{D}}^{-1/2}(\\mathbf{A} + \\mathbf{I})
  \\hat{\\mathbf{D}}^{-1/2}` (GCN's, self-loops added);
* ``'adjacency'``: :math:`\\mathbf{D}^{-1/2}\\mathbf{A}\\mathbf{D}^{-1/2}`
  (no self-loops added);
* ``'laplacian'``: :math:`\\mathbf{L} - \\mathbf{I} = -\\mathbf{D}^{-1/2}
  \\mathbf{A}\\mathbf{D}^{-1/2}` (the scaled Laplacian with
  :math:`\\lambda_{\\max} = 2`).

A layer's ``graph`` argument overrides its paper's operator; ``rho``
generalizes the normalization of ``'gcn'`` and ``'adjacency'`` to
:math:`\\mathbf{D}^{-\\rho}\\mathbf{A}\\mathbf{D}^{\\rho-1}`
(:func:`~pyg_spectral.ops.gcn_operator`). Every layer has
:meth:`PolyConv.response`, its :math:`h(\\lambda)` on the operator's
spectrum.

Subclasses define ``coefficients()`` and the basis; the rest is shared: the
graph inputs of ChebConv (``edge_index``, ``SparseTensor``,
``torch.sparse``, a precomputed :class:`~pyg_spectral.ops.SparseOperator`,
disjoint-union batches), PyG's static-graph layout ``[*, N, C]`` at
``node_dim``, ``flow``, and PyG's ``propagate`` path for explainers' edge
masks, message hooks and ``decomposed_layers`` (see
:mod:`._message_passing`). The fast path is one
:func:`~pyg_spectral.ops.chebyshev.run_filter` call: Clenshaw's sum at the
input width, ``K`` sparse products forward and ``K`` backward, only ``x``
kept for the backward pass.

Layout: ``x`` ``[*, N, C]`` -> ``[*, N, C]`` (the filter keeps the width).
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor
from torch_geometric.nn.conv import MessagePassing
from torch_geometric.typing import Adj, OptTensor

from ..ops import SparseOperator
from ..ops.bases import Recurrence, basis_values, recurrence
from ..ops.chebyshev import run_filter, terms_by
from ..ops.normalize import Entries, gcn_entries, laplacian_entries
from ..ops.validation import check_int, check_rho
from ._checks import check_input, checked_forward
from ._message_passing import (check_layer_flow, from_node_major,
                               needs_messages, no_torchscript, node_axis,
                               operator_entries, to_node_major)
from ._resolve_operator import gcn_for, laplacian_for

_DIMS = tuple(range(2, 9))  # [N, C] and static-graph [*, N, C]
GRAPHS = ('gcn', 'adjacency', 'laplacian')


class PolyConv(MessagePassing):
    """Base class; see the module docstring. ``basis``, ``a``, ``b``:
    the polynomial family (:func:`~pyg_spectral.ops.recurrence`);
    ``graph``: the operator :math:`\\mathbf{S}`; ``channels``: the width
    that per-channel coefficients need (else ``None``)."""

    basis: str = 'chebyshev'
    graph: str = 'laplacian'

    normalize: bool = True  # False: the raw adjacency (APPNP's option)

    def __init__(self, K: int, channels: Optional[int] = None,
                 a: float = 0.0, b: float = 0.0, graph: Optional[str] = None,
                 rho: float = 0.5, **kwargs):
        kwargs.setdefault('aggr', 'add')
        super().__init__(**kwargs)
        check_int(K, 'K', minimum=0)
        if channels is not None:
            check_int(channels, 'channels')
        if graph is not None:
            if graph not in GRAPHS:
                raise ValueError(f"graph must be one of {GRAPHS} (got "
                                 f"{graph!r})")
            self.graph = graph
        self.rho = check_rho(rho)
        if self.rho != 0.5 and self.graph == 'laplacian':
            raise ValueError("rho applies to graph='gcn' or 'adjacency' "
                             "(the Laplacian is symmetrically normalized)")
        self.K, self.channels = K, channels
        self._rec = recurrence(self.basis, K + 1, a, b)
        self._ab = (float(a), float(b))

    def register_constant(self, name: str, value: Tensor) -> None:
        """A fixed float64 matrix of the filter (a coefficient map) as a
        non-persistent buffer that ``.to()``/``.float()``/``.double()``
        move, re-derived from the float64 original after every conversion
        (so a float32 round trip never rounds it)."""
        self._constants = getattr(self, '_constants', {})
        self._constants[name] = value.to(torch.float64)
        self.register_buffer(name, value.float(), persistent=False)

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        for name, value in getattr(self, '_constants', {}).items():
            buf = self._buffers[name]
            self._buffers[name] = value.to(device=buf.device,
                                           dtype=buf.dtype)
        return self

    def coefficients(self) -> Tensor:
        """``[K+1]`` or ``[K+1, channels]``: the weight of each term."""
        raise NotImplementedError

    @property
    def rec(self) -> Recurrence:
        """The basis' three-term recurrence."""
        return self._rec

    def response(self, lam: Tensor) -> Tensor:
        """The filter's frequency response :math:`h(\\lambda) = \\sum_k
        c_k P_k(\\lambda)` at eigenvalues ``lam`` ``[M]`` of the operator
        :math:`\\mathbf{S}` it runs on (``'laplacian'``: of
        :math:`\\mathbf{L} - \\mathbf{I}`): ``[M]`` for scalar
        coefficients, ``[M, channels]`` per channel. The layer's output is
        :math:`\\mathbf{U} h(\\Lambda) \\mathbf{U}^{-1} \\mathbf{X}`."""
        coef = self.coefficients()
        lam = torch.as_tensor(lam, dtype=coef.dtype, device=coef.device)
        if lam.dim() != 1:
            raise ValueError(f"lam must be 1-D (got shape "
                             f"{list(lam.shape)})")
        rec = None if self.basis == 'chebyshev' else self._rec
        return basis_values(lam, self.K + 1, rec) @ coef  # [M, K+1] @ c

    def operator(self, edge_index, num_nodes: Optional[int] = None,
                 edge_weight: OptTensor = None,
                 dtype: torch.dtype = torch.float32) -> SparseOperator:
        """This layer's :math:`\\mathbf{S}` of a graph, built afresh (for
        :meth:`precompute`; ``forward`` caches its own)."""
        return self._graph_entries(edge_index, edge_weight, num_nodes,
                                   dtype).operator()

    def _graph_entries(self, graph, edge_weight, n, dtype) -> Entries:
        """:math:`\\mathbf{S}` per edge (PyG's edge order)."""
        if self.graph == 'laplacian':
            return laplacian_entries(graph, edge_weight, n, 'sym', 2.0, None,
                                     dtype, self.flow)
        return gcn_entries(graph, edge_weight, n,
                           add_self_loops=self.graph == 'gcn',
                           normalize=self.normalize, dtype=dtype,
                           flow=self.flow, rho=self.rho)

    def precompute(self, x, edge_index, edge_weight: OptTensor = None,
                   **kwargs):
        """The ``K + 1`` terms :math:`P_k(\\mathbf{S})\\mathbf{X}` of
        this layer's basis and operator, for :class:`Decoupled` training
        (:func:`~pyg_spectral.precompute.precompute_terms`; ``kwargs``:
        ``budget``, ``path``, ``dtype``)."""
        from ..precompute import precompute_terms
        op = self.operator(edge_index, x.shape[0], edge_weight,
                           x.dtype if isinstance(x, Tensor)
                           else torch.float32)
        return precompute_terms(x, op, self.K + 1, self.basis, *self._ab,
                                **kwargs)

    def combine(self, terms: Tensor) -> Tensor:
        """:math:`\\sum_k c_k \\mathbf{H}_k` of precomputed terms
        ``[B, K+1, C]`` -> ``[B, C]``: this layer's filter, evaluated on
        :meth:`precompute`'s output."""
        coef = self.coefficients().to(terms.dtype)
        if coef.dim() == 1:
            coef = coef.unsqueeze(1)  # [K+1] -> [K+1, 1]
        return (terms * coef).sum(-2)  # [B, K+1, C] -> [B, C]

    def checked_input(self, x: Tensor, edge_index: Adj):
        """``(x, node axis)`` after the checks every filter's forward
        runs (flow, layout, dtype and device; a sparse ``x`` made dense:
        the output is dense anyway)."""
        check_layer_flow(self, edge_index)
        check_input(self, x, _DIMS, '[*, num_nodes, channels]',
                    self.channels)
        if x.layout != torch.strided:
            x = x.to_dense()
        return x, node_axis(self, x)

    @checked_forward
    def forward(self, x: Tensor, edge_index: Adj,
                edge_weight: OptTensor = None) -> Tensor:
        x, nd = self.checked_input(x, edge_index)
        coef = self.coefficients()
        if coef.dim() == 1:
            coef = coef.unsqueeze(1)  # [K+1] -> [K+1, 1]
        if needs_messages(self, PolyConv):
            ei, norm = self._entries(x, nd, edge_index,
                                     edge_weight).edge_list()
            return self._by_messages(
                x, coef, lambda h: self.propagate(ei, x=h, norm=norm))
        op = self._operator(x, nd, edge_index, edge_weight)
        rec = None if self.basis == 'chebyshev' else self._rec  # ChebConv's
        y = run_filter(to_node_major(x, nd), coef, op, rec=rec)
        return from_node_major(y, x, nd)

    def _operator(self, x, nd, graph, edge_weight) -> SparseOperator:
        n = x.size(nd)
        if self.graph == 'laplacian':
            op = laplacian_for(x, n, graph, edge_weight, 'sym', None, None,
                               self.flow)
            lam = op.meta.get('lambda_max', 2.0)
            if isinstance(graph, SparseOperator) and lam != 2.0:
                raise ValueError(
                    f"{type(self).__name__} filters L - I (lambda_max=2); "
                    f"the precomputed operator was built with "
                    f"lambda_max={lam!r}")
            return op
        return gcn_for(x, n, graph, edge_weight,
                       add_self_loops=self.graph == 'gcn',
                       normalize=self.normalize, flow=self.flow,
                       rho=self.rho)

    def _entries(self, x, nd, graph, edge_weight) -> Entries:
        """The operator as per-edge entries in PyG's edge order."""
        if isinstance(graph, SparseOperator):
            return operator_entries(
                self._operator(x, nd, graph, edge_weight), self.flow)
        return self._graph_entries(graph, edge_weight, x.size(nd), x.dtype)

    def _by_messages(self, x: Tensor, coef: Tensor, prop) -> Tensor:
        """The engine's recurrence (:func:`~pyg_spectral.ops.chebyshev.
        terms_by`) with ``S h = prop(h)`` through ``self.propagate``: what
        the papers' reference codes do."""
        coef = coef.to(x.dtype)

        def matmul(h, a, z):  # a S h + z
            y = a * prop(h)
            return y if z is None else y + z
        out = None
        for c, t in zip(coef, terms_by(matmul, x, self.K + 1, self._rec)):
            out = c * t if out is None else out + c * t
        return out

    def message(self, x_j: Tensor, norm: Tensor) -> Tensor:
        return norm.view(-1, 1) * x_j

    def __prepare_scriptable__(self):
        no_torchscript(self)
