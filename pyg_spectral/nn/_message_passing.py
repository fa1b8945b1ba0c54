"""What keeps ChebConv and GCNConv drop-ins for the PyG features that work
*through* :class:`~torch_geometric.nn.conv.MessagePassing`.

A layer has three ways to evaluate the same filter, picked per call:

* **fast** (default): the engine with fused projections
  (:func:`~pyg_spectral.ops.cheb_filter`);
* **modules**: the engine for the sparse products, but the ``lin``/``lins``
  submodules called as modules in PyG's order, so that their hooks fire, a
  replaced submodule takes effect and ``summary()`` sees them -- chosen when
  :func:`calls_modules` is true;
* **propagate**: PyG's own algorithm through ``self.propagate`` on per-edge
  messages, for the features that need them (explainers' edge masks,
  message/aggregate/propagate hooks, ``decomposed_layers``, an ``aggr``
  other than sum, overridden ``message``/``aggregate``/``update``) -- chosen
  when :func:`needs_messages` is true. Its result equals PyG's layer.

Layout: ``x`` is ``[*, N, C]`` with the node axis at the layer's
``node_dim`` (PyG's static-graph mode: one graph, many signals) and the
channels last; the engine sees it as ``[N, M, C]`` (:func:`to_node_major`).
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor
from torch_geometric.nn.conv import MessagePassing
from torch_geometric.nn.dense.linear import Linear

from ..ops import SparseOperator
from ..ops.adjacency import is_sparse_tensor, is_torch_sparse_tensor
from ..ops.normalize import Entries
from ..ops.validation import check_flow

_MESSAGE_HOOKS = (
    '_propagate_forward_pre_hooks', '_propagate_forward_hooks',
    '_message_forward_pre_hooks', '_message_forward_hooks',
    '_aggregate_forward_pre_hooks', '_aggregate_forward_hooks',
    '_message_and_aggregate_forward_pre_hooks',
    '_message_and_aggregate_forward_hooks')
_SUM = ('add', 'sum')


def needs_messages(conv: MessagePassing, base: type) -> bool:
    """True when a feature of ``conv`` acts on per-edge messages, so the
    layer must run through ``self.propagate`` (``base``: the layer class
    whose ``message``/``aggregate``/``update`` the fast path implements)."""
    cls = type(conv)
    return bool(conv._explain) or conv.decomposed_layers > 1 or \
        conv.aggr not in _SUM or \
        any(getattr(conv, h) for h in _MESSAGE_HOOKS) or \
        any(getattr(cls, f) is not getattr(base, f)
            for f in ('message', 'aggregate', 'update'))


def _global_module_hooks() -> bool:
    m = torch.nn.modules.module
    return bool(m._global_forward_hooks or m._global_forward_pre_hooks or
                m._global_backward_hooks or
                getattr(m, '_global_backward_pre_hooks', None))


def calls_modules(lins) -> bool:
    """True when the projections must run as module calls: a hook on a
    ``Linear`` (or a global module hook), or a ``Linear`` replaced by a
    module the fused path cannot read as a bias-free weight."""
    if _global_module_hooks():
        return True
    for lin in lins:
        if type(lin) is not Linear or lin.bias is not None or \
                lin._forward_hooks or lin._forward_pre_hooks or \
                lin._backward_hooks or lin._backward_pre_hooks:
            return True
    return False


def check_layer_flow(conv: MessagePassing, graph) -> None:
    """``flow`` may be changed after construction: checked on every call,
    with PyG's rule that a sparse matrix cannot be propagated in reverse."""
    check_flow(conv.flow)
    if conv.flow == 'target_to_source' and (
            is_sparse_tensor(graph) or is_torch_sparse_tensor(graph)):
        raise ValueError(
            "flow='target_to_source' is invalid for a graph given as a "
            "sparse matrix (as in PyG): pass the transposed matrix instead")


