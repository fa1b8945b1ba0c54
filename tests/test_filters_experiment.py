"""The image-filter experiment: targets against the dense eigenbasis
formula, the class optimum against a least-squares fit in the monomial
basis, the batched models against their one-image references (PyG's
layers, the authors' filters) and the batched run against separate runs."""
import copy
import math
import os

import numpy as np
import pytest
import torch
from torch_geometric.utils import to_dense_adj

from pyg_spectral.datasets import load_image_grid
from pyg_spectral.reproduce import filter_models as fm
from pyg_spectral.reproduce import filters as fx

SHARED = os.path.join(os.path.dirname(__file__), '..', '..', 'shared',
                      'data', 'filters')


def write_mat(root, side=6, images=4, seed=0):
    from scipy.io import savemat
    n = side * side
    A = np.zeros((n, n), np.uint8)  # the 4-neighbour grid
    for i in range(side):
        for j in range(side):
            if i + 1 < side:
                A[i * side + j, (i + 1) * side + j] = 1
            if j + 1 < side:
                A[i * side + j, i * side + j + 1] = 1
    A = A + A.T
    rng = np.random.default_rng(seed)
    inner = np.zeros((side, side), np.uint8)
    inner[1:-1, 1:-1] = 1
    path = os.path.join(root, '2Dgrid', 'raw')
    os.makedirs(path, exist_ok=True)
    savemat(os.path.join(path, '2Dgrid.mat'),
            dict(A=A, F=rng.random((n, images)),
                 mask=inner.reshape(-1, 1)))
    return load_image_grid(root)


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Targets are cached under a temporary folder, not the user's."""
    from pyg_spectral.datasets import _paths
    monkeypatch.setattr(_paths, 'CACHE', str(tmp_path / 'cache'))


@pytest.fixture
def data(tmp_path):
    return write_mat(str(tmp_path))


def dense_laplacian(data):
    A = to_dense_adj(data.edge_index, max_num_nodes=data.num_nodes)[0]
    d = A.sum(1).double() ** -0.5
    return torch.eye(data.num_nodes, dtype=torch.float64) - \
        d[:, None] * A.double() * d[None]


def test_loader_reads_the_grid(data):
    assert data.x.shape == (36, 4) and data.mask.sum() == 16
    deg = torch.bincount(data.edge_index[0], minlength=36)
    assert sorted(set(deg.tolist())) == [2, 3, 4]


def test_targets_are_the_dense_spectral_formula(data, tmp_path):
    lam, U = torch.linalg.eigh(dense_laplacian(data))
    x = data.x.double()
    got = fx.filter_targets(data.edge_index, data.x,
                            cache_dir=str(tmp_path / 'c'))
    h = {'low': torch.exp(-10 * lam ** 2),
         'high': 1 - torch.exp(-10 * lam ** 2),
         'band': torch.exp(-10 * (lam - 1) ** 2),
         'rejection': 1 - torch.exp(-10 * (lam - 1) ** 2),
         'comb': torch.sin(math.pi * lam).abs()}
    for kind, resp in h.items():
        want = U @ (resp[:, None] * (U.T @ x))
        assert torch.allclose(got[kind], want, atol=1e-12), kind
    again = fx.filter_targets(data.edge_index, data.x, ['comb'],
                              cache_dir=str(tmp_path / 'c'))  # cached
    assert torch.equal(again['comb'], got['comb'])


@pytest.mark.parametrize('operator,degree', [('laplacian', 3),
                                             ('gcn', 2)])
def test_class_optimum_is_the_least_squares_polynomial(data, operator,
                                                       degree):
    """The same space spanned by powers of the operator (dense float64):
    the same residual."""
    y = fx.filter_targets(data.edge_index, data.x, ['band'],
                          cache_dir=None)['band']
    res = fx.class_optimum(data.edge_index, data.x, y, data.mask, operator,
                           degree)
    if operator == 'laplacian':
        S = dense_laplacian(data) - torch.eye(data.num_nodes,
                                              dtype=torch.float64)
    else:
        A = to_dense_adj(data.edge_index, max_num_nodes=36)[0].double() + \
            torch.eye(36, dtype=torch.float64)
        d = A.sum(1) ** -0.5
        S = d[:, None] * A * d[None]
    m = data.mask
    for b in range(data.x.size(1)):
        x = data.x[:, b].double()
        V = torch.stack([torch.linalg.matrix_power(S, k) @ x
                         for k in range(degree + 1)], 1)
        Q, _ = torch.linalg.qr(V[m])  # the residual of the projection
        t = y[m, b]
        sse = float((t - Q @ (Q.T @ t)).square().sum())
        assert res['sse'][b].item() == pytest.approx(sse, rel=1e-8, abs=1e-12)
    assert (res['r2'] <= 1).all()


