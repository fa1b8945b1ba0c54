"""STGCN modules: the folded spatial conv equals the per-slice loop and a
dense float64 reference; temporal conv against conv2d; model shapes and a
training step."""
import inspect

import pytest
import torch
import torch.nn.functional as F

from graphs import (dense_cheb_filter, dense_gcn_operator,
                    dense_laplacian_operator, random_graph, rel_err)
from pyg_spectral.nn import (STGCN, AUTHORS_BLOCKS, PAPER_BLOCKS, ChebConv,
                             SpatialGraphConv, STConv, TemporalConv)

D = torch.float64


@pytest.mark.parametrize('kind', ['cheb', 'gcn'])
def test_spatial_conv_equals_loop_and_dense(kind):
    ei, w = random_graph(15, 50, directed=False, dtype=D)
    conv = SpatialGraphConv(4, 3, K=3, kind=kind).double()
    x = torch.randn(2, 5, 15, 4, dtype=D, requires_grad=True)
    y = conv(x, ei, w)
    S = dense_laplacian_operator(ei, w, 15, 'sym') if kind == 'cheb' \
        else dense_gcn_operator(ei, w, 15)
    ref = torch.empty_like(y)
    for b in range(2):
        for t in range(5):
            if kind == 'cheb':
                ref[b, t] = dense_cheb_filter(S, x[b, t], conv.weight)
            else:  # first order: S X Theta
                ref[b, t] = S @ x[b, t] @ conv.weight[0]
            ref[b, t] += conv.bias
    assert rel_err(y, ref) < 1e-12
    if kind == 'cheb':  # per-slice loop through the ChebConv layer
        cheb = ChebConv(4, 3, 3).double()
        with torch.no_grad():
            for k in range(3):
                cheb.lins[k].weight.copy_(conv.weight[k].t())
            cheb.bias.copy_(conv.bias)
        loop = torch.stack([torch.stack([cheb(x[b, t], ei, w)
                                         for t in range(5)])
                            for b in range(2)])
        assert rel_err(y, loop) < 1e-12
    g = torch.randn_like(y)
    ga, = torch.autograd.grad(y, x, g)
    gb, = torch.autograd.grad(ref, x, g)
    assert rel_err(ga, gb) < 1e-12


@pytest.mark.parametrize('act', ['glu', 'relu', 'sigmoid', 'linear'])
@pytest.mark.parametrize('cin,cout', [(4, 2), (2, 4), (3, 3)])
def test_temporal_conv_equals_conv2d(act, cin, cout):
    tc = TemporalConv(cin, cout, 3, act).double()
    x = torch.randn(2, 7, 5, cin, dtype=D)
    y = tc(x)
    # the same convolution with conv2d on [B, C, T, N]
    kt = 3
    wt = tc.conv.weight.view(-1, cin, kt)  # [width, C, Kt] (unfold order)
    h = F.conv2d(x.permute(0, 3, 1, 2), wt.unsqueeze(-1), tc.conv.bias)
    h = h.permute(0, 2, 3, 1)  # [B, T', N, width]
    res = x[:, kt - 1:]
    if act in ('sigmoid', 'linear'):
        pass  # no residual
    elif cin > cout:
        res = res @ tc.align.lin.weight.t()
    elif cin < cout:
        res = F.pad(res, (0, cout - cin))
    if act == 'glu':
        ref = (h[..., :cout] + res) * torch.sigmoid(h[..., cout:])
    elif act == 'relu':
        ref = torch.relu(h + res)
    elif act == 'sigmoid':
        ref = torch.sigmoid(h)
    else:
        ref = h
    assert y.shape == (2, 5, 5, cout)
    assert rel_err(y, ref) < 1e-12


@pytest.mark.parametrize('blocks', [AUTHORS_BLOCKS, PAPER_BLOCKS])
@pytest.mark.parametrize('graph_conv', ['cheb', 'gcn'])
def test_stgcn_forward_and_train_step(blocks, graph_conv):
    torch.manual_seed(0)
    ei, w = random_graph(12, 40, directed=False)
    model = STGCN(12, n_his=12, blocks=blocks, graph_conv=graph_conv,
                  out_channels=3)
    x = torch.randn(4, 12, 12, 1)
    y = torch.randn(4, 12, 3)
    out = model(x, ei, w)
    assert out.shape == (4, 12, 3) and torch.isfinite(out).all()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(15):
        opt.zero_grad()
        loss = F.mse_loss(model(x, ei, w), y)
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < first


