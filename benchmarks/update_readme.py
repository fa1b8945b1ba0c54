"""Regenerates README.md's "Benchmarks" and "Reproductions" sections from
the committed result files in benchmarks/results/ (tables written by the
benchmark and reproduction scripts; measured remarks in results/notes/,
each kept beside the run it describes). This file holds no measured number.

    python benchmarks/update_readme.py

Importing it changes nothing; :func:`render` returns the text.
"""
from __future__ import annotations

import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, 'results')
README = os.path.join(HERE, '..', 'README.md')
MISSING = '_not yet measured_\n'


def body(rel: str, drop_lines: int = 0) -> str:
    """A result file (or :data:`MISSING`), optionally without its first
    ``drop_lines`` lines (a caption the README states already)."""
    path = os.path.join(RESULTS, rel)
    if not os.path.isfile(path):
        return MISSING
    text = open(path).read()
    return text.split('\n', drop_lines)[drop_lines] if drop_lines else text


def note(name: str) -> str:
    """A measured remark from ``results/notes/<name>.md``, as a paragraph."""
    text = body(os.path.join('notes', f'{name}.md'))
    return '' if text == MISSING else '\n' + text


def gpu() -> str:
    g = body('gpu.md').split('\nRun 1')[0]
    return re.sub(r'^# GPU results \(Triton path\)\n\n', '', g)


