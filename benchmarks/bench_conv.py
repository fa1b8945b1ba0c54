"""ChebConv / GCNConv: pyg_spectral vs torch_geometric, same process, same
inputs and weights. One training step = forward + backward of
``out.square().mean()``; median of ``--repeats`` runs after a warm-up; peak
memory of one step (RSS high-water mark above the live inputs).

    python benchmarks/bench_conv.py                  # all cases
    python benchmarks/bench_conv.py --cases cora     # one case

Writes benchmarks/results/conv_cpu.md (and .json).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import time

from common import (child_rows, fmt_bytes, machine, median_time,  # noqa
                    peak_memory, planetoid_root, stamp, undirected_graph,
                    write_results)


def random_graph(n, avg_deg, seed=0):
    """Undirected, ``E = n * avg_deg`` entries (:func:`common.undirected_graph`)."""
    return undirected_graph(n, n * avg_deg, seed)


def cora_inputs():
    root = planetoid_root('Cora')
    if root is not None:
        from torch_geometric.datasets import Planetoid
        data = Planetoid(root, 'Cora')[0]
        return data.x, data.edge_index, 'real Cora'
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(2708, 1433, generator=g) < 0.0127).float()
    return x, random_graph(2708, 4), 'synthetic Cora shape'


def cases(names):
    out = []
    if 'cora' in names or 'cora_sparse' in names:
        x, ei, src = cora_inputs()
        if 'cora' in names:
            out.append(dict(key='cora',
                            name=f'Cora ({src}) N=2708 C=1433->16 K=3',
                            x=x, ei=ei, C=1433, F=16, K=3, x_grad=False))
        if 'cora_sparse' in names:
            out.append(dict(key='cora_sparse',
                            name=f'Cora sparse x ({src}) C=1433->16 K=3',
                            x=x.to_sparse_csr(), x_dense=x, ei=ei, C=1433,
                            F=16, K=3, x_grad=False))
    if '100k' in names:
        ei = random_graph(100_000, 10)
        x = torch.randn(100_000, 64)
        for K in (3, 10):
            out.append(dict(key='100k', name=f'N=100k deg=10 C=F=64 K={K}',
                            x=x, ei=ei,
                            C=64, F=64, K=K, x_grad=True))
    if '200k' in names:
        ei = random_graph(200_000, 10)
        x = torch.randn(200_000, 256)
        out.append(dict(key='200k', name='N=200k deg=10 C=256->32 K=10',
                        x=x, ei=ei,
                        C=256, F=32, K=10, x_grad=True))
    return out


def step_fn(model, x, ei):
    def step():
        model.zero_grad(set_to_none=True)
        out = model(x, ei)
        out.square().mean().backward()
    return step


def measure(model, x, ei, repeats, memory):
    if memory:
        step_fn(model, x, ei)()  # warm-up (lazy state, caches)
        return peak_memory(step_fn(model, x, ei))
    return median_time(step_fn(model, x, ei), repeats=repeats)


def memory_in_child(case_name, layers):
    """Peak memory, measured in a fresh process (:func:`common.run_child`:
    the RSS high-water mark is the step's own peak, not allocator
    history)."""
    return child_rows(__file__, ['--memory-child', '--cases', case_name,
                                 '--layers', *layers, '--out', ''])


def run(names, repeats, layers, memory=False, compiled=True):
    import torch_geometric.nn as pygnn

    from pyg_spectral.nn import ChebConv, GCNConv
    from pyg_spectral.ops import clear_cache
    rows = []
    for case in cases(names):
        for layer in layers:
            torch.manual_seed(0)
            if layer == 'ChebConv':
                ref = pygnn.ChebConv(case['C'], case['F'], case['K'])
                ours = ChebConv(case['C'], case['F'], case['K'])
            else:
                if case['K'] != 3:
                    continue  # GCN has no K: one row per graph
                ref = pygnn.GCNConv(case['C'], case['F'])
                ours = GCNConv(case['C'], case['F'])
            ours.load_state_dict(ref.state_dict())
            x = case['x']
            x_ref = case.get('x_dense', x)
            if case['x_grad']:
                x = x.clone().requires_grad_(True)
                x_ref = x
            # same inputs give the same outputs (sanity, not the test suite)
            with torch.no_grad():
                a, b = ours(x, case['ei']), ref(x_ref, case['ei'])
                err = float((a - b).abs().max() / b.abs().max())
            if memory:
                row = dict(key=case['key'], layer=layer,
                           ours_mem=measure(ours, x, case['ei'], 0, True),
                           pyg_mem=measure(ref, x_ref, case['ei'], 0, True))
                print(json.dumps(row), flush=True)
                rows.append(row)
                continue
            clear_cache()
            t0 = time.perf_counter()
            step_fn(ours, x, case['ei'])()
            cold = time.perf_counter() - t0
            t_ours = measure(ours, x, case['ei'], repeats, False)
            t_ref = measure(ref, x_ref, case['ei'], repeats, False)
            row = dict(case=case['name'], key=case['key'], layer=layer,
                       ours_s=t_ours, pyg_s=t_ref, speedup=t_ref / t_ours,
                       ours_first_call_s=cold, max_rel_err=err)
            if compiled and x.layout == torch.strided:
                # the same layer under torch.compile (inductor, fullgraph);
                # the compilation itself is in the warm-up, not the median
                torch._dynamo.reset()
                fast = torch.compile(ours, fullgraph=True)
                row['ours_compiled_s'] = measure(fast, x, case['ei'],
                                                 repeats, False)
            if layer == 'GCNConv':
                cached = pygnn.GCNConv(case['C'], case['F'], cached=True)
                cached.load_state_dict(ref.state_dict())
                row['pyg_cached_s'] = measure(cached, x_ref, case['ei'],
                                              repeats, False)
            rows.append(row)
            print(json.dumps(row), flush=True)
    if not memory:
        mems = {}
        for key in dict.fromkeys(r['key'] for r in rows):
            for m in memory_in_child(key, layers):
                mems[(m['key'], m['layer'])] = m
        for r in rows:
            m = mems[(r['key'], r['layer'])]
            r.update(ours_mem=m['ours_mem'], pyg_mem=m['pyg_mem'],
                     mem_ratio=m['pyg_mem'] / max(m['ours_mem'], 1))
    return rows


def to_markdown(rows, command):
    lines = [
        f'Machine: {machine()}. Date: {stamp()}. Command: `{command}`.',
        '',
        'One training step = forward + backward; median of runs after a '
        'warm-up; memory = peak RSS of one step above the live inputs. '
        'K = number of Chebyshev terms (PyG convention).',
        '',
        'Compiled: the same layer under `torch.compile(fullgraph=True)` '
        '(inductor, CPU; compilation excluded), as a multiple of eager '
        '(< 1 is faster); not for `torch.sparse` inputs.',
        '',
        '| case | layer | ours (ms) | PyG (ms) | speed-up | ours peak | '
        'PyG peak | memory ratio | ours 1st call (ms) | ours compiled '
        '(ms) |',
        '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ]
    for r in rows:
        extra = ''
        if 'pyg_cached_s' in r:
            extra = (f' (PyG cached=True: {r["pyg_cached_s"] * 1e3:.1f} ms,'
                     f' {r["pyg_cached_s"] / r["ours_s"]:.1f}x)')
        lines.append(
            f'| {r["case"]} | {r["layer"]} | {r["ours_s"] * 1e3:.1f} | '
            f'{r["pyg_s"] * 1e3:.1f}{extra} | {r["speedup"]:.1f}x | '
            f'{fmt_bytes(r["ours_mem"])} | {fmt_bytes(r["pyg_mem"])} | '
            f'{r["mem_ratio"]:.1f}x | {r["ours_first_call_s"] * 1e3:.1f} | '
            + (f'{r["ours_compiled_s"] * 1e3:.1f} '
               f'({r["ours_compiled_s"] / r["ours_s"]:.2f}x eager) |'
               if 'ours_compiled_s' in r else '— |'))
    return '\n'.join(lines) + '\n'


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--cases', nargs='+',
                   default=['cora', 'cora_sparse', '100k', '200k'])
    p.add_argument('--layers', nargs='+', default=['ChebConv', 'GCNConv'])
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--out', default=os.path.join(os.path.dirname(__file__),
                                                 'results', 'conv_cpu'))
    p.add_argument('--memory-child', action='store_true',
                   help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.memory_child:
        run(args.cases, 0, args.layers, memory=True)
        return
    rows = run(args.cases, args.repeats, args.layers)
    command = 'python benchmarks/bench_conv.py ' + ' '.join(sys.argv[1:])
    md = to_markdown(rows, command.strip())
    print(md)
    if args.out:
        write_results(args.out, md, rows)


if __name__ == '__main__':
    main()
