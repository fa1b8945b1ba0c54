"""Heterophily loaders (against PyG's own classes reading the same files),
BernNet's splits (against the authors' list-based procedure) and the
heterophily rows of ``reproduce polynomial``."""
import os
import stat

import numpy as np
import pytest
import torch

from pyg_spectral.datasets import heterophily as het
from pyg_spectral.datasets import load_heterophily, read_heterophily_npz
from pyg_spectral.reproduce.splits import SEEDS, bernnet_split

SHARED = os.path.join(os.path.dirname(__file__), '..', '..', 'shared',
                      'data', 'heterophily')


def write_npz(path, n=30, f=4, c=3, e=50, seed=0):
    rng = np.random.default_rng(seed)
    edges = rng.integers(0, n, (e, 2))
    edges = edges[edges[:, 0] != edges[:, 1]]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.savez(path, node_features=rng.random((n, f)).astype(np.float32),
             node_labels=rng.integers(0, c, n),
             edges=edges, train_masks=rng.random((10, n)) < 0.5,
             val_masks=rng.random((10, n)) < 0.3,
             test_masks=rng.random((10, n)) < 0.2)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    from pyg_spectral.datasets import _paths
    monkeypatch.setattr(_paths, 'CACHE', str(tmp_path / 'cache'))
    return tmp_path / 'cache'


def test_npz_names_equal_pyg_reading_the_same_file(tmp_path, cache):
    """A name no PyG class accepts (chameleon) is read into exactly what
    PyG's HeterophilousGraphDataset makes of the same bytes."""
    root = tmp_path / 'het'
    write_npz(str(root / 'yandex' / 'chameleon' / 'raw' / 'chameleon.npz'))
    os.makedirs(root / 'yandex' / 'minesweeper' / 'raw')
    os.link(root / 'yandex' / 'chameleon' / 'raw' / 'chameleon.npz',
            root / 'yandex' / 'minesweeper' / 'raw' / 'minesweeper.npz')
    ours = load_heterophily('Chameleon', str(root))
    pyg = load_heterophily('minesweeper', str(root))  # PyG's class
    for key in ('x', 'y', 'edge_index', 'train_mask', 'val_mask',
                'test_mask'):
        assert torch.equal(ours[key], pyg[key]), key
    assert ours.train_mask.shape == (30, 10)
    from torch_geometric.utils import is_undirected
    assert is_undirected(ours.edge_index)


def test_read_only_root_is_copied_before_pyg_writes(tmp_path, cache):
    root = tmp_path / 'ro'
    write_npz(str(root / 'yandex' / 'tolokers' / 'raw' / 'tolokers.npz'))
    for d in (root, root / 'yandex', root / 'yandex' / 'tolokers'):
        os.chmod(d, stat.S_IRUSR | stat.S_IXUSR)
    try:
        if os.access(root / 'yandex' / 'tolokers', os.W_OK):
            pytest.skip('running as a user that ignores permissions')
        data = load_heterophily('Tolokers', str(root))
    finally:
        for d in (root, root / 'yandex', root / 'yandex' / 'tolokers'):
            os.chmod(d, stat.S_IRWXU)
    assert data.num_nodes == 30
    assert (cache / 'heterophily' / 'yandex' / 'tolokers' /
            'processed').is_dir()
    assert not (root / 'yandex' / 'tolokers' / 'processed').exists()


def test_bad_names_and_missing_files(tmp_path, cache):
    with pytest.raises(ValueError, match='name must be one of'):
        load_heterophily('pubmed', str(tmp_path))
    with pytest.raises(TypeError, match='name must be a str'):
        load_heterophily(3, str(tmp_path))
    with pytest.raises(ValueError, match='source must be one of'):
        load_heterophily('texas', str(tmp_path), source='wiki')
    with pytest.raises(ValueError, match="source='geom-gcn' holds"):
        load_heterophily('chameleon', str(tmp_path), source='geom-gcn')
    with pytest.raises(FileNotFoundError, match='squirrel.npz'):
        load_heterophily('squirrel', str(tmp_path))
    with pytest.raises(FileNotFoundError, match='out1_graph_edges.txt'):
        load_heterophily('cornell', str(tmp_path), source='geom-gcn')
    bad = tmp_path / 'bad.npz'
    np.savez(bad, node_features=np.zeros((3, 2)))
    with pytest.raises(ValueError, match='could not read'):
        read_heterophily_npz(str(bad))


