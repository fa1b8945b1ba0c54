import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.typing import Adj, OptTensor

from ..ops.validation import check_int, check_probability
from ._checks import checked_forward
from ._poly_conv import PolyConv


class APPNP(PolyConv):
    r"""The approximate personalized propagation of neural predictions,
    from the `"Predict then Propagate: Graph Neural Networks meet
    Personalized PageRank" <https://arxiv.org/abs/1810.05997>`_ paper
    (Gasteiger et al., ICLR 2019): a drop-in for
    :class:`torch_geometric.nn.APPNP` (same arguments and outputs)

    .. math::
        \mathbf{X}^{(0)} = \mathbf{X}, \qquad \mathbf{X}^{(k)} = (1 -
        \alpha) \hat{\mathbf{A}} \mathbf{X}^{(k-1)} + \alpha\mathbf{X},
        \qquad \mathbf{X}^{\prime} = \mathbf{X}^{(K)},

    i.e. :math:`\sum_{k<K} \alpha(1-\alpha)^k\hat{\mathbf{A}}^k\mathbf{X} +
    (1-\alpha)^K\hat{\mathbf{A}}^K\mathbf{X}`, evaluated as one polynomial
    on the package engine (``K`` sparse products forward and backward, no
    iterate kept). With ``dropout > 0`` in training, every iteration drops
    edges of the normalized operator with a fresh mask, applied to the
    previous iteration's dropped weights (PyG's semantics): that path runs
    PyG's ``K`` propagations. ``cached`` is accepted for
    compatibility (the operator of a graph is cached by the package
    anyway); ``normalize=False`` propagates the raw adjacency.

    Args:
        K (int): Number of iterations.
        alpha (float): Teleport probability :math:`\alpha \in [0, 1]`.
        dropout (float): Edge dropout in training (default 0).
        cached (bool): Accepted, as PyG's.
        add_self_loops (bool): Add self-loops before normalizing.
        normalize (bool): Normalize the adjacency (GCN's symmetric norm).
        **kwargs: Arguments of :class:`~torch_geometric.nn.MessagePassing`.

    Shapes:
        **input:** ``x`` ``[*, N, C]``, ``edge_index`` (as
        :class:`ChebConv`), ``edge_weight`` ``[E]``;
        **output:** ``[*, N, C]``.

    Example:
        >>> import torch
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> from pyg_spectral.nn import APPNP
        >>> APPNP(K=10, alpha=0.1)(torch.randn(3, 5), edge_index).shape
        torch.Size([3, 5])
    """
    basis = 'monomial'

    def __init__(self, K: int, alpha: float, dropout: float = 0.,
                 cached: bool = False, add_self_loops: bool = True,
                 normalize: bool = True, **kwargs):
        check_int(K, 'K', minimum=0)
        self.alpha = check_probability(alpha, 'alpha', closed=True)
        self.dropout = check_probability(dropout, 'dropout')
        # PyG: no normalization, no added self-loops either
        loops = add_self_loops and normalize
        super().__init__(K, graph='gcn' if loops else 'adjacency', **kwargs)
        self.cached, self.add_self_loops = cached, add_self_loops
        self.normalize = normalize
        t = self.alpha * (1 - self.alpha) ** torch.arange(
            K + 1, dtype=torch.float64)
        t[-1] = (1 - self.alpha) ** K
        self.register_constant('theta', t)

    def coefficients(self) -> Tensor:
        return self.theta

    @checked_forward
    def forward(self, x: Tensor, edge_index: Adj,
                edge_weight: OptTensor = None) -> Tensor:
        if self.dropout > 0 and self.training and self.K > 0:
            return self._with_edge_dropout(x, edge_index, edge_weight)
        return super().forward(x, edge_index, edge_weight)

    def _with_edge_dropout(self, x, edge_index, edge_weight) -> Tensor:
        x, nd = self.checked_input(x, edge_index)
        ei, norm = self._entries(x, nd, edge_index, edge_weight).edge_list()
        h = x
        for _ in range(self.K):  # PyG drops from the last iteration's
            norm = F.dropout(norm, p=self.dropout)  # weights (compounding)
            x = self.propagate(ei, x=x, norm=norm)
            x = x * (1 - self.alpha) + self.alpha * h
        return x

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(K={self.K}, alpha={self.alpha})'
