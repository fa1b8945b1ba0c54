r"""Chebyshev polynomial filters on a :class:`SparseOperator`.

.. math::
    \mathbf{Y} = \sum_{k=0}^{K-1} T_k(\mathbf{S})\, \mathbf{X}\,
    \boldsymbol{\Theta}_k, \qquad
    T_0 = \mathbf{I},\ T_1 = \mathbf{S},\
    T_k = 2\mathbf{S}T_{k-1} - T_{k-2}.

``K`` is the number of terms (PyG's convention). The filter is evaluated in
the smaller of the two widths:

* ``C_out < C_in``: project first, :math:`\mathbf{Z}_k = \mathbf{X}
  \boldsymbol{\Theta}_k`, then Clenshaw's backward recurrence
  :func:`clenshaw` at width ``C_out``;
* otherwise: the three-term recurrence :func:`cheb_basis` at width ``C_in``,
  then the projections.

:class:`ChebFilter` is the autograd Function. Its backward keeps only
``X`` from the forward pass: with :math:`\mathbf{G} = \partial\ell/\partial
\mathbf{Y}`, :math:`\mathbf{G}_k = T_k(\mathbf{S}^\top)\mathbf{G}`,
:math:`\partial\ell/\partial\boldsymbol{\Theta}_k = \mathbf{X}^\top
\mathbf{G}_k` and :math:`\partial\ell/\partial\mathbf{X} = \sum_k
\mathbf{G}_k \boldsymbol{\Theta}_k^\top` (in the three-term order: the
terms :math:`T_k(\mathbf{S})\mathbf{X}` are recomputed for
:math:`\partial\ell/\partial\boldsymbol{\Theta}` and
:math:`\partial\ell/\partial\mathbf{X}` is Clenshaw on
:math:`\mathbf{S}^\top` with :math:`\mathbf{Z}_k = \mathbf{G}
\boldsymbol{\Theta}_k^\top`). Gradients do not flow into the operator's
values through it; when they must (edge weights that require grad),
:func:`cheb_filter` runs the same recurrences in plain autograd.

Layout: ``x`` ``[N, C]`` or ``[N, M, C]`` (M independent signals on the
same graph, e.g. M = batch x time: all M share each sparse product, whose
columns are ``M*C`` wide), ``weight`` ``[K, C, F]``, output ``[N, F]`` or
``[N, M, F]``;
stacks of terms are ``[K, N, w]``; the filter itself streams the terms
(:func:`cheb_terms`, :func:`clenshaw` with a callable), so a training step
holds a few ``[N, w]`` buffers besides ``X``, for any ``K``.
"""
from __future__ import annotations

from typing import Callable, Iterator, Optional, Sequence, Union

import torch
from torch import Tensor

from .features import project, project_t, to_dense
from .operator import SparseOperator
from .validation import check_K, check_same_device


def _autograd(op: SparseOperator, t: Tensor) -> bool:
    return torch.is_grad_enabled() and (op.requires_grad or t.requires_grad)


def cheb_terms(op: SparseOperator, x: Tensor, K: int) -> Iterator[Tensor]:
    r"""Yields :math:`T_0(\mathbf{S})\mathbf{X}, \dots,
    T_{K-1}(\mathbf{S})\mathbf{X}` one at a time, keeping two ``[N, C]``
    buffers alive. A yielded term is valid until the next-but-one is
    requested (its buffer is then reused), unless autograd records the ops.
    """
    inplace = not _autograd(op, x)
    prev2, prev1 = None, x
    yield x
    for k in range(1, K):
        if k == 1:
            cur = op.matmul(x)
        elif inplace and prev2 is not x:  # overwrite T_{k-2} X
            cur = op.matmul(prev1, alpha=2.0, z=prev2, beta=-1.0, out=prev2)
        else:
            cur = op.matmul(prev1, alpha=2.0, z=prev2, beta=-1.0)
        prev2, prev1 = prev1, cur
        yield cur


