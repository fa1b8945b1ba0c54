r"""Polynomial bases given by their three-term recurrence.

.. math::
    P_0 = 1,\quad P_1(x) = \alpha_0 x + \beta_0,\quad
    P_{k+1}(x) = (\alpha_k x + \beta_k) P_k(x) - \gamma_k P_{k-1}(x).

A :class:`Recurrence` holds the coefficients for ``k < K``; the engine's
routines (:mod:`.chebyshev`) run the terms :math:`P_k(\mathbf{S})\mathbf{X}`
and Clenshaw's sum :math:`\sum_k P_k(\mathbf{S})\mathbf{Z}_k` for any of
them, with the same memory-lean backward (the transposed recurrence has the
same scalar coefficients). ``None`` stands for Chebyshev everywhere.

* ``'chebyshev'``: :math:`\alpha_0 = 1`, :math:`\alpha_k = 2`, :math:`\beta
  = 0`, :math:`\gamma = 1`;
* ``'monomial'``: :math:`\alpha = 1`, :math:`\beta = \gamma = 0`;
* ``'legendre'``: :math:`(k+1)P_{k+1} = (2k+1)xP_k - kP_{k-1}`;
* ``'jacobi'``: :math:`P^{(a,b)}_k` with the standard normalization
  (:math:`P_k(1) = \binom{k+a}{k}`), ``a, b > -1``.
"""
from __future__ import annotations

import math
from typing import List, NamedTuple, Tuple

import torch
from torch import Tensor

from .validation import check_K

BASES = ('chebyshev', 'monomial', 'legendre', 'jacobi')


class Recurrence(NamedTuple):
    """``alpha[k], beta[k], gamma[k]`` of :math:`P_{k+1} = (\\alpha_k x +
    \\beta_k) P_k - \\gamma_k P_{k-1}` (``gamma[0]`` unused)."""
    alpha: Tuple[float, ...]
    beta: Tuple[float, ...]
    gamma: Tuple[float, ...]

    def coef(self, k: int) -> Tuple[float, float, float]:
        return self.alpha[k], self.beta[k], self.gamma[k]

    def flat(self) -> List[float]:
        """The coefficients as one list (a custom op argument)."""
        return list(self.alpha) + list(self.beta) + list(self.gamma)

    @classmethod
    def from_flat(cls, flat) -> 'Recurrence':
        n = len(flat) // 3
        return cls(tuple(flat[:n]), tuple(flat[n:2 * n]),
                   tuple(flat[2 * n:]))


def recurrence(basis: str, K: int, a: float = 0.0, b: float = 0.0
               ) -> Recurrence:
    """The first ``K + 1`` recurrence coefficients of ``basis`` (one more
    than the K terms need, for Clenshaw's :math:`\\gamma_K`)."""
    check_K(K)
    if basis not in BASES:
        raise ValueError(f"basis must be one of {BASES} (got {basis!r})")
    n = K + 1
    if basis == 'chebyshev':
        return Recurrence((1.0, ) + (2.0, ) * (n - 1), (0.0, ) * n,
                          (1.0, ) * n)
    if basis == 'monomial':
        return Recurrence((1.0, ) * n, (0.0, ) * n, (0.0, ) * n)
    if basis == 'legendre':
        return Recurrence(tuple((2 * k + 1) / (k + 1) for k in range(n)),
                          (0.0, ) * n,
                          tuple(k / (k + 1) for k in range(n)))
    if not (a > -1 and b > -1):
        raise ValueError(f"jacobi needs a > -1 and b > -1 (got a={a}, "
                         f"b={b})")
    alpha, beta, gamma = [(a + b + 2) / 2], [(a - b) / 2], [0.0]
    for k in range(1, n):
        c = 2 * k + a + b
        d = 2 * (k + 1) * (k + a + b + 1) * c
        alpha.append((c + 1) * (c + 2) * c / d)
        beta.append((c + 1) * (a * a - b * b) / d)
        gamma.append(2 * (k + a) * (k + b) * (c + 2) / d)
    return Recurrence(tuple(alpha), tuple(beta), tuple(gamma))


