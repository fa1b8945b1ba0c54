r"""Functional normalizers: graph -> :class:`SparseOperator`.

Both follow PyG's conventions exactly (so layers built on them are drop-in):

* :func:`laplacian_operator` builds the scaled Laplacian of ChebConv,
  :math:`\tilde{\mathbf{L}} = 2\mathbf{L}/\lambda_{\max} - \mathbf{I}`, with
  :math:`\mathbf{L}` from :func:`torch_geometric.utils.get_laplacian`:
  self-loops of the input are dropped, degrees are summed over the *source*
  index ``edge_index[0]``, and

  - ``None``: :math:`\mathbf{L} = \mathbf{D} - \mathbf{A}`
  - ``'sym'``: :math:`\mathbf{L} = \mathbf{I} - \mathbf{D}^{-1/2}\mathbf{A}
    \mathbf{D}^{-1/2}`
  - ``'rw'``: :math:`\mathbf{L} = \mathbf{I} - \mathbf{D}^{-1}\mathbf{A}`

  with :math:`d^{-1/2}` and :math:`d^{-1}` of a degree-0 node taken as 0.
* :func:`gcn_operator` builds :math:`\hat{\mathbf{A}} = \hat{\mathbf{D}}^{-1/2}
  (\mathbf{A} + f\mathbf{I}) \hat{\mathbf{D}}^{-1/2}` of GCNConv (``f`` = 1, or
  2 when ``improved``), degrees summed over the *target* index, existing
  self-loop weights kept (``add_remaining_self_loops``).

The diagonal never becomes sparse entries: it is the operator's node-wise
``diag``.
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Tuple, Union

import torch
from torch import Tensor

from .adjacency import edge_index_hint, infer_num_nodes, to_edge_index
from .host_reads import (build_mode, keep_shapes, one_read,
                         tracing)
from .csr import csr_build, grouped_csr
from .ordering import METHODS, locality_order, permute_graph
from .operator import SparseOperator
from .operator_data import Diag
from .validation import (check_batch, check_flow, check_lambda_max,
                         check_nonnegative_degree, check_normalization,
                         check_rho)

LambdaMax = Union[None, float, Tensor]


def _inv_pow(deg: Tensor, p: float) -> Tensor:
    out = deg.pow(p)
    return out.masked_fill(torch.isinf(out), 0.0)


def _compacting(*tensors) -> bool:
    """Whether a normalizer removes self-loops from its edge list at once
    (a host read): only in the ``'eager'`` mode
    (:func:`~.host_reads.build_mode`). Traced, loops keep weight 0; queued,
    the CSR build drops them with its one read."""
    return build_mode(*tensors) == 'eager'


def laplacian_terms(edge_index: Tensor, edge_weight: Optional[Tensor],
                    num_nodes: int, normalization: Optional[str],
                    dtype: torch.dtype
                    ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    r"""Returns ``(src, dst, p, l_diag)`` with :math:`\mathbf{L} =
    \operatorname{diag}(l) - \mathbf{P}`, :math:`\mathbf{P}` given per edge
    (self-loops removed, or kept with weight 0 when not compacting;
    duplicates kept)."""
    src, dst = edge_index[0], edge_index[1]
    keep = src != dst
    compact = _compacting(src, edge_weight)
    if edge_weight is not None:
        w = edge_weight.to(dtype)
        if not compact:  # self-loops get weight 0
            w = w * keep
    else:  # all ones (self-loops 0 when not compacting)
        w = torch.ones(src.numel(), dtype=dtype, device=src.device) \
            if compact else keep.to(dtype)
    if compact and not bool(keep.all()):  # only when there are self-loops
        src, dst, w = src[keep], dst[keep], w[keep]
    deg = w.new_zeros(num_nodes).index_add(0, src, w)
    if normalization is None:
        return src, dst, w, deg
    if edge_weight is not None:  # unit weights: no negative degree
        check_nonnegative_degree(deg, repr(normalization))
    if normalization == 'sym':
        dinv = _inv_pow(deg, -0.5)
        p = w * (dinv[src] * dinv[dst])  # exactly symmetric in (src, dst)
    else:  # 'rw'
        p = _inv_pow(deg, -1.0)[src] * w
    return src, dst, p, w.new_ones(num_nodes)


#: passes over the edge list of a huge graph run in slices of this many
#: entries (their temporaries stay small)
_SLICE = 1 << 20


def _last_loop(src: Tensor, is_loop: Tensor, n: int) -> Tensor:
    """``[N]`` position in the edge list of the last self-loop at each
    node, -1 where there is none (eagerly in slices of :data:`_SLICE`
    entries, so that no ``[E]`` int64 temporary is made)."""
    E = src.numel()
    last = torch.full((n + 1, ), -1, dtype=torch.long, device=src.device)
    spans = [(0, E)] if keep_shapes(src) else \
        [(lo, min(lo + _SLICE, E)) for lo in range(0, E, _SLICE)]
    for lo, hi in spans:
        slot = torch.where(is_loop[lo:hi], src[lo:hi], n)  # non-loops: n
        pos = torch.arange(lo, hi, device=src.device)
        last.scatter_reduce_(0, slot, pos, 'amax')
    return last[:n]


def default_lambda_max(p: Tensor, l_diag: Tensor) -> Union[float, Tensor]:
    r"""PyG's default: :math:`2 \max_{ij} L_{ij}` over the stored entries
    (2.0 for ``'sym'``/``'rw'`` with non-negative weights; twice the largest
    degree for ``None``). A graph without edges has :math:`\mathbf{L}=0` and
    any :math:`\lambda_{\max}` gives the same operator: 2.0 is used. A
    float eagerly; a 0-dim tensor while tracing (no value leaves the
    graph) or while a build collects its checks (read with them)."""
    m = l_diag.new_zeros(())
    if l_diag.numel():
        m = torch.maximum(m, l_diag.max())
    if p.numel():
        m = torch.maximum(m, (-p).max())
    m = m.detach()  # a bound, not part of the graph
    if build_mode(m) != 'eager':  # no read: a tensor
        return torch.where(m > 0, 2.0 * m, torch.full_like(m, 2.0))
    lam = 2.0 * float(m)
    return lam if lam > 0 else 2.0


def _from_entries(e: 'Entries', meta: dict) -> SparseOperator:
    """The CSR operator of ``e``: rows are the message targets
    (``edge_index[1]`` for ``'source_to_target'``, ``[0]`` otherwise).
    Self-loop entries kept in the edge list go to the diagonal.

    Eagerly the build reads values back to the host once
    (:func:`~.host_reads.one_read`): the queued input checks, the loop and
    duplicate counts, whether the operator is symmetric, a scalar
    ``lambda_max`` and whether the diagonal vanishes; while tracing, not
    at all (loops and duplicates stay as entries)."""
    src, dst, val, diag = e.src, e.dst, e.val, e.diag
    rows, cols = (dst, src) if e.flow == 'source_to_target' else (src, dst)
    meta = dict(meta)
    side = meta.pop('presorted', None)
    if side is not None or keep_shapes(src, val):
        if isinstance(diag, float) and diag == 0.0:
            diag = None  # no axpy
        if side is None:  # traced: static shapes, sorted without a read
            return SparseOperator.from_coo(rows, cols, val, diag,
                                           e.num_nodes, check=False,
                                           meta=meta)
        # entries grouped by ``side`` (:func:`~.adjacency.edge_index_hint`)
        # of a symmetric operator, its own transpose: either side may be
        # the rows. Built as a traced build would (loops as zero entries,
        # duplicates summed by the kernels) with no sort, no symmetry test
        # and nothing read back.
        crow, col = grouped_csr(src if side == 'src' else dst,
                                dst if side == 'src' else src, e.num_nodes)
        return SparseOperator(crow, col, val, diag, e.num_nodes, meta=meta,
                              symmetric=True)
    with one_read() as checks:
        loop = src == dst
        if not e.loops_zero:  # loop entries join the diagonal
            diag = e.diag_tensor().index_add(
                0, src, torch.where(loop, val, val.new_zeros(())))
        lam = meta.get('lambda_max')
        at_lam = checks.post([lam]) if isinstance(lam, Tensor) else None
        at_diag = None  # a 0-dim diagonal becomes a float, a zero one None
        if isinstance(diag, Tensor) and not diag.requires_grad:
            at_diag = checks.post([diag] if diag.dim() == 0 else
                                  [(diag == 0).all()])
        crow, col, val, info, values = csr_build(
            rows, cols, val, e.num_nodes, drop=loop, checks=checks)
    if at_lam is not None:
        meta['lambda_max'] = values[at_lam][0]
    if at_diag is not None:
        value = values[at_diag][0]
        if diag.dim() == 0:
            diag = float(value)
        elif value:
            diag = None
    if isinstance(diag, float) and diag == 0.0:
        diag = None  # no axpy
    return SparseOperator(crow, col, val, diag, e.num_nodes, meta=meta,
                          **info)


class Entries(NamedTuple):
    r"""A normalized operator as per-edge values: ``val[e]`` is the weight
    of the message along ``(src[e], dst[e])`` (duplicates kept, in the
    input's edge order; self-loops only where PyG keeps them in place) and
    ``diag`` the node-wise diagonal (``None``, a float or ``[N]``), added to
    any loops. :meth:`edge_list` gives PyG's layout of
    the same operator, the one ``MessagePassing.propagate`` consumes."""
    src: Tensor
    dst: Tensor
    val: Tensor
    diag: Diag
    num_nodes: int
    flow: str
    meta: dict
    loops_zero: bool = False  # loop entries (if any) carry 0

    def diag_tensor(self) -> Tensor:
        d = self.diag
        if isinstance(d, Tensor):
            return d
        return self.val.new_full((self.num_nodes, ),
                                 0.0 if d is None else float(d))

    def edge_list(self) -> Tuple[Tensor, Tensor]:
        """``(edge_index, edge_weight)``: the edges, then (unless ``diag``
        is ``None``) one self-loop per node carrying the diagonal (PyG's
        ``add_self_loops`` order, which its explainers' ``edge_mask`` relies
        on)."""
        if self.diag is None:
            return torch.stack([self.src, self.dst]), self.val
        loop = torch.arange(self.num_nodes, device=self.src.device)
        edge_index = torch.cat([torch.stack([self.src, self.dst]),
                                torch.stack([loop, loop])], dim=1)
        return edge_index, torch.cat([self.val, self.diag_tensor()])

    def operator(self) -> SparseOperator:
        return _from_entries(self, self.meta)


def laplacian_entries(edge_index, edge_weight: Optional[Tensor] = None,
                      num_nodes: Optional[int] = None,
                      normalization: Optional[str] = 'sym',
                      lambda_max: LambdaMax = None,
                      batch: Optional[Tensor] = None,
                      dtype: Optional[torch.dtype] = None,
                      flow: str = 'source_to_target') -> Entries:
    r"""The scaled Laplacian :math:`\tilde{\mathbf{L}} = 2\mathbf{L} /
    \lambda_{\max} - \mathbf{I}` as :class:`Entries` (arguments as
    :func:`laplacian_operator`)."""
    check_normalization(normalization)
    check_flow(flow)
    hint = edge_index_hint(edge_index, edge_weight)
    edge_index, edge_weight, num_nodes = to_edge_index(
        edge_index, edge_weight, num_nodes)
    n = infer_num_nodes(edge_index, num_nodes)
    check_batch(batch, n)
    num_graphs = None
    if batch is not None and batch.numel() and not tracing(batch) and \
            isinstance(lambda_max, Tensor) and lambda_max.numel() > 1:
        num_graphs = batch.max() + 1
        if build_mode(batch) == 'eager':  # else a queued value
            num_graphs = int(num_graphs)
    check_lambda_max(lambda_max, num_graphs)
    if dtype is None:
        dtype = edge_weight.dtype if edge_weight is not None \
            else torch.get_default_dtype()
    src, dst, p, l_diag = laplacian_terms(edge_index, edge_weight, n,
                                          normalization, dtype)

    lam = lambda_max
    if isinstance(lam, Tensor):
        lam = lam.to(device=p.device, dtype=dtype)
        if lam.numel() == 1:
            lam = lam.reshape(()) if build_mode(lam) != 'eager' \
                else float(lam.reshape(()))
        elif batch is None:
            raise ValueError(f"lambda_max has {lam.numel()} entries (one "
                             f"per graph) but batch is None")
    if lam is None and normalization is not None and edge_weight is None:
        lam = 2.0  # unit weights: every entry of L is <= 1, nothing to read
    if lam is None:
        lam = default_lambda_max(p, l_diag)
    meta = dict(kind='laplacian', normalization=normalization,
                lambda_max=lam if isinstance(lam, float) else 'tensor',
                flow=flow)
    if isinstance(lam, Tensor) and not lam.dim() and not tracing(lam):
        meta['lambda_max'] = lam  # read by the build (_from_entries)
    if hint is not None and normalization != 'rw' and \
            not isinstance(lam, Tensor):  # symmetric, nothing to read
        meta['presorted'] = hint

    if isinstance(lam, Tensor):  # per graph, or a traced / queued scalar
        # (a batch index out of range raises with the queued checks)
        scale = 2.0 / (lam[batch.clamp(0, lam.numel() - 1)] if lam.dim()
                       else lam)  # [N] or []
        val = -(scale[src] if scale.dim() else scale) * p
        diag = scale * l_diag - 1.0  # [N]
    else:
        scale = 2.0 / float(lam)
        val = -scale * p
        if normalization is None:
            diag = scale * l_diag - 1.0
        else:  # l_diag == 1 everywhere
            diag = scale - 1.0  # 0.0 for lambda_max = 2: loops of weight 0
    return Entries(src, dst, val, diag, n, flow, meta, True)


def _renumbered(locality: Optional[str], edge_index, edge_weight,
                num_nodes, build, batch: Optional[Tensor] = None
                ) -> SparseOperator:
    r"""``build(edge_index, edge_weight, num_nodes, batch)`` on the graph
    renumbered by :func:`~.ordering.locality_order` (``locality`` its
    method; host work, once), the permutation kept on the operator: the
    normalizers commute with renumbering, so this is
    :math:`\mathbf{P}\mathbf{S}\mathbf{P}^\top` exactly."""
    if locality not in METHODS:
        raise ValueError(f"locality must be None or one of {METHODS} "
                         f"(got {locality!r})")
    edge_index, edge_weight, num_nodes = to_edge_index(
        edge_index, edge_weight, num_nodes)
    if keep_shapes(edge_index):
        raise ValueError("locality needs the graph on the host (a scipy "
                         "ordering): build the operator outside "
                         "torch.compile / torch.export")
    n = infer_num_nodes(edge_index, num_nodes)
    check_batch(batch, n)
    perm = locality_order(edge_index, n, locality)
    op = build(permute_graph(edge_index, perm), edge_weight, n,
               None if batch is None else batch[perm])
    op.perm = perm
    return op


def laplacian_operator(edge_index, edge_weight: Optional[Tensor] = None,
                       num_nodes: Optional[int] = None,
                       normalization: Optional[str] = 'sym',
                       lambda_max: LambdaMax = None,
                       batch: Optional[Tensor] = None,
                       dtype: Optional[torch.dtype] = None,
                       flow: str = 'source_to_target',
                       locality: Optional[str] = None
                       ) -> SparseOperator:
    r"""The scaled Laplacian :math:`\tilde{\mathbf{L}} = 2\mathbf{L} /
    \lambda_{\max} - \mathbf{I}` as a :class:`SparseOperator`.

    Args:
        edge_index: ``[2, E]`` indices, a ``SparseTensor`` or a
            ``torch.sparse`` adjacency (``adj_t``).
        edge_weight (Tensor, optional): ``[E]`` weights.
        num_nodes (int, optional): :math:`N`.
        normalization: ``None``, ``'sym'`` or ``'rw'``.
        lambda_max: ``None`` (PyG's bound, see :func:`default_lambda_max`),
            a positive float, a scalar tensor, or a ``[num_graphs]`` tensor
            used with ``batch``.
        batch (Tensor, optional): ``[N]`` graph index of every node.
        dtype: value dtype (default: ``edge_weight``'s, else the default).
        flow: PyG's message direction. ``'target_to_source'`` sends messages
            from ``edge_index[1]`` to ``edge_index[0]``: the transpose (the
            degrees are summed over ``edge_index[0]`` in both, as PyG's
            ``get_laplacian`` does).
        locality (str, optional): ``'rcm'`` or ``'bfs'``: build the
            operator on the graph renumbered for memory locality
            (:func:`~pyg_spectral.ops.ordering.locality_order`, once, on
            the host); products and filters take and return node features
            in the caller's numbering (one gather in, one out per call;
            :attr:`~SparseOperator.perm`). Pays on big randomly numbered
            graphs (``benchmarks/results/locality.md``).
    """
    if locality is not None:
        return _renumbered(
            locality, edge_index, edge_weight, num_nodes,
            lambda ei, w, n, b: laplacian_operator(
                ei, w, n, normalization, lambda_max, b, dtype, flow),
            batch)
    with one_read():  # the checks and the CSR build: one host read
        return laplacian_entries(edge_index, edge_weight, num_nodes,
                                 normalization, lambda_max, batch, dtype,
                                 flow).operator()


def gcn_entries(edge_index, edge_weight: Optional[Tensor] = None,
                num_nodes: Optional[int] = None, improved: bool = False,
                add_self_loops: bool = True, normalize: bool = True,
                dtype: Optional[torch.dtype] = None,
                flow: str = 'source_to_target', rho: float = 0.5
                ) -> Entries:
    r"""GCN's propagation matrix as :class:`Entries` (arguments as
    :func:`gcn_operator`)."""
    check_flow(flow)
    rho = check_rho(rho)
    hint = edge_index_hint(edge_index, edge_weight) if rho == 0.5 else None
    edge_index, edge_weight, num_nodes = to_edge_index(
        edge_index, edge_weight, num_nodes)
    n = infer_num_nodes(edge_index, num_nodes)
    if dtype is None:
        dtype = edge_weight.dtype if edge_weight is not None \
            else torch.get_default_dtype()
    src, dst = edge_index[0], edge_index[1]
    # edge_weight=None means all ones, in every mode (existing self-loops
    # included: they keep weight 1 as with torch.ones(E))
    w = torch.ones(src.numel(), dtype=dtype, device=src.device) \
        if edge_weight is None else edge_weight.to(dtype)
    meta = dict(kind='gcn', improved=improved, add_self_loops=add_self_loops,
                normalize=normalize, flow=flow, rho=rho)
    if hint is not None:  # symmetric, nothing to read (_from_entries)
        meta['presorted'] = hint
    if add_self_loops:
        # add_remaining_self_loops: existing loops leave the edge list and
        # keep their weight as the diagonal; the other nodes get `fill`
        # (of several loops at a node the last one wins, as in PyG; picked
        # by position, so that only the winner receives a gradient)
        is_loop = src == dst
        last = _last_loop(src, is_loop, n)  # [N], -1 = none
        fill = 2.0 if improved else 1.0
        loop_w = torch.where(last < 0, fill, w[last.clamp(min=0)]) \
            if w.numel() else w.new_full((n, ), fill)  # [N]
        if not _compacting(src, w):  # loops stay, weight 0
            w = w * ~is_loop
        else:
            src, dst, w = src[~is_loop], dst[~is_loop], w[~is_loop]
        deg = loop_w
    else:  # the edge list as given, loops in place
        loop_w, deg = None, w.new_zeros(n)
    if not normalize:
        return Entries(src, dst, w, loop_w, n, flow, meta, add_self_loops)
    target = dst if flow == 'source_to_target' else src
    deg = deg.index_add(0, target, w)
    if edge_weight is not None:  # unit weights: no negative degree
        check_nonnegative_degree(deg, 'GCN')
    if rho == 0.5:
        dinv = _inv_pow(deg, -0.5)
        val = w * (dinv[src] * dinv[dst])  # exactly symmetric in (src, dst)
        diag = None if loop_w is None else dinv * dinv * loop_w
    else:  # d_i^-rho a_ij d_j^-(1-rho), i the message's target
        source = src if flow == 'source_to_target' else dst
        val = w * (_inv_pow(deg, -rho)[target] *
                   _inv_pow(deg, rho - 1.0)[source])
        diag = None if loop_w is None else _inv_pow(deg, -1.0) * loop_w
    return Entries(src, dst, val, diag, n, flow, meta, add_self_loops)


def gcn_operator(edge_index, edge_weight: Optional[Tensor] = None,
                 num_nodes: Optional[int] = None, improved: bool = False,
                 add_self_loops: bool = True, normalize: bool = True,
                 dtype: Optional[torch.dtype] = None,
                 flow: str = 'source_to_target',
                 locality: Optional[str] = None,
                 rho: float = 0.5) -> SparseOperator:
    r"""GCN's propagation matrix as a :class:`SparseOperator`:
    :math:`\hat{\mathbf{D}}^{-1/2}(\mathbf{A} + f\mathbf{I})
    \hat{\mathbf{D}}^{-1/2}` when ``normalize`` (``f`` = 2 if ``improved``
    else 1, only if ``add_self_loops``), the raw weighted adjacency
    otherwise. ``rho`` generalizes the normalization to
    :math:`\hat{\mathbf{D}}^{-\rho}(\mathbf{A} + f\mathbf{I})
    \hat{\mathbf{D}}^{\rho - 1}` (not symmetric for :math:`\rho \neq
    1/2`: the backward pass then runs on the exact transpose; ``rho=1`` is
    the random walk :math:`\hat{\mathbf{D}}^{-1}\hat{\mathbf{A}}`).
    ``edge_weight=None`` is all ones. With ``flow='target_to_source'``
    messages go from ``edge_index[1]`` to
    ``edge_index[0]`` and degrees are summed over ``edge_index[0]`` (PyG's
    ``gcn_norm``). ``locality`` as in :func:`laplacian_operator`."""
    if locality is not None:
        return _renumbered(
            locality, edge_index, edge_weight, num_nodes,
            lambda ei, w, n, _: gcn_operator(ei, w, n, improved,
                                             add_self_loops, normalize,
                                             dtype, flow, rho=rho))
    with one_read():  # the checks and the CSR build: one host read
        return gcn_entries(edge_index, edge_weight, num_nodes, improved,
                           add_self_loops, normalize, dtype,
                           flow, rho).operator()
