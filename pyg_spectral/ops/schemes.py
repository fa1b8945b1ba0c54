r"""Fixed filters by scheme: the coefficients :math:`\theta_k` of
:math:`\sum_{k=0}^{K} \theta_k \mathbf{S}^k \mathbf{X}` (monomial basis of
the operator :math:`\mathbf{S}`, usually GCN's :math:`\hat{\mathbf{A}}`)
that the decoupled models of the field fix instead of learning, as float64
``[K+1]``:

.. list-table::
   :header-rows: 1

   * - scheme
     - :math:`\theta_k` (``p`` the scheme's parameter)
     - models
   * - ``impulse``
     - :math:`p\,[k = K]`
     - SGC, gfNN
   * - ``mono``
     - :math:`\theta_0 = p`, :math:`\theta_{k>0} = (1 - p)/K`
     - S²GC
   * - ``appr``
     - :math:`p (1 - p)^k`
     - APPNP, PPR, GDC-PPR
   * - ``nappr``
     - :math:`p^k / \sum_j p^j`
     - GPR-GNN's NPPR
   * - ``hk``
     - :math:`e^{-p} p^k / k!`
     - GDC-HK, DGC, AGP
   * - ``gaussian``
     - :math:`p^k / k!`
     - Gaussian
   * - ``ones``
     - :math:`p`
     - all hops alike
   * - ``inverse``
     - :math:`p / (k + 1)`
     - inverse
   * - ``chebyshev``
     - :math:`x_k^2` at the Chebyshev nodes (no ``p``)
     - ChebNetII's init

Defaults of ``p``: 1 (impulse, hk, gaussian, ones, inverse), 0.5 (mono,
appr, nappr), the same as the benchmark of Liao et al. (2024).
"""
from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor

from .bases import chebyshev_nodes
from .validation import check_int

SCHEMES = ('impulse', 'mono', 'appr', 'nappr', 'hk', 'gaussian', 'ones',
           'inverse', 'chebyshev')
_DEFAULT = dict(impulse=1.0, mono=0.5, appr=0.5, nappr=0.5, hk=1.0,
                gaussian=1.0, ones=1.0, inverse=1.0, chebyshev=None)


def default_param(scheme: str) -> Optional[float]:
    """The parameter ``p`` a scheme takes when none is given."""
    check_scheme(scheme)
    return _DEFAULT[scheme]


def check_scheme(scheme) -> str:
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES} (got {scheme!r})")
    return scheme


def scheme_coefficients(scheme: str, K: int,
                        param: Optional[float] = None) -> Tensor:
    """``[K+1]`` float64 monomial coefficients of ``scheme`` (table
    above); ``param`` ``None`` takes the scheme's default."""
    check_scheme(scheme)
    check_int(K, 'K', minimum=0)
    if scheme == 'chebyshev':
        if param is not None:
            raise ValueError("scheme='chebyshev' takes no param")
        return chebyshev_nodes(K) ** 2
    p = _DEFAULT[scheme] if param is None else param
    if isinstance(p, bool) or not isinstance(p, (int, float)) or \
            not math.isfinite(p):
        raise TypeError(f"param must be a finite float (got {p!r})")
    p = float(p)
    if scheme in ('mono', 'appr', 'nappr') and not 0.0 <= p <= 1.0:
        raise ValueError(f"scheme={scheme!r} needs param in [0, 1] "
                         f"(got {p})")
    if scheme == 'hk' and p < 0:
        raise ValueError(f"scheme='hk' needs param >= 0 (got {p})")
    k = torch.arange(K + 1, dtype=torch.float64)
    fact = torch.exp(torch.lgamma(k + 1))  # k!
    if scheme == 'impulse':
        out = torch.zeros(K + 1, dtype=torch.float64)
        out[K] = p
        return out
    if scheme == 'mono':
        if K == 0:
            return torch.ones(1, dtype=torch.float64)
        out = torch.full((K + 1, ), (1.0 - p) / K, dtype=torch.float64)
        out[0] = p
        return out
    if scheme == 'appr':
        return p * (1.0 - p) ** k
    if scheme == 'nappr':
        t = p ** k
        return t / t.abs().sum()
    if scheme == 'hk':
        return math.exp(-p) * p ** k / fact
    if scheme == 'gaussian':
        return p ** k / fact
    if scheme == 'ones':
        return torch.full((K + 1, ), p, dtype=torch.float64)
    return p / (k + 1)  # inverse
