r"""Traffic speed datasets for STGCN-style forecasting.

Directory convention (PyG's): ``root/raw/`` holds the original files,
``root/processed/`` a cache (only written when ``root`` is writable).

* :func:`distance_to_adjacency`: :math:`w_{ij} = \exp(-(d_{ij}/s)^2 /
  \sigma^2)` if that is :math:`\geq \epsilon` and :math:`i \neq j`, else 0.
  The paper (Yu et al. 2018, Sec. 4.1) states :math:`\sigma^2 = 10`,
  :math:`\epsilon = 0.5` with distances in km (``scale=1000`` for metres);
  the authors' code uses ``W / 10000`` and :math:`\sigma^2 = 0.1`, which is
  the *same* kernel (:math:`d^2 / 10^7` in metres²): both keep pairs closer
  than about 2.63 km. Defaults follow the code: ``scale=10000``,
  ``sigma2=0.1``, ``epsilon=0.5``.
* :class:`TrafficDataset`: a speed matrix ``[T, N]`` and a graph; z-score
  with training statistics only; sliding windows of ``n_his`` steps with
  targets at ``horizons`` (steps ahead) that never cross a day boundary;
  chronological split by days.
* :class:`PeMSD7` (228 stations; ``V_228.csv`` 12672 x 228 speeds,
  ``W_228.csv`` distances in metres; 44 weekdays of 288 slots, split
  34/5/5 days as the paper) and :class:`LosLoop` (the METR-LA one-week
  subset of T-GCN: ``los_speed.csv`` 2016 x 207 with a sensor-id header,
  ``los_adj.csv`` 207 x 207; split 5/1/1 days).
"""
from __future__ import annotations

import os
import zipfile
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

_HERE = os.path.dirname(os.path.abspath(__file__))
SHARED_TRAFFIC = os.path.normpath(os.path.join(_HERE, '..', '..', '..',
                                               'shared', 'data', 'traffic'))


def distance_to_adjacency(dist: np.ndarray, sigma2: float = 0.1,
                          epsilon: float = 0.5, scale: float = 10000.0
                          ) -> np.ndarray:
    """Gaussian-kernel weighted adjacency from a distance matrix (see the
    module doc for the paper's vs the authors' parameters)."""
    dist = np.asarray(dist, dtype=np.float64)
    if dist.ndim != 2 or dist.shape[0] != dist.shape[1]:
        raise ValueError(f"dist must be a square matrix (got {dist.shape})")
    if not np.isfinite(dist).all():
        raise ValueError("dist contains NaN or Inf")
    if sigma2 <= 0 or scale <= 0:
        raise ValueError("sigma2 and scale must be > 0")
    w = np.exp(-(dist / scale) ** 2 / sigma2)
    w[w < epsilon] = 0.0
    np.fill_diagonal(w, 0.0)
    return w


def dense_to_graph(adj: np.ndarray) -> Tuple[Tensor, Tensor]:
    """``(edge_index, edge_weight)`` of the nonzeros of a dense adjacency
    (``adj[i, j]`` = weight of edge i -> j), self-loops dropped."""
    adj = np.array(adj, dtype=np.float64)
    if adj.ndim != 2 or adj.shape[0] != adj.shape[1]:
        raise ValueError(f"adj must be a square matrix (got {adj.shape})")
    if not np.isfinite(adj).all():
        raise ValueError("adj contains NaN or Inf")
    np.fill_diagonal(adj, 0.0)
    src, dst = np.nonzero(adj)
    ei = torch.from_numpy(np.stack([src, dst])).long()
    return ei, torch.from_numpy(adj[src, dst]).float()


