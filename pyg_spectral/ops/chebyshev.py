r"""Chebyshev polynomial filters on a :class:`SparseOperator`.

.. math::
    \mathbf{Y} = \sum_{k=0}^{K-1} T_k(\mathbf{S})\, \mathbf{X}\,
    \boldsymbol{\Theta}_k, \qquad
    T_0 = \mathbf{I},\ T_1 = \mathbf{S},\
    T_k = 2\mathbf{S}T_{k-1} - T_{k-2}.

``K`` is the number of terms (PyG's convention). Two evaluation orders, named
by where the projection :math:`\boldsymbol{\Theta}_k` happens:

* ``'project_first'``: :math:`\mathbf{Z}_k = \mathbf{X}\boldsymbol{\Theta}_k`,
  then Clenshaw's backward recurrence at width ``C_out``;
* ``'project_last'``: the three-term recurrence
  :math:`T_k(\mathbf{S})\mathbf{X}` at width ``C_in``, each term projected
  as it is produced.

One plain routine, :func:`~.filter_engine.filter_forward`, serves both
directions; the backward (:func:`~.filter_engine.filter_backward`) is that
filter on :math:`\mathbf{S}^\top` with :math:`\boldsymbol{\Theta}_k^\top`
for :math:`\partial\ell/\partial\mathbf{X}`, plus one weight-gradient pass
over the terms of the narrower width (after a ``'project_first'`` forward
both come from one pass over :math:`\mathbf{G}_k = T_k(\mathbf{S}^\top)\mathbf{G}`). Only :math:`\mathbf{X}`
is kept from the forward pass. The custom op ``pyg_spectral::poly_filter``
(:mod:`.custom_ops`) wraps them for autograd, torch.compile, torch.export and
torch.func. When the operator's values require grad (learnable edge
weights), :func:`cheb_filter` runs the same recurrences as a composition of
the differentiable ``pyg_spectral::spmm`` op instead.

Layout: ``x`` ``[N, C]`` or ``[N, M, C]`` (M independent signals on the same
graph, e.g. M = batch x time: all M share each sparse product, whose columns
are ``M*C`` wide), ``weight`` ``[K, C, F]``, output ``[N, F]`` or
``[N, M, F]``. The routines (:mod:`.filter_engine`, whose docstring
states the memory layout) stream the terms through a fixed rotation of
two ``[N, w]`` buffers, so a training step holds a few of them besides
``X``, for any ``K``; :func:`cheb_basis` alone returns the terms stacked,
``[K, N, C]``. :func:`choose_order` is the policy that picks the order.
"""
from __future__ import annotations

from typing import Callable, Iterator, Optional, Sequence, Union

import torch
from torch import Tensor

from .bases import Recurrence, recurrence
from .features import project
from .filter_engine import (ORDERS, batch_gemms, cat_weights, clenshaw_sum,
                            node_view, per_column, project_node_view,
                            row_view, step_coef, stream_terms)
from .custom_ops import filter_call
from .operator import SparseOperator
from .validation import check_K, check_same_device


# -- public, checked functions ---------------------------------------------
def _autograd(op: SparseOperator, t: Tensor) -> bool:
    return torch.is_grad_enabled() and (op.requires_grad or t.requires_grad)


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


def cheb_terms(op: SparseOperator, x: Tensor, K: int,
               rec: Optional[Recurrence] = None) -> Iterator[Tensor]:
    r"""Yields :math:`T_0(\mathbf{S})\mathbf{X}, \dots,
    T_{K-1}(\mathbf{S})\mathbf{X}` for ``x`` ``[N, C]`` (or the terms of
    the basis ``rec``, :mod:`.bases`). Without autograd a term is valid
    until the next-but-one is requested (two buffers rotate); with autograd
    every term is a fresh differentiable tensor."""
    check_K(K)
    check_op_and_x(op, x)
    if not _autograd(op, x):
        yield from stream_terms(op, x, K, rec)
        return
    yield from terms_by(op.matmul, x, K, rec)


def terms_by(matmul: Callable[[Tensor, float, Optional[Tensor]], Tensor],
             x: Tensor, K: int, rec: Optional[Recurrence] = None
             ) -> Iterator[Tensor]:
    r"""The recurrence of :func:`cheb_terms` with any product
    ``matmul(h, alpha, z)`` :math:`= \alpha\mathbf{S}h + z` (``z`` may be
    ``None``), every term a fresh differentiable tensor: the autograd path,
    and the layers' ``self.propagate`` path (PyG's per-edge messages)."""
    prev2, prev1 = None, x
    yield x
    for k in range(1, K):
        a, b, g = step_coef(rec, k - 1)
        z = None if prev2 is None or not g else -g * prev2
        if b:
            z = b * prev1 if z is None else z + b * prev1
        cur = matmul(prev1, a, z)
        prev2, prev1 = prev1, cur
        yield cur


