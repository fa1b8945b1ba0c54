"""The filters by name: :data:`FILTERS` maps a name to its class and
:func:`build_filter` builds one from its name and hyper-parameters (what
``python -m pyg_spectral reproduce polynomial --models`` accepts)."""
from typing import Dict, Type

import torch

from .ada_conv import AdaConv
from .appnp import APPNP
from .bern_conv import BernConv
from .cheb2_conv import ChebIIConv
from .cheb_base_conv import ChebBaseConv
from .clenshaw_gnn import ClenshawConv, HornerConv
from .favard_conv import FavardConv
from .fixed_conv import FixedConv, HeatKernelConv, PPRConv
from .gpr_conv import GPRConv
from .jacobi_conv import JacobiConv
from .legendre_conv import LegendreConv
from .opt_basis_conv import OptBasisConv
from .sg_conv import SGConv
from .shift_conv import ShiftConv
from .ssg_conv import SSGConv

#: name -> filter class (the names of the benchmark of Liao et al. 2024 and
#: of the papers' own code, lower case)
FILTERS: Dict[str, Type[torch.nn.Module]] = {
    'gprgnn': GPRConv,
    'bernnet': BernConv,
    'chebnetii': ChebIIConv,
    'chebbase': ChebBaseConv,
    'jacobiconv': JacobiConv,
    'legendrenet': LegendreConv,
    'hornergcn': HornerConv,
    'clenshawgcn': ClenshawConv,
    'favardgnn': FavardConv,
    'optbasisgnn': OptBasisConv,
    'adagnn': AdaConv,
    'fixed': FixedConv,
    'heat_kernel': HeatKernelConv,
    'ppr': PPRConv,
    'fagcn': ShiftConv,
    'sgc': SGConv,
    's2gc': SSGConv,
    'appnp': APPNP,
}


def build_filter(name: str, **kwargs) -> torch.nn.Module:
    """``FILTERS[name](**kwargs)``; ``name`` in any case, ``-`` or ``_``
    ignored (``'GPR-GNN'`` is ``'gprgnn'``)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str (got {type(name).__name__})")
    key = name.lower().replace('-', '')
    if key not in FILTERS:
        key = key.replace('_', '')
        key = {k.replace('_', ''): k for k in FILTERS}.get(key, key)
    if key not in FILTERS:
        raise ValueError(f"unknown filter {name!r}; one of "
                         f"{sorted(FILTERS)}")
    return FILTERS[key](**kwargs)
