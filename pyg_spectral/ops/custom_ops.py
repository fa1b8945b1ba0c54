r"""The engine as ``torch.library`` custom ops: opaque to Dynamo and
torch.export (a fake kernel gives their shapes), differentiable (registered
autograd formulas) and batchable (``torch.func.vmap`` rules).

* ``pyg_spectral::spmm`` -- :math:`\alpha\mathbf{S}\mathbf{X} +
  \beta\mathbf{Z}`; gradients for ``x``, ``z``, the operator's values and
  its node-wise diagonal.
* ``pyg_spectral::poly_filter`` -- :math:`\sum_k P_k(\mathbf{S})\mathbf{X}
  \boldsymbol{\Theta}_k` for Chebyshev or any three-term basis
  (:func:`~pyg_spectral.ops.filter_engine.filter_forward`); its backward is
  ``pyg_spectral::poly_filter_backward``
  (:func:`~pyg_spectral.ops.filter_engine.filter_backward`), which keeps only
  ``x`` from the forward pass.
* ``pyg_spectral::graph_operator`` -- a graph's normalized operator, in
  :mod:`.traced_operator` (it builds with :mod:`.normalize`, which sits above).

Eager calls (and ``torch.func`` transforms) run the same routines under
thin ``autograd.Function`` classes instead (see the note above
:func:`in_graph`).

An operator enters as its arrays (:meth:`SparseOperator.arrays`: ``crow,
col, val, diag, diag_scalar``) followed by those of its transpose (``crow_t,
col_t, val_t``; the same arrays when no gradient will be asked for), so a
traced graph carries them as ordinary tensors. The kernels (torch CSR on
CPU, Triton on CUDA) are chosen inside, by :func:`.backends.kernel`.
"""
from __future__ import annotations

import contextlib
from typing import List, Optional, Tuple

import torch
from torch import Tensor

from .backends import kernel
from .bases import Recurrence
from .csr import csr_rows
from .filter_engine import filter_backward, filter_forward
from .operator_data import operator_of
from .host_reads import tracing


def _no_autocast(x: Tensor):
    """The kernels run in the dtype they are given (the caller has cast the
    weights to ``x``'s dtype under autocast; accumulation is float32).
    Outside autocast, nothing to enter."""
    if not torch.is_autocast_enabled(x.device.type):
        return contextlib.nullcontext()
    return torch.autocast(x.device.type, enabled=False)


def _loop(fn, info, in_dims, *args):
    """vmap by a loop over the batch (the general fallback)."""
    outs = []
    for i in range(info.batch_size):  # (non-tensor args have no dim)
        outs.append(fn(*[a.select(d, i) if isinstance(a, Tensor) and
                         d is not None else a
                         for a, d in zip(args, in_dims)]))
    if isinstance(outs[0], tuple):
        return (tuple(torch.stack(o) for o in zip(*outs)),
                (0, ) * len(outs[0]))
    return torch.stack(outs), 0


def _fold_vmap(fn, info, in_dims, x, rest):
    """vmap of ``fn(x, *rest)`` linear in ``x`` ``[N, ..., C]`` with only
    ``x`` batched: the batch joins the signal axis (one call)."""
    xb = x.movedim(in_dims[0], 1)  # [N, B, ..., C]
    y = fn(xb.reshape(xb.size(0), -1, xb.size(-1)), *rest)  # [N, B*M, F]
    return y.view(tuple(xb.shape[:-1]) + (y.size(-1), )), 1


# -- spmm ------------------------------------------------------------------
@torch.library.custom_op('pyg_spectral::spmm', mutates_args=())
def spmm_op(x: Tensor, z: Optional[Tensor], crow: Tensor, col: Tensor,
            val: Tensor, diag: Optional[Tensor], diag_scalar: float,
            crow_t: Tensor, col_t: Tensor, val_t: Tensor, alpha: float,
            beta: float) -> Tensor:
    with _no_autocast(x):
        return kernel(operator_of(crow, col, val, diag, diag_scalar), x,
                      alpha, z, beta)


@spmm_op.register_fake
def _(x, z, crow, col, val, diag, diag_scalar, crow_t, col_t, val_t, alpha,
      beta):
    return torch.empty_like(x, memory_format=torch.contiguous_format)


def _spmm_setup(ctx, inputs, output):
    x, z, crow, col, val, diag, ds, crow_t, col_t, val_t, alpha, beta = \
        inputs
    ctx.ds, ctx.alpha, ctx.beta = ds, alpha, beta
    ctx.save_for_backward(x, crow, col, val, diag, crow_t, col_t, val_t)


