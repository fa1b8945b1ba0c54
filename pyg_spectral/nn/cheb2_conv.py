import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Parameter

from ..ops.bases import chebyshev_interpolation, chebyshev_nodes
from ._poly_conv import PolyConv


class ChebIIConv(PolyConv):
    r"""The ChebNetII propagation, from the `"Convolutional Neural Networks
    on Graphs with Chebyshev Approximation, Revisited"
    <https://arxiv.org/abs/2202.03580>`_ paper (He, Wei, Wen, NeurIPS 2022)

    .. math::
        \mathbf{X}^{\prime} = \frac{2}{K+1} \sum_{k=0}^{K}{}^{'}
        \sum_{j=0}^{K} \mathrm{ReLU}(\gamma_j)\, T_k(x_j)\,
        T_k(\hat{\mathbf{L}})\,\mathbf{X}, \qquad \hat{\mathbf{L}} =
        \mathbf{L} - \mathbf{I} = -\mathbf{D}^{-1/2}\mathbf{A}
        \mathbf{D}^{-1/2},

    the Chebyshev interpolant of the learnable filter values
    :math:`\mathrm{ReLU}(\gamma_j)` at the Chebyshev nodes :math:`x_j =
    \cos\frac{(K - j + 1/2)\pi}{K+1}` (the primed sum halves the
    :math:`k = 0` term). ``temp`` (:math:`\gamma`, named as in the authors'
    code) starts at 1, an all-pass filter; ``init='square'`` starts at
    :math:`x_j^2` (the authors' ``Init=True``). ``K`` is the polynomial
    order as in the paper (``K + 1`` terms; default 10).

    One Chebyshev filter with scalar coefficients on the package engine
    (Clenshaw's sum, as :class:`ChebConv`).

    Args:
        K (int): Polynomial order (:math:`\geq 0`).
        init (str): ``'ones'`` (default) or ``'square'``.
        **kwargs: Arguments of :class:`~torch_geometric.nn.MessagePassing`.

    Shapes:
        ``x`` ``[*, N, C]``, ``edge_index`` (as :class:`ChebConv`),
        ``edge_weight`` ``[E]`` -> ``[*, N, C]``.

    Example:
        >>> import torch
        >>> from pyg_spectral.nn import ChebIIConv
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> ChebIIConv(K=10)(torch.randn(3, 5), edge_index).shape
        torch.Size([3, 5])
    """
    basis = 'chebyshev'
    graph = 'laplacian'

    def __init__(self, K: int = 10, init: str = 'ones', **kwargs):
        super().__init__(K, **kwargs)
        if init not in ('ones', 'square'):
            raise ValueError(f"init must be 'ones' or 'square' (got "
                             f"{init!r})")
        self.init = init
        self.temp = Parameter(torch.empty(K + 1))
        # values at the nodes -> Chebyshev coefficients, [K+1, K+1]
        self.register_constant('interp', chebyshev_interpolation(K))
        self.reset_parameters()

    def reset_parameters(self):
        super().reset_parameters()
        with torch.no_grad():
            if self.init == 'square':
                self.temp.copy_(chebyshev_nodes(self.K) ** 2)
            else:
                self.temp.fill_(1.0)

    def coefficients(self) -> Tensor:
        return F.relu(self.temp) @ self.interp

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(K={self.K})'
