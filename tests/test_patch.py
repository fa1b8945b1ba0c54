"""pyg_spectral.patch(): an unchanged PyG script runs on our layers with the
same losses and outputs, and the patch undoes itself (nesting included)."""
import torch

import pyg_spectral
import pyg_spectral.nn as ours
from graphs import random_graph, rel_err


def _train_pyg_script(steps=5):
    """An unchanged PyG-style script: PyG's GCN model and a ChebConv looked
    up from torch_geometric.nn at construction time."""
    import torch_geometric
    torch.manual_seed(0)
    ei, _ = random_graph(40, 160, directed=False, seed=2)
    x = torch.randn(40, 12)
    y = torch.randint(0, 3, (40, ))
    gcn = torch_geometric.nn.models.GCN(12, 16, 2, 8)
    cheb = torch_geometric.nn.ChebConv(8, 3, K=3)
    params = list(gcn.parameters()) + list(cheb.parameters())
    opt = torch.optim.Adam(params, lr=0.01)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        out = cheb(gcn(x, ei).relu(), ei)
        loss = torch.nn.functional.cross_entropy(out, y)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return type(gcn.convs[0]), type(cheb), losses, out.detach()


def test_patch_runs_pyg_script_on_our_layers():
    import torch_geometric
    pyg_gcn, pyg_cheb, ref_losses, ref_out = _train_pyg_script()
    assert pyg_gcn is torch_geometric.nn.conv.gcn_conv.GCNConv
    with pyg_spectral.patch() as p:
        assert 'torch_geometric.nn.models.basic_gnn.GCNConv' in p.changed
        gcn_cls, cheb_cls, losses, out = _train_pyg_script()
    assert gcn_cls is ours.GCNConv and cheb_cls is ours.ChebConv
    assert torch_geometric.nn.GCNConv is pyg_gcn  # undone
    assert torch_geometric.nn.ChebConv is pyg_cheb
    assert torch_geometric.nn.models.basic_gnn.GCNConv is pyg_gcn
    for a, b in zip(losses, ref_losses):
        assert abs(a - b) < 1e-5 * abs(b)
    assert rel_err(out, ref_out) < 1e-4


def test_patch_undo_and_nesting():
    import torch_geometric
    original = torch_geometric.nn.ChebConv
    p = pyg_spectral.patch()
    try:
        assert torch_geometric.nn.ChebConv is ours.ChebConv
        with pyg_spectral.patch() as again:  # undone even if it fails
            assert again.changed == []  # already ours
    finally:
        p.undo()
    assert torch_geometric.nn.ChebConv is original
