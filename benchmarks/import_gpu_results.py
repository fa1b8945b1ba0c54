"""Files a GPU run of our own scripts into ``benchmarks/results/``: the output
of ``gpu_bench.py``, ``gpu_sync_compile.py`` and ``bench_poly.py --device
cuda`` as written on the lent machine, plus its one-line-per-probe JSON,
each headed by the card, the versions, the date, the commit and the command.

    python benchmarks/import_gpu_results.py ../shared/gpu-results/2026-11-30-h200 \\
        --date 2026-11-30 --commit a119ff5

Writes ``gpu.md`` (+ ``gpu.json``), ``gpu_sync_compile.md`` (+ json),
``poly_gpu.md`` (+ json) and ``gpu_probes.md``; the README quotes them
(``update_readme.py``). Holds no measured number itself.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, 'results')


def _read(folder, name):
    path = os.path.join(folder, name)
    return open(path).read().strip() if os.path.isfile(path) else None


def _ms(v):
    return '—' if v is None else f'{v:.2f}'


def _gib(v):
    return '—' if v is None else f'{v:.2f} GiB'


def probes_table(lines) -> str:
    """``probes.jsonl`` as a table: what, ours, reference, ratio, peak."""
    rows = ['| probe | ours | reference | ratio | peak memory ours / ref |',
            '|---|---:|---:|---:|---|']
    for p in lines:
        what = p.get('what')
        if what is None or 'rows' in p or 'rel' in p or 'error' in p or \
                not any(k.endswith('ms') or k == 'oom' for k in p):
            continue
        ours = p.get('ours_ms', p.get('ms'))
        ref = p.get('pyg_ms', p.get('pygt_ms'))
        if what.endswith(', pyg') and 'ms' in p:  # PyG's alone
            ours, ref = None, p['ms']
        ref_name = 'torch_geometric_temporal' if 'pygt_ms' in p else 'PyG'
        if p.get('oom'):
            rows.append(f'| {what} | — | out of memory | | |')
            continue
        ratio = f"{p['speedup']:.2f}x" if 'speedup' in p else \
            (f"{p['speedup_vs_fp32']:.2f}x vs float32"
             if 'speedup_vs_fp32' in p else '')
        peak = _gib(p.get('ours_peak_gib', p.get('peak_gib')))
        if 'pygt_peak_gib' in p:
            peak += f" / {_gib(p['pygt_peak_gib'])}"
        extra = []
        if 'first_call_s' in p:
            extra.append(f"first call {p['first_call_s']:.2f} s")
        if 'epoch_s_183_steps' in p:
            extra.append(f"epoch of 183 steps {p['epoch_s_183_steps']:.2f} s")
        if 'compile_s' in p:
            extra.append(f"compile {p['compile_s']:.1f} s")
        ours_s = '' if ours is None else _ms(ours) + ' ms'
        ref_s = '' if ref is None else f'{_ms(ref)} ms ({ref_name})'
        if extra:
            (ref_s, ours_s) = (ref_s + f" ({', '.join(extra)})", ours_s) \
                if ours is None else (ref_s, ours_s + f" ({', '.join(extra)})")
        rows.append(f'| {what} | {ours_s} | {ref_s} | {ratio} | {peak} |')
    for p in lines:
        if 'rel' in p:
            rows.append(f"| {p['what']} | {p['rel']:.1e} | | | |")
    out = '\n'.join(rows) + '\n'
    prof = [p for p in lines if 'rows' in p]
    for p in prof:
        out += (f"\n{p['what']} (total {p['total_ms']:.2f} ms):\n\n"
                '| kernel | calls | ms |\n|---|---:|---:|\n')
        out += ''.join(f'| `{k[:60]}` | {c} | {t:.2f} |\n'
                       for k, c, t in p['rows'])
    errors = [p for p in lines if 'error' in p]
    for p in errors:
        msg = p['error'].split('\\n')[0].split('\n')[0][:160]
        out += f"\n- {p.get('what', p.get('section'))}: failed, `{msg}`\n"
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('folder')
    ap.add_argument('--date', required=True)
    ap.add_argument('--commit', required=True,
                    help='the commit of pyg_spectral that was measured')
    a = ap.parse_args(argv)
    card = _read(a.folder, 'gpu.txt') or 'card not recorded'
    tests = _read(a.folder, 'tests.txt')
    head = (f"Card and versions: {'; '.join(card.splitlines())}. "
            f"Date: {a.date}; pyg_spectral at {a.commit}.")
    test_line = '' if tests is None else \
        f"\nTests: `pytest tests/test_triton.py` on the card: " \
        f"{tests.splitlines()[-1].strip()}.\n"
    files = [
        ('gpu.md', 'gpu.json', 'GPU results (Triton path)',
         '`python benchmarks/gpu_bench.py` (in `bash benchmarks/'
         'gpu_check.sh`)', test_line +
         '\nTimings with CUDA events (warm-up, median). Bandwidth counts the '
         'fewest bytes: CSR indices and values, one gathered feature row per '
         'nonzero, the output (and z for the fused step), against a '
         'device-to-device copy measured in the same run.\n'),
        ('sync_compile.md', 'sync_compile.json', 'Host syncs and compile',
         '`python benchmarks/gpu_sync_compile.py`', ''),
        ('poly_gpu.md', 'poly_gpu.json', None,
         '`python benchmarks/bench_poly.py --device cuda --cases 100k 1m '
         '--repeats 3`', ''),
        ('gpu_memory.md', 'gpu_memory.json', 'GPU memory of big steps',
         '`python benchmarks/gpu_memory.py` (in `bash benchmarks/'
         'gpu_check.sh`)', ''),
        ('locality_gpu.md', 'locality_gpu.json', 'Locality ordering on the '
         'GPU', '`python benchmarks/bench_locality.py --device cuda`', ''),
    ]
    names = {'sync_compile.md': 'gpu_sync_compile.md'}
    for md, js, title, cmd, extra in files:
        text = _read(a.folder, md)
        if text is None:
            continue
        out = names.get(md, md)
        if title is None:  # the script wrote its own title and caption
            first, rest = text.split('\n', 1)
            body = f'{first}\n\n{head} Command: {cmd}.\n{rest}\n'
        else:
            body = f'# {title}\n\n{head} Command: {cmd}.\n{extra}\n{text}\n'
        with open(os.path.join(RESULTS, out), 'w') as f:
            f.write(body)
        if os.path.isfile(os.path.join(a.folder, js)):
            shutil.copyfile(os.path.join(a.folder, js),
                            os.path.join(RESULTS, out[:-3] + '.json'))
    probes = _read(a.folder, 'probes.jsonl')
    if probes:
        lines = [json.loads(s) for s in probes.splitlines() if s.strip()]
        with open(os.path.join(RESULTS, 'gpu_probes.md'), 'w') as f:
            f.write(f'# Further GPU probes\n\n{head} One JSON object a line '
                    f'in the run\'s `probes.jsonl`; Cora epochs: 2-layer '
                    f'ChebNet K=3 / GCN, hidden 16, Adam, dropout; STConv vs '
                    f'torch_geometric_temporal 0.56.2\'s `STConv`.\n\n'
                    + probes_table(lines))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
