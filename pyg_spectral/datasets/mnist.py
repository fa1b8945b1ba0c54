"""MNIST (idx files) and scikit-learn's 8x8 digits as graph signals.

``load_mnist(root)`` reads ``t10k-images-idx3-ubyte.gz`` /
``t10k-labels-idx1-ubyte.gz`` (the 10,000-image test release is all this
machine has: ../shared/data/mnist) or the training release when present;
bad or missing files raise errors naming them. Images are returned as
``[n, 784]`` floats in [0, 1].
"""
from __future__ import annotations

import gzip
import os
from typing import Optional, Tuple

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
SHARED_MNIST = os.path.normpath(os.path.join(_HERE, '..', '..', '..',
                                             'shared', 'data', 'mnist'))


def _read_idx(path: str, magic: int) -> np.ndarray:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"MNIST file not found: {path}")
    try:
        with gzip.open(path, 'rb') as f:
            data = f.read()
    except OSError as exc:
        raise ValueError(f"{path}: not a gzip file ({exc})") from exc
    got = int.from_bytes(data[:4], 'big')
    if got != magic:
        raise ValueError(f"{path}: bad magic number {got} (want {magic})")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big')
            for i in range(ndim)]
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise ValueError(f"{path}: truncated ({arr.size} of "
                         f"{int(np.prod(dims))} values)")
    return arr.reshape(dims)


def load_mnist(root: Optional[str] = None, split: str = 't10k'
               ) -> Tuple[np.ndarray, np.ndarray]:
    root = root or SHARED_MNIST
    x = _read_idx(os.path.join(root, f'{split}-images-idx3-ubyte.gz'), 2051)
    y = _read_idx(os.path.join(root, f'{split}-labels-idx1-ubyte.gz'), 2049)
    if len(x) != len(y):
        raise ValueError(f"{root}: {len(x)} images but {len(y)} labels")
    return x.reshape(len(x), -1).astype(np.float32) / 255.0, \
        y.astype(np.int64)


def load_digits_8x8() -> Tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 digits (1797 images, no download), as
    ``[n, 64]`` floats in [0, 1]."""
    from sklearn.datasets import load_digits
    d = load_digits()
    return d.data.astype(np.float32) / 16.0, d.target.astype(np.int64)


def stratified_split(y: np.ndarray, n_test: int, seed: int = 0):
    """Indices (train, test) with ``n_test`` test items, class-stratified,
    fixed seed."""
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    frac = n_test / len(y)
    test = []
    for c in classes:
        idx = np.nonzero(y == c)[0]
        rng.shuffle(idx)
        test.extend(idx[:int(round(frac * len(idx)))])
    test = np.array(sorted(test[:n_test]))
    train = np.setdiff1d(np.arange(len(y)), test)
    return train, test
