from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from ..ops.validation import check_positive_int, check_probability
from ._checks import check_input, checked_forward
from .spatial_graph_conv import SpatialGraphConv
from .temporal_conv import Align, TemporalConv


class STConv(torch.nn.Module):
    r"""The spatio-temporal convolution block of STGCN (`"Spatio-Temporal
    Graph Convolutional Networks" <https://arxiv.org/abs/1709.04875>`_, Yu,
    Yin, Zhu 2018, Fig. 2):

    temporal gated conv (GLU, ``in -> hidden``) -> spatial graph conv
    (``hidden -> spatial``, ReLU over conv + aligned residual) -> temporal
    conv (``spatial -> out``) -> LayerNorm over ``[N, C]`` -> dropout.

    A drop-in for ``torch_geometric_temporal.nn.attention.STConv``: the same
    constructor arguments in the same positional order (``num_nodes,
    in_channels, hidden_channels, out_channels, kernel_size, K,
    normalization, bias``; ``bias`` is the graph convolution's) and forward
    ``(x [B, T, N, C], edge_index, edge_weight=None)``; the extra arguments
    are keyword-only. The arithmetic follows the paper, not theirs: GLU
    gating :math:`(P + x_{res}) \odot \sigma(Q)` in the first temporal
    conv (theirs: :math:`\mathrm{ReLU}(P \odot \sigma(Q) + \mathrm{conv}
    (x))`) and LayerNorm over ``[N, C]`` (theirs: BatchNorm over nodes),
    so a PyG-Temporal checkpoint does not load into it.

    ``spatial_channels`` defaults to ``hidden_channels`` (the authors' code:
    ``[[1, 32, 64], [64, 32, 128]]`` is ``STConv(N, 1, 32, 64)`` then
    ``STConv(N, 64, 32, 128)``); the paper's bottleneck "64, 16, 64" is
    ``STConv(N, c_in, 64, 64, spatial_channels=16)``. The second temporal
    conv uses ``'relu'`` as the authors' code (``temporal_activation='glu'``
    for the paper's figure).

    Args:
        num_nodes (int): Number of nodes ``N`` (the LayerNorm's shape).
        in_channels (int): Input width.
        hidden_channels (int): Width of the first temporal conv.
        out_channels (int): Output width.
        kernel_size (int): :math:`K_t` (default 3).
        K (int): Chebyshev terms :math:`K_s` (PyG's convention).
        normalization (str, optional): The Laplacian's.
        bias (bool): The graph convolution's bias.
        spatial_channels (int, optional): Width of the graph conv (default
            ``hidden_channels``).
        graph_conv (str): ``'cheb'`` or ``'gcn'``.
        temporal_activation (str): The second temporal conv's
            (:class:`TemporalConv`).
        dropout (float): Dropout after the LayerNorm.

    Shapes:
        **input:** ``x`` ``[B, T, N, C_in]``, ``edge_index``,
        ``edge_weight`` ``[E]``;
        **output:** ``[B, T - 2(K_t - 1), N, C_out]``.

    Example:
        >>> import torch
        >>> from pyg_spectral.nn import STConv
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> block = STConv(3, 2, 16, 8, kernel_size=3, K=3)
        >>> block(torch.randn(4, 12, 3, 2), edge_index).shape  # [B, T, N, C]
        torch.Size([4, 8, 3, 8])
    """

    def __init__(self, num_nodes: int, in_channels: int,
                 hidden_channels: int, out_channels: int,
                 kernel_size: int = 3, K: int = 3,
                 normalization: Optional[str] = 'sym', bias: bool = True, *,
                 spatial_channels: Optional[int] = None,
                 graph_conv: str = 'cheb', temporal_activation: str = 'relu',
                 dropout: float = 0.0):
        super().__init__()
        check_positive_int(num_nodes, 'num_nodes')
        check_probability(dropout, 'dropout')
        spatial_channels = spatial_channels or hidden_channels
        self.in_channels, self.hidden_channels = in_channels, hidden_channels
        self.spatial_channels, self.out_channels = spatial_channels, \
            out_channels
        self.num_nodes, self.kernel_size, self.K = num_nodes, kernel_size, K
        self.graph_conv, self.dropout = graph_conv, dropout
        self.temporal1 = TemporalConv(in_channels, hidden_channels,
                                      kernel_size, 'glu')
        self.spatial = SpatialGraphConv(hidden_channels, spatial_channels, K,
                                        graph_conv, normalization, bias)
        self.align = Align(hidden_channels, spatial_channels)
        self.temporal2 = TemporalConv(spatial_channels, out_channels,
                                      kernel_size, temporal_activation)
        self.norm = torch.nn.LayerNorm([num_nodes, out_channels])

    def reset_parameters(self):
        for m in (self.temporal1, self.spatial, self.align, self.temporal2,
                  self.norm):
            m.reset_parameters()

    @checked_forward
    def forward(self, x: Tensor, edge_index, edge_weight=None,
                lambda_max=None) -> Tensor:
        check_input(self, x, (4, ), '[B, T, N, channels]', self.in_channels)
        if x.size(2) != self.num_nodes:
            raise ValueError(f"x has {x.size(2)} nodes (dim 2 of [B, T, N, "
                             f"C]) but the block was built for num_nodes="
                             f"{self.num_nodes}")
        h = self.temporal1(x)
        h = torch.relu(self.spatial(h, edge_index, edge_weight, lambda_max)
                       + self.align(h))
        h = self.temporal2(h)
        h = self.norm(h)
        return F.dropout(h, self.dropout, self.training)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_nodes={self.num_nodes}, '
                f'{self.in_channels}, {self.hidden_channels}, '
                f'{self.out_channels}, kernel_size={self.kernel_size}, '
                f'K={self.K}, spatial_channels={self.spatial_channels}, '
                f'graph_conv={self.graph_conv})')
