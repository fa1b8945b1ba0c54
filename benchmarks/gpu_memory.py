"""GPU memory of big steps, each configuration in its own process (a fresh
caching allocator, the default one unless the caller sets
``PYTORCH_CUDA_ALLOC_CONF``):

* ``giant``: 100M nodes / 1B edges (undirected, mean degree 10), F = 32,
  ChebConv K = 3: the operator build, then two training steps
  (``out.backward(g)``), with and without x requiring grad. Target: peak
  <= 85 GiB with the default allocator (the model of
  ``benchmarks/results/notes/memory_cpu.md``: 94.2 GiB with x.grad, 82.3
  without).
* ``half``: ChebConv K = 10 at 2M nodes / 20M edges, C = F = 64, the layer
  and x cast with ``.to(dtype)``: warm fwd+bwd time and peak above the live
  inputs, float32 / bfloat16 / float16. Target: half peak <= 0.7x float32.

    python benchmarks/gpu_memory.py --out /tmp/gpu_out      # on a GPU
    python benchmarks/gpu_memory.py --device cpu --scale 1e-3  # dry run

Prints one JSON line per configuration and a markdown table
(``gpu_memory.md`` under ``--out``).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import write_results  # noqa

GiB = float(2**30)


def _graph(n: int, e: int, device) -> torch.Tensor:
    g = torch.Generator(device=device).manual_seed(0)
    half = torch.randint(0, n, (2, e // 2), device=device, generator=g)
    return torch.cat([half, half.flip(0)], 1)


def _sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize()


def _peak(device) -> float:
    if device.type != 'cuda':
        return float('nan')
    return torch.cuda.max_memory_allocated() / GiB


def _reset(device):
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats()


def child(args) -> dict:
    from pyg_spectral.nn import ChebConv
    from pyg_spectral.ops import laplacian_operator
    dev = torch.device(args.device)
    dtype = getattr(torch, args.dtype)
    n, e, f, K = args.nodes, args.edges, args.channels, args.K
    row = dict(config=args.config, nodes=n, edges=e, channels=f, K=K,
               dtype=args.dtype, x_grad=bool(args.x_grad))
    try:
        ei = _graph(n, e, dev)
        conv = ChebConv(f, f, K).to(dev, dtype)
        x = torch.randn(n, f, device=dev, dtype=dtype,
                        requires_grad=bool(args.x_grad))
        g = torch.randn(n, f, device=dev, dtype=dtype)
        _sync(dev)
        _reset(dev)
        t = time.perf_counter()
        op = laplacian_operator(ei, num_nodes=n, dtype=dtype)
        _sync(dev)
        row['build_s'] = time.perf_counter() - t
        row['build_peak_gib'] = _peak(dev)
        times = []
        for _ in range(3):
            conv.zero_grad(set_to_none=True)
            x.grad = None
            _sync(dev)
            t = time.perf_counter()
            out = conv(x, op)
            out.backward(g)
            _sync(dev)
            times.append(time.perf_counter() - t)
            del out
        row['first_step_s'], row['step_s'] = times[0], min(times[1:])
        row['peak_gib'] = _peak(dev)  # build and steps, everything live
        base = 0.0
        if dev.type == 'cuda':
            conv.zero_grad(set_to_none=True)
            x.grad = None
            _sync(dev)
            base = torch.cuda.memory_allocated()
            _reset(dev)
            out = conv(x, op)
            out.backward(g)
            del out
            _sync(dev)
            row['step_above_inputs_gib'] = \
                (torch.cuda.max_memory_allocated() - base) / GiB
            row['reserved_gib'] = torch.cuda.max_memory_reserved() / GiB
        row['status'] = 'ok'
    except torch.OutOfMemoryError as err:
        row['status'] = 'out of memory: ' + str(err).split('.')[0][:200]
    return row


CONFIGS = {
    'giant': [dict(nodes=100_000_000, edges=1_000_000_000, channels=32,
                   K=3, dtype='float32', x_grad=g) for g in (0, 1)],
    'half': [dict(nodes=2_000_000, edges=20_000_000, channels=64, K=10,
                  dtype=d, x_grad=1)
             for d in ('float32', 'bfloat16', 'float16')],
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--parts', nargs='+', default=['half', 'giant'])
    p.add_argument('--device', default='cuda')
    p.add_argument('--scale', type=float, default=1.0,
                   help='multiply nodes and edges (a CPU dry run: 1e-3)')
    p.add_argument('--timeout', type=int, default=150)
    p.add_argument('--out', default=None)
    p.add_argument('--child', action='store_true')
    p.add_argument('--config'), p.add_argument('--nodes', type=int)
    p.add_argument('--edges', type=int), p.add_argument('--channels', type=int)
    p.add_argument('--K', type=int), p.add_argument('--dtype')
    p.add_argument('--x-grad', type=int)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args)), flush=True)
        return
    rows = []
    env = dict(os.environ, PYTHONPATH=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '..'))
    for part in args.parts:
        for c in CONFIGS[part]:
            c = dict(c, nodes=int(c['nodes'] * args.scale),
                     edges=int(c['edges'] * args.scale))
            cmd = [sys.executable, __file__, '--child', '--config', part,
                   '--device', args.device] + [
                f"--{k.replace('_', '-')}={v}" for k, v in c.items()]
            try:
                res = subprocess.run(cmd, env=env, capture_output=True,
                                     text=True, timeout=args.timeout)
                lines = [ln for ln in res.stdout.splitlines()
                         if ln.startswith('{')]
                row = json.loads(lines[-1]) if lines else dict(
                    c, config=part, status='failed: ' + (
                        res.stderr.strip().splitlines() or ['?'])[-1][:200])
            except subprocess.TimeoutExpired:
                row = dict(c, config=part,
                           status=f'timeout after {args.timeout} s')
            rows.append(row)
            print(json.dumps(row), flush=True)
    md = render(rows, args)
    print(md)
    if args.out:
        write_results(os.path.join(args.out, 'gpu_memory'), md, rows)


def render(rows, args) -> str:
    name = torch.cuda.get_device_name() if args.device == 'cuda' and \
        torch.cuda.is_available() else args.device
    alloc = os.environ.get('PYTORCH_CUDA_ALLOC_CONF') or 'default'
    out = [f'Device: {name}, torch {torch.__version__}, allocator: {alloc}. '
           'Command: `python benchmarks/gpu_memory.py`.', '',
           '| config | N | E | F | K | dtype | x.grad | build (s) | '
           'build peak (GiB) | step (ms) | peak (GiB) | step above inputs '
           '(GiB) | reserved (GiB) | status |',
           '|---|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|'
           '---|']
    f32 = None
    for r in rows:
        def cell(k, fmt='{:.2f}', scale=1.0):
            return fmt.format(r[k] * scale) if k in r else '—'
        out.append(
            f"| {r.get('config')} | {r.get('nodes', 0):,} | "
            f"{r.get('edges', 0):,} | {r.get('channels')} | {r.get('K')} | "
            f"{r.get('dtype')} | {bool(r.get('x_grad'))} | "
            f"{cell('build_s')} | {cell('build_peak_gib')} | "
            f"{cell('step_s', '{:.1f}', 1e3)} | {cell('peak_gib')} | "
            f"{cell('step_above_inputs_gib')} | {cell('reserved_gib')} | "
            f"{r.get('status')} |")
        if r.get('config') == 'half' and r.get('dtype') == 'float32':
            f32 = r
    if f32 and 'step_above_inputs_gib' in f32:
        for r in rows:
            if r.get('config') == 'half' and r.get('dtype') != 'float32' \
                    and 'step_above_inputs_gib' in r:
                out.append('')
                out.append(f"{r['dtype']}: step peak "
                           f"{r['step_above_inputs_gib'] / f32['step_above_inputs_gib']:.2f}x "
                           f"float32's, {f32['step_s'] / r['step_s']:.2f}x "
                           'its speed.')
    return '\n'.join(out) + '\n'


if __name__ == '__main__':
    main()
