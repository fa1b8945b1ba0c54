"""Graph construction, coarsening and pooling."""
import numpy as np
import pytest
import torch

from pyg_spectral.graph import (coarsen, estimate_graph, grid_graph,
                                knn_gaussian_graph)
from pyg_spectral.nn import GraphPool


def test_grid_graph_8nn():
    ei, w = grid_graph(28, k=8)
    n = 28 * 28
    A = torch.zeros(n, n)
    A[ei[0], ei[1]] = w
    assert torch.equal(A, A.t()) and A.diagonal().abs().sum() == 0
    deg = (A > 0).sum(1)
    assert deg.min() >= 8  # kNN, then symmetrized
    # an interior pixel links to its 8 surrounding pixels
    i = 14 * 28 + 14
    nbrs = set(torch.nonzero(A[i]).flatten().tolist())
    expect = {(14 + dr) * 28 + 14 + dc for dr in (-1, 0, 1)
              for dc in (-1, 0, 1) if (dr, dc) != (0, 0)}
    assert expect <= nbrs


def test_estimated_graph_links_correlated_features():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(500, 3))
    # features 0-3 copy signal 0 (+ noise), 4-7 signal 1, 8-11 signal 2
    X = np.repeat(base, 4, axis=1) + 0.05 * rng.normal(size=(500, 12))
    ei, w = estimate_graph(X, k=3)
    groups = ei // 4
    assert torch.all(groups[0] == groups[1])
    assert torch.all(w > 0) and torch.all(w <= 1)


def test_coarsen_and_pool():
    ei, w = grid_graph(8, k=4)
    levels = coarsen(ei, w, 64, levels=2)
    n_prev = 64
    for ei_c, w_c, cluster in levels:
        assert cluster.numel() == n_prev
        counts = torch.bincount(cluster)
        assert counts.max() <= 2 and counts.min() >= 1  # matching: pairs
        n_new = int(cluster.max()) + 1
        assert ei_c.max() < n_new and torch.all(w_c > 0)
        n_prev = n_new
    # summed edge weights between clusters
    c1 = levels[0][2]
    W = torch.zeros(64, 64)
    W[ei[0], ei[1]] = w
    W = torch.maximum(W, W.t())
    m = int(c1.max()) + 1
    P = torch.zeros(64, m)
    P[torch.arange(64), c1] = 1
    Wc = P.t() @ W @ P
    Wc.fill_diagonal_(0)
    A = torch.zeros(m, m)
    A[levels[0][0][0], levels[0][0][1]] = levels[0][1]
    assert torch.allclose(A, Wc)


def test_pool_max_never_picks_padding():
    cluster = torch.tensor([0, 0, 1, 1, 2])
    pool = GraphPool(cluster, 'max')
    x = -torch.rand(3, 5, 4) - 1.0  # all activations negative
    out = pool(x)
    assert out.shape == (3, 3, 4)
    assert torch.all(out < 0)  # a zero "fake node" would have won here
    assert torch.allclose(out[:, 2], x[:, 4])
    assert torch.allclose(GraphPool(cluster, 'mean')(x)[:, 0],
                          x[:, :2].mean(1))


def test_bad_inputs():
    with pytest.raises(ValueError, match=r'k must be in \[1, 4\] \(got 5\)'):
        knn_gaussian_graph(np.zeros((5, 2)), k=5)
    with pytest.raises(ValueError, match='reduce'):
        GraphPool(torch.tensor([0]), 'sum')
