"""Pure tensor functions: normalization, the sparse operator, Chebyshev
recurrences, and the custom ops (``torch.ops.pyg_spectral.*``) they run
on. Nothing here is an ``nn.Module`` or imports ``pyg_spectral.nn``.
"""
from . import traced_operator  # noqa: F401 (registers the custom ops)
from .adjacency import to_edge_index
from .backends import get_backend, set_backend, use_backend
from .cache import cache_info, cached, clear_cache, set_cache_size
from .bases import Recurrence, recurrence
from .chebyshev import (cheb_basis, cheb_filter, cheb_terms, choose_order,
                        clenshaw, poly_filter)
from .lambda_max import estimate_lambda_max
from .normalize import default_lambda_max, gcn_operator, laplacian_operator
from .operator import SparseOperator, spmm

__all__ = [
    'SparseOperator',
    'laplacian_operator',
    'gcn_operator',
    'default_lambda_max',
    'estimate_lambda_max',
    'to_edge_index',
    'cheb_basis',
    'clenshaw',
    'cheb_filter',
    'cheb_terms',
    'poly_filter',
    'recurrence',
    'Recurrence',
    'choose_order',
    'spmm',
    'set_backend',
    'get_backend',
    'use_backend',
    'cached',
    'clear_cache',
    'set_cache_size',
    'cache_info',
]
