"""The Triton kernels against the torch backend (CUDA, or the Triton
interpreter on CPU): empty rows, hub rows split across programs, widths that
are not multiples of the block, float32/float64, every diagonal mode,
strided buffers, forward and backward."""
import os

import pytest
import torch

from graphs import random_graph, rel_err

triton = pytest.importorskip('triton')
from pyg_spectral.ops import (cheb_filter, gcn_operator,  # noqa: E402
                              laplacian_operator, use_backend)
from pyg_spectral.ops import triton as tr  # noqa: E402

DEVICE = 'cuda' if torch.cuda.is_available() else 'cpu'
if DEVICE == 'cpu' and os.environ.get('TRITON_INTERPRET') != '1':
    pytest.skip('no CUDA and TRITON_INTERPRET is not set',
                allow_module_level=True)
if not tr.available():
    pytest.skip('Triton kernels unavailable', allow_module_level=True)


def hub_graph(n=60, hub_degree=300, seed=0):
    """Node 0 receives hub_degree edges, nodes n-5.. have no in-edges."""
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(0, n, (hub_degree, ), generator=g)
    hub = torch.stack([src, torch.zeros_like(src)])
    rest = torch.randint(0, n - 5, (2, 3 * n), generator=g)
    ei = torch.cat([hub, rest], 1)
    w = torch.rand(ei.size(1), generator=g) + 0.1
    return ei, w


def operators(dtype):
    ei, w = hub_graph()
    w = w.to(dtype)
    yield 'sym lambda=2 (no diag)', laplacian_operator(ei, w, 60, 'sym',
                                                       dtype=dtype)
    yield 'rw scalar diag', laplacian_operator(ei, w, 60, 'rw', 1.7,
                                               dtype=dtype)
    yield 'None per-node diag', laplacian_operator(ei, w, 60, None,
                                                   dtype=dtype)
    yield 'gcn', gcn_operator(ei, w, 60, dtype=dtype)
    yield 'empty', laplacian_operator(torch.empty(2, 0, dtype=torch.long),
                                      None, 7, None, dtype=dtype)


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
@pytest.mark.parametrize('F', [1, 5, 33, 130])
@pytest.mark.parametrize('split', [None, 16])
def test_spmm_matches_torch(dtype, F, split):
    for name, op in operators(dtype):
        op = op.to(DEVICE)
        n = op.num_nodes
        x = torch.randn(n, F, dtype=dtype, device=DEVICE)
        z = torch.randn(n, F, dtype=dtype, device=DEVICE)
        tol = 1e-12 if dtype == torch.float64 else 1e-5
        with use_backend('torch'):  # CPU kernels or cuSPARSE
            ref1 = op.matmul(x, 0.7, z, -1.3)
            ref2 = op.matmul(x)
        got = tr.spmm(op, x, 0.7, z, -1.3, split=split)
        assert rel_err(got, ref1) < tol, name
        assert rel_err(tr.spmm(op, x, split=split), ref2) < tol, name


def test_strided_buffers_and_in_place_z():
    ei, w = hub_graph()
    op = laplacian_operator(ei, w, 60, 'rw', 1.5).to(DEVICE)
    buf = torch.randn(3, 60, 2, 24, device=DEVICE)  # slices have row stride
    x, z, out = buf[0, :, 0], buf[1, :, 1], buf[2, :, 0]
    with use_backend('torch'):
        ref = op.matmul(x.contiguous(), 2.0, z.contiguous(), -1.0)
    tr.spmm(op, x, 2.0, z, -1.0, out=out, split=16)
    assert rel_err(out, ref) < 1e-5
    zz = z.clone()
    tr.spmm(op, x, 2.0, zz, -1.0, out=zz)  # out aliases z, as Clenshaw does
    assert rel_err(zz, ref) < 1e-5


def test_deterministic():
    ei, w = hub_graph(hub_degree=2000)
    op = laplacian_operator(ei, w, 60, 'sym').to(DEVICE)
    x = torch.randn(60, 40, device=DEVICE)
    a = tr.spmm(op, x, split=64)
    b = tr.spmm(op, x, split=64)
    assert torch.equal(a, b)


@pytest.mark.parametrize('C,F', [(12, 5), (5, 12)])
@pytest.mark.parametrize('directed', [True, False])
def test_cheb_filter_forward_backward(C, F, directed):
    ei, w = random_graph(40, 150, directed=directed)
    op = laplacian_operator(ei, w, 40, 'rw').to(DEVICE)
    x = torch.randn(40, C, device=DEVICE, requires_grad=True)
    weight = torch.randn(4, C, F, device=DEVICE, requires_grad=True)
    outs = {}
    for backend in ['torch', 'triton']:
        with use_backend(backend):
            y = cheb_filter(x, weight, op)
            g = torch.autograd.grad(y.square().sum(), [x, weight])
        outs[backend] = (y, *g)
    for a, b in zip(outs['torch'], outs['triton']):
        assert rel_err(b, a) < 1e-5


@pytest.mark.parametrize('basis', ['monomial', 'jacobi'])
def test_poly_filter_coefficients_forward_backward(basis):
    """A non-Chebyshev recurrence (beta != 0 for Jacobi a != b) with
    per-channel coefficients, and GCN's operator with its diagonal: the
    path of GPRConv / JacobiConv."""
    from pyg_spectral.ops import poly_filter
    ei, w = random_graph(40, 150, directed=True)
    op = gcn_operator(ei, w, 40).to(DEVICE)
    x = torch.randn(40, 6, device=DEVICE, requires_grad=True)
    coef = torch.randn(5, 6, device=DEVICE, requires_grad=True)
    outs = {}
    for backend in ['torch', 'triton']:
        with use_backend(backend):
            y = poly_filter(x, coef, op, basis, a=0.5, b=1.5)
            g = torch.autograd.grad(y.square().sum(), [x, coef])
        outs[backend] = (y, *g)
    for a, b in zip(outs['torch'], outs['triton']):
        assert rel_err(b, a) < 1e-5


def test_auto_backend_uses_triton_on_cuda():
    from pyg_spectral.ops.backends import _resolve
    op = laplacian_operator(*random_graph(10, 20), 10, 'sym')
    x = torch.randn(10, 3)
    assert _resolve(x) == 'torch'  # CPU tensors: torch kernels
    if torch.cuda.is_available():
        assert _resolve(x.cuda()) == 'triton'
