from typing import Optional

from torch import Tensor

from ..ops.schemes import default_param, scheme_coefficients
from ..ops.validation import check_probability
from ._poly_conv import PolyConv


class FixedConv(PolyConv):
    r"""A fixed (not learned) polynomial filter given by a scheme, the
    propagation of the decoupled models that fix their hop weights:

    .. math::
        \mathbf{X}^{\prime} = \sum_{k=0}^{K} \theta_k \mathbf{S}^k
        \mathbf{X},

    :math:`\theta` from :func:`~pyg_spectral.ops.schemes.scheme_coefficients`
    (``'impulse'``: SGC; ``'mono'``: S²GC; ``'appr'``: APPNP / PPR;
    ``'hk'``: the heat kernel of GDC / DGC / AGP; ``'gaussian'``,
    ``'ones'``, ``'inverse'``, ``'nappr'``, ``'chebyshev'``) on GCN's
    operator :math:`\hat{\mathbf{A}}` (or ``graph``). Horner's rule on the
    package engine: ``K`` sparse products forward and backward, no term
    kept.

    Args:
        K (int): Polynomial order (default 10).
        scheme (str): The scheme (default ``'appr'``).
        param (float, optional): Its parameter (``None``: the scheme's
            default, :func:`~pyg_spectral.ops.schemes.default_param`).
        **kwargs: ``graph``, ``rho`` and the arguments of
            :class:`~torch_geometric.nn.MessagePassing`.

    Shapes:
        **input:** ``x`` ``[*, N, C]``, ``edge_index`` (as
        :class:`ChebConv`), ``edge_weight`` ``[E]``;
        **output:** ``[*, N, C]``.

    Example:
        >>> import torch
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> from pyg_spectral.nn import FixedConv
        >>> conv = FixedConv(K=10, scheme='hk', param=2.0)
        >>> conv(torch.randn(3, 5), edge_index).shape
        torch.Size([3, 5])
    """
    basis = 'monomial'
    graph = 'gcn'

    def __init__(self, K: int = 10, scheme: str = 'appr',
                 param: Optional[float] = None, **kwargs):
        super().__init__(K, **kwargs)
        self.register_constant('theta', scheme_coefficients(scheme, K, param))
        self.scheme = scheme
        self.param = default_param(scheme) if param is None else param

    def coefficients(self) -> Tensor:
        return self.theta

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(K={self.K}, '
                f'scheme={self.scheme!r}, param={self.param})')


class HeatKernelConv(FixedConv):
    r"""The heat kernel filter :math:`e^{-t(\mathbf{I} - \hat{\mathbf{A}})}
    \mathbf{X}` truncated at order ``K``, :math:`\sum_{k=0}^{K}
    e^{-t}\frac{t^k}{k!}\hat{\mathbf{A}}^k\mathbf{X}`, as in GDC's heat
    kernel diffusion (`Gasteiger et al., NeurIPS 2019
    <https://arxiv.org/abs/1911.05485>`_), DGC and AGP.

    Args:
        K (int): Truncation order (default 10).
        t (float): Diffusion time :math:`t \geq 0` (default 1).
        **kwargs: As :class:`FixedConv`.

    Shapes:
        **input:** ``x`` ``[*, N, C]``, ``edge_index``, ``edge_weight``
        ``[E]``; **output:** ``[*, N, C]``.

    Example:
        >>> import torch
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> from pyg_spectral.nn import HeatKernelConv
        >>> HeatKernelConv(K=10, t=2.0)(torch.randn(3, 5), edge_index).shape
        torch.Size([3, 5])
    """

    def __init__(self, K: int = 10, t: float = 1.0, **kwargs):
        super().__init__(K, 'hk', t, **kwargs)
        self.t = t

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(K={self.K}, t={self.t})'


class PPRConv(FixedConv):
    r"""The personalized PageRank filter truncated at order ``K``,
    :math:`\sum_{k=0}^{K} \alpha(1-\alpha)^k \hat{\mathbf{A}}^k\mathbf{X}`
    (the PPR diffusion of GDC and of the decoupled APPNP; PyG's
    :class:`~pyg_spectral.nn.APPNP` is the iterated form with the last
    term :math:`(1-\alpha)^K`).

    Args:
        K (int): Truncation order (default 10).
        alpha (float): Teleport probability in :math:`[0, 1]` (default 0.1).
        **kwargs: As :class:`FixedConv`.

    Shapes:
        **input:** ``x`` ``[*, N, C]``, ``edge_index``, ``edge_weight``
        ``[E]``; **output:** ``[*, N, C]``.

    Example:
        >>> import torch
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> from pyg_spectral.nn import PPRConv
        >>> PPRConv(K=10, alpha=0.1)(torch.randn(3, 5), edge_index).shape
        torch.Size([3, 5])
    """

    def __init__(self, K: int = 10, alpha: float = 0.1, **kwargs):
        check_probability(alpha, 'alpha', closed=True)
        super().__init__(K, 'appr', alpha, **kwargs)
        self.alpha = alpha

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(K={self.K}, alpha={self.alpha})'
