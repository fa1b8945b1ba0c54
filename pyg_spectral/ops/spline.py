r"""Cubic B-spline spectral multipliers and their Chebyshev expansions
(Henaff, Bruna, LeCun 2015; Bruna et al. 2014).

:func:`bspline_basis` evaluates ``num_basis`` B-splines of degree
``degree`` on :math:`[0, \lambda_{\max}]` with the knot vector of
mdeff/cnn_graph's ``bspline_basis``: ``num_basis - degree + 1`` evenly
spaced knots, the end knots repeated ``degree`` times (Cox–de Boor
recursion). The right end point belongs to the last basis function, so the
basis is a partition of unity on the closed interval.

:func:`chebyshev_coefficients` expands functions on :math:`[0,
\lambda_{\max}]` in :math:`T_k(2\lambda/\lambda_{\max} - 1)` by
Chebyshev–Gauss quadrature (as PyGSP's ``compute_cheby_coeff``), with the
:math:`k = 0` coefficient halved so that
:math:`f(\lambda) \approx \sum_{k<K} c_k T_k(\cdot)` directly.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from .validation import check_K, check_lambda_max


def _knot_list(num_basis: int, lambda_max: float, degree: int):
    """The knot vector as Python floats (no tensor: the basis branches on
    knot values, which must not enter a traced graph)."""
    check_lambda_max(lambda_max)
    if num_basis < degree + 1:
        raise ValueError(f"num_basis must be >= degree + 1 = {degree + 1} "
                         f"(got {num_basis})")
    m = num_basis - degree  # intervals
    inner = [lambda_max * i / m for i in range(m)] + [float(lambda_max)]
    return [inner[0]] * degree + inner + [inner[-1]] * degree


def knots(num_basis: int, lambda_max: float, degree: int = 3) -> Tensor:
    return torch.tensor(_knot_list(num_basis, lambda_max, degree),
                        dtype=torch.float64)


def bspline_basis(x: Tensor, num_basis: int, lambda_max: float,
                  degree: int = 3) -> Tensor:
    """``[len(x), num_basis]`` values of the B-spline basis at ``x``
    (float64; points outside the interval are clamped to it)."""
    kv = _knot_list(num_basis, lambda_max, degree)
    x = x.to(torch.float64).clamp(0.0, lambda_max)
    # degree 0: half-open intervals, the right end point in the last one
    last = len(kv) - 2
    b = []
    for k in range(len(kv) - 1):
        inside = (x >= kv[k]) & (x < kv[k + 1])
        if k == last - degree or (kv[k] < kv[k + 1] and
                                  kv[k + 1] == kv[-1]):
            inside = inside | ((x == kv[-1]) & (kv[k] < kv[k + 1]))
        b.append(inside.to(torch.float64))
    for d in range(1, degree + 1):
        nb = []
        for k in range(len(kv) - 1 - d):
            t = torch.zeros_like(x)
            den1 = kv[k + d] - kv[k]
            if den1 > 0:
                t = t + (x - kv[k]) / den1 * b[k]
            den2 = kv[k + d + 1] - kv[k + 1]
            if den2 > 0:
                t = t + (kv[k + d + 1] - x) / den2 * b[k + 1]
            nb.append(t)
        b = nb
    return torch.stack(b[:num_basis], dim=1)


def chebyshev_coefficients(fn, K: int, lambda_max: float,
                           num_points: int = None) -> Tensor:
    r"""``[..., K]`` coefficients :math:`c_k` with :math:`f(\lambda) \approx
    \sum_k c_k T_k(2\lambda/\lambda_{\max} - 1)`; ``fn`` maps a ``[P]``
    float64 tensor of points to ``[P, ...]``."""
    check_K(K)
    check_lambda_max(lambda_max)
    P = num_points or max(2 * K, 64)
    theta = math.pi * (torch.arange(P, dtype=torch.float64) + 0.5) / P
    lam = (torch.cos(theta) + 1.0) * lambda_max / 2.0
    vals = fn(lam)  # [P, ...]
    k = torch.arange(K, dtype=torch.float64)
    cos = torch.cos(theta[:, None] * k[None])  # [P, K]
    c = 2.0 / P * torch.einsum('p...,pk->...k', vals, cos)
    c[..., 0] = c[..., 0] / 2.0
    return c