def cheb_basis(op: SparseOperator, x: Tensor, K: int,
               rec: Optional[Recurrence] = None) -> Tensor:
    r"""Returns :math:`[T_0(\mathbf{S})\mathbf{X}, \dots,
    T_{K-1}(\mathbf{S})\mathbf{X}]` stacked as ``[K, N, C]`` (or those of
    the basis ``rec``)."""
    terms = cheb_terms(op, x, K, rec)
    if _autograd(op, x):
        return torch.stack(list(terms))
    out = x.new_empty((K, ) + tuple(x.shape))  # [K, N, C]
    for k, t in enumerate(terms):
        out[k] = t
    return out


def clenshaw(op: SparseOperator, z: Union[Tensor, Sequence[Tensor],
                                          Callable[[int], Tensor]],
             K: Optional[int] = None,
             rec: Optional[Recurrence] = None) -> Tensor:
    r"""Returns :math:`\sum_k T_k(\mathbf{S})\mathbf{Z}_k` by Clenshaw's
    recurrence :math:`b_k = \mathbf{Z}_k + 2\mathbf{S}b_{k+1} - b_{k+2}`,
    :math:`\mathbf{Y} = \mathbf{Z}_0 + \mathbf{S}b_1 - b_2` (any
    three-term basis ``rec``: see :func:`clenshaw_sum`).

    ``z`` is a ``[K, N, F]`` tensor, a sequence of ``[N, F]`` tensors, or a
    function ``k -> Z_k`` (with ``K`` given) called in the order ``K-1, ...,
    0``, so that only a few ``[N, F]`` buffers ever live. ``z`` is never
    modified (a function's results included, when autograd records)."""
    if callable(z):
        get = z
        check_K(K)
    else:
        if len(z) == 0:
            raise ValueError("z holds no terms (K must be >= 1)")
        K = check_K(len(z) if K is None else K)
        get = z.__getitem__
    z0 = get(K - 1)
    check_op_and_x(op, z0, 'z[0]')
    if not (_autograd(op, z0) or (not callable(z) and any(
            t.requires_grad for t in z) and torch.is_grad_enabled())):
        first = [z0]
        return clenshaw_sum(op, lambda k: first.pop().clone() if first
                         else get(k).clone(), K, rec)
    b1, b2 = z0, None
    for k in range(K - 2, -1, -1):
        a, b, _ = step_coef(rec, k)
        g = step_coef(rec, k + 1)[2]
        t = get(k)
        if b2 is not None and g:
            t = t - g * b2
        if b:
            t = t + b * b1
        b1, b2 = op.matmul(b1, a, t), b1
    return b1


def cheb_filter(x: Tensor, weight: Tensor, op: SparseOperator,
                order: Optional[str] = None) -> Tensor:
    r"""Evaluates :math:`\sum_{k<K} T_k(\mathbf{S})\mathbf{X}
    \boldsymbol{\Theta}_k` with ``weight`` ``[K, C, F]`` (the custom op
    ``pyg_spectral::poly_filter``, memory-lean backward).

    A ``torch.sparse`` ``x`` is projected first by sparse products (its
    :math:`\mathbf{Z}_k` enter the op). When the operator's values require
    grad, the same recurrences run as a composition of the differentiable
    ``pyg_spectral::spmm`` op (gradients reach the edge weights; the K
    terms are stored). ``order`` forces ``'project_first'`` or
    ``'project_last'`` (default: :func:`choose_order`)."""
    _check_filter_args(x, weight, op, order)
    return run_filter(x, weight, op, order)


def choose_order(in_channels: int, out_channels: int,
                 x_requires_grad: bool = False,
                 training: bool = False) -> str:
    r"""The evaluation order :func:`cheb_filter` picks, by sparse work.

    Inference: ``'project_first'`` iff ``C_out < C_in``. Training: the
    project-first order costs :math:`2(K-1)` products at width ``C_out``
    (forward, and :math:`T_k(\mathbf{S}^\top)\mathbf{G}` in backward); the
    project-last order :math:`2(K-1)` at width ``C_in`` (forward,
    recomputation for :math:`\partial\Theta`) plus :math:`K-1` more when
    ``x`` needs a gradient."""
    if not training:
        first = out_channels < in_channels
    else:
        first = out_channels <= in_channels * (1.5 if x_requires_grad
                                               else 1.0)
    return 'project_first' if first else 'project_last'


def _check_filter_args(x, weight, op, order) -> None:
    check_op_and_x(op, x)
    if not isinstance(weight, Tensor) or not weight.is_floating_point():
        raise TypeError("weight must be a floating-point Tensor")
    if weight.dim() == 2 and weight.size(0) >= 1 and \
            weight.size(1) in (1, x.size(-1)):  # per-channel coefficients
        if x.layout != torch.strided:
            raise ValueError("x must be dense for per-channel coefficients")
        return
    if weight.dim() != 3 or weight.size(0) < 1:
        raise ValueError(f"weight must have shape [K, C, F] (or [K, C] / "
                         f"[K, 1] coefficients) with K >= 1 (got "
                         f"{list(weight.shape)})")
    if weight.dtype != x.dtype and \
            not torch.is_autocast_enabled(x.device.type):
        raise TypeError(f"weight has dtype {weight.dtype} but x is "
                        f"{x.dtype}")
    if x.size(-1) != weight.size(1):
        raise ValueError(f"x has {x.size(-1)} channels but weight expects "
                         f"{weight.size(1)}")
    if x.dim() not in (2, 3) or (x.dim() == 3 and x.layout != torch.strided):
        raise ValueError(f"x must be [N, C] (dense or sparse) or dense "
                         f"[N, M, C] (got {list(x.shape)}, {x.layout})")
    if order is not None and order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS} or None "
                         f"(got {order!r})")


