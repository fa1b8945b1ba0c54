from .heterophily import (default_heterophily_root, load_heterophily,
                          read_heterophily_npz)
from .image_grid import default_filters_root, load_image_grid
from .planetoid import default_planetoid_root, load_planetoid
from .traffic import (LosLoop, PeMSD7, TrafficDataset, dense_to_graph,
                      distance_to_adjacency)

__all__ = [
    'load_planetoid',
    'default_planetoid_root',
    'load_heterophily',
    'read_heterophily_npz',
    'default_heterophily_root',
    'load_image_grid',
    'default_filters_root',
    'TrafficDataset',
    'LosLoop',
    'PeMSD7',
    'distance_to_adjacency',
    'dense_to_graph',
]
