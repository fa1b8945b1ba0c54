"""Transforms that precompute, once per graph, what the layers would
otherwise build on the fly (PyG's ``GCNNorm`` / ``LaplacianLambdaMax``
analogues).

Both store a :class:`~pyg_spectral.ops.SparseOperator` in ``data[key]``,
which layers accept in place of ``edge_index``::

    data = ChebOperator(normalization='sym', lambda_max='estimate')(data)
    out = conv(data.x, data.cheb_op)

``ChebOperator`` also stores ``data.lambda_max`` (a ``[1]`` tensor), which
batches like any tensor attribute, so in mini-batches
``conv(x, edge_index, batch=batch, lambda_max=batch_data.lambda_max)`` uses
per-graph values. (An operator object does not collate: use it on single
graphs.)
"""
from __future__ import annotations

from typing import Optional, Union

import torch
from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform

from .ops import estimate_lambda_max, gcn_operator, laplacian_operator
from .ops.validation import (check_flow, check_lambda_max,
                             check_normalization)

__all__ = ['ChebOperator', 'GCNOperator', 'LocalityOrder']


class ChebOperator(BaseTransform):
    r"""Precomputes :math:`\lambda_{\max}` and the scaled Laplacian
    :math:`2\mathbf{L}/\lambda_{\max} - \mathbf{I}` of ``data``.

    Args:
        normalization: ``None``, ``'sym'`` or ``'rw'`` (as the layer).
        lambda_max: ``None`` (PyG's bound), a positive float, or
            ``'estimate'`` (:func:`~pyg_spectral.ops.estimate_lambda_max`).
        method (str): estimation method, ``'power'`` or ``'lanczos'``.
        key (str): attribute that receives the operator.
        dtype: value dtype of the operator (default: ``data.x``'s).
        flow (str): the layer's ``flow`` (PyG's message direction).
    """

    def __init__(self, normalization: Optional[str] = 'sym',
                 lambda_max: Union[None, float, str] = None,
                 method: str = 'power', key: str = 'cheb_op',
                 dtype: Optional[torch.dtype] = None,
                 flow: str = 'source_to_target'):
        check_normalization(normalization)
        if lambda_max != 'estimate':
            check_lambda_max(lambda_max)
        if method not in ('power', 'lanczos'):
            raise ValueError(f"method must be 'power' or 'lanczos' "
                             f"(got {method!r})")
        self.normalization = normalization
        self.lambda_max = lambda_max
        self.method = method
        self.key = key
        self.dtype = dtype
        self.flow = check_flow(flow)

    def forward(self, data: Data) -> Data:
        ew = data.edge_weight if 'edge_weight' in data else None
        n = data.num_nodes
        dtype = self.dtype or (data.x.dtype if data.x is not None
                               and data.x.is_floating_point()
                               else torch.get_default_dtype())
        lam = self.lambda_max
        if lam == 'estimate':
            lam = estimate_lambda_max(data.edge_index, ew, n,
                                      self.normalization, method=self.method)
            lam = lam.to(dtype)
        op = laplacian_operator(data.edge_index, ew, n, self.normalization,
                                lam, dtype=dtype, flow=self.flow)
        data[self.key] = op
        value = op.meta['lambda_max']
        data.lambda_max = torch.tensor([value], dtype=dtype)
        return data

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(normalization='
                f'{self.normalization}, lambda_max={self.lambda_max})')


class GCNOperator(BaseTransform):
    r"""Precomputes GCN's :math:`\hat{\mathbf{D}}^{-1/2}\hat{\mathbf{A}}
    \hat{\mathbf{D}}^{-1/2}` of ``data`` into ``data[key]`` (arguments as
    the layer's; ``flow`` its message direction)."""

    def __init__(self, improved: bool = False, add_self_loops: bool = True,
                 normalize: bool = True, key: str = 'gcn_op',
                 dtype: Optional[torch.dtype] = None,
                 flow: str = 'source_to_target'):
        self.flow = check_flow(flow)
        self.improved = improved
        self.add_self_loops = add_self_loops
        self.normalize = normalize
        self.key = key
        self.dtype = dtype

    def forward(self, data: Data) -> Data:
        ew = data.edge_weight if 'edge_weight' in data else None
        dtype = self.dtype or (data.x.dtype if data.x is not None
                               and data.x.is_floating_point()
                               else torch.get_default_dtype())
        data[self.key] = gcn_operator(data.edge_index, ew, data.num_nodes,
                                      self.improved, self.add_self_loops,
                                      self.normalize, dtype, self.flow)
        return data

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(improved={self.improved}, '
                f'add_self_loops={self.add_self_loops})')


class LocalityOrder(BaseTransform):
    r"""Renumbers the nodes of ``data`` for memory locality (see
    :mod:`pyg_spectral.ops.ordering`): every node-level attribute is
    permuted and ``edge_index`` relabelled (``Data.subgraph`` with the
    permutation), and ``data[key]`` receives ``perm`` (``perm[new] = old``),
    so that a node-level result ``out`` in the caller's original order is
    ``out_orig[perm] = out`` (or ``out[inverse]`` with ``inverse =
    perm.argsort()``).

    Sparse products on a randomly numbered graph miss the cache on almost
    every neighbour read; after this transform they read nearby rows (see
    ``benchmarks/results/locality.md``).

    Args:
        method (str): ``'rcm'`` (reverse Cuthill-McKee, default) or
            ``'bfs'`` (breadth-first, cheaper).
        key (str): attribute that receives the permutation.
    """

    def __init__(self, method: str = 'rcm', key: str = 'locality_perm'):
        from .ops.ordering import METHODS
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS} "
                             f"(got {method!r})")
        self.method = method
        self.key = key

    def forward(self, data: Data) -> Data:
        from .ops.ordering import locality_order
        perm = locality_order(data.edge_index, data.num_nodes, self.method)
        out = data.subgraph(perm)  # node attributes in perm's order
        out[self.key] = perm
        return out

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(method={self.method!r})'
