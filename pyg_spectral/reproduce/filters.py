r"""Learning a known filter from signals: BernNet's image experiment (He et
al., NeurIPS 2021, Sec. 5.1 and Table 1; reused by ChebNetII and
JacobiConv), with all images trained in one run.

Data (:func:`~pyg_spectral.datasets.load_image_grid`): 50 images on the
100x100 grid graph. Each target is the image filtered exactly in the
eigenbasis of :math:`\mathbf{L} = \mathbf{I} - \mathbf{D}^{-1/2}\mathbf{A}
\mathbf{D}^{-1/2}` (dense float64 ``eigh``, computed once and cached):
:math:`\mathbf{y} = \mathbf{U}\,h(\boldsymbol{\Lambda})\,\mathbf{U}^\top
\mathbf{x}` with :data:`RESPONSES` (low-pass :math:`e^{-10\lambda^2}`,
high-pass :math:`1 - e^{-10\lambda^2}`, band-pass :math:`e^{-10(\lambda -
1)^2}`, band-rejection :math:`1 - e^{-10(\lambda-1)^2}`, comb
:math:`|\sin \pi\lambda|`).

Protocol (BernNet's ``LearningFilters/training.py``), per image: a fresh
model, Adam lr 0.01, at most 2000 epochs, stop after 100 epochs without a
lower training loss; loss = sum of squared errors on the interior pixels
(``mask``); reported: the lowest loss and the R² of the same epoch,
averaged over the images. Here the 50 images are 50 independent channels
of one batched model (:mod:`.filter_models`: per-image parameters,
per-image stopping), equal to 50 separate runs.

Rows: the papers' models in BernNet's shapes (GCN, GAT, ARMA, ChebNet with
PyG ``K=3``, GPR-GNN, BernNet: :data:`.filter_models.MODELS`), and linear
filters ``x -> h(L) x`` of polynomial order K = 10 (JacobiConv's image
model): ChebNetII, JacobiConv (its tuned ``a``, ``b``, ``alpha`` and group
learning rates per filter type, :data:`JACOBI`), and a plain filter with
free coefficients in each basis of the engine (Chebyshev, Legendre,
monomial). Beside each row, the **optimum of its class**: the least-squares
best polynomial of the model's total degree in its operator, per image, in
closed form (GCN: degree 2 in GCN's operator; ARMA 2, ChebNet 4, BernNet
20, linear filters 10 in :math:`\mathbf{L}`; GPR-GNN 10 in GCN's
operator; GAT has no fixed operator). Models with nonlinearities between
their propagations can exceed it.
"""
from __future__ import annotations

import hashlib
import math
import os
import time
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from ..datasets import _paths
from ..ops.bases import basis_values
from . import filter_models as fm
from .common import (have_matplotlib, markdown_table, progress, write_json,
                     write_text)

RESPONSES = {
    'low': lambda lam: np.exp(-10 * lam ** 2),
    'high': lambda lam: 1 - np.exp(-10 * lam ** 2),
    'band': lambda lam: np.exp(-10 * (lam - 1) ** 2),
    'rejection': lambda lam: 1 - np.exp(-10 * (lam - 1) ** 2),
    'comb': lambda lam: np.abs(np.sin(np.pi * lam)),
}
FILTER_LABELS = {'low': 'low-pass', 'high': 'high-pass', 'band': 'band-pass',
                 'rejection': 'band-rejection', 'comb': 'comb'}
MODELS = list(fm.MODELS)
# JacobiConv bestHyperparams.py, img_params: a, b, alpha, and the learning
# rate / weight decay of the filter's scalings (lr2, wd2) and per-term
# weights (lr3, wd3) per filter type.
JACOBI = {
    'band': (-0.75, 0.75, 1.5, 0.001, 0.0, 0.05, 1e-4),
    'comb': (-0.75, 0.75, 2.0, 0.001, 1e-4, 0.05, 0.0),
    'high': (-0.75, 0.75, 2.0, 0.001, 0.0, 0.05, 0.0),
    'low': (-0.75, 0.75, 1.5, 0.001, 5e-4, 0.05, 1e-4),
    'rejection': (-0.75, 0.5, 2.0, 0.001, 1e-4, 0.05, 1e-3),
}


# -- targets and the optimum of a class --------------------------------------

