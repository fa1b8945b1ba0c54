"""Graph construction (grids, kNN Gaussian graphs estimated from data) and
hierarchical coarsening for pooling."""
from .coarsen import coarsen, normalized_cut_matching
from .knn import estimate_graph, grid_graph, knn_gaussian_graph

__all__ = ['knn_gaussian_graph', 'grid_graph', 'estimate_graph', 'coarsen',
           'normalized_cut_matching']
