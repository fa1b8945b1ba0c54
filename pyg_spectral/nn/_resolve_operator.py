"""How layers obtain their :class:`~pyg_spectral.ops.SparseOperator`: a
precomputed one passed in place of ``edge_index`` (see
:mod:`pyg_spectral.transforms`), else the operator cache, else a fresh
build."""
from __future__ import annotations

from typing import Callable, Dict, Optional

import torch
from torch import Tensor

from ..ops import SparseOperator, cached, gcn_operator, laplacian_operator
from ..ops.adjacency import graph_device, is_sparse_tensor
from ..ops.custom_ops import in_graph
from ..ops.traced_operator import traced_operator
from ..ops.validation import check_same_device


def lazy_init(lins, x: Tensor) -> None:
    """Materializes lazy ``Linear`` weights (``in_channels=-1``)."""
    from torch_geometric.nn.dense.linear import is_uninitialized_parameter
    for lin in lins:
        if is_uninitialized_parameter(lin.weight):
            lin.initialize_parameters(lin, (x, ))


def resolve_operator(n: int, like: Tensor, graph, expect: Dict[str, object],
                     build: Callable[[], SparseOperator], static: tuple,
                     edge_weight=None, batch=None, lambda_max=None
                     ) -> SparseOperator:
    """Returns the operator over ``n`` nodes, in ``like``'s dtype/device, for
    ``graph`` (edge_index, SparseTensor, torch.sparse or a prebuilt
    :class:`SparseOperator`) with its ``edge_weight``, ``batch`` and
    ``lambda_max``. The layer has checked its ``x`` already; ``expect``: the
    normalizer's arguments (a precomputed operator must match them);
    ``static``: the cache key's non-tensor part.

    Eagerly the operator comes from the cache (or is built); while
    torch.compile / torch.export trace, from the custom op
    ``pyg_spectral::graph_operator``, which consults the same kind of cache
    when the compiled code runs (edge weights that require grad are
    normalized in the graph instead)."""
    if not isinstance(graph, (Tensor, SparseOperator)) and \
            not is_sparse_tensor(graph):
        raise TypeError(f"edge_index must be a Tensor, a SparseTensor or a "
                        f"SparseOperator (got {type(graph).__name__})")
    extra = dict(edge_weight=edge_weight, batch=batch, lambda_max=lambda_max)
    if not isinstance(graph, SparseOperator):
        check_same_device('x', like.device, 'edge_index', graph_device(graph))
        ts = [t for t in extra.values() if isinstance(t, Tensor)]
        if in_graph(like, graph, *ts) and isinstance(graph, Tensor) and \
                graph.layout == torch.strided and \
                not any(t.requires_grad for t in ts):
            return traced_operator(graph, edge_weight, batch, lambda_max,
                                   like, n, expect)
        return cached(build, (graph, edge_weight, batch, lambda_max), static)
    for name, value in extra.items():
        if value is not None:
            raise ValueError(f"{name} must be None when a precomputed "
                             f"SparseOperator is passed as edge_index")
    for key, value in expect.items():
        if graph.meta.get(key, value) != value:
            raise ValueError(
                f"the precomputed operator was built with {key}="
                f"{graph.meta.get(key)!r} but this layer uses "
                f"{key}={value!r}")
    if graph.num_nodes != n:
        raise ValueError(f"x has {n} nodes but the precomputed operator has "
                         f"{graph.num_nodes}")
    # a precomputed operator moves to x's dtype/device
    return graph.to(device=like.device, dtype=like.dtype)


def laplacian_for(like: Tensor, n: int, graph, edge_weight=None,
                  normalization: Optional[str] = 'sym', lambda_max=None,
                  batch=None, flow: str = 'source_to_target'
                  ) -> SparseOperator:
    """The scaled Laplacian of ``graph`` over ``n`` nodes, in ``like``'s
    dtype/device: a precomputed operator, the cached one, or a new build.
    Every layer on the Chebyshev engine gets its operator here."""
    return resolve_operator(
        n, like, graph,
        {'kind': 'laplacian', 'normalization': normalization, 'flow': flow},
        lambda: laplacian_operator(graph, edge_weight, n, normalization,
                                   lambda_max, batch, like.dtype, flow),
        ('laplacian', normalization, n, like.dtype, like.device, flow),
        edge_weight, batch, lambda_max)


def gcn_for(like: Tensor, n: int, graph, edge_weight=None,
            improved: bool = False, add_self_loops: bool = True,
            normalize: bool = True, flow: str = 'source_to_target',
            rho: float = 0.5) -> SparseOperator:
    """GCN's normalized adjacency of ``graph`` (see :func:`laplacian_for`;
    ``rho`` as :func:`~pyg_spectral.ops.gcn_operator`)."""
    expect = {'kind': 'gcn', 'improved': improved,
              'add_self_loops': add_self_loops, 'normalize': normalize,
              'flow': flow, 'rho': rho}
    return resolve_operator(
        n, like, graph, expect,
        lambda: gcn_operator(graph, edge_weight, n, improved,
                             add_self_loops, normalize, like.dtype, flow,
                             rho=rho),
        ('gcn', improved, add_self_loops, normalize, n, like.dtype,
         like.device, flow, rho), edge_weight)
