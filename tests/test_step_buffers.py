"""A ChebConv training step holds, besides the output, x's gradient and the
tensors the caller owns (x, the output gradient, parameters, operator), at
most two ``[N, width]`` work buffers: counted exactly by following every
tensor the step creates (a dispatch mode that keeps a weak reference to
each output and groups them by storage)."""
import weakref

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from graphs import random_graph
from pyg_spectral.nn import ChebConv


class LiveBuffers(TorchDispatchMode):
    """Peak number of live storages of at least ``min_bytes`` created while
    active (storages in ``owned``, the caller's, are not counted)."""

    def __init__(self, min_bytes: int, owned=()):
        super().__init__()
        self.min_bytes = min_bytes
        self.owned = {t.untyped_storage().data_ptr() for t in owned}
        self.groups: dict = {}  # storage pointer -> weak refs of its views
        self.peak = 0

    def live(self) -> int:
        self.groups = {p: refs for p, refs in self.groups.items()
                       if any(r() is not None for r in refs)}
        return len(self.groups)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        self.live()  # forget the storages that died
        for t in tree_flatten(out)[0]:
            if not isinstance(t, torch.Tensor) or \
                    t.layout != torch.strided:
                continue
            s = t.untyped_storage()
            if s.nbytes() >= self.min_bytes and \
                    s.data_ptr() not in self.owned:
                self.groups.setdefault(s.data_ptr(), []).append(
                    weakref.ref(t))
        self.peak = max(self.peak, self.live())
        return out


N = 2000
EI, _ = random_graph(N, 10 * N, directed=False, weighted=False)


def test_counter_counts_held_buffers():
    """The counter sees buffers held across ops, and frees."""
    x = torch.randn(N, 8)
    with LiveBuffers(N * 8 * 4, owned=[x]) as m:
        held = [x * 2, x + 1, x.sin()]  # three live at once
        del held
        y = x.cos()  # one, after the others died
    assert m.peak == 3 and m.live() == 1 and y.shape == x.shape


@pytest.mark.parametrize('K', [2, 3, 10])
@pytest.mark.parametrize('C,F', [(16, 16), (32, 8), (8, 32)],
                         ids=['first', 'first-narrow', 'last'])
def test_cheb_training_step_holds_two_work_buffers(K, C, F):
    """Forward + backward with x requiring grad, in either evaluation order
    (C = F and C > F project first; F > 1.5 C projects last): output +
    x.grad + at most two work buffers of width min(C, F) or more."""
    torch.manual_seed(0)
    conv = ChebConv(C, F, K)
    x = torch.randn(N, C, requires_grad=True)
    conv(x, EI).sum().backward()  # builds and caches the operator
    x.grad = None
    conv.zero_grad(set_to_none=True)
    g = torch.randn(N, F)
    with LiveBuffers(N * min(C, F) * 4,
                     owned=[x, g, *conv.parameters()]) as m:
        out = conv(x, EI)
        out.backward(g)
    assert x.grad is not None
    assert m.peak <= 2 + 2, m.peak  # output, x.grad, two work buffers


@pytest.mark.parametrize('C,F', [(32, 8), (8, 32)], ids=['first', 'last'])
def test_cheb_inference_holds_two_work_buffers(C, F):
    """Without grad: the output and at most two work buffers (project
    first: Clenshaw's two rotating buffers, one of them the output; project
    last: the two term buffers)."""
    conv = ChebConv(C, F, 5)
    x = torch.randn(N, C)
    conv(x, EI)
    with torch.no_grad(), LiveBuffers(N * min(C, F) * 4,
                                      owned=[x, *conv.parameters()]) as m:
        conv(x, EI)
    assert m.peak <= 1 + 2, m.peak
