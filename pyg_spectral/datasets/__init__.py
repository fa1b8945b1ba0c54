from .planetoid import default_planetoid_root, load_planetoid
from .traffic import (LosLoop, PeMSD7, TrafficDataset, dense_to_graph,
                      distance_to_adjacency)

__all__ = [
    'load_planetoid',
    'default_planetoid_root',
    'TrafficDataset',
    'LosLoop',
    'PeMSD7',
    'distance_to_adjacency',
    'dense_to_graph',
]
