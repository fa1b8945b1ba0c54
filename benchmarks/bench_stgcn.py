"""Speed race: our STConv block vs torch_geometric_temporal's STConv, same
process, same configuration (B=50, T=12, channels 64-16-64, Ks=Kt=3) on the
real PeMSD7(M) graph (N=228, from W_228 distances) and the METR-LA Los-loop
graph (N=207). One training step = forward + backward of a mean-square
loss; median of runs after a warm-up; peak memory in a fresh process.

    pip install torch-geometric-temporal   # needs torch-sparse/-scatter
    python benchmarks/bench_stgcn.py

Both blocks: temporal conv 64 -> 16, Chebyshev conv 16 -> 16 (K=3),
temporal conv 16 -> 64, normalization (ours LayerNorm over [N, C], theirs
BatchNorm over nodes). Theirs loops ChebConv over every (batch, step)
slice; ours folds B*T into the columns of one sparse product.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from common import (fmt_bytes, machine, peak_memory,  # noqa
                    stamp, write_results)

TRAFFIC = os.path.join(os.path.dirname(__file__), '..', '..', 'shared',
                       'data', 'traffic')


def graphs():
    from pyg_spectral.datasets import dense_to_graph, distance_to_adjacency
    out = {}
    w228 = os.path.join(TRAFFIC, 'pemsd7-m', 'W_228.csv')
    if os.path.isfile(w228):
        adj = distance_to_adjacency(np.loadtxt(w228, delimiter=','))
        out['PeMSD7(M) N=228'] = dense_to_graph(adj) + (228, )
    los = os.path.join(TRAFFIC, 'metr-la', 'los_adj.csv')
    if os.path.isfile(los):
        out['Los-loop N=207'] = dense_to_graph(
            np.loadtxt(los, delimiter=',')) + (207, )
    if not out:  # synthetic fallback with the same sizes
        g = torch.Generator().manual_seed(0)
        for n in (228, 207):
            ei = torch.randint(0, n, (2, 8 * n), generator=g)
            out[f'synthetic N={n}'] = (ei, torch.rand(ei.size(1)), n)
    return out


def blocks(n):
    from torch_geometric_temporal.nn.attention import STConv as TGT

    from pyg_spectral.nn import STConv
    torch.manual_seed(0)
    ours = STConv(n, 64, 16, 64, kernel_size=3, K=3)
    theirs = TGT(num_nodes=n, in_channels=64, hidden_channels=16,
                 out_channels=64, kernel_size=3, K=3)
    torch._dynamo.reset()
    compiled = torch.compile(ours, fullgraph=True)  # inductor, same weights
    return {'pyg_spectral STConv': ours,
            'torch_geometric_temporal STConv': theirs,
            'pyg_spectral STConv, torch.compile (inductor)': compiled}


def step_fn(model, x, ei, ew):
    def f():
        model.zero_grad(set_to_none=True)
        model(x, ei, ew).square().mean().backward()
    return f


def interleaved_times(steps, repeats, warmup=2):
    """Seconds of each step function over ``repeats`` rounds, the
    implementations alternating within every round, so that drift of the
    machine's speed (a shared 2-core VM) hits both alike."""
    for f in steps.values():
        for _ in range(warmup):
            f()
    times = {name: [] for name in steps}
    for _ in range(repeats):
        for name, f in steps.items():
            t = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - t)
    return times


def run(repeats, memory_only=None):
    rows = []
    for gname, (ei, ew, n) in graphs().items():
        x = torch.randn(50, 12, n, 64)
        models = blocks(n)
        for name, model in models.items():
            if memory_only is not None:
                if (gname, name) != memory_only:
                    continue
                step_fn(model, x, ei, ew)()
                print(json.dumps(dict(mem=peak_memory(
                    step_fn(model, x, ei, ew)))))
                return
        if memory_only is not None:
            continue
        times = interleaved_times(
            {name: step_fn(m, x, ei, ew) for name, m in models.items()},
            repeats)
        ref = 'torch_geometric_temporal STConv'
        for name in models:
            ratios = [b / a for a, b in zip(times[name], times[ref])]
            rows.append(dict(graph=gname, model=name,
                             seconds=statistics.median(times[name]),
                             speedup_median_of_rounds=statistics.median(
                                 ratios),
                             times=times[name]))
            print(json.dumps(rows[-1]), flush=True)
    for r in rows:
        env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='65536')
        out = subprocess.run([sys.executable, __file__, '--memory-child',
                              r['graph'], r['model']], env=env,
                             capture_output=True, text=True, check=True)
        r['peak'] = json.loads(out.stdout.strip().splitlines()[-1])['mem']
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--repeats', type=int, default=15)
    p.add_argument('--memory-child', nargs=2, help=argparse.SUPPRESS)
    p.add_argument('--out', default=os.path.join(
        os.path.dirname(__file__), 'results', 'stgcn_race'))
    args = p.parse_args()
    if args.memory_child:
        run(0, tuple(args.memory_child))
        return
    rows = run(args.repeats)
    lines = [f'Machine: {machine()}. Date: {stamp()}. Command: '
             f'`python benchmarks/bench_stgcn.py`.', '',
             'Training step (forward + backward) of one ST-Conv block, '
             'B=50, T=12, channels 64-16-64, Ks=Kt=3 (Ks: PyG K, number of '
             'Chebyshev terms); the blocks alternate in each of '
             f'{args.repeats} rounds after a warm-up (drift hits both); step '
             '= median over rounds, speed-up = median of the per-round '
             'ratios; peak = RSS high-water mark of one step in a fresh '
             'process. The compiled block is ours under '
             '`torch.compile(fullgraph=True)` (inductor, CPU), compilation '
             'in the warm-up.', '',
             '| graph | block | step (ms) | peak memory | speed-up |',
             '|---|---|---:|---:|---:|']
    for r in rows:
        lines.append(f"| {r['graph']} | {r['model']} | "
                     f"{r['seconds'] * 1e3:.1f} | {fmt_bytes(r['peak'])} | "
                     f"{r['speedup_median_of_rounds']:.1f}x |")
    md = '\n'.join(lines) + '\n'
    print(md)
    write_results(args.out, md, rows)


if __name__ == '__main__':
    main()
