"""Spectral graph convolutions for PyTorch Geometric on one O(K|E|) sparse
engine."""
from . import nn, ops, transforms

__version__ = '0.1.0'
__all__ = ['nn', 'ops', 'transforms', '__version__']
