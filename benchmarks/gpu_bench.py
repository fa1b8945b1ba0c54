"""GPU timings (CUDA events, warm-up, median): the sparse step (Triton) vs
cuSPARSE and vs a device-to-device copy, and ChebConv/GCNConv training steps
vs PyG on a graph that fills a good part of the card. Called by
gpu_check.sh; writes gpu.md / gpu.json into --out."""
from __future__ import annotations

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from common import median_time, peak_memory  # noqa: E402


def cuda_time(fn, repeats=10, warmup=2):
    return median_time(fn, repeats, warmup, device='cuda')


def peak(fn):
    return peak_memory(fn, device='cuda')


def graph(n, e_half, hub=0, seed=0):
    g = torch.Generator(device='cuda').manual_seed(seed)
    ei = torch.randint(0, n, (2, e_half), device='cuda', generator=g)
    ei = torch.cat([ei, ei.flip(0)], 1)
    if hub:
        src = torch.randint(0, n, (hub, ), device='cuda', generator=g)
        ei = torch.cat([ei, torch.stack([src, torch.zeros_like(src)])], 1)
    return ei


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--out', default='/tmp/gpu_out')
    p.add_argument('--nodes', type=int, default=2_000_000)
    p.add_argument('--edges', type=int, default=20_000_000)
    args = p.parse_args()
    import torch_geometric.nn as pygnn

    from pyg_spectral.nn import ChebConv, GCNConv
    from pyg_spectral.ops import laplacian_operator, use_backend
    from pyg_spectral.ops import triton as tr
    assert tr.available(), 'Triton not importable'
    name = torch.cuda.get_device_name()
    rows, notes = [], []

    # device-to-device copy bandwidth (read + write)
    a = torch.empty(2**28, device='cuda')
    b = torch.empty_like(a)
    t = cuda_time(lambda: b.copy_(a))
    copy_bw = 2 * a.numel() * 4 / t
    a = b = None  # free
    notes.append(f'device-to-device copy: {copy_bw / 1e9:.0f} GB/s')

    n, e = args.nodes, args.edges
    F = 64
    ei = graph(n, e // 2)
    op = laplacian_operator(ei, None, n, 'sym')
    x = torch.randn(n, F, device='cuda')
    nnz = op.num_edges
    nbytes = (n + 1) * 4 + nnz * 8 + nnz * F * 4 + n * F * 4

    def bw(t, extra=0):  # extra: bytes of z read by the fused step
        b = nbytes + extra
        return f'{b / t / 1e9:.0f} GB/s ({b / t / copy_bw:.0%})'

    # correctness on the big graph
    with use_backend('torch'):
        ref = op.matmul(x)
    got = tr.spmm(op, x)
    err = float((got - ref).abs().max() / ref.abs().max())
    notes.append(f'triton vs cuSPARSE max rel err (N={n}, nnz={nnz}): '
                 f'{err:.1e}')

    t_cusparse = cuda_time(lambda: torch.sparse.mm(op.csr, x))
    rows.append(('sparse step S@X, cuSPARSE (torch.sparse.mm)',
                 t_cusparse, bw(t_cusparse)))
    with use_backend('torch'):
        t_torch = cuda_time(lambda: op.matmul(x, 2.0, x, -1.0))
    rows.append(('2 S X - Z, torch backend (cuSPARSE addmm + axpy)', t_torch,
                 bw(t_torch, n * F * 4)))
    best = None
    for be in (8, 16, 32):
        for nw in (1, 2, 4, 8):
            t = cuda_time(lambda: tr.spmm(op, x, block_e=be, num_warps=nw),
                          repeats=5)
            if best is None or t < best[0]:
                best = (t, be, nw)
    t_tr = cuda_time(lambda: tr.spmm(op, x))
    rows.append(('sparse step S@X, Triton (default config)', t_tr, bw(t_tr)))
    rows.append((f'sparse step S@X, Triton (best of sweep: block_e='
                 f'{best[1]}, warps={best[2]})', best[0], bw(best[0])))
    t_tr2 = cuda_time(lambda: tr.spmm(op, x, 2.0, x, -1.0))
    rows.append(('2 S X - Z, Triton (fused)', t_tr2,
                 bw(t_tr2, n * F * 4)))

    try:
        hub_section(n, e, x, rows, notes, laplacian_operator, use_backend, tr)
    except Exception as exc:  # keep the rest of the report
        notes.append(f'hub section failed: {exc!r}')
    try:
        layer_section(x, ei, F, rows, notes, pygnn, ChebConv, GCNConv)
    except Exception as exc:
        notes.append(f'layer section failed: {exc!r}')
    report(name, n, nnz, notes, rows, args.out)


def hub_section(n, e, x, rows, notes, laplacian_operator, use_backend, tr):
    # skewed degrees: one hub row with 1e5 in-neighbours
    op_hub = laplacian_operator(graph(n, e // 2, hub=100_000), None, n,
                                'sym')
    with use_backend('torch'):
        ref = op_hub.matmul(x)
    got = tr.spmm(op_hub, x)
    notes.append('hub graph triton vs cuSPARSE max rel err: '
                 f'{float((got - ref).abs().max() / ref.abs().max()):.1e}')
    t_h = cuda_time(lambda: tr.spmm(op_hub, x))
    t_hc = cuda_time(lambda: torch.sparse.mm(op_hub.csr, x))
    rows.append(('hub graph (+1e5-degree row): Triton', t_h, ''))
    rows.append(('hub graph (+1e5-degree row): cuSPARSE', t_hc, ''))


def layer_section(x, ei, F, rows, notes, pygnn, ChebConv, GCNConv):
    # layers: training step vs PyG on the same inputs and weights
    xg = x.clone().requires_grad_(True)
    for K in (3, 10):
        torch.manual_seed(0)
        refc = pygnn.ChebConv(F, F, K).cuda()
        ours = ChebConv(F, F, K).cuda()
        ours.load_state_dict(refc.state_dict())

        def step(m):
            def f():
                m.zero_grad(set_to_none=True)
                xg.grad = None
                m(xg, ei).square().mean().backward()
            return f
        with torch.no_grad():
            d = float((ours(x, ei) - refc(x, ei)).abs().max() /
                      refc(x, ei).abs().max())
        to = cuda_time(step(ours), repeats=5)
        tp = cuda_time(step(refc), repeats=3, warmup=1)
        mo, mp = peak(step(ours)), peak(step(refc))
        rows.append((f'ChebConv K={K} C=F=64 fwd+bwd: ours', to,
                     f'{tp / to:.1f}x vs PyG; peak {mo / 2**30:.2f} GiB vs '
                     f'{mp / 2**30:.2f} GiB; rel err {d:.1e}'))
        rows.append((f'ChebConv K={K} C=F=64 fwd+bwd: PyG', tp, ''))
        # determinism through the Triton path
        outs = []
        for _ in range(2):
            ours.zero_grad()
            y = ours(xg, ei)
            gx, = torch.autograd.grad(y.square().mean(), xg)
            outs.append((y, gx))
        same = all(torch.equal(u, v) for u, v in zip(*outs))
        notes.append(f'ChebConv K={K}: two runs bitwise equal: {same}')
        del refc, ours
    torch.manual_seed(0)
    refg = pygnn.GCNConv(F, F).cuda()
    ours = GCNConv(F, F).cuda()
    ours.load_state_dict(refg.state_dict())

    def gstep(m):
        def f():
            m.zero_grad(set_to_none=True)
            m(xg, ei).square().mean().backward()
        return f
    to, tp = cuda_time(gstep(ours), repeats=5), cuda_time(gstep(refg), 3)
    rows.append(('GCNConv C=F=64 fwd+bwd: ours', to, f'{tp / to:.1f}x vs PyG'))
    rows.append(('GCNConv C=F=64 fwd+bwd: PyG', tp, ''))


def report(name, n, nnz, notes, rows, out):
    lines = [f'Card: {name}; torch {torch.__version__}; N={n}, '
             f'nnz={nnz} (undirected random graph), F=64.', '']
    lines += [f'- {s}' for s in notes]
    lines += ['', '| what | time (ms) | notes |', '|---|---:|---|']
    lines += [f'| {r[0]} | {r[1] * 1e3:.2f} | {r[2]} |' for r in rows]
    md = '\n'.join(lines) + '\n'
    print(md)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'gpu.md'), 'w') as f:
        f.write(md)
    with open(os.path.join(out, 'gpu.json'), 'w') as f:
        json.dump(dict(card=name, notes=notes,
                       rows=[dict(what=r[0], seconds=r[1], notes=r[2])
                             for r in rows]), f, indent=1)


if __name__ == '__main__':
    main()
