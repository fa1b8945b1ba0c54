from typing import Optional

import torch
from torch import Tensor
from torch.nn import Parameter
from torch_geometric.nn.conv import MessagePassing
from torch_geometric.nn.dense.linear import Linear
from torch_geometric.nn.inits import zeros

from torch_geometric.typing import Adj, OptTensor

from ..ops import SparseOperator
from ..ops.chebyshev import run_filter
from ..ops.normalize import laplacian_entries
from ..ops.validation import (check_K, check_normalization,
                              check_positive_int)
from ._checks import check_input, checked_forward
from ._message_passing import (calls_modules, check_layer_flow,
                               engine_propagate, from_node_major,
                               needs_messages, no_torchscript, node_axis,
                               operator_entries, to_node_major)
from ._resolve_operator import laplacian_for, lazy_init

_DIMS = tuple(range(2, 9))  # [N, C] and static-graph [*, N, C]


class ChebConv(MessagePassing):
    r"""The Chebyshev spectral graph convolution from the `"Convolutional
    Neural Networks on Graphs with Fast Localized Spectral Filtering"
    <https://arxiv.org/abs/1606.09375>`_ paper (Defferrard et al., 2016)

    .. math::
        \mathbf{X}^{\prime} = \sum_{k=0}^{K-1} T_k(\tilde{\mathbf{L}})\,
        \mathbf{X}\, \mathbf{\Theta}^{(k)}, \qquad
        \tilde{\mathbf{L}} = \frac{2\mathbf{L}}{\lambda_{\max}} - \mathbf{I},

    with :math:`T_k` the Chebyshev polynomials. ``K`` is the number of terms
    (PyG's convention: ``K=3`` is :math:`T_0 \dots T_2`, "K=2" in Kipf &
    Welling's Table 3).

    A drop-in replacement for :class:`torch_geometric.nn.conv.ChebConv`: the
    same arguments, defaults, ``forward`` signature, ``__repr__`` and state
    dict keys (``lins.{k}.weight``, ``bias``), with outputs and gradients equal
    to PyG's. It runs on one cached CSR operator with the diagonal applied
    node-wise, evaluates the filter in ``min(in_channels, out_channels)``
    (Clenshaw's recurrence when projecting down) and keeps only :math:`X`
    for the backward pass (see :mod:`pyg_spectral.ops.chebyshev`).

    Args:
        in_channels (int): Size of each input sample, or :obj:`-1` to derive
            it from the first input.
        out_channels (int): Size of each output sample.
        K (int): Number of Chebyshev terms (:math:`\geq 1`).
        normalization (str, optional): :obj:`None` (:math:`\mathbf{L} =
            \mathbf{D} - \mathbf{A}`), :obj:`"sym"` (:math:`\mathbf{I} -
            \mathbf{D}^{-1/2}\mathbf{A}\mathbf{D}^{-1/2}`) or :obj:`"rw"`
            (:math:`\mathbf{I} - \mathbf{D}^{-1}\mathbf{A}`).
            (default: :obj:`"sym"`)
        bias (bool, optional): Learn an additive bias. (default: :obj:`True`)
        **kwargs (optional): Additional arguments of
            :class:`torch_geometric.nn.conv.MessagePassing`.

    Shapes:
        ``x`` ``[N, C_in]`` (dense or ``torch.sparse``) or ``[*, N, C_in]``
        (PyG's static-graph mode: the node axis is ``node_dim``, every leading
        index a signal on the same graph, all of them in one sparse product);
        ``edge_index`` ``[2, E]``, a ``SparseTensor``/``torch.sparse``
        ``adj_t``, or a :class:`~pyg_spectral.ops.SparseOperator` from
        :class:`~pyg_spectral.transforms.ChebOperator`; ``edge_weight`` ``[E]``
        (``None`` = all ones); ``batch`` ``[N]``; ``lambda_max``: float, scalar
        tensor or ``[num_graphs]`` tensor (default: PyG's bound, 2.0 for
        ``sym``/``rw``). Output ``[*, N, C_out]``. Gradients reach
        ``edge_weight`` when it requires grad (through a slower plain-autograd
        path).

    Everything PyG's ``MessagePassing`` offers works as in PyG:
    ``flow='target_to_source'``, explainers' edge masks, propagate /
    message / aggregate hooks, ``decomposed_layers``, other ``aggr``
    (these run PyG's algorithm through :meth:`propagate`), hooks on or
    replacement of ``lins[k]`` (the projections then run as module calls);
    see :mod:`pyg_spectral.nn._message_passing`.

    Example:
        >>> import torch
        >>> from pyg_spectral.nn import ChebConv
        >>> edge_index = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
        >>> conv = ChebConv(16, 8, K=3)
        >>> conv(torch.randn(4, 16), edge_index).shape
        torch.Size([4, 8])
    """

    def __init__(self, in_channels: int, out_channels: int, K: int,
                 normalization: Optional[str] = 'sym', bias: bool = True,
                 **kwargs):
        kwargs.setdefault('aggr', 'add')
        super().__init__(**kwargs)
        check_positive_int(in_channels, 'in_channels', allow=(-1, ))
        check_positive_int(out_channels, 'out_channels')
        check_K(K)
        check_normalization(normalization)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.normalization = normalization
        self.lins = torch.nn.ModuleList([
            Linear(in_channels, out_channels, bias=False,
                   weight_initializer='glorot') for _ in range(K)
        ])
        if bias:
            self.bias = Parameter(torch.empty(out_channels))
        else:
            self.register_parameter('bias', None)
        self.reset_parameters()

    def reset_parameters(self):
        super().reset_parameters()
        for lin in self.lins:
            lin.reset_parameters()
        zeros(self.bias)

    @property
    def K(self) -> int:
        return len(self.lins)

    @checked_forward
    def forward(self, x: Tensor, edge_index: Adj,
                edge_weight: OptTensor = None, batch: OptTensor = None,
                lambda_max: OptTensor = None) -> Tensor:
        check_layer_flow(self, edge_index)
        check_input(self, x, _DIMS, '[*, num_nodes, channels]',
                    self.in_channels)
        out = self._filter(x, node_axis(self, x), edge_index, edge_weight,
                           batch, lambda_max)
        if self.bias is not None:
            out = out + self.bias
        return out

    def _filter(self, x, nd, edge_index, edge_weight, batch, lambda_max):
        lazy_init(self.lins, x)
        if needs_messages(self, ChebConv):
            e = self._entries(x, nd, edge_index, edge_weight, batch,
                              lambda_max)
            ei, norm = e.edge_list()
            out = self._pyg_order(
                x, lambda h: self.propagate(ei, x=h, norm=norm))
        else:
            op = laplacian_for(x, x.size(nd), edge_index, edge_weight,
                               self.normalization, lambda_max, batch,
                               self.flow)
            if calls_modules(self.lins):
                out = self._pyg_order(x, engine_propagate(op, nd))
            else:
                weight = torch.stack([lin.weight for lin in self.lins])
                # [K, F, C]; the filter takes Θ as [K, C, F]
                y = run_filter(to_node_major(x, nd), weight.transpose(1, 2),
                                op)
                out = from_node_major(y, x, nd)
        return out

    def _entries(self, x, nd, edge_index, edge_weight, batch, lambda_max):
        """The scaled Laplacian as per-edge entries (PyG's edge order)."""
        if isinstance(edge_index, SparseOperator):
            op = laplacian_for(x, x.size(nd), edge_index, edge_weight,
                               self.normalization, lambda_max, batch,
                               self.flow)
            return operator_entries(op, self.flow)
        return laplacian_entries(edge_index, edge_weight, x.size(nd),
                                 self.normalization, lambda_max, batch,
                                 x.dtype, self.flow)

    def _pyg_order(self, x: Tensor, prop) -> Tensor:
        """PyG's evaluation: the terms :math:`T_k x` in the input width,
        each through its ``lins[k]`` module call."""
        tx0 = x
        out = self.lins[0](tx0)
        if self.K > 1:
            tx0 = tx0.to_dense() if tx0.layout != torch.strided else tx0
            tx1 = prop(tx0)
            out = out + self.lins[1](tx1)
            for lin in self.lins[2:]:
                tx2 = 2.0 * prop(tx1) - tx0
                out = out + lin(tx2)
                tx0, tx1 = tx1, tx2
        return out

    def __prepare_scriptable__(self):
        no_torchscript(self)

    def message(self, x_j: Tensor, norm: Tensor) -> Tensor:
        return norm.view(-1, 1) * x_j

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.in_channels}, '
                f'{self.out_channels}, K={len(self.lins)}, '
                f'normalization={self.normalization})')
