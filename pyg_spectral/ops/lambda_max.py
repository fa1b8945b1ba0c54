r"""Estimates of the largest Laplacian eigenvalue :math:`\lambda_{\max}`.

:func:`estimate_lambda_max` returns one value per graph, slightly above the
true :math:`\lambda_{\max}` (so that the spectrum of
:math:`2\mathbf{L}/\lambda_{\max} - \mathbf{I}` stays inside
:math:`[-1, 1]`), never above the always-valid bound (2 for ``'sym'`` /
``'rw'``, twice the largest degree for ``None``). Graphs are assumed
undirected (symmetric :math:`\mathbf{A}`); for directed graphs keep the
default bound.

Methods:

* ``'power'``: batched power iteration on all graphs of a batch at once
  (each iteration one sparse product), Rayleigh quotient times ``margin``;
* ``'lanczos'``: ``scipy.sparse.linalg.eigsh`` per graph (as PyG's
  ``LaplacianLambdaMax`` transform), exact up to ``tol``, times ``margin``.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch
from torch import Tensor

from .adjacency import infer_num_nodes, to_edge_index
from .normalize import laplacian_terms
from .operator import SparseOperator
from .validation import (check_batch, check_normalization,
                         check_positive_int)


def _segment_sum(v: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
    return v.new_zeros(num_graphs).index_add(0, batch, v)


def estimate_lambda_max(edge_index, edge_weight: Optional[Tensor] = None,
                        num_nodes: Optional[int] = None,
                        normalization: Optional[str] = 'sym',
                        batch: Optional[Tensor] = None,
                        method: str = 'power', num_iters: int = 200,
                        margin: float = 1.01,
                        seed: int = 0) -> Tensor:
    r"""Returns ``[num_graphs]`` estimates of :math:`\lambda_{\max}(\mathbf{L})`
    (a single graph when ``batch`` is None gives shape ``[1]``)."""
    check_normalization(normalization)
    if method not in ('power', 'lanczos'):
        raise ValueError(f"method must be 'power' or 'lanczos' "
                         f"(got {method!r})")
    check_positive_int(num_iters, 'num_iters')
    if not margin >= 1.0:
        raise ValueError(f"margin must be >= 1 (got {margin})")
    edge_index, edge_weight, num_nodes = to_edge_index(
        edge_index, edge_weight, num_nodes)
    n = infer_num_nodes(edge_index, num_nodes)
    check_batch(batch, n)
    dtype = torch.float64
    src, dst, p, l_diag = laplacian_terms(edge_index, edge_weight, n,
                                          normalization, dtype)
    if normalization == 'rw':  # same spectrum as 'sym'
        src, dst, p, l_diag = laplacian_terms(edge_index, edge_weight, n,
                                              'sym', dtype)
    if batch is None:
        batch = torch.zeros(n, dtype=torch.long, device=src.device)
    batch = batch.long()
    num_graphs = int(batch.max()) + 1 if n else 1
    lap = SparseOperator.from_coo(dst, src, -p, l_diag, n, check=False)

    # Gershgorin / known bound per graph
    if normalization is None:
        absrow = l_diag.new_zeros(n).index_add(0, dst, p.abs())
        node_bound = l_diag.abs() + absrow
        bound = l_diag.new_zeros(num_graphs).scatter_reduce(
            0, batch, node_bound, 'amax', include_self=True)
    else:
        bound = l_diag.new_full((num_graphs, ), 2.0)

    if method == 'lanczos':
        est = _lanczos(lap, batch, num_graphs)
    else:
        est = _power(lap, batch, num_graphs, num_iters, seed)
    est = torch.minimum(est * margin, bound)
    # a graph without edges has L = 0: any positive value works
    est = torch.where(est > 0, est, torch.full_like(est, 2.0))
    out_dtype = edge_weight.dtype if edge_weight is not None \
        else torch.get_default_dtype()
    return est.to(out_dtype)


def _power(lap: SparseOperator, batch: Tensor, num_graphs: int,
           num_iters: int, seed: int) -> Tensor:
    gen = torch.Generator(device='cpu').manual_seed(seed)
    v = torch.rand(lap.num_nodes, 1, generator=gen,
                   dtype=torch.float64).to(lap.device) + 0.1
    v = v - 0.5  # not orthogonal to the top eigenvector (almost surely)
    rq = v.new_zeros(num_graphs)
    for _ in range(max(num_iters, 1)):
        norm = _segment_sum(v[:, 0] ** 2, batch, num_graphs).sqrt()
        v = v / norm.clamp_min(1e-300)[batch].unsqueeze(1)
        w = lap.matmul(v)
        rq = _segment_sum((v * w)[:, 0], batch, num_graphs)
        v = w
    return rq


def _lanczos(lap: SparseOperator, batch: Tensor, num_graphs: int) -> Tensor:
    import scipy.sparse as sp
    from scipy.sparse.linalg import eigsh
    dense_limit = 64
    mat = sp.csr_matrix(
        (lap.val.cpu().numpy(), lap.col.cpu().long().numpy(),
         lap.crow.cpu().long().numpy()), shape=(lap.num_nodes, ) * 2)
    mat = mat + sp.diags(lap.diag_tensor().cpu().numpy())
    b = batch.cpu().numpy()
    out = np.zeros(num_graphs)
    for g in range(num_graphs):
        idx = np.nonzero(b == g)[0]
        if idx.size == 0:
            continue
        sub = mat[idx][:, idx]
        if idx.size <= dense_limit:
            out[g] = np.linalg.eigvalsh(sub.toarray()).max()
        else:
            out[g] = eigsh(sub, k=1, which='LA', tol=1e-6,
                           return_eigenvectors=False)[0]
    return torch.from_numpy(out).to(lap.device)
