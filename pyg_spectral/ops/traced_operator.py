r"""A graph's normalized operator under ``torch.compile`` / ``torch.export``:
the custom op ``pyg_spectral::graph_operator`` builds it from traceable
inputs (or finds it in the operator cache) and returns its arrays, so a
compiled step rebuilds nothing for a graph it has seen.
"""
from __future__ import annotations

import ast
from typing import Optional, Tuple

import torch
from torch import Tensor

from .cache import cached
from .csr import _INT32_MAX, csr_transpose
from .normalize import gcn_operator, laplacian_operator
from .operator import SparseOperator
from .operator_data import _register
from .host_reads import static_shapes


@torch.library.custom_op('pyg_spectral::graph_operator', mutates_args=())
def graph_operator_op(edge_index: Tensor, edge_weight: Optional[Tensor],
                      batch: Optional[Tensor], lambda_max: Optional[Tensor],
                      lambda_max_value: Optional[float], like: Tensor,
                      num_nodes: int, spec: str, transpose: bool,
                      rho: float = 0.5
                      ) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor,
                                 Tensor, Tensor]:
    """``(crow, col, val, diag[N], crow_t, col_t, val_t)`` of the operator
    that ``spec`` (a repr'd dict: ``kind``, the normalizer's arguments)
    builds from the graph, with one entry per input edge (static shapes);
    ``lambda_max`` a tensor, or ``lambda_max_value`` a float, or neither;
    ``rho`` GCN's normalization exponent (a float argument, not part of
    ``spec``: a traced float may be symbolic).

    Opaque to the tracer, so a compiled or exported step looks its graph
    up in the package cache (by tensor identity and version) instead of
    normalizing and sorting it again: a rebuild only for a new graph. The
    cached arrays themselves are returned (nothing in the package writes
    into an operator's arrays), and the ops that receive them find the
    cached operator again, with its memo (CSR view, constant diagonal).
    ``transpose=False`` (no backward) leaves the last three empty."""
    return cached(
        lambda: _operator_arrays(edge_index, edge_weight, batch,
                                 lambda_max if lambda_max is not None
                                 else lambda_max_value, like, num_nodes,
                                 spec, transpose, rho),
        (edge_index, edge_weight, batch, lambda_max),
        ('graph_operator', spec, lambda_max_value, num_nodes, like.dtype,
         like.device, transpose, rho))


@graph_operator_op.register_fake
def _(edge_index, edge_weight, batch, lambda_max, lambda_max_value, like,
      num_nodes, spec, transpose, rho=0.5):
    E, n = edge_index.size(1), num_nodes
    idx = torch.int32 if max(n, E) <= _INT32_MAX else torch.long
    crow = edge_index.new_empty(n + 1, dtype=idx)
    col = edge_index.new_empty(E, dtype=idx)
    val, diag = like.new_empty(E), like.new_empty(n)
    if not transpose:
        return crow, col, val, diag, crow.new_empty(0), col.new_empty(0), \
            val.new_empty(0)
    return crow, col, val, diag, crow.new_empty(n + 1), col.new_empty(E), \
        val.new_empty(E)


def _operator_arrays(edge_index, edge_weight, batch, lambda_max, like, n,
                     spec, transpose, rho):
    s = ast.literal_eval(spec)
    with static_shapes():
        if s['kind'] == 'laplacian':
            op = laplacian_operator(edge_index, edge_weight, n,
                                    s['normalization'], lambda_max, batch,
                                    like.dtype, s['flow'])
        else:
            op = gcn_operator(edge_index, edge_weight, n, s['improved'],
                              s['add_self_loops'], s['normalize'],
                              like.dtype, s['flow'], rho=rho)
    diag = op.diag_tensor().contiguous()  # [N], whatever op.diag is
    op._memo['diag_tensor'] = diag
    _register(op)
    if not transpose:
        return (op.crow, op.col, op.val, diag, op.crow.new_empty(0),
                op.col.new_empty(0), op.val.new_empty(0))
    t = SparseOperator(*csr_transpose(op.crow, op.col, op.val, n), op.diag,
                       n, meta=op.meta)  # distinct arrays, even if symmetric
    t._memo['diag_tensor'], t._memo['t'], op._memo['t'] = diag, op, t
    _register(t)
    return (op.crow, op.col, op.val, diag, t.crow, t.col, t.val)


def traced_operator(edge_index: Tensor, edge_weight: Optional[Tensor],
                    batch: Optional[Tensor], lambda_max, like: Tensor, n,
                    spec: dict):
    """The :class:`SparseOperator` of a graph inside a traced region (see
    :func:`graph_operator_op`)."""
    value = None
    if not isinstance(lambda_max, Tensor):  # None, or a float of the layer
        value, lambda_max = lambda_max, None
    transpose = torch.is_grad_enabled()
    rho = spec.get('rho', 0.5)
    key = {k: v for k, v in spec.items() if k != 'rho'}
    crow, col, val, diag, crow_t, col_t, val_t = graph_operator_op(
        edge_index, edge_weight, batch, lambda_max, value,
        like.new_empty(0), n, repr(key), transpose, rho)
    op = SparseOperator(crow, col, val, diag, n, meta=spec)
    if transpose:
        op_t = SparseOperator(crow_t, col_t, val_t, diag, n, meta=spec)
        op._memo['t'], op_t._memo['t'] = op_t, op
    return op
