from typing import Optional

from torch import Tensor
from torch_geometric.nn.dense.linear import Linear
from torch_geometric.typing import Adj, OptTensor

from ..ops.schemes import scheme_coefficients
from ..ops.validation import check_int
from ._poly_conv import PolyConv


class SGConv(PolyConv):
    r"""The simple graph convolution, from the `"Simplifying Graph
    Convolutional Networks" <https://arxiv.org/abs/1902.07153>`_ paper (Wu
    et al., ICML 2019): a drop-in for :class:`torch_geometric.nn.SGConv`
    (same arguments, parameters, caching and outputs)

    .. math::
        \mathbf{X}^{\prime} = \left(\hat{\mathbf{D}}^{-1/2}\hat{\mathbf{A}}
        \hat{\mathbf{D}}^{-1/2}\right)^K \mathbf{X}\boldsymbol{\Theta}.

    The ``K`` propagations run on the package engine (one call, ``K``
    sparse products forward and backward). With ``cached=True`` the
    propagated features are kept after the first call and reused (PyG's
    transductive caching: later inputs are not propagated again).

    Args:
        in_channels (int): Input width (``-1``: lazy).
        out_channels (int): Output width.
        K (int): Number of hops (default 1).
        cached (bool): Cache :math:`\hat{\mathbf{A}}^K\mathbf{X}`.
        add_self_loops (bool): Add self-loops before normalizing.
        bias (bool): Learn an additive bias.
        **kwargs: Arguments of :class:`~torch_geometric.nn.MessagePassing`.

    Shapes:
        **input:** ``x`` ``[N, in_channels]``, ``edge_index`` (as
        :class:`ChebConv`), ``edge_weight`` ``[E]``;
        **output:** ``[N, out_channels]``.

    Example:
        >>> import torch
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> from pyg_spectral.nn import SGConv
        >>> SGConv(5, 2, K=2)(torch.randn(3, 5), edge_index).shape
        torch.Size([3, 2])
    """
    basis = 'monomial'
    graph = 'gcn'

    def __init__(self, in_channels: int, out_channels: int, K: int = 1,
                 cached: bool = False, add_self_loops: bool = True,
                 bias: bool = True, **kwargs):
        check_int(K, 'K')
        super().__init__(K, graph='gcn' if add_self_loops else 'adjacency',
                         **kwargs)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.cached, self.add_self_loops = cached, add_self_loops
        self._cached_x: Optional[Tensor] = None
        self.lin = Linear(in_channels, out_channels, bias=bias)
        self.register_constant('theta', self.hop_weights())
        self.reset_parameters()

    def hop_weights(self) -> Tensor:
        """The fixed ``[K+1]`` monomial coefficients (float64): the
        ``'impulse'`` scheme."""
        return scheme_coefficients('impulse', self.K, 1.0)

    def reset_parameters(self):
        super().reset_parameters()
        self.lin.reset_parameters()
        self._cached_x = None

    def coefficients(self) -> Tensor:
        return self.theta

    def forward(self, x: Tensor, edge_index: Adj,
                edge_weight: OptTensor = None) -> Tensor:
        cache = self._cached_x
        if cache is None:
            h = super().forward(x, edge_index, edge_weight)
            if self.cached:
                self._cached_x = h
        else:
            h = cache.detach()
        return self.lin(h)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.in_channels}, '
                f'{self.out_channels}, K={self.K})')