@pytest.mark.skipif(not os.path.isdir(SHARED), reason='no shared data')
@pytest.mark.parametrize('name,nodes,edges', [
    ('chameleon', 2277, 31371), ('squirrel', 5201, 198353),
    ('actor', 7600, 26659), ('texas', 183, 279), ('cornell', 183, 277)])
def test_shared_graphs_are_the_ones_gprgnn_and_bernnet_used(
        name, nodes, edges, cache):
    data = load_heterophily(name, SHARED)
    assert data.num_nodes == nodes
    assert data.edge_index.size(1) == 2 * edges  # both directions
    assert data.train_mask.shape == (nodes, 10)


@pytest.mark.skipif(not os.path.isdir(SHARED), reason='no shared data')
def test_shared_geom_gcn_through_pyg(cache):
    texas = load_heterophily('Texas', SHARED, source='geom-gcn')
    assert (texas.num_nodes, texas.edge_index.size(1)) == (183, 325)
    yandex = load_heterophily('Texas', SHARED)
    assert torch.equal(texas.y, yandex.y)  # the same node order


# -- BernNet's splits --------------------------------------------------------

def authors_split(y, num_classes, percls_trn, val_lb, seed):
    """BernNet's random_planetoid_splits, as their utils.py writes it
    (lists and membership tests)."""
    index = [i for i in range(0, y.shape[0])]
    train_idx = []
    rnd_state = np.random.RandomState(seed)
    for c in range(num_classes):
        class_idx = np.where(y == c)[0]
        if len(class_idx) < percls_trn:
            train_idx.extend(class_idx)
        else:
            train_idx.extend(rnd_state.choice(class_idx, percls_trn,
                                              replace=False))
    rest_index = [i for i in index if i not in train_idx]
    val_idx = rnd_state.choice(rest_index, val_lb, replace=False)
    test_idx = [i for i in rest_index if i not in val_idx]
    return sorted(int(i) for i in train_idx), \
        sorted(int(i) for i in val_idx), test_idx


def texas_like_labels():
    # Texas' class sizes: one class smaller than the per-class quota
    sizes = [33, 1, 18, 101, 30]
    y = np.concatenate([np.full(s, c) for c, s in enumerate(sizes)])
    return np.random.default_rng(1).permutation(y)


@pytest.mark.parametrize('labels', ['texas', 'random'])
def test_splits_equal_the_authors_node_for_node(labels):
    y = texas_like_labels() if labels == 'texas' else \
        np.random.default_rng(2).integers(0, 4, 257)
    n, c = y.size, int(y.max()) + 1
    for seed in SEEDS:
        tr, va, te = bernnet_split(torch.from_numpy(y), seed)
        a_tr, a_va, a_te = authors_split(y, c, int(round(0.6 * n / c)),
                                         int(round(0.2 * n)), seed)
        assert tr.nonzero().view(-1).tolist() == a_tr
        assert va.nonzero().view(-1).tolist() == a_va
        assert te.nonzero().view(-1).tolist() == a_te
        assert not (tr & va).any() and not (tr & te).any() and \
            not (va & te).any() and bool((tr | va | te).all())


def test_splits_differ_between_seeds_and_keep_class_quota():
    y = torch.from_numpy(np.random.default_rng(3).integers(0, 3, 300))
    a = bernnet_split(y, SEEDS[0])
    b = bernnet_split(y, SEEDS[1])
    assert not torch.equal(a[0], b[0])
    per_class = torch.bincount(y[a[0]], minlength=3)
    assert per_class.tolist() == [60, 60, 60]
    assert int(a[1].sum()) == 60


def test_polynomial_cli_runs_on_a_heterophilous_npz(tmp_path, cache):
    """The new user's command, in a quick mode, on a tiny npz named like
    Chameleon."""
    from pyg_spectral.__main__ import main
    root = tmp_path / 'het'
    write_npz(str(root / 'yandex' / 'chameleon' / 'raw' / 'chameleon.npz'),
              n=60, f=8, c=3, e=200)
    out = tmp_path / 'out'
    rc = main(['reproduce', 'polynomial', '--datasets', 'chameleon',
               '--heterophily-root', str(root), '--splits', '2',
               '--epochs', '3', '--models', 'mlp', 'gprgnn', 'bernnet',
               '--no-timing', '--out', str(out)])
    assert rc == 0
    md = (out / 'polynomial.md').read_text()
    assert '| Chameleon | BernNet (K=10) |' in md
    assert '| Chameleon | MLP |' in md


# -- the Platonov et al. protocol --------------------------------------------

