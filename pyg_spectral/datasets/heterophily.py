"""Heterophilous node-classification graphs, offline-safe.

One entry point, :func:`load_heterophily`, over three file families (the
layout of ``../shared/data/heterophily``):

* ``webkb/<name>/raw/`` (Texas, Cornell, Wisconsin) and ``actor/raw/``:
  Geom-GCN's files, read by PyG's own ``WebKB`` / ``Actor`` (directed edge
  lists, Geom-GCN's ten 48/32/20 splits as ``[N, 10]`` masks);
* ``yandex/<name>/raw/<name>.npz`` of Platonov et al. (ICLR 2023):
  ``minesweeper``, ``tolokers``, ``roman_empire``, ``amazon_ratings``,
  ``questions`` through PyG's ``HeterophilousGraphDataset``; the names no
  PyG class accepts (``chameleon``, ``squirrel``, ``chameleon_filtered``,
  ``squirrel_filtered``, ``actor``, ``texas``, ``cornell``, ``wisconsin``)
  read here into the same ``Data`` layout: undirected ``edge_index``
  (``to_undirected``), ``train_mask`` / ``val_mask`` / ``test_mask``
  ``[N, 10]``.

The yandex copies of Chameleon, Squirrel, Actor, Texas and Cornell are the
undirected graphs GPR-GNN and BernNet trained on (31,371 / 198,353 / 26,659
/ 279 / 277 edges); ``source='yandex'`` (the default for these names except
Wisconsin) selects them, ``source='geom-gcn'`` PyG's directed
``WebKB`` / ``Actor``.

A read-only root is copied to ``~/.cache/pyg_spectral/heterophily`` before
PyG writes ``processed/``; missing files raise ``FileNotFoundError`` naming
them; nothing is downloaded.
"""
from __future__ import annotations

import os
from typing import Optional

import numpy as np
import torch

from . import _paths
from ._paths import data_root, require_files, writable_copy

PYG_YANDEX = ('roman_empire', 'amazon_ratings', 'minesweeper', 'tolokers',
              'questions')
NPZ_ONLY = ('chameleon', 'squirrel', 'chameleon_filtered',
            'squirrel_filtered', 'actor', 'texas', 'cornell', 'wisconsin')
WEBKB = ('texas', 'cornell', 'wisconsin')
NAMES = PYG_YANDEX + NPZ_ONLY
SOURCES = ('yandex', 'geom-gcn')


def default_heterophily_root() -> str:
    """``$PYG_SPECTRAL_DATA/heterophily``, else ``../shared/data/
    heterophily``, else ``~/.cache/pyg_spectral/heterophily``."""
    return data_root('heterophily')


def _key(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name must be a str (got {type(name).__name__})")
    key = name.lower().replace('-', '_')
    key = 'actor' if key == 'film' else key
    if key not in NAMES:
        raise ValueError(f"name must be one of {sorted(NAMES)} (any case; "
                         f"got {name!r})")
    return key


def load_heterophily(name: str, root: Optional[str] = None,
                     source: Optional[str] = None, transform=None):
    """The graph ``name`` (any case; ``'film'`` = ``'actor'``) as one PyG
    ``Data``: ``x`` ``[N, F]``, ``y`` ``[N]``, ``edge_index``, and ten fixed
    splits as ``train_mask`` / ``val_mask`` / ``test_mask`` ``[N, 10]``.

    Args:
        name (str): a name of :data:`NAMES`.
        root (str, optional): the ``heterophily`` folder (default:
            :func:`default_heterophily_root`).
        source (str, optional): ``'yandex'`` (undirected npz) or
            ``'geom-gcn'`` (PyG's ``WebKB`` / ``Actor``, directed; only for
            Texas, Cornell, Wisconsin, Actor). Default: ``'yandex'``.
        transform (callable, optional): applied to the returned ``Data``.
    """
    key = _key(name)
    source = 'yandex' if source is None else source
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES} (got {source!r})")
    root = root or default_heterophily_root()
    if source == 'geom-gcn':
        if key not in WEBKB + ('actor', ):
            raise ValueError(f"source='geom-gcn' holds {WEBKB + ('actor',)}"
                             f" (got {name!r}); use source='yandex'")
        data = _geom_gcn(key, root)
    elif key in PYG_YANDEX:
        data = _pyg_yandex(key, root)
    else:
        data = read_heterophily_npz(
            os.path.join(root, 'yandex', key, 'raw', f'{key}.npz'))
    return data if transform is None else transform(data)


def read_heterophily_npz(path: str):
    """One npz of Platonov et al.'s format (``node_features``,
    ``node_labels``, ``edges`` ``[E, 2]``, ``train_masks`` / ``val_masks``
    / ``test_masks`` ``[10, N]``) as ``HeterophilousGraphDataset`` builds
    it: undirected ``edge_index``, masks ``[N, 10]``."""
    from torch_geometric.data import Data
    from torch_geometric.utils import to_undirected
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no heterophily npz at {path}")
    try:
        raw = np.load(path)
        x = torch.from_numpy(np.asarray(raw['node_features'])).float()
        y = torch.from_numpy(np.asarray(raw['node_labels'])).long()
        edges = torch.from_numpy(np.asarray(raw['edges'])).long()
        masks = [torch.from_numpy(np.asarray(raw[k])).bool()
                 for k in ('train_masks', 'val_masks', 'test_masks')]
    except (KeyError, ValueError, OSError) as exc:
        raise ValueError(f"could not read {path} as a heterophily npz "
                         f"({exc!r})") from exc
    n = x.size(0)
    if edges.dim() != 2 or edges.size(1) != 2 or y.numel() != n or \
            any(m.dim() != 2 or m.size(1) != n for m in masks):
        raise ValueError(f"{path}: inconsistent shapes (x {list(x.shape)}, "
                         f"y {list(y.shape)}, edges {list(edges.shape)}, "
                         f"masks {[list(m.shape) for m in masks]})")
    edge_index = to_undirected(edges.t().contiguous(), num_nodes=n)
    tr, va, te = (m.t().contiguous() for m in masks)  # [10, N] -> [N, 10]
    return Data(x=x, y=y, edge_index=edge_index, train_mask=tr,
                val_mask=va, test_mask=te)


def _pyg_yandex(key: str, root: str):
    from torch_geometric.datasets import HeterophilousGraphDataset
    base = os.path.join(root, 'yandex')
    files = [os.path.join(key, 'raw', f'{key}.npz')]
    require_files(base, files, key)
    base = writable_copy(base, files, os.path.join(_paths.CACHE, 'heterophily',
                                                   'yandex'))
    return HeterophilousGraphDataset(base, key)[0]


def _geom_gcn(key: str, root: str):
    from torch_geometric.datasets import Actor, WebKB
    stem = 'film' if key == 'actor' else key
    raw = ['out1_node_feature_label.txt', 'out1_graph_edges.txt'] + \
        [f'{stem}_split_0.6_0.2_{i}.npz' for i in range(10)]
    if key == 'actor':
        base, files = os.path.join(root, 'actor'), \
            [os.path.join('raw', f) for f in raw]
        cache = os.path.join(_paths.CACHE, 'heterophily', 'actor')
    else:
        base, files = os.path.join(root, 'webkb'), \
            [os.path.join(key, 'raw', f) for f in raw]
        cache = os.path.join(_paths.CACHE, 'heterophily', 'webkb')
    require_files(base, files, key)
    base = writable_copy(base, files, cache)
    if key == 'actor':
        return Actor(base)[0]
    return WebKB(base, key.capitalize())[0]
