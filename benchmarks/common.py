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
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')  # reset VmHWM to the current RSS
    base = _status('VmRSS')
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
