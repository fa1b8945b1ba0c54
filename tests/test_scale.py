"""Beyond full-batch: layers under PyG's NeighborLoader (sampled subgraphs)
and DistributedDataParallel (2 gloo processes) — both checked against an
independent computation (PyG's ChebConv on the same subgraphs; one process
on the whole batch)."""
import importlib.util
import os

import pytest
import torch
import torch_geometric.nn as pygnn
import torch_geometric.typing
from torch_geometric.data import Data

from graphs import random_graph, rel_err, run_ddp_example
from pyg_spectral.datasets import default_planetoid_root
from pyg_spectral.nn import ChebConv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HAS_SAMPLER = torch_geometric.typing.WITH_PYG_LIB or \
    torch_geometric.typing.WITH_TORCH_SPARSE
needs_sampler = pytest.mark.skipif(
    not HAS_SAMPLER, reason="NeighborLoader needs torch-sparse or pyg-lib")


def _example(name):
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(ROOT, 'examples', f'{name}.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@needs_sampler
@pytest.mark.filterwarnings('ignore::UserWarning')
def test_neighbor_loader_batches_equal_pyg():
    from torch_geometric.loader import NeighborLoader
    ei, w = random_graph(200, 1200, directed=False, seed=5)
    data = Data(x=torch.randn(200, 8), edge_index=ei, edge_attr=w,
                y=torch.randint(0, 3, (200, )))
    loader = NeighborLoader(data, num_neighbors=[5, 5], batch_size=16,
                            shuffle=True,
                            generator=torch.Generator().manual_seed(0))
    ours, ref = ChebConv(8, 4, 3), pygnn.ChebConv(8, 4, 3)
    ref.load_state_dict(ours.state_dict())
    seen = 0
    for batch in loader:
        x = batch.x.clone().requires_grad_()
        outs = []
        for conv in (ours, ref):
            conv.zero_grad()
            out = conv(x, batch.edge_index, batch.edge_attr)[:16]
            g, = torch.autograd.grad(out.square().sum(), x)
            outs.append((out, g))
        assert rel_err(outs[0][0], outs[1][0]) < 1e-5
        assert rel_err(outs[0][1], outs[1][1]) < 1e-5
        seen += 1
        if seen == 4:
            break
    assert seen == 4


@needs_sampler
@pytest.mark.skipif(not os.path.isfile(os.path.join(
    default_planetoid_root(), 'Cora', 'raw', 'ind.cora.x')),
    reason='Cora raw files not found')
@pytest.mark.filterwarnings('ignore::UserWarning')
def test_neighbor_loader_example_trains_on_cora():
    acc = _example('neighbor_loader_chebconv').run(epochs=30, verbose=False)
    assert acc > 0.70  # full-batch ChebConv reaches ~0.81


def test_ddp_gradients_equal_single_process():
    """2 processes (gloo) with DistributedDataParallel: the averaged
    gradients and the parameters after 3 SGD steps equal one process
    training on the whole batch (float64)."""
    run_ddp_example('--world-size', '2', '--steps', '3')
