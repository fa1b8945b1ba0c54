"""Command-line spelling: dataset names in any case map to the paper
tables' keys; --seeds and --splits are one option for `polynomial`."""
import argparse

import pytest

from pyg_spectral.__main__ import _planetoid_name


@pytest.mark.parametrize('given, canonical', [
    ('cora', 'Cora'), ('CORA', 'Cora'), ('citeseer', 'CiteSeer'),
    ('PubMed', 'PubMed'), ('pubmed', 'PubMed')])
def test_dataset_names_in_any_case(given, canonical):
    assert _planetoid_name(given) == canonical


def test_unknown_dataset_is_refused():
    with pytest.raises(argparse.ArgumentTypeError, match='unknown dataset'):
        _planetoid_name('reddit')


def test_polynomial_takes_seeds_for_splits(monkeypatch):
    import pyg_spectral.__main__ as cli
    seen = {}
    monkeypatch.setattr(cli, '_polynomial',
                        lambda args: seen.update(vars(args)) or 0)
    cli.main(['reproduce', 'polynomial', '--datasets', 'cora', '--seeds',
              '2', '--models', 'chebnetii'])
    assert seen['splits'] == 2 and seen['datasets'] == ['Cora']


def test_sparse_features_made_without_warnings():
    """The CSR tensors the reproductions make on purpose (features, their
    dropout, their transpose for the weight gradient) print none of torch's
    sparse notices into the progress bar. A fresh process: torch warns once
    per process, so an earlier test could hide the notice here."""
    import subprocess
    import sys
    code = (
        "import torch\n"
        "from pyg_spectral.ops.csr import to_csr\n"
        "from pyg_spectral.ops.features import csr_pair\n"
        "from pyg_spectral.reproduce.common import feature_dropout\n"
        "import warnings\n"
        "warnings.simplefilter('error')  # after the imports' own notices\n"
        "x = (torch.rand(50, 40) < 0.1).float()\n"
        "s = to_csr(x)\n"
        "d = feature_dropout(s, 0.5, True)\n"
        "a, at = csr_pair(s)\n"
        "assert torch.equal(at.to_dense(), x.t())\n"
        "assert d.layout == torch.sparse_csr and d.shape == x.shape\n")
    r = subprocess.run([sys.executable, '-c', code],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert 'Warning' not in r.stderr, r.stderr


def test_progress_without_tqdm_prints_a_line_per_ten_percent(capsys):
    from pyg_spectral.reproduce.common import _plain_progress
    assert list(_plain_progress(range(20), desc='runs')) == list(range(20))
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == 'runs: 10 % (2/20)' and lines[-1] == \
        'runs: 100 % (20/20)' and len(lines) == 10
