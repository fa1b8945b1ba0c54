r"""Kernels for the one sparse primitive :math:`\mathbf{Y} = \alpha
\mathbf{S}\mathbf{X} + \beta \mathbf{Z}` and the switch between them.

Backends:

* ``'torch'``: torch's CSR ``addmm`` (MKL on CPU, cuSPARSE on CUDA), then the
  node-wise diagonal as one axpy. Deterministic on CPU (row-parallel).
* ``'triton'``: fused CSR kernel for CUDA tensors (see ``ops/triton``).
* ``'reference'``: gather / ``index_add`` (a debugging aid).

``'auto'`` (default) picks ``triton`` for CUDA tensors when Triton imports,
``torch`` otherwise. :func:`set_backend` / :func:`use_backend` force one;
``'triton'`` on a CPU tensor raises (outside ``TRITON_INTERPRET=1``).
Gradients, including those of the operator's values (learnable edge
weights), come from the custom op's autograd formula (:mod:`.custom_ops`),
whatever the kernel.
"""
from __future__ import annotations

import contextlib
from typing import Optional

import torch
from torch import Tensor

from . import triton as _tr

_BACKENDS = ('auto', 'torch', 'triton', 'reference')
_state = {'backend': 'auto'}


def set_backend(name: str) -> None:
    """Selects the sparse kernel: ``'auto'``, ``'torch'``, ``'triton'`` or
    ``'reference'``."""
    if name not in _BACKENDS:
        raise ValueError(f"backend must be one of {_BACKENDS} (got {name!r})")
    if name == 'triton':
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


def _resolve(x: Tensor) -> str:
    name = _state['backend']
    if name == 'auto':
        if x.is_cuda:
            return 'triton' if _tr.available() else 'torch'
        return 'torch'
    if name == 'triton' and not x.is_cuda:
        if not _tr.interpreting():
            raise ValueError(
                f"backend 'triton' runs CUDA tensors (or any tensor under "
                f"TRITON_INTERPRET=1), but x is on {x.device}; use "
                f"set_backend('auto') or 'torch' for CPU tensors")
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


def _float32(op):
    """The operator in float32, made once per operator: torch's CPU CSR
    kernels have no half types."""
    return op.memo('float32', lambda: op.to(dtype=torch.float32))


def _torch_kernel(op, x, alpha, z, beta, out):
    if x.dtype in (torch.float16, torch.bfloat16) and not x.is_cuda:
        y = _torch_kernel(_float32(op), x.float(), alpha,
                          None if z is None else z.float(), beta, None)
        y = y.to(x.dtype)
        return y if out is None else out.copy_(y)
    if op.dtype != x.dtype:  # half-precision x (autocast), float32 op
        op = op.memo(('as', x.dtype), lambda: op.to(dtype=x.dtype))
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
    y = _add_diag(op, y, x, 1.0)
    if alpha != 1.0:
        y = alpha * y
    if z is not None:
        y = y + beta * z
    if out is not None:
        return out.copy_(y)
    return y


def kernel(op, x: Tensor, alpha: float = 1.0, z: Optional[Tensor] = None,
           beta: float = 1.0, out: Optional[Tensor] = None) -> Tensor:
    r""":math:`\alpha \mathbf{S}\mathbf{X} + \beta \mathbf{Z}` by the
    selected kernel: no checks, no autograd, ``out`` may alias ``z``. The
    engine's recurrences call this inside the custom ops."""
    name = _resolve(x)
    if name == 'reference':
        return _reference_kernel(op, x, alpha, z, beta, out)
    if name == 'triton':
        return _tr.spmm(op, x, alpha, z, beta, out)
    return _torch_kernel(op, x, alpha, z, beta, out)

