
import torch
import torch.nn.functional as F
from torch import Tensor

from ..ops.validation import check_positive_int
from ._checks import check_input, checked_forward

ACTIVATIONS = ('glu', 'relu', 'sigmoid', 'linear')


class Align(torch.nn.Module):
    r"""Matches the channel count of a residual to ``out_channels`` as in
    Yu et al.'s code: a bias-free 1x1 convolution when ``in > out``,
    zero-padding when ``in < out``, identity otherwise.

    Args:
        in_channels (int): Width of the residual.
        out_channels (int): The width to match.

    Shapes:
        **input:** ``[B, T, N, in_channels]``;
        **output:** ``[B, T, N, out_channels]``.

    Example:
        >>> import torch
        >>> from pyg_spectral.nn import Align
        >>> Align(2, 4)(torch.ones(1, 1, 1, 2))
        tensor([[[[1., 1., 0., 0.]]]])
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        check_positive_int(in_channels, 'in_channels')
        check_positive_int(out_channels, 'out_channels')
        self.in_channels, self.out_channels = in_channels, out_channels
        self.lin = torch.nn.Linear(in_channels, out_channels, bias=False) \
            if in_channels > out_channels else None

    def reset_parameters(self):
        if self.lin is not None:
            self.lin.reset_parameters()

    @checked_forward
    def forward(self, x: Tensor) -> Tensor:
        check_input(self, x, (4, ), '[B, T, N, channels]', self.in_channels)
        if self.lin is not None:
            return self.lin(x)
        if self.in_channels < self.out_channels:
            return F.pad(x, (0, self.out_channels - self.in_channels))
        return x


class TemporalConv(torch.nn.Module):
    r"""The gated temporal convolution of STGCN (`"Spatio-Temporal Graph
    Convolutional Networks" <https://arxiv.org/abs/1709.04875>`_, Yu, Yin,
    Zhu 2018): a causal 1-D convolution over time with kernel ``K_t`` (no
    padding, so ``T`` steps become ``T - K_t + 1``), then

    .. math::
        \mathrm{GLU}:\ (\mathbf{P} + \mathbf{X}_{res}) \odot
        \sigma(\mathbf{Q}), \qquad [\mathbf{P}\ \mathbf{Q}] =
        \Gamma *_{\mathcal{T}} \mathbf{X} \in \mathbb{R}^{2C_{out}},

    with :math:`\mathbf{X}_{res}` the input cropped to the last
    ``T - K_t + 1`` steps and channel-aligned (:class:`Align`). The authors'
    code also uses ``'relu'`` (:math:`\mathrm{ReLU}(\Gamma * X +
    X_{res})`), ``'sigmoid'`` and ``'linear'``.

    The residual is folded into the last tap of the convolution weights
    (it is a linear map of that tap's input), so GLU costs one convolution,
    a sigmoid and a product.

    The input is handed to ``conv2d`` as the NCHW tensor ``[B, C, T, N]`` it
    already is in channels-last memory (a permuted view, no copy), so the
    convolution runs as oneDNN's (CPU) or cuDNN's channels-last kernel with
    a ``(K_t, 1)`` filter; its output permutes back to ``[B, T', N, C]``
    without a copy either. ``conv.weight`` is ``[width, C_in * K_t]``
    (index ``c * K_t + j``).

    Args:
        in_channels (int): Input width ``C``.
        out_channels (int): Output width ``C_out``.
        kernel_size (int): :math:`K_t` (default 3).
        activation (str): ``'glu'`` (default), ``'relu'``, ``'sigmoid'`` or
            ``'linear'``.

    Shapes:
        **input:** ``[B, T, N, C]``;
        **output:** ``[B, T - K_t + 1, N, C_out]``.

    Example:
        >>> import torch
        >>> from pyg_spectral.nn import TemporalConv
        >>> TemporalConv(2, 8, kernel_size=3)(torch.randn(4, 12, 3, 2)).shape
        torch.Size([4, 10, 3, 8])
    """

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: int = 3, activation: str = 'glu'):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS} "
                             f"(got {activation!r})")
        check_positive_int(in_channels, 'in_channels')
        check_positive_int(out_channels, 'out_channels')
        check_positive_int(kernel_size, 'kernel_size')
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.activation = kernel_size, activation
        width = 2 * out_channels if activation == 'glu' else out_channels
        self.conv = torch.nn.Linear(kernel_size * in_channels, width)
        self.align = Align(in_channels, out_channels) \
            if activation in ('glu', 'relu') else None
        self.reset_parameters()

    def reset_parameters(self):
        self.conv.reset_parameters()
        if self.align is not None:
            self.align.reset_parameters()

    @checked_forward
    def forward(self, x: Tensor) -> Tensor:
        check_input(self, x, (4, ), '[B, T, N, channels]', self.in_channels)
        B, T, N, C = x.shape
        kt = self.kernel_size
        if T < kt:
            raise ValueError(f"x has {T} time steps, fewer than "
                             f"kernel_size={kt}")
        width = self.conv.out_features
        w = self.conv.weight.view(width, C, kt)  # [width, C, Kt]
        if self.align is not None:
            # the residual x[:, Kt-1:] (aligned) is a linear map of the last
            # tap's input: fold it into that tap's weights instead of
            # materializing, adding and back-propagating a residual tensor
            w = w + self._residual_weight(w, width)
        # [B, T, N, C] seen as NCHW [B, C, T, N] is channels-last memory:
        # no copy, and oneDNN/cuDNN run their channels-last convolution
        h = F.conv2d(x.permute(0, 3, 1, 2), w.unsqueeze(-1), self.conv.bias)
        h = h.permute(0, 2, 3, 1)  # [B, width, T', N] -> [B, T', N, width]
        if self.activation == 'sigmoid':
            return torch.sigmoid(h)
        if self.activation in ('linear', 'relu'):
            return torch.relu(h) if self.activation == 'relu' else h
        p, q = h.chunk(2, dim=-1)  # P + X_res (folded), Q
        return p * torch.sigmoid(q)

    def _residual_weight(self, w: Tensor, width: int) -> Tensor:
        """``[width, C_in, K_t]`` weights adding :class:`Align`'s residual
        to the first ``C_out`` channels at the last tap."""
        cout, cin, kt = self.out_channels, self.in_channels, self.kernel_size
        lin = self.align.lin
        r = lin.weight if lin is not None else \
            torch.eye(cout, cin, dtype=w.dtype, device=w.device)
        # r: [C_out, C_in] (1x1 conv, or identity/zero-padding)
        return F.pad(r.unsqueeze(-1), (kt - 1, 0, 0, 0, 0, width - cout))
        # [C_out, C_in, 1] -> [width, C_in, K_t]

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.in_channels}, '
                f'{self.out_channels}, kernel_size={self.kernel_size}, '
                f'activation={self.activation})')
