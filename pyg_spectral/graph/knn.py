r"""kNN graphs with Gaussian weights (Defferrard et al. 2016; Henaff et al.
2015's unsupervised graph estimation).

For points :math:`z_i`, each node links to its ``k`` nearest neighbours
with :math:`w_{ij} = \exp(-d_{ij}^2/\sigma^2)`, :math:`\sigma^2` the mean
squared distance to the k-th neighbour; the graph is symmetrized with
:math:`\max(w_{ij}, w_{ji})` and has no self-loops (mdeff/cnn_graph's
``adjacency``).
"""
from __future__ import annotations

from typing import Tuple

import numpy as np
import torch
from scipy.spatial import cKDTree
from torch import Tensor

from ..ops.validation import check_int


def knn_gaussian_graph(points, k: int = 8) -> Tuple[Tensor, Tensor]:
    """``(edge_index, edge_weight)`` of the symmetrized kNN Gaussian graph
    of ``points`` ``[n, dim]``."""
    z = np.asarray(points, dtype=np.float64)
    if z.ndim != 2:
        raise ValueError(f"points must be [n, dim] (got {z.shape})")
    if not np.isfinite(z).all():
        raise ValueError("points contain NaN or Inf")
    n = z.shape[0]
    if not 1 <= k < n:
        raise ValueError(f"k must be in [1, {n - 1}] (got {k})")
    dist, idx = cKDTree(z).query(z, k=k + 1)  # the first hit is the point
    dist, idx = dist[:, 1:], idx[:, 1:]
    sigma2 = float(np.mean(dist[:, -1]) ** 2) or 1.0
    w = np.exp(-dist ** 2 / sigma2)
    rows = np.repeat(np.arange(n), k)
    import scipy.sparse as sp
    W = sp.csr_matrix((w.ravel(), (rows, idx.ravel())), shape=(n, n))
    W = W.maximum(W.T)  # symmetric
    W.setdiag(0)
    W.eliminate_zeros()
    coo = W.tocoo()
    ei = torch.from_numpy(np.stack([coo.row, coo.col])).long()
    return ei, torch.from_numpy(coo.data).float()


def grid_graph(m: int, k: int = 8) -> Tuple[Tensor, Tensor]:
    """The ``m x m`` pixel grid as a kNN Gaussian graph (8-NN for MNIST as
    Defferrard et al.); node ``r * m + c`` is pixel ``(r, c)``."""
    check_int(m, 'm', minimum=2)
    r, c = np.meshgrid(np.arange(m), np.arange(m), indexing='ij')
    z = np.stack([r.ravel(), c.ravel()], 1) / max(m - 1, 1)
    return knn_gaussian_graph(z, k)


def estimate_graph(X, k: int = 8) -> Tuple[Tensor, Tensor]:
    r"""Graph over the *features* (columns) of a data matrix ``X``
    ``[samples, features]`` from :math:`d(i, j) = \lVert X_{:,i} -
    X_{:,j}\rVert^2` (Henaff et al. 2015), kNN and Gaussian weights."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be [samples, features] (got {X.shape})")
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or Inf")
    return knn_gaussian_graph(X.T, k)
