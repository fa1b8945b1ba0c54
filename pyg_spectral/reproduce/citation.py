r"""Kipf & Welling's semi-supervised node classification protocol on the
Planetoid citation graphs (public split), with this package's layers and,
optionally, PyG's own.

Protocol (Kipf & Welling 2017, Sec. 5.2/5.3): two layers, 16 hidden units,
dropout 0.5 on the input and hidden features, L2 5e-4 on the first layer's
weights, Adam lr 0.01, at most 200 epochs, early stopping when the
validation loss exceeds the mean of the 10 previous epochs, row-normalized
features, no biases, ChebNet on :math:`2L/\lambda_{\max} - I` with the
exact :math:`\lambda_{\max}` (Lanczos, as Kipf's ``chebyshev_polynomials``);
the test accuracy of the final model is reported.

K convention: ``cheb-K`` uses PyG's K (number of terms); Kipf's Table 3
"Chebyshev K=k" is PyG K = k + 1.
"""
from __future__ import annotations

import os
from typing import Dict, List, Optional

import torch
import torch.nn.functional as Fn

from ..ops import estimate_lambda_max
from .common import (feature_dropout, fit, full_batch_eval,
                     full_batch_step, group_runs, have_matplotlib,
                     markdown_table, mean_std, progress, seed_everything,
                     write_json, write_text)

# Kipf & Welling 2017, Table 2 (GCN) and Table 3 (Chebyshev K=k <-> PyG k+1,
# MLP); order Cora, CiteSeer, PubMed.
PAPER = {
    'gcn': {'Cora': 81.5, 'CiteSeer': 70.3, 'PubMed': 79.0},
    'cheb-3': {'Cora': 81.2, 'CiteSeer': 69.6, 'PubMed': 73.8},
    'cheb-4': {'Cora': 79.5, 'CiteSeer': 69.8, 'PubMed': 74.4},
    'mlp': {'Cora': 55.1, 'CiteSeer': 46.5, 'PubMed': 71.4},
}
# Kipf's Table 3 has no Chebyshev K=1 (PyG K=2) row
MODELS = ['gcn', 'cheb-2', 'cheb-3', 'cheb-4', 'mlp', 'scnn']


class Net(torch.nn.Module):
    """Two-layer model: conv -> ReLU -> dropout -> conv (or Linear for
    MLP). Dropout is applied to the input features too (Kipf)."""

    def __init__(self, kind: str, in_channels: int, hidden: int,
                 out_channels: int, impl: str = 'ours', dropout: float = 0.5):
        super().__init__()
        self.kind, self.dropout = kind, dropout
        if impl == 'pyg':
            import torch_geometric.nn as lib
        else:
            from .. import nn as lib
        # Kipf's layers have no bias (gcn/layers.py: bias=False)
        if kind == 'mlp':
            self.conv1 = torch.nn.Linear(in_channels, hidden, bias=False)
            self.conv2 = torch.nn.Linear(hidden, out_channels, bias=False)
        elif kind == 'gcn':
            self.conv1 = lib.GCNConv(in_channels, hidden, bias=False)
            self.conv2 = lib.GCNConv(hidden, out_channels, bias=False)
        elif kind.startswith('cheb-'):
            K = int(kind.split('-')[1])
            self.conv1 = lib.ChebConv(in_channels, hidden, K, bias=False)
            self.conv2 = lib.ChebConv(hidden, out_channels, K, bias=False)
        elif kind == 'scnn':  # spline multipliers, chebyshev mode (ours)
            from ..nn import SpectralConv
            self.conv1 = SpectralConv(in_channels, hidden, 5, 'chebyshev',
                                      K=10, bias=False)
            self.conv2 = SpectralConv(hidden, out_channels, 5, 'chebyshev',
                                      K=10, bias=False)
        else:
            raise ValueError(f"model must be one of {MODELS} (got {kind!r})")

    def forward(self, x, edge_index, lambda_max=None):
        x = feature_dropout(x, self.dropout, self.training)
        x = self._conv(self.conv1, x, edge_index, lambda_max)
        x = Fn.dropout(x.relu(), self.dropout, self.training)
        return self._conv(self.conv2, x, edge_index, lambda_max)

    def _conv(self, conv, x, edge_index, lambda_max):
        if self.kind == 'mlp':
            return conv(x)
        if self.kind in ('gcn', 'scnn'):
            return conv(x, edge_index)
        return conv(x, edge_index, lambda_max=lambda_max)