def graph_operator(edge_index: Tensor, n: int, operator: str):
    """The float64 operator of a class (this package's builders):
    ``'laplacian'`` :math:`\\mathbf{L} - \\mathbf{I}`, ``'gcn'`` GCN's
    :math:`\\hat{\\mathbf{A}}`."""
    from ..ops import gcn_operator, laplacian_operator
    if operator == 'laplacian':
        return laplacian_operator(edge_index, num_nodes=n, lambda_max=2.0,
                                  dtype=torch.float64)
    if operator == 'gcn':
        return gcn_operator(edge_index, num_nodes=n, dtype=torch.float64)
    raise ValueError(f"operator must be 'laplacian' or 'gcn' (got "
                     f"{operator!r})")


def spectrum(edge_index: Tensor, n: int):
    """Eigenvalues ``[N]`` and eigenvectors ``[N, N]`` (float64 numpy) of
    the normalized Laplacian, by a dense symmetric eigensolver."""
    from scipy.linalg import eigh
    lap = graph_operator(edge_index, n, 'laplacian').to_dense().numpy()
    lap[np.diag_indices(n)] += 1.0  # (L - I) + I
    return eigh(lap, overwrite_a=True, check_finite=False)


def filter_targets(edge_index: Tensor, x: Tensor,
                   kinds: Sequence[str] = tuple(RESPONSES),
                   cache_dir: Optional[str] = None) -> Dict[str, Tensor]:
    """``{kind: U h(Lambda) U^T x}`` ``[N, B]`` float64 for every filter
    type in ``kinds``; all of :data:`RESPONSES` are computed from one
    eigendecomposition and cached under ``cache_dir`` (default
    ``~/.cache/pyg_spectral/filters``), keyed by the graph and images."""
    for k in kinds:
        if k not in RESPONSES:
            raise ValueError(f"filter type must be one of {list(RESPONSES)} "
                             f"(got {k!r})")
    n = x.size(0)
    key = hashlib.sha1(edge_index.cpu().numpy().tobytes() +
                       x.cpu().double().numpy().tobytes()).hexdigest()[:16]
    cache_dir = cache_dir or os.path.join(_paths.CACHE, 'filters')
    path = os.path.join(cache_dir, f'targets_{key}.npz')
    if os.path.isfile(path):
        with np.load(path) as f:
            return {k: torch.from_numpy(f[k]) for k in kinds}
    lam, U = spectrum(edge_index, n)
    coords = U.T @ x.cpu().double().numpy()  # [N, B] in the eigenbasis
    out = {k: U @ (fn(lam)[:, None] * coords) for k, fn in RESPONSES.items()}
    os.makedirs(cache_dir, exist_ok=True)
    np.savez(path, **out)
    return {k: torch.from_numpy(out[k]) for k in kinds}


def r2(pred: Tensor, y: Tensor, mask: Tensor) -> Tensor:
    """R² per column on the ``mask`` rows (scikit-learn's ``r2_score``)."""
    p, t = pred[mask], y[mask]
    ss_res = (t - p).square().sum(0)
    ss_tot = (t - t.mean(0)).square().sum(0)
    return 1 - ss_res / ss_tot


def class_optimum(edge_index: Tensor, x: Tensor, y: Tensor, mask: Tensor,
                  operator: str, degree: int) -> Dict[str, Tensor]:
    """Per image, the least-squares best :math:`\\sum_{k \\le d} c_k
    T_k(\\mathbf{S})\\mathbf{x}` for the targets ``y`` on the ``mask``
    rows (float64): ``sse`` ``[B]``, ``r2`` ``[B]`` and ``coef`` ``[B,
    d+1]`` (Chebyshev coefficients in :math:`\\mathbf{S}`).
    ``operator``: ``'laplacian'`` (:math:`\\mathbf{S} = \\mathbf{L} -
    \\mathbf{I}`) or ``'gcn'`` (GCN's :math:`\\hat{\\mathbf{A}}`)."""
    from ..ops import cheb_terms
    op = graph_operator(edge_index, x.size(0), operator)
    # the engine's recurrence; its two buffers rotate, so each term is kept
    V = np.stack([t.numpy().copy() for t in cheb_terms(
        op, x.cpu().double(), degree + 1)], -1)  # d+1 x [N, B] -> [N, B, d+1]
    m = mask.cpu().numpy()
    Y = y.cpu().double().numpy()
    sse, coef = [], []
    for b in range(x.size(1)):
        c, *_ = np.linalg.lstsq(V[m, b], Y[m, b], rcond=None)
        coef.append(c)
        sse.append(float(np.square(V[m, b] @ c - Y[m, b]).sum()))
    pred = torch.from_numpy(np.einsum('nbk,bk->nb', V, np.stack(coef)))
    return dict(sse=torch.tensor(sse, dtype=torch.float64),
                r2=r2(pred, y.double().cpu(), mask),
                coef=torch.from_numpy(np.stack(coef)))


