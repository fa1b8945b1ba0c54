from typing import Optional, Sequence

import torch
from torch import Tensor
from torch.nn import Linear, ModuleList, Parameter
from torch_geometric.typing import Adj, OptTensor

from ..ops.validation import check_int

COMBINE = ('sum', 'weighted', 'cat', 'attention')


class FilterBank(torch.nn.Module):
    r"""Several filters on the same input, combined: the filter banks of
    FiGURe (`Ekbote et al., 2023 <https://arxiv.org/abs/2310.01892>`_),
    FAGCN-style low/high pairs (:class:`ShiftConv`) and ACM-GNN / FB-GNN's
    node-wise mixing of low-pass, high-pass and identity channels
    (`Luan et al., NeurIPS 2022 <https://arxiv.org/abs/2210.07606>`_):

    * ``'sum'``: :math:`\sum_f h_f(\mathbf{S})\mathbf{X}`;
    * ``'weighted'``: :math:`\sum_f w_f h_f(\mathbf{S})\mathbf{X}`,
      learnable :math:`w` (initialized to 1);
    * ``'cat'``: the outputs side by side, ``[*, N, F * C]``;
    * ``'attention'`` (ACM): per node, :math:`s_f = \sigma(\mathbf{H}_f
      \mathbf{w}_f)` for each output :math:`\mathbf{H}_f`, then
      :math:`\boldsymbol{\alpha} = \mathrm{softmax}([s_1, \dots, s_F]
      \mathbf{W}_{\mathrm{mix}} / T)` and :math:`\sum_f \alpha_f
      \mathbf{H}_f` (``channels`` needed; :math:`T` = ``temperature``, 3 as
      ACM-GNN).

    A filter is any module called as ``f(x, edge_index, edge_weight)``
    (every layer of :data:`~pyg_spectral.nn.FILTERS`), or a
    :class:`torch.nn.Identity` (called with ``x`` alone: ACM's identity
    channel).

    Args:
        filters (sequence of Module): The filters.
        combine (str): ``'sum'``, ``'weighted'``, ``'cat'`` or
            ``'attention'``.
        channels (int, optional): Width of the outputs (``'attention'``).
        temperature (float): :math:`T` of ``'attention'``.

    Shapes:
        **input:** ``x`` ``[N, C]`` (``[*, N, C]`` except ``'attention'``),
        ``edge_index``, ``edge_weight`` ``[E]``;
        **output:** ``[*, N, C]`` (``[*, N, F * C]`` for ``'cat'``).

    Example:
        >>> import torch
        >>> from pyg_spectral.nn import FilterBank, ShiftConv
        >>> bank = FilterBank([ShiftConv('low'), ShiftConv('high'),
        ...                    torch.nn.Identity()], 'attention', channels=5)
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> bank(torch.randn(3, 5), edge_index).shape
        torch.Size([3, 5])
    """

    def __init__(self, filters: Sequence[torch.nn.Module],
                 combine: str = 'sum', channels: Optional[int] = None,
                 temperature: float = 3.0):
        super().__init__()
        if combine not in COMBINE:
            raise ValueError(f"combine must be one of {COMBINE} (got "
                             f"{combine!r})")
        filters = list(filters)
        if not filters or not all(isinstance(f, torch.nn.Module)
                                   for f in filters):
            raise TypeError("filters must be a non-empty sequence of "
                            "modules")
        self.filters = ModuleList(filters)
        self.combine, self.temperature = combine, float(temperature)
        self.channels = channels
        n = len(filters)
        if combine == 'weighted':
            self.weight = Parameter(torch.empty(n))
        if combine == 'attention':
            if channels is None:
                raise ValueError("combine='attention' needs channels")
            check_int(channels, 'channels')
            self.score = ModuleList([Linear(channels, 1) for _ in filters])
            self.mix = Linear(n, n, bias=False)
        self.reset_parameters()

    def reset_parameters(self):
        for f in self.filters:
            if hasattr(f, 'reset_parameters'):
                f.reset_parameters()
        if self.combine == 'weighted':
            with torch.no_grad():
                self.weight.fill_(1.0)
        if self.combine == 'attention':
            for lin in self.score:
                lin.reset_parameters()
            self.mix.reset_parameters()

    def forward(self, x: Tensor, edge_index: Adj,
                edge_weight: OptTensor = None) -> Tensor:
        outs = [f(x) if isinstance(f, torch.nn.Identity)
                else f(x, edge_index, edge_weight) for f in self.filters]
        if self.combine == 'sum':
            return torch.stack(outs).sum(0)
        if self.combine == 'weighted':
            w = self.weight.view(-1, *([1] * outs[0].dim()))  # [F, 1, ...]
            return (torch.stack(outs) * w).sum(0)
        if self.combine == 'cat':
            return torch.cat(outs, -1)
        if outs[0].dim() != 2:
            raise ValueError("combine='attention' needs x of shape [N, C]")
        s = torch.cat([torch.sigmoid(lin(h)) for lin, h in
                       zip(self.score, outs)], -1)  # F x [N, 1] -> [N, F]
        alpha = torch.softmax(self.mix(s) / self.temperature, -1)  # [N, F]
        return (torch.stack(outs, -1) * alpha.unsqueeze(1)).sum(-1)

    def __repr__(self) -> str:
        inner = ', '.join(repr(f) for f in self.filters)
        return (f'{self.__class__.__name__}([{inner}], '
                f'combine={self.combine!r})')
