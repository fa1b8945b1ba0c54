"""Every registered filter (``pyg_spectral.nn.FILTERS``, K = 10) in a
training step, ours vs the same filter as one module per hop
(``per_hop.py``: autograd keeps every hop), same process, same parameters,
same inputs. Model: Linear(C, C) -> ReLU -> filter -> Linear(C, 8), width
C = 64; one step = forward + backward + Adam on a cross-entropy loss; median
of ``--repeats`` after a warm-up; peak memory of one step in a child
process (RSS high-water mark above the live inputs, as bench_poly.py).

Bound: the sparse products the filter's polynomial needs (K forward, K
backward: 20 at K = 10; 2 for FAGCN's K = 1) times one measured product
``S X`` at width C on the same graph (the package kernel): the step can
not be faster than its sparse products.

    python benchmarks/bench_zoo.py                  # cora squirrel tolokers 1m
    python benchmarks/bench_zoo.py --cases squirrel --filters bernnet

Writes benchmarks/results/zoo_cpu.md (and .json).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from bench_conv import cora_inputs, random_graph  # noqa: E402
from common import (child_rows, fmt_bytes, machine, median_time,  # noqa
                    peak_memory, stamp, write_results)
from per_hop import PerHop  # noqa: E402

from pyg_spectral.nn import FILTERS  # noqa: E402
from pyg_spectral.ops import clear_cache, spmm  # noqa: E402

C, CLASSES, K = 64, 8, 10
#: constructor arguments at K = 10, width C
KWARGS = {
    'gprgnn': dict(K=K), 'bernnet': dict(K=K), 'chebnetii': dict(K=K),
    'chebbase': dict(K=K, alpha=1.0),
    'jacobiconv': dict(channels=C, K=K), 'legendrenet': dict(K=K),
    'hornergcn': dict(K=K), 'clenshawgcn': dict(K=K),
    'favardgnn': dict(channels=C, K=K), 'adagnn': dict(channels=C, K=K),
    'optbasisgnn': dict(channels=C, K=K),
    'fixed': dict(K=K, scheme='mono'), 'heat_kernel': dict(K=K),
    'ppr': dict(K=K), 'fagcn': dict(kind='high', learn_eps=True),
    'sgc': dict(in_channels=C, out_channels=C, K=K),
    's2gc': dict(in_channels=C, out_channels=C, alpha=0.1, K=K),
    'appnp': dict(K=K, alpha=0.1),
}


def cases(names):
    from pyg_spectral.datasets import load_heterophily
    out = []
    for key in names:
        if key == 'cora':
            _, ei, src = cora_inputs()
            out.append(dict(key=key, name=f'Cora ({src})', n=int(ei.max()) + 1,
                            ei=ei))
        elif key in ('squirrel', 'tolokers', 'chameleon', 'minesweeper'):
            try:
                data = load_heterophily(key)
            except (FileNotFoundError, OSError) as e:
                print(f'{key}: skipped ({e})')
                continue
            out.append(dict(key=key, name=key.capitalize(), n=data.num_nodes,
                            ei=data.edge_index))
        elif key == '1m':
            out.append(dict(key=key, name='random, N=1M', n=1_000_000,
                            ei=random_graph(1_000_000, 4)))
        else:
            raise ValueError(f'unknown case {key!r}')
    return out


class Model(torch.nn.Module):
    def __init__(self, filt):
        super().__init__()
        self.lin1 = torch.nn.Linear(C, C)
        self.filt = filt
        self.lin2 = torch.nn.Linear(C, CLASSES)

    def forward(self, x, ei):
        return self.lin2(self.filt(F.relu(self.lin1(x)), ei))


def pair(name, n, ei):
    """Ours and the per-hop model, sharing their parameters' values."""
    torch.manual_seed(0)
    ours = Model(FILTERS[name](**KWARGS[name]))
    with torch.no_grad():
        for p in ours.filt.parameters():
            p.add_(0.05 * torch.randn_like(p))
    torch.manual_seed(0)
    twin = Model(FILTERS[name](**KWARGS[name]))
    twin.load_state_dict(ours.state_dict())
    op = twin.filt.operator(ei, n)
    theirs = Model(PerHop(twin.filt, op))
    theirs.lin1, theirs.lin2 = twin.lin1, twin.lin2
    return ours, theirs, op


def step_fn(model, x, ei, y):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def run():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x, ei), y).backward()
        opt.step()
    return run


def products(name):
    return 2 * (1 if name == 'fagcn' else K)


