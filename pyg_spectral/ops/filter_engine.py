r"""The filter engine: :math:`\sum_k P_k(\mathbf{S})\mathbf{X}\boldsymbol{\Theta}_k`
and its memory-lean backward as plain routines on the sparse kernels of
:mod:`.backends` (no argument checks, no autograd: the custom ops of
:mod:`.custom_ops` wrap them; :mod:`.chebyshev` holds the public, checked
functions, the mathematics and :func:`~.chebyshev.choose_order`, the
policy that picks an order).

Two evaluation orders, named by where the projection happens:
``'project_first'`` (:math:`\mathbf{Z}_k = \mathbf{X}\boldsymbol{\Theta}_k`,
then Clenshaw's backward recurrence at width ``C_out``) and
``'project_last'`` (the three-term recurrence at width ``C_in``, each term
projected as it is produced). The backward is the filter on
:math:`\mathbf{S}^\top` with :math:`\boldsymbol{\Theta}_k^\top` plus one
weight-gradient pass over the terms of the narrower width; only
:math:`\mathbf{X}` is kept from the forward pass.

Layout: ``x`` ``[N, C]`` or ``[N, M, C]`` (M signals share each sparse
product, whose columns are ``M*C`` wide), ``weight`` ``[K, C, F]`` (or
``[K, C]`` / ``[K, 1]`` coefficients), output ``[N, F]`` or ``[N, M, F]``.
The terms stream through a fixed rotation of two ``[N, w]`` buffers (three
for Clenshaw when ``Z_k`` cannot be accumulated into one: sparse ``x``);
where a pass keeps them, stacked terms are ``[N, K, w]``.
"""
from __future__ import annotations

from typing import Callable, Iterator, Optional, Tuple

import torch
from torch import Tensor

from .backends import kernel
from .bases import Recurrence
from .features import project, project_t, to_dense

ORDERS = ('project_first', 'project_last')


# -- the plain routines (no checks, no autograd) ---------------------------
def step_coef(rec: Optional[Recurrence], k: int) -> Tuple[float, float, float]:
    """``(alpha_k, beta_k, gamma_k)``; ``rec=None`` is Chebyshev."""
    if rec is None:
        return (1.0 if k == 0 else 2.0), 0.0, 1.0
    return rec.coef(k)


def stream_terms(op, x: Tensor, K: int,
           rec: Optional[Recurrence] = None) -> Iterator[Tensor]:
    """Yields ``P_k(S) x`` (``x`` ``[N, w]``, never written) through two
    rotating buffers: ``P_k`` overwrites ``P_{k-2}``, so a term is valid
    until the next-but-one is requested. Chebyshev's step is one fused
    product ``2 S P_k - P_{k-1}``; a basis with ``beta_k != 0`` adds one
    axpy."""
    yield x
    if K == 1:
        return
    a, b, _ = step_coef(rec, 0)
    prev2, prev1 = x, kernel(op, x, a, x if b else None, b)
    yield prev1
    for k in range(1, K - 1):
        a, b, g = step_coef(rec, k)
        own = prev2 is not x
        if b == 0.0:  # a S P_k - g P_{k-1}
            cur = kernel(op, prev1, a, prev2 if g else None, -g,
                         out=prev2 if own else None)
        else:  # a S P_k + (b P_k - g P_{k-1})
            z = prev2.mul_(-g) if own else prev2 * -g
            z = z.add_(prev1, alpha=b)
            cur = kernel(op, prev1, a, z, out=z)
        prev2, prev1 = prev1, cur
        yield cur


def clenshaw_sum(op, z: Callable[[int], Tensor], K: int,
              rec: Optional[Recurrence] = None,
              z_into: Optional[Callable[[int, Tensor, float], Tensor]] = None
              ) -> Tensor:
    r""":math:`\sum_k P_k(\mathbf{S})\mathbf{Z}_k` with ``z(k)`` fresh
    ``[N, w]`` tensors requested in the order ``K-1, ..., 0``:
    :math:`u_k = \mathbf{Z}_k + (\alpha_k\mathbf{S} + \beta_k) u_{k+1} -
    \gamma_{k+1} u_{k+2}`, :math:`\mathbf{Y} = u_0` (Chebyshev:
    :math:`b_k = \mathbf{Z}_k + 2\mathbf{S}b_{k+1} - b_{k+2}`,
    :math:`\mathbf{Y} = \mathbf{Z}_0 + \mathbf{S}b_1 - b_2`). Each step
    writes ``Z_k - gamma u_{k+2}`` into ``u_{k+2}``'s buffer and the product
    into it: a fixed rotation of the buffers ``u_{k+1}``, ``u_{k+2}``.
    ``z_into(k, buf, c)``, when given, writes ``Z_k + c buf`` into ``buf``
    in the pass that makes ``Z_k`` (the projection's GEMM accumulates into
    it): no ``[N, w]`` tensor per step and no separate subtraction."""
    b1 = z(K - 1)
    b2 = None
    for k in range(K - 2, -1, -1):
        a, b, _ = step_coef(rec, k)
        g = step_coef(rec, k + 1)[2]
        if b2 is not None and g and z_into is not None:
            t = z_into(k, b2, -g)
        else:
            t = z(k)
            if b2 is not None and g:
                t = torch.sub(t, b2, alpha=g, out=b2)
        if b:
            t = t.add_(b1, alpha=b)
        b1, b2 = kernel(op, b1, a, t, out=t), b1
    return b1


