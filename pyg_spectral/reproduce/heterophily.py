r"""The protocol of Platonov et al., *A critical look at the evaluation of
GNNs under heterophily* (ICLR 2023), with this package's graph operators
and filters as the graph module of its residual network.

Data: the yandex npz files (:func:`~pyg_spectral.datasets.load_heterophily`)
with their ten fixed splits: ``minesweeper``, ``tolokers`` (binary: ROC-AUC)
and ``chameleon_filtered``, ``squirrel_filtered`` (accuracy); any other
name of the same format works too.

Model (their ``model.py`` / ``modules.py``): input Linear, dropout, GELU;
``depth`` residual blocks :math:`x \leftarrow x + \mathrm{FF}(G(
\mathrm{LayerNorm}(x)))` with the feed-forward block Linear-dropout-GELU-
Linear-dropout at width 512; a final LayerNorm and Linear. The graph
module :math:`G` is the row's operator:

* ``resnet``: none (their ResNet);
* ``gcn``: :math:`\hat{\mathbf{D}}^{-1/2}(\mathbf{A} + \mathbf{I})
  \hat{\mathbf{D}}^{-1/2}` (their GCN module, on this package's sparse
  operator);
* ``gprgnn``, ``bernnet``, ``chebnetii``, ``jacobiconv``: the learnable
  polynomial filter (K = 10) of :mod:`pyg_spectral.nn` at width 512.

Training (their ``train.py``): AdamW, lr 3e-5, no weight decay, dropout
0.2, 1000 steps, full batch; after every step the validation metric, and
the test metric of the step with the best validation metric is reported.
The depth is chosen from ``depths`` by the mean validation metric over the
splits (their grid: 1 to 5 layers). Reported: mean ± std over the splits
(their ``Logger``).
"""
from __future__ import annotations

import os
import time
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as Fn
from torch import Tensor

from .common import (group_runs, markdown_table, mean_std, progress,
                     seed_everything, write_json, write_text)

DATASETS = ('minesweeper', 'tolokers', 'chameleon_filtered',
            'squirrel_filtered')
MODELS = ('resnet', 'gcn', 'gprgnn', 'bernnet', 'chebnetii', 'jacobiconv')
LABELS = {'resnet': 'ResNet', 'gcn': 'GCN', 'gprgnn': 'GPR-GNN (K=10)',
          'bernnet': 'BernNet (K=10)', 'chebnetii': 'ChebNetII (K=10)',
          'jacobiconv': 'JacobiConv (K=10)'}


def roc_auc(scores: Tensor, labels: Tensor) -> float:
    """Area under the ROC curve (the Mann-Whitney statistic, ties counted
    one half; scikit-learn's ``roc_auc_score`` for binary labels)."""
    scores, labels = scores.double().view(-1), labels.view(-1).bool()
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError('roc_auc needs both classes among the labels')
    order = torch.argsort(scores)
    sorted_scores = scores[order]
    ranks = torch.empty_like(scores)
    ranks[order] = torch.arange(1, scores.numel() + 1, dtype=torch.float64)
    # average the ranks of tied scores
    _, inverse, counts = torch.unique_consecutive(
        sorted_scores, return_inverse=True, return_counts=True)
    ends = torch.cumsum(counts, 0).double()
    mean_rank = ends - (counts.double() - 1) / 2
    ranks[order] = mean_rank[inverse]
    u = ranks[labels].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


class FeedForward(torch.nn.Module):
    def __init__(self, dim: int, dropout: float):
        super().__init__()
        self.linear_1 = torch.nn.Linear(dim, dim)
        self.linear_2 = torch.nn.Linear(dim, dim)
        self.dropout = dropout

    def forward(self, x):
        x = Fn.gelu(Fn.dropout(self.linear_1(x), self.dropout, self.training))
        return Fn.dropout(self.linear_2(x), self.dropout, self.training)


class Propagate(torch.nn.Module):
    """Their GCN module's graph step: :math:`\\hat{\\mathbf{A}} h` with a
    prebuilt :class:`~pyg_spectral.ops.SparseOperator`."""

    def __init__(self, op):
        super().__init__()
        self.op = op

    def forward(self, h, edge_index=None):
        from ..ops import spmm
        return spmm(self.op, h)


