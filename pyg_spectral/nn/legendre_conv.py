from typing import Optional

import torch
from torch import Tensor
from torch.nn import Parameter

from ._poly_conv import PolyConv


class LegendreConv(PolyConv):
    r"""The Legendre-basis filter of LegendreNet, from the `"Improved Modeling
    and Generalization Capabilities of Graph Neural Networks With Legendre
    Polynomials" <https://doi.org/10.1109/ACCESS.2023.3289002>`_ paper (Chen
    et al., IEEE Access 2023), also a JacobiConv basis (:math:`a = b = 0`)

    .. math::
        \mathbf{X}^{\prime} = \sum_{k=0}^{K} w_k P_k(\hat{\mathbf{A}})
        \mathbf{X}, \qquad (k+1) P_{k+1}(x) = (2k+1) x P_k(x) - k
        P_{k-1}(x),

    with :math:`\hat{\mathbf{A}} = \mathbf{D}^{-1/2}\mathbf{A}
    \mathbf{D}^{-1/2}` (``graph='adjacency'``, spectrum in
    :math:`[-1, 1]`, the Legendre polynomials' interval) and learnable
    :math:`w` (``temp``, initialized to 1): one filter, or one per channel
    with ``channels``. ``K`` is the polynomial order (``K + 1`` terms).

    Args:
        K (int): Polynomial order (:math:`\geq 0`; default 10).
        channels (int, optional): One filter per channel of this width.
        graph (str): ``'adjacency'`` (default), ``'gcn'`` or
            ``'laplacian'`` (:class:`PolyConv`).
        **kwargs: ``rho`` and the arguments of
            :class:`~torch_geometric.nn.MessagePassing`.

    Shapes:
        **input:** ``x`` ``[*, N, C]``, ``edge_index`` (as
        :class:`ChebConv`), ``edge_weight`` ``[E]``;
        **output:** ``[*, N, C]``.

    Example:
        >>> import torch
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> from pyg_spectral.nn import LegendreConv
        >>> LegendreConv(K=10, channels=5)(torch.randn(3, 5), edge_index).shape
        torch.Size([3, 5])
    """
    basis = 'legendre'
    graph = 'adjacency'

    def __init__(self, K: int = 10, channels: Optional[int] = None,
                 **kwargs):
        super().__init__(K, channels, **kwargs)
        shape = (K + 1, ) if channels is None else (K + 1, channels)
        self.temp = Parameter(torch.empty(shape))
        self.reset_parameters()

    def reset_parameters(self):
        super().reset_parameters()
        with torch.no_grad():
            self.temp.fill_(1.0)

    def coefficients(self) -> Tensor:
        return self.temp

    def __repr__(self) -> str:
        ch = '' if self.channels is None else f', channels={self.channels}'
        return f'{self.__class__.__name__}(K={self.K}{ch}, graph={self.graph})'