def node_view(x: Tensor) -> Tensor:
    return to_dense(x).reshape(x.size(0), -1)  # [N, (M*)C]


def row_view(x: Tensor, c: int) -> Tensor:
    return x.reshape(-1, c)  # [N*M, c]: one row per (node, signal)


def project_node_view(x: Tensor, w: Tensor) -> Tensor:
    """``X W`` in node view: ``[N, C]`` or ``[N, M, C]`` -> ``[N, M*F]``."""
    if x.dim() == 2:
        return project(x, w)
    return (row_view(x, x.size(-1)) @ w).view(x.size(0), -1)


def per_column(weight: Tensor, width: int) -> Tensor:
    """Coefficients ``[K, C]`` for the node view's ``width = M*C``
    columns: repeated over the ``M`` signals (``[K, 1]`` broadcasts)."""
    if weight.size(1) in (1, width):
        return weight
    return weight.repeat(1, width // weight.size(1))  # [K, M*C]


def cat_weights(weight: Tensor) -> Tensor:
    K, C, F = weight.shape
    return weight.permute(1, 0, 2).reshape(C, K * F)  # [K,C,F] -> [C, K*F]


def batch_gemms(x: Tensor, weight: Tensor) -> bool:
    """One ``[N, K*F]`` GEMM instead of K ``[N, F]`` ones when that buffer is
    at most half the size of ``X`` (wide inputs: the GEMM dominates)."""
    K, C, F = weight.shape
    return x.dim() == 2 and C >= 2 * K * F


def _terms_into(z: Tensor):
    """``z_into`` of :func:`clenshaw_sum` for stacked terms ``z``
    ``[N, K, w]``:
    ``Z_k + c buf`` read from the strided slice, in one pass."""
    return lambda k, buf, c: torch.add(z[:, k], buf, alpha=c, out=buf)


def _proj_into(x: Tensor, weight: Tensor):
    """``z_into`` of :func:`clenshaw_sum` for ``Z_k = X W_k`` with dense
    ``x``: the GEMM accumulates ``c buf`` (``addmm`` with ``beta = c``)."""
    if x.layout != torch.strided:
        return None  # sparse x: a product of its own, then the subtraction
    C, F = weight.shape[1:]
    rows = row_view(x, C)  # [N*M, C]

    def into(k, buf, c):
        out = buf.view(-1, F)  # [N, M*F] -> [N*M, F]
        torch.addmm(out, rows, weight[k], beta=c, out=out)
        return buf
    return into


def _project_first(op, x: Tensor, weight: Tensor, rec=None) -> Tensor:
    K, C, F = weight.shape
    if batch_gemms(x, weight):
        z = project(x, cat_weights(weight)).view(-1, K, F)
        # [N, K*F] -> [N, K, F]
        return clenshaw_sum(op, lambda k: z[:, k].contiguous(), K, rec,
                         _terms_into(z))
    return clenshaw_sum(op, lambda k: project_node_view(x, weight[k]), K, rec,
                     _proj_into(x, weight))


def _project_last(op, x: Tensor, weight: Optional[Tensor], K: int,
                  dual: Optional[Tensor] = None, rec=None):
    """Streams ``t_k = T_k(S) x`` (node view) once; returns ``(sum_k t_k
    W_k, [dual^T t_k]_k)`` -- either part skipped when ``weight`` / ``dual``
    is None. ``dual`` ``[N, (M,) D]`` gives ``[K, D, C]``."""
    C = x.size(-1)
    out = None
    dual_rows = None if dual is None else row_view(dual, dual.size(-1))
    prods = None if dual is None else \
        x.new_empty(K, dual.size(-1), C)  # [K, D, C]
    for k, t in enumerate(stream_terms(op, node_view(x), K, rec)):
        tr = row_view(t, C)  # [N*M, C]
        if weight is not None:  # accumulated in place: one [N, F] buffer
            out = tr @ weight[k] if out is None else \
                out.addmm_(tr, weight[k])
        if prods is not None:
            torch.mm(dual_rows.t(), tr, out=prods[k])
    if out is not None:
        out = out.view(x.size(0), -1)  # [N*M, F] -> [N, M*F]
    return out, prods


def filter_forward(op, x: Tensor, weight: Optional[Tensor],
                   order: str, rec: Optional[Recurrence] = None) -> Tensor:
    """``sum_k T_k(S) x W_k`` (unchecked; ``order`` one of :data:`ORDERS`);
    the output is ``x``'s shape with ``F`` channels. ``weight=None``: ``x``
    holds the projected terms ``Z`` ``[N, K, F]``; the output is
    ``sum_k T_k(S) Z_k`` ``[N, F]``. ``weight`` ``[K, C]`` (or ``[K, 1]``):
    per-channel (or scalar) coefficients, ``sum_k T_k(S) x diag(w_k)``, by
    Clenshaw at width ``C`` (the spectral filters of GPR-GNN, BernNet,
    ChebNetII, JacobiConv)."""
    if weight is None:
        return clenshaw_sum(op, lambda k: x[:, k].contiguous(), x.size(1), rec,
                         _terms_into(x))
    if weight.dim() == 2:  # per-channel coefficients [K, C] or [K, 1]
        xn = node_view(x)  # [N, M*C]
        w = per_column(weight, xn.size(1))  # [K, M*C] (or [K, 1])
        y = clenshaw_sum(op, lambda k: xn * w[k], weight.size(0), rec)
        return y.view(x.shape)
    if order == 'project_first':
        y = _project_first(op, x, weight, rec)
    else:
        y, _ = _project_last(op, x, weight, weight.size(0), rec=rec)
    return y.view(tuple(x.shape[:-1]) + (weight.size(2), ))


def filter_backward(op, op_t, x: Tensor,
                    weight: Optional[Tensor], grad: Tensor, order: str,
                    need_x: bool, need_w: bool,
                    rec: Optional[Recurrence] = None
                    ) -> Tuple[Optional[Tensor], Optional[Tensor]]:
    r"""``(dL/dx, dL/dW)`` of :func:`filter_forward` for the output gradient
    ``grad``: the filter on ``op_t`` with :math:`\Theta_k^\top`, plus one
    weight-gradient pass (see module doc). For ``weight=None`` (``x`` the
    projected terms ``[N, K, F]``), ``dL/dZ_k = T_k(S^T) G``."""
    if weight is None:
        gz = None
        if need_x:
            gz = grad.new_empty(x.shape)  # [N, K, F]
            for k, g in enumerate(stream_terms(op_t, grad, x.size(1), rec)):
                gz[:, k] = g
        return gz, None
    if weight.dim() == 2:  # per-channel coefficients: one pass over G_k
        K, C = weight.shape
        xn, gn = node_view(x), node_view(grad)  # [N, M*C]
        w = per_column(weight, xn.size(1))  # [K, M*C] (or [K, 1])
        gx = torch.zeros_like(gn) if need_x else None
        gw = weight.new_empty(K, xn.size(1)) if need_w else None
        for k, g in enumerate(stream_terms(op_t, gn, K, rec)):
            if need_x:
                gx.addcmul_(g, w[k])
            if need_w:
                torch.sum(xn * g, 0, out=gw[k])  # [M*C]
        if need_w:  # fold the M signals (and, for [K, 1], the channels)
            gw = gw.sum(1, keepdim=True) if C == 1 else \
                gw.view(K, -1, C).sum(1)  # [K, M*C] -> [K, M, C] -> [K, C]
        return (None if gx is None else gx.view(x.shape)), gw
    K, C, F = weight.shape
    need_x = need_x and x.layout == torch.strided
    gx = gw = None
    w_t = weight.transpose(1, 2)  # [K, F, C]
    if order == 'project_first':
        # one pass over G_k = T_k(S^T) G (width F) serves both gradients
        if batch_gemms(x, weight):
            gs = grad.new_empty(x.size(0), K, F)  # [N, K, F]
            for k, g in enumerate(stream_terms(op_t, grad, K, rec)):
                gs[:, k] = g
            gcat = gs.view(-1, K * F)  # [N, K*F]
            if need_w:
                gw = project_t(x, gcat).view(C, K, F).transpose(0, 1)
                # [C, K*F] -> [C, K, F] -> [K, C, F]
            if need_x:
                gx = (gcat @ cat_weights(weight).t()).view(x.shape)
            return gx, gw
        gxs, prods = _project_last(op_t, grad, w_t if need_x else None, K,
                                   x if need_w else None, rec)
        gx = gxs.view(x.shape) if need_x else None
        return gx, prods  # prods: [K, C, F] = x^T G_k

    if need_x:  # Clenshaw on S^T at width C
        gx = filter_forward(op_t, grad, w_t, 'project_first', rec)
    if need_w:  # the terms of x again (width C): dW_k = (T_k x)^T G
        _, prods = _project_last(op, x, None, K, grad, rec)  # [K, F, C]
        gw = prods.transpose(1, 2)
    return gx, gw


__all__ = ['ORDERS', 'filter_forward', 'filter_backward', 'stream_terms',
           'clenshaw_sum', 'step_coef', 'node_view', 'row_view',
           'project_node_view', 'per_column', 'cat_weights', 'batch_gemms']
