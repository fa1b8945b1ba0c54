import torch
from torch import Tensor
from torch.nn import Parameter

from ..ops.validation import check_int
from .response_conv import ResponseConv


class AdaConv(ResponseConv):
    r"""AdaGNN's filter, from the `"AdaGNN: Graph Neural Networks with
    Adaptive Frequency Response Filter" <https://arxiv.org/abs/2104.12840>`_
    paper (Dong et al., CIKM 2021): ``K`` learnable per-channel steps

    .. math::
        \mathbf{X}^{\prime} = \mathbf{X}^{(K)}, \qquad \mathbf{X}^{(k)} =
        \mathbf{X}^{(k-1)} - \mathbf{L}\,\mathbf{X}^{(k-1)}
        \operatorname{diag}(\boldsymbol{\phi}_k),

    i.e. channel :math:`c` filtered by :math:`h_c(\lambda) = \prod_{k=1}^{K}
    (1 - \phi_{k,c}\lambda)` on the spectrum of :math:`\mathbf{L} =
    \mathbf{I} - \mathbf{D}^{-1/2}\mathbf{A}\mathbf{D}^{-1/2}` (the layer
    runs on :math:`\mathbf{L} - \mathbf{I}`, so :math:`\lambda = t + 1`).
    :math:`\boldsymbol{\phi}` ``[K, channels]`` (``phi``) starts at 0, the
    identity. The product is expanded on the Chebyshev nodes
    (:class:`ResponseConv`): ``K`` sparse products per pass, as the
    product form, without keeping its ``K`` intermediate signals.

    Args:
        channels (int): Width of ``x``.
        K (int): Number of steps (polynomial order; default 10).
        **kwargs: Arguments of :class:`~torch_geometric.nn.MessagePassing`.

    Shapes:
        **input:** ``x`` ``[*, N, channels]``, ``edge_index`` (as
        :class:`ChebConv`), ``edge_weight`` ``[E]``;
        **output:** ``[*, N, channels]``.

    Example:
        >>> import torch
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> from pyg_spectral.nn import AdaConv
        >>> AdaConv(5, K=4)(torch.randn(3, 5), edge_index).shape
        torch.Size([3, 5])
    """
    graph = 'laplacian'

    def __init__(self, channels: int, K: int = 10, **kwargs):
        check_int(channels, 'channels')
        if kwargs.get('graph', 'laplacian') != 'laplacian':
            raise ValueError("AdaConv filters the Laplacian's spectrum: "
                             "graph must be 'laplacian'")
        super().__init__(K, channels, **kwargs)
        self.phi = Parameter(torch.empty(K, channels))
        self.reset_parameters()

    def reset_parameters(self):
        super().reset_parameters()
        with torch.no_grad():
            self.phi.zero_()

    def values(self, t: Tensor) -> Tensor:
        lam = (t + 1).unsqueeze(1)  # eigenvalues of L, [M] -> [M, 1]
        out = torch.ones(t.size(0), self.channels, dtype=t.dtype,
                         device=t.device)
        for k in range(self.K):
            out = out * (1 - self.phi[k] * lam)
        return out  # [M, C]

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.channels}, K={self.K})'