@pytest.mark.parametrize('chunk', [None, 1, 2])
@pytest.mark.parametrize('name', list(fm.MODELS))
def test_batched_model_equals_its_references(data, name, chunk):
    """Every image's output of the batched model equals its one-image
    reference (PyG's layers, the authors' filters) with its weights, with
    any number of images per pass (``chunk``; 2 of 3: a block-diagonal
    pass of two images and a pass of one)."""
    torch.manual_seed(0)
    model, _ = fx.make_model(name, 'band', 3, data, torch.float64)
    if chunk is not None:
        model.chunk = chunk
    with torch.no_grad():  # away from the init (all-pass filters etc.)
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    x = data.x[:, :3].double()
    y = model(x)
    for i in range(3):
        ref = model.reference(i)
        want = ref(x[:, i:i + 1], data.edge_index)[:, 0]
        assert torch.allclose(y[:, i], want, atol=1e-12, rtol=1e-10)


@pytest.mark.parametrize('name,chunk', [
    ('gcn', None), ('gcn', 3), ('gat', None), ('gat', 2), ('bernnet', None),
    ('bernnet', 3), ('jacobiconv', None), ('cheb', None), ('cheb', 1)])
def test_batched_run_equals_separate_runs(data, name, chunk):
    """Training the images together gives each image what its own run
    gives: the same lowest loss, R² and stopping epoch (``chunk`` images
    per pass)."""
    torch.manual_seed(0)
    kind = 'comb'
    model, groups = fx.make_model(name, kind, 3, data, torch.float64)
    if chunk is not None:
        model.chunk = chunk
    refs = [copy.deepcopy(model.reference(i)) for i in range(3)]
    y = fx.filter_targets(data.edge_index, data.x, [kind],
                          cache_dir=None)[kind][:, :3]
    x = data.x[:, :3].double()
    res = fx.train_batched(model, x, y, data.mask, groups, epochs=40,
                           patience=3)
    for i, ref in enumerate(refs):
        one = fx.train_reference(ref, x[:, i:i + 1], y[:, i:i + 1],
                                 data.mask, data.edge_index,
                                 fx.reference_groups(name, kind, ref),
                                 epochs=40, patience=3)
        assert one['epochs'] == int(res['epochs'][i])
        assert one['loss'] == pytest.approx(float(res['loss'][i]),
                                            rel=1e-9)
        assert one['r2'] == pytest.approx(float(res['r2'][i]), rel=1e-9,
                                          abs=1e-12)


def test_cli_quick_mode(tmp_path):
    from pyg_spectral.__main__ import main
    write_mat(str(tmp_path / 'data'), side=8, images=3)
    out = tmp_path / 'out'
    rc = main(['reproduce', 'filters', '--root', str(tmp_path / 'data'),
               '--images', '3', '--epochs', '5', '--filters', 'low', 'comb',
               '--models', 'cheb', 'gcn', 'bernnet', '--timing-images', '1',
               '--timing-epochs', '2', '--out', str(out)])
    assert rc == 0
    md = (out / 'filters.md').read_text()
    assert '| comb | Chebyshev filter (K=10) |' in md
    assert (out / 'filters.json').is_file()
    assert (out / 'response_low.png').is_file()


@pytest.mark.skipif(not os.path.isfile(os.path.join(
    SHARED, '2Dgrid', 'raw', '2Dgrid.mat')), reason='no shared data')
def test_shared_images():
    data = load_image_grid(SHARED)
    assert data.x.shape == (10000, 50)
    assert data.edge_index.size(1) == 39600 and int(data.mask.sum()) == 9216
