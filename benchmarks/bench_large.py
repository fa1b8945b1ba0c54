"""A large graph on a small machine: ChebConv training steps on a synthetic
graph with 2M nodes and 20M edges (C = F = 64, K = 3), pyg_spectral vs
torch_geometric's ChebConv.

Each implementation runs in its own child process (so one cannot inherit
the other's memory) under an address-space limit (``--mem-limit-gib``): an
out-of-memory failure is reported as the result, not a crashed machine.
Time: first step (includes building the operator) and the median of
``--repeats`` steps; memory: peak RSS of the process above the live inputs
(glibc returns large frees to the OS, so the high-water mark is the step's
own). Both children also write the first output rows, compared by the
parent (same weights from the same seed).

    python benchmarks/bench_large.py            # 2M nodes, 20M edges
    python benchmarks/bench_large.py --nodes 200000 --edges 2000000

Writes benchmarks/results/large_cpu.md (and .json).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from common import (fmt_bytes, machine, reset_peak, rss,  # noqa
                    stamp, write_results)
from common import run_child as run_script  # noqa: E402


def make_inputs(n, e, c, seed=0):
    g = torch.Generator().manual_seed(seed)
    half = torch.randint(0, n, (2, e // 2), generator=g)
    ei = torch.cat([half, half.flip(0)], 1)  # undirected: e entries
    x = torch.randn(n, c, generator=g)
    return x, ei


def child(args):
    """Runs in the child process; prints one JSON line."""
    import torch_geometric.nn as pygnn

    from pyg_spectral.nn import ChebConv
    torch.manual_seed(0)
    ref = pygnn.ChebConv(args.channels, args.channels, args.K)
    model = ref if args.impl == 'pyg' else ChebConv(args.channels,
                                                    args.channels, args.K)
    if model is not ref:
        model.load_state_dict(ref.state_dict())
    del ref
    x, ei = make_inputs(args.nodes, args.edges, args.channels)
    x.requires_grad_(True)
    base = reset_peak()
    times = []
    for i in range(1 + args.repeats):
        t = time.perf_counter()
        model.zero_grad(set_to_none=True)
        x.grad = None
        out = model(x, ei)
        out.square().mean().backward()
        times.append(time.perf_counter() - t)
        if i == 0:
            torch.save(out[:1000].detach().clone(), args.sample)
        del out
    peak = rss('VmHWM') - base
    times_sorted = sorted(times[1:])
    print(json.dumps(dict(impl=args.impl, first_s=times[0],
                          median_s=times_sorted[len(times_sorted) // 2],
                          peak=peak, rss_before=base)), flush=True)


def run_child(impl, args, sample):
    limit = int(args.mem_limit_gib * 2**30)

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    argv = ['--child', impl, '--sample', sample, '--nodes', str(args.nodes),
            '--edges', str(args.edges), '--channels', str(args.channels),
            '--K', str(args.K), '--repeats', str(args.repeats)]
    t = time.perf_counter()
    try:
        lines, res = run_script(__file__, argv, timeout=args.timeout,
                               preexec_fn=limit_memory)
    except subprocess.TimeoutExpired:
        return dict(impl=impl, status=f'timeout after {args.timeout} s')
    wall = time.perf_counter() - t
    if res.returncode == 0 and lines:
        return dict(lines[-1], status='ok', wall_s=wall)
    err = (res.stderr.strip().splitlines() or ['?'])[-1]
    oom = any(s in res.stderr for s in ("can't allocate memory",
                                         'MemoryError', 'out of memory',
                                         'std::bad_alloc'))
    return dict(impl=impl, wall_s=wall,
                status=('out of memory' if oom else 'failed') +
                f' (rc={res.returncode}): {err[:160]}')


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--nodes', type=int, default=2_000_000)
    p.add_argument('--edges', type=int, default=20_000_000)
    p.add_argument('--channels', type=int, default=64)
    p.add_argument('--K', type=int, default=3)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--mem-limit-gib', type=float, default=20.0)
    p.add_argument('--timeout', type=int, default=1800)
    p.add_argument('--impls', nargs='+', default=['ours', 'pyg'])
    p.add_argument('--out', default=os.path.join(
        os.path.dirname(__file__), 'results', 'large_cpu'))
    p.add_argument('--child', dest='impl', default=None)
    p.add_argument('--sample', default=None)
    args = p.parse_args()
    if args.impl:
        return child(args)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for impl in args.impls:
            sample = os.path.join(tmp, f'{impl}.pt')
            rows[impl] = run_child(impl, args, sample)
            print(json.dumps(rows[impl]), flush=True)
        err = None
        if all(r.get('status') == 'ok' for r in rows.values()) and \
                len(rows) == 2:
            a, b = (torch.load(os.path.join(tmp, f'{i}.pt'))
                    for i in ('ours', 'pyg'))
            err = float((a - b).abs().max() / b.abs().max())
    o, r = rows.get('ours', {}), rows.get('pyg', {})

    def cell_t(row, key):
        return f"{row[key]:.2f}" if row.get('status') == 'ok' else '—'

    def cell_m(row):
        return fmt_bytes(row['peak']) if row.get('status') == 'ok' else '—'
    ratio = (f"{r['median_s'] / o['median_s']:.1f}x"
             if o.get('status') == r.get('status') == 'ok' else '—')
    mratio = (f"{r['peak'] / o['peak']:.1f}x"
              if o.get('status') == r.get('status') == 'ok' else '—')
    title = (f"N={args.nodes:,} E={args.edges:,} C=F={args.channels} "
             f"K={args.K}")
    md = '\n'.join([
        f'Machine: {machine()}. Date: {stamp()}. Command: `python '
        f'benchmarks/bench_large.py` (each implementation in its own '
        f'process, address space limited to {args.mem_limit_gib:g} GiB).',
        '',
        'One training step = forward + backward of `out.square().mean()` '
        'with x requiring grad; median of '
        f'{args.repeats} steps after the first; peak = RSS high-water mark '
        'above the live inputs (x, edge_index). K = number of terms (PyG).',
        '',
        '| graph | impl | first step (s) | step (s) | peak memory | status |',
        '|---|---|---:|---:|---:|---|',
        f"| {title} | pyg_spectral | {cell_t(o, 'first_s')} | "
        f"{cell_t(o, 'median_s')} | {cell_m(o)} | {o.get('status', '—')} |",
        f"| {title} | PyG ChebConv | {cell_t(r, 'first_s')} | "
        f"{cell_t(r, 'median_s')} | {cell_m(r)} | {r.get('status', '—')} |",
        '',
        f'Speed-up {ratio}, memory ratio {mratio}.' +
        (f' Max relative difference of the first 1000 output rows: '
         f'{err:.1e}.' if err is not None else ''),
    ]) + '\n'
    if args.out:
        write_results(args.out, md, list(rows.values()), nodes=args.nodes,
                      edges=args.edges, channels=args.channels, K=args.K,
                      max_rel_err=err)
    print(md)


if __name__ == '__main__':
    main()