def check_op_and_x(op, x, name: str = 'x') -> None:
    """``op`` a :class:`SparseOperator`; ``x`` a floating tensor with its
    node count, dtype and device."""
    if not isinstance(op, SparseOperator):
        raise TypeError(f"op must be a SparseOperator (got "
                        f"{type(op).__name__}; build one with "
                        f"laplacian_operator or gcn_operator)")
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a Tensor (got {type(x).__name__})")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be floating point (got {x.dtype})")
    if x.dim() == 0 or x.size(0) != op.num_nodes:
        raise ValueError(f"{name} has {x.size(0) if x.dim() else 0} rows "
                         f"but the graph has {op.num_nodes} nodes")
    check_same_device(name, x.device, 'op', op.device)
    if x.dtype != op.dtype:
        raise TypeError(f"{name} has dtype {x.dtype} but op is {op.dtype} "
                        f"(op.to(dtype=...) converts it)")


def cheb_basis(op: SparseOperator, x: Tensor, K: int) -> Tensor:
    r"""Returns :math:`[T_0(\mathbf{S})\mathbf{X}, \dots,
    T_{K-1}(\mathbf{S})\mathbf{X}]` stacked as ``[K, N, C]``."""
    check_K(K)
    check_op_and_x(op, x)
    if _autograd(op, x):
        return torch.stack(list(cheb_terms(op, x, K)))
    out = x.new_empty((K, ) + tuple(x.shape))  # [K, N, C]
    for k, t in enumerate(cheb_terms(op, x, K)):
        out[k] = t
    return out


def clenshaw(op: SparseOperator, z: Union[Tensor, Sequence[Tensor],
                                          Callable[[int], Tensor]],
             K: Optional[int] = None) -> Tensor:
    r"""Returns :math:`\sum_k T_k(\mathbf{S})\mathbf{Z}_k` by Clenshaw's
    recurrence :math:`b_k = \mathbf{Z}_k + 2\mathbf{S}b_{k+1} - b_{k+2}`,
    :math:`\mathbf{Y} = \mathbf{Z}_0 + \mathbf{S}b_1 - b_2`.

    ``z`` is a ``[K, N, F]`` tensor, a sequence of ``[N, F]`` tensors, or a
    function ``k -> Z_k`` (with ``K`` given) so that the :math:`\mathbf{Z}_k`
    are produced on the fly, in the order ``K-1, ..., 0``: then only a few
    ``[N, F]`` buffers ever live (the function must return fresh tensors:
    they are reused as work buffers). A tensor or sequence is not
    modified."""
    if callable(z):
        check_K(K)
    else:
        if K is not None:
            check_K(K)
        if len(z) == 0:
            raise ValueError("z holds no terms (K must be >= 1)")
        check_op_and_x(op, z[0], 'z[0]')
    fresh = callable(z)  # Z_k from a callable are ours to overwrite
    get = z if fresh else (lambda k: z[k])
    if K is None:
        K = len(z)
    b1 = get(K - 1)  # b_{k+1}
    if K == 1:
        return b1 if fresh else b1.clone()
    b2, b1_own, b2_own = None, fresh, False  # b_{k+2}; "own": a work buffer
    for k in range(K - 2, -1, -1):
        alpha = 1.0 if k == 0 else 2.0
        zk = get(k)
        auto = _autograd(op, zk) or _autograd(op, b1)
        if b2 is None:
            t, t_own = zk, fresh
        elif b2_own and not auto:  # Z_k - b_{k+2} into b_{k+2}'s buffer
            t, t_own = torch.sub(zk, b2, out=b2), True
        else:
            t, t_own = zk - b2, True
        new = op.matmul(b1, alpha=alpha, z=t,
                        out=t if (t_own and not auto) else None)
        b1, b2, b1_own, b2_own = new, b1, True, b1_own
    return b1


