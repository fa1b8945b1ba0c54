"""SpectralConv (SCNN spline filters): time and memory of the exact mode
(dense eigendecomposition, cached per graph: first call and later calls) vs
the chebyshev mode (O(K|E|) engine) as N grows, on random geometric-like
graphs of average degree ~10. One training step = forward + backward.

    python benchmarks/bench_spectral.py
"""
from __future__ import annotations

import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from common import (fmt_bytes, machine, median_time, peak_memory,  # noqa
                    stamp, write_results)


def graph(n, deg=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(0, n, (n * deg // 2, ), generator=g)
    off = torch.randint(1, 50, (n * deg // 2, ), generator=g)
    ei = torch.stack([src, (src + off) % n])  # local-ish ring graph
    return torch.cat([ei, ei.flip(0)], 1)


def main():
    from pyg_spectral.nn import SpectralConv
    from pyg_spectral.ops import clear_cache
    rows = []
    C = F = 8
    for n in [1_000, 2_000, 4_000, 10_000, 100_000, 1_000_000]:
        ei = graph(n)
        x = torch.randn(n, C)
        modes = ['chebyshev'] + (['exact'] if n <= 4_000 else [])
        for mode in modes:
            torch.manual_seed(0)
            conv = SpectralConv(C, F, num_basis=10, mode=mode, K=25)
            clear_cache()

            def step():
                conv.zero_grad()
                conv(x, ei).square().mean().backward()
            t0 = time.perf_counter()
            step()  # builds the operator (and the eigendecomposition)
            first = time.perf_counter() - t0
            t = median_time(step, repeats=3, warmup=0)
            mem = peak_memory(step)
            rows.append(dict(n=n, edges=ei.size(1), mode=mode,
                             first_s=first, step_s=t, peak=mem))
            print(rows[-1], flush=True)
    lines = [f'Machine: {machine()}. Date: {stamp()}. Command: '
             f'`python benchmarks/bench_spectral.py`.', '',
             'SpectralConv 8 -> 8 channels, 10 cubic B-splines; chebyshev '
             'mode K=25 (PyG K). First call includes building the operator '
             '(and, for exact, the eigendecomposition); step = later '
             'training steps (median of 3); peak = RSS above live inputs '
             '(this process, default allocator).', '',
             '| N | edges | mode | first call (s) | step (ms) | '
             'step / edge (ns) | peak |', '|---:|---:|---|---:|---:|---:|'
             '---:|']
    for r in rows:
        lines.append(f"| {r['n']:,} | {r['edges']:,} | {r['mode']} | "
                     f"{r['first_s']:.2f} | {r['step_s'] * 1e3:.1f} | "
                     f"{r['step_s'] / r['edges'] * 1e9:.0f} | "
                     f"{fmt_bytes(r['peak'])} |")
    md = '\n'.join(lines) + '\n'
    print(md)
    write_results(os.path.join(os.path.dirname(__file__), 'results',
                               'spectral_scaling'), md, rows)


if __name__ == '__main__':
    main()
