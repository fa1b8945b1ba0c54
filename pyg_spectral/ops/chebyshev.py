r"""Chebyshev polynomial filters on a :class:`SparseOperator`.

.. math::
    \mathbf{Y} = \sum_{k=0}^{K-1} T_k(\mathbf{S})\, \mathbf{X}\,
    \boldsymbol{\Theta}_k, \qquad
    T_0 = \mathbf{I},\ T_1 = \mathbf{S},\
    T_k = 2\mathbf{S}T_{k-1} - T_{k-2}.

``K`` is the number of terms (PyG's convention). The filter is evaluated in
the smaller of the two widths:

* ``C_out < C_in``: project first, :math:`\mathbf{Z}_k = \mathbf{X}
  \boldsymbol{\Theta}_k` (one GEMM), then Clenshaw's backward recurrence
  :func:`clenshaw` at width ``C_out``;
* otherwise: the three-term recurrence :func:`cheb_basis` at width ``C_in``,
  then one GEMM.

:class:`ChebFilter` is the autograd Function. Its backward keeps only
``X`` from the forward pass: with :math:`\mathbf{G} = \partial\ell/\partial
\mathbf{Y}`, :math:`\mathbf{G}_k = T_k(\mathbf{S}^\top)\mathbf{G}`,
:math:`\partial\ell/\partial\boldsymbol{\Theta}_k = \mathbf{X}^\top
\mathbf{G}_k` and :math:`\partial\ell/\partial\mathbf{X} = \sum_k
\mathbf{G}_k \boldsymbol{\Theta}_k^\top` (computed with Clenshaw on
:math:`\mathbf{S}^\top` in the three-term order). Gradients do not flow into
the operator's values through it; when they must (edge weights that require
grad), :func:`cheb_filter` runs the same recurrences in plain autograd.

Layout: ``x`` ``[N, C]``, ``weight`` ``[K, C, F]``, output ``[N, F]``;
stacks of terms are ``[N, K, w]``.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .operator import SparseOperator


def cheb_basis(op: SparseOperator, x: Tensor, K: int) -> Tensor:
    r"""Returns :math:`[T_0(\mathbf{S})\mathbf{X}, \dots,
    T_{K-1}(\mathbf{S})\mathbf{X}]` stacked as ``[N, K, C]``."""
    n, c = x.shape
    if torch.is_grad_enabled() and (op.requires_grad or x.requires_grad):
        terms = [x]  # autograd path: no out= buffers
        if K > 1:
            terms.append(op.matmul(x))
        for k in range(2, K):
            terms.append(op.matmul(terms[-1], alpha=2.0, z=terms[-2],
                                   beta=-1.0))
        return torch.stack(terms, dim=1)
    out = x.new_empty(n, K, c)
    out[:, 0] = x
    if K > 1:
        op.matmul(x, out=out[:, 1])
    for k in range(2, K):
        op.matmul(out[:, k - 1], alpha=2.0, z=out[:, k - 2], beta=-1.0,
                  out=out[:, k])
    return out


def clenshaw(op: SparseOperator, z: Tensor) -> Tensor:
    r"""Returns :math:`\sum_k T_k(\mathbf{S})\mathbf{Z}_k` for ``z`` of shape
    ``[N, K, F]``, by Clenshaw's recurrence
    :math:`b_k = \mathbf{Z}_k + 2\mathbf{S}b_{k+1} - b_{k+2}` (so only two
    ``[N, F]`` buffers live at a time)."""
    K = z.size(1)
    if K == 1:
        return z[:, 0].clone()
    b1 = z[:, K - 1].contiguous()  # b_{k+1}
    b2 = None  # b_{k+2}
    for k in range(K - 2, 0, -1):
        zk = z[:, k] if b2 is None else z[:, k] - b2
        b1, b2 = op.matmul(b1, alpha=2.0, z=zk), b1
    z0 = z[:, 0] if b2 is None else z[:, 0] - b2
    return op.matmul(b1, z=z0)


def _cat_weight(weight: Tensor) -> Tensor:
    """``[K, C, F]`` -> ``[C, K*F]`` (columns grouped by k)."""
    K, C, F = weight.shape
    return weight.permute(1, 0, 2).reshape(C, K * F)  # [C, K*F]


def _project(x: Tensor, w: Tensor) -> Tensor:
    return torch.sparse.mm(x, w) if x.is_sparse or x.layout in (
        torch.sparse_csr, torch.sparse_csc) else x @ w


def _transpose_sparse(x: Tensor) -> Tensor:
    return x.to_sparse_coo().t().coalesce() if x.layout != torch.strided \
        else x.t()


def _filter_clenshaw(op, x, weight):
    n = x.size(0)
    K, C, F = weight.shape
    z = _project(x, _cat_weight(weight)).view(n, K, F)  # [N, K*F] -> [N,K,F]
    return clenshaw(op, z)


def _filter_basis(op, x, weight):
    n = x.size(0)
    K, C, F = weight.shape
    if x.layout != torch.strided:
        x = x.to_dense()
    xs = cheb_basis(op, x, K).view(n, K * C)  # [N, K, C] -> [N, K*C]
    return xs @ weight.reshape(K * C, F)


def use_clenshaw(in_channels: int, out_channels: int) -> bool:
    """The evaluation order :class:`ChebFilter` picks."""
    return out_channels < in_channels


class ChebFilter(torch.autograd.Function):
    r"""``Y = sum_k T_k(S) X Theta_k`` with a memory-lean backward (see the
    module doc). Arguments: ``x [N, C]`` (dense or sparse), ``weight
    [K, C, F]``, ``op`` (a :class:`SparseOperator` whose values do not require
    grad)."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, op: SparseOperator):
        K, C, F = weight.shape
        ctx.op = op
        ctx.clenshaw = use_clenshaw(C, F)
        ctx.save_for_backward(x, weight)
        if ctx.clenshaw:
            return _filter_clenshaw(op, x, weight)
        return _filter_basis(op, x, weight)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor):
        x, weight = ctx.saved_tensors
        op_t = ctx.op.t()
        K, C, F = weight.shape
        n = grad.size(0)
        grad = grad.contiguous()
        need_x, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        gx = gw = None
        if ctx.clenshaw:
            gs = cheb_basis(op_t, grad, K).view(n, K * F)  # [N,K,F]->[N,K*F]
            if need_w:
                xt = _transpose_sparse(x)
                gw = _project(xt, gs).view(C, K, F).permute(1, 0, 2)
                # [C, K*F] -> [C, K, F] -> [K, C, F]
            if need_x and x.layout == torch.strided:
                gx = gs @ _cat_weight(weight).t()
        else:
            if need_w:
                xd = x.to_dense() if x.layout != torch.strided else x
                xs = cheb_basis(ctx.op, xd, K).view(n, K * C)  # [N, K*C]
                gw = (xs.t() @ grad).view(K, C, F)  # [K*C, F] -> [K, C, F]
            if need_x and x.layout == torch.strided:
                h = (grad @ weight.reshape(K * C, F).t()).view(n, K, C)
                # [N, K*C] -> [N, K, C]
                gx = clenshaw(op_t, h)
        return gx, gw, None


def cheb_filter(x: Tensor, weight: Tensor, op: SparseOperator) -> Tensor:
    r"""Evaluates :math:`\sum_{k<K} T_k(\mathbf{S})\mathbf{X}
    \boldsymbol{\Theta}_k` with ``weight`` ``[K, C, F]``.

    Uses :class:`ChebFilter` unless the operator's values require grad, in
    which case the same recurrences run in plain autograd (slower, stores the
    K terms) so that gradients reach the edge weights."""
    if weight.dim() != 3:
        raise ValueError(f"weight must have shape [K, C, F] "
                         f"(got {list(weight.shape)})")
    if x.size(0) != op.num_nodes:
        raise ValueError(f"x has {x.size(0)} rows but the graph has "
                         f"{op.num_nodes} nodes")
    if x.size(1) != weight.size(1):
        raise ValueError(f"x has {x.size(1)} channels but weight expects "
                         f"{weight.size(1)}")
    if op.requires_grad:
        if use_clenshaw(weight.size(1), weight.size(2)):
            return _filter_clenshaw(op, x, weight)
        return _filter_basis(op, x, weight)
    return ChebFilter.apply(x, weight, op)