def _batch_gemms(x: Tensor, weight: Tensor) -> bool:
    """One ``[N, K*F]`` GEMM instead of K ``[N, F]`` ones when that buffer is
    at most half the size of ``X`` (wide inputs: the GEMM dominates)."""
    K, C, F = weight.shape
    return x.dim() == 2 and C >= 2 * K * F


def _cat(weight: Tensor) -> Tensor:
    K, C, F = weight.shape
    return weight.permute(1, 0, 2).reshape(C, K * F)  # [K,C,F] -> [C, K*F]


def _proj(x: Tensor, w: Tensor) -> Tensor:
    """``X W`` in node view: ``[N, C]`` or ``[N, M, C]`` -> ``[N, M*F]``."""
    if x.dim() == 2:
        return project(x, w)
    n, C = x.size(0), x.size(-1)
    return (x.reshape(-1, C) @ w).view(n, -1)  # [N*M, F] -> [N, M*F]


def _filter_clenshaw(op, x, weight):
    K, C, F = weight.shape
    if _batch_gemms(x, weight):
        z = project(x, _cat(weight)).view(-1, K, F)  # [N, K*F] -> [N, K, F]
        return clenshaw(op, z.unbind(1))
    return clenshaw(op, lambda k: _proj(x, weight[k]), K)


def _filter_basis(op, x, weight):
    K, C, F = weight.shape
    n = x.size(0)
    out = None
    xv = to_dense(x).reshape(n, -1)  # [N, (M*)C] node view
    for k, t in enumerate(cheb_terms(op, xv, K)):
        t = t.reshape(-1, C)  # [N*M, C]
        out = t @ weight[k] if out is None else \
            torch.addmm(out, t, weight[k])
    return out.view(n, -1)  # [N*M, F] -> [N, M*F]


def _out_shape(x: Tensor, F: int):
    return tuple(x.shape[:-1]) + (F, )


def use_clenshaw(in_channels: int, out_channels: int,
                 x_requires_grad: bool = False,
                 training: bool = False) -> bool:
    r"""The evaluation order :class:`ChebFilter` picks, by sparse work.

    Inference: Clenshaw iff ``C_out < C_in``. Training: the Clenshaw order
    costs :math:`2(K-1)` products at width ``C_out`` (forward, and
    :math:`T_k(\mathbf{S}^\top)\mathbf{G}` in backward); the three-term
    order :math:`2(K-1)` at width ``C_in`` (forward, recomputation for
    :math:`\partial\Theta`) plus :math:`K-1` more when ``x`` needs a
    gradient."""
    if not training:
        return out_channels < in_channels
    return out_channels <= in_channels * (1.5 if x_requires_grad else 1.0)


