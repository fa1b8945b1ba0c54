"""BernNet's random 60/20/20 splits, node for node.

BernNet's ``NodeClassification/utils.py`` (``random_planetoid_splits``,
reused by ChebNetII) draws each split from ``np.random.RandomState(seed)``
with the ten fixed seeds of its ``training.py`` (:data:`SEEDS`):
``round(0.6 N / C)`` training nodes per class by ``choice(...,
replace=False)`` in class order (a class with fewer nodes gives all of
them, drawing nothing), then ``round(0.2 N)`` validation nodes from the
remaining ones in ascending order, the rest for testing. The same calls on
the same generator give the same nodes, so a split here equals the
authors' whenever the node order does.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np
import torch
from torch import Tensor

# BernNet NodeClassification/training.py, "10 fixed seeds for splits"
SEEDS = (1941488137, 4198936517, 983997847, 4023022221, 4019585660,
         2108550661, 1648766618, 629014539, 3212139042, 2424918363)


def bernnet_split(y: Tensor, seed: int, num_classes: int = None,
                  train: float = 0.6, val: float = 0.2
                  ) -> Tuple[Tensor, Tensor, Tensor]:
    """Boolean ``train, val, test`` masks ``[N]`` of BernNet's
    ``random_planetoid_splits(data, C, round(train N / C), round(val N),
    seed)``."""
    labels = np.asarray(y.cpu(), dtype=np.int64)
    n = labels.size
    c = int(labels.max()) + 1 if num_classes is None else int(num_classes)
    per_class = int(round(train * n / c))
    n_val = int(round(val * n))
    rng = np.random.RandomState(seed)
    train_idx = []
    for k in range(c):
        members = np.where(labels == k)[0]
        if members.size < per_class:
            train_idx.extend(members)
        else:
            train_idx.extend(rng.choice(members, per_class, replace=False))
    rest = np.setdiff1d(np.arange(n), np.asarray(train_idx, np.int64))
    val_idx = rng.choice(rest, n_val, replace=False)
    masks = []
    for idx in (train_idx, val_idx):
        m = torch.zeros(n, dtype=torch.bool)
        m[torch.as_tensor(np.asarray(idx, np.int64))] = True
        masks.append(m)
    masks.append(~(masks[0] | masks[1]))
    return tuple(masks)


def split_index(i: int) -> int:
    """The seed of split ``i`` (``i < 10``: the authors' seeds)."""
    if not 0 <= i < len(SEEDS):
        raise ValueError(f"split must be in [0, {len(SEEDS)}) (got {i})")
    return SEEDS[i]