# -- training ----------------------------------------------------------------

def train_batched(model: fm.Batched, x: Tensor, y: Tensor, mask: Tensor,
                  groups: List[dict], epochs: int = 2000,
                  patience: int = 100) -> Dict[str, Tensor]:
    """BernNet's loop for every image at once: per image the lowest
    training loss (SSE on ``mask``), the R² of that epoch and the number of
    epochs it ran (it stops after ``patience`` epochs without a lower loss;
    the batch runs until every image stopped)."""
    b = x.size(1)
    opt = torch.optim.Adam(groups)
    m = mask.to(x.dtype).unsqueeze(1)  # [N] -> [N, 1]
    best = torch.full((b, ), math.inf, dtype=torch.float64)
    best_r2 = torch.zeros(b, dtype=torch.float64)
    stale = torch.zeros(b, dtype=torch.long)
    ran = torch.full((b, ), epochs, dtype=torch.long)
    active = torch.ones(b, dtype=torch.bool)
    for epoch in range(epochs):
        opt.zero_grad()
        pred = model(x)
        sse = (m * (pred - y)).square().sum(0)  # [B]
        sse.sum().backward()
        opt.step()
        with torch.no_grad():
            loss = sse.detach().double()
            score = r2(pred.detach(), y, mask).double()
            better = active & (loss < best)
            best = torch.where(better, loss, best)
            best_r2 = torch.where(better, score, best_r2)
            stale = torch.where(better, 0, stale + 1)
            stop = active & (stale > patience)
            ran[stop] = epoch + 1
            active &= ~stop
        if not bool(active.any()):
            break
    return dict(loss=best, r2=best_r2, epochs=ran)


def train_reference(model: torch.nn.Module, x: Tensor, y: Tensor,
                    mask: Tensor, edge_index: Tensor, groups: List[dict],
                    epochs: int = 2000, patience: int = 100) -> Dict:
    """The authors' one-image loop (``model(x [N, 1], edge_index)``)."""
    opt = torch.optim.Adam(groups)
    m = mask.to(x.dtype).unsqueeze(1)
    best, best_r2, cnt, ran = math.inf, 0.0, 0, epochs
    for epoch in range(epochs):
        opt.zero_grad()
        pred = model(x, edge_index)
        loss = (m * (pred - y)).square().sum()
        loss.backward()
        opt.step()
        score = float(r2(pred.detach(), y, mask)[0])
        value = float(loss.detach())
        if value < best:
            best, best_r2, cnt = value, score, 0
        else:
            cnt += 1
        if cnt > patience:
            ran = epoch + 1
            break
    return dict(loss=best, r2=best_r2, epochs=ran)


def jacobi_setting(kind: str):
    """JacobiConv's ``(a, b, alpha)`` and its group learning rates / weight
    decays for the filter type ``kind`` (:data:`JACOBI`)."""
    a, b, alpha, lr2, wd2, lr3, wd3 = JACOBI[kind]
    return (dict(a=a, b=b, alpha=alpha),
            dict(alphas=lr2, comb_weight=lr3),
            dict(alphas=wd2, comb_weight=wd3))


def make_model(name: str, kind: str, num_images: int, data,
               dtype=torch.float32):
    """The batched model and its Adam groups (lr 0.01 everywhere, except
    JacobiConv's tuned groups)."""
    jac, lrs, wds = jacobi_setting(kind) if name == 'jacobiconv' else \
        (None, None, None)
    model = fm.build(name, num_images, data.edge_index, data.num_nodes,
                     dtype, jacobi=jac)
    return model, fm.param_groups(model, 0.01, lrs, wds)


def reference_groups(name: str, kind: str, ref: torch.nn.Module):
    _, lrs, wds = jacobi_setting(kind) if name == 'jacobiconv' else \
        (None, None, None)
    return fm.param_groups(ref, 0.01, lrs, wds)


