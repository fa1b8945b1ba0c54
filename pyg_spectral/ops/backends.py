r"""Kernels for the one sparse primitive :math:`\mathbf{Y} = \alpha
\mathbf{S}\mathbf{X} + \beta \mathbf{Z}` and the switch between them.

Backends:

* ``'torch'``: torch's CSR ``addmm`` (MKL on CPU, cuSPARSE on CUDA), then the
  node-wise diagonal as one axpy. Deterministic on CPU (row-parallel).
* ``'triton'``: fused CSR kernel for CUDA tensors (see ``ops/triton``).
* ``'reference'``: gather / ``index_add`` in plain autograd ops. Used
  automatically when the operator's values require grad (learnable edge
  weights), since the other kernels do not differentiate w.r.t. values.

``'auto'`` (default) picks ``triton`` for CUDA tensors when Triton imports,
``torch`` otherwise. :func:`set_backend` / :func:`use_backend` force one.
"""
from __future__ import annotations

import contextlib
from typing import Optional

import torch
from torch import Tensor

_BACKENDS = ('auto', 'torch', 'triton', 'reference')
_state = {'backend': 'auto'}


def set_backend(name: str) -> None:
    """Selects the sparse kernel: ``'auto'``, ``'torch'``, ``'triton'`` or
    ``'reference'``."""
    if name not in _BACKENDS:
        raise ValueError(f"backend must be one of {_BACKENDS} (got {name!r})")
    if name == 'triton':
        from . import triton as _tr
        if not _tr.available():
            raise ValueError("backend 'triton' requested but Triton cannot "
                             "be imported")
    _state['backend'] = name


def get_backend() -> str:
    return _state['backend']


@contextlib.contextmanager
def use_backend(name: str):
    """Context manager form of :func:`set_backend`."""
    old = _state['backend']
    set_backend(name)
    try:
        yield
    finally:
        _state['backend'] = old


def _resolve(op, x: Tensor) -> str:
    if op.requires_grad:
        return 'reference'
    name = _state['backend']
    if name == 'auto':
        if x.is_cuda:
            from . import triton as _tr
            return 'triton' if _tr.available() else 'torch'
        return 'torch'
    if name == 'triton' and not x.is_cuda:
        from . import triton as _tr
        if not _tr.interpreting():
            return 'torch'
    return name


def _add_diag(op, y: Tensor, x: Tensor, alpha: float) -> Tensor:
    d = op.diag
    if d is None:
        return y
    if isinstance(d, Tensor):
        return y.addcmul_(d.unsqueeze(1), x, value=alpha)
    if d != 0.0:
        y.add_(x, alpha=alpha * d)
    return y


def _torch_kernel(op, x, alpha, z, beta, out):
    compute_dtype = x.dtype
    if x.dtype in (torch.float16, torch.bfloat16) and not x.is_cuda:
        # torch's CPU CSR kernels have no half types: compute in float32.
        y = _torch_kernel(op.to(dtype=torch.float32), x.float(), alpha,
                          None if z is None else z.float(), beta, None)
        y = y.to(compute_dtype)
        return y if out is None else out.copy_(y)
    x = x.contiguous()
    if out is None:
        out = torch.empty_like(x, memory_format=torch.contiguous_format)
    if op.num_edges == 0:  # only the diagonal; `out` may alias `z`
        y = out.zero_() if z is None else torch.mul(z, beta, out=out)
        return _add_diag(op, y, x, alpha)
    elif z is None:
        # addmm with beta=0 ignores `out`'s old contents (NaN included) and,
        # unlike torch.mm on CSR, allocates no second output-sized buffer
        y = torch.addmm(out, op.csr, x, beta=0.0, alpha=alpha, out=out)
        return _add_diag(op, y, x, alpha)
    else:
        y = torch.addmm(z, op.csr, x, beta=beta, alpha=alpha, out=out)
        return _add_diag(op, y, x, alpha)


def _reference_kernel(op, x, alpha, z, beta, out):
    y = x.new_zeros(x.shape)
    if op.num_edges:
        msg = x.index_select(0, op.col.long()) * op.val.unsqueeze(1)
        y = y.index_add(0, op.rows(), msg)
    d = op.diag
    if isinstance(d, Tensor):
        y = y + d.unsqueeze(1) * x
    elif d is not None and d != 0.0:
        y = y + d * x
    if alpha != 1.0:
        y = alpha * y
    if z is not None:
        y = y + beta * z
    if out is not None:
        return out.copy_(y)
    return y


class _SpMM(torch.autograd.Function):
    """y = alpha S x + beta z, differentiable in x and z (not in S)."""

    @staticmethod
    def forward(ctx, x, z, op, alpha, beta):
        ctx.op, ctx.alpha, ctx.beta = op, alpha, beta
        ctx.has_z = z is not None
        return _dispatch(op, x, alpha, z, beta, None)

    @staticmethod
    def backward(ctx, grad):
        gx = gz = None
        if ctx.needs_input_grad[0]:
            gx = ctx.op.t().matmul(grad.contiguous(), alpha=ctx.alpha)
        if ctx.has_z and ctx.needs_input_grad[1]:
            gz = grad * ctx.beta
        return gx, gz, None, None, None


def _dispatch(op, x, alpha, z, beta, out):
    name = _resolve(op, x)
    if name == 'reference':
        return _reference_kernel(op, x, alpha, z, beta, out)
    if name == 'triton':
        from . import triton as _tr
        return _tr.spmm(op, x, alpha, z, beta, out)
    return _torch_kernel(op, x, alpha, z, beta, out)


def spmm(op, x: Tensor, alpha: float = 1.0, z: Optional[Tensor] = None,
         beta: float = 1.0, out: Optional[Tensor] = None) -> Tensor:
    r"""Computes :math:`\alpha \mathbf{S}\mathbf{X} + \beta \mathbf{Z}`;
    differentiable in ``x`` and ``z`` (and in the operator's values when they
    require grad)."""
    if x.dim() != 2 or x.size(0) != op.num_nodes:
        raise ValueError(f"x must have shape [{op.num_nodes}, F] "
                         f"(got {list(x.shape)})")
    if z is not None and z.shape != x.shape:
        raise ValueError(f"z must have the shape of x {list(x.shape)} "
                         f"(got {list(z.shape)})")
    needs_fn = torch.is_grad_enabled() and not op.requires_grad and (
        x.requires_grad or (z is not None and z.requires_grad))
    if needs_fn:
        return _SpMM.apply(x, z, op, alpha, beta)
    return _dispatch(op, x, alpha, z, beta, out)