# -- coefficient maps into the Chebyshev basis (float64, [K+1, K+1]) --------

def chebyshev_nodes(K: int) -> Tensor:
    r"""The ``K + 1`` Chebyshev nodes :math:`x_j = \cos\frac{(K - j +
    1/2)\pi}{K + 1}`, increasing (ChebNetII's ordering), float64 ``[K+1]``."""
    j = torch.arange(K + 1, dtype=torch.float64)
    return torch.cos((K - j + 0.5) * math.pi / (K + 1))


def chebyshev_interpolation(K: int) -> Tensor:
    r"""``M`` ``[K+1, K+1]`` (float64) with ``c = v @ M`` the Chebyshev
    coefficients of the degree-``K`` polynomial that takes the values ``v``
    at :func:`chebyshev_nodes`: :math:`c_k = \frac{2}{K+1} \sum_j v_j
    T_k(x_j)`, :math:`c_0` halved (a discrete cosine transform: exact for
    degree ``<= K`` and well conditioned: :math:`\sqrt{(K+1)/2}\,M` is
    orthogonal up to the halved first column)."""
    if isinstance(K, bool) or not isinstance(K, int) or K < 0:
        raise ValueError(f"K must be a non-negative int (got {K!r})")
    nodes = chebyshev_nodes(K)
    k = torch.arange(K + 1, dtype=torch.float64)
    M = torch.cos(k[None] * torch.acos(nodes)[:, None]) * (2.0 / (K + 1))
    M[:, 0] /= 2  # [node j, term k]
    return M


def bernstein_to_chebyshev(K: int) -> Tensor:
    r"""``B`` ``[K+1, K+1]`` (float64) with ``c = theta @ B`` the Chebyshev
    coefficients (in :math:`t \in [-1, 1]`) of BernNet's filter
    :math:`\sum_k \theta_k \binom{K}{k} 2^{-K} (1 + t)^k (1 - t)^{K-k}`,
    i.e. :math:`\sum_k \theta_k \binom{K}{k} 2^{-K} \mathbf{L}^k (2\mathbf{I}
    - \mathbf{L})^{K-k}` at :math:`t = \mathbf{L} - \mathbf{I}`.

    Computed by interpolation at the Chebyshev nodes (the Bernstein
    polynomials evaluated there, then :func:`chebyshev_interpolation`), not
    through monomial coefficients: every step is bounded (each Bernstein
    polynomial lies in ``[0, 1]`` on ``[-1, 1]``, so each row of ``B`` has
    entries of magnitude at most 2), and the map stays accurate to a few
    float64 ulps for any ``K`` (tested to ``K = 40`` against exact rational
    arithmetic)."""
    x = chebyshev_nodes(K)  # [K+1]
    k = torch.arange(K + 1, dtype=torch.float64)
    binom = torch.tensor([math.comb(K, i) for i in range(K + 1)],
                         dtype=torch.float64)
    # values[k, j] = C(K,k) 2^-K (1 + x_j)^k (1 - x_j)^(K-k)
    values = binom[:, None] * ((1 + x[None]) / 2) ** k[:, None] * \
        ((1 - x[None]) / 2) ** (K - k[:, None])  # [K+1 bern, K+1 nodes]
    return values @ chebyshev_interpolation(K)  # [K+1 bern, K+1 cheb]


def basis_values(t: Tensor, K: int, rec: 'Recurrence' = None) -> Tensor:
    r"""The first ``K`` polynomials of the basis ``rec`` (``None``:
    Chebyshev) at the points ``t`` ``[M]``: ``[M, K]`` with column ``k``
    :math:`P_k(t)`, by the same three-term recurrence the engine runs on
    the operator (so ``values @ c`` is the response :math:`h(t)` of the
    coefficients ``c``)."""
    rec = recurrence('chebyshev', K) if rec is None else rec
    cols = [torch.ones_like(t)]
    for k in range(1, K):
        a, b, g = rec.coef(k - 1)
        nxt = (a * t + b) * cols[-1]
        if k > 1:
            nxt = nxt - g * cols[-2]
        cols.append(nxt)
    return torch.stack(cols, -1)  # K x [M] -> [M, K]
