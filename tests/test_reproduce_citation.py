"""Smoke test of `python -m pyg_spectral reproduce citation` on the real
Cora files (few epochs, one seed): learning happens and the outputs are
written and well-formed."""
import json
import os

import pytest

from pyg_spectral.__main__ import main
from pyg_spectral.datasets import default_planetoid_root, load_planetoid


def _have_cora():
    return os.path.isfile(os.path.join(default_planetoid_root(), 'Cora',
                                       'raw', 'ind.cora.x'))


@pytest.mark.skipif(not _have_cora(), reason='Cora raw files not present')
def test_citation_smoke(tmp_path):
    rc = main(['reproduce', 'citation', '--datasets', 'Cora', '--models',
               'gcn', 'cheb-3', '--seeds', '1', '--epochs', '30', '--out',
               str(tmp_path)])
    assert rc == 0
    res = json.loads((tmp_path / 'citation.json').read_text())
    accs = {s['model']: s['test_acc_mean'] for s in res['summary']}
    assert set(accs) == {'gcn', 'cheb-3'}
    assert all(a > 60.0 for a in accs.values())  # chance is ~14 % (7 classes)
    md = (tmp_path / 'citation.md').read_text()
    assert '| Cora | GCN | pyg_spectral |' in md and '81.5' in md
    png = tmp_path / 'citation_curves.png'
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_missing_files_are_named(tmp_path):
    raw = tmp_path / 'PubMed' / 'raw'
    raw.mkdir(parents=True)
    (raw / 'ind.pubmed.x').write_bytes(b'')
    with pytest.raises(FileNotFoundError, match='ind.pubmed.allx'):
        load_planetoid('PubMed', str(tmp_path))
    with pytest.raises(FileNotFoundError, match='download'):
        load_planetoid('Cora', str(tmp_path))
    assert main(['reproduce', 'citation', '--datasets', 'PubMed', '--root',
                 str(tmp_path), '--out', str(tmp_path / 'o')]) == 2


def test_corrupt_file_is_named(tmp_path):
    import shutil
    src = os.path.join(default_planetoid_root(), 'Cora', 'raw')
    if not os.path.isdir(src):
        pytest.skip('Cora raw files not present')
    dst = tmp_path / 'Cora' / 'raw'
    shutil.copytree(src, dst)
    (dst / 'ind.cora.graph').write_bytes(b'not a pickle')
    with pytest.raises(ValueError, match='ind.cora.graph'):
        load_planetoid('Cora', str(tmp_path))


def test_cli_help(capsys):
    with pytest.raises(SystemExit):
        main(['--help'])
    assert 'reproduce' in capsys.readouterr().out