class ChebFilter(torch.autograd.Function):
    r"""``Y = sum_k T_k(S) X Theta_k`` with a memory-lean backward (see the
    module doc). Arguments: ``x [N, C]`` (dense or sparse), ``weight
    [K, C, F]``, ``op`` (a :class:`SparseOperator` whose values do not require
    grad), ``order`` (``'clenshaw'`` or ``'basis'``)."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, op: SparseOperator,
                order: str):
        ctx.op = op
        ctx.clenshaw = order == 'clenshaw'
        ctx.save_for_backward(x, weight)
        if ctx.clenshaw:
            y = _filter_clenshaw(op, x, weight)
        else:
            y = _filter_basis(op, x, weight)
        return y.view(_out_shape(x, weight.size(2)))

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor):
        x, weight = ctx.saved_tensors
        op_t = ctx.op.t()
        K, C, F = weight.shape
        n = grad.size(0)
        g2 = grad.reshape(n, -1)  # [N, (M*)F] node view
        need_x = ctx.needs_input_grad[0] and x.layout == torch.strided
        need_w = ctx.needs_input_grad[1]
        gx = gw = None
        if need_w:
            gw = weight.new_empty(weight.shape)  # [K, C, F]
        if ctx.clenshaw and _batch_gemms(x, weight):
            gs = g2.new_empty(n, K, F)  # [N, K, F]
            for k, g in enumerate(cheb_terms(op_t, g2, K)):
                gs[:, k] = g
            gcat = gs.view(-1, K * F)  # [N, K, F] -> [N, K*F]
            if need_w:
                gw = project_t(x, gcat).view(C, K, F).transpose(0, 1)
                # [C, K*F] -> [C, K, F] -> [K, C, F]
            if need_x:
                gx = gcat @ _cat(weight).t()
        elif ctx.clenshaw:
            # G_k = T_k(S^T) G, consumed as produced
            xr = x if x.dim() == 2 else x.reshape(-1, C)  # [N*M, C]
            for k, g in enumerate(cheb_terms(op_t, g2, K)):
                gr = g.view(-1, F)  # [N*M, F]
                if need_w:
                    gw[k] = project_t(xr, gr)
                if need_x:
                    gx = gr @ weight[k].t() if gx is None else \
                        torch.addmm(gx, gr, weight[k].t())
        else:
            gr = g2.view(-1, F)  # [N*M, F]
            if need_w:
                xv = to_dense(x).reshape(n, -1)  # [N, M*C]
                for k, t in enumerate(cheb_terms(ctx.op, xv, K)):
                    torch.mm(t.reshape(-1, C).t(), gr, out=gw[k])
            if need_x:
                gx = clenshaw(op_t, lambda k: (gr @ weight[k].t()).view(n, -1),
                              K)
        if gx is not None:
            gx = gx.view(x.shape)
        return gx, gw, None, None


def cheb_filter(x: Tensor, weight: Tensor, op: SparseOperator,
                order: Optional[str] = None) -> Tensor:
    r"""Evaluates :math:`\sum_{k<K} T_k(\mathbf{S})\mathbf{X}
    \boldsymbol{\Theta}_k` with ``weight`` ``[K, C, F]``.

    Uses :class:`ChebFilter` unless the operator's values require grad, in
    which case the same recurrences run in plain autograd (slower, stores the
    K terms) so that gradients reach the edge weights. ``order`` forces
    ``'clenshaw'`` or ``'basis'`` (default: :func:`use_clenshaw`)."""
    check_op_and_x(op, x)
    if not isinstance(weight, Tensor) or not weight.is_floating_point():
        raise TypeError("weight must be a floating-point Tensor")
    if weight.dim() != 3 or weight.size(0) < 1:
        raise ValueError(f"weight must have shape [K, C, F] with K >= 1 "
                         f"(got {list(weight.shape)})")
    if weight.dtype != x.dtype:
        if not torch.is_autocast_enabled(x.device.type):
            raise TypeError(f"weight has dtype {weight.dtype} but x is "
                            f"{x.dtype}")
        weight = weight.to(x.dtype)  # autocast: the recurrences run in x's
    if x.size(-1) != weight.size(1):
        raise ValueError(f"x has {x.size(-1)} channels but weight expects "
                         f"{weight.size(1)}")
    if x.dim() not in (2, 3) or (x.dim() == 3 and x.layout != torch.strided):
        raise ValueError(f"x must be [N, C] (dense or sparse) or dense "
                         f"[N, M, C] (got {list(x.shape)}, {x.layout})")
    training = torch.is_grad_enabled() and (
        weight.requires_grad or x.requires_grad or op.requires_grad)
    if order is None:
        order = 'clenshaw' if use_clenshaw(
            weight.size(1), weight.size(2), x.requires_grad, training) \
            else 'basis'
    elif order not in ('clenshaw', 'basis'):
        raise ValueError(f"order must be 'clenshaw', 'basis' or None "
                         f"(got {order!r})")
    if op.requires_grad:
        y = _filter_clenshaw(op, x, weight) if order == 'clenshaw' else \
            _filter_basis(op, x, weight)
        return y.view(_out_shape(x, weight.size(2)))
    return ChebFilter.apply(x, weight, op, order)
