"""The API documentation (``docs/``) builds with Sphinx, warnings as errors,
and documents every public name of the package's modules."""
import importlib
import pathlib
import subprocess
import sys
import zlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODULES = ['pyg_spectral', 'pyg_spectral.nn', 'pyg_spectral.ops',
           'pyg_spectral.transforms', 'pyg_spectral.precompute',
           'pyg_spectral.graph', 'pyg_spectral.datasets']


def _inventory(path: pathlib.Path) -> set:
    """Names in a Sphinx ``objects.inv`` (4 header lines, then zlib)."""
    raw = path.read_bytes()
    for _ in range(4):
        raw = raw[raw.index(b'\n') + 1:]
    lines = zlib.decompress(raw).decode().splitlines()
    return {line.split(' ', 1)[0] for line in lines}


def test_docs_build_without_warnings(tmp_path):
    out = tmp_path / 'html'
    r = subprocess.run([sys.executable, '-m', 'sphinx', '-W', '--keep-going',
                        '-q', '-b', 'html', str(ROOT / 'docs'), str(out)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    names = _inventory(out / 'objects.inv')
    missing = []
    for m in MODULES:
        mod = importlib.import_module(m)
        for n in mod.__all__:
            obj = getattr(mod, n)
            if n.startswith('__') or type(obj).__name__ == 'module':
                continue
            # documented under this module or the one that defines it
            homes = {f'{m}.{n}', f'{getattr(obj, "__module__", m)}.{n}'}
            if not homes & names:
                missing.append(f'{m}.{n}')
    assert not missing, f'not in the API docs: {missing}'


def test_docstring_examples_run():
    """Every ``>>>`` example in the layers' docstrings runs and prints what
    it says (doctest, float outputs to 4 decimals)."""
    import doctest
    import pkgutil

    import pyg_spectral.nn as nn
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(
        optionflags=doctest.NORMALIZE_WHITESPACE)
    ran = 0
    for info in pkgutil.iter_modules(nn.__path__):
        mod = importlib.import_module(f'pyg_spectral.nn.{info.name}')
        for test in finder.find(mod):
            if test.examples:
                runner.run(test)
                ran += 1
    assert ran >= 10
    assert runner.failures == 0, f'{runner.failures} example(s) failed'


def test_every_layer_has_args_shapes_and_an_example():
    """PyG's docstring shape for every public module class of
    pyg_spectral.nn: Args, Shapes and a runnable example (the abstract
    bases PolyConv and ResponseConv excepted)."""
    import torch

    import pyg_spectral.nn as nn
    missing = []
    for name in nn.__all__:
        obj = getattr(nn, name)
        if not (isinstance(obj, type) and issubclass(obj, torch.nn.Module)) \
                or name in ('PolyConv', 'ResponseConv'):
            continue
        doc = obj.__doc__ or ''
        for part in ('Args:', 'Shapes:', '>>> '):
            if part not in doc:
                missing.append(f'{name}: {part}')
    assert not missing, missing
