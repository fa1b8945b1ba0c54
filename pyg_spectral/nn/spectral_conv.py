import math
from typing import Optional

import torch
from torch import Tensor
from torch.nn import Parameter

from ..ops.chebyshev import run_filter
from ..ops.spline import bspline_basis, chebyshev_coefficients
from ..ops.host_reads import tracing
from ..ops.validation import (check_K, check_lambda_max, check_normalization,
                              check_positive_int)
from ._checks import check_input, checked_forward
from ._resolve_operator import laplacian_for


class SpectralConv(torch.nn.Module):
    r"""Spectral graph convolution with smooth spline multipliers (Bruna et
    al., `"Spectral Networks and Locally Connected Networks on Graphs"
    <https://arxiv.org/abs/1312.6203>`_, 2014; Henaff, Bruna, LeCun,
    `"Deep Convolutional Networks on Graph-Structured Data"
    <https://arxiv.org/abs/1506.05163>`_, 2015):

    .. math::
        \mathbf{y}_j = \sum_i \mathbf{U}\operatorname{diag}\big(
        \mathcal{K}\tilde{\mathbf{w}}_{ij}\big)\mathbf{U}^\top \mathbf{x}_i,
        \qquad \mathcal{K}_{nm} = B_m(\lambda_n),

    with :math:`\mathbf{L} = \mathbf{U}\Lambda\mathbf{U}^\top` and
    :math:`B_m` ``num_basis`` cubic B-splines on :math:`[0,
    \lambda_{\max}]` (mdeff/cnn_graph's knots); :math:`\tilde{\mathbf{w}}`
    (``weight``, ``[num_basis, C_in, C_out]``) is learned.

    Modes (the same parameters serve both, so a state dict moves between
    them):

    * ``'exact'``: dense eigendecomposition of :math:`\mathbf{L}` (cached per
      graph; a batch is one block-diagonal matrix); refused above
      ``max_exact_nodes`` nodes.
    * ``'chebyshev'``: every :math:`B_m` expanded as :math:`\sum_{k<K}
      c_{mk} T_k(2\lambda/\lambda_{\max} - 1)` (Chebyshev–Gauss quadrature),
      :math:`\Theta_k = \sum_m c_{mk}\tilde{\mathbf{W}}_m`, evaluated by the
      package's O(K|E|) Chebyshev engine; no eigendecomposition. It
      converges to ``'exact'`` as ``K`` grows (relative error below 1e-3 at
      ``K = 40`` with 6 basis functions in the tests).

    ``lambda_max`` fixes the spectral domain :math:`[0, \lambda_{\max}]`
    (2.0 bounds the ``sym``/``rw`` spectra; give a bound for ``None``).

    Args:
        in_channels (int): Input width ``C_in``.
        out_channels (int): Output width ``C_out``.
        num_basis (int): Number of spline basis functions.
        mode (str): ``'chebyshev'`` (default) or ``'exact'``.
        K (int): Chebyshev terms of the ``'chebyshev'`` mode.
        normalization (str, optional): The Laplacian's.
        lambda_max (float): The spectral domain's upper end.
        bias (bool): Learn an additive bias.
        max_exact_nodes (int): The ``'exact'`` mode's largest graph.

    Shapes:
        ``x`` ``[N, C_in]`` -> ``[N, C_out]``, or ``[N, M, C_in]`` ->
        ``[N, M, C_out]`` for M signals on the same graph (one sparse
        product / one spectral transform for all of them).

    Example:
        >>> import torch
        >>> from pyg_spectral.nn import SpectralConv
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> conv = SpectralConv(4, 2, num_basis=5, mode='exact')
        >>> conv(torch.randn(3, 4), edge_index).shape
        torch.Size([3, 2])
    """

    def __init__(self, in_channels: int, out_channels: int, num_basis: int,
                 mode: str = 'chebyshev', K: int = 25,
                 normalization: Optional[str] = 'sym',
                 lambda_max: float = 2.0, bias: bool = True,
                 max_exact_nodes: int = 4096):
        super().__init__()
        if mode not in ('chebyshev', 'exact'):
            raise ValueError(f"mode must be 'chebyshev' or 'exact' "
                             f"(got {mode!r})")
        check_positive_int(in_channels, 'in_channels')
        check_positive_int(out_channels, 'out_channels')
        check_positive_int(num_basis, 'num_basis')
        check_positive_int(max_exact_nodes, 'max_exact_nodes')
        check_K(K)
        check_normalization(normalization)
        check_lambda_max(lambda_max)
        if isinstance(lambda_max, Tensor):
            raise TypeError("lambda_max must be a float (the spectral "
                            "domain of the splines)")
        if num_basis < 4:
            raise ValueError(f"num_basis must be >= 4 for cubic splines "
                             f"(got {num_basis})")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.num_basis, self.mode, self.K = num_basis, mode, K
        self.normalization, self.lambda_max = normalization, float(lambda_max)
        self.max_exact_nodes = max_exact_nodes
        self.weight = Parameter(torch.empty(num_basis, in_channels,
                                            out_channels))
        self.bias = Parameter(torch.empty(out_channels)) if bias else None
        self.register_buffer('cheb_coef', chebyshev_coefficients(
            lambda lam: bspline_basis(lam, num_basis, self.lambda_max), K,
            self.lambda_max).float(), persistent=False)  # [num_basis, K]
        self.reset_parameters()

    def reset_parameters(self):
        bound = math.sqrt(6.0 / (self.in_channels + self.out_channels))
        torch.nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            torch.nn.init.zeros_(self.bias)

    def _laplacian(self, x, edge_index, edge_weight):
        """Scaled operator 2L/lambda_max - I (cached per graph)."""
        return laplacian_for(x, x.size(0), edge_index, edge_weight,
                             self.normalization, self.lambda_max)

    @checked_forward
    def forward(self, x: Tensor, edge_index, edge_weight=None) -> Tensor:
        check_input(self, x, (2, 3), '[N, channels] or [N, M, channels]',
                    self.in_channels)
        op = self._laplacian(x, edge_index, edge_weight)
        if self.mode == 'chebyshev':
            coef = self.cheb_coef.to(self.weight.dtype)  # [M, K]
            theta = torch.einsum('mk,mcf->kcf', coef, self.weight)
            out = run_filter(x, theta, op)
        else:
            out = self._exact(x, op)
        if self.bias is not None:
            out = out + self.bias
        return out

    def _exact(self, x: Tensor, op) -> Tensor:
        n = op.num_nodes
        if n > self.max_exact_nodes:
            raise ValueError(f"mode='exact' needs a dense eigendecomposition;"
                             f" {n} nodes exceed max_exact_nodes="
                             f"{self.max_exact_nodes} (use 'chebyshev')")
        evals, evecs = _eig(op)
        lam = (evals + 1.0) * self.lambda_max / 2.0  # spectrum of L
        basis = bspline_basis(lam, self.num_basis, self.lambda_max)
        basis = basis.to(x.dtype)  # [N, M]
        U = evecs.to(x.dtype)
        xh = (U.t() @ x.reshape(n, -1)).view(x.shape)  # spectral coeffs
        # yh[n, (b), j] = sum_m B_m(lam_n) (xh @ W_m)[n, (b), j]
        yh = torch.einsum('nm,n...c,mcf->n...f', basis, xh, self.weight)
        return (U @ yh.reshape(n, -1)).view(yh.shape)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.in_channels}, '
                f'{self.out_channels}, num_basis={self.num_basis}, '
                f'mode={self.mode}, K={self.K}, '
                f'normalization={self.normalization})')


def _eig(op):
    """Eigendecomposition of the (symmetric) scaled Laplacian, cached on
    the operator object (so per graph, with the operator cache)."""
    def make():
        if not tracing(op.val) and not op.is_symmetric:
            raise ValueError("mode='exact' needs a symmetric Laplacian "
                             "(undirected graph, normalization 'sym' or "
                             "None)")
        dense = op.to_dense().to(torch.float64)
        return torch.linalg.eigh((dense + dense.t()) / 2)
    return op.memo('eig', make)
