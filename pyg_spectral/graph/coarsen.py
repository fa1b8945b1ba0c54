r"""Multi-level graph coarsening for pooling (Defferrard et al. 2016, Sec.
2.3; the SCNN papers' hierarchical clustering).

:func:`normalized_cut_matching` is Graclus' greedy normalized-cut
heavy-edge matching (mdeff/cnn_graph's ``metis_one_level``): unmarked
nodes, visited in a random order, are matched with the unmarked neighbour
maximizing :math:`w_{ij}(1/d_i + 1/d_j)`; unmatched nodes form singleton
clusters. :func:`coarsen` applies it ``levels`` times, summing edge weights
between clusters (:math:`\mathbf{W}' = \mathbf{P}^\top\mathbf{W}\mathbf{P}`).

Pooling uses the cluster assignments directly (a scatter max/mean per
cluster: :class:`~pyg_spectral.nn.GraphPool`), so there are no padding
("fake") nodes at all, and nothing that could win a max-pool — unlike the
binary-tree permutation of mdeff/cnn_graph, whose zero-filled fake nodes
win the max over negative activations.
"""
from __future__ import annotations

from typing import List, Tuple

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from ..ops.adjacency import infer_num_nodes, to_edge_index
from ..ops.validation import check_int


def _to_csr(edge_index: Tensor, edge_weight, n: int) -> sp.csr_matrix:
    ei = edge_index.cpu().numpy()
    w = np.ones(ei.shape[1]) if edge_weight is None else \
        edge_weight.detach().cpu().double().numpy()
    W = sp.csr_matrix((w, (ei[0], ei[1])), shape=(n, n))
    W = W.maximum(W.T)
    W.setdiag(0)
    W.eliminate_zeros()
    return W


def normalized_cut_matching(W: sp.csr_matrix, rng) -> np.ndarray:
    """Cluster id of every node after one Graclus matching level."""
    n = W.shape[0]
    deg = np.asarray(W.sum(1)).ravel()
    cluster = -np.ones(n, dtype=np.int64)
    nxt = 0
    for i in rng.permutation(n):
        if cluster[i] >= 0:
            continue
        cluster[i] = nxt
        lo, hi = W.indptr[i], W.indptr[i + 1]
        nbrs, w = W.indices[lo:hi], W.data[lo:hi]
        free = cluster[nbrs] < 0
        if free.any():
            nb, wf = nbrs[free], w[free]
            score = wf * (1.0 / max(deg[i], 1e-12) +
                          1.0 / np.maximum(deg[nb], 1e-12))
            cluster[nb[np.argmax(score)]] = nxt
        nxt += 1
    return cluster


def coarsen(edge_index: Tensor, edge_weight=None, num_nodes: int = None,
            levels: int = 2, seed: int = 0
            ) -> List[Tuple[Tensor, Tensor, Tensor]]:
    """Returns, per level, ``(edge_index, edge_weight, cluster)``: the
    coarsened graph and the cluster of every node of the previous level
    (``cluster`` ``[N_prev]`` with values in ``[0, N_new)``)."""
    edge_index, edge_weight, num_nodes = to_edge_index(
        edge_index, edge_weight, num_nodes)
    n = infer_num_nodes(edge_index, num_nodes)
    check_int(levels, 'levels', minimum=0)
    if edge_weight is not None and edge_weight.numel() and \
            bool((edge_weight < 0).any()):
        raise ValueError("edge_weight must be non-negative (normalized-cut "
                         "matching)")
    W = _to_csr(edge_index, edge_weight, n)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(levels):
        c = normalized_cut_matching(W, rng)
        m = int(c.max()) + 1
        P = sp.csr_matrix((np.ones(W.shape[0]), (np.arange(W.shape[0]), c)),
                          shape=(W.shape[0], m))
        W = (P.T @ W @ P).tocsr()
        W.setdiag(0)
        W.eliminate_zeros()
        coo = W.tocoo()
        out.append((torch.from_numpy(np.stack([coo.row, coo.col])).long(),
                    torch.from_numpy(coo.data).float(),
                    torch.from_numpy(c)))
    return out
