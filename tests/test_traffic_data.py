"""Traffic datasets and the traffic reproduction's pieces."""
import os

import numpy as np
import pytest
import torch

from pyg_spectral.datasets import (LosLoop, PeMSD7, TrafficDataset,
                                   distance_to_adjacency)
from pyg_spectral.datasets.traffic import SHARED_TRAFFIC


def test_paper_and_code_kernels_agree():
    """sigma^2 = 10 on km (paper) == sigma^2 = 0.1 on metres / 10^4 (code)."""
    d = np.random.default_rng(0).uniform(0, 6000, (30, 30))
    d = (d + d.T) / 2
    code = distance_to_adjacency(d, 0.1, 0.5, 10000.0)
    paper = distance_to_adjacency(d, 10.0, 0.5, 1000.0)
    assert np.allclose(code, paper)
    kept = d[(code > 0)]
    assert kept.max() < 2634 and np.all(np.diag(code) == 0)


def _synthetic(days=4, n=6, spd=40, n_his=5):
    t = np.arange(days * spd)
    speed = 50 + 10 * np.sin(2 * np.pi * t / spd)[:, None] + \
        np.arange(n)[None]
    adj = np.ones((n, n)) - np.eye(n)
    return TrafficDataset(speed, adj, slots_per_day=spd,
                          split_days=(2, 1, 1), n_his=n_his,
                          horizons=(1, 3))


def test_windows_stay_inside_days_and_use_train_stats():
    ds = _synthetic()
    w = ds.windows('val')
    spd = ds.slots_per_day
    span = ds.n_his + max(ds.horizons)
    assert w['x'].shape == (spd - span + 1, ds.n_his, 6, 1)
    first_target = w['t']  # index of the first future step
    assert torch.all((first_target - ds.n_his) // spd ==
                     (first_target + max(ds.horizons) - 1) // spd)
    train = ds.speed[:2 * spd]
    assert ds.mean == pytest.approx(train.mean())
    # y holds raw speeds at t + h - 1
    t0 = int(first_target[0])
    assert float(w['y'][0, 2, 1]) == pytest.approx(ds.speed[t0 + 2, 2])
    assert torch.allclose(ds.denormalize(w['x'][0, -1, :, 0]),
                          torch.tensor(ds.speed[t0 - 1], dtype=torch.float32))


def test_pemsd7_loader_on_a_file_in_the_exact_format(tmp_path):
    raw = tmp_path / 'raw'
    raw.mkdir()
    rng = np.random.default_rng(0)
    np.savetxt(raw / 'V_228.csv', rng.uniform(20, 70, (12672, 228)),
               delimiter=',', fmt='%.1f')
    w = os.path.join(SHARED_TRAFFIC, 'pemsd7-m', 'W_228.csv')
    if os.path.isfile(w):
        dist = np.loadtxt(w, delimiter=',')
    else:
        dist = rng.uniform(0, 40000, (228, 228))
        dist = (dist + dist.T) / 2
        np.fill_diagonal(dist, 0)
    np.savetxt(raw / 'W_228.csv', dist, delimiter=',')
    ds = PeMSD7(str(tmp_path))
    assert ds.split_days == (34, 5, 5) and ds.num_nodes == 228
    assert ds.windows('test')['x'].shape[0] == 5 * (288 - 12 - 9 + 1)
    # bad / missing files are named
    np.savetxt(raw / 'V_228.csv', rng.uniform(20, 70, (100, 228)),
               delimiter=',', fmt='%.1f')
    with pytest.raises(ValueError, match='V_228.csv'):
        PeMSD7(str(tmp_path))
    os.remove(raw / 'V_228.csv')
    with pytest.raises(FileNotFoundError, match='V_228.csv'):
        PeMSD7(str(tmp_path))


@pytest.mark.skipif(not os.path.isdir(os.path.join(SHARED_TRAFFIC,
                                                   'metr-la')),
                    reason='Los-loop files not present')
def test_losloop_real_data():
    ds = LosLoop()
    assert ds.num_nodes == 207 and ds.speed.shape == (2016, 207)
    assert ds.edge_index.size(1) > 0
    w = ds.windows('test')
    assert w['x'].shape == (288 - 12 - 9 + 1, 12, 207, 1)


def test_losloop_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match='los_speed.csv'):
        LosLoop(str(tmp_path))
    (tmp_path / 'los_speed.csv').write_text('a,b\n1,x\n')
    with pytest.raises(ValueError, match='los_speed.csv'):
        LosLoop(str(tmp_path))


def test_baselines_and_training_smoke():
    from pyg_spectral.reproduce.traffic import baselines, train_stgcn
    ds = _synthetic(days=4, n=6, spd=40, n_his=12)
    base = baselines(ds)
    assert set(base) == {'Last value', 'Historical average',
                         'Per-node linear'}
    # a noiseless periodic signal: the linear model is near exact
    assert max(base['Per-node linear']['MAE']) < 0.5
    r = train_stgcn(ds, 'cheb', 0, epochs=2, blocks='small')
    assert len(r['MAE']) == 2 and np.isfinite(r['MAE']).all()
