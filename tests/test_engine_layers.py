"""The engine (``pyg_spectral.ops``) is a one-way stack: every module imports
only modules of its own layer or below, the imports inside a layer form no
cycle, and no function imports a package module late (the way cycles used
to be broken) -- except the optional Triton kernels, imported on first use.
Read from the source with ``ast``, so a new module or import is checked."""
import ast
import pathlib

import pytest

OPS = pathlib.Path(__file__).resolve().parents[1] / 'pyg_spectral' / 'ops'

#: bottom to top; the public functions on top
LAYERS = [
    ('data', {'host_reads', 'validation', 'cache', 'csr', 'operator_data',
              'bases', 'spline', 'schemes'}),
    ('kernels', {'backends', 'triton', 'triton.spmm_kernel'}),
    ('routines', {'features', 'adjacency', 'ordering', 'filter_engine'}),
    ('custom ops and autograd', {'custom_ops'}),
    ('public functions', {'operator', 'normalize', 'chebyshev', 'lambda_max',
                          'traced_operator', '__init__'}),
]
LAYER = {m: i for i, (_, mods) in enumerate(LAYERS) for m in mods}
#: imported inside functions on purpose: optional packages
LAZY_OK = {'triton.spmm_kernel'}


def _module_name(path: pathlib.Path) -> str:
    rel = path.relative_to(OPS).with_suffix('')
    parts = list(rel.parts)
    if parts[-1] == '__init__' and len(parts) > 1:
        parts = parts[:-1]
    return '.'.join(parts)


def _package_imports(path: pathlib.Path, text: str = None):
    """``(target module, line, inside a function)`` of each import of a
    module of ``pyg_spectral.ops`` by the module at ``path`` (its source,
    or ``text``)."""
    name = _module_name(path)
    is_pkg = path.name == '__init__.py'
    here = name.split('.') if is_pkg and name != '__init__' else \
        name.split('.')[:-1]
    tree = ast.parse(path.read_text() if text is None else text)
    funcs = [n for n in ast.walk(tree)
             if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    inner = {id(n) for f in funcs for n in ast.walk(f)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - (node.level - 1)] \
                    if node.level > 1 else list(here)
            elif (node.module or '').startswith('pyg_spectral.ops'):
                base, node_module = [], node.module[len('pyg_spectral.ops'):]
                node = ast.ImportFrom(module=node_module.lstrip('.') or None,
                                      names=node.names, level=1,
                                      lineno=node.lineno)
            else:
                continue
            mod = base + (node.module.split('.') if node.module else [])
            targets = ['.'.join(mod)] if node.module else \
                ['.'.join(mod + [a.name]) for a in node.names]
            for t in targets:
                yield t or '__init__', node.lineno, id(node) in inner
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith('pyg_spectral'):
                    yield a.name, node.lineno, id(node) in inner


MODULES = sorted(p for p in OPS.rglob('*.py'))


def test_every_module_has_a_layer():
    names = {_module_name(p) for p in MODULES}
    assert names == set(LAYER), (names ^ set(LAYER))


@pytest.mark.parametrize('path', MODULES, ids=lambda p: _module_name(p))
def test_imports_go_down(path):
    me = _module_name(path)
    for target, line, late in _package_imports(path):
        assert target in LAYER, f"{me}:{line} imports {target}"
        assert LAYER[target] <= LAYER[me], (
            f"{me} ({LAYERS[LAYER[me]][0]}) imports {target} "
            f"({LAYERS[LAYER[target]][0]}) at line {line}")
        assert not late or target in LAZY_OK, (
            f"{me}:{line} imports {target} inside a function")


def test_no_cycle():
    graph = {_module_name(p): {t for t, _, _ in _package_imports(p)}
             for p in MODULES}
    graph['__init__'] = set()  # the package file re-exports; nothing else
    state = {}

    def visit(m, stack):
        state[m] = 'open'
        for t in graph.get(m, ()):
            if t == m or t.startswith(m + '.') and m != '__init__':
                continue
            assert state.get(t) != 'open', ' -> '.join(stack + [m, t])
            if t not in state:
                visit(t, stack + [m])
        state[m] = 'done'

    for m in graph:
        if m not in state:
            visit(m, [])


def test_the_check_sees_a_late_upward_import():
    """The checker itself: a late import of a higher module is found."""
    path = OPS / 'csr.py'
    text = path.read_text() + \
        '\n\ndef _x():\n    from .custom_ops import spmm_call\n'
    found = [(t, late) for t, _, late in _package_imports(path, text)]
    assert ('custom_ops', True) in found
    assert ('host_reads', False) in found
