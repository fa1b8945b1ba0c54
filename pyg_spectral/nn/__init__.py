from ._checks import set_finite_checks
from .bern_conv import BernConv
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
