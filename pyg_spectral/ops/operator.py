r"""The one sparse operator every layer of the package propagates with.

A :class:`SparseOperator` represents

.. math::
    \mathbf{S} = \mathbf{M} + \operatorname{diag}(\mathbf{d}),

with :math:`\mathbf{M}` an :math:`N \times N` CSR matrix holding the
off-diagonal entries (rows are *target* nodes: PyG's ``source_to_target``
flow, ``y[dst] += w * x[src]``) and :math:`\mathbf{d}` the node-wise diagonal
(a per-node tensor, a Python scalar, or ``None`` for zero). Self-loops are
never stored as sparse entries: the diagonal is applied as an axpy, so the
sparse product touches the real edges only.

Its single primitive is :meth:`SparseOperator.matmul` (the custom op
``pyg_spectral::spmm``),

.. math::
    \mathbf{Y} = \alpha \, \mathbf{S} \mathbf{X} + \beta \, \mathbf{Z},

computed by one of the kernels of :mod:`.backends` (torch CSR kernels,
Triton on CUDA, or a gather/scatter reference).

While ``torch.compile`` / ``torch.export`` trace, an operator is built from
traceable ops only (static shapes, no value read back to Python).

Layout: ``x`` and ``z`` are ``[N, F]``; any trailing layout must be folded
into ``F`` by the caller.
"""
from __future__ import annotations

import warnings
import weakref
from typing import Callable, Dict, Hashable, Optional, Tuple, Union

import torch
from torch import Tensor

from .validation import (as_size, check_edge_index, check_num_nodes,
                         keep_shapes, tracing)

Diag = Union[None, float, Tensor]

_INT32_MAX = 2**31 - 1


def _csr_tensor(crow: Tensor, col: Tensor, val: Tensor, n: int) -> Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # "CSR support is in beta"
        return torch.sparse_csr_tensor(crow, col, val, (n, n),
                                       check_invariants=False)


def _row_pointers(sorted_rows: Tensor, n: int) -> Tensor:
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
    host read); while tracing (or under :func:`~.validation.static_shapes`)
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
    :class:`SparseOperator` that the build found out (``symmetric``, and
    ``max_nnz``: the most entries in a row and in a column, before
    duplicates are summed).

    Eagerly, entries flagged in ``drop`` are left out and duplicates are
    summed, with one host read and no other synchronization: the entries
    are sorted by ``(row, col)`` with the dropped ones last (a sentinel
    key), runs of equal keys are numbered and summed into a buffer of the
    static length ``E``, and the read (shared with the checks queued on
    ``checks``, a :class:`~.validation.HostChecks`, or the pending one;
    ``values`` is its result) tells how many entries were dropped, how many
    distinct keys remain and, when ``check_symmetric``, whether
    :math:`\mathbf{S} = \mathbf{S}^\top` (:func:`_symmetric_entries`: an
    order-free hash of the entries and of their mirrors, values bit for
    bit); ``symmetric`` is then a bool. The arrays are cut to those sizes
    afterwards.

    While tracing (or under :func:`~.validation.static_shapes`) nothing is
    read: ``drop`` is ignored (those entries carry 0), duplicates are kept,
    ``symmetric`` is None."""
    from .validation import HostChecks, pending_checks
    n = max(int(num_nodes), 1) if not isinstance(num_nodes, torch.SymInt) \
        else num_nodes
    E = rows.numel()
    key = rows.long() * n + cols.long()
    static = keep_shapes(key)
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
    idx_dtype = torch.int32 if max(n, col.numel()) <= _INT32_MAX \
        else torch.long
    crow = _row_pointers(row, num_nodes).to(idx_dtype)
    return crow, col.to(idx_dtype), val, info, values


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
    old-row order, i.e. sorted: no composite keys and no duplicate pass."""
    n = num_nodes
    sorted_col, perm = torch.sort(col, stable=True)
    rows = csr_rows(crow, col.numel())
    return (_row_pointers(sorted_col, n).to(crow.dtype),
            rows[perm].to(col.dtype), val[perm])


def csr_rows(crow: Tensor, nnz: int) -> Tensor:
    """Row index (int64) of every stored entry of a CSR matrix."""
    n = crow.numel() - 1
    counts = (crow[1:] - crow[:-1]).long()
    return torch.repeat_interleave(torch.arange(n, device=crow.device),
                                   counts, output_size=nnz)


