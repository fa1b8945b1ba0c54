r"""Accepted graph inputs and their conversion to ``(edge_index,
edge_weight)``.

A graph may be given as

* ``edge_index`` ``[2, E]`` (row 0 = source, row 1 = target) with optional
  ``edge_weight`` ``[E]``,
* a ``torch_sparse.SparseTensor`` or a ``torch.sparse`` tensor (COO, CSR or
  CSC) holding the *transposed* adjacency ``adj_t[target, source]``, as
  everywhere in PyG,
* a ``torch_geometric.EdgeIndex``: its metadata is trusted as PyG trusts
  it (``sparse_size`` bounds the indices; ``EdgeIndex.validate()`` checks
  them), so its index range is not read back; a sorted, undirected
  ``EdgeIndex`` without weights builds its operator with no host read at
  all (:func:`edge_index_hint`).
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor

from .host_reads import checks_now, pending_checks
from .validation import (as_size, check_edge_index, check_edge_weight,
                         check_num_nodes, check_same_device)

#: edge lists up to this length are checked with the build's one host read
#: (on a clamped copy, so that nothing indexes out of range before the
#: check raises); longer ones are checked at once (no copy; a read is
#: nothing next to their build)
DEFER_MAX_EDGES = 1 << 22


def is_torch_sparse_tensor(adj) -> bool:
    return isinstance(adj, Tensor) and adj.layout in (
        torch.sparse_coo, torch.sparse_csr, torch.sparse_csc)


def is_sparse_tensor(adj) -> bool:
    """True for a ``torch_sparse.SparseTensor`` (without importing it)."""
    return type(adj).__name__ == 'SparseTensor' and hasattr(adj, 'coo')


def is_edge_index(adj) -> bool:
    """True for a ``torch_geometric.EdgeIndex`` (without importing it)."""
    return isinstance(adj, Tensor) and type(adj).__name__ == 'EdgeIndex' \
        and hasattr(adj, 'as_tensor')


def edge_index_hint(adj, edge_weight: Optional[Tensor] = None
                    ) -> Optional[str]:
    """``'src'`` / ``'dst'`` when ``adj`` is an undirected
    ``EdgeIndex`` sorted by ``edge_index[0]`` / ``[1]`` and the graph is
    unweighted: its normalized operator is then symmetric and its entries
    come grouped by row, so the build needs neither a sort nor a symmetry
    test nor any value read back; else None."""
    if edge_weight is not None or not is_edge_index(adj) or \
            not adj.is_undirected:
        return None
    return {'row': 'src', 'col': 'dst'}.get(adj.sort_order)


def to_edge_index(adj, edge_weight: Optional[Tensor] = None,
                  num_nodes: Optional[int] = None
                  ) -> Tuple[Tensor, Optional[Tensor], Optional[int]]:
    """Returns ``(edge_index, edge_weight, num_nodes)`` for any accepted
    graph input, validated. ``num_nodes`` is taken from the sparse matrix's
    size where there is one."""
    num_nodes = check_num_nodes(num_nodes)
    if is_edge_index(adj):  # trusted metadata (module docstring)
        size = adj.sparse_size()
        if size[0] is not None and size[1] is not None and \
                size[0] != size[1]:
            raise ValueError(f"edge_index (EdgeIndex) must be square "
                             f"(sparse_size={tuple(size)})")
        stated = size[0] if size[0] is not None else size[1]
        if stated is not None and num_nodes is not None and \
                stated != num_nodes:
            raise ValueError(f"edge_index (EdgeIndex) has sparse_size "
                             f"{stated} but x has {num_nodes} rows")
        plain = adj.as_tensor()
        check_edge_index(plain, num_nodes, values=False)
        check_edge_weight(edge_weight, plain.size(1))
        return plain, edge_weight, num_nodes if num_nodes is not None \
            else stated
    if is_sparse_tensor(adj) or is_torch_sparse_tensor(adj):
        if edge_weight is not None:
            raise ValueError("edge_weight must be None when the graph is "
                             "given as a sparse matrix (its values are the "
                             "weights)")
        if adj.size(0) != adj.size(1):
            raise ValueError(f"the sparse adjacency must be square "
                             f"(got {tuple(adj.size())})")
        n = int(adj.size(0))
        if num_nodes is not None and n != num_nodes:
            raise ValueError(f"the sparse adjacency has {n} nodes but x has "
                             f"{num_nodes} rows")
        if is_sparse_tensor(adj):
            row, col, value = adj.coo()
        else:
            coo = adj.to_sparse_coo().coalesce()
            row, col = coo.indices()
            value = coo.values()
        # adj_t[target, source] -> edge_index [source; target]
        edge_index = torch.stack([col, row], dim=0)
        if value is not None and not value.is_floating_point():
            value = value.to(torch.get_default_dtype())
        check_edge_weight(value, edge_index.size(1))
        return edge_index, value, n
    adj = _checked_edge_index(adj, num_nodes)
    check_edge_weight(edge_weight, adj.size(1))
    if edge_weight is not None:
        check_same_device('edge_weight', edge_weight.device, 'edge_index',
                          adj.device)
    return adj, edge_weight, num_nodes


def _checked_edge_index(edge_index, num_nodes: Optional[int]) -> Tensor:
    """Checks ``edge_index``; while a build collects its checks
    (:func:`~.host_reads.one_read`), returns a copy clamped into range, on
    which the build can run before the queued check raises."""
    if pending_checks() is None or num_nodes is None or \
            not isinstance(num_nodes, int) or not isinstance(
                edge_index, Tensor) or edge_index.dim() != 2 or \
            edge_index.numel() == 0:
        check_edge_index(edge_index, num_nodes)
        return edge_index
    if num_nodes == 0 or edge_index.size(1) > DEFER_MAX_EDGES:
        with checks_now():  # raises for num_nodes == 0
            check_edge_index(edge_index, num_nodes)
        return edge_index
    check_edge_index(edge_index, num_nodes)
    return edge_index.clamp(0, num_nodes - 1)


def graph_device(adj) -> Optional[torch.device]:
    """The device of any accepted graph input (None if unknown)."""
    if is_sparse_tensor(adj):
        return adj.device()
    return adj.device if isinstance(adj, Tensor) else None


def infer_num_nodes(edge_index: Tensor, num_nodes: Optional[int]) -> int:
    if num_nodes is not None:
        return as_size(num_nodes)
    return int(edge_index.max()) + 1 if edge_index.numel() else 0
