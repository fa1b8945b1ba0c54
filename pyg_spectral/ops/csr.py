r"""CSR arrays of a sparse operator: built from COO entries (duplicates
summed, self-loops dropped, symmetry found out, with at most one host read),
transposed, expanded to row indices. Plain tensors in, plain tensors out.

Rows are *target* nodes (PyG's ``source_to_target`` flow); indices are
int32 when they fit (``_INT32_MAX``).
"""
from __future__ import annotations

import warnings
from typing import Optional

import torch
from torch import Tensor

from .host_reads import HostChecks, keep_shapes, pending_checks

_INT32_MAX = 2**31 - 1


def csr_tensor(crow: Tensor, col: Tensor, val: Tensor, shape) -> Tensor:
    """A torch CSR tensor of arrays that already form a valid CSR matrix:
    invariants not re-checked (said explicitly, so torch does not warn that
    checks are "implicitly disabled"), torch's "CSR support is in beta"
    notice silenced (made on purpose, not by the user)."""
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', 'Sparse CSR tensor support')
        return torch.sparse_csr_tensor(crow, col, val, tuple(shape),
                                       check_invariants=False)


def to_csr(x: Tensor) -> Tensor:
    """``x.to_sparse_csr()`` without torch's beta notice."""
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', 'Sparse CSR tensor support')
        return x.to_sparse_csr()


def row_pointers(sorted_rows: Tensor, n: int) -> Tensor:
    """CSR row pointers ``[n + 1]`` of entries sorted by row: the running
    sum of the row counts (static shapes, traceable; one pass over the
    entries, cheaper than a search)."""
    rows = sorted_rows.long()
    counts = torch.zeros(n + 1, dtype=torch.long, device=rows.device)
    counts.index_add_(0, rows + 1, torch.ones_like(rows))
    return counts.cumsum(0).to(sorted_rows.dtype)


def coo_to_csr(dst: Tensor, src: Tensor, val: Tensor, num_nodes: int):
    r"""Sorts COO entries by ``(dst, src)`` and returns ``(crow, col, val)``;
    indices are int32 when they fit. Eagerly, duplicates are summed (one
    host read); while tracing (or under :func:`~.host_reads.static_shapes`)
    they are kept (a CSR product sums them alike, and the entry count stays
    static)."""
    return csr_build(dst, src, val, num_nodes, check_symmetric=False)[:3]


#: the symmetry test of :func:`csr_build` runs over this many entries at a
#: time (its temporaries stay small on huge graphs)
_SYM_CHUNK = 1 << 24