def test_roc_auc_equals_scikit_learn_with_ties():
    sk = pytest.importorskip('sklearn.metrics')
    from pyg_spectral.reproduce.heterophily import roc_auc
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 2, (300, ), generator=g)
    scores = torch.randint(0, 20, (300, ), generator=g).float()  # ties
    assert roc_auc(scores, labels) == pytest.approx(
        sk.roc_auc_score(labels.numpy(), scores.numpy()), abs=1e-12)
    with pytest.raises(ValueError, match='both classes'):
        roc_auc(scores, torch.zeros(300, dtype=torch.long))


def test_residual_gcn_net_is_their_formula():
    """Eval-mode output against the dense float64 formula of Platonov et
    al.'s GCN model: x0 = GELU(W x), x1 = x0 + FF(A_hat LN(x0)), out =
    Linear(LN(x1))."""
    from pyg_spectral.ops import gcn_operator
    from pyg_spectral.reproduce.heterophily import ResidualNet
    from torch_geometric.utils import to_dense_adj
    torch.manual_seed(0)
    n = 25
    from torch_geometric.utils import remove_self_loops, to_undirected
    ei, _ = remove_self_loops(to_undirected(torch.randint(0, n, (2, 60)),
                                            num_nodes=n))  # their graphs
    x = torch.randn(n, 6, dtype=torch.float64)
    op = gcn_operator(ei, num_nodes=n, dtype=torch.float64)
    net = ResidualNet('gcn', 6, 3, 1, hidden=16, op=op).double().eval()
    A = to_dense_adj(ei, max_num_nodes=n)[0].double() + \
        torch.eye(n, dtype=torch.float64)
    d = A.sum(1) ** -0.5
    A_hat = d[:, None] * A * d[None]
    b = net.blocks[0]
    x0 = torch.nn.functional.gelu(net.input_linear(x))
    h = A_hat @ b.norm(x0)
    x1 = x0 + b.ff.linear_2(torch.nn.functional.gelu(b.ff.linear_1(h)))
    want = net.output_linear(net.output_norm(x1))
    assert torch.allclose(net(x, ei), want, atol=1e-12)


@pytest.mark.parametrize('name', ['minesweeper', 'chameleon_filtered'])
def test_heterophily_cli_quick_mode(tmp_path, cache, name):
    from pyg_spectral.__main__ import main
    root = tmp_path / 'het'
    write_npz(str(root / 'yandex' / name / 'raw' / f'{name}.npz'), n=50,
              f=5, c=2 if name == 'minesweeper' else 4, e=150)
    out = tmp_path / 'out'
    rc = main(['reproduce', 'heterophily', '--datasets', name, '--root',
               str(root), '--models', 'gcn', 'bernnet', '--depths', '1', '2',
               '--splits', '2', '--steps', '3', '--out', str(out)])
    assert rc == 0
    md = (out / 'heterophily.md').read_text()
    metric = 'ROC-AUC' if name == 'minesweeper' else 'accuracy'
    assert f'| {name} | BernNet (K=10) | {metric} |' in md


def test_polynomial_append_builds_a_table_in_parts(tmp_path, cache):
    import json

    from pyg_spectral.__main__ import main
    root = tmp_path / 'het'
    write_npz(str(root / 'yandex' / 'chameleon' / 'raw' / 'chameleon.npz'),
              n=60, f=8, c=3, e=200)
    out = tmp_path / 'out'
    args = ['reproduce', 'polynomial', '--datasets', 'chameleon',
            '--heterophily-root', str(root), '--splits', '1', '--epochs',
            '2', '--no-timing', '--out', str(out)]
    assert main(args + ['--models', 'gcn', 'mlp']) == 0
    assert main(args + ['--models', 'bernnet', 'mlp', '--append']) == 0
    runs = json.loads((out / 'polynomial.json').read_text())['runs']
    assert [r['model'] for r in runs] == ['mlp', 'gcn', 'bernnet']
    md = (out / 'polynomial.md').read_text()
    assert '| Chameleon | GCN |' in md and '| Chameleon | BernNet' in md


def test_data_folder_is_never_written(tmp_path, cache, monkeypatch):
    """A root under $PYG_SPECTRAL_DATA is copied before PyG writes
    processed/, even when the file system would let it write."""
    data = tmp_path / 'data'
    write_npz(str(data / 'heterophily' / 'yandex' / 'tolokers' / 'raw' /
                  'tolokers.npz'))
    monkeypatch.setenv('PYG_SPECTRAL_DATA', str(data))
    load_heterophily('tolokers')
    assert not (data / 'heterophily' / 'yandex' / 'tolokers' /
                'processed').exists()
    assert (cache / 'heterophily' / 'yandex' / 'tolokers' /
            'processed').is_dir()