def _spmm_backward(ctx, grad):
    x, crow, col, val, diag, crow_t, col_t, val_t = ctx.saved_tensors
    need = ctx.needs_input_grad
    gx = gz = gval = gdiag = None
    if need[0]:  # alpha S^T G
        gx = spmm_op(grad, None, crow_t, col_t, val_t, diag, ctx.ds, crow,
                     col, val, ctx.alpha, 0.0)
    if need[1]:
        gz = grad * ctx.beta
    if need[4]:  # dS_ij = alpha <G_i, X_j> on the stored entries
        rows = csr_rows(crow, col.numel())
        gval = ctx.alpha * (grad.index_select(0, rows) *
                            x.index_select(0, col.long())).sum(-1)
    if need[5]:
        gdiag = ctx.alpha * (grad * x).sum(-1)
    return gx, gz, None, None, gval, gdiag, None, None, None, None, None, \
        None


spmm_op.register_autograd(_spmm_backward, setup_context=_spmm_setup)


@spmm_op.register_vmap
def _(info, in_dims, x, z, crow, col, val, diag, ds, crow_t, col_t, val_t,
      alpha, beta):
    if any(d is not None for d in in_dims[2:]):  # a batch of operators
        return _loop(spmm_op, info, in_dims, x, z, crow, col, val, diag, ds,
                     crow_t, col_t, val_t, alpha, beta)
    B = info.batch_size

    def fold(t, d):  # [.., B, ..] -> [N, B*F]
        if t is None:
            return None
        t = t.movedim(d, 1) if d is not None else \
            t.unsqueeze(1).expand(-1, B, -1)  # [N, B, F]
        return t.reshape(t.size(0), -1)

    n, f = (x.movedim(in_dims[0], 0) if in_dims[0] is not None
            else x.unsqueeze(0)).shape[1:]
    y = spmm_op(fold(x, in_dims[0]), fold(z, in_dims[1]), crow, col, val,
                diag, ds, crow_t, col_t, val_t, alpha, beta)
    return y.view(n, B, f), 1  # [N, B*F] -> [N, B, F]


# -- the polynomial filter -------------------------------------------------
# ``rec``: a basis's three-term recurrence as one flat list of floats
# (:meth:`.bases.Recurrence.flat`); empty for Chebyshev.
def _rec(rec):
    return Recurrence.from_flat(rec) if rec else None


def _flat(rec: Optional[Recurrence]) -> List[float]:
    return [] if rec is None else rec.flat()


@torch.library.custom_op('pyg_spectral::poly_filter', mutates_args=())
def poly_filter_op(x: Tensor, weight: Optional[Tensor], crow: Tensor,
                   col: Tensor, val: Tensor, diag: Optional[Tensor],
                   diag_scalar: float, crow_t: Tensor, col_t: Tensor,
                   val_t: Tensor, order: str, rec: List[float]) -> Tensor:
    with _no_autocast(x):
        return filter_forward(operator_of(crow, col, val, diag, diag_scalar),
                              x, weight, order, _rec(rec))


@poly_filter_op.register_fake
def _(x, weight, crow, col, val, diag, diag_scalar, crow_t, col_t, val_t,
      order, rec):
    if weight is None:  # x: the projected terms [N, K, F]
        return x.new_empty(x.size(0), x.size(2))
    if weight.dim() == 2:  # per-channel coefficients
        return x.new_empty(x.shape)
    return x.new_empty(tuple(x.shape[:-1]) + (weight.size(2), ))


@torch.library.custom_op('pyg_spectral::poly_filter_backward',
                         mutates_args=())
def poly_filter_backward_op(grad: Tensor, x: Tensor,
                            weight: Optional[Tensor],
                            crow: Tensor, col: Tensor, val: Tensor,
                            diag: Optional[Tensor], diag_scalar: float,
                            crow_t: Tensor, col_t: Tensor, val_t: Tensor,
                            order: str, rec: List[float], need_x: bool,
                            need_w: bool) -> Tuple[Tensor, Tensor]:
    op = operator_of(crow, col, val, diag, diag_scalar)
    op_t = operator_of(crow_t, col_t, val_t, diag, diag_scalar)
    with _no_autocast(x):
        gx, gw = filter_backward(op, op_t, x, weight, grad, order, need_x,
                                 need_w, _rec(rec))
    # contiguous, as the fake kernel says (gw may be a transposed view)
    return (x.new_empty(0) if gx is None else gx.contiguous(),
            x.new_empty(0) if gw is None else gw.contiguous())


