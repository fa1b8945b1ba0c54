"""The sparse step on a randomly numbered graph vs the same graph renumbered
by :class:`pyg_spectral.transforms.LocalityOrder` (RCM, BFS): time of one
product S X (F=64) and of a K=10 ChebConv forward, with the ordering's own
cost amortized over one such filter.

    python benchmarks/bench_locality.py [--nodes 1000000] [--device cpu]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from common import median_time, write_results  # noqa: E402


def local_graph(n: int, degree: int, g) -> 'torch.Tensor':
    """A graph with locality that arrives numbered at random, as real
    graphs do: nodes on a sqrt(n) x sqrt(n) grid, each linked to
    ``degree / 2`` random nodes within 3 grid steps (symmetrized), then the
    node numbers shuffled."""
    side = int(n ** 0.5)
    n = side * side
    m = n * degree // 2
    src = torch.randint(0, n, (m, ), generator=g)
    dx = torch.randint(-3, 4, (m, ), generator=g)
    dy = torch.randint(-3, 4, (m, ), generator=g)
    x = (src % side + dx).clamp(0, side - 1)
    y = (src // side + dy).clamp(0, side - 1)
    ei = torch.stack([src, y * side + x])
    ei = torch.cat([ei, ei.flip(0)], 1)
    shuffle = torch.randperm(n, generator=g)
    return shuffle[ei]


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--nodes', type=int, default=1_000_000)
    p.add_argument('--degree', type=int, default=10)
    p.add_argument('--features', type=int, default=64)
    p.add_argument('--device', default='cpu')
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--out', default=os.path.join(
        os.path.dirname(__file__), 'results', 'locality'))
    a = p.parse_args()
    from pyg_spectral.nn import ChebConv
    from pyg_spectral.ops import laplacian_operator
    from pyg_spectral.ops.ordering import locality_order, permute_graph
    n, dev = a.nodes, a.device
    g = torch.Generator().manual_seed(0)
    ei = local_graph(n, a.degree, g)
    x = torch.randn(n, a.features, generator=g).to(dev)
    conv = ChebConv(a.features, a.features, 10).to(dev)
    rows = []
    base = {}
    for m in (None, 'bfs'):  # warm-up: lazy imports, first-call costs
        laplacian_operator(ei[:, :1000].to(dev), None, n, 'sym',
                           dtype=x.dtype, locality=m)
    for method in ('random', 'bfs', 'rcm', 'bfs opt-in', 'rcm opt-in'):
        t0 = time.perf_counter()
        if method == 'random':
            e, xp = ei, x
        elif method.endswith('opt-in'):  # laplacian_operator(locality=)
            e, xp = ei.to(dev), x
        else:
            perm = locality_order(ei, n, method)
            e = permute_graph(ei, perm)
            xp = x[perm.to(dev)]
        order_s = time.perf_counter() - t0
        e = e.to(dev)
        t0 = time.perf_counter()
        op = laplacian_operator(e, None, n, 'sym', dtype=x.dtype,
                                locality=method.split()[0]
                                if method.endswith('opt-in') else None)
        if dev != 'cpu':
            torch.cuda.synchronize()
        build_s = time.perf_counter() - t0
        if method == 'random':
            base_build = build_s
        elif method.endswith('opt-in'):  # the ordering inside the build
            order_s = build_s - base_build
        step = median_time(lambda: op.matmul(xp), a.repeats, 1, dev)
        with torch.no_grad():
            filt = median_time(lambda: conv(xp, op), a.repeats, 1, dev)
        if method == 'random':
            base = dict(step=step, filt=filt)
        rows.append(dict(order=method, order_s=order_s, step_ms=step * 1e3,
                         filter_ms=filt * 1e3,
                         step_speedup=base['step'] / step,
                         # the ordering's cost spread over the K - 1 = 9
                         # products of one K=10 filter
                         step_speedup_amortized=base['step'] /
                         (step + order_s / 9),
                         filter_speedup_amortized=base['filt'] /
                         (filt + order_s)))
        print(rows[-1], flush=True)
    from common import machine, stamp
    md = [f'Machine: {machine()}. Date: {stamp()}. Command: `python '
          f'benchmarks/bench_locality.py --nodes {n} --device {dev}`.\n',
          f'A graph with locality numbered at random ({n} nodes on a grid, '
          f'mean degree {a.degree}, links within 3 grid steps, node numbers '
          f'shuffled: `local_graph`), F={a.features}: one sparse product S X, and a ChebConv '
          f'K=10 forward. "incl. ordering": the ordering time added to the '
          f'9 products of one K=10 filter (S X column) or to one filter. '
          f'"opt-in": `laplacian_operator(..., locality=method)`, x and '
          f'the output in the caller\'s numbering (one gather in and one '
          f'out per product or filter, included); its ordering time is '
          f'the build time above the plain build\'s.'
          f'\n', '| order | ordering (s) | S X (ms) | x | x incl. ordering '
          '| ChebConv K=10 fwd (ms) | x incl. ordering |',
          '|---|---:|---:|---:|---:|---:|---:|']
    for r in rows:
        md.append(f"| {r['order']} | {r['order_s']:.2f} | "
                  f"{r['step_ms']:.1f} | {r['step_speedup']:.2f}x | "
                  f"{r['step_speedup_amortized']:.2f}x | "
                  f"{r['filter_ms']:.1f} | "
                  f"{r['filter_speedup_amortized']:.2f}x |")
    write_results(a.out, '\n'.join(md) + '\n', rows)
    print('\n'.join(md))


if __name__ == '__main__':
    main()
