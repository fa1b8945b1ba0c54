r"""Precompute mode: the basis terms :math:`P_k(\mathbf{S})\mathbf{X}`
computed once, for graphs too big for a full-batch training step
(ChebNetII's route to ogbn-papers100M)::

    terms = precompute_terms(x, op, K=11, basis='chebyshev',
                             budget=2 * 2**30, path='/data/terms')
    loader = term_loader(terms, train_idx, y, batch_size=4096)
    model = Decoupled(ChebIIConv(10), mlp)   # combination, then the MLP
    for h, yb in loader: loss(model(h), yb).backward(); ...

The recurrence needs every row of the previous term, so memory is bounded by
splitting the *feature columns*: each column block runs the whole
recurrence (two rotating term buffers and the block of ``x``, ``3 N c``
values) and writes its ``K`` terms. With ``budget`` bytes the block width
``c`` is the largest with ``3 N c`` working values plus, for an in-RAM
result, nothing else (the result itself is the caller's) or, for a
memory-mapped one, the mapped block ``N K c`` in the output dtype
(unmapped before the next block): the peak stays below ``budget`` beyond
what the operator and ``x`` already take.

Resident memory follows the live buffers only if the allocator returns
freed blocks to the system: glibc raises its mmap threshold after the first
large free and then keeps freed blocks in the heap, so set
``MALLOC_MMAP_THRESHOLD_=1048576`` (or run under jemalloc) where the budget
must show in the process RSS (``benchmarks/bench_precompute.py`` does).

Layout: node-major ``[N, K, C]`` (a mini-batch of nodes is one gather).
On disk it is stored as column blocks ``block_{j}.npy`` ``[N, K, c_j]``
(each written contiguously, so a block never touches its neighbours'
pages) with ``meta.json``; :class:`TermStore` reads rows of all blocks.
"""
from __future__ import annotations

import json
import mmap
import os
import warnings
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor

from .ops import SparseOperator
from .ops.bases import recurrence
from .ops.chebyshev import check_op_and_x, cheb_terms
from .ops.validation import check_K

_NP = {torch.float32: np.float32, torch.float16: np.float16,
       torch.float64: np.float64}


class TermStore(torch.utils.data.Dataset):
    """Precomputed terms ``[N, K, C]``, in RAM (one tensor) or as
    memory-mapped column blocks. ``store[idx]`` (an int, a list or a 1-D
    index tensor) returns ``[.., K, C]`` float tensors (float32 for a
    float16 store)."""

    def __init__(self, blocks: Sequence[Union[Tensor, np.ndarray]],
                 path: Optional[str] = None):
        self.blocks = list(blocks)
        self.path = path
        n, K = self.blocks[0].shape[:2]
        self.shape = (n, K, sum(b.shape[2] for b in self.blocks))

    @classmethod
    def open(cls, path: str) -> 'TermStore':
        """The store written by :func:`precompute_terms` at ``path``."""
        with open(os.path.join(path, 'meta.json')) as f:
            meta = json.load(f)
        blocks = [np.load(os.path.join(path, f'block_{j}.npy'),
                          mmap_mode='r') for j in range(meta['blocks'])]
        for b in blocks:  # rows are read at random: no readahead
            mm = getattr(b, '_mmap', None)
            if mm is not None and hasattr(mmap, 'MADV_RANDOM'):
                mm.madvise(mmap.MADV_RANDOM)
        return cls(blocks, path)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, idx) -> Tensor:
        if isinstance(idx, Tensor):
            idx = idx.cpu().numpy()
        rows = np.asarray(idx)
        # mapped blocks are read in file order, then put back in request
        # order (one argsort for all blocks)
        order = np.argsort(rows, kind='stable') if rows.ndim else None
        parts = []
        for b in self.blocks:
            if isinstance(b, Tensor):
                parts.append(b[torch.as_tensor(rows)])
            elif order is not None:
                got = np.empty((rows.size, ) + b.shape[1:], b.dtype)
                got[order] = b[rows[order]]
                parts.append(torch.from_numpy(got))
            else:
                parts.append(torch.from_numpy(np.array(b[rows])))
        out = parts[0] if len(parts) == 1 else torch.cat(parts, -1)
        return out.float() if out.dtype == torch.float16 else out

    def nbytes(self) -> int:
        return sum(int(np.prod(b.shape)) * (b.element_size() if isinstance(
            b, Tensor) else b.itemsize) for b in self.blocks)


def block_width(n: int, K: int, C: int, budget: Optional[int],
                itemsize: int, out_itemsize: int, mapped: bool) -> int:
    """Columns per block so that ``3 n c`` working values, the ``n c``
    storage-dtype copy of a term (and, when ``mapped``, the ``n K c``
    mapped output block) fit in ``budget``."""
    if budget is None:
        return C
    # the block of x and two term buffers; the term cast to the storage
    # dtype on its way out; the mapped output block
    per_col = 3 * n * itemsize + n * out_itemsize + \
        (n * K * out_itemsize if mapped else 0)
    c = budget // max(per_col, 1)
    if c < 1:
        raise ValueError(
            f"budget={budget} bytes is too small for one feature column "
            f"({per_col} bytes for {n} nodes and K={K}); raise the budget")
    return int(min(c, C))


