"""The polynomial filters (GPR-GNN, BernNet, ChebNetII, JacobiConv; K = 10)
on this package's engine vs their authors' propagate-K-times algorithms
(pyg_spectral.reproduce.reference_props, PyG MessagePassing), same process,
same inputs and parameters. One step = forward + backward of
``out.square().mean()`` with respect to ``x`` and the filter's parameters;
median of ``--repeats`` after a warm-up; peak memory of one step (RSS
high-water mark above the live inputs, measured in a child process whose
malloc returns large frees to the OS, as bench_conv.py).

    python benchmarks/bench_poly.py                    # Cora, 100k, 1M
    python benchmarks/bench_poly.py --cases cora

Writes benchmarks/results/poly_cpu.md (and .json).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from bench_conv import cora_inputs, random_graph  # noqa: E402
from common import (child_rows, fmt_bytes, machine, median_time,  # noqa
                    peak_memory, stamp, write_results)

from pyg_spectral.nn import BernConv, ChebIIConv, GPRConv, JacobiConv  # noqa
from pyg_spectral.reproduce import reference_props as ref  # noqa: E402

FILTERS = {
    'GPR-GNN': (lambda C: GPRConv(10), lambda C: ref.GPRPropRef(10)),
    'BernNet': (lambda C: BernConv(10), lambda C: ref.BernPropRef(10)),
    'ChebNetII': (lambda C: ChebIIConv(10), lambda C: ref.ChebIIPropRef(10)),
    'JacobiConv': (lambda C: JacobiConv(C, 10),
                   lambda C: ref.JacobiPropRef(C, 10)),
}


def cases(names):
    out = []
    if 'cora' in names:
        _, ei, src = cora_inputs()
        out.append(dict(key='cora', name=f'Cora ({src}), C=7', n=2708, ei=ei,
                        C=7))
    if '100k' in names:
        out.append(dict(key='100k', name='N=100k, 1M edges, C=64',
                        n=100_000, ei=random_graph(100_000, 10), C=64))
    if '1m' in names:
        out.append(dict(key='1m', name='N=1M, 10M edges, C=16',
                        n=1_000_000, ei=random_graph(1_000_000, 10), C=16))
    return out


def mem_ratio(r) -> str:
    """Below 1 MiB the RSS high-water mark cannot resolve a step."""
    if min(r['ours_mem'], r['ref_mem']) < 2 ** 20:
        return '—'
    return f"{r['ref_mem'] / r['ours_mem']:.1f}x"


def step(layer, x, ei):
    def run():
        layer.zero_grad(set_to_none=True)
        x.grad = None
        layer(x, ei).square().mean().backward()
    return run


def pair(name, C, device='cpu'):
    """Ours and the reference with the same (perturbed) parameters."""
    torch.manual_seed(0)
    make_ours, make_ref = FILTERS[name]
    ours, theirs = make_ours(C).to(device), make_ref(C).to(device)
    with torch.no_grad():
        for p_ in ours.parameters():
            p_.add_(0.1 * torch.randn_like(p_))
    theirs.load_state_dict(ours.state_dict(), strict=False)
    return ours, theirs


def memory_rows(a):
    """Peak memory of one step (after a warm-up step) per case and filter;
    run in a child whose malloc returns every large free to the OS."""
    for case in cases(a.cases):
        torch.manual_seed(0)
        x = torch.randn(case['n'], case['C'], requires_grad=True)
        for name in a.filters:
            ours, theirs = pair(name, case['C'])
            mem = {}
            for key, layer in (('ours_mem', ours), ('ref_mem', theirs)):
                step(layer, x, case['ei'])()
                mem[key] = peak_memory(step(layer, x, case['ei']))
            print(json.dumps(dict(case=case['key'], filter=name, **mem)),
                  flush=True)


def memory_in_child(argv):
    return {(r['case'], r['filter']): r
            for r in child_rows(__file__, ['--memory-child', *argv])}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--cases', nargs='+', default=['cora', '100k', '1m'])
    p.add_argument('--filters', nargs='+', default=list(FILTERS))
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--memory-child', action='store_true')
    p.add_argument('--device', default='cpu',
                   help="'cuda': time with CUDA events, peak memory from "
                   "torch.cuda (gpu_check.sh)")
    p.add_argument('--out', default=os.path.join(
        os.path.dirname(__file__), 'results', 'poly_cpu'))
    a = p.parse_args(argv)
    if a.memory_child:
        memory_rows(a)
        return 0
    dev = a.device
    mem = {} if dev != 'cpu' else memory_in_child(
        ['--cases', *a.cases, '--filters', *a.filters])
    rows = []
    for case in cases(a.cases):
        torch.manual_seed(0)
        x = torch.randn(case['n'], case['C'], device=dev, requires_grad=True)
        ei = case['ei'].to(dev)
        for name in a.filters:
            ours, theirs = pair(name, case['C'], dev)
            a_out, b_out = ours(x, ei), theirs(x, ei)
            err = float((a_out - b_out).abs().max() / b_out.abs().max())
            reps = a.repeats if case['n'] < 500_000 else max(a.repeats // 2,
                                                             2)
            t_ours = median_time(step(ours, x, ei), reps, device=dev)
            t_ref = median_time(step(theirs, x, ei), reps, device=dev)
            m = mem.get((case['key'], name)) or dict(
                ours_mem=peak_memory(step(ours, x, ei), dev),
                ref_mem=peak_memory(step(theirs, x, ei), dev))
            rows.append(dict(case=case['key'], name=case['name'],
                             filter=name, ours_s=t_ours, ref_s=t_ref,
                             ours_mem=m['ours_mem'], ref_mem=m['ref_mem'],
                             rel_err=err))
            print(rows[-1], flush=True)
    md = ['# Polynomial filters vs their authors\' propagate-K-times code '
          f'({dev.upper()})\n', f'{stamp()}, {machine()}; `python '
          f'benchmarks/bench_poly.py`. One step: forward + backward of a K = '
          f'10 filter at width C (x and the filter\'s parameters get '
          f'gradients), median of {a.repeats}; peak memory of one step. '
          f'Reference: GPR_prop, Bern_prop, ChebnetII_prop and JacobiConv\'s '
          f'PolyConvFrame as the authors wrote them (PyG MessagePassing, all '
          f'terms kept), same parameters; "rel. err." their outputs vs ours '
          f'(JacobiConv: a = b = 1, where both recurrences agree).'
          + (f' Device: {torch.cuda.get_device_name()}.' if dev == 'cuda'
             else '') + '\n',
          '| graph | filter | ours | reference | speed-up | peak mem ours '
          '| peak mem ref | memory ratio | rel. err. |',
          '|---|---|---:|---:|---:|---:|---:|---:|---:|']
    for r in rows:
        md.append(f"| {r['name']} | {r['filter']} | "
                  f"{r['ours_s'] * 1e3:.1f} ms | {r['ref_s'] * 1e3:.1f} ms | "
                  f"{r['ref_s'] / r['ours_s']:.1f}x | "
                  f"{fmt_bytes(r['ours_mem'])} | {fmt_bytes(r['ref_mem'])} | "
                  f"{mem_ratio(r)} | "
                  f"{r['rel_err']:.1e} |")
    write_results(a.out, '\n'.join(md) + '\n', rows)
    print('\n'.join(md))
    return 0


if __name__ == '__main__':
    sys.exit(main())
