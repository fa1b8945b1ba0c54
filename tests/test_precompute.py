"""Precompute mode: the stored terms against a float64 dense oracle (in RAM
and memory-mapped in column blocks under a budget), the decoupled model on
them == the full-batch layer, the DataLoader batches, the budget
arithmetic, and DDP (2 gloo processes) == one process."""
import os

import numpy as np
import pytest
import scipy.special as sp
import torch

from graphs import random_graph, rel_err, run_ddp_example
from pyg_spectral.nn import (BernConv, ChebIIConv, Decoupled, GPRConv,
                             JacobiConv)
from pyg_spectral.ops import gcn_operator, laplacian_operator
from pyg_spectral.precompute import (TermStore, block_width,
                                     precompute_terms, term_loader)

D = torch.float64
POLYS = {
    'chebyshev': lambda k, t: sp.eval_chebyt(k, t),
    'monomial': lambda k, t: t ** k,
    'legendre': lambda k, t: sp.eval_legendre(k, t),
}


def _dense_terms(S, x, K, basis):
    lam, U = np.linalg.eigh(S.numpy())
    return torch.stack([torch.from_numpy(
        U @ np.diag(POLYS[basis](k, lam)) @ U.T @ x.numpy())
        for k in range(K)], 1)  # [N, K, C]


@pytest.mark.parametrize('basis', list(POLYS))
def test_terms_equal_dense_oracle_in_ram_and_mapped(basis, tmp_path):
    n, C, K = 40, 7, 6
    ei, w = random_graph(n, 150, directed=False, dtype=D)
    op = laplacian_operator(ei, w, n, 'sym', dtype=D)
    x = torch.randn(n, C, dtype=D)
    want = _dense_terms(op.to_dense(), x, K, basis)
    ram = precompute_terms(x, op, K, basis)
    assert len(ram.blocks) == 1 and ram.shape == (n, K, C)
    assert rel_err(ram[torch.arange(n)], want) < 1e-12
    # a budget for 3 columns per block: 3 blocks of 3, 3, 1 columns
    per_col = 3 * n * 8 + n * 8 + n * K * 8
    mapped = precompute_terms(x, op, K, basis, budget=3 * per_col,
                              path=str(tmp_path))
    assert [b.shape[2] for b in mapped.blocks] == [3, 3, 1]
    assert all(isinstance(b, np.memmap) for b in mapped.blocks)
    idx = torch.tensor([5, 0, 39, 5, 17])  # unsorted, repeated
    assert rel_err(mapped[idx], want[idx]) < 1e-12
    reopened = TermStore.open(str(tmp_path))
    assert rel_err(reopened[idx], want[idx]) < 1e-12
    assert rel_err(reopened[3], want[3]) < 1e-12
    half = precompute_terms(x.float(), op, K, basis, dtype=torch.float16,
                            path=str(tmp_path / 'h'))
    assert half.blocks[0].dtype == np.float16
    assert half[idx].dtype == torch.float32
    assert rel_err(half[idx], want[idx]) < 2e-3  # float16 storage


def test_numpy_memmap_features(tmp_path):
    """x itself on disk: read one column block at a time."""
    n, C, K = 30, 5, 4
    ei, w = random_graph(n, 90, directed=False)
    op = gcn_operator(ei, w, n)
    xf = np.lib.format.open_memmap(str(tmp_path / 'x.npy'), 'w+',
                                   np.float32, (n, C))
    xf[:] = np.random.default_rng(0).standard_normal((n, C))
    got = precompute_terms(xf, op, K, 'monomial',
                           budget=2 * (4 * n * 4 + n * K * 4),
                           path=str(tmp_path / 'terms'))
    want = precompute_terms(torch.from_numpy(np.array(xf)), op, K,
                            'monomial')
    assert len(got.blocks) == 3  # 2 + 2 + 1 columns
    assert rel_err(got[torch.arange(n)], want[torch.arange(n)]) < 1e-6


