"""A new graph every step: ours vs PyG's layers, same process, same batches,
same weights (PyG's state dict loaded into ours; outputs compared first).

Workloads (fwd + bwd + Adam per step, warm-up first, median of repeats, ours
and PyG alternating):

* ``gc128``: graph classification, a new disjoint batch every step from
  PyG's ``DataLoader`` over a dataset of small graphs: 128 random
  undirected graphs of 10-40 nodes (mean degree ~4, coalesced), 32
  features, 3 conv layers of width 64 + mean pool + Linear;
  ``gc128-EdgeIndex``: the same graphs as ``EdgeIndex`` objects that state
  their sort order and symmetry (the loader keeps both).
* ``gc256x10-20``: 256 graphs of 10-20 nodes; ``gc64x75``: 64 graphs of 75
  nodes (MNIST-superpixel size, 8 nearest-neighbour-like edges per node);
  ``gc32x200-400``: 32 graphs of 200-400 nodes (degree 6).
* ``neighbor``: node classification on 2-hop subgraphs (fan-out [10, 10],
  1024 seeds) of a 1M-node random graph (mean degree 10), sampled before
  timing by PyG's ``NeighborLoader`` (or, where it cannot run -- no
  pyg-lib / torch-sparse -- by an equivalent uniform sampler here); 2
  conv layers of width 64 on 64 features.
* ``cora``: Cora full batch (2 layers, hidden 16), the graph fixed.

Dense part: the same model with every graph product left out (each
ChebConv as its ``K`` Linear layers, each GCNConv as one), timed with the
others: the work neither library can avoid; PyG's step over it bounds the
speed-up any propagation scheme can reach.

Host reads per step: ops that read values back to the host (on CUDA, device
synchronizations), counted with a ``TorchDispatchMode`` over one model step
(forward + backward; the optimizer excluded). Peak memory: above the
inputs, CPU resident-set high-water mark or ``torch.cuda.max_memory_allocated``.

    python benchmarks/bench_minibatch.py [--device cuda] [--quick] [--out PATH]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from common import (fmt_bytes, peak_memory, planetoid_root,  # noqa: E402
                    write_results)

from pyg_spectral.ops.host_reads import CountReads  # noqa: E402


# the host reads of a step: the counter and op list of
# pyg_spectral.ops.host_reads, the ones tests/test_host_reads.py uses
Reads = CountReads


# -- inputs ------------------------------------------------------------------
def _undirected(n, m, g):
    from torch_geometric.utils import coalesce
    ei = torch.randint(0, n, (2, m), generator=g)
    ei = ei[:, ei[0] != ei[1]]
    return coalesce(torch.cat([ei, ei.flip(0)], 1), num_nodes=n)


def graph_batches(num, B, lo, hi, deg, F, seed, edge_index_cls=False):
    """``num`` batches of ``B`` random graphs (``lo``-``hi`` nodes, mean
    degree ``deg``) from PyG's ``DataLoader`` over a dataset of ``Data``,
    as users write it; ``edge_index_cls``: each graph's ``edge_index`` an
    ``EdgeIndex`` that states its order (coalesced: sorted by row) and
    symmetry, which the loader's collation keeps."""
    from torch_geometric import EdgeIndex
    from torch_geometric.data import Data
    from torch_geometric.loader import DataLoader
    g = torch.Generator().manual_seed(seed)
    dataset = []
    for _ in range(num):
        sizes = torch.randint(lo, hi + 1, (B, ), generator=g).tolist()
        for n in sizes:
            ei = _undirected(n, n * deg // 2, g)
            if edge_index_cls:
                ei = EdgeIndex(ei, sparse_size=(n, n), sort_order='row',
                               is_undirected=True)
            dataset.append(Data(x=torch.randn(n, F, generator=g),
                                edge_index=ei, num_nodes=n,
                                y=torch.randint(0, 10, (1, ), generator=g)))
    return list(DataLoader(dataset, batch_size=B, shuffle=False))


def neighbor_batches(num, n=1_000_000, deg=10, F=64, seed=0,
                     sampler='auto'):
    """``num`` 2-hop subgraphs (fan-out [10, 10], 1024 seeds)."""
    from torch_geometric.data import Data
    g = torch.Generator().manual_seed(seed)
    ei = _undirected(n, n * deg // 2, g)
    data = Data(x=torch.randn(n, F, generator=g), edge_index=ei,
                y=torch.randint(0, 10, (n, ), generator=g), num_nodes=n)
    try:
        if sampler == 'uniform':
            raise ImportError
        from torch_geometric.loader import NeighborLoader
        loader = NeighborLoader(data, num_neighbors=[10, 10], batch_size=1024,
                                shuffle=True)
        out = []
        for b in loader:
            out.append(b)
            if len(out) == num:
                break
        return out, 'NeighborLoader'
    except (ImportError, RuntimeError, ValueError):
        return _uniform_sampler(data, num, g), 'uniform sampler (no pyg-lib)'


def _uniform_sampler(data, num, g):
    """NeighborLoader's subgraphs without pyg-lib: seeds, then per hop up
    to 10 in-neighbours of each frontier node drawn uniformly, relabelled;
    the edges of the sampled tree (target <- sampled source)."""
    from torch_geometric.data import Data
    from torch_geometric.utils import sort_edge_index
    n = data.num_nodes
    src, dst = sort_edge_index(data.edge_index, num_nodes=n,
                               sort_by_row=False)  # by target
    ptr = torch.zeros(n + 1, dtype=torch.long)
    ptr[1:] = torch.bincount(dst, minlength=n).cumsum(0)
    out = []
    for _ in range(num):
        nodes = torch.randperm(n, generator=g)[:1024]
        frontier, rows, cols = nodes, [], []
        for fan in (10, 10):
            deg = ptr[frontier + 1] - ptr[frontier]
            draws = torch.rand(frontier.numel(), fan, generator=g)
            pick = ptr[frontier].unsqueeze(1) + (draws * deg.unsqueeze(1)
                                                 ).long()
            ok = torch.arange(fan).unsqueeze(0) < deg.unsqueeze(1)
            s = src[pick[ok]]
            t = frontier.unsqueeze(1).expand(-1, fan)[ok]
            rows.append(s)
            cols.append(t)
            frontier = torch.unique(s)
            nodes = torch.cat([nodes, frontier])
        nodes, inv = torch.unique(nodes, return_inverse=True)
        # the seeds first, as NeighborLoader orders them
        seeds = inv[:1024]
        rest = torch.ones(nodes.numel(), dtype=torch.bool)
        rest[seeds] = False
        nodes = nodes[torch.cat([seeds, rest.nonzero().flatten()])]
        relabel = torch.full((n, ), -1, dtype=torch.long)
        relabel[nodes] = torch.arange(nodes.numel())
        ei = torch.stack([relabel[torch.cat(rows)], relabel[torch.cat(cols)]])
        out.append(Data(x=data.x[nodes], edge_index=ei, y=data.y[nodes],
                        batch_size=1024, num_nodes=nodes.numel()))
    return out


# -- models ------------------------------------------------------------------
class Net(torch.nn.Module):
    def __init__(self, lib, conv, widths, classes, pool):
        super().__init__()
        make = (lambda i, o: lib.ChebConv(i, o, 3)) if conv == 'ChebConv' \
            else (lambda i, o: lib.GCNConv(i, o))
        self.convs = torch.nn.ModuleList(
            [make(i, o) for i, o in zip(widths[:-1], widths[1:])])
        self.lin = torch.nn.Linear(widths[-1], classes)
        self.pool = pool

    def forward(self, x, edge_index, batch=None, num_graphs=None):
        for conv in self.convs:
            x = conv(x, edge_index).relu()
        if self.pool:
            from torch_geometric.nn import global_mean_pool
            x = global_mean_pool(x, batch, num_graphs)
        return self.lin(x)


class DenseOnly:
    """The dense part of both libraries' layers, the graph left out: a
    ``ChebConv(i, o, K)`` is ``K`` bias-free ``Linear(i, o)`` summed plus a
    bias, a ``GCNConv`` one ``Linear``. Trained like the models (same
    pooling, head, loss and Adam), its step is the time no propagation
    scheme can save: the floor under either library's step."""

    class ChebConv(torch.nn.Module):
        def __init__(self, i, o, K):
            super().__init__()
            self.lins = torch.nn.ModuleList(
                [torch.nn.Linear(i, o, bias=False) for _ in range(K)])
            self.bias = torch.nn.Parameter(torch.zeros(o))

        def forward(self, x, edge_index):
            out = self.bias
            for lin in self.lins:
                out = out + lin(x)
            return out

    class GCNConv(torch.nn.Linear):
        def forward(self, x, edge_index):
            return super().forward(x)


def models(conv, widths, classes, pool, device):
    import torch_geometric.nn as pyg

    import pyg_spectral.nn as ours
    torch.manual_seed(0)
    ref = Net(pyg, conv, widths, classes, pool).to(device)
    mine = Net(ours, conv, widths, classes, pool).to(device)
    mine.load_state_dict(ref.state_dict())
    dense = Net(DenseOnly, conv, widths, classes, pool).to(device)
    return {'PyG': ref, 'ours': mine, 'dense': dense}


def to_inputs(b, device, pool):
    if pool:
        return (b.x.to(device), b.edge_index.to(device), b.batch.to(device),
                b.num_graphs), b.y.to(device)
    size = getattr(b, 'batch_size', None)
    return (b.x.to(device), b.edge_index.to(device)), \
        (b.y.to(device), size)


def loss_of(out, target, pool):
    if pool:
        return torch.nn.functional.cross_entropy(out, target)
    y, size = target
    if size is None:
        return torch.nn.functional.cross_entropy(out, y)
    return torch.nn.functional.cross_entropy(out[:size], y[:size])


def run(name, conv, batches, widths, classes, pool, device, repeats):
    nets = models(conv, widths, classes, pool, device)
    opts = {k: torch.optim.Adam(m.parameters(), lr=1e-3)
            for k, m in nets.items()}
    data = [to_inputs(b, device, pool) for b in batches]
    sync = torch.cuda.synchronize if device == 'cuda' else (lambda: None)
    with torch.no_grad():  # same weights, same outputs
        a = nets['PyG'](*data[0][0])
        b = nets['ours'](*data[0][0])
        err = float((a - b).abs().max() / a.abs().max().clamp_min(1e-30))
    assert err < 1e-4, f'{name}: ours != PyG ({err})'

    def fresh():
        """The batches with new edge_index tensors: as a DataLoader's, a
        graph no layer (and no operator cache) has seen; Cora keeps its
        one graph."""
        if name == 'cora':
            return data
        return [((inp[0], inp[1].clone()) + tuple(inp[2:]), target)
                for inp, target in data]

    def epoch(key, batches=None):
        net, opt = nets[key], opts[key]
        for inputs, target in (batches or fresh()):
            opt.zero_grad(set_to_none=True)
            loss_of(net(*inputs), target, pool).backward()
            opt.step()
        sync()

    for key in nets:  # warm-up (allocator, Triton compilation)
        epoch(key)
    times = {k: [] for k in nets}
    for _ in range(repeats):
        for key in nets:
            batches = fresh()  # (copies made outside the timed region)
            sync()
            t = time.perf_counter()
            epoch(key, batches)
            times[key].append((time.perf_counter() - t) / len(data))
    row = dict(workload=name, conv=conv, device=device, steps=len(data))

    def new_graph_step(key):
        """One model step on the last batch with its edge_index copied: a
        graph no layer has seen (Cora: the graph every epoch uses)."""
        inputs, target = data[-1]
        if name != 'cora':
            inputs = (inputs[0], inputs[1].clone()) + tuple(inputs[2:])
        loss_of(nets[key](*inputs), target, pool).backward()

    row['dense_ms'] = statistics.median(times['dense']) * 1e3
    for key in ('PyG', 'ours'):
        with Reads() as reads:
            new_graph_step(key)
        row[f'{key}_ms'] = statistics.median(times[key]) * 1e3
        row[f'{key}_reads'] = sum(reads.reads().values())
        if device == 'cuda':
            row[f'{key}_syncs'] = count_syncs(lambda: new_graph_step(key))
    row['speedup'] = row['PyG_ms'] / row['ours_ms']
    row['bound'] = row['PyG_ms'] / row['dense_ms']
    print(f"{name:9s} {conv:8s} PyG {row['PyG_ms']:8.2f} ms  ours "
          f"{row['ours_ms']:8.2f} ms  x{row['speedup']:.2f}  dense "
          f"{row['dense_ms']:.2f} ms (bound x{row['bound']:.2f})  reads "
          f"{row['PyG_reads']}/{row['ours_reads']}", flush=True)
    return row, new_graph_step


def count_syncs(fn) -> int:
    """Device synchronizations of ``fn()`` as torch's sync debug mode
    reports them (one warning each)."""
    import warnings
    torch.cuda.synchronize()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        torch.cuda.set_sync_debug_mode('warn')
        try:
            fn()
        finally:
            torch.cuda.set_sync_debug_mode('default')
    return sum('synchroniz' in str(w.message) for w in caught)


def measure_memory(rows, steps, device):
    """Peak of one new-graph model step per row, after all timings: on CPU
    with malloc returning every free above 64 KiB to the OS (mallopt), so
    that the resident-set high-water mark follows the step's tensors."""
    trim = None
    if device == 'cpu':
        import ctypes
        try:
            libc = ctypes.CDLL('libc.so.6')
            libc.mallopt(-3, 65536)  # M_MMAP_THRESHOLD: large blocks mmap'd
            libc.mallopt(-1, 65536)  # M_TRIM_THRESHOLD: free heap returned
            trim = lambda: libc.malloc_trim(0)  # noqa: E731
        except (OSError, AttributeError):
            pass
    for row, step in zip(rows, steps):
        for key in ('PyG', 'ours'):
            step(key)  # warm
            if trim is not None:
                trim()
            row[f'{key}_peak'] = max(peak_memory(lambda: step(key), device)
                                     for _ in range(3))


def kib(n: float) -> str:
    return fmt_bytes(n) if n >= 2**20 else f'{n / 2**10:.0f} KiB'


def cora(device):
    root = planetoid_root('Cora')
    if root is None:
        return None
    from torch_geometric.datasets import Planetoid
    d = Planetoid(root, 'Cora')[0]
    d.batch_size = None
    return d


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default='cpu')
    p.add_argument('--quick', action='store_true', help='few steps')
    p.add_argument('--workloads', nargs='+', default=[
        'gc128', 'gc128-EdgeIndex', 'gc256x10-20', 'gc64x75',
        'gc32x200-400', 'neighbor', 'cora'])
    p.add_argument('--out', default=os.path.join(
        os.path.dirname(__file__), 'results', 'minibatch'))
    args = p.parse_args()
    dev = args.device
    steps = 5 if args.quick else 20
    repeats = 3 if args.quick else 5
    rows, steps_ = [], []
    wanted = set(args.workloads)
    gc = [32, 64, 64, 64]
    shapes = {  # name: (graphs per batch, nodes lo-hi, degree, EdgeIndex,
        #               seed: gc128-EdgeIndex has gc128's graphs)
        'gc128': (128, 10, 40, 4, False, 0),
        'gc128-EdgeIndex': (128, 10, 40, 4, True, 0),
        'gc256x10-20': (256, 10, 20, 4, False, 2),
        'gc64x75': (64, 75, 75, 8, False, 1),
        'gc32x200-400': (32, 200, 400, 6, False, 3),
    }
    work = [(name, graph_batches(steps, B, lo, hi, deg, 32, seed, cls), gc,
             10, True)
            for name, (B, lo, hi, deg, cls, seed) in shapes.items()
            if name in wanted]
    sampler = '-'
    if 'neighbor' in wanted:
        nb, sampler = neighbor_batches(steps)
        print(f'neighbor subgraphs: {sampler}, mean '
              f'{statistics.mean(b.num_nodes for b in nb):.0f} nodes / '
              f'{statistics.mean(b.edge_index.size(1) for b in nb):.0f} '
              f'edges', flush=True)
        work.append(('neighbor', nb, [64, 64, 64], 10, False))
    c = cora(dev) if 'cora' in wanted else None
    if c is not None:
        work.append(('cora', [c] * steps, [c.num_features, 16, 16], 7,
                     False))
    for name, batches, widths, classes, pool in work:
        for conv in ('ChebConv', 'GCNConv'):
            row, step = run(name, conv, batches, widths, classes, pool, dev,
                            repeats)
            rows.append(row)
            steps_.append(step)
    measure_memory(rows, steps_, dev)
    syncs = dev == 'cuda'
    lines = ['| workload | layer | PyG ms/step | ours ms/step | speedup | '
             'dense part ms/step | speed-up bound | '
             'host reads/step PyG / ours |' +
             (' device syncs/step PyG / ours |' if syncs else '') +
             ' peak PyG / ours |',
             '|---|---|---:|---:|---:|---:|---:|---:|' +
             ('---:|' if syncs else '') + '---:|']
    for r in rows:
        lines.append(
            f"| {r['workload']} | {r['conv']} | {r['PyG_ms']:.2f} | "
            f"{r['ours_ms']:.2f} | {r['speedup']:.2f}x | "
            f"{r['dense_ms']:.2f} | {r['bound']:.2f}x | {r['PyG_reads']} / "
            f"{r['ours_reads']} | " +
            (f"{r['PyG_syncs']} / {r['ours_syncs']} | " if syncs else '') +
            f"{kib(r['PyG_peak'])} / {kib(r['ours_peak'])} |")
    from common import machine, stamp
    cmd = 'python benchmarks/bench_minibatch.py' + (
        ' ' + ' '.join(sys.argv[1:]) if sys.argv[1:] else '')
    head = (f'Machine: {machine()}. Date: {stamp()}. Command: `{cmd}`.\n\n'
            f'One step = forward + backward + Adam on a graph the step has '
            f'not seen (a new batch); ours and PyG alternate, same batches '
            f'and weights; median of {repeats} passes over {steps} batches '
            f'after a warm-up pass. Dense part: the same model with every '
            f'graph product left out (a ChebConv as its K Linear layers, a '
            f'GCNConv as one; same head, loss and Adam), timed alongside: '
            f'what both libraries compute besides the propagation; speed-up '
            f'bound = PyG / dense part, what a free propagation would give. '
            f'Graph batches: PyG\'s DataLoader. '
            f'Neighbor subgraphs: {sampler}. Host reads: reads of values '
            f'back to the host in one new-graph forward + backward '
            f'(`pyg_spectral.ops.host_reads.CountReads`: the aten ops that '
            f'read, and the operator build\'s one read; PyG\'s boolean-mask '
            f'indexing syncs on CUDA but is not counted on the CPU). Peak: '
            f'one new-graph step above its inputs.\n\n')
    md = head + '\n'.join(lines) + '\n'
    print(md)
    if not args.quick or args.out:
        write_results(args.out, md, rows, device=dev, sampler=sampler,
                      command='python benchmarks/bench_minibatch.py ' +
                      ' '.join(sys.argv[1:]))


if __name__ == '__main__':
    main()
