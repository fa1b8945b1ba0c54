"""Node features given as ``torch.sparse`` tensors (bag-of-words inputs such
as Cora's are ~99 % zeros).

Projections ``X @ W`` and their weight gradients ``X^T @ G`` run as CSR
sparse-dense products. The CSR forms of ``X`` and ``X^T`` are cached keyed to
the feature tensor itself, so a training loop that passes the same ``x``
every step converts it once.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .cache import cached
from .csr import csr_tensor, to_csr


def is_sparse(x: Tensor) -> bool:
    return x.layout != torch.strided


def _csr_pair(x: Tensor):
    csr = x if x.layout == torch.sparse_csr else to_csr(x)
    csc = csr.to_sparse_csc()
    n, c = csr.shape
    with torch.no_grad():
        xt = csr_tensor(csc.ccol_indices(), csc.row_indices(), csc.values(),
                        (c, n))
    return csr, xt


def csr_pair(x: Tensor):
    """``(X, X^T)`` as CSR tensors (cached per feature tensor)."""
    return cached(lambda: _csr_pair(x), (x, ), ('features-csr', ))


class _SparseProject(torch.autograd.Function):
    """``X @ W`` for sparse ``X``, with ``dW = X^T G`` from the cached
    ``X^T`` (no gradient for the sparse ``X``)."""

    @staticmethod
    def forward(ctx, w, x):
        ctx.x = x
        return torch.sparse.mm(csr_pair(x)[0], w)

    @staticmethod
    def backward(ctx, grad):
        return torch.sparse.mm(csr_pair(ctx.x)[1], grad.contiguous()), None


def project(x: Tensor, w: Tensor) -> Tensor:
    """``x @ w`` for dense or sparse ``x``."""
    if is_sparse(x):
        if torch.is_grad_enabled() and w.requires_grad:
            return _SparseProject.apply(w, x)
        return torch.sparse.mm(csr_pair(x)[0], w)
    return x @ w


def project_t(x: Tensor, g: Tensor) -> Tensor:
    """``x^T @ g`` for dense or sparse ``x``."""
    if is_sparse(x):
        return torch.sparse.mm(csr_pair(x)[1], g)
    return x.t() @ g


def to_dense(x: Tensor) -> Tensor:
    return x.to_dense() if is_sparse(x) else x
