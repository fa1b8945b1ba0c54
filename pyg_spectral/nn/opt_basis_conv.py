import torch
from torch import Tensor
from torch.nn import Parameter
from torch_geometric.typing import Adj, OptTensor

from ..ops import spmm
from ..ops.validation import check_int
from ._checks import checked_forward
from ._message_passing import from_node_major, no_torchscript, to_node_major
from ._poly_conv import PolyConv


class OptBasisConv(PolyConv):
    r"""OptBasisGNN's filter, from the `"Graph Neural Networks with
    Learnable and Optimal Polynomial Bases"
    <https://arxiv.org/abs/2302.12432>`_ paper (Guo & Wei, ICML 2023): per
    channel, the orthonormal basis of the signal's own Krylov space (the
    optimal basis of its polynomial filters), built by Lanczos' three-term
    recurrence on :math:`\hat{\mathbf{A}}` (GCN's operator),

    .. math::
        \mathbf{v}_0 = \frac{\mathbf{x}}{\lVert\mathbf{x}\rVert}, \quad
        \beta_{k+1}\mathbf{v}_{k+1} = \hat{\mathbf{A}}\mathbf{v}_k -
        \gamma_k\mathbf{v}_k - \beta_k\mathbf{v}_{k-1}, \quad \gamma_k =
        \langle\hat{\mathbf{A}}\mathbf{v}_k, \mathbf{v}_k\rangle, \qquad
        \mathbf{x}^{\prime} = \sum_{k=0}^{K} \alpha_k \mathbf{v}_k,

    with :math:`\beta_{k+1}` the norm that makes :math:`\mathbf{v}_{k+1}`
    a unit vector, every channel (column) on its own (on a non-symmetric
    operator, a directed graph or ``rho != 1/2``, the three-term
    recurrence is not orthogonal: each new vector is then orthogonalized
    against all previous ones, Arnoldi's form of the same basis), and
    learnable
    :math:`\alpha` ``[K+1, channels]`` (``alpha``, initialized to
    :math:`\alpha_0 = 1`, the rest 0: the output starts as the
    normalized input).
    Gradients flow through the inner products and norms. A channel whose
    Krylov space ends early (:math:`\beta_{k+1} = 0`) or a zero channel
    gets zero vectors from there on (no NaN).

    The basis depends on the signal, so the filter is no fixed polynomial:
    :meth:`response`, :meth:`precompute` and :meth:`combine` raise. Each
    hop is one sparse product at width ``channels`` on the package kernel
    (``K`` forward, ``K`` backward); autograd keeps the ``K + 1`` vectors,
    which the inner products' gradients need.

    Args:
        channels (int): Width of ``x``.
        K (int): Polynomial order (default 10).
        **kwargs: ``graph``, ``rho`` and the arguments of
            :class:`~torch_geometric.nn.MessagePassing`.

    Shapes:
        **input:** ``x`` ``[*, N, channels]``, ``edge_index`` (as
        :class:`ChebConv`), ``edge_weight`` ``[E]``;
        **output:** ``[*, N, channels]``.

    Example:
        >>> import torch
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> from pyg_spectral.nn import OptBasisConv
        >>> OptBasisConv(5, K=2)(torch.randn(3, 5), edge_index).shape
        torch.Size([3, 5])
    """
    basis = 'monomial'
    graph = 'gcn'

    def __init__(self, channels: int, K: int = 10, **kwargs):
        check_int(channels, 'channels')
        super().__init__(K, channels, **kwargs)
        self.alpha = Parameter(torch.empty(K + 1, channels))
        self.reset_parameters()

    def reset_parameters(self):
        super().reset_parameters()
        with torch.no_grad():
            self.alpha.zero_()
            self.alpha[0] = 1.0

    def _signal_dependent(self, *args, **kwargs):
        raise TypeError("OptBasisConv's basis depends on the signal: it has "
                        "no fixed coefficients, response or precomputed "
                        "terms")

    coefficients = response = precompute = combine = _signal_dependent

    @checked_forward
    def forward(self, x: Tensor, edge_index: Adj,
                edge_weight: OptTensor = None) -> Tensor:
        x, nd = self.checked_input(x, edge_index)
        op = self._operator(x, nd, edge_index, edge_weight)
        xn = to_node_major(x, nd)
        shape = xn.shape
        v = xn.reshape(shape[0], -1)  # [N, (M,) C] -> [N, M*C]
        w = self.alpha.repeat(1, v.size(1) // self.channels)  # [K+1, M*C]
        v, _ = _unit(v)
        lanczos = op.is_symmetric  # else Arnoldi: against every v_j
        basis, beta = [v], None
        out = w[0] * v
        for k in range(self.K):
            u = spmm(op, v)
            if lanczos:
                u = u - (u * v).sum(0) * v  # gamma_k v_k
                if k:
                    u = u - beta * basis[-2]
            else:
                for b in basis:
                    u = u - (u * b).sum(0) * b
            v, beta = _unit(u)
            basis = basis[-1:] + [v] if lanczos else basis + [v]
            out = out + w[k + 1] * v
        return from_node_major(out.view(shape), x, nd)  # [N, M*C] -> x's

    def __prepare_scriptable__(self):
        no_torchscript(self)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.channels}, K={self.K})'


def _unit(u: Tensor):
    """Columns of ``u`` scaled to unit norm (zero columns stay zero) and
    their norms ``[W]``."""
    sq = u.square().sum(0)  # [W]
    tiny = torch.finfo(u.dtype).tiny
    pos = sq > 0  # no sqrt or 1/x at 0 (their gradients would be inf)
    norm = torch.where(pos, sq.clamp_min(tiny).sqrt(), torch.zeros_like(sq))
    scale = torch.where(pos, 1.0 / norm.clamp_min(tiny),
                        torch.zeros_like(sq))
    return u * scale, norm