def precompute_terms(x: Tensor, op: SparseOperator, K: int,
                     basis: str = 'chebyshev', a: float = 0.0,
                     b: float = 0.0, *, budget: Optional[int] = None,
                     path: Optional[str] = None,
                     dtype: Optional[torch.dtype] = None,
                     x_chunk=None) -> TermStore:
    r"""Computes :math:`P_k(\mathbf{S})\mathbf{X}` for ``k < K`` (``K``
    terms, :func:`~pyg_spectral.ops.recurrence`'s convention; a layer of
    order ``K`` needs ``K + 1``) column block by column block.

    Args:
        x: ``[N, C]`` features (a tensor, or a NumPy array / memmap read a
            block of columns at a time).
        op: the operator :math:`\mathbf{S}` (e.g. from
            :func:`~pyg_spectral.ops.gcn_operator`, or a layer's
            :meth:`~pyg_spectral.nn.PolyConv.operator`).
        budget: bytes the working buffers (and a mapped output block) may
            take; ``None``: all columns at once.
        path: a folder for memory-mapped output (required when the result
            itself exceeds ``budget``).
        dtype: storage dtype (default ``x``'s; ``torch.float16`` halves the
            disk footprint, the recurrence still runs in ``x``'s dtype).
        x_chunk: deprecated and ignored (``budget`` sets the column
            blocks); a ``DeprecationWarning`` when given.

    The recurrence runs on ``op``'s device (a CUDA operator with ``x`` on
    the host or on disk works: each column block is moved over); the terms
    are stored on the host, in RAM or on disk.
    """
    if x_chunk is not None:
        warnings.warn("precompute_terms(x_chunk=...) is deprecated and "
                      "ignored: budget sets the column blocks",
                      DeprecationWarning, stacklevel=2)
    check_K(K)
    n, C = x.shape
    work = torch.float32 if isinstance(x, np.ndarray) else x.dtype
    op = op.to(dtype=work)
    if isinstance(x, Tensor) and x.device == op.device:
        check_op_and_x(op, x)
    elif op.num_nodes != n:
        raise ValueError(f"x has {n} rows but op has {op.num_nodes} nodes")
    dtype = dtype or work
    if dtype not in _NP:
        raise TypeError(f"dtype must be float16, float32 or float64 "
                        f"(got {dtype})")
    out_size = torch.tensor([], dtype=dtype).element_size()
    total = n * K * C * out_size
    if path is None and budget is not None and total > budget:
        raise ValueError(
            f"the terms take {total} bytes, more than budget={budget}: pass "
            f"path= to memory-map them on disk")
    c = block_width(n, K, C, budget,
                    torch.tensor([], dtype=work).element_size(), out_size,
                    path is not None)
    rec = None if basis == 'chebyshev' else recurrence(basis, K, a, b)
    blocks: List = []
    if path is not None:
        os.makedirs(path, exist_ok=True)
    for j, c0 in enumerate(range(0, C, c)):
        c1 = min(c0 + c, C)
        xb = x[:, c0:c1]
        xb = torch.from_numpy(np.ascontiguousarray(xb, dtype=_NP[work])) \
            if isinstance(xb, np.ndarray) else xb.contiguous()
        xb = xb.to(op.device)  # (a GPU operator computes, the host stores)
        if path is None:
            dst = torch.empty((n, K, c1 - c0), dtype=dtype)
        else:
            dst = np.lib.format.open_memmap(
                os.path.join(path, f'block_{j}.npy'), 'w+', _NP[dtype],
                (n, K, c1 - c0))
        with torch.no_grad():
            for k, t in enumerate(cheb_terms(op, xb, K, rec)):
                if path is None:
                    dst[:, k] = t
                else:
                    dst[:, k] = t.to(dtype).cpu().numpy()
            del t  # the last term buffer, before the next block allocates
        if path is not None:
            dst.flush()
            del dst  # unmapped: its pages leave this process
            dst = np.load(os.path.join(path, f'block_{j}.npy'),
                          mmap_mode='r')
        blocks.append(dst)
        del xb
    if path is not None:
        with open(os.path.join(path, 'meta.json'), 'w') as f:
            json.dump(dict(num_nodes=n, K=K, channels=C, blocks=len(blocks),
                           basis=basis, a=a, b=b, dtype=str(dtype),
                           budget=budget), f)
    return TermStore(blocks, path)


def term_loader(store: TermStore, nodes: Tensor, y: Optional[Tensor] = None,
                batch_size: int = 1024, shuffle: bool = True,
                sampler=None, generator=None, **kwargs):
    """A plain :class:`torch.utils.data.DataLoader` over ``nodes``: each
    batch is ``(terms [B, K, C], y [B])`` (or the terms alone), read with
    one gather per block. ``sampler`` (e.g. a ``DistributedSampler`` over
    ``range(len(nodes))``) replaces shuffling."""
    ds = _Rows(store, nodes, y)
    if sampler is None:
        sampler = torch.utils.data.RandomSampler(ds, generator=generator) \
            if shuffle else torch.utils.data.SequentialSampler(ds)
    batches = torch.utils.data.BatchSampler(sampler, batch_size, False)
    return torch.utils.data.DataLoader(ds, sampler=batches, batch_size=None,
                                       **kwargs)


class _Rows(torch.utils.data.Dataset):
    """Rows ``nodes[i]`` of a store; indexed by a list of positions."""

    def __init__(self, store, nodes, y):
        self.store, self.nodes, self.y = store, torch.as_tensor(nodes), y

    def __len__(self):
        return self.nodes.numel()

    def __getitem__(self, pos):
        idx = self.nodes[torch.as_tensor(pos)]
        h = self.store[idx]
        return h if self.y is None else (h, self.y[idx])


__all__ = ['precompute_terms', 'TermStore', 'term_loader', 'block_width']
