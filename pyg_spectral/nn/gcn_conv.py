from typing import Optional

import torch
from torch import Tensor
from torch.nn import Parameter
from torch_geometric.nn.conv import MessagePassing
from torch_geometric.nn.dense.linear import Linear
from torch_geometric.nn.inits import zeros

from ..ops import SparseOperator
from ..ops.features import project
from ..ops.validation import check_positive_int
from ._checks import check_input, checked_forward
from ._operator import gcn_for, lazy_init


class GCNConv(MessagePassing):
    r"""The graph convolution from the `"Semi-supervised Classification with
    Graph Convolutional Networks" <https://arxiv.org/abs/1609.02907>`_ paper
    (Kipf & Welling, 2017), with the renormalization trick

    .. math::
        \mathbf{X}^{\prime} = \hat{\mathbf{D}}^{-1/2} \hat{\mathbf{A}}
        \hat{\mathbf{D}}^{-1/2} \mathbf{X} \mathbf{\Theta}, \qquad
        \hat{\mathbf{A}} = \mathbf{A} + \mathbf{I},\
        \hat{D}_{ii} = \textstyle\sum_j \hat{A}_{ij}.

    A drop-in replacement for :class:`torch_geometric.nn.conv.GCNConv`: the
    same arguments, defaults, ``forward`` signature, ``__repr__`` and state
    dict keys (``lin.weight``, ``bias``). The normalized operator is a cached
    CSR matrix whose self-loops are a node-wise diagonal; the product runs in
    ``min(in_channels, out_channels)``.

    Args:
        in_channels (int): Size of each input sample, or :obj:`-1`.
        out_channels (int): Size of each output sample.
        improved (bool, optional): :math:`\hat{\mathbf{A}} = \mathbf{A} +
            2\mathbf{I}`. (default: :obj:`False`) Unlike PyG 2.8, whose
            ``gcn_norm`` silently uses weight 1 for the loops when
            ``edge_weight`` is None, this holds with or without weights.
        cached (bool, optional): Keep the operator of the first call for all
            later calls (transductive learning). Without it, the operator is
            still reused while the same, unmodified ``edge_index`` is passed.
            (default: :obj:`False`)
        add_self_loops (bool, optional): Add self-loops (default: as
            ``normalize``).
        normalize (bool, optional): Apply the symmetric normalization.
            (default: :obj:`True`)
        bias (bool, optional): Learn an additive bias. (default: :obj:`True`)

    Forward: ``x`` ``[N, C_in]`` (dense or ``torch.sparse``), ``edge_index``
    (``[2, E]``, ``SparseTensor``/``torch.sparse`` ``adj_t``, or a
    :class:`~pyg_spectral.ops.SparseOperator` from
    :class:`~pyg_spectral.transforms.GCNOperator`), ``edge_weight`` ``[E]``;
    output ``[N, C_out]``.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 improved: bool = False, cached: bool = False,
                 add_self_loops: Optional[bool] = None,
                 normalize: bool = True, bias: bool = True, **kwargs):
        kwargs.setdefault('aggr', 'add')
        super().__init__(**kwargs)
        if add_self_loops is None:
            add_self_loops = normalize
        if add_self_loops and not normalize:
            raise ValueError(f"'{self.__class__.__name__}' does not support "
                             f"adding self-loops to the graph when no "
                             f"on-the-fly normalization is applied")
        if self.flow != 'source_to_target':
            raise ValueError(f"flow must be 'source_to_target' "
                             f"(got {self.flow!r})")
        check_positive_int(in_channels, 'in_channels', allow=(-1, ))
        check_positive_int(out_channels, 'out_channels')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.improved = improved
        self.cached = cached
        self.add_self_loops = add_self_loops
        self.normalize = normalize
        self._cached_op: Optional[SparseOperator] = None
        self.lin = Linear(in_channels, out_channels, bias=False,
                          weight_initializer='glorot')
        if bias:
            self.bias = Parameter(torch.empty(out_channels))
        else:
            self.register_parameter('bias', None)
        self.reset_parameters()

    def reset_parameters(self):
        super().reset_parameters()
        self.lin.reset_parameters()
        zeros(self.bias)
        self._cached_op = None

    @checked_forward
    def forward(self, x: Tensor, edge_index,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        if isinstance(x, (tuple, list)) and all(
                isinstance(t, Tensor) for t in x):
            raise ValueError(f"x: '{self.__class__.__name__}' received a "
                             f"tuple of node features as input while this "
                             f"layer does not support bipartite message "
                             f"passing")
        check_input(self, x, (2, ), '[num_nodes, channels]', self.in_channels)
        out = self._propagate(x, edge_index, edge_weight)
        if self.bias is not None:
            out = out + self.bias
        return out

    @torch.compiler.disable
    def _propagate(self, x, edge_index, edge_weight):
        op = self._cached_op
        if op is None:
            op = gcn_for(x, x.size(0), edge_index, edge_weight,
                         self.improved, self.add_self_loops, self.normalize)
            if self.cached:
                self._cached_op = op
        elif op.num_nodes != x.size(0):
            raise ValueError(f"x has {x.size(0)} rows but the cached "
                             f"operator has {op.num_nodes} nodes")
        lazy_init([self.lin], x)
        w = self.lin.weight.t()  # [C, F]
        if x.layout != torch.strided or w.size(1) < w.size(0):
            return op.matmul(project(x, w))
        return op.matmul(x) @ w

    def message(self, x_j: Tensor, edge_weight: Optional[Tensor]) -> Tensor:
        return x_j if edge_weight is None else edge_weight.view(-1, 1) * x_j
