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

from typing import List, NamedTuple, Tuple

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
