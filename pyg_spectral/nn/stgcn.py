from typing import Optional, Sequence

import torch
from torch import Tensor

from ..ops.validation import check_positive_int
from ._checks import check_input, checked_forward
from .stconv import STConv
from .temporal_conv import TemporalConv

#: the authors' code (VeritasYin/STGCN_IJCAI-18): blocks [[1,32,64],[64,32,128]]
AUTHORS_BLOCKS = ((1, 32, 64), (64, 32, 128))
#: the paper's Fig. 2 bottleneck 64-16-64, as (in, temporal, spatial, out)
PAPER_BLOCKS = ((1, 64, 16, 64), (64, 64, 16, 64))


class OutputLayer(torch.nn.Module):
    r"""STGCN's output layer: temporal GLU conv over all remaining ``T``
    steps -> LayerNorm over ``[N, C]`` -> 1x1 temporal conv with sigmoid ->
    fully connected to ``out_channels`` with a per-node bias.

    Args:
        channels (int): Width of the input.
        time_steps (int): The remaining time steps ``T`` (the GLU's width).
        num_nodes (int): Number of nodes ``N``.
        out_channels (int): Outputs per node.

    Shapes:
        **input:** ``[B, T, N, channels]``;
        **output:** ``[B, N, out_channels]``.

    Example:
        >>> import torch
        >>> from pyg_spectral.nn import OutputLayer
        >>> layer = OutputLayer(16, 4, 3, out_channels=2)
        >>> layer(torch.randn(5, 4, 3, 16)).shape
        torch.Size([5, 3, 2])
    """

    def __init__(self, channels: int, time_steps: int, num_nodes: int,
                 out_channels: int = 1):
        super().__init__()
        check_positive_int(num_nodes, 'num_nodes')
        check_positive_int(out_channels, 'out_channels')
        self.temporal = TemporalConv(channels, channels, time_steps, 'glu')
        self.norm = torch.nn.LayerNorm([num_nodes, channels])
        self.gate = TemporalConv(channels, channels, 1, 'sigmoid')
        self.fc = torch.nn.Linear(channels, out_channels, bias=False)
        self.node_bias = torch.nn.Parameter(torch.zeros(num_nodes,
                                                        out_channels))

    def reset_parameters(self):
        for m in (self.temporal, self.norm, self.gate, self.fc):
            m.reset_parameters()
        with torch.no_grad():
            self.node_bias.zero_()

    @checked_forward
    def forward(self, x: Tensor) -> Tensor:
        check_input(self, x, (4, ), '[B, T, N, channels]', self.temporal.in_channels)
        h = self.gate(self.norm(self.temporal(x)))  # [B, 1, N, C]
        return self.fc(h[:, 0]) + self.node_bias  # [B, N, out]


class STGCN(torch.nn.Module):
    r"""STGCN (Yu, Yin, Zhu, IJCAI 2018): stacked :class:`STConv` blocks and
    an :class:`OutputLayer`, predicting ``out_channels`` values per node
    (e.g. one per horizon: direct multi-horizon forecasting; 1 for the
    paper's one-step model).

    Args:
        num_nodes (int): number of sensors :math:`N`.
        n_his (int): input time steps.
        blocks: per block ``(in, hidden, out)`` (spatial width = hidden, the
            authors' code; default :data:`AUTHORS_BLOCKS`) or ``(in,
            temporal, spatial, out)`` (:data:`PAPER_BLOCKS`).
        kernel_size (int): :math:`K_t`.
        K (int): :math:`K_s`, Chebyshev terms (PyG convention; ignored by
            ``graph_conv='gcn'``).
        graph_conv: ``'cheb'`` (STGCN(Cheb)) or ``'gcn'`` (STGCN(1st)).
        out_channels (int): outputs per node.

    Shapes:
        **input:** ``x`` ``[B, n_his, N, C_in]``, ``edge_index``,
        ``edge_weight`` ``[E]``;
        **output:** ``[B, N, out_channels]``.

    Example:
        >>> import torch
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> from pyg_spectral.nn import STGCN
        >>> model = STGCN(3, n_his=12, blocks=[(1, 8, 16), (16, 8, 16)])
        >>> model(torch.randn(4, 12, 3, 1), edge_index).shape  # [B, N, out]
        torch.Size([4, 3, 1])
    """

    def __init__(self, num_nodes: int, n_his: int = 12,
                 blocks: Sequence[Sequence[int]] = AUTHORS_BLOCKS,
                 kernel_size: int = 3, K: int = 3, graph_conv: str = 'cheb',
                 normalization: Optional[str] = 'sym', out_channels: int = 1,
                 dropout: float = 0.0, temporal_activation: str = 'relu'):
        super().__init__()
        check_positive_int(num_nodes, 'num_nodes')
        check_positive_int(n_his, 'n_his')
        check_positive_int(kernel_size, 'kernel_size')
        self.blocks = torch.nn.ModuleList()
        t = n_his
        for b in blocks:
            if len(b) == 3:
                c_in, c_t, c_out = b
                c_s = c_t
            elif len(b) == 4:
                c_in, c_t, c_s, c_out = b
            else:
                raise ValueError(f"each block must be (in, hidden, out) or "
                                 f"(in, temporal, spatial, out) (got {b})")
            self.blocks.append(STConv(
                num_nodes, c_in, c_t, c_out, kernel_size, K, normalization,
                spatial_channels=c_s, graph_conv=graph_conv,
                temporal_activation=temporal_activation, dropout=dropout))
            t -= 2 * (kernel_size - 1)
        if t < 1:
            raise ValueError(f"n_his={n_his} is too short for "
                             f"{len(blocks)} blocks with kernel_size="
                             f"{kernel_size}")
        self.output = OutputLayer(blocks[-1][-1], t, num_nodes, out_channels)
        self.num_nodes, self.n_his = num_nodes, n_his

    def reset_parameters(self):
        for block in self.blocks:
            block.reset_parameters()
        self.output.reset_parameters()

    @checked_forward
    def forward(self, x: Tensor, edge_index, edge_weight=None,
                lambda_max=None) -> Tensor:
        check_input(self, x, (4, ), f'[B, {self.n_his}, {self.num_nodes}, '
                    f'channels]', self.blocks[0].in_channels)
        if x.size(1) != self.n_his or x.size(2) != self.num_nodes:
            raise ValueError(f"x must have shape [B, {self.n_his}, "
                             f"{self.num_nodes}, C] (got {list(x.shape)})")
        for block in self.blocks:
            x = block(x, edge_index, edge_weight, lambda_max)
        return self.output(x)
