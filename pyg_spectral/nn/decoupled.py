from typing import Optional

import torch
from torch import Tensor

from ._poly_conv import PolyConv


class Decoupled(torch.nn.Module):
    r"""A decoupled spectral model trained from precomputed terms, as
    ChebNetII on ogbn-papers100M (He, Wei, Wen 2022, Sec. 4.3): the
    filter's learnable combination of the terms, then an MLP:

    .. math::
        \mathbf{Y} = \mathrm{MLP}\Big(\sum_{k=0}^{K} c_k\,
        P_k(\mathbf{S})\mathbf{X}\Big),

    with :math:`c` the coefficients of ``conv`` (any :class:`PolyConv`:
    :class:`GPRConv`, :class:`ChebIIConv`, :class:`BernConv`,
    :class:`JacobiConv`), the terms from ``conv.precompute(x, edge_index)``
    (:mod:`pyg_spectral.precompute`). Rows are independent, so training
    runs in mini-batches of nodes with a plain ``DataLoader``
    (:func:`~pyg_spectral.precompute.term_loader`) and under
    ``DistributedDataParallel``.

    Args:
        conv (PolyConv): The filter whose coefficients combine the terms.
        mlp (torch.nn.Module, optional): Applied after the combination
            (default: identity).

    Shapes:
        ``terms`` ``[B, K+1, C]`` -> ``mlp([B, C])``.

    Example:
        >>> import torch
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> from pyg_spectral.nn import ChebIIConv, Decoupled
        >>> conv = ChebIIConv(K=4)
        >>> terms = conv.precompute(torch.randn(3, 5), edge_index)[[0, 1, 2]]
        >>> Decoupled(conv, torch.nn.Linear(5, 2))(terms).shape
        torch.Size([3, 2])
    """

    def __init__(self, conv: PolyConv, mlp: Optional[torch.nn.Module] = None):
        super().__init__()
        if not isinstance(conv, PolyConv):
            raise TypeError(f"conv must be a PolyConv layer (GPRConv, "
                            f"ChebIIConv, BernConv, JacobiConv), got "
                            f"{type(conv).__name__}")
        self.conv = conv
        self.mlp = mlp if mlp is not None else torch.nn.Identity()

    def reset_parameters(self):
        self.conv.reset_parameters()
        for m in self.mlp.modules():
            if m is not self.mlp and hasattr(m, 'reset_parameters'):
                m.reset_parameters()

    def forward(self, terms: Tensor) -> Tensor:
        if terms.dim() != 3 or terms.size(1) != self.conv.K + 1:
            raise ValueError(
                f"terms must be [batch, K+1={self.conv.K + 1}, channels] "
                f"(got {list(terms.shape)}): precompute them with "
                f"conv.precompute(x, edge_index)")
        return self.mlp(self.conv.combine(terms))

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.conv}, {self.mlp})'
