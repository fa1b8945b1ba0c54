"""Triton kernels for the sparse primitive :math:`\\alpha S X + \\beta Z`
(CUDA, or CPU under ``TRITON_INTERPRET=1``, which must be set before Triton
is imported). Imported lazily; the torch backend is used when Triton is
missing. See :mod:`.spmm_kernel` for the kernels."""
from __future__ import annotations

import os
from collections import OrderedDict
from typing import Optional

import torch
from torch import Tensor

_state = {'ok': None}

#: rows with more nonzeros than this are split across programs
SPLIT = 1024


def interpreting() -> bool:
    return os.environ.get('TRITON_INTERPRET', '0') == '1'


def available() -> bool:
    """True when Triton imports (CUDA build, or the CPU interpreter)."""
    if _state['ok'] is None:
        try:
            from . import spmm_kernel  # noqa: F401
            _state['ok'] = True
        except Exception:  # ImportError, or Triton without a backend
            _state['ok'] = False
    return _state['ok']


def _plan(op, split: int):
    """Long-row chunking of ``op`` (cached on the operator)."""
    return op.memo(('triton_plan', split), lambda: _make_plan(op, split))


def _make_plan(op, split: int):
    if op.max_nnz is not None and op.max_nnz[0] <= split:
        return None  # known from the build: no long row, nothing to read
    crow = op.crow.long()
    deg = crow[1:] - crow[:-1]
    long_rows = torch.nonzero(deg > split).flatten()
    if long_rows.numel() == 0:
        plan = None
    else:
        nchunks = (deg[long_rows] + split - 1) // split
        chunk_ptr = torch.zeros(long_rows.numel() + 1, dtype=torch.long,
                                device=crow.device)
        chunk_ptr[1:] = nchunks.cumsum(0)
        owner = torch.repeat_interleave(
            torch.arange(long_rows.numel(), device=crow.device), nchunks)
        within = torch.arange(int(chunk_ptr[-1]), device=crow.device) - \
            chunk_ptr[owner]
        start = crow[long_rows][owner] + within * split
        end = torch.minimum(start + split, crow[long_rows + 1][owner])
        plan = dict(long_rows=long_rows, chunk_ptr=chunk_ptr,
                    chunk_start=start, chunk_end=end)
    return plan


def _acc_dtype(dtype):
    import triton.language as tl
    return tl.float64 if dtype == torch.float64 else tl.float32


def spmm(op, x: Tensor, alpha: float = 1.0, z: Optional[Tensor] = None,
         beta: float = 1.0, out: Optional[Tensor] = None,
         split: Optional[int] = None, block_e: Optional[int] = None,
         num_warps: Optional[int] = None) -> Tensor:
    """``alpha * (M x + d * x) + beta * z`` with the Triton kernels.

    ``block_e`` (nonzeros per inner step) defaults to the average degree
    rounded up to a power of two in [8, 64]; ``num_warps`` to the tile size
    over 1024 elements, in [1, 8] (tuned on an H200: see
    benchmarks/results/gpu.md)."""
    from .spmm_kernel import (chunk_partial_kernel, csr_spmm_kernel,
                              long_row_kernel)
    split = SPLIT if split is None else int(split)
    n, f = x.shape
    if x.stride(1) != 1:
        x = x.contiguous()
    if z is not None and z.stride(1) != 1:
        z = z.contiguous()
    if out is None:
        out = torch.empty_like(x, memory_format=torch.contiguous_format)
    elif out.stride(1) != 1:
        res = spmm(op, x, alpha, z, beta, None, split, block_e, num_warps)
        return out.copy_(res)
    if n == 0 or f == 0:
        return out
    val = op.val if op.val.dtype == x.dtype else \
        op.memo(('values', x.dtype), lambda: op.val.to(x.dtype))
    acc_dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    d = op.diag
    diag_ptr, d_scalar = val, 0.0
    if d is None or (not isinstance(d, Tensor) and d == 0.0):
        diag_mode = 0
    elif isinstance(d, Tensor):
        diag_mode, diag_ptr = 2, d
    else:
        diag_mode, d_scalar = 1, float(d)
    coef = _coef(alpha, beta, d_scalar, acc_dtype, x.device)
    block_f = min(max(triton_next_pow2(f), 16), 128)
    if block_e is None:
        avg = op.num_edges / max(n, 1)
        block_e = min(max(triton_next_pow2(int(avg + 0.999)), 8), 64)
    if num_warps is None:  # H200 sweep: 16 x 64 tiles fastest on 1 warp
        num_warps = min(max(block_e * block_f // 1024, 1), 8)
    acc = _acc_dtype(x.dtype)
    plan = _plan(op, split)
    zz = z if z is not None else x
    grid = (n, triton_cdiv(f, block_f))
    col = op.col if op.num_edges else op.crow  # a valid pointer when empty
    val = val if op.num_edges else coef
    csr_spmm_kernel[grid](
        op.crow, col, val, x, x.stride(0), zz, zz.stride(0), out,
        out.stride(0), diag_ptr, coef, f, split, BLOCK_E=block_e,
        BLOCK_F=block_f, DIAG_MODE=diag_mode, HAS_Z=z is not None,
        HAS_LONG=plan is not None, ACC=acc, num_warps=num_warps)
    if plan is not None:
        nchunk = plan['chunk_start'].numel()
        part = torch.empty(nchunk, f, device=x.device, dtype=acc_dtype)
        chunk_partial_kernel[(nchunk, triton_cdiv(f, block_f))](
            plan['chunk_start'], plan['chunk_end'], op.col, val, x,
            x.stride(0), part, f, BLOCK_E=64, BLOCK_F=block_f, ACC=acc,
            num_warps=4)
        nlong = plan['long_rows'].numel()
        long_row_kernel[(nlong, triton_cdiv(f, block_f))](
            plan['long_rows'], plan['chunk_ptr'], part, x, x.stride(0), zz,
            zz.stride(0), out, out.stride(0), diag_ptr, coef, f,
            BLOCK_F=block_f, DIAG_MODE=diag_mode, HAS_Z=z is not None,
            ACC=acc)
    return out


_COEFS: 'OrderedDict[tuple, Tensor]' = OrderedDict()


def _coef(alpha, beta, d, dtype, device):
    """``[alpha, beta, d]`` as a device tensor in the accumulation dtype
    (float64 runs keep float64 coefficients), shared by every operator: a
    new graph adds no tensor, and a call captured in a CUDA graph after a
    warm-up finds its coefficients made. A new triple is written by three
    device fills (no host-to-device copy, so even a first use inside a
    capture is legal)."""
    key = (float(alpha), float(beta), float(d), dtype, torch.device(device))
    t = _COEFS.get(key)
    if t is None:
        t = torch.empty(3, dtype=dtype, device=device)
        for i, v in enumerate(key[:3]):
            t[i].fill_(v)
        if t.is_cuda and torch.cuda.is_current_stream_capturing():
            return t  # filled only when the graph replays: not shared
        _COEFS[key] = t
        while len(_COEFS) > 256:
            _COEFS.popitem(last=False)
    return t


def triton_next_pow2(n: int) -> int:
    return 1 << max(int(n) - 1, 0).bit_length()


def triton_cdiv(a: int, b: int) -> int:
    return -(-int(a) // int(b))
