"""How layers obtain their :class:`~pyg_spectral.ops.SparseOperator`: a
precomputed one passed in place of ``edge_index`` (see
:mod:`pyg_spectral.transforms`), else the operator cache, else a fresh
build."""
from __future__ import annotations

from typing import Callable, Dict, Sequence

from torch import Tensor

from ..ops import SparseOperator, cached
from ..ops.validation import check_x


def lazy_init(lins, x: Tensor) -> None:
    """Materializes lazy ``Linear`` weights (``in_channels=-1``)."""
    from torch_geometric.nn.dense.linear import is_uninitialized_parameter
    for lin in lins:
        if is_uninitialized_parameter(lin.weight):
            lin.initialize_parameters(lin, (x, ))


def resolve_operator(x: Tensor, graph, expect: Dict[str, object],
                     build: Callable[[], SparseOperator],
                     tensors: Sequence, static: tuple,
                     extra_args: Dict[str, object]) -> SparseOperator:
    """Returns the operator for ``graph`` (edge_index, SparseTensor,
    torch.sparse or a prebuilt :class:`SparseOperator`)."""
    check_x(x)
    if isinstance(graph, SparseOperator):
        for name, value in extra_args.items():
            if value is not None:
                raise ValueError(f"{name} must be None when a precomputed "
                                 f"SparseOperator is passed as edge_index")
        for key, value in expect.items():
            if graph.meta.get(key, value) != value:
                raise ValueError(
                    f"the precomputed operator was built with {key}="
                    f"{graph.meta.get(key)!r} but this layer uses "
                    f"{key}={value!r}")
        if graph.num_nodes != x.size(0):
            raise ValueError(f"x has {x.size(0)} rows but the precomputed "
                             f"operator has {graph.num_nodes} nodes")
        if graph.dtype != x.dtype or graph.device != x.device:
            graph = graph.to(device=x.device, dtype=x.dtype)
        return graph
    return cached(build, tensors, static)