class SparseOperator:
    r"""A normalized graph operator :math:`\mathbf{S} = \mathbf{M} +
    \operatorname{diag}(\mathbf{d})` held in CSR form (see module doc).

    Args:
        crow, col, val: CSR arrays of :math:`\mathbf{M}` (rows = targets).
        diag: node-wise diagonal: ``None`` (zero), a float or a ``[N]``
            tensor.
        num_nodes (int): :math:`N`.
        symmetric (bool, optional): whether :math:`\mathbf{S}` is known to
            be symmetric; ``None`` means "find out when the transpose is
            first needed" (eagerly; while tracing the transpose is built).
        meta (dict, optional): how the operator was built (kind,
            normalization, lambda_max, flow); layers check it against their
            own hyper-parameters.

    Derived data (the transpose, the torch CSR view, row indices, Triton
    plans, eigenpairs, a float32 copy for half-precision CPU products) lives
    in one declared memo, :meth:`memo`; :meth:`to` and :meth:`detach` carry
    over what stays valid.
    """

    def __init__(self, crow: Tensor, col: Tensor, val: Tensor, diag: Diag,
                 num_nodes: int, symmetric: Optional[bool] = None,
                 meta: Optional[dict] = None,
                 max_nnz: Optional[Tuple[int, int]] = None):
        self.crow, self.col, self.val = crow, col, val
        #: (most entries in a row, in a column) when the build knows them
        #: (kernels choose their plan without reading the operator back)
        self.max_nnz = max_nnz
        self.diag = diag
        self.num_nodes = as_size(num_nodes)
        self.meta = dict(meta or {})
        self._symmetric = symmetric
        self._memo: Dict[Hashable, object] = {}

    # ------------------------------------------------------------------
    @classmethod
    def from_coo(cls, dst: Tensor, src: Tensor, val: Tensor, diag: Diag,
                 num_nodes: int, check: bool = True,
                 **kwargs) -> 'SparseOperator':
        """From COO entries ``S[dst, src] += val`` (validated unless
        ``check=False``, for indices that already were)."""
        from .validation import one_read
        with one_read():  # the checks and the build: one host read
            if check:
                cls._check_coo(dst, src, val, num_nodes)
            crow, col, val, info, _ = csr_build(dst, src, val, num_nodes)
        return cls(crow, col, val, diag, num_nodes, **{**info, **kwargs})

    @staticmethod
    def _check_coo(dst: Tensor, src: Tensor, val: Tensor, num_nodes) -> None:
        if not (dst.shape == src.shape == val.shape) or dst.dim() != 1:
            raise ValueError(f"dst, src and val must be 1-D of equal length "
                             f"(got {list(dst.shape)}, {list(src.shape)}, "
                             f"{list(val.shape)})")
        check_edge_index(torch.stack([src, dst]), check_num_nodes(num_nodes))

    @property
    def dtype(self) -> torch.dtype:
        return self.val.dtype

    @property
    def device(self) -> torch.device:
        return self.val.device

    @property
    def num_edges(self) -> int:
        return self.col.numel()

    @property
    def requires_grad(self) -> bool:
        return self.val.requires_grad or (isinstance(self.diag, Tensor)
                                          and self.diag.requires_grad)

    def memo(self, key: Hashable, make: Callable[[], object]):
        """``make()``, computed once per operator and key (derived data)."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    @property
    def csr(self) -> Tensor:
        return self.memo('csr', lambda: _csr_tensor(
            self.crow, self.col, self.val, self.num_nodes))

    def rows(self) -> Tensor:
        """Row (target) index of every stored entry, as int64."""
        return self.memo('rows', lambda: csr_rows(self.crow, self.num_edges))

    def arrays(self) -> Tuple[Tensor, Tensor, Tensor, Optional[Tensor],
                              float]:
        """``(crow, col, val, diag_tensor_or_None, diag_scalar)``: the
        operator as the arguments of the package's custom ops."""
        _register(self)
        d = self.diag
        if isinstance(d, Tensor):
            return self.crow, self.col, self.val, d, 0.0
        return self.crow, self.col, self.val, None, float(d or 0.0)

    # ------------------------------------------------------------------
    def matmul(self, x: Tensor, alpha: float = 1.0, z: Optional[Tensor] = None,
               beta: float = 1.0) -> Tensor:
        r"""Returns :math:`\alpha \mathbf{S} \mathbf{X} + \beta \mathbf{Z}`
        for ``x`` of shape ``[N, F]`` (``z`` the same shape, optional);
        differentiable in ``x``, ``z`` and the operator's values."""
        from .backends import spmm  # late import: backends import us
        return spmm(self, x, alpha, z, beta)

    def t(self) -> 'SparseOperator':
        """The transposed operator (memoized; ``self`` when symmetric)."""
        return self.memo('t', self._transpose)

    def _transpose(self) -> 'SparseOperator':
        if self._symmetric:
            return self
        t = SparseOperator(*csr_transpose(self.crow, self.col, self.val,
                                          self.num_nodes),
                           self.diag, self.num_nodes, meta=self.meta,
                           max_nnz=None if self.max_nnz is None
                           else self.max_nnz[::-1])
        if self._symmetric is None and not tracing(self.val):
            self._symmetric = (torch.equal(t.crow, self.crow)
                               and torch.equal(t.col, self.col)
                               and _close(t.val, self.val))
        if self._symmetric:
            return self
        t._symmetric = self._symmetric
        t._memo['t'] = self
        return t

    @property
    def is_symmetric(self) -> bool:
        if self._symmetric is None:
            self.t()
        return bool(self._symmetric)

    def diag_tensor(self) -> Tensor:
        """The diagonal as a dense ``[N]`` tensor."""
        d = self.diag
        if d is None:
            return self.val.new_zeros(self.num_nodes)
        if isinstance(d, Tensor):
            return d.expand(self.num_nodes)
        return self.val.new_full((self.num_nodes, ), float(d))

    def to_dense(self) -> Tensor:
        """Dense :math:`N \\times N` matrix (tests and small graphs only)."""
        dense = self.val.new_zeros(self.num_nodes, self.num_nodes)
        if self.num_edges:
            dense = dense.index_put((self.rows(), self.col.long()), self.val,
                                    accumulate=True)
        return dense + torch.diag(self.diag_tensor())

    def to(self, device=None, dtype=None) -> 'SparseOperator':
        """``self`` when already there; otherwise a converted copy that
        keeps the transpose (converted alike) and the symmetry flag."""
        if (device is None or torch.device(device) == self.device) and \
                (dtype is None or dtype == self.dtype):
            return self
        return self._map(lambda t: t.to(device),
                         lambda t: t.to(device=device, dtype=dtype))

    def detach(self) -> 'SparseOperator':
        return self._map(lambda t: t, lambda t: t.detach())

    def _map(self, index_fn, value_fn) -> 'SparseOperator':
        """A copy with ``index_fn`` applied to the index arrays and
        ``value_fn`` to the values and diagonal; the transpose comes along
        (mapped alike) and the copies know each other."""
        def one(op):
            d = op.diag
            return SparseOperator(index_fn(op.crow), index_fn(op.col),
                                  value_fn(op.val),
                                  value_fn(d) if isinstance(d, Tensor) else d,
                                  op.num_nodes, op._symmetric, op.meta,
                                  op.max_nnz)
        new = one(self)
        t = self._memo.get('t')
        if t is self:
            new._memo['t'] = new
        elif t is not None:
            new_t = one(t)
            new._memo['t'], new_t._memo['t'] = new_t, new
        return new

    def __getstate__(self) -> dict:
        # derived data is rebuilt on first use (and torch cannot copy or
        # pickle the sparse CSR view)
        state = self.__dict__.copy()
        state['_memo'] = {}
        return state

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_nodes={self.num_nodes}, '
                f'num_edges={self.num_edges}, dtype={self.dtype}, '
                f'meta={self.meta})')


