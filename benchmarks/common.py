"""Shared helpers for the benchmark scripts: timing (warm-up, median) and
peak-memory measurement (CPU: resident-set high-water mark, reset between
measurements; CUDA: torch.cuda.max_memory_allocated)."""
from __future__ import annotations

import datetime
import gc
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import torch

SHARED_DATA = os.path.join(os.path.dirname(__file__), '..', '..', 'shared',
                           'data')


def _status(field: str) -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return 0


def rss(field: str = 'VmRSS') -> int:
    """A memory figure of this process from /proc (``VmRSS``, ``VmHWM``)."""
    return _status(field)


def reset_peak() -> int:
    """Resets the RSS high-water mark to the current RSS; returns it."""
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')
    return _status('VmRSS')


def undirected_graph(n: int, entries: int, seed: int = 0,
                     device=None) -> torch.Tensor:
    """A random undirected graph: ``entries // 2`` uniform node pairs and
    their mirrors (``[2, entries]``; self-loops and duplicates as drawn)."""
    g = torch.Generator(device=device or 'cpu').manual_seed(seed)
    half = torch.randint(0, n, (2, entries // 2), generator=g,
                         device=device)
    return torch.cat([half, half.flip(0)], 1)


def run_child(script: str, argv, timeout=None, preexec_fn=None):
    """Runs ``script`` with ``argv`` in a fresh process whose glibc malloc
    returns every large free to the OS (``MALLOC_MMAP_THRESHOLD_``, so the
    RSS high-water mark is a step's own peak); returns ``(rows, proc)``,
    ``rows`` the JSON objects it printed one per line."""
    import json
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='65536',
               PYTHONPATH=os.path.join(os.path.dirname(__file__), '..'))
    proc = subprocess.run([sys.executable, script, *argv], env=env,
                          capture_output=True, text=True, timeout=timeout,
                          preexec_fn=preexec_fn)
    rows = [json.loads(ln) for ln in proc.stdout.splitlines()
            if ln.startswith('{')]
    return rows, proc


def child_rows(script: str, argv) -> list:
    """:func:`run_child`'s rows; a failing child raises with its stderr."""
    rows, proc = run_child(script, argv)
    if proc.returncode:
        raise RuntimeError(f'{os.path.basename(script)} {" ".join(argv)} '
                           f'failed:\n{proc.stderr}')
    return rows


def peak_memory(fn, device='cpu') -> int:
    """Bytes allocated at the peak of ``fn()`` above what was live before."""
    gc.collect()
    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        fn()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    base = reset_peak()
    fn()
    return _status('VmHWM') - base


def median_time(fn, repeats=5, warmup=1, device='cpu') -> float:
    """Median seconds of ``fn()`` over ``repeats`` runs after ``warmup``
    (wall clock on CPU, CUDA events on ``device='cuda'``)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        if device == 'cuda':
            a = torch.cuda.Event(enable_timing=True)
            b = torch.cuda.Event(enable_timing=True)
            a.record()
            fn()
            b.record()
            torch.cuda.synchronize()
            times.append(a.elapsed_time(b) / 1e3)
            continue
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def write_results(out: str, md: str, rows, **meta) -> None:
    """``out``.md (the table) and ``out``.json (machine, date, rows)."""
    import json
    os.makedirs(os.path.dirname(out) or '.', exist_ok=True)
    with open(out + '.md', 'w') as f:
        f.write(md)
    with open(out + '.json', 'w') as f:
        json.dump(dict(machine=machine(), date=stamp(), rows=rows, **meta),
                  f, indent=1)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        out = subprocess.run(['lscpu'], capture_output=True, text=True)
        for line in out.stdout.splitlines():
            if line.startswith('Model name'):
                cpu = line.split(':', 1)[1].strip()
    except OSError:
        pass
    return (f'{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, '
            f'{torch.get_num_threads()} threads')


def stamp() -> str:
    return datetime.date.today().isoformat()


def planetoid_root(name: str):
    """A writable copy of ../shared/data/planetoid/<name> (PyG writes
    processed/ beside raw/), or None when the raw files are absent."""
    src = os.path.join(SHARED_DATA, 'planetoid', name, 'raw')
    if not os.path.isdir(src):
        return None
    root = os.path.join(tempfile.gettempdir(), 'pyg_spectral_planetoid')
    dst = os.path.join(root, name, 'raw')
    if not os.path.isdir(dst):
        shutil.copytree(src, dst)
    return root


def fmt_bytes(n: float) -> str:
    return f'{n / 2**20:.0f} MiB' if n < 2**30 else f'{n / 2**30:.2f} GiB'
