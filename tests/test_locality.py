"""LocalityOrder: a permutation that renumbers the graph, node attributes
moved with it, and layers giving the same result in the caller's order."""
import pytest
import torch
from torch_geometric.data import Data

from pyg_spectral.nn import ChebConv
from pyg_spectral.ops.ordering import locality_order, permute_graph
from pyg_spectral.transforms import LocalityOrder


def _graph(n=200, e=600, seed=0):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, e), generator=g)
    return torch.cat([ei, ei.flip(0)], 1)


def _bandwidth(ei):
    return int((ei[0] - ei[1]).abs().max())


@pytest.mark.parametrize('method', ['rcm', 'bfs'])
def test_order_is_a_permutation_that_narrows_the_band(method):
    # a path graph numbered at random: both orders recover bandwidth 1
    n = 300
    g = torch.Generator().manual_seed(1)
    label = torch.randperm(n, generator=g)
    path = torch.stack([torch.arange(n - 1), torch.arange(1, n)])
    ei = label[torch.cat([path, path.flip(0)], 1)]
    perm = locality_order(ei, n, method)
    assert torch.equal(perm.sort().values, torch.arange(n))
    assert _bandwidth(ei) > 100
    assert _bandwidth(permute_graph(ei, perm)) == 1
    # a random graph (two components and isolated nodes): still a
    # permutation, and a narrower band
    ei = torch.cat([_graph(150, 300, 2), _graph(40, 60, 3) + 150], 1)
    perm = locality_order(ei, 200, method)
    assert torch.equal(perm.sort().values, torch.arange(200))
    assert _bandwidth(permute_graph(ei, perm)) < _bandwidth(ei)


def test_bfs_orders_each_component_contiguously():
    """Two paths (one BFS each), a triangle and isolated nodes (kept
    together without a search), numbered at random: every component gets
    consecutive new numbers and each path bandwidth 1."""
    def path(a, b):
        p = torch.stack([torch.arange(a, b - 1), torch.arange(a + 1, b)])
        return torch.cat([p, p.flip(0)], 1)
    tri = torch.tensor([[180, 181, 182, 181, 182, 180],
                        [181, 182, 180, 180, 181, 182]])
    ei = torch.cat([path(0, 100), path(100, 180), tri], 1)  # 183..189 alone
    n = 190
    label = torch.randperm(n, generator=torch.Generator().manual_seed(5))
    perm = locality_order(label[ei], n, 'bfs')
    assert torch.equal(perm.sort().values, torch.arange(n))
    new = torch.empty_like(perm)
    new[perm] = torch.arange(n)
    pos = new[label]  # original node -> its new number
    for lo, hi in [(0, 100), (100, 180), (180, 183)]:
        p = pos[lo:hi]
        assert int(p.max() - p.min()) == hi - lo - 1  # contiguous
    assert _bandwidth(permute_graph(label[ei], perm)[:, :2 * 178]) == 1


def test_transform_moves_node_attributes_and_layers_agree():
    torch.manual_seed(0)
    n = 200
    ei = _graph(n)
    data = Data(x=torch.randn(n, 8), edge_index=ei, y=torch.arange(n),
                edge_attr=torch.randn(ei.size(1), 3), num_nodes=n)
    out = LocalityOrder()(data.clone())
    perm = out.locality_perm
    assert torch.equal(out.x, data.x[perm])
    assert torch.equal(out.y, perm)  # y[i] = i follows its node
    # the same edges, renumbered, with their attributes
    old = {tuple(e) + tuple(a.tolist()) for e, a in
           zip(ei.t().tolist(), data.edge_attr)}
    new = {(int(perm[s]), int(perm[d])) + tuple(a.tolist()) for (s, d), a in
           zip(out.edge_index.t().tolist(), out.edge_attr)}
    assert old == new
    conv = ChebConv(8, 4, 3).double()
    ref = conv(data.x.double(), ei)
    got = conv(out.x.double(), out.edge_index)
    back = torch.empty_like(got)
    back[perm] = got  # the caller's order
    assert torch.allclose(back, ref, rtol=1e-12, atol=1e-12)


def test_bad_method_raises():
    with pytest.raises(ValueError, match="method must be one of"):
        LocalityOrder('metis')
    with pytest.raises(ValueError, match="method must be one of"):
        locality_order(_graph(), 200, 'random')
