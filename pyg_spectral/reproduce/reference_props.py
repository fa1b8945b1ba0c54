"""The polynomial filters as their authors' codes compute them: ``K``
propagations through PyG's ``MessagePassing`` per forward pass, every term
kept for the backward pass (BernNet: :math:`O(K^2)` propagations). Used
only as the timing baseline of ``reproduce polynomial``; their parameters
(``temp``, ``alphas``, ``comb_weight``) have the names and shapes of ours,
so the same state dict drives both.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn.conv import MessagePassing
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import add_self_loops, get_laplacian


class _Prop(MessagePassing):
    def __init__(self, K: int):
        super().__init__(aggr='add')
        self.K = K

    def message(self, x_j: Tensor, norm: Tensor) -> Tensor:
        return norm.view(-1, 1) * x_j


class GPRPropRef(_Prop):
    """GPR-GNN's ``GPR_prop``."""

    def __init__(self, K: int = 10):
        super().__init__(K)
        self.temp = torch.nn.Parameter(torch.ones(K + 1))

    def forward(self, x, edge_index):
        ei, norm = gcn_norm(edge_index, None, x.size(0), dtype=x.dtype)
        hidden = x * self.temp[0]
        for k in range(self.K):
            x = self.propagate(ei, x=x, norm=norm)
            hidden = hidden + self.temp[k + 1] * x
        return hidden


def _laplacian(edge_index, n, dtype, fill):
    """L = I - D^-1/2 A D^-1/2 plus ``fill`` times I (as the authors)."""
    ei, norm = get_laplacian(edge_index, None, 'sym', dtype, n)
    return add_self_loops(ei, norm, fill_value=fill, num_nodes=n)


class BernPropRef(_Prop):
    """BernNet's ``Bern_prop``: :math:`K` propagations by
    :math:`2\\mathbf{I} - \\mathbf{L}`, then :math:`K(K+1)/2` by
    :math:`\\mathbf{L}`."""

    def __init__(self, K: int = 10):
        super().__init__(K)
        self.temp = torch.nn.Parameter(torch.ones(K + 1))

    def forward(self, x, edge_index):
        K, n = self.K, x.size(0)
        t = F.relu(self.temp)
        ei1, norm1 = get_laplacian(edge_index, None, 'sym', x.dtype, n)
        ei2, norm2 = add_self_loops(ei1, -norm1, fill_value=2.0,
                                    num_nodes=n)
        tmp = [x]
        for _ in range(K):
            x = self.propagate(ei2, x=x, norm=norm2)
            tmp.append(x)
        out = math.comb(K, 0) / 2 ** K * t[0] * tmp[K]
        for i in range(K):
            x = tmp[K - i - 1]
            x = self.propagate(ei1, x=x, norm=norm1)
            for _ in range(i):
                x = self.propagate(ei1, x=x, norm=norm1)
            out = out + math.comb(K, i + 1) / 2 ** K * t[i + 1] * x
        return out


class ChebIIPropRef(_Prop):
    """ChebNetII's ``ChebnetII_prop``."""

    def __init__(self, K: int = 10):
        super().__init__(K)
        self.temp = torch.nn.Parameter(torch.ones(K + 1))

    def forward(self, x, edge_index):
        K = self.K
        coe_tmp = F.relu(self.temp)
        coe = []
        for i in range(K + 1):
            c = 0.0
            for j in range(K + 1):
                x_j = math.cos((K - j + 0.5) * math.pi / (K + 1))
                c = c + coe_tmp[j] * math.cos(i * math.acos(x_j))
            coe.append(2 * c / (K + 1))
        ei, norm = _laplacian(edge_index, x.size(0), x.dtype, -1.0)
        tx0 = x
        out = coe[0] / 2 * tx0
        if K >= 1:
            tx1 = self.propagate(ei, x=x, norm=norm)
            out = out + coe[1] * tx1
        for i in range(2, K + 1):
            tx2 = 2 * self.propagate(ei, x=tx1, norm=norm) - tx0
            out = out + coe[i] * tx2
            tx0, tx1 = tx1, tx2
        return out


class JacobiPropRef(_Prop):
    """JacobiConv's ``PolyConvFrame`` + ``Combination`` (all ``K + 1``
    propagated copies stacked, then combined per channel)."""

    def __init__(self, channels: int, K: int = 10, a: float = 1.0,
                 b: float = 1.0, alpha: float = 1.0):
        super().__init__(K)
        self.a, self.b, self.alpha = a, b, alpha
        self.alphas = torch.nn.Parameter(torch.ones(K))
        self.comb_weight = torch.nn.Parameter(torch.ones(K + 1, channels))

    def forward(self, x, edge_index):
        a, b = self.a, self.b
        ei, norm = gcn_norm(edge_index, None, x.size(0), add_self_loops=False,
                            dtype=x.dtype)
        al = [self.alpha * torch.tanh(v) for v in self.alphas]
        xs = [x]
        for L in range(1, self.K + 1):
            ax = self.propagate(ei, x=xs[-1], norm=norm)
            if L == 1:
                xs.append((a - b) / 2 * al[0] * xs[-1] +
                          (a + b + 2) / 2 * al[0] * ax)
                continue
            cl = 2 * L * (L + a + b) * (2 * L - 2 + a + b)
            c1 = (2 * L + a + b - 1) * (2 * L + a + b) * (2 * L + a + b - 2)
            c2 = (2 * L + a + b - 1) * (a ** 2 - b ** 2)
            c3 = 2 * (L - 1 + a) * (L - 1 + b) * (2 * L + a + b)
            xs.append(al[L - 1] * (c1 / cl) * ax - al[L - 1] * (c2 / cl) *
                      xs[-1] - al[L - 1] * al[L - 2] * (c3 / cl) * xs[-2])
        stacked = torch.stack(xs, 1)  # [N, K+1, C]
        return (stacked * self.comb_weight).sum(1)
