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

Its single primitive is :meth:`SparseOperator.matmul`,

.. math::
    \mathbf{Y} = \alpha \, \mathbf{S} \mathbf{X} + \beta \, \mathbf{Z},

computed by one of the registered backends (torch CSR kernels, Triton on
CUDA, or a differentiable gather/scatter reference used when the operator's
values require grad).

Layout: ``x`` and ``z`` are ``[N, F]``; any trailing layout must be folded
into ``F`` by the caller.
"""
from __future__ import annotations

import warnings
from typing import Optional, Union

import torch
from torch import Tensor

from .validation import check_edge_index, check_num_nodes

Diag = Union[None, float, Tensor]

_INT32_MAX = 2**31 - 1


def _csr_tensor(crow: Tensor, col: Tensor, val: Tensor, n: int) -> Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # "CSR support is in beta"
        return torch.sparse_csr_tensor(crow, col, val, (n, n),
                                       check_invariants=False)


def coo_to_csr(dst: Tensor, src: Tensor, val: Tensor, num_nodes: int):
    r"""Sorts COO entries by ``(dst, src)``, sums duplicates, and returns
    ``(crow, col, val)``; indices are int32 when they fit."""
    n = num_nodes
    key = dst * max(n, 1) + src
    key, perm = torch.sort(key)
    val = val[perm]
    if key.numel() > 1 and bool((key[1:] == key[:-1]).any()):
        key, inv = torch.unique_consecutive(key, return_inverse=True)
        val = val.new_zeros(key.numel()).index_add(0, inv, val)
    row = torch.div(key, max(n, 1), rounding_mode='floor')
    col = key - row * max(n, 1)
    crow = torch.zeros(n + 1, dtype=torch.long, device=dst.device)
    if row.numel():
        crow[1:] = torch.bincount(row, minlength=n).cumsum(0)
    idx_dtype = torch.int32 if max(n, key.numel()) <= _INT32_MAX \
        else torch.long
    return crow.to(idx_dtype), col.to(idx_dtype), val


def csr_transpose(crow: Tensor, col: Tensor, val: Tensor, rows: Tensor,
                  num_nodes: int):
    r"""``(crow, col, val)`` of the transpose of a CSR matrix whose entries
    are sorted by ``(row, col)`` without duplicates (as :func:`coo_to_csr`
    returns them); ``rows`` is the row index of every entry. A stable sort
    of the column indices alone keeps each new row's entries in old-row
    order, i.e. sorted: no composite keys and no duplicate pass."""
    n = num_nodes
    perm = torch.sort(col, stable=True)[1]
    crow_t = torch.zeros(n + 1, dtype=torch.long, device=col.device)
    if col.numel():
        crow_t[1:] = torch.bincount(col, minlength=n).cumsum(0)
    return crow_t.to(crow.dtype), rows[perm].to(col.dtype), val[perm]


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
            first needed".
        meta (dict, optional): how the operator was built (kind,
            normalization, lambda_max); layers check it against their own
            hyper-parameters.
    """

    def __init__(self, crow: Tensor, col: Tensor, val: Tensor, diag: Diag,
                 num_nodes: int, symmetric: Optional[bool] = None,
                 meta: Optional[dict] = None):
        self.crow, self.col, self.val = crow, col, val
        self.diag = diag
        self.num_nodes = int(num_nodes)
        self.meta = dict(meta or {})
        self._symmetric = symmetric
        self._t: Optional[SparseOperator] = None
        self._csr: Optional[Tensor] = None
        self._rows: Optional[Tensor] = None

    # ------------------------------------------------------------------
    @classmethod
    def from_coo(cls, dst: Tensor, src: Tensor, val: Tensor, diag: Diag,
                 num_nodes: int, check: bool = True,
                 **kwargs) -> 'SparseOperator':
        """From COO entries ``S[dst, src] += val`` (validated unless
        ``check=False``, for indices that already were)."""
        if check:
            cls._check_coo(dst, src, val, num_nodes)
        crow, col, val = coo_to_csr(dst, src, val, num_nodes)
        return cls(crow, col, val, diag, num_nodes, **kwargs)

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

    @property
    def csr(self) -> Tensor:
        if self._csr is None:
            self._csr = _csr_tensor(self.crow, self.col, self.val,
                                    self.num_nodes)
        return self._csr

    def rows(self) -> Tensor:
        """Row (target) index of every stored entry, as int64."""
        if self._rows is None:
            counts = (self.crow[1:] - self.crow[:-1]).long()
            self._rows = torch.repeat_interleave(
                torch.arange(self.num_nodes, device=self.device), counts)
        return self._rows

    # ------------------------------------------------------------------
    def matmul(self, x: Tensor, alpha: float = 1.0, z: Optional[Tensor] = None,
               beta: float = 1.0, out: Optional[Tensor] = None) -> Tensor:
        r"""Returns :math:`\alpha \mathbf{S} \mathbf{X} + \beta \mathbf{Z}`
        for ``x`` of shape ``[N, F]`` (``z`` the same shape, optional)."""
        from .backends import spmm  # late import: backends import us
        return spmm(self, x, alpha, z, beta, out)

    def t(self) -> 'SparseOperator':
        """The transposed operator (cached; ``self`` when symmetric)."""
        if self._t is None:
            if self._symmetric:
                self._t = self
                return self
            t = SparseOperator(*csr_transpose(self.crow, self.col, self.val,
                                              self.rows(), self.num_nodes),
                               self.diag, self.num_nodes, meta=self.meta)
            if self._symmetric is None:
                sym = (torch.equal(t.crow, self.crow)
                       and torch.equal(t.col, self.col)
                       and _close(t.val, self.val))
                self._symmetric = sym
            if self._symmetric:
                self._t = self
            else:
                t._symmetric = False
                t._t = self
                self._t = t
        return self._t

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
            return d
        return self.val.new_full((self.num_nodes, ), float(d))

    def to_dense(self) -> Tensor:
        """Dense :math:`N \\times N` matrix (tests and small graphs only)."""
        dense = self.val.new_zeros(self.num_nodes, self.num_nodes)
        if self.num_edges:
            dense = dense.index_put((self.rows(), self.col.long()), self.val,
                                    accumulate=True)
        return dense + torch.diag(self.diag_tensor())

    def to(self, device=None, dtype=None) -> 'SparseOperator':
        """``self`` when already there (keeps the cached transpose)."""
        if (device is None or torch.device(device) == self.device) and \
                (dtype is None or dtype == self.dtype):
            return self
        d = self.diag
        if isinstance(d, Tensor):
            d = d.to(device=device, dtype=dtype)
        return SparseOperator(self.crow.to(device), self.col.to(device),
                              self.val.to(device=device, dtype=dtype), d,
                              self.num_nodes, self._symmetric, self.meta)

    def detach(self) -> 'SparseOperator':
        d = self.diag.detach() if isinstance(self.diag, Tensor) else self.diag
        return SparseOperator(self.crow, self.col, self.val.detach(), d,
                              self.num_nodes, self._symmetric, self.meta)

    def __getstate__(self) -> dict:
        # the CSR tensor view is derived (and torch cannot copy or pickle
        # sparse CSR storage): deepcopy / pickle rebuild it on first use
        state = self.__dict__.copy()
        state['_csr'] = None
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
