from typing import Optional, Sequence

import numpy as np
import torch
from torch import Tensor
from torch.nn import Parameter

from ..ops.validation import check_probability
from ._poly_conv import PolyConv

INITS = ('PPR', 'SGC', 'NPPR', 'Random', 'WS')


class GPRConv(PolyConv):
    r"""The generalized PageRank propagation of GPR-GNN, from the
    `"Adaptive Universal Generalized PageRank Graph Neural Network"
    <https://arxiv.org/abs/2006.07988>`_ paper (Chien et al., ICLR 2021)

    .. math::
        \mathbf{X}^{\prime} = \sum_{k=0}^{K} \gamma_k\,
        \hat{\mathbf{A}}^k \mathbf{X}, \qquad \hat{\mathbf{A}} =
        \hat{\mathbf{D}}^{-1/2} (\mathbf{A} + \mathbf{I})
        \hat{\mathbf{D}}^{-1/2},

    with learnable :math:`\gamma_k` (the parameter ``temp``, named as in
    the authors' code so their state dicts load). ``K`` is the polynomial
    order as in the paper (``K + 1`` terms; default 10).

    Initializations (the authors' ``Init``): ``'PPR'`` (default)
    :math:`\gamma_k = \alpha(1-\alpha)^k`, :math:`\gamma_K =
    (1-\alpha)^K`; ``'SGC'`` :math:`\gamma_k = [k = \alpha]` (``alpha`` an
    int); ``'NPPR'`` :math:`\alpha^k` normalized to unit :math:`\ell_1`
    norm; ``'Random'`` uniform in :math:`\pm\sqrt{3/(K+1)}`, normalized;
    ``'WS'`` the given ``gamma``.

    Evaluated by Horner's rule (Clenshaw for the monomial basis) on the
    package engine instead of the reference's ``K`` propagations that keep
    every term: ``K`` sparse products forward and ``K`` backward.

    Args:
        K (int): Polynomial order (:math:`\geq 0`).
        alpha (float): Teleport probability of the PPR initialization
            (default 0.1, the paper's Cora setting).
        init (str): One of ``'PPR'``, ``'SGC'``, ``'NPPR'``, ``'Random'``,
            ``'WS'``.
        gamma (sequence of float, optional): The ``K + 1`` initial
            coefficients for ``init='WS'``.
        **kwargs: Arguments of :class:`~torch_geometric.nn.MessagePassing`
            (``flow``, ``node_dim``, ...).

    Shapes:
        ``x`` ``[*, N, C]``, ``edge_index`` (as :class:`ChebConv`),
        ``edge_weight`` ``[E]`` -> ``[*, N, C]``.

    Example:
        >>> import torch
        >>> from pyg_spectral.nn import GPRConv
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> GPRConv(K=10, alpha=0.1)(torch.randn(3, 5), edge_index).shape
        torch.Size([3, 5])
    """
    basis = 'monomial'
    graph = 'gcn'

    def __init__(self, K: int = 10, alpha: float = 0.1, init: str = 'PPR',
                 gamma: Optional[Sequence[float]] = None, **kwargs):
        super().__init__(K, **kwargs)
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS} (got {init!r})")
        if init == 'SGC':
            if isinstance(alpha, bool) or not isinstance(alpha, int) or \
                    not 0 <= alpha <= K:
                raise ValueError(f"init='SGC' needs alpha an int in [0, K] "
                                 f"(the propagation step; got {alpha!r})")
        else:  # PPR with alpha = 1 is the identity (GPR-GNN's Texas)
            check_probability(alpha, 'alpha', closed=init == 'PPR')
        if init == 'WS':
            if gamma is None or len(gamma) != K + 1:
                raise ValueError(f"init='WS' needs gamma with K + 1 = "
                                 f"{K + 1} values (got {gamma!r})")
        elif gamma is not None:
            raise ValueError("gamma is only used with init='WS'")
        self.alpha, self.init = alpha, init
        self._gamma = None if gamma is None else [float(g) for g in gamma]
        self.temp = Parameter(torch.empty(K + 1))
        self.reset_parameters()

    def reset_parameters(self):
        super().reset_parameters()
        K, a = self.K, self.alpha
        if self.init == 'PPR':
            t = a * (1 - a) ** np.arange(K + 1)
            t[-1] = (1 - a) ** K
        elif self.init == 'SGC':
            t = np.zeros(K + 1)
            t[a] = 1.0
        elif self.init == 'NPPR':
            t = a ** np.arange(K + 1)
            t = t / np.sum(np.abs(t))
        elif self.init == 'Random':
            bound = np.sqrt(3 / (K + 1))
            t = torch.empty(K + 1, dtype=torch.float64).uniform_(
                -bound, bound).numpy()
            t = t / np.sum(np.abs(t))
        else:
            t = np.asarray(self._gamma)
        with torch.no_grad():
            self.temp.copy_(torch.from_numpy(np.asarray(t, np.float64)))

    def coefficients(self) -> Tensor:
        return self.temp

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(K={self.K}, alpha={self.alpha}, '
                f'init={self.init})')