def poly_filter(x: Tensor, weight: Tensor, op: SparseOperator,
                basis: str = 'chebyshev', order: Optional[str] = None,
                a: float = 0.0, b: float = 0.0) -> Tensor:
    r""":math:`\sum_{k<K} P_k(\mathbf{S})\mathbf{X}\boldsymbol{\Theta}_k`
    in the polynomial ``basis`` (:mod:`.bases`: ``'chebyshev'``,
    ``'monomial'``, ``'legendre'``, ``'jacobi'`` with parameters ``a, b``),
    on the same engine, orders and memory-lean backward as
    :func:`cheb_filter` (which is ``basis='chebyshev'``). ``weight``
    ``[K, C, F]`` (matrices), ``[K, C]`` (per-channel coefficients) or
    ``[K]`` (one coefficient per term)."""
    if isinstance(weight, Tensor) and weight.dim() == 1:
        weight = weight.unsqueeze(1)  # [K] -> [K, 1]
    _check_filter_args(x, weight, op, order)
    rec = None if basis == 'chebyshev' else \
        recurrence(basis, weight.size(0), a, b)
    return run_filter(x, weight, op, order, rec)


def run_filter(x: Tensor, weight: Tensor, op: SparseOperator,
               order: Optional[str] = None,
               rec: Optional[Recurrence] = None) -> Tensor:
    """:func:`cheb_filter` without the argument checks: for callers that
    validated ``x``, ``weight`` and ``op`` already (the layers); ``rec`` a
    basis other than Chebyshev.

    Under autocast a float32 ``x`` runs in the autocast dtype (the
    filter's products are GEMMs and sparse GEMMs, which autocast lowers;
    PyG's ChebConv runs its ``Linear`` layers so), accumulating in
    float32; the operator keeps its values (kernels convert them once).
    An operator renumbered for locality runs in its own numbering: ``x``
    gathered in, the output gathered back (two gathers per call)."""
    if op.perm is not None:
        return op.from_local(run_filter(op.to_local(x), weight, op.local(),
                                        order, rec))
    if x.dtype == torch.float32 and x.layout == torch.strided and \
            not op.requires_grad and \
            torch.is_autocast_enabled(x.device.type):
        x = x.to(torch.get_autocast_dtype(x.device.type))
    if weight.dtype != x.dtype:  # autocast: the recurrences run in x's
        weight = weight.to(x.dtype)
    if weight.dim() == 2:  # coefficients: Clenshaw at width C
        order = 'project_first'
    training = torch.is_grad_enabled() and (
        weight.requires_grad or x.requires_grad or op.requires_grad)
    if order is None:
        order = choose_order(weight.size(1), weight.size(2),
                             x.requires_grad, training)
    if op.requires_grad:
        return _composed(op, x, weight, order, rec)
    if x.layout != torch.strided and weight.dim() == 3:
        # a sparse x is projected outside (dW by a sparse product); the op
        # gets the terms Z_k = X Θ_k as [N, K, F] and no weight
        K, C, F = weight.shape
        x = project(x, cat_weights(weight)).view(-1, K, F)
        # [N, K*F] -> [N, K, F]
        weight, order = None, 'project_first'
    op_t = op.t() if training else op  # the transpose only for backward
    return filter_call(x, weight, op, op_t, order, rec)


def _composed(op: SparseOperator, x: Tensor, weight: Tensor,
              order: str, rec: Optional[Recurrence] = None) -> Tensor:
    """The filter as differentiable ``spmm`` ops (stores the K terms)."""
    if weight.dim() == 2:  # coefficients [K, C] or [K, 1]
        xn = node_view(x)  # [N, M*C]
        w = per_column(weight, xn.size(1))  # [K, M*C] (or [K, 1])
        return clenshaw(op, lambda k: xn * w[k], weight.size(0),
                        rec).view(x.shape)
    K, C, F = weight.shape
    if order == 'project_first' and batch_gemms(x, weight):
        z = project(x, cat_weights(weight)).view(-1, K, F)
        # [N, K*F] -> [N, K, F]
        y = clenshaw(op, z.transpose(0, 1).contiguous(), rec=rec)  # [K,N,F]
    elif order == 'project_first':
        y = clenshaw(op, lambda k: project_node_view(x, weight[k]), K, rec)
    else:
        y = None
        for k, t in enumerate(cheb_terms(op, node_view(x), K, rec)):
            p = row_view(t, C) @ weight[k]
            y = p if y is None else y + p
        y = y.view(x.size(0), -1)
    return y.view(tuple(x.shape[:-1]) + (F, ))


__all__ = ['cheb_terms', 'cheb_basis', 'clenshaw', 'cheb_filter',
           'poly_filter', 'run_filter', 'choose_order', 'ORDERS']