class Block(torch.nn.Module):
    """:math:`x + \\mathrm{FF}(G(\\mathrm{LayerNorm}(x)))`."""

    def __init__(self, graph: Optional[torch.nn.Module], dim: int,
                 dropout: float):
        super().__init__()
        self.norm = torch.nn.LayerNorm(dim)
        self.graph = graph
        self.ff = FeedForward(dim, dropout)

    def forward(self, x, edge_index):
        h = self.norm(x)
        if self.graph is not None:
            h = self.graph(h, edge_index)
        return x + self.ff(h)


class ResidualNet(torch.nn.Module):
    """Platonov et al.'s ``Model`` with the graph module of ``kind``
    (``op``: GCN's operator of the graph, for ``kind='gcn'``)."""

    def __init__(self, kind: str, in_channels: int, out_channels: int,
                 depth: int, hidden: int = 512, dropout: float = 0.2,
                 K: int = 10, op=None):
        super().__init__()
        from .. import nn as ours
        if kind not in MODELS:
            raise ValueError(f"model must be one of {MODELS} (got {kind!r})")
        if kind == 'gcn' and op is None:
            raise ValueError("kind='gcn' needs op (GCN's operator)")
        make = {'resnet': lambda: None,
                'gcn': lambda: Propagate(op),
                'gprgnn': lambda: ours.GPRConv(K, alpha=0.1),
                'bernnet': lambda: ours.BernConv(K),
                'chebnetii': lambda: ours.ChebIIConv(K),
                'jacobiconv': lambda: ours.JacobiConv(hidden, K)}[kind]
        self.input_linear = torch.nn.Linear(in_channels, hidden)
        self.dropout = dropout
        self.blocks = torch.nn.ModuleList(
            [Block(make(), hidden, dropout) for _ in range(depth)])
        self.output_norm = torch.nn.LayerNorm(hidden)
        self.output_linear = torch.nn.Linear(hidden, out_channels)

    def forward(self, x, edge_index):
        x = Fn.gelu(Fn.dropout(self.input_linear(x), self.dropout,
                               self.training))
        for block in self.blocks:
            x = block(x, edge_index)
        return self.output_linear(self.output_norm(x))


def features(x: Tensor) -> Tensor:
    """Bag-of-words features (under 10 % nonzero) as a CSR tensor: the
    input Linear becomes a sparse product; dense features stay dense."""
    from ..ops.csr import to_csr
    if x.numel() and float((x != 0).float().mean()) < 0.1:
        return to_csr(x)
    return x


def metric_name(data) -> str:
    return 'roc_auc' if int(data.y.max()) == 1 else 'accuracy'


def evaluate(logits: Tensor, y: Tensor, mask: Tensor, metric: str) -> float:
    if metric == 'roc_auc':
        return roc_auc(logits[mask].view(-1), y[mask])
    return float((logits[mask].argmax(-1) == y[mask]).float().mean())


def train_one(data, kind: str, depth: int, split: int, steps: int = 1000,
              lr: float = 3e-5, op=None, seed: int = 0) -> Dict:
    """One run on split ``split``: the test metric at the step with the
    best validation metric (strictly better, as their ``Logger``)."""
    from ..ops import gcn_operator
    seed_everything(seed + split)
    metric = metric_name(data)
    out = 1 if metric == 'roc_auc' else int(data.y.max()) + 1
    if op is None and kind == 'gcn':
        op = gcn_operator(data.edge_index, num_nodes=data.num_nodes)
    model = ResidualNet(kind, data.num_features, out, depth, op=op)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    x, ei, y = features(data.x), data.edge_index, data.y
    tr, va, te = (data[k][:, split] for k in ('train_mask', 'val_mask',
                                                'test_mask'))
    best_val, best_test, best_step = -1.0, 0.0, 0
    t0 = time.perf_counter()
    for step in range(1, steps + 1):
        model.train()
        logits = model(x, ei)
        if metric == 'roc_auc':
            loss = Fn.binary_cross_entropy_with_logits(
                logits[tr].view(-1), y[tr].float())
        else:
            loss = Fn.cross_entropy(logits[tr], y[tr])
        loss.backward()
        opt.step()
        opt.zero_grad()
        model.eval()
        with torch.no_grad():
            logits = model(x, ei)
        v = evaluate(logits, y, va, metric)
        if v > best_val:
            best_val, best_step = v, step
            best_test = evaluate(logits, y, te, metric)
    return dict(model=kind, depth=depth, split=split, metric=metric,
                val=100 * best_val, test=100 * best_test, best_step=best_step,
                sec_per_step=(time.perf_counter() - t0) / steps)