def _read_matrix(path: str, shape: Optional[Tuple[int, int]] = None,
                 header: bool = False, what: str = 'file') -> np.ndarray:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{what} not found: {path}")
    try:
        arr = np.loadtxt(path, delimiter=',', skiprows=1 if header else 0,
                         dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise ValueError(f"{path}: not a numeric CSV matrix ({exc})") \
            from exc
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{path}: expected shape {shape}, got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{path}: contains NaN or Inf")
    return arr


class TrafficDataset:
    r"""Speeds ``[T, N]`` + graph, windows and splits (see module doc).

    Args:
        speed (array ``[T, N]``): speeds (e.g. mph or km/h).
        adjacency (array ``[N, N]``): weighted adjacency.
        slots_per_day (int): steps per day; windows stay inside a day.
        split_days (tuple): numbers of (train, val, test) days, in order.
        n_his (int): input steps. horizons: steps ahead to predict
            (3/6/9 = 15/30/45 min at 5-minute slots).
    """

    def __init__(self, speed, adjacency, slots_per_day: int = 288,
                 split_days: Sequence[int] = (5, 1, 1), n_his: int = 12,
                 horizons: Sequence[int] = (3, 6, 9)):
        speed = np.asarray(speed, dtype=np.float64)
        if speed.ndim != 2:
            raise ValueError(f"speed must be [T, N] (got {speed.shape})")
        T, N = speed.shape
        if np.asarray(adjacency).shape != (N, N):
            raise ValueError(f"adjacency must be [{N}, {N}] "
                             f"(got {np.asarray(adjacency).shape})")
        days = sum(split_days)
        if T < days * slots_per_day:
            raise ValueError(f"speed has {T} steps, fewer than "
                             f"{days} days x {slots_per_day} slots")
        if n_his + max(horizons) > slots_per_day:
            raise ValueError("n_his + max(horizons) exceeds a day")
        self.speed, self.num_nodes = speed, N
        self.slots_per_day, self.split_days = slots_per_day, tuple(split_days)
        self.n_his, self.horizons = n_his, tuple(horizons)
        self.edge_index, self.edge_weight = dense_to_graph(adjacency)
        train = speed[:split_days[0] * slots_per_day]
        self.mean, self.std = float(train.mean()), float(train.std())

    def day_range(self, split: str) -> range:
        a, b, c = self.split_days
        return {'train': range(0, a), 'val': range(a, a + b),
                'test': range(a + b, a + b + c)}[split]

    def windows(self, split: str) -> Dict[str, Tensor]:
        """``x`` ``[S, n_his, N, 1]`` (z-scored), ``y`` ``[S, N, H]`` (raw
        units), ``t`` ``[S]`` index of the first target step."""
        z = (self.speed - self.mean) / self.std
        span = self.n_his + max(self.horizons)
        xs, ys, ts = [], [], []
        for d in self.day_range(split):
            start = d * self.slots_per_day
            for j in range(self.slots_per_day - span + 1):
                t0 = start + j
                xs.append(z[t0:t0 + self.n_his])
                ys.append(np.stack([self.speed[t0 + self.n_his + h - 1]
                                    for h in self.horizons], -1))
                ts.append(t0 + self.n_his)
        x = torch.tensor(np.stack(xs), dtype=torch.float32).unsqueeze(-1)
        return dict(x=x, y=torch.tensor(np.stack(ys), dtype=torch.float32),
                    t=torch.tensor(ts))

    def normalize(self, v):
        return (v - self.mean) / self.std

    def denormalize(self, v):
        return v * self.std + self.mean


class LosLoop(TrafficDataset):
    """METR-LA one-week subset (T-GCN's Los-loop): 7 days x 288 slots,
    207 sensors. ``root`` holds ``los_speed.csv`` and ``los_adj.csv``
    directly or under ``raw/`` (default: ../shared/data/traffic/metr-la)."""

    def __init__(self, root: Optional[str] = None, **kwargs):
        root = root or os.path.join(SHARED_TRAFFIC, 'metr-la')
        raw = os.path.join(root, 'raw') if os.path.isdir(
            os.path.join(root, 'raw')) else root
        speed = _read_matrix(os.path.join(raw, 'los_speed.csv'), None,
                             header=True, what='LosLoop speed file')
        if speed.shape != (2016, 207):
            raise ValueError(f"{os.path.join(raw, 'los_speed.csv')}: "
                             f"expected 2016 x 207 speeds after the header, "
                             f"got {speed.shape}")
        adj = _read_matrix(os.path.join(raw, 'los_adj.csv'), (207, 207),
                           what='LosLoop adjacency file')
        kwargs.setdefault('split_days', (5, 1, 1))
        super().__init__(speed, adj, **kwargs)


class PeMSD7(TrafficDataset):
    r"""PeMSD7(M) of Yu et al.: 228 stations, 44 weekdays x 288 slots
    (``V_228.csv``, 12672 x 228, no header) and station distances in metres
    (``W_228.csv``, 228 x 228), under ``root/raw/``. Split 34/5/5 days.
    ``download=True`` fetches the authors' release (``PeMSD7_Full.zip``)
    when the speed file is missing. ``sigma2``, ``epsilon``, ``scale``: see
    :func:`distance_to_adjacency`."""

    url = ('https://github.com/VeritasYin/STGCN_IJCAI-18/raw/master/'
           'dataset/PeMSD7_Full.zip')

    def __init__(self, root: str, download: bool = False,
                 sigma2: float = 0.1, epsilon: float = 0.5,
                 scale: float = 10000.0, **kwargs):
        raw = os.path.join(root, 'raw')
        v_path = os.path.join(raw, 'V_228.csv')
        if not os.path.isfile(v_path) and download:
            self._download(raw)
        speed = _read_matrix(v_path, (12672, 228), what='PeMSD7 speed file')
        dist = _read_matrix(os.path.join(raw, 'W_228.csv'), (228, 228),
                            what='PeMSD7 distance file')
        adj = distance_to_adjacency(dist, sigma2, epsilon, scale)
        kwargs.setdefault('split_days', (34, 5, 5))
        super().__init__(speed, adj, **kwargs)

    def _download(self, raw: str) -> None:  # pragma: no cover - network
        from torch_geometric.data import download_url
        os.makedirs(raw, exist_ok=True)
        path = download_url(self.url, raw)
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                base = os.path.basename(name)
                if base in ('V_228.csv', 'W_228.csv'):
                    with zf.open(name) as src, \
                            open(os.path.join(raw, base), 'wb') as dst:
                        dst.write(src.read())