def csr_build(rows: Tensor, cols: Tensor, val: Tensor, num_nodes: int,
              drop: Optional[Tensor] = None, checks=None,
              check_symmetric: bool = True):
    r"""The CSR arrays of the COO entries ``S[rows, cols] += val``: returns
    ``(crow, col, val, info, values)``, ``info`` the keyword arguments of
    :class:`~.operator.SparseOperator` that the build found out (``symmetric``, and
    ``max_nnz``: the most entries in a row and in a column, before
    duplicates are summed).

    Eagerly, entries flagged in ``drop`` are left out and duplicates are
    summed, with one host read and no other synchronization: the entries
    are sorted by ``(row, col)`` with the dropped ones last (a sentinel
    key), runs of equal keys are numbered and summed into a buffer of the
    static length ``E``, and the read (shared with the checks queued on
    ``checks``, a :class:`~.host_reads.HostChecks`, or the pending one;
    ``values`` is its result) tells how many entries were dropped, how many
    distinct keys remain and, when ``check_symmetric``, whether
    :math:`\mathbf{S} = \mathbf{S}^\top` (:func:`_symmetric_entries`: an
    order-free hash of the entries and of their mirrors, values bit for
    bit); ``symmetric`` is then a bool. The arrays are cut to those sizes
    afterwards.

    While tracing (or under :func:`~.host_reads.static_shapes`) nothing is
    read: ``drop`` is ignored (those entries carry 0), duplicates are kept,
    ``symmetric`` is None."""
    n = max(int(num_nodes), 1) if not isinstance(num_nodes, torch.SymInt) \
        else num_nodes
    E = rows.numel()
    static = keep_shapes(rows, cols, val)
    if not static and E >= _LEAN_MIN and not val.requires_grad:
        return _lean_build(rows, cols, val, n,
                           drop, checks or pending_checks() or HostChecks(),
                           check_symmetric)
    key = rows.long() * n + cols.long()
    sentinel = n * n  # sorts after every real key
    if drop is not None and not static:
        key = key.masked_fill(drop, sentinel)
    key, perm = torch.sort(key, stable=True)
    val = val[perm]
    del perm
    values: list = []
    info: dict = {}
    if not static:
        checks = checks or pending_checks() or HostChecks()
        if E:
            start = torch.ones(E, dtype=torch.bool, device=key.device)
            torch.ne(key[1:], key[:-1], out=start[1:])  # a new key starts
            run = torch.cumsum(start, 0) - 1  # [E] index of entries' keys
            summed = val.new_zeros(E).index_add_(0, run, val)  # [E]
            at_drop = checks.post([drop.sum()]) if drop is not None \
                else None
            at_runs = checks.post([run[-1] + 1])
            at_sym = checks.post([_symmetric_entries(
                key, val.detach(), n, sentinel)]) \
                if check_symmetric else None
            at_nnz = checks.post(_max_counts(key, n))
        values = checks.read()
        if E:
            dropped = int(values[at_drop][0]) if at_drop is not None else 0
            runs = int(values[at_runs][0]) - (1 if dropped else 0)
            kept = E - dropped
            if runs == kept:  # no duplicates: the sorted entries as they are
                key, val = key[:kept], val[:kept]
            else:  # one entry per key, its values summed
                key = key.new_empty(runs).scatter_(0, run[:kept], key[:kept])
                val = summed[:runs]
            if kept < E:
                val = val.clone()  # not a view of the longer buffer
            del run, summed, start
            if at_sym is not None:
                info['symmetric'] = bool(values[at_sym][0])
            info['max_nnz'] = tuple(int(v) for v in values[at_nnz])
        else:
            info['max_nnz'] = (0, 0)
            if check_symmetric:
                info['symmetric'] = True
    row = torch.div(key, n, rounding_mode='floor')
    col = key - row * n
    del key
    crow, col = grouped_csr(row, col, num_nodes)
    return crow, col, val, info, values


def grouped_csr(rows: Tensor, cols: Tensor, num_nodes: int):
    """``(crow, col)`` of entries already grouped by row (rows
    non-decreasing; columns in any order within a row), the values staying
    in the entries' order: no sort. Indices are int32 when they fit."""
    idx = torch.int32 if max(num_nodes, cols.numel()) <= _INT32_MAX \
        else torch.long
    return row_pointers(rows, num_nodes).to(idx), cols.to(idx)


#: an eager build of at least this many entries runs lean
#: (:func:`_lean_build`): in row chunks, its temporaries a few bytes per entry
_LEAN_MIN = 1 << 24
#: entries per chunk of the lean build (about; at least 16, at most 254
#: chunks), and per slice of its counting pass
_LEAN_CHUNK = 1 << 21
_LEAN_SLICE = 1 << 20


