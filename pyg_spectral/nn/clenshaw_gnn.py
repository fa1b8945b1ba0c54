r"""HornerGCN and ClenshawGCN, from the `"Clenshaw Graph Neural Networks"
<https://arxiv.org/abs/2210.16508>`_ paper (Guo & Wei, KDD 2023), in their
decoupled form (a scalar per hop in place of the per-hop weight matrix).

Both add the input back at every hop (an explicit residual :math:`\beta_k
\mathbf{X}`) and gate each hop with :math:`g_k = a_k + (1 - a_k)\theta_k`,
:math:`a_k = \min(\log(\alpha/(k+1) + 1), 1)` (``alpha=None``:
:math:`a_k = 1/2`), as the benchmark of Liao et al. (2024) writes them:

* Horner: :math:`\mathbf{U}_0 = g_0\beta_0\mathbf{X}`,
  :math:`\mathbf{U}_k = g_k(\mathbf{S}\mathbf{U}_{k-1} + \beta_k\mathbf{X})`;
* Clenshaw: :math:`\mathbf{U}_{-1} = 0`, :math:`\mathbf{U}_0 =
  g_0\beta_0\mathbf{X}`, :math:`\mathbf{U}_k = g_k(2\mathbf{S}
  \mathbf{U}_{k-1} - \mathbf{U}_{k-2} + \beta_k\mathbf{X})`;

output :math:`\mathbf{U}_K`, :math:`\mathbf{S} = \hat{\mathbf{A}}` (GCN's
operator). :math:`\beta` starts at :math:`\beta_K = 1`, the rest 0, and
:math:`\theta` at 1: the identity. Horner's sum is expanded in closed form
(monomial coefficients, a suffix product of the gates); Clenshaw's
recurrence is evaluated on the Chebyshev nodes (:class:`ResponseConv`).
Either way a forward pass costs ``K`` sparse products in one engine call
(the per-hop forms run the same ``K``, keeping every hop for backward).
"""
import math
from typing import Optional

import torch
from torch import Tensor
from torch.nn import Parameter

from .response_conv import ResponseConv


class HornerConv(ResponseConv):
    r"""HornerGCN's filter (module docstring):
    :math:`\mathbf{U}_k = g_k(\hat{\mathbf{A}}\mathbf{U}_{k-1} +
    \beta_k\mathbf{X})`, output :math:`\mathbf{U}_K`.

    Args:
        K (int): Number of hops (polynomial order; default 10).
        alpha (float, optional): The gates' strength (``None``: 1/2 each).
        **kwargs: ``graph``, ``rho`` and the arguments of
            :class:`~torch_geometric.nn.MessagePassing`.

    Shapes:
        **input:** ``x`` ``[*, N, C]``, ``edge_index`` (as
        :class:`ChebConv`), ``edge_weight`` ``[E]``;
        **output:** ``[*, N, C]``.

    Example:
        >>> import torch
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> from pyg_spectral.nn import HornerConv
        >>> conv = HornerConv(K=10)  # the identity at initialization
        >>> x = torch.randn(3, 5)
        >>> torch.allclose(conv(x, edge_index), x, atol=1e-6)
        True
    """
    basis = 'monomial'
    graph = 'gcn'

    def __init__(self, K: int = 10, alpha: Optional[float] = None,
                 **kwargs):
        if alpha is not None and (isinstance(alpha, bool) or
                                  not isinstance(alpha, (int, float)) or
                                  alpha <= 0):
            raise ValueError(f"alpha must be a positive float or None "
                             f"(got {alpha!r})")
        super().__init__(K, **kwargs)
        self.alpha = None if alpha is None else float(alpha)
        a = [0.5 if alpha is None else min(math.log(alpha / (k + 1) + 1), 1.0)
             for k in range(K + 1)]
        self.register_constant('gate_base',
                               torch.tensor(a, dtype=torch.float64))
        self.beta = Parameter(torch.empty(K + 1))
        self.theta = Parameter(torch.empty(K + 1))
        self.reset_parameters()

    def reset_parameters(self):
        super().reset_parameters()
        with torch.no_grad():
            self.beta.zero_()
            self.beta[-1] = 1.0
            self.theta.fill_(1.0)

    def gates(self) -> Tensor:
        """:math:`g_k = a_k + (1 - a_k)\\theta_k`, ``[K+1]``."""
        return self.gate_base + (1 - self.gate_base) * self.theta

    def coefficients(self) -> Tensor:
        """Horner's sum expanded in the monomial basis, without a loop:
        :math:`c_{K-k} = \\beta_k \\prod_{j \\geq k} g_j` (a suffix
        product of the gates)."""
        suffix = torch.flip(torch.cumprod(torch.flip(self.gates(), [0]), 0),
                            [0])  # [K+1]: prod_{j >= k} g_j
        return torch.flip(self.beta * suffix, [0])  # [K+1], power K - k

    def _step(self, t: Tensor, u1: Tensor, u2: Tensor) -> Tensor:
        return t * u1  # Horner: S U_{k-1}

    def values(self, t: Tensor) -> Tensor:
        g, beta = self.gates(), self.beta
        u2, u1 = torch.zeros_like(t), g[0] * beta[0] * torch.ones_like(t)
        for k in range(1, self.K + 1):
            u2, u1 = u1, g[k] * (self._step(t, u1, u2) + beta[k])
        return u1

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(K={self.K}, alpha={self.alpha})'


class ClenshawConv(HornerConv):
    r"""ClenshawGCN's filter (module docstring):
    :math:`\mathbf{U}_k = g_k(2\hat{\mathbf{A}}\mathbf{U}_{k-1} -
    \mathbf{U}_{k-2} + \beta_k\mathbf{X})`, output :math:`\mathbf{U}_K` (a
    sum in the Chebyshev polynomials of the second kind).

    Args:
        K (int): Number of hops (polynomial order; default 10).
        alpha (float, optional): The gates' strength (``None``: 1/2 each).
        **kwargs: ``graph``, ``rho`` and the arguments of
            :class:`~torch_geometric.nn.MessagePassing`.

    Shapes:
        **input:** ``x`` ``[*, N, C]``, ``edge_index`` (as
        :class:`ChebConv`), ``edge_weight`` ``[E]``;
        **output:** ``[*, N, C]``.

    Example:
        >>> import torch
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> from pyg_spectral.nn import ClenshawConv
        >>> ClenshawConv(K=10)(torch.randn(3, 5), edge_index).shape
        torch.Size([3, 5])
    """

    basis = 'chebyshev'
    #: the recurrence evaluated at the Chebyshev nodes (no closed form)
    coefficients = ResponseConv.coefficients

    def _step(self, t: Tensor, u1: Tensor, u2: Tensor) -> Tensor:
        return 2 * t * u1 - u2  # 2 S U_{k-1} - U_{k-2}
