"""Planetoid citation graphs (Cora, CiteSeer, PubMed) through PyG's
``Planetoid`` dataset, offline-safe.

* ``root`` holds ``<name>/raw/ind.<name>.*`` (PyG's layout). When every raw
  file is there nothing is downloaded; PyG writes ``processed/`` beside
  ``raw/``, so a read-only root (such as ``../shared/data/planetoid``) is
  first copied to a writable cache.
* Missing files raise ``FileNotFoundError`` naming them (a partial folder is
  never "completed" by a download); a corrupt file raises ``ValueError``
  naming it. Only ``download=True`` lets PyG fetch a dataset whose raw folder
  is absent.
"""
from __future__ import annotations

import os
from typing import Optional

from . import _paths

NAMES = {'cora': 'Cora', 'citeseer': 'CiteSeer', 'pubmed': 'PubMed'}
SUFFIXES = ['x', 'tx', 'allx', 'y', 'ty', 'ally', 'graph', 'test.index']


def default_planetoid_root() -> str:
    """``$PYG_SPECTRAL_DATA/planetoid``, else ``../shared/data/planetoid``
    beside the checkout when it exists, else
    ``~/.cache/pyg_spectral/planetoid``."""
    return _paths.data_root('planetoid')


def _canonical(name: str) -> str:
    key = name.lower()
    if key not in NAMES:
        raise ValueError(f"name must be one of {sorted(NAMES.values())} "
                         f"(got {name!r})")
    return NAMES[key]


def load_planetoid(name: str, root: Optional[str] = None,
                   download: bool = False, transform=None):
    """Returns PyG's ``Planetoid(root, name)[0]`` (public split)."""
    from torch_geometric.datasets import Planetoid
    name = _canonical(name)
    root = root or default_planetoid_root()
    raw = os.path.join(root, name, 'raw')
    files = [f'ind.{name.lower()}.{s}' for s in SUFFIXES]
    if os.path.isdir(raw):
        missing = [f for f in files if not os.path.isfile(
            os.path.join(raw, f))]
        if missing:
            raise FileNotFoundError(
                f"{name}: missing raw file(s) {missing} in {raw}; "
                f"nothing is downloaded into a partial folder")
    elif not download:
        raise FileNotFoundError(
            f"{name}: no raw files under {raw} (expected {files}); "
            f"pass download=True (--download) to fetch them")
    if os.path.isdir(raw):  # PyG writes processed/ beside raw/
        root = _paths.writable_copy(
            root, [os.path.join(name, 'raw', f) for f in files],
            os.path.join(_paths.CACHE, 'planetoid'))
    try:
        return Planetoid(root, name, transform=transform)[0]
    except (FileNotFoundError, ValueError):
        raise
    except Exception as exc:  # unpickling / parsing errors
        bad = _find_corrupt(os.path.join(root, name, 'raw'), files)
        raise ValueError(f"{name}: could not read {bad or 'the raw files'} "
                         f"({exc!r})") from exc


def _find_corrupt(raw, files):
    import pickle
    import sys
    for f in files:
        path = os.path.join(raw, f)
        try:
            if f.endswith('test.index'):
                [int(line) for line in open(path)]
            else:
                with open(path, 'rb') as fh:
                    if sys.version_info > (3, 0):
                        pickle.load(fh, encoding='latin1')
        except Exception:
            return path
    return None