def train_one(data, kind: str, seed: int, impl: str = 'ours',
              epochs: int = 200, patience: int = 10, hidden: int = 16,
              lr: float = 0.01, weight_decay: float = 5e-4,
              sparse_features: bool = True) -> Dict:
    seed_everything(seed)
    model = Net(kind, data.num_features, hidden,
                int(data.y.max()) + 1, impl)
    opt = torch.optim.Adam([
        dict(params=model.conv1.parameters(), weight_decay=weight_decay),
        dict(params=model.conv2.parameters(), weight_decay=0.0),
    ], lr=lr)
    x, ei, y = data.x, data.edge_index, data.y
    # Kipf's chebyshev_polynomials() scales by the exact largest eigenvalue
    lam = float(estimate_lambda_max(ei, None, data.num_nodes, 'sym',
                                    method='lanczos', margin=1.0)[0])
    if impl == 'ours' and sparse_features:
        x = x.to_sparse_csr()  # bag-of-words: ~99 % zeros

    def forward():
        return model(x, ei, lam)

    def train_epoch():
        return full_batch_step(model, opt, forward, y, data.train_mask)

    def validate():
        return full_batch_eval(model, forward, y, dict(val=data.val_mask))

    # the final model is reported (Kipf: stop when the validation loss
    # exceeds the mean of the previous `patience` epochs)
    fitted = fit(train_epoch, validate, epochs, window=patience,
                 keep='last')
    test_acc = full_batch_eval(model, forward, y, dict(test=data.test_mask),
                               losses=())['test_acc']
    return dict(seed=seed, model=kind, impl=impl, test_acc=100 * test_acc,
                epochs=fitted['epochs'],
                sec_per_epoch=fitted['sec_per_epoch'],
                history=fitted['history'])


def run(datasets: List[str], models: List[str], seeds: int, epochs: int,
        root: Optional[str], out_dir: str, compare_pyg: bool = False,
        download: bool = False) -> Dict:
    from torch_geometric.transforms import NormalizeFeatures

    from ..datasets import load_planetoid
    runs = []
    impls = ['ours', 'pyg'] if compare_pyg else ['ours']
    for name in datasets:
        data = load_planetoid(name, root, download=download,
                              transform=NormalizeFeatures())
        jobs = [(m, i, s) for m in models for i in impls for s in
                range(seeds) if not (i == 'pyg' and m in ('mlp', 'scnn'))]
        for m, impl, s in progress(jobs, desc=f'{name}'):
            r = train_one(data, m, s, impl, epochs)
            r['dataset'] = name
            runs.append(r)
    summary = summarize(runs)
    md = to_markdown(summary, seeds)
    write_json(os.path.join(out_dir, 'citation.json'),
               dict(summary=summary, runs=runs))
    write_text(os.path.join(out_dir, 'citation.md'), md)
    if have_matplotlib():
        plot_curves(runs, os.path.join(out_dir, 'citation_curves.png'))
    return dict(summary=summary, runs=runs, markdown=md)


def summarize(runs: List[Dict]) -> List[Dict]:
    out = []
    for (ds, m, impl), rs in group_runs(runs, ('dataset', 'model',
                                               'impl')).items():
        mu, sd = mean_std(r['test_acc'] for r in rs)
        tm, _ = mean_std(r['sec_per_epoch'] for r in rs)
        out.append(dict(dataset=ds, model=m, impl=impl, test_acc_mean=mu,
                        test_acc_std=sd, seeds=len(rs), sec_per_epoch=tm,
                        paper=PAPER.get(m, {}).get(ds)))
    return out


def _label(m: str) -> str:
    if m.startswith('cheb-'):
        K = int(m.split('-')[1])
        return f'ChebNet PyG K={K} (Kipf K={K - 1})'
    return {'gcn': 'GCN', 'mlp': 'MLP',
            'scnn': 'SCNN spline (5 B-splines, chebyshev K=10)'}.get(m, m)


def to_markdown(summary: List[Dict], seeds: int) -> str:
    head = (f'Test accuracy (%), mean ± std over {seeds} seed(s), public '
            f'Planetoid split, Kipf & Welling protocol. K = number of '
            f'Chebyshev terms (PyG); Kipf & Welling\'s "K" is PyG K − 1. '
            f'Paper: Kipf & Welling 2017, Tables 2–3.\n\n')
    rows = [[s['dataset'], _label(s['model']),
             'pyg_spectral' if s['impl'] == 'ours' else 'PyG',
             f"{s['test_acc_mean']:.1f} ± {s['test_acc_std']:.1f}",
             '—' if s['paper'] is None else f"{s['paper']:.1f}",
             f"{s['sec_per_epoch'] * 1e3:.1f} ms"] for s in summary]
    return head + markdown_table(['dataset', 'model', 'layers', 'accuracy',
                                  'paper', 's / epoch'], rows, 'lllrrr')


def plot_curves(runs: List[Dict], path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    datasets = sorted({r['dataset'] for r in runs})
    fig, axes = plt.subplots(2, len(datasets), squeeze=False,
                             figsize=(5 * len(datasets), 7))
    for j, ds in enumerate(datasets):
        for r in runs:
            if r['dataset'] != ds or r['seed'] != 0:
                continue
            lab = f"{_label(r['model'])} ({r['impl']})"
            axes[0, j].plot(r['history']['train_loss'], label=lab + ' train')
            axes[0, j].plot(r['history']['val_loss'], '--')
            axes[1, j].plot(r['history']['val_acc'], label=lab)
        axes[0, j].set_title(f'{ds}: loss (solid train, dashed val), seed 0')
        axes[1, j].set_title(f'{ds}: validation accuracy, seed 0')
        axes[1, j].set_xlabel('epoch')
        axes[1, j].legend(fontsize=7)
    fig.tight_layout()
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
