"""Where the loaders look for data, and the writable copy PyG needs.

``data_root(sub)``: ``$PYG_SPECTRAL_DATA/<sub>``, else ``../shared/data/
<sub>`` beside the checkout when it exists, else ``~/.cache/pyg_spectral/
<sub>``. PyG's datasets write ``processed/`` beside ``raw/``, so a
read-only folder is first copied to the cache (:func:`writable_copy`).
"""
from __future__ import annotations

import os
import shutil
from typing import Iterable

_HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(_HERE, '..', '..', '..', 'shared',
                                       'data'))
CACHE = os.path.join(os.path.expanduser('~'), '.cache', 'pyg_spectral')


def data_root(sub: str) -> str:
    """The default root of the data set family ``sub`` (see the module
    docstring)."""
    env = os.environ.get('PYG_SPECTRAL_DATA')
    if env:
        return os.path.join(env, sub)
    shared = os.path.join(SHARED, sub)
    if os.path.isdir(shared):
        return shared
    return os.path.join(CACHE, sub)


def writable_copy(root: str, files: Iterable[str], cache: str) -> str:
    """``root`` itself when PyG may write beside ``files`` (paths relative
    to ``root``); else a copy of those files under ``cache`` (copied once,
    again only when a size differs), returned as the new root. The shared
    data folder (and anything under ``$PYG_SPECTRAL_DATA``) is never
    written to, whatever its permissions say."""
    files = list(files)
    dirs = {os.path.dirname(os.path.join(root, f)) for f in files}
    if all(os.access(os.path.dirname(d) or d, os.W_OK) for d in dirs) and \
            not _protected(root):
        return root
    for f in files:
        src, dst = os.path.join(root, f), os.path.join(cache, f)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if not os.path.isfile(dst) or \
                os.path.getsize(dst) != os.path.getsize(src):
            shutil.copyfile(src, dst)
    return cache


def _protected(path: str) -> bool:
    real = os.path.realpath(path)
    env = os.environ.get('PYG_SPECTRAL_DATA')
    for top in (SHARED, env):
        if top and (real + os.sep).startswith(
                os.path.realpath(top) + os.sep):
            return True
    return False


def require_files(root: str, files: Iterable[str], what: str) -> None:
    """``FileNotFoundError`` naming every missing file (nothing is ever
    downloaded into a partial folder)."""
    missing = [f for f in files if not os.path.isfile(os.path.join(root, f))]
    if missing:
        raise FileNotFoundError(
            f"{what}: missing file(s) {missing} under {root} (set "
            f"$PYG_SPECTRAL_DATA or pass root=)")
