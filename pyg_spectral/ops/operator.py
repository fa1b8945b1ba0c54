r"""The one sparse operator every layer of the package propagates with.

A :class:`SparseOperator` represents

.. math::
    \mathbf{S} = \mathbf{M} + \operatorname{diag}(\mathbf{d}),

with :math:`\mathbf{M}` an :math:`N \times N` CSR matrix holding the
off-diagonal entries (rows are *target* nodes: PyG's ``source_to_target``
flow, ``y[dst] += w * x[src]``) and :math:`\mathbf{d}` the node-wise diagonal
(a per-node tensor, a Python scalar, or ``None`` for zero). Self-loops are
never stored as sparse entries: the diagonal is applied as an axpy, so the
sparse product touches the real edges only.

Its single primitive is :meth:`SparseOperator.matmul` (the custom op
``pyg_spectral::spmm``),

.. math::
    \mathbf{Y} = \alpha \, \mathbf{S} \mathbf{X} + \beta \, \mathbf{Z},

computed by one of the kernels of :mod:`.backends` (torch CSR kernels,
Triton on CUDA, or a gather/scatter reference).

While ``torch.compile`` / ``torch.export`` trace, an operator is built from
traceable ops only (static shapes, no value read back to Python).

Layout: ``x`` and ``z`` are ``[N, F]``; any trailing layout must be folded
into ``F`` by the caller.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from .custom_ops import spmm_call
from .operator_data import OperatorData

__all__ = ['SparseOperator', 'spmm']


class SparseOperator(OperatorData):
    r"""A normalized graph operator :math:`\mathbf{S} = \mathbf{M} +
    \operatorname{diag}(\mathbf{d})` held in CSR form (see module doc).

    Args:
        crow, col, val: CSR arrays of :math:`\mathbf{M}` (rows = targets).
        diag: node-wise diagonal: ``None`` (zero), a float or a ``[N]``
            tensor.
        num_nodes (int): :math:`N`.
        symmetric (bool, optional): whether :math:`\mathbf{S}` is known to
            be symmetric; ``None`` means "find out when the transpose is
            first needed" (eagerly; while tracing the transpose is built).
        meta (dict, optional): how the operator was built (kind,
            normalization, lambda_max, flow); layers check it against their
            own hyper-parameters.
        max_nnz (tuple, optional): the most entries of a row and of a
            column, when known (kernels plan with them).
        perm (Tensor, optional): ``[N]``, for an operator whose arrays
            number the nodes for locality: the caller's node of each
            (``perm[new] = old``). :meth:`matmul`, the filters and
            :meth:`to_dense` then take and give the caller's numbering.

    Derived data (the transpose, the torch CSR view, row indices, Triton
    plans, eigenpairs, a float32 copy for half-precision CPU products) lives
    in one declared memo, :meth:`memo`; :meth:`to` and :meth:`detach` carry
    over what stays valid.
    """


    def matmul(self, x: Tensor, alpha: float = 1.0, z: Optional[Tensor] = None,
               beta: float = 1.0) -> Tensor:
        r"""Returns :math:`\alpha \mathbf{S} \mathbf{X} + \beta \mathbf{Z}`
        for ``x`` of shape ``[N, F]`` (``z`` the same shape, optional);
        differentiable in ``x``, ``z`` and the operator's values."""
        return spmm(self, x, alpha, z, beta)


def spmm(op: OperatorData, x: Tensor, alpha: float = 1.0,
         z: Optional[Tensor] = None, beta: float = 1.0) -> Tensor:
    r"""Computes :math:`\alpha \mathbf{S}\mathbf{X} + \beta \mathbf{Z}`
    (the custom op ``pyg_spectral::spmm``); differentiable in ``x``, ``z``
    and the operator's values, traceable by torch.compile / torch.export,
    batchable by ``torch.func.vmap``."""
    if x.dim() != 2 or x.size(0) != op.num_nodes:
        raise ValueError(f"x must have shape [{op.num_nodes}, F] "
                         f"(got {list(x.shape)})")
    if z is not None and z.shape != x.shape:
        raise ValueError(f"z must have the shape of x {list(x.shape)} "
                         f"(got {list(z.shape)})")
    if op.perm is not None:  # renumbered: in and out of its numbering
        return op.from_local(spmm(op.local(), op.to_local(x), alpha,
                                  None if z is None else op.to_local(z),
                                  beta))
    need_t = torch.is_grad_enabled() and (
        x.requires_grad or op.requires_grad)
    op_t = op.t() if need_t else op  # the transpose only for backward
    return spmm_call(x, z, op, op_t, float(alpha), float(beta))
