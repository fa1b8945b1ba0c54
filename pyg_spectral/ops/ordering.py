r"""Node orderings for memory locality.

A sparse product :math:`\mathbf{S}\mathbf{X}` reads the rows of
:math:`\mathbf{X}` named by each row's column indices. When neighbours have
nearby numbers, those reads hit the cache lines and pages the previous rows
brought in; on a randomly numbered graph almost every read misses. Graphs
come in whatever order their source used, so renumbering once pays on every
product of every layer that follows.

:func:`locality_order` returns a permutation ``perm`` (``perm[new] = old``):

* ``'rcm'``: reverse Cuthill-McKee (``scipy.sparse.csgraph``) on the
  symmetrized pattern: minimizes the bandwidth, the best locality, and runs
  in :math:`O(|E|)` in compiled code;
* ``'bfs'``: breadth-first order from a lowest-degree node (a peripheral
  start, as Cuthill-McKee's; ``scipy.sparse.csgraph.breadth_first_order``),
  component by component: the same level structure without the degree
  sort of each level, cheaper.

Layout: ``edge_index`` ``[2, E]``; ``perm`` ``[N]`` int64.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from .validation import check_edge_index, check_num_nodes

METHODS = ('rcm', 'bfs')

#: components up to this size are kept together without a search
SMALL = 64


def _pattern(edge_index: Tensor, n: int):
    import scipy.sparse as sp
    ei = edge_index.detach().cpu().numpy()
    ones = np.ones(ei.shape[1], dtype=np.int8)
    a = sp.csr_matrix((ones, (ei[0], ei[1])), shape=(n, n))
    return (a + a.T).tocsr()  # symmetrized: the order is for both flows


def locality_order(edge_index: Tensor, num_nodes: int,
                   method: str = 'rcm') -> Tensor:
    """A permutation ``perm`` (``perm[new] = old``) that numbers neighbours
    close together (see module doc); on ``edge_index``'s device."""
    n = check_num_nodes(num_nodes)
    check_edge_index(edge_index, n)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS} (got {method!r})")
    from scipy.sparse import csgraph
    a = _pattern(edge_index, n)
    if method == 'rcm':
        perm = csgraph.reverse_cuthill_mckee(a, symmetric_mode=True)
    else:
        perm = _bfs_order(a)
    return torch.from_numpy(np.ascontiguousarray(perm, dtype=np.int64)).to(
        edge_index.device)


def _bfs_order(a) -> np.ndarray:
    """Breadth-first order on the symmetric pattern ``a``. One search from
    a lowest-degree node (a peripheral start) on the whole graph, which
    covers a connected graph, or its giant component, without labelling
    components (as costly as the search); what it leaves, at most
    :data:`SMALL` nodes, follows in index order, else is ordered component
    by component (:func:`_components_order`). ``a`` is symmetric, so the
    searches follow its rows as they are (no undirected copy)."""
    from scipy.sparse import csgraph
    n = a.shape[0]
    deg = np.diff(a.indptr)
    linked = np.flatnonzero(deg > 0)
    if linked.size == 0:
        return np.arange(n)
    root = int(linked[np.argmin(deg[linked])])
    first = csgraph.breadth_first_order(a, root, directed=True,
                                        return_predecessors=False)
    seen = np.zeros(n, dtype=bool)
    seen[first] = True
    rest = np.flatnonzero(~seen)  # in index order
    if rest.size > SMALL:
        rest = rest[_components_order(a[rest][:, rest])]
    return np.concatenate([first, rest])


def _components_order(a) -> np.ndarray:
    """Breadth-first order of each connected component of the symmetric
    pattern ``a`` from a lowest-degree node, components one after another.
    One scipy BFS per component of more than :data:`SMALL` nodes: the
    largest on the whole graph, the others on their own subgraphs (a BFS
    call costs O(N) of the graph it is given, and a subgraph costs a copy);
    smaller components keep their nodes together in index order (all the
    locality they need)."""
    from scipy.sparse import csgraph
    ncomp, label = csgraph.connected_components(a, directed=True,
                                                connection='weak')
    sizes = np.bincount(label, minlength=ncomp)
    grouped = np.argsort(label, kind='stable')  # nodes by component
    starts = np.concatenate([[0], np.cumsum(sizes)])
    perm = grouped.copy()
    deg = np.diff(a.indptr)
    largest = int(np.argmax(sizes)) if ncomp else -1
    for c in np.flatnonzero(sizes > SMALL):
        nodes = grouped[starts[c]:starts[c + 1]]
        root = int(nodes[np.argmin(deg[nodes])])  # a peripheral start
        if c == largest:  # the whole graph: no copy, one O(N) search
            order = csgraph.breadth_first_order(a, root, directed=True,
                                                return_predecessors=False)
        else:
            sub = a[nodes][:, nodes]
            local = int(np.searchsorted(nodes, root))
            order = nodes[csgraph.breadth_first_order(
                sub, local, directed=True, return_predecessors=False)]
        perm[starts[c]:starts[c + 1]] = order
    return perm


def permute_graph(edge_index: Tensor, perm: Tensor) -> Tensor:
    """``edge_index`` renumbered by ``perm`` (``perm[new] = old``)."""
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(perm.numel(), device=perm.device)
    return inv[edge_index]
