import torch
from torch import Tensor
from torch.nn import Parameter

from ._poly_conv import PolyConv


class ChebBaseConv(PolyConv):
    r"""ChebBase, the plain learnable Chebyshev filter that ChebNetII
    compares against, from the `"Convolutional Neural Networks on Graphs
    with Chebyshev Approximation, Revisited"
    <https://arxiv.org/abs/2202.03580>`_ paper (He, Wei, Wen, NeurIPS 2022,
    Sec. 3.2)

    .. math::
        \mathbf{X}^{\prime} = \sum_{k=0}^{K} \frac{w_k}{\max(k, 1)^{\alpha}}
        T_k(\hat{\mathbf{L}})\,\mathbf{X}, \qquad \hat{\mathbf{L}} =
        \mathbf{L} - \mathbf{I},

    learnable :math:`w` (``theta``, initialized to :math:`w_0 = 1`, the rest
    0: the identity) with the paper's :math:`k^{-\alpha}` decay of the
    higher orders (``alpha = 0``: no decay). ``K`` is the polynomial order
    (``K + 1`` terms).

    Args:
        K (int): Polynomial order (:math:`\geq 0`; default 10).
        alpha (float): The decay exponent :math:`\alpha \geq 0`.
        **kwargs: ``graph`` and the arguments of
            :class:`~torch_geometric.nn.MessagePassing`.

    Shapes:
        **input:** ``x`` ``[*, N, C]``, ``edge_index`` (as
        :class:`ChebConv`), ``edge_weight`` ``[E]``;
        **output:** ``[*, N, C]``.

    Example:
        >>> import torch
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> from pyg_spectral.nn import ChebBaseConv
        >>> ChebBaseConv(K=10, alpha=1.0)(torch.randn(3, 5), edge_index).shape
        torch.Size([3, 5])
    """
    basis = 'chebyshev'
    graph = 'laplacian'

    def __init__(self, K: int = 10, alpha: float = 0.0, **kwargs):
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) \
                or alpha < 0:
            raise ValueError(f"alpha must be a float >= 0 (got {alpha!r})")
        super().__init__(K, **kwargs)
        self.alpha = float(alpha)
        self.theta = Parameter(torch.empty(K + 1))
        k = torch.arange(K + 1, dtype=torch.float64).clamp(min=1)
        self.register_constant('decay', k ** -self.alpha)  # [K+1]
        self.reset_parameters()

    def reset_parameters(self):
        super().reset_parameters()
        with torch.no_grad():
            self.theta.zero_()
            self.theta[0] = 1.0

    def coefficients(self) -> Tensor:
        return self.theta * self.decay

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(K={self.K}, alpha={self.alpha})'
