import torch
from torch import Tensor
from torch.nn import Parameter

from ..ops.validation import check_int
from .response_conv import ResponseConv


class FavardConv(ResponseConv):
    r"""FavardGNN's filter, from the `"Graph Neural Networks with Learnable
    and Optimal Polynomial Bases" <https://arxiv.org/abs/2302.12432>`_
    paper (Guo & Wei, ICML 2023): a basis learned through its three-term
    recurrence (Favard's theorem: any such recurrence with positive
    :math:`\beta` is orthonormal for some weight), one per channel,

    .. math::
        \sqrt{\beta_{k+1}}\, p_{k+1}(x) = (x - \gamma_k)\, p_k(x) -
        \sqrt{\beta_k}\, p_{k-1}(x), \quad p_{-1} = 0,\ p_0 =
        1/\sqrt{\beta_0}, \qquad \mathbf{X}^{\prime}_{:,c} =
        \sum_{k=0}^{K} w_{k,c}\, p_{k,c}(\hat{\mathbf{A}})\,
        \mathbf{X}_{:,c},

    decoupled form, :math:`\hat{\mathbf{A}}` GCN's operator. Learnable:
    :math:`\gamma` ``[K, channels]`` (initialized 0), :math:`\sqrt{\beta}`
    ``[K+1, channels]`` (initialized 1, clamped to at least 0.01 as the
    authors do, so the recurrence stays defined) and :math:`w`
    ``[K+1, channels]`` (initialized :math:`w_0 = 1`, the rest 0). The
    learned recurrence is evaluated on the Chebyshev nodes
    (:class:`ResponseConv`): ``K`` sparse products per pass, one engine call
    at width ``channels``.

    Args:
        channels (int): Width of ``x`` (one basis per channel).
        K (int): Polynomial order (default 10).
        **kwargs: ``graph``, ``rho`` and the arguments of
            :class:`~torch_geometric.nn.MessagePassing`.

    Shapes:
        **input:** ``x`` ``[*, N, channels]``, ``edge_index`` (as
        :class:`ChebConv`), ``edge_weight`` ``[E]``;
        **output:** ``[*, N, channels]``.

    Example:
        >>> import torch
        >>> from pyg_spectral.nn import FavardConv
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> conv = FavardConv(5, K=10)
        >>> conv(torch.randn(3, 5), edge_index).shape
        torch.Size([3, 5])
        >>> conv.response(torch.linspace(-1, 1, 7)).shape  # one per channel
        torch.Size([7, 5])
    """
    graph = 'gcn'

    def __init__(self, channels: int, K: int = 10, **kwargs):
        check_int(channels, 'channels')
        super().__init__(K, channels, **kwargs)
        self.gammas = Parameter(torch.empty(max(K, 1), channels))
        self.sqrt_betas = Parameter(torch.empty(K + 1, channels))
        self.comb_weight = Parameter(torch.empty(K + 1, channels))
        self.reset_parameters()

    def reset_parameters(self):
        super().reset_parameters()
        with torch.no_grad():
            self.gammas.zero_()
            self.sqrt_betas.fill_(1.0)
            self.comb_weight.zero_()
            self.comb_weight[0] = 1.0

    def values(self, t: Tensor) -> Tensor:
        sb = self.sqrt_betas.clamp(min=0.01)  # [K+1, C]
        t = t.unsqueeze(1)  # [M] -> [M, 1]
        p_prev = torch.zeros_like(t)
        p = (1.0 / sb[0]).expand(t.size(0), -1)  # [M, C]
        out = self.comb_weight[0] * p
        for k in range(self.K):
            p_prev, p = p, ((t - self.gammas[k]) * p - sb[k] * p_prev) / \
                sb[k + 1]
            out = out + self.comb_weight[k + 1] * p
        return out  # [M, C]

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.channels}, K={self.K})'
