r"""The base of the filters given by their response: a layer whose
:math:`\mathbf{X}' = h(\mathbf{S})\mathbf{X}` is a degree-``K`` polynomial
:math:`h` in the operator, written as a differentiable function of the
layer's parameters (Horner / Clenshaw forms, products, learned
recurrences, heat kernels), not as a sum over a fixed basis.

:math:`h` is evaluated at the ``K + 1`` Chebyshev nodes :math:`x_j` (with
autograd through the parameters) and the values become the exact Chebyshev
coefficients of the same polynomial by a discrete cosine transform
(:func:`~pyg_spectral.ops.bases.chebyshev_interpolation`): one engine call
(Clenshaw's sum, ``K`` sparse products forward and ``K`` backward) whatever
the form, instead of the per-hop products of the form itself. Exact because
a degree-``K`` polynomial is determined by ``K + 1`` values; well
conditioned on :math:`[-1, 1]`, where the spectra of the package's
operators lie.

A subclass defines :meth:`ResponseConv.values`: ``t`` ``[M]`` ->
``[M]`` (one filter) or ``[M, channels]`` (one per channel).
"""
from __future__ import annotations

from torch import Tensor

from ..ops.bases import chebyshev_interpolation, chebyshev_nodes
from ._poly_conv import PolyConv


class ResponseConv(PolyConv):
    """Base class; see the module docstring."""

    basis = 'chebyshev'

    def __init__(self, K: int, channels=None, **kwargs):
        super().__init__(K, channels, **kwargs)
        # the nodes x_j [K+1] and values -> coefficients [K+1 nodes, K+1]
        self.register_constant('nodes', chebyshev_nodes(K))
        self.register_constant('interp', chebyshev_interpolation(K))

    def values(self, t: Tensor) -> Tensor:
        """:math:`h(t)` at points ``t`` ``[M]`` of the operator's spectrum:
        ``[M]`` or ``[M, channels]``, differentiable in the parameters."""
        raise NotImplementedError

    def coefficients(self) -> Tensor:
        v = self.values(self.nodes)  # [K+1] or [K+1, C]
        if v.dim() == 1:
            return v @ self.interp  # [K+1 terms]
        return self.interp.t() @ v  # [K+1 terms, C]
