import torch
from torch import Tensor
from torch.nn import Parameter

from ._poly_conv import PolyConv

KINDS = ('low', 'high')


class ShiftConv(PolyConv):
    r"""The low- and high-pass pair of FAGCN, from the `"Beyond
    Low-frequency Information in Graph Convolutional Networks"
    <https://arxiv.org/abs/2101.00797>`_ paper (Bo et al., AAAI 2021)

    .. math::
        \mathbf{X}^{\prime} = (\varepsilon\mathbf{I} \pm \hat{\mathbf{A}})
        \mathbf{X}, \qquad \hat{\mathbf{A}} = \mathbf{D}^{-1/2}\mathbf{A}
        \mathbf{D}^{-1/2},

    ``kind='low'`` (:math:`+`, response :math:`\varepsilon + \lambda`) or
    ``'high'`` (:math:`-`, :math:`\varepsilon - \lambda`); the shift
    :math:`\varepsilon` (``eps``) a learnable parameter with
    ``learn_eps=True`` (a buffer otherwise). Banks of such pairs:
    :class:`FilterBank`.

    Args:
        kind (str): ``'low'`` or ``'high'``.
        eps (float): The shift :math:`\varepsilon` (default 0.3).
        learn_eps (bool): Whether :math:`\varepsilon` is learned.
        **kwargs: ``graph``, ``rho`` and the arguments of
            :class:`~torch_geometric.nn.MessagePassing`.

    Shapes:
        **input:** ``x`` ``[*, N, C]``, ``edge_index`` (as
        :class:`ChebConv`), ``edge_weight`` ``[E]``;
        **output:** ``[*, N, C]``.

    Example:
        >>> import torch
        >>> from pyg_spectral.nn import ShiftConv
        >>> high = ShiftConv('high', eps=0.3)
        >>> high.response(torch.tensor([-1.0, 1.0]))
        tensor([ 1.3000, -0.7000])
    """
    basis = 'monomial'
    graph = 'adjacency'

    def __init__(self, kind: str = 'low', eps: float = 0.3,
                 learn_eps: bool = False, **kwargs):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS} (got {kind!r})")
        if isinstance(eps, bool) or not isinstance(eps, (int, float)):
            raise TypeError(f"eps must be a float (got {eps!r})")
        super().__init__(1, **kwargs)
        self.kind, self.eps_init, self.learn_eps = kind, float(eps), learn_eps
        value = torch.tensor(float(eps))
        if learn_eps:
            self.eps = Parameter(value)
        else:
            self.register_buffer('eps', value)
        self.register_buffer('sign', torch.tensor(1.0 if kind == 'low'
                                                  else -1.0),
                             persistent=False)
        self.reset_parameters()

    def reset_parameters(self):
        super().reset_parameters()
        with torch.no_grad():
            self.eps.fill_(self.eps_init)

    def coefficients(self) -> Tensor:
        return torch.stack([self.eps, self.sign.to(self.eps.dtype)])

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(kind={self.kind!r}, '
                f'eps={self.eps_init}, learn_eps={self.learn_eps})')
