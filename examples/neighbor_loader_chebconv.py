"""Mini-batch training of a ChebConv node classifier on sampled subgraphs
with PyG's ``NeighborLoader`` (Cora, offline from ../shared/data), then
layer-wise full-graph inference.

    python examples/neighbor_loader_chebconv.py --epochs 30

Each mini-batch is the sampled (K-1)-hop neighbourhood of its seed nodes,
relabelled to a small graph; the layers build (and cache) the operator of
that subgraph. Note that the Laplacian's degrees are those of the sampled
subgraph, as for every normalized layer under neighbour sampling.
Needs ``torch-sparse`` or ``pyg-lib`` for the sampler.
"""
from __future__ import annotations

import argparse
import sys

import torch
import torch.nn.functional as F
from torch_geometric.loader import NeighborLoader

from pyg_spectral.datasets import load_planetoid
from pyg_spectral.nn import ChebConv


class Net(torch.nn.Module):
    def __init__(self, in_channels, hidden, classes, K=2, dropout=0.5):
        super().__init__()
        self.convs = torch.nn.ModuleList([ChebConv(in_channels, hidden, K),
                                          ChebConv(hidden, classes, K)])
        self.dropout = dropout

    def forward(self, x, edge_index):
        for i, conv in enumerate(self.convs):
            x = F.dropout(x, self.dropout, self.training)
            x = conv(x, edge_index)
            if i < len(self.convs) - 1:
                x = torch.relu(x)
        return x


def make_loader(data, num_neighbors=(10, 10), batch_size=32, seed=0):
    return NeighborLoader(data, num_neighbors=list(num_neighbors),
                          input_nodes=data.train_mask, batch_size=batch_size,
                          shuffle=True,
                          generator=torch.Generator().manual_seed(seed))


def run(root=None, epochs=30, seed=0, verbose=True):
    torch.manual_seed(seed)
    data = load_planetoid('Cora', root)
    model = Net(data.num_features, 16, int(data.y.max()) + 1)
    opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    loader = make_loader(data, seed=seed)
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for batch in loader:
            opt.zero_grad()
            out = model(batch.x, batch.edge_index)[:batch.batch_size]
            loss = F.cross_entropy(out, batch.y[:batch.batch_size])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * batch.batch_size
        if verbose and (epoch + 1) % 10 == 0:
            print(f'epoch {epoch + 1:3d}  loss '
                  f'{total / int(data.train_mask.sum()):.4f}')
    model.eval()
    with torch.no_grad():  # full-graph inference
        pred = model(data.x, data.edge_index).argmax(1)
    acc = float((pred[data.test_mask] == data.y[data.test_mask]).float()
                .mean())
    if verbose:
        print(f'test accuracy (full-graph inference): {100 * acc:.1f}%')
    return acc


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--epochs', type=int, default=30)
    parser.add_argument('--root', default=None)
    args = parser.parse_args(argv)
    run(args.root, args.epochs)
    return 0


if __name__ == '__main__':
    sys.exit(main())