def test_batched_samples_are_independent():
    """Sample b of a batch gives what it gives alone (no mixing across the
    folded B*T columns)."""
    ei, w = random_graph(10, 30, directed=False)
    block = STConv(10, 2, 8, 6).eval()
    x = torch.randn(3, 7, 10, 2)
    full = block(x, ei, w)
    for b in range(3):
        assert rel_err(full[b:b + 1], block(x[b:b + 1], ei, w)) < 1e-5


def test_bad_inputs():
    with pytest.raises(ValueError, match='activation'):
        TemporalConv(2, 2, 3, 'tanh')
    with pytest.raises(ValueError, match='n_his'):
        STGCN(5, n_his=8, blocks=AUTHORS_BLOCKS)
    model = STGCN(5, n_his=12)
    with pytest.raises(ValueError,
                       match=r'x must have shape \[B, 12, 5, C\]'):
        model(torch.randn(2, 11, 5, 1), torch.empty(2, 0, dtype=torch.long))


@pytest.mark.parametrize('act', ['glu', 'relu'])
@pytest.mark.parametrize('cin,cout', [(4, 2), (2, 4), (3, 3)])
def test_temporal_conv_gradients_equal_explicit_residual(act, cin, cout):
    """The residual folded into the last tap gives the gradients of the
    explicit formula (conv2d + aligned residual), for x and every
    parameter incl. Align's 1x1 conv; and passes gradcheck."""
    tc = TemporalConv(cin, cout, 3, act).double()
    x = torch.randn(2, 6, 4, cin, dtype=D, requires_grad=True)

    def explicit(x):
        wt = tc.conv.weight.view(-1, cin, 3, 1)
        h = F.conv2d(x.permute(0, 3, 1, 2), wt, tc.conv.bias)
        h = h.permute(0, 2, 3, 1)
        res = tc.align(x[:, 2:])
        if act == 'relu':
            return torch.relu(h + res)
        return (h[..., :cout] + res) * torch.sigmoid(h[..., cout:])
    g = torch.randn(2, 4, 4, cout, dtype=D)
    params = [x] + list(tc.parameters())
    ours = torch.autograd.grad(tc(x), params, g)
    ref = torch.autograd.grad(explicit(x), params, g)
    for a, b in zip(ours, ref):
        assert rel_err(a, b) < 1e-12
    assert torch.autograd.gradcheck(tc, (x[:1, :4, :2].detach()
                                         .requires_grad_(), ))


# -- STConv ----------------------------------------------------------------
TGT_INIT = ['num_nodes', 'in_channels', 'hidden_channels', 'out_channels',
            'kernel_size', 'K', 'normalization', 'bias']
TGT_FORWARD = ['edge_index', 'edge_weight']  # after the signal X / x


def _positional(fn):
    return [p.name for p in inspect.signature(fn).parameters.values()
            if p.kind == p.POSITIONAL_OR_KEYWORD and p.name != 'self']


def test_stconv_signature_is_torch_geometric_temporal():
    assert _positional(STConv.__init__) == TGT_INIT
    assert _positional(STConv.forward)[1:3] == TGT_FORWARD


def test_stconv_signature_matches_installed_torch_geometric_temporal():
    tgt = pytest.importorskip('torch_geometric_temporal.nn.attention')
    TGT = tgt.STConv
    assert _positional(TGT.__init__) == TGT_INIT
    assert _positional(TGT.forward)[1:] == TGT_FORWARD


def test_stconv_positional_call_as_torch_geometric_temporal():
    ei, w = random_graph(10, 30, directed=False)
    block = STConv(10, 2, 8, 6, 3, 3, 'sym', False)
    assert block.num_nodes == 10 and block.in_channels == 2
    assert block.spatial.bias is None  # bias: the graph conv's, as theirs
    out = block(torch.randn(4, 7, 10, 2), ei, w)
    assert out.shape == (4, 3, 10, 6)
