"""Shared by every reproduction command: the training loop (:func:`fit`),
seeding, aggregation (mean ± std, bootstrap intervals), Markdown/JSON
output, progress bar."""
from __future__ import annotations

import copy
import json
import math
import os
import random
import statistics
import time
from typing import Callable, Dict, Iterable, List, Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from ..ops.csr import csr_tensor


def progress(iterable: Iterable, total=None, desc=''):
    """tqdm when installed, else the items with a line per 10 % (on
    stderr)."""
    try:
        from tqdm.auto import tqdm
        return tqdm(iterable, total=total, desc=desc, leave=False)
    except ImportError:
        return _plain_progress(iterable, total, desc)


def _plain_progress(iterable: Iterable, total=None, desc=''):
    import sys
    items = list(iterable) if total is None else iterable
    total = len(items) if total is None else total
    step, shown = max(total // 10, 1), 0
    for i, item in enumerate(items, 1):
        yield item
        if i % step == 0 or i == total:
            pct = 100 * i // max(total, 1)
            if pct > shown:
                shown = pct
                print(f'{desc}: {pct} % ({i}/{total})', file=sys.stderr,
                      flush=True)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def mean_std(values):
    values = list(values)
    if not values:
        return float('nan'), float('nan')
    if len(values) == 1:
        return float(values[0]), 0.0
    return statistics.mean(values), statistics.stdev(values)


def write_json(path: str, obj) -> None:
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    with open(path, 'w') as f:  # compact: per-epoch histories are long
        json.dump(obj, f, separators=(',', ':'))


def write_text(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


def have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
        return True
    except ImportError:
        return False


def feature_dropout(x, p: float, training: bool):
    """Dropout on dense or sparse CSR features (Kipf drops the nonzeros of
    the sparse bag-of-words matrix)."""
    if not training or p == 0.0 or x.layout == torch.strided:
        return torch.nn.functional.dropout(x, p, training)
    vals = torch.nn.functional.dropout(x.values(), p, True)
    return csr_tensor(x.crow_indices(), x.col_indices(), vals, x.shape)


# -- the one training / reporting loop of every reproduction -----------------

def fit(train_epoch: Callable[[], float],
        validate: Callable[[], Dict[str, float]], epochs: int, *,
        monitor: str = 'val_loss', mode: str = 'min',
        window: Optional[int] = None, patience: Optional[int] = None,
        ties: bool = False, keep: str = 'best',
        module: Optional[torch.nn.Module] = None,
        sync: Callable[[], None] = lambda: None) -> Dict:
    """Trains for at most ``epochs`` epochs and returns what the protocol
    reports.

    ``train_epoch()`` runs one epoch and returns its training loss (timed;
    ``sync`` waits for a device first); ``validate()`` returns this epoch's
    metrics (``val_*``, ``test_*``, ...), all recorded in ``history``.
    ``window``: stop once ``monitor`` is worse than the mean of the previous
    ``window`` epochs (Kipf & Welling with 10, GPR-GNN/BernNet/ChebNetII
    with 200); ``patience``: stop after that many epochs without a new best
    (``ties``: an equal score counts as new, as JacobiConv's code).
    ``keep='best'``: the metrics of the epoch with the best
    ``monitor`` (and, given ``module``, its weights are restored);
    ``keep='last'``: the final epoch's.

    Returns ``dict(result=..., history=..., epochs=..., best_epoch=...,
    sec_per_epoch=median epoch time)``.
    """
    if mode not in ('min', 'max') or keep not in ('best', 'last'):
        raise ValueError(f"mode must be 'min'/'max' and keep 'best'/'last' "
                         f"(got {mode!r}, {keep!r})")
    sign = 1.0 if mode == 'min' else -1.0
    history: Dict[str, List[float]] = {'train_loss': []}
    best, best_epoch, result, state, times = math.inf, -1, {}, None, []
    stale = 0
    for epoch in range(epochs):
        t0 = time.perf_counter()
        loss = train_epoch()
        sync()
        times.append(time.perf_counter() - t0)
        metrics = validate()
        history['train_loss'].append(float(loss))
        for k, v in metrics.items():
            history.setdefault(k, []).append(float(v))
        score = sign * float(metrics[monitor]) if keep == 'best' or \
            monitor in metrics else 0.0
        improved = score < best or (ties and score == best)
        stale = 0 if improved else stale + 1
        if keep == 'last' or improved:
            best, best_epoch, result = score, epoch, dict(metrics)
            if module is not None and keep == 'best':
                state = copy.deepcopy(module.state_dict())
        if patience is not None and stale > patience:
            break
        past = history[monitor][-(window + 1):-1] if window else []
        if window and epoch > window and \
                score > sign * sum(past) / len(past):
            break
    if state is not None:
        module.load_state_dict(state)
    return dict(result=result, history=history, epochs=len(times),
                best_epoch=best_epoch,
                sec_per_epoch=float(np.median(times)) if times else 0.0)


def full_batch_step(model: torch.nn.Module, opt, forward: Callable[[], Tensor],
                    y: Tensor, mask: Tensor) -> float:
    """One full-batch training step of node classification (cross-entropy
    on the ``mask`` nodes); returns the loss."""
    model.train()
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(forward()[mask], y[mask])
    loss.backward()
    opt.step()
    return loss.item()


def full_batch_eval(model: torch.nn.Module, forward: Callable[[], Tensor],
                    y: Tensor, masks: Dict[str, Tensor],
                    losses: Sequence[str] = ('val', )) -> Dict[str, float]:
    """``{name}_acc`` for every mask (and ``{name}_loss`` for those in
    ``losses``) of the model in eval mode."""
    model.eval()
    with torch.no_grad():
        out = forward()
    res = {}
    for name, m in masks.items():
        res[f'{name}_acc'] = float((out[m].argmax(1) == y[m]).float().mean())
        if name in losses:
            res[f'{name}_loss'] = float(
                torch.nn.functional.cross_entropy(out[m], y[m]))
    return res


def minibatches(n: int, batch_size: int, generator: torch.Generator,
                device='cpu') -> Iterable[Tensor]:
    """Shuffled index batches over ``range(n)`` (one epoch)."""
    perm = torch.randperm(n, generator=generator).to(device)
    for i in range(0, n, batch_size):
        yield perm[i:i + batch_size]


def cuda_sync(device) -> Callable[[], None]:
    """Waits for ``device`` before an epoch's clock stops (no-op on CPU)."""
    if torch.device(device).type == 'cuda':
        return torch.cuda.synchronize
    return lambda: None


def bootstrap_ci(values, level: float = 0.95, n_boot: int = 1000,
                 seed: int = 0) -> float:
    """Half-width of the bootstrap confidence interval of the mean: GPR-GNN's
    and BernNet's ``max |ci(bootstrap(acc, mean)) - mean|``."""
    v = np.asarray(list(values), dtype=np.float64)
    if v.size < 2:
        return 0.0
    rng = np.random.default_rng(seed)
    means = rng.choice(v, (n_boot, v.size), replace=True).mean(1)
    lo, hi = np.percentile(means, [50 * (1 - level), 50 * (1 + level)])
    return float(max(abs(lo - v.mean()), abs(hi - v.mean())))


def group_runs(runs: List[Dict], keys: Sequence[str]) -> Dict[tuple, List]:
    """Runs grouped by the values of ``keys``, in first-seen order."""
    groups: Dict[tuple, List] = {}
    for r in runs:
        groups.setdefault(tuple(r[k] for k in keys), []).append(r)
    return groups


def markdown_table(header: Sequence[str], rows: Iterable[Sequence],
                   align: Optional[str] = None) -> str:
    """A Markdown table; ``align`` one of ``l``/``r`` per column."""
    align = align or 'l' * len(header)
    sep = ['---:' if a == 'r' else '---' for a in align]
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '|'.join(sep) + '|']
    lines += ['| ' + ' | '.join(str(c) for c in r) + ' |' for r in rows]
    return '\n'.join(lines) + '\n'