def run(datasets: Sequence[str], models: Sequence[str], depths: Sequence[int],
        splits: int, steps: int, out_dir: str, root: Optional[str] = None,
        lr: float = 3e-5) -> Dict:
    from ..datasets import load_heterophily
    from ..ops import gcn_operator
    for m in models:
        if m not in MODELS:
            raise ValueError(f"model must be one of {MODELS} (got {m!r})")
    if not 1 <= splits <= 10:
        raise ValueError(f"splits must be in [1, 10] (got {splits})")
    runs = []
    for name in datasets:
        data = load_heterophily(name, root)
        op = gcn_operator(data.edge_index, num_nodes=data.num_nodes)
        for m in progress(models, desc=name):
            for depth in depths:
                for s in range(splits):
                    r = train_one(data, m, depth, s, steps, lr, op)
                    r['dataset'] = name.lower()
                    runs.append(r)
    summary = summarize(runs)
    md = to_markdown(summary, splits, steps, depths)
    os.makedirs(out_dir, exist_ok=True)
    write_json(os.path.join(out_dir, 'heterophily.json'),
               dict(summary=summary, runs=runs))
    write_text(os.path.join(out_dir, 'heterophily.md'), md)
    return dict(summary=summary, runs=runs, markdown=md)


def summarize(runs: List[Dict]) -> List[Dict]:
    """Per dataset and model: the depth with the best mean validation
    metric, and its test mean ± std."""
    out = []
    for (ds, m), rs in group_runs(runs, ('dataset', 'model')).items():
        by_depth = group_runs(rs, ('depth', ))
        best = max(by_depth, key=lambda d: np.mean(
            [r['val'] for r in by_depth[d]]))
        chosen = by_depth[best]
        test, std = mean_std(r['test'] for r in chosen)
        out.append(dict(dataset=ds, model=m, depth=best[0],
                        metric=chosen[0]['metric'], splits=len(chosen),
                        test_mean=test, test_std=std,
                        val_mean=float(np.mean([r['val'] for r in chosen])),
                        sec_per_step=float(np.median(
                            [r['sec_per_step'] for r in chosen]))))
    return out


def to_markdown(summary: List[Dict], splits: int, steps: int,
                depths: Sequence[int]) -> str:
    head = (f'Platonov et al. (ICLR 2023) protocol: their residual network '
            f'(width 512, dropout 0.2, AdamW lr 3e-5, {steps} steps, the '
            f'test metric at the best validation step) with the row\'s '
            f'graph module; {splits} of their fixed splits; depth chosen '
            f'from {list(depths)} by the mean validation metric. Test '
            f'ROC-AUC (minesweeper, tolokers) or accuracy (%), mean ± std. '
            f'Paper: Platonov et al. Table 2 / 4 could not be read from the '
            f'paper; the column is empty. K = polynomial order (K + 1 '
            f'terms).\n\n')
    rows = [[s['dataset'], LABELS[s['model']],
             'ROC-AUC' if s['metric'] == 'roc_auc' else 'accuracy',
             f"{s['test_mean']:.2f} ± {s['test_std']:.2f}", '',
             str(s['depth']), f"{s['sec_per_step'] * 1e3:.0f}"]
            for s in summary]
    header = ['dataset', 'model', 'metric', 'test', 'paper', 'depth',
              'ms / step']
    return head + markdown_table(header, rows, 'lll' + 'r' * 4)
