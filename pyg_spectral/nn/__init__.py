from .cheb_conv import ChebConv
from .gcn_conv import GCNConv

__all__ = ['ChebConv', 'GCNConv']
