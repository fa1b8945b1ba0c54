"""Helpers shared by the reproduction commands: progress bar, seeding,
aggregation, Markdown/JSON output."""
from __future__ import annotations

import json
import os
import random
import statistics
from typing import Iterable

import numpy as np
import torch


def progress(iterable: Iterable, total=None, desc=''):
    """tqdm when installed, else a plain iterator with a line per 10 %."""
    try:
        from tqdm.auto import tqdm
        return tqdm(iterable, total=total, desc=desc, leave=False)
    except ImportError:  # pragma: no cover
        return iterable


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def mean_std(values):
    values = list(values)
    if not values:
        return float('nan'), float('nan')
    if len(values) == 1:
        return float(values[0]), 0.0
    return statistics.mean(values), statistics.stdev(values)


def write_json(path: str, obj) -> None:
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    with open(path, 'w') as f:  # compact: per-epoch histories are long
        json.dump(obj, f, separators=(',', ':'))


def write_text(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


def have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
        return True
    except ImportError:
        return False