# -- the experiment ----------------------------------------------------------

def time_against_loop(name: str, kind: str, data, targets: Tensor,
                      images: int = 2, epochs: int = 20,
                      seed: int = 0) -> Dict[str, float]:
    """Seconds for ``epochs`` epochs of the batched model on all images,
    and of the authors' one-image loop on ``images`` of them (scaled to all
    images): the same rows, images and epochs, no early stop, each side
    after two warm-up epochs."""
    x = data.x
    b = x.size(1)
    torch.manual_seed(seed)
    model, groups = make_model(name, kind, b, data)
    y = targets.float()
    train_batched(model, x, y, data.mask, groups, 2, patience=2)  # warm-up
    t0 = time.perf_counter()
    train_batched(model, x, y, data.mask, groups, epochs, patience=epochs)
    batched = time.perf_counter() - t0
    refs = [model.reference(i) for i in range(images)]
    loop = 0.0
    for i, ref in enumerate(refs):
        args = (ref, x[:, i:i + 1], y[:, i:i + 1], data.mask,
                data.edge_index, reference_groups(name, kind, ref))
        train_reference(*args, 2, patience=2)  # warm-up
        t0 = time.perf_counter()
        train_reference(*args, epochs, patience=epochs)
        loop += time.perf_counter() - t0
    loop = loop / images * b
    return dict(batched_s=batched, loop_s=loop, speedup=loop / batched,
                timing_epochs=epochs, timing_images=images)


def learned_response(model: fm.Batched, lam: np.ndarray) -> Optional[Tensor]:
    """Mean over images of the learned filter's :math:`h(\\lambda)` on
    ``lam`` for models whose filter is a polynomial in
    :math:`\\mathbf{L}` (``None`` otherwise)."""
    if model.filters is None or model.filters[0].graph == 'gcn':
        return None
    f0 = model.filters[0]
    t = torch.as_tensor(lam, dtype=torch.float64)
    # L - I for 'laplacian', I - L for 'adjacency'
    t = t - 1 if f0.graph == 'laplacian' else 1 - t
    rec = None if f0.basis == 'chebyshev' else f0.rec
    values = basis_values(t, f0.K + 1, rec)  # [M, K+1]
    with torch.no_grad():
        coef = torch.stack([f.coefficients().reshape(f.K + 1, -1)[:, 0]
                            for f in model.filters]).double()  # [B, K+1]
    return (values @ coef.T).mean(1)


def run(kinds: Sequence[str], models: Sequence[str], images: int,
        epochs: int, out_dir: str, root: Optional[str] = None,
        patience: int = 100, timing: bool = True, timing_images: int = 2,
        timing_epochs: int = 20, seed: int = 0) -> Dict:
    from ..datasets import load_image_grid
    for m in models:
        if m not in fm.MODELS:
            raise ValueError(f"model must be one of {MODELS} (got {m!r})")
    data = load_image_grid(root)
    if not 1 <= images <= data.x.size(1):
        raise ValueError(f"images must be in [1, {data.x.size(1)}] (got "
                         f"{images})")
    data.x = data.x[:, :images]
    t0 = time.perf_counter()
    all_targets = filter_targets(data.edge_index, data.x, kinds)
    target_s = time.perf_counter() - t0
    lam = np.linspace(0, 2, 201)
    rows, responses, optima = [], {}, {}
    for kind in kinds:
        y = all_targets[kind]
        responses[kind] = dict(target=RESPONSES[kind](lam).tolist())
        for name in progress(models, desc=kind):
            cls = fm.MODELS[name][4]
            if cls is not None and cls not in optima.setdefault(kind, {}):
                optima[kind][cls] = class_optimum(
                    data.edge_index, data.x, y, data.mask, *cls)
            torch.manual_seed(seed)
            model, groups = make_model(name, kind, images, data)
            t1 = time.perf_counter()
            res = train_batched(model, data.x, y.float(), data.mask, groups,
                                epochs, patience)
            wall = time.perf_counter() - t1
            row = dict(filter=kind, model=name, images=images,
                       sse=float(res['loss'].mean()),
                       r2=float(res['r2'].mean()),
                       epochs_mean=float(res['epochs'].float().mean()),
                       wall_s=wall, per_image=dict(
                           sse=res['loss'].tolist(), r2=res['r2'].tolist(),
                           epochs=res['epochs'].tolist()))
            if cls is not None:
                opt = optima[kind][cls]
                row.update(optimum=f'{cls[0]} degree {cls[1]}',
                           opt_sse=float(opt['sse'].mean()),
                           opt_r2=float(opt['r2'].mean()),
                           sse_ratio=float((res['loss'] / opt['sse']).mean()))
            if timing:
                row.update(time_against_loop(name, kind, data, y,
                                             timing_images, timing_epochs))
            h = learned_response(model, lam)
            if h is not None:
                responses[kind][name] = h.tolist()
            rows.append(row)
        if ('laplacian', 10) in optima.get(kind, {}):
            coef = optima[kind][('laplacian', 10)]['coef']  # [B, 11]
            values = basis_values(torch.as_tensor(lam - 1), 11)
            responses[kind]['optimum (K=10)'] = \
                (values @ coef.T).mean(1).tolist()
    md = to_markdown(rows, images, epochs, patience)
    os.makedirs(out_dir, exist_ok=True)
    write_json(os.path.join(out_dir, 'filters.json'),
               dict(rows=rows, responses=dict(lam=lam.tolist(), **responses),
                    targets_s=target_s))
    write_text(os.path.join(out_dir, 'filters.md'), md)
    plots = plot_responses(lam, responses, out_dir)
    return dict(rows=rows, markdown=md, plots=plots)


