import torch
from torch import Tensor
from torch.nn import Parameter

from ..ops.validation import check_int
from ._poly_conv import PolyConv


class JacobiConv(PolyConv):
    r"""The JacobiConv filter, from the `"How Powerful are Spectral Graph
    Neural Networks" <https://arxiv.org/abs/2205.11172>`_ paper (Wang &
    Zhang, ICML 2022)

    .. math::
        \mathbf{X}^{\prime}_{:,c} = \sum_{k=0}^{K} w_{k,c}
        \Big(\prod_{i<k} \alpha\tanh\eta_i\Big)\,
        P^{(a,b)}_k(\hat{\mathbf{A}})\,\mathbf{X}_{:,c}, \qquad
        \hat{\mathbf{A}} = \mathbf{D}^{-1/2}\mathbf{A}\mathbf{D}^{-1/2},

    one filter per channel: :math:`P^{(a,b)}_k` the Jacobi polynomials
    (standard normalization), :math:`w` ``[K+1, channels]`` (the authors'
    ``Combination`` weight, initialized to 1) and the scalings
    :math:`\eta_i` (their ``alphas``, initialized to
    :math:`\min(1/\alpha, 1)`) learnable. Defaults as the authors' code:
    ``K=10``, ``a=b=1.0``, ``alpha=1.0``. ``K`` is the polynomial order as
    in the paper (``K + 1`` terms). The authors' recurrence subtracts the
    :math:`a^2 - b^2` term where the standard one adds it; the two agree
    for their default ``a = b``.

    Per-channel coefficients run as one Clenshaw sum at width ``channels``
    on the package engine (``K`` sparse products forward and ``K``
    backward; the reference keeps ``K + 1`` propagated copies).

    Args:
        channels (int): Width of ``x`` (one filter per channel).
        K (int): Polynomial order (:math:`\geq 0`).
        a, b (float): Jacobi parameters (:math:`> -1`).
        alpha (float): The scale :math:`\alpha` of the :math:`\tanh`
            (:math:`> 0`).
        **kwargs: Arguments of :class:`~torch_geometric.nn.MessagePassing`.

    Shapes:
        ``x`` ``[*, N, channels]``, ``edge_index`` (as :class:`ChebConv`),
        ``edge_weight`` ``[E]`` -> ``[*, N, channels]``.

    Example:
        >>> import torch
        >>> from pyg_spectral.nn import JacobiConv
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> JacobiConv(5, K=10)(torch.randn(3, 5), edge_index).shape
        torch.Size([3, 5])
    """
    basis = 'jacobi'
    graph = 'adjacency'

    def __init__(self, channels: int, K: int = 10, a: float = 1.0,
                 b: float = 1.0, alpha: float = 1.0, **kwargs):
        check_int(channels, 'channels')
        if not (isinstance(alpha, (int, float)) and alpha > 0):
            raise ValueError(f"alpha must be a positive float (got "
                             f"{alpha!r})")
        super().__init__(K, channels, a, b, **kwargs)
        self.a, self.b, self.alpha = float(a), float(b), float(alpha)
        self.alphas = Parameter(torch.empty(K))
        self.comb_weight = Parameter(torch.empty(K + 1, channels))
        self.reset_parameters()

    def reset_parameters(self):
        super().reset_parameters()
        with torch.no_grad():
            self.alphas.fill_(min(1.0 / self.alpha, 1.0))
            self.comb_weight.fill_(1.0)

    def coefficients(self) -> Tensor:
        scale = self.alpha * torch.tanh(self.alphas)  # [K]
        prod = torch.cumprod(torch.cat([scale.new_ones(1), scale]), 0)
        return self.comb_weight * prod[:, None]  # [K+1, channels]

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.channels}, K={self.K}, '
                f'a={self.a}, b={self.b}, alpha={self.alpha})')
