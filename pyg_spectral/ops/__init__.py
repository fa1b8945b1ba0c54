"""Pure tensor functions: normalization, the sparse operator, Chebyshev
recurrences. Nothing here is an ``nn.Module`` or imports ``pyg_spectral.nn``.
"""
from .adjacency import to_edge_index
from .backends import get_backend, set_backend, spmm, use_backend
from .cache import cache_info, cached, clear_cache, set_cache_size
from .chebyshev import ChebFilter, cheb_basis, cheb_filter, clenshaw
from .lambda_max import estimate_lambda_max
from .normalize import default_lambda_max, gcn_operator, laplacian_operator
from .operator import SparseOperator

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
    'ChebFilter',
    'spmm',
    'set_backend',
    'get_backend',
    'use_backend',
    'cached',
    'clear_cache',
    'set_cache_size',
    'cache_info',
]
