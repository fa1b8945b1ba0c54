import torch
from torch import Tensor
from torch_geometric.utils import scatter

from ..ops.validation import check_same_device, check_x
from ._checks import checked_forward


class GraphPool(torch.nn.Module):
    r"""Pooling over the clusters of a coarsening level
    (:func:`pyg_spectral.graph.coarsen`): every cluster's features are the
    max (or mean) of its nodes'. For a batch of ``B`` signals on the same
    graph, ``x`` is ``[B, N, C]`` -> ``[B, N', C]`` (``node_dim=-2``); a
    node-major ``[N, B, C]`` layout uses ``node_dim=0``. For a PyG batch of
    different graphs, pass the concatenated, offset clusters and ``x``
    ``[N_total, C]``. No padding nodes exist, so none can win the max.

    Args:
        cluster (Tensor): ``[N]`` cluster index of every node.
        reduce (str): ``'max'`` (default) or ``'mean'``.
        node_dim (int): The node axis of ``x`` (default ``-2``).

    Shapes:
        **input:** ``x`` with ``N`` nodes on ``node_dim``;
        **output:** the same with ``cluster.max() + 1`` nodes.

    Example:
        >>> import torch
        >>> from pyg_spectral.nn import GraphPool
        >>> pool = GraphPool(torch.tensor([0, 0, 1]), 'max')
        >>> pool(torch.tensor([[[1.0], [3.0], [2.0]]]))
        tensor([[[3.],
                 [2.]]])
    """

    def __init__(self, cluster: Tensor, reduce: str = 'max',
                 node_dim: int = -2):
        super().__init__()
        if not isinstance(cluster, Tensor) or cluster.is_floating_point() \
                or cluster.dim() != 1:
            raise TypeError("cluster must be a 1-D integer Tensor (node -> "
                            "cluster index)")
        if cluster.numel() and int(cluster.min()) < 0:
            raise ValueError("cluster contains a negative cluster index")
        if isinstance(node_dim, bool) or not isinstance(node_dim, int):
            raise TypeError(f"node_dim must be an int "
                            f"(got {type(node_dim).__name__})")
        if reduce not in ('max', 'mean'):
            raise ValueError(f"reduce must be 'max' or 'mean' "
                             f"(got {reduce!r})")
        self.register_buffer('cluster', cluster.long())
        self.num_clusters = int(cluster.max()) + 1 if cluster.numel() else 0
        self.reduce, self.node_dim = reduce, node_dim

    @checked_forward
    def forward(self, x: Tensor) -> Tensor:
        check_x(x, dims=(1, 2, 3, 4), layout='[..., N, ..., C]')
        if not -x.dim() <= self.node_dim < x.dim():
            raise ValueError(f"node_dim={self.node_dim} is out of range for "
                             f"x with {x.dim()} dimensions")
        check_same_device('x', x.device, 'cluster', self.cluster.device)
        dim = self.node_dim % x.dim()
        if x.size(dim) != self.cluster.numel():
            raise ValueError(f"x has {x.size(dim)} nodes but the clustering "
                             f"has {self.cluster.numel()}")
        return scatter(x, self.cluster, dim=dim,
                       dim_size=self.num_clusters, reduce=self.reduce)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.cluster.numel()} -> '
                f'{self.num_clusters}, reduce={self.reduce})')