def _close(a: Tensor, b: Tensor) -> bool:
    if a.numel() == 0:
        return True
    eps = torch.finfo(a.dtype).eps if a.is_floating_point() else 0.0
    return bool(torch.allclose(a, b, rtol=8 * eps, atol=0.0))


# The custom ops receive an operator as its arrays; an operator built here
# is found again from them (with its memo: CSR view, transpose, plans), so
# nothing derived is rebuilt per call.
_LIVE: 'weakref.WeakValueDictionary[int, SparseOperator]' = \
    weakref.WeakValueDictionary()


def _register(op: SparseOperator) -> None:
    if not tracing(op.crow):
        _LIVE[id(op.crow)] = op


def operator_of(crow: Tensor, col: Tensor, val: Tensor,
                diag: Optional[Tensor], diag_scalar: float
                ) -> SparseOperator:
    """The operator whose arrays these are (a live one when it exists)."""
    op = _LIVE.get(id(crow))
    if op is not None and op.crow is crow and op.col is col and \
            op.val is val and (
                op.diag is diag or op._memo.get('diag_tensor') is diag
                if diag is not None else not isinstance(op.diag, Tensor)):
        return op  # (a diag_tensor given for a constant diagonal included)
    d = diag if diag is not None else (diag_scalar or None)
    return SparseOperator(crow, col, val, d, crow.numel() - 1)