@poly_filter_backward_op.register_fake
def _(grad, x, weight, crow, col, val, diag, diag_scalar, crow_t, col_t,
      val_t, order, rec, need_x, need_w):
    need_w = need_w and weight is not None
    return (x.new_empty(x.shape if need_x else (0, )),
            x.new_empty(weight.shape if need_w else (0, )))


def _filter_setup(ctx, inputs, output):
    x, weight, crow, col, val, diag, ds, crow_t, col_t, val_t, order, rec = \
        inputs
    ctx.ds, ctx.order, ctx.rec = ds, order, rec
    ctx.save_for_backward(x, weight, crow, col, val, diag, crow_t, col_t,
                          val_t)


def _filter_backward(ctx, grad):
    x, weight, crow, col, val, diag, crow_t, col_t, val_t = \
        ctx.saved_tensors
    need_x, need_w = ctx.needs_input_grad[:2]
    gx, gw = poly_filter_backward_op(
        grad, x, weight, crow, col, val, diag, ctx.ds, crow_t, col_t, val_t,
        ctx.order, ctx.rec, need_x, need_w)
    return (gx if need_x else None, gw if need_w else None) + (None, ) * 10


poly_filter_op.register_autograd(_filter_backward,
                                 setup_context=_filter_setup)


@poly_filter_op.register_vmap
def _(info, in_dims, x, weight, crow, col, val, diag, ds, crow_t, col_t,
      val_t, order, rec):
    args = (weight, crow, col, val, diag, ds, crow_t, col_t, val_t, order,
            rec)
    if in_dims[0] is None or weight is None or \
            any(d is not None for d in in_dims[1:]):
        return _loop(poly_filter_op, info, in_dims, x, *args)
    # a batch of signals on one graph: fold it into the M axis
    return _fold_vmap(poly_filter_op, info, in_dims, x, args)


@poly_filter_backward_op.register_vmap
def _(info, in_dims, *args):
    return _loop(poly_filter_backward_op, info, in_dims, *args)


# -- eager entry points ----------------------------------------------------
# Outside torch.compile / torch.export the same routines run under autograd
# Functions in the form torch.func needs (setup_context, vmap): a Python
# custom op's registered autograd does not work under torch.func.grad /
# jacrev in torch <= 2.13 (pytorch/pytorch#168393, #179652), and its
# dispatch costs ~0.1 ms per call, as much as a Cora-sized filter.
def in_graph(*tensors) -> bool:
    """The custom ops while Dynamo / export trace (fake tensors)."""
    return tracing(*tensors, transforms=False)


def _legacy_batched(t: Tensor) -> bool:
    """``t`` is batched by the legacy vmap of ``torch._vmap_internals``
    (``torch.autograd.functional.jacobian(..., vectorize=True)``, PyG's
    ``utils.total_influence``), which neither reports a functorch
    transform nor runs an ``autograd.Function``'s vmap rule, and batches no
    ``out=`` op: the backward then goes through the custom op, which its
    fallback runs once per batch entry."""
    return torch._C._functorch.is_legacy_batchedtensor(t)


class _Function(torch.autograd.Function):
    """An ``autograd.Function`` whose ``apply`` skips torch's per-call
    ``inspect.signature`` binding of default arguments (~0.1 ms, as much as
    a small graph's whole filter) outside torch.func transforms: the
    subclasses take every argument positionally and have no defaults."""

    @classmethod
    def apply(cls, *args):
        if torch._C._are_functorch_transforms_active():
            return super().apply(*args)
        unwrap = torch._C._functorch.unwrap_if_dead
        args = tuple(unwrap(a) if isinstance(a, Tensor) else a for a in args)
        return super(torch.autograd.Function, cls).apply(*args)