def to_markdown(rows: List[Dict], images: int, epochs: int,
                patience: int) -> str:
    head = (f'Learning filters from images (BernNet\'s protocol: Adam lr '
            f'0.01, at most {epochs} epochs, stop after {patience} epochs '
            f'without a lower training loss; the lowest SSE on the interior '
            f'pixels and the R² of that epoch, mean over {images} images, '
            f'all trained at once as independent channels). Optimum: the '
            f'least-squares best polynomial of the model\'s class per image '
            f'(operator, degree); ratio: mean over images of SSE / optimum '
            f'SSE. Paper: BernNet Table 1 (SSE, R²): its cells could not be '
            f'read from the paper and are left empty. Time: wall seconds of '
            f'the batched run, and its speed-up over the one-image-at-a-time '
            f'loop (the authors\' model and filter code; this package\'s '
            f'layer for the plain bases, which have no authors\' code) on '
            f'the same rows, measured on a few images and epochs and scaled '
            f'to all images.\n\n')
    out = []
    for r in rows:
        out.append([
            FILTER_LABELS[r['filter']], fm.MODELS[r['model']][0],
            f"{r['sse']:.4g}", f"{r['r2']:.5f}",
            r.get('optimum', '—'),
            f"{r['opt_sse']:.4g}" if 'opt_sse' in r else '—',
            f"{r['opt_r2']:.5f}" if 'opt_r2' in r else '—',
            f"{r['sse_ratio']:.3g}" if 'sse_ratio' in r else '—',
            '', '', f"{r['epochs_mean']:.0f}", f"{r['wall_s']:.0f}",
            f"{r['speedup']:.1f}x" if 'speedup' in r else '—'])
    header = ['filter', 'model', 'SSE', 'R²', 'class', 'optimum SSE',
              'optimum R²', 'SSE / optimum', 'paper SSE', 'paper R²',
              'epochs', 'wall s', 'vs one-image loop']
    return head + markdown_table(header, out, 'll' + 'r' * 2 + 'l' +
                                 'r' * (len(header) - 5))


def plot_responses(lam: np.ndarray, responses: Dict, out_dir: str
                   ) -> List[str]:
    """One PNG per filter type: the target response and each model's
    learned :math:`h(\\lambda)` (mean over images). Skipped, with a
    message, without matplotlib."""
    if not have_matplotlib():
        print('matplotlib is not installed: no response plots '
              '(pip install matplotlib)')
        return []
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    paths = []
    for kind, curves in responses.items():
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.plot(lam, curves['target'], 'k', lw=2.5, label='target')
        for name, h in curves.items():
            if name == 'target':
                continue
            label = name if name not in fm.MODELS else fm.MODELS[name][0]
            ax.plot(lam, h, lw=1.2, label=label)
        ax.set_xlabel('λ (normalized Laplacian)')
        ax.set_ylabel('h(λ)')
        ax.set_title(FILTER_LABELS[kind])
        ax.legend(fontsize=6)
        fig.tight_layout()
        path = os.path.join(out_dir, f'response_{kind}.png')
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths
