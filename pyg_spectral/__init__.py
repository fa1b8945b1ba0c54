"""Spectral graph convolutions for PyTorch Geometric on one O(K|E|) sparse
engine."""
from . import graph, nn, ops, transforms
from ._patch import Patch, patch

__version__ = '0.1.0'
__all__ = ['graph', 'nn', 'ops', 'transforms', 'patch', 'Patch',
           '__version__']
