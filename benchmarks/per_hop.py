"""Each zoo filter as one module per hop: the style of the spectral-GNN
benchmark frameworks, written here in our own words. Every hop is one sparse
product with the filter's operator, through the package's own
differentiable ``spmm`` (so the comparison measures the one-call engine and
its lean backward, not a slower kernel); autograd keeps every hop's output
for the backward pass, and the filter's own form is followed where it does
more products than its polynomial needs (BernNet's K(K+1)/2 + K, the
Horner / Clenshaw and product forms hop by hop). The parameters are the
layer's own, so both compute the same function (``bench_zoo.py`` checks it
before timing).

Layout: ``x`` ``[N, C]`` -> ``[N, C]``; ``S`` the layer's
:class:`~pyg_spectral.ops.SparseOperator` (``y = S x``).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from pyg_spectral.nn import (APPNP, AdaConv, BernConv, ClenshawConv,
                             FavardConv, HornerConv, OptBasisConv, PolyConv,
                             SGConv)
from pyg_spectral.ops import spmm
from pyg_spectral.ops.filter_engine import step_coef


def _recurrence(layer: PolyConv, S: Tensor, x: Tensor) -> Tensor:
    """sum_k c_k P_k(S) x, one product per hop, every P_k kept."""
    c = layer.coefficients()
    c = c.unsqueeze(1) if c.dim() == 1 else c  # [K+1, 1] or [K+1, C]
    rec = None if layer.basis == 'chebyshev' else layer.rec
    prev, cur = None, x
    out = c[0] * x
    for k in range(layer.K):
        a, b, g = step_coef(rec, k)  # the basis' recurrence
        nxt = a * spmm(S, cur)
        if b:
            nxt = nxt + b * cur
        if prev is not None and g:
            nxt = nxt - g * prev
        prev, cur = cur, nxt
        out = out + c[k + 1] * cur
    return out


def _bernstein(layer: BernConv, S: Tensor, x: Tensor) -> Tensor:
    """BernNet's form on S = L - I: K products by 2I - L = I - S, then
    (i + 1) products by L = S + I for each term: K(K+1)/2 + K."""
    K, t = layer.K, F.relu(layer.temp)
    tmp = [x]
    for _ in range(K):
        tmp.append(tmp[-1] - spmm(S, tmp[-1]))
    out = math.comb(K, 0) / 2 ** K * t[0] * tmp[K]
    for i in range(K):
        h = tmp[K - i - 1]
        for _ in range(i + 1):
            h = spmm(S, h) + h
        out = out + math.comb(K, i + 1) / 2 ** K * t[i + 1] * h
    return out


def _horner(layer: HornerConv, S: Tensor, x: Tensor) -> Tensor:
    g, beta = layer.gates(), layer.beta
    clenshaw = isinstance(layer, ClenshawConv)
    u2, u1 = torch.zeros_like(x), g[0] * beta[0] * x
    for k in range(1, layer.K + 1):
        su = spmm(S, u1)
        step = 2 * su - u2 if clenshaw else su
        u2, u1 = u1, g[k] * (step + beta[k] * x)
    return u1


def _favard(layer: FavardConv, S: Tensor, x: Tensor) -> Tensor:
    sb = layer.sqrt_betas.clamp(min=0.01)
    prev, p = torch.zeros_like(x), x / sb[0]
    out = layer.comb_weight[0] * p
    for k in range(layer.K):
        prev, p = p, (spmm(S, p) - layer.gammas[k] * p -
                      sb[k] * prev) / sb[k + 1]
        out = out + layer.comb_weight[k + 1] * p
    return out


def _ada(layer: AdaConv, S: Tensor, x: Tensor) -> Tensor:
    for k in range(layer.K):  # X - L X diag(phi), L X = S X + X
        x = x - (spmm(S, x) + x) * layer.phi[k]
    return x


def _optbasis(layer: OptBasisConv, S: Tensor, x: Tensor) -> Tensor:
    """Lanczos per hop (the benchmark graphs are undirected)."""
    def unit(u):
        n = u.norm(dim=0)
        return u / n.clamp_min(1e-30), n
    v, _ = unit(x)
    prev, beta = None, None
    out = layer.alpha[0] * v
    for k in range(layer.K):
        u = spmm(S, v)
        u = u - (u * v).sum(0) * v
        if prev is not None:
            u = u - beta * prev
        prev, (v, beta) = v, unit(u)
        out = out + layer.alpha[k + 1] * v
    return out


def per_hop(layer, S: Tensor, x: Tensor) -> Tensor:
    """The filter ``layer`` on ``x`` in its per-hop form."""
    if isinstance(layer, OptBasisConv):
        return _optbasis(layer, S, x)
    if isinstance(layer, BernConv):
        return _bernstein(layer, S, x)
    if isinstance(layer, HornerConv):  # and ClenshawConv
        return _horner(layer, S, x)
    if isinstance(layer, FavardConv):
        return _favard(layer, S, x)
    if isinstance(layer, AdaConv):
        return _ada(layer, S, x)
    if isinstance(layer, APPNP):  # the iteration itself
        h = x
        for _ in range(layer.K):
            x = (1 - layer.alpha) * spmm(S, x) + layer.alpha * h
        return x
    out = _recurrence(layer, S, x)
    return layer.lin(out) if isinstance(layer, SGConv) else out


class PerHop(torch.nn.Module):
    """``layer`` (its parameters shared) run by :func:`per_hop` on the fixed
    operator ``S``."""

    def __init__(self, layer, S: Tensor):
        super().__init__()
        self.layer, self.S = layer, S

    def forward(self, x, edge_index=None):
        return per_hop(self.layer, self.S, x)
