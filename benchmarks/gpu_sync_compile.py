"""No host synchronization, and compiled vs eager: on CUDA, a cached
training step of ChebConv / GCNConv / the ST-Conv block runs under
``torch.cuda.set_sync_debug_mode('error')`` (any device sync raises), then
eager and ``torch.compile(fullgraph=True)`` steps are timed (CUDA events,
median). ``--dry-run`` runs the same on CPU (no sync mode, few repeats) to
check the script before device time is spent.

    python benchmarks/gpu_sync_compile.py [--dry-run] [--out DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))


def graph(n, deg, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, n * deg // 2), generator=g)
    return torch.cat([ei, ei.flip(0)], 1).to(device)


def timer(fn, device, repeats):
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        if device == 'cuda':
            a, b = (torch.cuda.Event(enable_timing=True) for _ in range(2))
            a.record()
            fn()
            b.record()
            torch.cuda.synchronize()
            times.append(a.elapsed_time(b) / 1e3)
        else:
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def cases(device, small):
    from pyg_spectral.nn import ChebConv, GCNConv, STConv
    n = 2_000 if small else 100_000
    ei = graph(n, 10, device)
    x = torch.randn(n, 64, device=device, requires_grad=True)
    yield f'ChebConv K=3 N={n}', ChebConv(64, 64, 3).to(device), (x, ei)
    yield f'GCNConv N={n}', GCNConv(64, 64).to(device), (x, ei)
    m = 50 if not small else 4
    ei2 = graph(228, 8, device, 1)
    x2 = torch.randn(m, 12, 228, 64, device=device)
    yield (f'STConv B={m} N=228', STConv(228, 64, 16, 64).to(device),
           (x2, ei2))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--dry-run', action='store_true')
    p.add_argument('--out', default='')
    args = p.parse_args()
    device = 'cpu' if args.dry_run else 'cuda'
    repeats = 3 if args.dry_run else 20
    rows = []
    for name, layer, inputs in cases(device, args.dry_run):
        def step(model=layer):
            model.zero_grad(set_to_none=True)
            model(*inputs).square().mean().backward()
        step()  # builds and caches the operator
        sync_ok = 'not checked (CPU)'
        if device == 'cuda':
            torch.cuda.synchronize()
            torch.cuda.set_sync_debug_mode('error')
            try:
                step()
                sync_ok = 'no sync'
            except RuntimeError as e:
                sync_ok = f'SYNC: {str(e).splitlines()[0][:80]}'
            finally:
                torch.cuda.set_sync_debug_mode('default')
        eager = timer(step, device, repeats)
        torch._dynamo.reset()
        compiled_layer = torch.compile(layer, fullgraph=True)

        def cstep():
            compiled_layer.zero_grad(set_to_none=True)
            compiled_layer(*inputs).square().mean().backward()
        compiled = timer(cstep, device, repeats)
        rows.append(dict(case=name, device=device, sync=sync_ok,
                         eager_ms=eager * 1e3, compiled_ms=compiled * 1e3))
        print(json.dumps(rows[-1]), flush=True)
    lines = ['| case | cached step under sync_debug_mode("error") | eager '
             '(ms) | compiled (ms) |', '|---|---|---:|---:|']
    for r in rows:
        lines.append(f"| {r['case']} | {r['sync']} | {r['eager_ms']:.2f} | "
                     f"{r['compiled_ms']:.2f} |")
    md = '\n'.join(lines) + '\n'
    print(md)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, 'sync_compile.md'), 'w') as f:
            f.write(md)
        with open(os.path.join(args.out, 'sync_compile.json'), 'w') as f:
            json.dump(rows, f, indent=1)


if __name__ == '__main__':
    main()
