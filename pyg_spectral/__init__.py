"""Spectral graph convolutions for PyTorch Geometric on one O(K|E|) sparse
engine."""
from . import graph, nn, ops, transforms

__version__ = '0.1.0'
__all__ = ['graph', 'nn', 'ops', 'transforms', '__version__']
