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