def _lean_build(rows: Tensor, cols: Tensor, val: Tensor, n: int,
                drop: Optional[Tensor], checks: HostChecks,
                check_symmetric: bool):
    r""":func:`csr_build` for huge graphs (same arrays, same ``info``),
    with a transient of about 6 bytes per entry besides the output (8: int32
    ``col`` and float32 ``val``) and one byte of chunk number per entry,
    instead of the sort of every entry at once (int64 keys, int64
    permutation, run numbers, summed values: about 40).

    1. One pass over slices of the entries counts the kept entries of every
       row and column (``max_nnz``), the dropped ones, and the symmetry
       hash; the rows are cut into chunks of about equal entry counts.
       These values are read with the queued checks: the one read of a
       smaller build.
    2. Each chunk (the entries of rows ``[r0, r1)``, in input order, found
       with ``nonzero_static`` of its chunk number: no read) is sorted by
       ``(row, col)``, and its runs of equal keys are summed straight into
       the output arrays at a running offset kept on the device.
    3. A second read gets the number of distinct entries, to cut the
       output (cloned when it would waste more than 1/16).

    Every buffer of the chunk loop has a size known up front, and the
    chunks are alike in size: the CUDA caching allocator reuses their
    blocks. A row is never split, so one row of more than a chunk's
    entries makes its chunk that large."""
    E, dev = rows.numel(), rows.device
    kept_row = torch.zeros(n + 1, dtype=torch.long, device=dev)  # [n + 1]
    kept_col = torch.zeros(n + 1, dtype=torch.long, device=dev)  # slot n:
    dropped = torch.zeros((), dtype=torch.long, device=dev)  # dropped ones
    diff = torch.zeros((), dtype=torch.long, device=dev)
    for lo in range(0, E, _LEAN_SLICE):
        hi = min(lo + _LEAN_SLICE, E)
        # (clamped: unchecked indices raise with the queued checks)
        r = rows[lo:hi].long().clamp(0, n - 1)  # [s]
        c = cols[lo:hi].long().clamp(0, n - 1)  # [s]
        d = None if drop is None else drop[lo:hi]
        ones = torch.ones_like(r)
        kept_row.index_add_(0, r if d is None else r.masked_fill(d, n), ones)
        kept_col.index_add_(0, c if d is None else c.masked_fill(d, n), ones)
        if d is not None:
            dropped += d.sum()
        if check_symmetric:
            vb = _mix(_value_bits(val[lo:hi].detach()))
            h = _mix((r * n + c) ^ vb) - _mix((c * n + r) ^ vb)
            diff += (h if d is None else h.masked_fill(d, 0)).sum()
        del r, c, ones
    C = min(254, max(16, -(-E // _LEAN_CHUNK)))
    cum = kept_row[:n].cumsum(0)  # [n] kept entries of rows <= i
    marks = torch.arange(1, C, device=dev) * (E // C)  # [C - 1]
    cut = torch.searchsorted(cum, marks, right=True)  # [C - 1] first rows
    at_cut = checks.post(list(cut))
    at_off = checks.post(list(torch.cat([cum.new_zeros(1), cum])[cut]))
    at_drop = checks.post([dropped])
    at_sym = checks.post([diff == 0]) if check_symmetric else None
    at_nnz = checks.post([kept_row[:n].max(), kept_col[:n].max()])
    del cum, kept_col
    chunk = torch.empty(E, dtype=torch.uint8, device=dev)  # [E], 255: drop
    for lo in range(0, E, _LEAN_SLICE):
        hi = min(lo + _LEAN_SLICE, E)
        b = torch.bucketize(rows[lo:hi].long(), cut, right=True)
        if drop is not None:
            b = b.masked_fill(drop[lo:hi], 255)
        chunk[lo:hi] = b
    del kept_row, b
    values = checks.read()
    kept = E - int(values[at_drop][0])
    cuts = [0] + [int(v) for v in values[at_cut]] + [n]
    offs = [0] + [int(v) for v in values[at_off]] + [kept]
    idx_dtype = torch.int32 if max(n, kept) <= _INT32_MAX else torch.long
    col = torch.empty(kept, dtype=idx_dtype, device=dev)
    out = val.new_zeros(kept)
    count = torch.zeros(n + 1, dtype=torch.long, device=dev)  # [n + 1]
    start_at = torch.zeros((), dtype=torch.long, device=dev)  # on device
    for c in range(C):
        r0, m = cuts[c], offs[c + 1] - offs[c]
        if m == 0:
            continue
        idx = torch.nonzero_static(chunk == c, size=m).view(m)  # [m]
        key = rows[idx].long()  # [m]: (row - r0) * n + col, in this chunk
        key.sub_(r0).mul_(n).add_(cols[idx])
        key, perm = torch.sort(key, stable=True)
        idx = idx[perm]
        del perm
        v = val[idx]  # [m]
        del idx
        new = torch.ones(m, dtype=torch.bool, device=dev)  # a key starts
        torch.ne(key[1:], key[:-1], out=new[1:])
        at = new.cumsum(0).add_(start_at - 1)  # [m] output slot
        out.index_add_(0, at, v)
        del v
        r = torch.div(key, n, rounding_mode='floor')  # [m] row - r0
        col[at] = (key - r * n).to(idx_dtype)  # (a run writes one value)
        count.index_add_(0, r.add_(r0 + 1), new.long())
        start_at = at[-1] + 1
        del key, new, at, r
    del chunk
    runs = int(start_at)  # the second read
    crow = count.cumsum(0).to(idx_dtype)  # [n + 1]
    col, out = col[:runs], out[:runs]
    if 16 * (kept - runs) > kept:  # duplicates: do not keep the slack
        col, out = col.clone(), out.clone()
    info = {'max_nnz': tuple(int(v) for v in values[at_nnz])}
    if at_sym is not None:
        info['symmetric'] = bool(values[at_sym][0])
    return crow, col, out, info, values


def _max_counts(key: Tensor, n: int):
    """The most entries of a row and of a column (0-dim tensors; entries
    with the sentinel key ``n * n`` fall into a discarded slot ``n``)."""
    r = torch.div(key, n, rounding_mode='floor')  # [E], n for the sentinel
    c = torch.where(r < n, key - r * n, n)
    ones = torch.ones_like(r)
    # (clamped: unchecked indices raise with the queued checks, not here)
    return [key.new_zeros(n + 1).index_add_(0, t.clamp(0, n), ones)[:n].max()
            if n else key.new_zeros(()) for t in (r, c)]


_MASK = [0] + [(1 << (64 - k)) - 1 for k in range(1, 64)]


def _mix(x: Tensor) -> Tensor:
    """splitmix64's finalizer on int64 (wrapping arithmetic; logical
    shifts by masking the sign extension)."""
    x = x ^ ((x >> 30) & _MASK[30])
    x = x * -4658895280553007687  # 0xbf58476d1ce4e5b9
    x = x ^ ((x >> 27) & _MASK[27])
    x = x * -7723592293110705685  # 0x94d049bb133111eb
    return x ^ ((x >> 31) & _MASK[31])


def _value_bits(v: Tensor) -> Tensor:
    """The bit pattern of each value, as int64."""
    bits = {8: torch.int64, 4: torch.int32, 2: torch.int16}[v.element_size()]
    return v.contiguous().view(bits).long()


def _symmetric_entries(key: Tensor, val: Tensor, n: int,
                       sentinel: int) -> Tensor:
    """0-dim bool tensor (no host read, no search): the multiset of entries
    ``(row, col, value)`` of the sorted ``key`` (``row * n + col``; dropped
    entries = ``sentinel``, left out) equals that of ``(col, row,
    value)``, by comparing order-free sums of a 64-bit hash of each entry
    (a mismatch is certain to be found; a false match has probability
    about 2**-64). Values must match bit for bit: the normalizers compute
    ``w_ij d_i d_j`` with the commutative product ``d_i d_j``, so a
    symmetric graph gives an exactly symmetric operator. Duplicates are
    compared as entries (a duplicated edge mirrored by a single edge of
    the summed value reads as not symmetric: a transpose is built, which is
    correct, only not shared)."""
    E = key.numel()
    diff = torch.zeros((), dtype=torch.long, device=key.device)
    for lo in range(0, E, _SYM_CHUNK):
        k = key[lo:lo + _SYM_CHUNK]
        keep = k != sentinel
        r = torch.div(k, n, rounding_mode='floor')
        kt = (k - r * n) * n + r  # the mirror's key
        vb = _mix(_value_bits(val[lo:lo + _SYM_CHUNK]))
        h = _mix(k ^ vb) - _mix(kt ^ vb)
        diff = diff + torch.where(keep, h, 0).sum()
    return diff == 0


def csr_transpose(crow: Tensor, col: Tensor, val: Tensor, num_nodes: int):
    r"""``(crow, col, val)`` of the transpose of a CSR matrix whose entries
    are sorted by ``(row, col)`` (as :func:`coo_to_csr` returns them): a
    stable sort of the column indices alone keeps each new row's entries in
    old-row order, i.e. sorted: no composite keys and no duplicate pass.
    Eagerly from :data:`_LEAN_MIN` entries, :func:`_lean_build` of the
    swapped entries instead (int32 row indices, a few bytes per entry
    besides the result, two host reads)."""
    n = num_nodes
    if col.numel() >= _LEAN_MIN and not keep_shapes(col, val) and \
            not val.requires_grad:  # huge: the lean build, int32 rows
        rows = torch.repeat_interleave(
            torch.arange(n, dtype=col.dtype, device=col.device),
            (crow[1:] - crow[:-1]).long(), output_size=col.numel())
        t_crow, t_col, t_val = _lean_build(col, rows, val, n, None,
                                           HostChecks(), False)[:3]
        return t_crow.to(crow.dtype), t_col.to(col.dtype), t_val
    sorted_col, perm = torch.sort(col, stable=True)
    rows = csr_rows(crow, col.numel())
    return (row_pointers(sorted_col, n).to(crow.dtype),
            rows[perm].to(col.dtype), val[perm])


def csr_rows(crow: Tensor, nnz: int) -> Tensor:
    """Row index (int64) of every stored entry of a CSR matrix."""
    n = crow.numel() - 1
    counts = (crow[1:] - crow[:-1]).long()
    return torch.repeat_interleave(torch.arange(n, device=crow.device),
                                   counts, output_size=nnz)