def node_axis(conv: MessagePassing, x: Tensor) -> int:
    """The node axis of ``x`` (``conv.node_dim``, non-negative); never the
    channel axis."""
    if x.layout != torch.strided and x.dim() != 2:
        raise ValueError(f"x: a sparse x must have shape [num_nodes, "
                         f"channels] (got {list(x.shape)})")
    nd = conv.node_dim
    if not -x.dim() <= nd < x.dim() or nd % x.dim() == x.dim() - 1:
        raise ValueError(
            f"node_dim={nd} of {type(conv).__name__} must index a node axis "
            f"of x other than the channel axis (x has shape "
            f"{list(x.shape)})")
    return nd % x.dim()


def to_node_major(x: Tensor, nd: int) -> Tensor:
    """``[*, N, C]`` (node axis ``nd``) -> ``[N, C]`` or ``[N, M, C]``."""
    if x.dim() == 2:
        return x
    xn = x.movedim(nd, 0)  # [N, *rest, C]
    return xn.reshape(xn.size(0), -1, xn.size(-1))  # [N, M, C]


def from_node_major(y: Tensor, x: Tensor, nd: int) -> Tensor:
    """Inverse of :func:`to_node_major` for an output ``y`` ``[N, (M,) F]``
    of the signal ``x``: ``[*, N, F]`` with the node axis back at ``nd``,
    contiguous as PyG's output (``out.view(-1, F)`` works)."""
    if x.dim() == 2:
        return y
    shape = (x.size(nd), ) + tuple(
        s for i, s in enumerate(x.shape[:-1]) if i != nd) + (y.size(-1), )
    # [N, *rest, F] -> [*, N, F]
    return y.reshape(shape).movedim(0, nd).contiguous()


def engine_propagate(op: SparseOperator, nd: int) -> Callable[[Tensor],
                                                              Tensor]:
    """``h -> S h`` on the engine for ``h`` in the layer's layout."""
    def prop(h: Tensor) -> Tensor:
        if h.layout != torch.strided:
            h = h.to_dense()
        hn = to_node_major(h, nd)
        y = op.matmul(hn.reshape(hn.size(0), -1))  # [N, M*C]
        return from_node_major(y.view(hn.shape), h, nd)
    return prop


def operator_entries(op: SparseOperator, flow: str) -> Entries:
    """The per-edge :class:`~pyg_spectral.ops.normalize.Entries` of a built
    operator (rows of the CSR are the message targets)."""
    rows, cols = op.rows(), op.col.long()
    diag = op.diag
    if op.perm is not None:  # renumbered: back to the caller's nodes
        rows, cols = op.perm[rows], op.perm[cols]
        if isinstance(diag, Tensor) and diag.dim():
            diag = op.from_local(diag)
    src, dst = (cols, rows) if flow == 'source_to_target' else (rows, cols)
    return Entries(src, dst, op.val, diag, op.num_nodes, flow, op.meta)


def sparse_adj_t(e: Entries, like) -> object:
    """The operator of ``e`` as a transposed adjacency of ``like``'s kind
    (``SparseTensor`` or ``torch.sparse``), diagonal included: what PyG's
    normalizers return for sparse-matrix graphs."""
    edge_index, w = e.edge_list()
    n = e.num_nodes
    if is_sparse_tensor(like):
        from torch_sparse import SparseTensor
        return SparseTensor(row=edge_index[1], col=edge_index[0], value=w,
                            sparse_sizes=(n, n)).coalesce()
    adj = torch.sparse_coo_tensor(edge_index.flip(0), w, (n, n)).coalesce()
    return adj if like.layout == torch.sparse_coo else adj.to_sparse_csr()


def no_torchscript(conv) -> None:
    raise TypeError(
        f"{type(conv).__name__} does not support torch.jit.script "
        f"(TorchScript is deprecated in PyTorch); use torch.compile or "
        f"torch.export instead")

