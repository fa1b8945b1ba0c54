from typing import Dict, Optional, Tuple

import torch
from torch import Tensor
from torch.nn import Parameter
from torch_geometric.nn.conv import MessagePassing
from torch_geometric.nn.dense.linear import Linear
from torch_geometric.nn.inits import zeros

from torch_geometric.typing import Adj, OptTensor
from torch_geometric.utils import spmm

from ..ops import SparseOperator, gcn_operator
from ..ops.adjacency import is_sparse_tensor, is_torch_sparse_tensor
from ..ops.features import project
from ..ops.normalize import Entries, gcn_entries
from ..ops.validation import check_positive_int, check_same_device
from ._checks import check_input, checked_forward
from ._message_passing import (calls_modules, check_layer_flow,
                               engine_propagate, from_node_major,
                               needs_messages, no_torchscript, node_axis,
                               operator_entries, sparse_adj_t, to_node_major)
from ._resolve_operator import gcn_for, lazy_init

_DIMS = tuple(range(2, 9))  # [N, C] and static-graph [*, N, C]


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

    Shapes:
        ``x`` ``[N, C_in]`` (dense or ``torch.sparse``) or ``[*, N, C_in]``
        (static-graph mode, node axis ``node_dim``), ``edge_index`` (``[2,
        E]``, ``SparseTensor``/``torch.sparse`` ``adj_t``, or a
        :class:`~pyg_spectral.ops.SparseOperator` from
        :class:`~pyg_spectral.transforms.GCNOperator`), ``edge_weight`` ``[E]``
        (``None`` = all ones); output ``[*, N, C_out]``.

    Everything PyG's ``MessagePassing`` offers works as in PyG:
    ``flow='target_to_source'``, explainers' edge masks, propagate /
    message / aggregate hooks, ``decomposed_layers``, other ``aggr`` (these
    run PyG's algorithm through :meth:`propagate`), hooks on or replacement
    of ``lin`` (module call). With ``cached=True``, ``_cached_edge_index``
    (and ``_cached_adj_t`` for a ``SparseTensor`` graph) hold the normalized
    graph as in PyG; assigning ``None`` to either clears the cache.

    Example:
        >>> import torch
        >>> from pyg_spectral.nn import GCNConv
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> GCNConv(16, 8)(torch.randn(3, 16), edge_index).shape
        torch.Size([3, 8])
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
        check_positive_int(in_channels, 'in_channels', allow=(-1, ))
        check_positive_int(out_channels, 'out_channels')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.improved = improved
        self.cached = cached
        self.add_self_loops = add_self_loops
        self.normalize = normalize
        # with cached=True, one operator per kind of graph input as in PyG
        # (``_cached_edge_index`` for tensors, ``_cached_adj_t`` for
        # SparseTensors), keyed by the input kind (_kind)
        self._cached_ops: Dict[str, Optional[SparseOperator]] = \
            dict(tensor=None, sparse_tensor=None)
        self._cached_entries: Optional[Entries] = None  # tensor kind's order
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
        self._cached_ops = dict(tensor=None, sparse_tensor=None)
        self._cached_entries = None

    # PyG's cache attributes, as views of the one cached operator ---------
    @property
    def _cached_edge_index(self) -> Optional[Tuple[Tensor, Tensor]]:
        if self._cached_entries is not None:
            return self._cached_entries.edge_list()
        op = self._cached_ops['tensor']
        if op is None:
            return None
        return operator_entries(op, self.flow).edge_list()

    @_cached_edge_index.setter
    def _cached_edge_index(self, value) -> None:
        self._set_cache(value, sparse_tensor=False)

    @property
    def _cached_adj_t(self):
        op = self._cached_ops['sparse_tensor']
        if op is None:
            return None
        from torch_sparse import SparseTensor  # was given one
        return sparse_adj_t(operator_entries(op, self.flow),
                            SparseTensor.eye(1))

    @_cached_adj_t.setter
    def _cached_adj_t(self, value) -> None:
        self._set_cache(value, sparse_tensor=True)

    def _set_cache(self, value, sparse_tensor: bool) -> None:
        """``None`` clears the cache; a normalized graph (``(edge_index,
        edge_weight)`` or a ``SparseTensor`` ``adj_t``) becomes it."""
        if not sparse_tensor:
            self._cached_entries = None
        kind = 'sparse_tensor' if sparse_tensor else 'tensor'
        if value is None:
            self._cached_ops[kind] = None
            return
        graph, weight = (value, None) if sparse_tensor else value
        self._cached_ops[kind] = gcn_operator(
            graph, weight, None, add_self_loops=False, normalize=False,
            flow=self.flow)

    @checked_forward
    def forward(self, x: Tensor, edge_index: Adj,
                edge_weight: OptTensor = None) -> Tensor:
        if isinstance(x, (tuple, list)) and all(
                isinstance(t, Tensor) for t in x):
            raise ValueError(f"x: '{self.__class__.__name__}' received a "
                             f"tuple of node features as input while this "
                             f"layer does not support bipartite message "
                             f"passing")
        check_layer_flow(self, edge_index)
        check_input(self, x, _DIMS, '[*, num_nodes, channels]',
                    self.in_channels)
        out = self._filter(x, node_axis(self, x), edge_index, edge_weight)
        if self.bias is not None:
            out = out + self.bias
        return out

    def _filter(self, x, nd, edge_index, edge_weight):
        lazy_init([self.lin], x)
        if needs_messages(self, GCNConv):
            e = self._entries(x, nd, edge_index, edge_weight)
            if is_sparse_tensor(edge_index) or \
                    is_torch_sparse_tensor(edge_index):
                adj_t = sparse_adj_t(e, edge_index)  # PyG fuses on these
                out = self.propagate(adj_t, x=self.lin(x), edge_weight=None)
            else:
                ei, w = e.edge_list()
                out = self.propagate(ei, x=self.lin(x), edge_weight=w)
        else:
            op = self._operator(x, nd, edge_index, edge_weight)
            if calls_modules([self.lin]):
                out = engine_propagate(op, nd)(self.lin(x))
            else:
                out = from_node_major(self._fused(to_node_major(x, nd), op),
                                      x, nd)
        return out

    def _operator(self, x, nd, edge_index, edge_weight) -> SparseOperator:
        kind = _kind(edge_index)
        op = self._cached_ops[kind]
        n = x.size(nd)
        if op is not None:
            if op.num_nodes != n:
                raise ValueError(f"x has {n} nodes but the cached "
                                 f"operator has {op.num_nodes} nodes")
            return op
        if self.cached and isinstance(edge_index, Tensor) and \
                edge_index.layout == torch.strided:
            self._entries(x, nd, edge_index, edge_weight)  # fills the cache
            return self._cached_ops['tensor']
        op = gcn_for(x, n, edge_index, edge_weight, self.improved,
                     self.add_self_loops, self.normalize, self.flow)
        if self.cached:
            self._cached_ops[kind] = op
        return op

    def _entries(self, x, nd, edge_index, edge_weight) -> Entries:
        """The normalized graph per edge, in the input's edge order (which
        explainers' edge masks follow); cached with ``cached=True``."""
        if self._cached_entries is not None and \
                not is_sparse_tensor(edge_index):
            return self._cached_entries
        if self._cached_ops[_kind(edge_index)] is not None or \
                not isinstance(edge_index, Tensor) or \
                edge_index.layout != torch.strided:
            op = self._operator(x, nd, edge_index, edge_weight)
            return operator_entries(op, self.flow)
        check_same_device('x', x.device, 'edge_index', edge_index.device)
        e = gcn_entries(edge_index, edge_weight, x.size(nd), self.improved,
                        self.add_self_loops, self.normalize, x.dtype,
                        self.flow)
        if self.cached:
            self._cached_entries, self._cached_ops['tensor'] = \
                e, e.operator()
        return e

    def _fused(self, x: Tensor, op: SparseOperator) -> Tensor:
        """``S x W`` for ``x`` ``[N, C]`` or ``[N, M, C]``, propagating in
        the smaller width."""
        W = self.lin.weight  # [F, C]
        F, C = W.shape
        if x.dim() == 2 and x.layout == torch.strided:  # [N, C]: no views
            if F < C:
                return op.matmul(torch.nn.functional.linear(x, W))
            return torch.nn.functional.linear(op.matmul(x), W)
        w = W.t()  # [C, F]
        n = x.size(0)
        if x.layout != torch.strided:  # sparse [N, C]
            return op.matmul(project(x, w))
        if F < C:
            h = (x.reshape(-1, C) @ w).view(n, -1)  # [N*M, F] -> [N, M*F]
            return op.matmul(h).view(x.shape[:-1] + (F, ))
        y = op.matmul(x.reshape(n, -1)).view(-1, C)  # [N, M*C] -> [N*M, C]
        return (y @ w).view(x.shape[:-1] + (F, ))

    def message(self, x_j: Tensor, edge_weight: OptTensor) -> Tensor:
        return x_j if edge_weight is None else edge_weight.view(-1, 1) * x_j

    def message_and_aggregate(self, adj_t: Adj, x: Tensor) -> Tensor:
        return spmm(adj_t, x, reduce=self.aggr)

    def __prepare_scriptable__(self):
        no_torchscript(self)


def _kind(edge_index) -> str:
    """The cache slot of a graph input: PyG keeps ``_cached_edge_index``
    for tensors and ``_cached_adj_t`` for SparseTensors."""
    return 'sparse_tensor' if is_sparse_tensor(edge_index) else 'tensor'
