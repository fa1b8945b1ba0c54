import math
from typing import Optional

import torch
from torch import Tensor
from torch.nn import Parameter

from ..ops.chebyshev import run_filter
from ..ops.validation import check_K, check_normalization, check_positive_int
from ._checks import check_input, checked_forward
from ._resolve_operator import gcn_for, laplacian_for


class SpatialGraphConv(torch.nn.Module):
    r"""A graph convolution applied to every time step of a spatio-temporal
    signal at once (the spatial layer of STGCN, Yu et al. 2018):

    * ``kind='cheb'``: :math:`\sum_{k<K} T_k(\tilde{\mathbf{L}})\mathbf{X}
      \boldsymbol{\Theta}_k` (STGCN(Cheb), ``K`` = :math:`K_s`, PyG's
      convention: number of terms);
    * ``kind='gcn'``: :math:`\hat{\mathbf{D}}^{-1/2}(\mathbf{A} + \mathbf{I})
      \hat{\mathbf{D}}^{-1/2}\mathbf{X}\boldsymbol{\Theta}` (STGCN(1st)).

    The graph is shared by all samples and steps, so ``B*T`` is folded into
    the columns of a single sparse product per Chebyshev step
    (``[N, B*T*C]``), never a loop over batch or time; the operator comes
    from the package cache (built once per graph).

    Args:
        in_channels (int): Input width ``C``.
        out_channels (int): Output width ``C_out``.
        K (int): Chebyshev terms (``kind='cheb'``; default 3).
        kind (str): ``'cheb'`` or ``'gcn'``.
        normalization (str, optional): The Laplacian's (``'sym'``,
            ``'rw'`` or ``None``; ``kind='cheb'``).
        bias (bool): Learn an additive bias.

    Shapes:
        **input:** ``x`` ``[B, T, N, C]``, ``edge_index``, ``edge_weight``
        ``[E]``; **output:** ``[B, T, N, C_out]``.

    Example:
        >>> import torch
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> from pyg_spectral.nn import SpatialGraphConv
        >>> conv = SpatialGraphConv(2, 8, K=3)
        >>> conv(torch.randn(4, 12, 3, 2), edge_index).shape
        torch.Size([4, 12, 3, 8])
    """

    def __init__(self, in_channels: int, out_channels: int, K: int = 3,
                 kind: str = 'cheb', normalization: Optional[str] = 'sym',
                 bias: bool = True):
        super().__init__()
        if kind not in ('cheb', 'gcn'):
            raise ValueError(f"kind must be 'cheb' or 'gcn' (got {kind!r})")
        check_positive_int(in_channels, 'in_channels')
        check_positive_int(out_channels, 'out_channels')
        check_K(K)
        check_normalization(normalization)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.K = K if kind == 'cheb' else 1
        self.kind, self.normalization = kind, normalization
        self.weight = Parameter(torch.empty(self.K, in_channels,
                                            out_channels))  # [K, C, F]
        self.bias = Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        bound = math.sqrt(6.0 / (self.in_channels + self.out_channels))
        torch.nn.init.uniform_(self.weight, -bound, bound)  # glorot per k
        if self.bias is not None:
            torch.nn.init.zeros_(self.bias)

    def operator(self, x: Tensor, edge_index, edge_weight=None,
                 lambda_max=None):
        n = x.size(-2)  # node axis of [B, T, N, C]
        if self.kind == 'cheb':
            return laplacian_for(x, n, edge_index, edge_weight,
                                 self.normalization, lambda_max)
        return gcn_for(x, n, edge_index, edge_weight)

    @checked_forward
    def forward(self, x: Tensor, edge_index, edge_weight=None,
                lambda_max=None) -> Tensor:
        check_input(self, x, (4, ), '[B, T, N, channels]', self.in_channels)
        B, T, N, C = x.shape
        op = self.operator(x, edge_index, edge_weight, lambda_max)
        xn = x.permute(2, 0, 1, 3).reshape(N, B * T, C)  # [N, B*T, C]
        if self.kind == 'cheb':
            y = run_filter(xn, self.weight, op)  # [N, B*T, F]
        else:
            h = (xn.reshape(-1, C) @ self.weight[0]).view(N, -1)
            # [N*B*T, F] -> [N, B*T*F]
            y = op.matmul(h)
        y = y.view(N, B, T, self.out_channels).permute(1, 2, 0, 3)
        y = y.contiguous()  # [N, B, T, F] -> [B, T, N, F], the layout
        # every layer after this one expects (copied once, here)
        if self.bias is not None:
            y = y + self.bias
        return y

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.in_channels}, '
                f'{self.out_channels}, K={self.K}, kind={self.kind}, '
                f'normalization={self.normalization})')
