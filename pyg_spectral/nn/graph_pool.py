import torch
from torch import Tensor
from torch_geometric.utils import scatter


class GraphPool(torch.nn.Module):
    r"""Pooling over the clusters of a coarsening level
    (:func:`pyg_spectral.graph.coarsen`): every cluster's features are the
    max (or mean) of its nodes'. For a batch of ``B`` signals on the same
    graph, ``x`` is ``[B, N, C]`` -> ``[B, N', C]``. No padding nodes
    exist, so none can win the max."""

    def __init__(self, cluster: Tensor, reduce: str = 'max'):
        super().__init__()
        if reduce not in ('max', 'mean'):
            raise ValueError(f"reduce must be 'max' or 'mean' "
                             f"(got {reduce!r})")
        self.register_buffer('cluster', cluster.long())
        self.num_clusters = int(cluster.max()) + 1 if cluster.numel() else 0
        self.reduce = reduce

    def forward(self, x: Tensor) -> Tensor:
        if x.size(-2) != self.cluster.numel():
            raise ValueError(f"x has {x.size(-2)} nodes but the clustering "
                             f"has {self.cluster.numel()}")
        return scatter(x, self.cluster, dim=x.dim() - 2,
                       dim_size=self.num_clusters, reduce=self.reduce)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.cluster.numel()} -> '
                f'{self.num_clusters}, reduce={self.reduce})')
