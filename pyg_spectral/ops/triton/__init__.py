"""Triton kernels for the sparse primitive (CUDA, or CPU under
``TRITON_INTERPRET=1``). Imported lazily; everything degrades to the torch
backend when Triton is missing."""
from __future__ import annotations

import os


def interpreting() -> bool:
    return os.environ.get('TRITON_INTERPRET', '0') == '1'


def available() -> bool:
    return False


def spmm(op, x, alpha, z, beta, out):  # pragma: no cover - replaced below
    raise RuntimeError('Triton backend is not available')
