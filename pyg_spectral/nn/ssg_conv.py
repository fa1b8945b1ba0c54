from torch import Tensor

from ..ops.schemes import scheme_coefficients
from ..ops.validation import check_probability
from .sg_conv import SGConv


class SSGConv(SGConv):
    r"""The simple spectral graph convolution (S²GC), from the `"Simple
    Spectral Graph Convolution" <https://openreview.net/forum?id=CYO5T-YjWZV>`_
    paper (Zhu & Koniusz, ICLR 2021): a drop-in for
    :class:`torch_geometric.nn.SSGConv`

    .. math::
        \mathbf{X}^{\prime} = \frac{1}{K} \sum_{k=1}^{K}\left((1-\alpha)
        \hat{\mathbf{A}}^k \mathbf{X} + \alpha \mathbf{X}\right)
        \boldsymbol{\Theta}.

    The ``K`` hops run on the package engine (Horner's rule, one call).
    ``cached=True`` keeps the propagated sum (as PyG).

    Args:
        in_channels (int): Input width (``-1``: lazy).
        out_channels (int): Output width.
        alpha (float): Teleport weight :math:`\alpha \in [0, 1]`.
        K (int): Number of hops (default 1).
        cached (bool): Cache the propagated sum (as :class:`SGConv`).
        add_self_loops (bool): Add self-loops before normalizing.
        bias (bool): Learn an additive bias.
        **kwargs: Arguments of :class:`~torch_geometric.nn.MessagePassing`.

    Shapes:
        **input:** ``x`` ``[N, in_channels]``, ``edge_index``,
        ``edge_weight`` ``[E]``; **output:** ``[N, out_channels]``.

    Example:
        >>> import torch
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> from pyg_spectral.nn import SSGConv
        >>> SSGConv(5, 2, alpha=0.1, K=4)(torch.randn(3, 5), edge_index).shape
        torch.Size([3, 2])
    """

    def __init__(self, in_channels: int, out_channels: int, alpha: float,
                 K: int = 1, cached: bool = False,
                 add_self_loops: bool = True, bias: bool = True, **kwargs):
        self.alpha = check_probability(alpha, 'alpha', closed=True)
        super().__init__(in_channels, out_channels, K, cached,
                         add_self_loops, bias, **kwargs)

    def hop_weights(self) -> Tensor:
        return scheme_coefficients('mono', self.K, self.alpha)  # S²GC's

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.in_channels}, '
                f'{self.out_channels}, K={self.K}, alpha={self.alpha})')