class _FilterFn(_Function):
    @staticmethod
    def forward(x, weight, op, op_t, order, rec):
        with _no_autocast(x):
            return filter_forward(op, x, weight, order, rec)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, weight, op, op_t, order, rec = inputs
        ctx.op, ctx.op_t, ctx.order, ctx.rec = op, op_t, order, rec
        ctx.save_for_backward(x, weight)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w = ctx.needs_input_grad[:2]
        if _legacy_batched(grad):  # one custom-op call per batch entry
            op, op_t = ctx.op, ctx.op_t
            gx, gw = poly_filter_backward_op(
                grad, x, weight, *op.arrays(), *op_t.arrays()[:3],
                ctx.order, _flat(ctx.rec),
                need_x, need_w)
        else:
            gx, gw = _FilterBackwardFn.apply(grad, x, weight, ctx.op,
                                             ctx.op_t, ctx.order, ctx.rec,
                                             need_x, need_w)
        return gx if need_x else None, gw if need_w else None, None, None, \
            None, None

    @staticmethod
    def vmap(info, in_dims, x, weight, op, op_t, order, rec):
        if in_dims[0] is not None and in_dims[1] is None and \
                weight is not None:
            return _fold_vmap(_FilterFn.apply, info, in_dims, x,
                              (weight, op, op_t, order, rec))
        return _loop(_FilterFn.apply, info, in_dims, x, weight, op, op_t,
                     order, rec)


class _FilterBackwardFn(_Function):
    """The filter's backward as a Function of its own, so that torch.func
    can batch it (jacrev); not differentiable again."""

    @staticmethod
    def forward(grad, x, weight, op, op_t, order, rec, need_x, need_w):
        with _no_autocast(x):
            gx, gw = filter_backward(op, op_t, x, weight, grad, order,
                                     need_x, need_w, rec)
        return (x.new_empty(0) if gx is None else gx,
                x.new_empty(0) if gw is None else gw)

    @staticmethod
    def setup_context(ctx, inputs, output):
        pass

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("the polynomial filter's backward is not "
                           "differentiable (no double backward)")

    @staticmethod
    def vmap(info, in_dims, *args):
        return _loop(_FilterBackwardFn.apply, info, in_dims, *args)


class _SpmmFn(_Function):
    @staticmethod
    def forward(x, z, op, op_t, alpha, beta):
        with _no_autocast(x):
            return kernel(op, x, alpha, z, beta)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, z, op, op_t, alpha, beta = inputs
        ctx.op, ctx.op_t, ctx.alpha, ctx.beta = op, op_t, alpha, beta

    @staticmethod
    def backward(ctx, grad):
        gx = gz = None
        if ctx.needs_input_grad[0] and _legacy_batched(grad):
            gx = spmm_op(grad, None, *ctx.op_t.arrays(),
                         *ctx.op.arrays()[:3], ctx.alpha, 0.0)
        elif ctx.needs_input_grad[0]:  # alpha S^T G (differentiable under
            # create_graph; else the kernel itself, as spmm_call decides)
            gx = spmm_call(grad, None, ctx.op_t, ctx.op, ctx.alpha, 0.0)
        if ctx.needs_input_grad[1]:
            gz = grad * ctx.beta
        return gx, gz, None, None, None, None

    @staticmethod
    def vmap(info, in_dims, x, z, op, op_t, alpha, beta):
        if in_dims[1] is None and z is None:
            y, d = _fold_vmap(lambda t, *r: _SpmmFn.apply(
                t.reshape(t.size(0), -1), None, *r).view(
                    t.shape), info, in_dims, x, (op, op_t, alpha, beta))
            return y, d
        return _loop(_SpmmFn.apply, info, in_dims, x, z, op, op_t, alpha,
                     beta)


def filter_call(x: Tensor, weight: Optional[Tensor], op, op_t, order: str,
                rec: Optional[Recurrence] = None) -> Tensor:
    """The filter through the custom op while tracing, through
    :class:`_FilterFn` otherwise (same routines)."""
    if in_graph(x, weight, op.val):
        return poly_filter_op(x, weight, *op.arrays(), *op_t.arrays()[:3],
                              order, _flat(rec))
    return _FilterFn.apply(x, weight, op, op_t, order, rec)


def spmm_call(x: Tensor, z: Optional[Tensor], op, op_t, alpha: float,
              beta: float) -> Tensor:
    """``spmm`` likewise; the custom op also when the operator's values
    need gradients (only its formula has them)."""
    if op.requires_grad or in_graph(x, z, op.val):
        return spmm_op(x, z, *op.arrays(), *op_t.arrays()[:3], alpha, beta)
    if not torch._C._are_functorch_transforms_active() and (
            not torch.is_grad_enabled() or not (
                x.requires_grad or (z is not None and z.requires_grad))):
        with _no_autocast(x):  # nothing to differentiate: the kernel
            return kernel(op, x, alpha, z, beta)
    return _SpmmFn.apply(x, z, op, op_t, alpha, beta)
