"""Precompute mode at papers100M shape on this machine: a synthetic graph
(uniform random edges, symmetrized), 128 random features, the ChebNetII
terms T_k(L - I) X for k <= K computed once under a memory budget and
memory-mapped to disk, then a decoupled ChebNetII (combination + 3-layer
MLP, 172 classes as papers100M) trained in mini-batches from the mapped
terms with a plain DataLoader.

    python benchmarks/bench_precompute.py                     # 10M / 100M
    python benchmarks/bench_precompute.py --nodes 200000 --edges 2000000

Each phase runs in its own process, so its peak resident memory (sampled
from /proc every 20 ms) is its own: ``graph`` builds the operator and
features and saves them; ``precompute`` loads them (its baseline RSS) and
writes the terms; ``train`` opens the terms and trains. Results:
``benchmarks/results/precompute.md`` / ``.json``.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
from common import rss as _rss  # noqa: E402  (/proc/self/status, bytes)


class PeakRSS:
    """Peak resident set size of this process while inside the block: all
    of it (``peak``, mapped file pages included) and its anonymous part
    (``peak_anon``: memory the kernel cannot drop; mapped file pages are
    page cache it reclaims under pressure)."""

    def __init__(self):
        self.peak = self.start = rss()
        self.peak_anon = self.start_anon = rss('RssAnon')
        self._stop = threading.Event()

    def __enter__(self):
        self.start = self.peak = rss()
        self.start_anon = self.peak_anon = rss('RssAnon')
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _sample(self):
        self.peak = max(self.peak, rss())
        self.peak_anon = max(self.peak_anon, rss('RssAnon'))

    def _run(self):
        while not self._stop.wait(0.02):
            self._sample()

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self._sample()


def rss(field: str = 'VmRSS') -> int:
    return _rss(field + ':')


def phase_graph(a) -> dict:
    import numpy as np
    import torch

    from pyg_spectral.nn import ChebIIConv
    torch.manual_seed(0)
    t0 = time.perf_counter()
    half = a.edges // 2
    src = torch.randint(0, a.nodes, (half, ))
    dst = torch.randint(0, a.nodes, (half, ))
    ei = torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])
    del src, dst
    op = ChebIIConv(a.K).operator(ei, a.nodes)  # L - I, float32
    del ei
    t_graph = time.perf_counter() - t0
    torch.save(dict(crow=op.crow, col=op.col, val=op.val, diag=op.diag,
                    n=op.num_nodes), os.path.join(a.dir, 'op.pt'))
    x = np.lib.format.open_memmap(os.path.join(a.dir, 'x.npy'), 'w+',
                                  np.float32, (a.nodes, a.features))
    rng = np.random.default_rng(0)
    for r in range(0, a.nodes, 1 << 20):
        x[r:r + (1 << 20)] = rng.standard_normal(
            (min(1 << 20, a.nodes - r), a.features), dtype=np.float32)
    x.flush()
    return dict(graph_s=t_graph, nnz=int(op.col.numel()))


def phase_precompute(a) -> dict:
    import numpy as np
    import torch

    from pyg_spectral.ops import SparseOperator
    from pyg_spectral.precompute import precompute_terms
    d = torch.load(os.path.join(a.dir, 'op.pt'))
    op = SparseOperator(d['crow'], d['col'], d['val'], d['diag'], d['n'])
    x = torch.from_numpy(np.load(os.path.join(a.dir, 'x.npy')))  # in RAM
    budget = int(a.budget_gb * 2 ** 30)
    with PeakRSS() as m:
        t0 = time.perf_counter()
        terms = precompute_terms(x, op, a.K + 1, 'chebyshev', budget=budget,
                                 path=os.path.join(a.dir, 'terms'),
                                 dtype=getattr(torch, a.dtype))
        t = time.perf_counter() - t0
    return dict(precompute_s=t, rss_before=m.start, rss_peak=m.peak,
                anon_before=m.start_anon, anon_peak=m.peak_anon,
                budget=budget, blocks=len(terms.blocks),
                block_width=int(terms.blocks[0].shape[2]),
                terms_bytes=terms.nbytes(),
                operator_bytes=sum(t.numel() * t.element_size() for t in
                                   (op.crow, op.col, op.val)),
                x_bytes=x.numel() * 4)


def phase_train(a) -> dict:
    import torch
    import torch.nn.functional as F

    from pyg_spectral.nn import ChebIIConv, Decoupled
    from pyg_spectral.precompute import TermStore, term_loader
    torch.manual_seed(0)
    terms = TermStore.open(os.path.join(a.dir, 'terms'))
    n = len(terms)
    train = torch.randperm(n)[:max(int(a.train_frac * n), 1)]
    y = torch.randint(0, 172, (n, ))
    mlp = torch.nn.Sequential(
        torch.nn.Linear(a.features, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 172))
    model = Decoupled(ChebIIConv(a.K), mlp)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = term_loader(terms, train, y, batch_size=a.batch)
    epochs = []
    with PeakRSS() as m:
        for _ in range(a.epochs):
            t0, read = time.perf_counter(), 0.0
            it = iter(loader)
            while True:
                r0 = time.perf_counter()
                try:
                    h, yb = next(it)
                except StopIteration:
                    break
                read += time.perf_counter() - r0
                opt.zero_grad()
                F.cross_entropy(model(h), yb).backward()
                opt.step()
            epochs.append(dict(epoch_s=time.perf_counter() - t0,
                               read_s=read))
    return dict(train_nodes=int(train.numel()), epochs=epochs,
                rss_train_peak=m.peak, rss_train_start=m.start,
                anon_train_peak=m.peak_anon)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--nodes', type=int, default=10_000_000)
    p.add_argument('--edges', type=int, default=100_000_000)
    p.add_argument('--features', type=int, default=128)
    p.add_argument('--K', type=int, default=10, help='polynomial order')
    p.add_argument('--budget-gb', type=float, default=4.0)
    p.add_argument('--dtype', default='float16')
    p.add_argument('--train-frac', type=float, default=0.012,
                   help='labelled share (papers100M: 1.2M of 111M)')
    p.add_argument('--batch', type=int, default=10000)
    p.add_argument('--epochs', type=int, default=2)
    p.add_argument('--dir', default='/tmp/pyg_spectral_precompute')
    p.add_argument('--phase', default=None)
    p.add_argument('--only', nargs='+', default=None,
                   help='rerun these phases, keep the others from the last '
                   'results file (e.g. --only train)')
    p.add_argument('--out', default=os.path.join(HERE, 'results',
                                                 'precompute'))
    a = p.parse_args(argv)
    os.makedirs(a.dir, exist_ok=True)
    if a.phase:
        import torch
        torch.set_num_threads(os.cpu_count())
        fn = dict(graph=phase_graph, precompute=phase_precompute,
                  train=phase_train)[a.phase]
        print(json.dumps(fn(a)))
        return 0
    res = dict(args={k: v for k, v in vars(a).items()
                     if k not in ('phase', 'only')})
    if a.only:
        with open(a.out + '.json') as f:
            res = json.load(f)
    for phase in ('graph', 'precompute', 'train'):
        if a.only and phase not in a.only:
            continue
        args = argv if argv is not None else sys.argv[1:]
        if '--only' in args:  # drop '--only x y' from the phase's argv
            i = args.index('--only')
            j = i + 1
            while j < len(args) and not args[j].startswith('--'):
                j += 1
            args = args[:i] + args[j:]
        cmd = [sys.executable, os.path.abspath(__file__), '--phase',
               phase] + args
        # glibc: a fixed mmap threshold, so that freed buffers leave the
        # RSS (see pyg_spectral.precompute)
        env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='1048576')
        out = subprocess.run(cmd, check=True, capture_output=True,
                             text=True, env=env).stdout
        res[phase] = json.loads(out.strip().splitlines()[-1])
        print(phase, res[phase], flush=True)
    res['machine'] = f'{platform.processor() or platform.machine()}, ' \
        f'{os.cpu_count()} cores'
    res['date'] = datetime.date.today().isoformat()
    import torch
    res['torch'] = torch.__version__
    write(res, a)
    return 0


def write(res, a):
    G = 2 ** 30
    pre, tr = res['precompute'], res['train']
    over = pre['rss_peak'] - pre['rss_before']
    lines = [
        '# Precompute mode at papers100M shape (CPU)', '',
        f"{res['date']}, {res['machine']}, torch {res['torch']}; "
        f"`python benchmarks/bench_precompute.py "
        f"--nodes {a.nodes} --edges {a.edges} --budget-gb {a.budget_gb}`.",
        '',
        f"Synthetic graph: {a.nodes:,} nodes, {res['graph']['nnz']:,} "
        f"stored edges (uniform random, symmetrized), {a.features} float32 "
        f"features; ChebNetII terms T_k(L - I) X, k = 0..{a.K} "
        f"({a.K + 1} terms), stored as {a.dtype} column blocks memory-"
        f"mapped on disk.", '',
        '| quantity | value |', '|---|---:|',
        f"| build the operator (random edges, normalize, CSR) | "
        f"{res['graph']['graph_s']:.1f} s |",
        f"| operator / features in RAM | {pre['operator_bytes'] / G:.2f} "
        f"GiB / {pre['x_bytes'] / G:.2f} GiB |",
        f"| precompute time ({a.K} sparse products per block) | "
        f"{pre['precompute_s']:.1f} s |",
        f"| column blocks x width | {pre['blocks']} x "
        f"{pre['block_width']} |",
        f"| terms on disk | {pre['terms_bytes'] / G:.2f} GiB |",
        f"| RSS before precompute (operator + features) | "
        f"{pre['rss_before'] / G:.2f} GiB |",
        f"| peak RSS during precompute | {pre['rss_peak'] / G:.2f} GiB |",
        f"| peak above the baseline / budget | {over / G:.2f} GiB / "
        f"{pre['budget'] / G:.2f} GiB "
        f"({'within' if over <= pre['budget'] else 'OVER'} budget) |",
        f"| training nodes, batch | {tr['train_nodes']:,}, {a.batch:,} |",
    ]
    for i, e in enumerate(tr['epochs']):
        lines.append(f"| epoch {i + 1} (reads from the mapped terms) | "
                     f"{e['epoch_s']:.1f} s (of which reading "
                     f"{e['read_s']:.1f} s) |")
    lines.append(f"| peak RSS while training: all / anonymous (the rest "
                 f"is mapped page cache the kernel reclaims) | "
                 f"{tr['rss_train_peak'] / G:.2f} GiB / "
                 f"{tr.get('anon_train_peak', float('nan')) / G:.2f} GiB |")
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out + '.json', 'w') as f:
        json.dump(res, f, indent=1)
    with open(a.out + '.md', 'w') as f:
        f.write('\n'.join(lines) + '\n')
    print('\n'.join(lines))


if __name__ == '__main__':
    sys.exit(main())