# (heading, parts): a part is a result file, or a note via note()
SECTIONS = [
    ('## Benchmarks\n', [
        'All numbers come from the scripts in `benchmarks/`; each table '
        'names its machine, date and command. Ours and the reference run in '
        'the same process on the same inputs and weights.\n']),
    ('\n### ChebConv / GCNConv vs PyG (CPU, '
     '`benchmarks/results/conv_cpu.md`)\n',
     [lambda: body('conv_cpu.md'), lambda: note('conv_cpu')]),
    ('\n### A new graph every step (CPU, `python '
     'benchmarks/bench_minibatch.py`, `benchmarks/results/minibatch.md`)\n',
     [lambda: body('minibatch.md'), lambda: note('minibatch')]),
    ('\n### Locality ordering (CPU, `python benchmarks/bench_locality.py`, '
     '`benchmarks/results/locality.md`)\n',
     [lambda: body('locality.md'), lambda: note('locality')]),
    ('\n### Memory model (CPU, `python benchmarks/bench_memory.py`, '
     '`benchmarks/results/memory_cpu.md`)\n',
     [lambda: body('memory_cpu.md'), lambda: note('memory_cpu'),
      '\nOn the GPU (`python benchmarks/gpu_memory.py`, '
      '`benchmarks/results/gpu_memory.md`):\n\n',
      lambda: body('gpu_memory.md', 2)]),
    ('\n### CUDA path (Triton, `benchmarks/results/gpu.md`)\n',
     [gpu, '\n', lambda: body('gpu_sync_compile.md', 2), '\n',
      lambda: body('gpu_probes.md', 2), lambda: note('gpu')]),
    ('\n### STGCN block vs torch_geometric_temporal '
     '(`benchmarks/results/stgcn_race.md`)\n',
     [lambda: body('stgcn_race.md'), lambda: note('stgcn_race')]),
    ('\n### A 2M-node graph on the 2-core CPU (`python '
     'benchmarks/bench_large.py`, `benchmarks/results/large_cpu.md`)\n',
     [lambda: body('large_cpu.md'), lambda: note('large_cpu')]),
    ('\n### Polynomial filters vs their authors\' code (`python '
     'benchmarks/bench_poly.py`, `benchmarks/results/poly_cpu.md`)\n',
     [lambda: body('poly_cpu.md', 2), lambda: note('poly_cpu'),
      '\nOn the GPU (`benchmarks/results/poly_gpu.md`):\n',
      lambda: body('poly_gpu.md', 2)]),
    ('\n### Precompute mode at papers100M shape (`python '
     'benchmarks/bench_precompute.py`, `benchmarks/results/precompute.md`)\n',
     [lambda: body('precompute.md', 2), lambda: note('precompute')]),
    ('\n## Reproductions\n', []),
    ('### Polynomial filters (`python -m pyg_spectral reproduce '
     'polynomial`, `benchmarks/results/polynomial/`)\n',
     [lambda: body('polynomial/polynomial.md'),
      '\nThe authors\' own filters (PyG\'s GCNConv for GCN) trained in the '
      'same protocol (`--impl reference --no-timing --models gcn gprgnn '
      'bernnet chebnetii jacobiconv`, '
      '`benchmarks/results/polynomial_reference/`):\n',
      lambda: body('polynomial_reference/polynomial.md', 2),
      lambda: note('polynomial')]),
    ('\n### Heterophilous graphs (`python -m pyg_spectral reproduce '
     'polynomial --datasets Texas Cornell Chameleon Actor Squirrel`, '
     '`benchmarks/results/polynomial_heterophily/`)\n',
     [lambda: body('polynomial_heterophily/polynomial.md'),
      lambda: note('polynomial_heterophily')]),
    ('\n### Learning filters from images (`python -m pyg_spectral reproduce '
     'filters`, `benchmarks/results/filters/`)\n',
     [lambda: body('filters/filters.md'),
      '\nLearned responses h(λ), mean over the images, against the target '
      '(`benchmarks/results/filters/response_<target>.png`):\n\n'
      '![comb](benchmarks/results/filters/response_comb.png)\n',
      '\nThe papers\' deeper models in BernNet\'s shapes on the band-pass '
      'target (`--filters band --models gcn gat arma chebnet gprgnn '
      'bernnet`, `benchmarks/results/filters_models/`):\n',
      lambda: body('filters_models/filters.md', 2),
      lambda: note('filters')]),
    ('\n### Platonov et al. protocol (`python -m pyg_spectral reproduce '
     'heterophily`, `benchmarks/results/heterophily/`)\n',
     [lambda: body('heterophily/heterophily.md'),
      lambda: note('heterophily')]),
    ('\n### Citation (`python -m pyg_spectral reproduce citation`, '
     '`benchmarks/results/citation/`)\n',
     [lambda: body('citation/citation.md'),
      '\nSame protocol, 3 seeds, with PyG\'s own layers (`--compare-pyg`, '
      '`benchmarks/results/citation_vs_pyg/`); time per epoch is the '
      'training step (forward, backward, optimizer), CPU above. Our runs '
      'feed the bag-of-words features as a sparse CSR tensor, PyG\'s as '
      'dense.\n',
      lambda: body('citation_vs_pyg/citation.md', 2),
      '\nPubMed: `ind.pubmed.allx` is not in the offline data folder '
      '(`../shared/data/README.md`); `--datasets PubMed` fails at once '
      'naming the missing file unless `--download` is given.\n']),
    ('\n### Traffic (`python -m pyg_spectral reproduce traffic`, '
     '`benchmarks/results/traffic/`)\n',
     [lambda: note('traffic').lstrip('\n') + '\n', 'L1 loss (`--loss mae`):\n\n',
      lambda: body('traffic/traffic.md'), lambda: note('traffic_mse'),
      '\n', lambda: body('traffic_mse/traffic.md')]),
    ('\n### Graph-signal classification (`python -m pyg_spectral reproduce '
     'digits`, `benchmarks/results/digits/`)\n',
     [lambda: body('digits/digits.md'),
      '\nSCNN spline filters in the citation protocol (10 seeds, '
      '`benchmarks/results/citation_scnn/`):\n',
      lambda: body('citation_scnn/citation.md', 2),
      lambda: note('spectral_scaling'), '\n',
      lambda: body('spectral_scaling.md'), lambda: note('mnist'), '\n',
      lambda: body('digits/mnist.md')]),
]


def render() -> str:
    out = []
    for heading, parts in SECTIONS:
        out.append(heading)
        out += [p() if callable(p) else p for p in parts]
    return ''.join(out)


def main() -> int:
    s = open(README).read()
    start, end = s.index('## Benchmarks'), s.index('## Layout')
    with open(README, 'w') as f:
        f.write(s[:start] + render() + '\n' + s[end:])
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