def memory_rows(a):
    for case in cases(a.cases):
        x, y = inputs(case['n'])
        for name in a.filters:
            ours, theirs, _ = pair(name, case['n'], case['ei'])
            mem = {}
            for key, model in (('ours_mem', ours), ('ref_mem', theirs)):
                fn = step_fn(model, x, case['ei'], y)
                fn()
                mem[key] = peak_memory(fn)
            print(json.dumps(dict(case=case['key'], filter=name, **mem)),
                  flush=True)
            clear_cache()


def inputs(n):
    g = torch.Generator().manual_seed(0)
    return (torch.randn(n, C, generator=g),
            torch.randint(0, CLASSES, (n, ), generator=g))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--cases', nargs='+',
                   default=['cora', 'squirrel', 'tolokers', '1m'])
    p.add_argument('--filters', nargs='+', default=list(KWARGS))
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--memory-child', action='store_true')
    p.add_argument('--append', action='store_true',
                   help='keep the rows of the existing results whose '
                   '(graph, filter) this run does not redo')
    p.add_argument('--out', default=os.path.join(
        os.path.dirname(__file__), 'results', 'zoo_cpu'))
    a = p.parse_args(argv)
    if a.memory_child:
        memory_rows(a)
        return 0
    mem = {(r['case'], r['filter']): r for r in child_rows(
        __file__, ['--memory-child', '--cases', *a.cases, '--filters',
                   *a.filters])}
    rows = []
    for case in cases(a.cases):
        x, y = inputs(case['n'])
        ei = case['ei']
        for name in a.filters:
            ours, theirs, op = pair(name, case['n'], ei)
            with torch.no_grad():
                err = float((ours(x, ei) - theirs(x, ei)).abs().max() /
                            theirs(x, ei).abs().max())
            h = torch.randn(case['n'], C)
            t_prod = median_time(lambda: spmm(op, h), a.repeats)
            t_ours = median_time(step_fn(ours, x, ei, y), a.repeats)
            t_ref = median_time(step_fn(theirs, x, ei, y), a.repeats)
            m = mem[(case['key'], name)]
            bound = products(name) * t_prod
            rows.append(dict(case=case['key'], name=case['name'],
                             n=case['n'], entries=int(ei.size(1)),
                             filter=name, ours_s=t_ours, ref_s=t_ref,
                             product_s=t_prod, bound_s=bound,
                             ours_mem=m['ours_mem'], ref_mem=m['ref_mem'],
                             rel_err=err))
            print(rows[-1], flush=True)
            clear_cache()
    if a.append and os.path.isfile(a.out + '.json'):
        with open(a.out + '.json') as f:
            old = json.load(f)['rows']
        done = {(r['case'], r['filter']) for r in rows}
        keys = list(KWARGS)
        rows = [r for r in old if (r['case'], r['filter']) not in done] + \
            rows
        order = ['cora', 'squirrel', 'tolokers', 'chameleon', 'minesweeper',
                 '1m']
        rows.sort(key=lambda r: (order.index(r['case']),
                                 keys.index(r['filter'])))
    md = ['# The spectral zoo: one engine call vs one module per hop (CPU)\n',
          f'{stamp()}, {machine()}; `python benchmarks/bench_zoo.py`. One '
          f'training step of Linear({C}, {C}) -> ReLU -> filter (K = {K}) -> '
          f'Linear({C}, {CLASSES}) with Adam, median of {a.repeats}; peak '
          f'memory of one step. "per hop": the same filter and parameters '
          f'as one sparse product per hop (the same kernel), autograd '
          f'keeping every hop (benchmarks/per_hop.py; BernNet\'s form does '
          f'K(K+1)/2 + K products). "bound": the products the polynomial needs (K '
          f'forward + K backward) times one measured product at width {C}. '
          f'"rel. err.": per-hop output vs ours.\n',
          '| graph | filter | ours | per hop | speed-up | bound | ours / '
          'bound | peak mem ours | peak mem per hop | memory ratio | '
          'rel. err. |',
          '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
    for r in rows:
        md.append(
            f"| {r['name']} (N={r['n']:,}, {r['entries']:,} entries) | "
            f"{r['filter']} | {r['ours_s'] * 1e3:.1f} ms | "
            f"{r['ref_s'] * 1e3:.1f} ms | {r['ref_s'] / r['ours_s']:.1f}x | "
            f"{r['bound_s'] * 1e3:.1f} ms | {r['ours_s'] / r['bound_s']:.2f} "
            f"| {fmt_bytes(r['ours_mem'])} | {fmt_bytes(r['ref_mem'])} | "
            f"{r['ref_mem'] / max(r['ours_mem'], 1):.1f}x | "
            f"{r['rel_err']:.1e} |")
    write_results(a.out, '\n'.join(md) + '\n', rows)
    print('\n'.join(md))
    return 0


if __name__ == '__main__':
    sys.exit(main())
