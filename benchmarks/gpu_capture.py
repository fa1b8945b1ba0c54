"""CUDA graphs and ``torch.compile(mode='reduce-overhead')`` on our layers.

1. Capture: for each layer, one eager warm-up step (forward + backward) on a
   graph, then ``torch.cuda.graph`` captures a forward + backward on static
   inputs; the replay (new values copied into the static input) must equal
   an eager step on the same values (outputs and gradients).
2. ``torch.compile(mode='reduce-overhead')`` of a whole training step
   (forward, loss, backward) of a Cora ChebNet (K=3), a Cora GCN and an
   STGCN block: losses and gradients equal to eager's.
3. Cora epoch time (2 layers, hidden 16, Adam): PyG eager, ours eager, ours
   with the training step (forward, backward, Adam with ``capturable=True``)
   captured in one CUDA graph and replayed.

``--dry-run`` runs what a CPU can (no capture; compile without CUDA graphs)
to check the script before device time is spent.

    python benchmarks/gpu_capture.py [--dry-run] [--out DIR]
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


def _graph(n, deg, device, seed=0):
    from torch_geometric.utils import coalesce
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, n * deg // 2), generator=g)
    ei = coalesce(torch.cat([ei, ei.flip(0)], 1), num_nodes=n)
    return ei.to(device)


def layers(device):
    from pyg_spectral.nn import (ChebConv, ChebIIConv, GCNConv, GPRConv,
                                 STConv)
    torch.manual_seed(0)
    ei = _graph(500, 8, device)
    yield 'ChebConv K=3', ChebConv(32, 32, 3), torch.randn(500, 32), ei
    yield 'ChebConv K=5 project_first', ChebConv(64, 16, 5), \
        torch.randn(500, 64), ei
    yield 'GCNConv', GCNConv(32, 32), torch.randn(500, 32), ei
    yield 'GCNConv cached', GCNConv(32, 32, cached=True), \
        torch.randn(500, 32), ei
    yield 'GPRConv K=10', GPRConv(K=10), torch.randn(500, 32), ei
    yield 'ChebIIConv K=10', ChebIIConv(K=10), torch.randn(500, 32), ei
    ei2 = _graph(50, 6, device, 1)
    yield 'STConv', STConv(50, 8, 16, 8, kernel_size=3, K=3), \
        torch.randn(4, 12, 50, 8), ei2


def capture_checks(device, dry):
    rows = []
    for name, layer, x, ei in layers(device):
        layer = layer.to(device)
        x = x.to(device)
        params = [p for p in layer.parameters() if p.requires_grad]

        def step(inp):
            for p in params:
                p.grad = None
            out = layer(inp, ei)
            out.square().mean().backward()
            return out
        static_x = x.clone().requires_grad_()
        row = dict(layer=name)
        try:
            if dry:
                step(static_x)
                row['capture'] = 'not run (CPU)'
                rows.append(row)
                continue
            s = torch.cuda.Stream()
            s.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(s):  # the one warm-up call
                step(static_x)
            torch.cuda.current_stream().wait_stream(s)
            g = torch.cuda.CUDAGraph()
            for p in params:
                p.grad = None
            static_x.grad = None
            with torch.cuda.graph(g):
                static_out = layer(static_x, ei)
                static_out.square().mean().backward()
            new = torch.randn_like(x)
            with torch.no_grad():
                static_x.copy_(new)
            g.replay()
            torch.cuda.synchronize()
            got = (static_out.clone(), static_x.grad.clone(),
                   [p.grad.clone() for p in params])
            ref_x = new.clone().requires_grad_()
            ref_out = step(ref_x)
            err = max([float((a - b).abs().max()) for a, b in
                       [(got[0], ref_out), (got[1], ref_x.grad)] +
                       list(zip(got[2], [p.grad for p in params]))])
            row['capture'] = 'ok' if err < 1e-4 else f'MISMATCH {err:.2e}'
            row['max_abs_err'] = err
        except Exception as e:  # reported, not hidden: the table says
            row['capture'] = f'FAILED: {type(e).__name__}: ' \
                f'{str(e).splitlines()[0][:90]}'
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def cora(device):
    from common import planetoid_root
    root = planetoid_root('Cora')
    if root is None:
        return None
    from torch_geometric.datasets import Planetoid
    return Planetoid(root, 'Cora')[0].to(device)


class Net(torch.nn.Module):
    def __init__(self, lib, conv, c_in, classes):
        super().__init__()
        make = (lambda i, o: lib.ChebConv(i, o, 3)) if conv == 'ChebConv' \
            else (lambda i, o: lib.GCNConv(i, o))
        self.c1, self.c2 = make(c_in, 16), make(16, classes)

    def forward(self, x, ei):
        x = torch.nn.functional.dropout(x, 0.5, self.training)
        x = self.c1(x, ei).relu()
        x = torch.nn.functional.dropout(x, 0.5, self.training)
        return self.c2(x, ei)


def compile_checks(device, dry, data):
    """reduce-overhead compile of a training step == eager step."""
    from pyg_spectral.nn import STGCN
    rows = []
    cases = []
    if data is not None:
        import pyg_spectral.nn as ours
        for conv in ('ChebConv', 'GCNConv'):
            torch.manual_seed(0)
            net = Net(ours, conv, data.num_features, 7).to(device).eval()
            cases.append((f'Cora {conv}', net, (data.x, data.edge_index),
                          lambda out: out.log_softmax(-1).mean()))
    torch.manual_seed(0)
    ei = _graph(60, 6, device, 2)
    st = STGCN(60, 12, blocks=((1, 16, 32), (32, 16, 32)))
    cases.append(('STGCN (PeMSD7 blocks, 60 nodes)', st.to(device).eval(),
                  (torch.randn(4, 12, 60, 1, device=device), ei),
                  lambda out: out.square().mean()))
    for name, net, inputs, loss_fn in cases:
        params = [p for p in net.parameters() if p.requires_grad]

        def step():
            for p in params:
                p.grad = None
            loss = loss_fn(net(*inputs))
            loss.backward()
            return loss.detach()
        ref = step()
        ref_grads = [p.grad.clone() for p in params]
        row = dict(case=name)
        try:
            torch._dynamo.reset()
            cstep = torch.compile(step, mode='reduce-overhead')
            for _ in range(3):  # record, then replay
                got = cstep()
            got_grads = [p.grad.clone() for p in params]
            err = max([float((got - ref).abs())] +
                      [float((a - b).abs().max())
                       for a, b in zip(got_grads, ref_grads)])
            row['reduce_overhead'] = 'ok' if err < 1e-4 else \
                f'MISMATCH {err:.2e}'
            row['eager_ms'] = _time(step, device) * 1e3
            row['compiled_ms'] = _time(cstep, device) * 1e3
        except Exception as e:
            row['reduce_overhead'] = f'FAILED: {type(e).__name__}: ' \
                f'{str(e).splitlines()[0][:90]}'
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def _time(fn, device, repeats=20):
    for _ in range(3):
        fn()
    ts = []
    for _ in range(repeats):
        if device == 'cuda':
            torch.cuda.synchronize()
        t = time.perf_counter()
        fn()
        if device == 'cuda':
            torch.cuda.synchronize()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def cora_epochs(device, dry, data):
    """Training-step time on Cora: PyG eager, ours eager, ours captured."""
    import torch_geometric.nn as pyg

    import pyg_spectral.nn as ours
    rows = []
    if data is None:
        return rows
    y, mask = data.y, data.train_mask
    for conv in ('ChebConv', 'GCNConv'):
        row = dict(case=f'Cora {conv} epoch')
        for key, lib in (('PyG', pyg), ('ours', ours)):
            torch.manual_seed(0)
            net = Net(lib, conv, data.num_features, 7).to(device)
            opt = torch.optim.Adam(net.parameters(), lr=0.01,
                                   weight_decay=5e-4,
                                   capturable=device == 'cuda')

            def step(net=net, opt=opt):
                opt.zero_grad(set_to_none=False)
                out = net(data.x, data.edge_index)
                torch.nn.functional.cross_entropy(out[mask],
                                                  y[mask]).backward()
                opt.step()
            row[f'{key}_eager_ms'] = _time(step, device) * 1e3
            if key == 'ours' and not dry:
                try:
                    s = torch.cuda.Stream()
                    s.wait_stream(torch.cuda.current_stream())
                    with torch.cuda.stream(s):
                        for _ in range(3):
                            step()
                    torch.cuda.current_stream().wait_stream(s)
                    g = torch.cuda.CUDAGraph()
                    with torch.cuda.graph(g):
                        step()
                    row['ours_graph_ms'] = _time(g.replay, device) * 1e3
                except Exception as e:
                    row['ours_graph_ms'] = f'FAILED: {type(e).__name__}: ' \
                        f'{str(e).splitlines()[0][:80]}'
        row['eager_speedup'] = row['PyG_eager_ms'] / row['ours_eager_ms']
        if isinstance(row.get('ours_graph_ms'), float):
            row['graph_speedup'] = row['PyG_eager_ms'] / row['ours_graph_ms']
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--dry-run', action='store_true')
    p.add_argument('--out', default='')
    args = p.parse_args()
    device = 'cpu' if args.dry_run else 'cuda'
    data = cora(device)
    result = dict(capture=capture_checks(device, args.dry_run),
                  compile=compile_checks(device, args.dry_run, data),
                  cora=cora_epochs(device, args.dry_run, data))
    lines = ['| layer | CUDA-graph capture of fwd+bwd after one warm-up '
             '|', '|---|---|']
    lines += [f"| {r['layer']} | {r['capture']} |"
              for r in result['capture']]
    lines += ['', '| training step | reduce-overhead | eager ms | '
              'compiled ms |', '|---|---|---:|---:|']
    for r in result['compile']:
        lines.append(f"| {r['case']} | {r['reduce_overhead']} | "
                     f"{r.get('eager_ms', float('nan')):.2f} | "
                     f"{r.get('compiled_ms', float('nan')):.2f} |")
    lines += ['', '| Cora | PyG eager ms | ours eager ms | ours CUDA graph '
              'ms | eager x | graph x |', '|---|---:|---:|---:|---:|---:|']
    for r in result['cora']:
        gm = r.get('ours_graph_ms', '—')
        gm = f'{gm:.2f}' if isinstance(gm, float) else gm
        gx = r.get('graph_speedup')
        lines.append(f"| {r['case']} | {r['PyG_eager_ms']:.2f} | "
                     f"{r['ours_eager_ms']:.2f} | {gm} | "
                     f"{r['eager_speedup']:.2f}x | "
                     f"{'—' if gx is None else f'{gx:.2f}x'} |")
    md = '\n'.join(lines) + '\n'
    print(md)
    if args.out:  # capture.md, capture.json (with machine and date)
        from common import write_results
        write_results(os.path.join(args.out, 'capture'), md,
                      result['capture'], compile=result['compile'],
                      cora=result['cora'], device=device)


if __name__ == '__main__':
    main()
