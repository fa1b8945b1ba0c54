from ._checks import set_finite_checks
from .ada_conv import AdaConv
from .appnp import APPNP
from .bern_conv import BernConv
from .cheb_base_conv import ChebBaseConv
from .clenshaw_gnn import ClenshawConv, HornerConv
from .favard_conv import FavardConv
from .filter_bank import FilterBank
from .fixed_conv import FixedConv, HeatKernelConv, PPRConv
from .legendre_conv import LegendreConv
from .opt_basis_conv import OptBasisConv
from .registry import FILTERS, build_filter
from .response_conv import ResponseConv
from .sg_conv import SGConv
from .shift_conv import ShiftConv
from .ssg_conv import SSGConv
from .cheb2_conv import ChebIIConv
from .cheb_conv import ChebConv
from ._poly_conv import PolyConv
from .decoupled import Decoupled
from .gcn_conv import GCNConv
from .gpr_conv import GPRConv
from .graph_pool import GraphPool
from .jacobi_conv import JacobiConv
from .spatial_graph_conv import SpatialGraphConv
from .spectral_conv import SpectralConv
from .stconv import STConv
from .stgcn import AUTHORS_BLOCKS, PAPER_BLOCKS, STGCN, OutputLayer
from .temporal_conv import Align, TemporalConv

__all__ = [
    'ChebConv',
    'GCNConv',
    'GPRConv',
    'BernConv',
    'ChebIIConv',
    'JacobiConv',
    'PolyConv',
    'ResponseConv',
    'ChebBaseConv',
    'LegendreConv',
    'HornerConv',
    'ClenshawConv',
    'FavardConv',
    'OptBasisConv',
    'AdaConv',
    'FixedConv',
    'HeatKernelConv',
    'PPRConv',
    'ShiftConv',
    'SGConv',
    'SSGConv',
    'APPNP',
    'FilterBank',
    'FILTERS',
    'build_filter',
    'Decoupled',
    'SpectralConv',
    'GraphPool',
    'TemporalConv',
    'Align',
    'SpatialGraphConv',
    'STConv',
    'STGCN',
    'OutputLayer',
    'AUTHORS_BLOCKS',
    'PAPER_BLOCKS',
    'set_finite_checks',
]
