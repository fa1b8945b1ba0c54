"""The memory model, measured on CPU: bytes per edge of an operator and of
its build, and ``[N, F]`` buffers of a training step of each layer.

1. **Build**: ``laplacian_operator`` (ChebConv's) and ``gcn_operator`` on
   random undirected graphs of mean degree 10 (duplicates and a few
   self-loops included), 10M-100M edges; the lean build (the default from
   2**24 entries; forced here at every size) and, up to 20M edges, the
   one-shot sort it replaces.
   Peak = resident-set high-water mark above the inputs (``edge_index``),
   in bytes per edge; held = the operator's arrays.
2. **Training step** of ChebConv (K = 3, 10) and GCNConv on a cached
   operator: forward + ``out.backward(g)`` with ``x`` requiring grad,
   C = F; the peak above the live inputs (x, g, edge_index, the operator,
   the parameters) in units of one ``[N, F]`` float32 tensor. The output
   and x's gradient are two of them.

Each measurement runs in its own process with ``MALLOC_MMAP_THRESHOLD_=
65536``, so that every large block is its own mapping, returned when freed:
the resident set then follows the live tensors.

    python benchmarks/bench_memory.py                      # all
    python benchmarks/bench_memory.py --edges 10e6 20e6 --skip-steps

Writes benchmarks/results/memory_cpu.md (and .json).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from common import (machine, reset_peak, rss, run_child,  # noqa
                    stamp, undirected_graph, write_results)

MB = float(2**20)


def make_graph(n: int, e: int, seed: int = 0) -> torch.Tensor:
    """Undirected random graph: ``e`` directed entries (both directions)."""
    return undirected_graph(n, e, seed)


def _nbytes(*tensors) -> int:
    return sum(t.untyped_storage().nbytes() for t in tensors
               if isinstance(t, torch.Tensor))


def child_build(args) -> dict:
    import pyg_spectral.ops.csr as csr
    from pyg_spectral.ops import gcn_operator, laplacian_operator
    fn = laplacian_operator if args.op == 'laplacian' else gcn_operator
    for m in (1, 1 << 62):  # warm-up of both paths (lazy imports, pools)
        csr._LEAN_MIN = m
        fn(make_graph(100, 1000), num_nodes=100)
    # this row's build, whatever the size (the default: lean from 2**24)
    csr._LEAN_MIN = 1 if args.mode == 'lean' else 1 << 62
    ei = make_graph(args.nodes, args.edges)
    base = reset_peak()
    t = time.perf_counter()
    op = fn(ei, num_nodes=args.nodes)
    dt = time.perf_counter() - t
    peak = rss('VmHWM') - base
    held = _nbytes(op.crow, op.col, op.val, op.diag)
    return dict(kind='build', op=args.op, mode=args.mode, nodes=args.nodes,
                edges=args.edges, seconds=dt, peak=peak, held=held,
                nnz=op.num_edges, symmetric=op._symmetric)


def child_step(args) -> dict:
    from pyg_spectral.nn import ChebConv, GCNConv
    from pyg_spectral.ops import gcn_operator, laplacian_operator
    n, f = args.nodes, args.channels
    torch.manual_seed(0)
    if args.layer.startswith('cheb'):
        K = int(args.layer[4:])
        layer = ChebConv(f, f, K)
        op = laplacian_operator(make_graph(n, args.edges), num_nodes=n)
    else:
        layer = GCNConv(f, f)
        op = gcn_operator(make_graph(n, args.edges), num_nodes=n)
    x = torch.randn(n, f, requires_grad=True)
    g = torch.randn(n, f)  # the output's gradient, made by the caller

    def step():
        layer.zero_grad(set_to_none=True)
        x.grad = None
        out = layer(x, op)
        out.backward(g)
    step()  # warm-up (plans, memo)
    x.grad = None
    layer.zero_grad(set_to_none=True)
    base = reset_peak()
    step()
    peak = rss('VmHWM') - base
    return dict(kind='step', layer=args.layer, nodes=n, edges=args.edges,
                channels=f, peak=peak, nf_bytes=n * f * 4)


def child(argv) -> dict:
    rows, res = run_child(__file__, ['--child'] + argv)
    if res.returncode or not rows:
        return dict(status='failed: ' + (res.stderr.strip().splitlines()
                                         or ['?'])[-1][:200])
    return dict(rows[-1], status='ok')


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--edges', type=float, nargs='+',
                   default=[10e6, 20e6, 50e6, 100e6])
    p.add_argument('--one-shot-max', type=float, default=20e6,
                   help='also measure the one-shot build up to this size')
    p.add_argument('--step-nodes', type=int, default=1_000_000)
    p.add_argument('--channels', type=int, default=32)
    p.add_argument('--skip-steps', action='store_true')
    p.add_argument('--out', default=os.path.join(
        os.path.dirname(__file__), 'results', 'memory_cpu'))
    p.add_argument('--child', action='store_true')
    p.add_argument('--kind'), p.add_argument('--op'), p.add_argument('--mode')
    p.add_argument('--layer'), p.add_argument('--nodes', type=int)
    p.add_argument('--edges-one', type=int)
    args = p.parse_args()
    if args.child:
        args.edges = args.edges_one
        fn = child_build if args.kind == 'build' else child_step
        print(json.dumps(fn(args)), flush=True)
        return
    rows = []
    for e in (int(x) for x in args.edges):
        n = e // 10
        for op in ('laplacian', 'gcn'):
            modes = ['lean'] + (['one-shot'] if e <= args.one_shot_max
                                else [])
            for mode in modes:
                row = child(['--kind', 'build', '--op', op, '--mode',
                                 mode, '--nodes', str(n), '--edges-one',
                                 str(e)])
                row.update(op=op, mode=mode, nodes=n, edges=e)
                rows.append(row)
                print(json.dumps(row), flush=True)
    if not args.skip_steps:
        n = args.step_nodes
        for layer in ('cheb3', 'cheb10', 'gcn'):
            row = child(['--kind', 'step', '--layer', layer, '--nodes',
                             str(n), '--edges-one', str(10 * n),
                             '--channels', str(args.channels)])
            row.update(layer=layer, nodes=n, edges=10 * n,
                       channels=args.channels)
            rows.append(row)
            print(json.dumps(row), flush=True)
    md = render(rows, args)
    write_results(args.out, md, rows)
    print(md)


def render(rows, args) -> str:
    out = [f'Machine: {machine()}. Date: {stamp()}. Command: `python '
           f'benchmarks/bench_memory.py` (each row its own process, '
           f'`MALLOC_MMAP_THRESHOLD_=65536`: the resident set follows the '
           f'live tensors).', '',
           'Operator build on random undirected graphs of mean degree 10 '
           '(N = E / 10; duplicates and self-loops included). Peak = '
           'resident-set high-water mark above `edge_index`; held = the '
           "operator's arrays (int32 `crow`/`col`, float32 `val`); both "
           'in bytes per input edge.', '',
           '| operator | build | N | E | time (s) | peak (B/edge) | '
           'held (B/edge) |', '|---|---|---:|---:|---:|---:|---:|']
    for r in rows:
        if r.get('kind', 'build') != 'build' or 'op' not in r:
            continue
        if r['status'] != 'ok':
            out.append(f"| {r['op']} | {r['mode']} | {r['nodes']:,} | "
                       f"{r['edges']:,} | — | — | {r['status']} |")
            continue
        e = r['edges']
        out.append(f"| {r['op']} | {r['mode']} | {r['nodes']:,} | {e:,} | "
                   f"{r['seconds']:.1f} | {r['peak'] / e:.1f} | "
                   f"{r['held'] / e:.1f} |")
    steps = [r for r in rows if 'layer' in r]
    if steps:
        s0 = steps[0]
        out += ['', f"Training step on a cached operator, N = "
                f"{s0['nodes']:,}, E = {s0['edges']:,}, C = F = "
                f"{s0['channels']} (forward + `out.backward(g)`, x "
                'requiring grad): peak above the live inputs (x, g, '
                'edge_index, operator, parameters), in `[N, F]` float32 '
                "tensors. The output and x's gradient are two of them.", '',
                '| layer | peak (MiB) | peak ([N, F] tensors) |',
                '|---|---:|---:|']
        for r in steps:
            if r['status'] != 'ok':
                out.append(f"| {r['layer']} | — | {r['status']} |")
                continue
            out.append(f"| {r['layer']} | {r['peak'] / MB:.0f} | "
                       f"{r['peak'] / r['nf_bytes']:.2f} |")
    return '\n'.join(out) + '\n'


if __name__ == '__main__':
    main()
