"""BernNet's image-filter data (He et al., NeurIPS 2021, Sec. 5.1): 50
real 100x100 images as signals on the 4-neighbour grid graph.

``<root>/2Dgrid/raw/2Dgrid.mat`` holds ``A`` (the grid adjacency,
``[10000, 10000]``), ``F`` (one image per column, ``[10000, 50]``, values in
``[0, 1]``) and ``mask`` (the 96x96 interior the loss is taken on). The
filtered targets are not in the file:
:func:`pyg_spectral.reproduce.filters.targets` computes them.
"""
from __future__ import annotations

import os
from typing import Optional

import numpy as np
import torch

from ._paths import data_root


def default_filters_root() -> str:
    """``$PYG_SPECTRAL_DATA/filters``, else ``../shared/data/filters``,
    else ``~/.cache/pyg_spectral/filters``."""
    return data_root('filters')


def load_image_grid(root: Optional[str] = None):
    """``Data(edge_index [2, E], x [N, 50] images, mask [N] bool)`` from
    ``<root>/2Dgrid/raw/2Dgrid.mat`` (read in place: nothing is written).
    ``edge_index`` lists the nonzeros of ``A`` row by row (as BernNet's
    ``TwoDGrid``), so it is sorted by source and symmetric."""
    from scipy.io import loadmat
    from torch_geometric.data import Data
    root = root or default_filters_root()
    path = os.path.join(root, '2Dgrid', 'raw', '2Dgrid.mat')
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no 2Dgrid.mat at {path} (set "
                                f"$PYG_SPECTRAL_DATA or pass root=)")
    try:
        mat = loadmat(path)
        A, F, M = mat['A'], mat['F'], mat['mask']
    except (KeyError, ValueError, OSError) as exc:
        raise ValueError(f"could not read {path} ({exc!r})") from exc
    A = A.toarray() if hasattr(A, 'toarray') else np.asarray(A)
    n = A.shape[0]
    if A.shape != (n, n) or F.shape[0] != n or np.asarray(M).size != n:
        raise ValueError(f"{path}: A {A.shape}, F {F.shape}, mask "
                         f"{np.asarray(M).shape} do not agree")
    row, col = np.nonzero(A > 0)
    edge_index = torch.from_numpy(np.stack([row, col])).long()
    x = torch.from_numpy(np.asarray(F, dtype=np.float32))
    mask = torch.from_numpy(np.asarray(M).reshape(-1) > 0)
    return Data(edge_index=edge_index, x=x, mask=mask, num_nodes=n)