@pytest.mark.parametrize('make', [
    lambda: GPRConv(5), lambda: ChebIIConv(5), lambda: BernConv(5),
    lambda: JacobiConv(4, 5, a=0.5, b=1.5)])
def test_decoupled_equals_full_batch_layer(make):
    """combine(precomputed terms) == the layer's forward, with equal
    gradients for the filter's parameters."""
    n = 35
    ei, w = random_graph(n, 120, directed=True, dtype=D)
    conv = make().double()
    with torch.no_grad():
        for p in conv.parameters():
            p.add_(0.2 * torch.randn_like(p))
    x = torch.randn(n, 4, dtype=D)
    terms = conv.precompute(x, ei, w)
    model = Decoupled(conv)
    a = model(terms[torch.arange(n)])
    b = conv(x, ei, w)
    assert rel_err(a, b) < 1e-12
    ga = torch.autograd.grad(a.square().sum(), list(conv.parameters()))
    gb = torch.autograd.grad(b.square().sum(), list(conv.parameters()))
    for u, v in zip(ga, gb):
        assert rel_err(u, v) < 1e-11
    rows = torch.tensor([3, 9, 1])
    assert rel_err(model(terms[rows]), b[rows]) < 1e-12  # rows independent


def test_loader_batches_cover_the_nodes_once():
    n = 50
    ei, _ = random_graph(n, 150, directed=False, weighted=False)
    x = torch.randn(n, 3)
    terms = GPRConv(2).precompute(x, ei)
    y = torch.arange(n)
    nodes = torch.arange(0, n, 2)
    seen = []
    for h, yb in term_loader(terms, nodes, y, batch_size=7,
                             generator=torch.Generator().manual_seed(0)):
        assert h.shape[1:] == (3, 3) and h.size(0) == yb.size(0) <= 7
        assert rel_err(h, terms[yb]) == 0
        seen += yb.tolist()
    assert sorted(seen) == nodes.tolist()


def test_budget_arithmetic_and_errors(tmp_path):
    n, K, C = 1000, 11, 128
    c = block_width(n, K, C, 10 ** 6, 4, 2, mapped=True)
    per_col = 3 * n * 4 + n * 2 + n * K * 2
    assert c == 10 ** 6 // per_col and c * per_col <= 10 ** 6
    assert block_width(n, K, C, None, 4, 4, False) == C
    ei, _ = random_graph(20, 50, directed=False, weighted=False)
    op = gcn_operator(ei, None, 20)
    x = torch.randn(20, 4)
    with pytest.raises(ValueError, match='budget'):
        precompute_terms(x, op, 3, budget=10, path=str(tmp_path))
    with pytest.raises(ValueError, match='path='):
        precompute_terms(x, op, 3, budget=3 * 20 * 4 * 2)
    with pytest.raises(ValueError, match='x has 21 rows but the graph has 20'):
        precompute_terms(torch.randn(21, 4), op, 3)
    with pytest.raises(TypeError, match='dtype must be float16, float32 or'):
        precompute_terms(x, op, 3, dtype=torch.int32)
    with pytest.raises(TypeError, match='PolyConv'):
        Decoupled(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match='K\\+1'):
        Decoupled(GPRConv(3))(torch.randn(5, 3, 2))


def test_ddp_decoupled_equals_single_process():
    """The decoupled ChebNetII on precomputed terms, batches from a plain
    DataLoader with a DistributedSampler: 2 gloo processes == one."""
    run_ddp_example('--model', 'decoupled', '--world-size', '2', '--steps',
                    '3')


def test_x_chunk_is_deprecated_and_ignored():
    from pyg_spectral.ops import gcn_operator
    from pyg_spectral.precompute import precompute_terms
    ei = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    x = torch.randn(3, 4)
    op = gcn_operator(ei, None, 3)
    with pytest.warns(DeprecationWarning, match='x_chunk'):
        a = precompute_terms(x, op, 3, x_chunk=2)
    b = precompute_terms(x, op, 3)
    assert torch.equal(a[[0, 1, 2]], b[[0, 1, 2]])
