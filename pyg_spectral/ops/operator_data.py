r"""The data of a :class:`~.operator.SparseOperator`: its CSR arrays, its
diagonal, its memo of derived data, and the registry that finds an operator
again from the arrays the custom ops receive. No products here: the
differentiable :meth:`~.operator.SparseOperator.matmul` is added above the
custom ops (:mod:`.operator`); kernels (:mod:`.backends`) read this data.
"""
from __future__ import annotations

import weakref
from typing import Callable, Dict, Hashable, Optional, Tuple, Union

import torch
from torch import Tensor

from .csr import csr_build, csr_rows, csr_tensor, csr_transpose
from .host_reads import one_read, tracing
from .validation import as_size, check_edge_index, check_num_nodes

Diag = Union[None, float, Tensor]


class OperatorData:
    """The data of a :class:`~.operator.SparseOperator` (which documents
    the arguments): arrays, diagonal, symmetry flag, build metadata and the
    memo of derived data. The custom ops rebuild one of these from bare
    arrays; users get the :class:`~.operator.SparseOperator` subclass."""

    def __init__(self, crow: Tensor, col: Tensor, val: Tensor, diag: Diag,
                 num_nodes: int, symmetric: Optional[bool] = None,
                 meta: Optional[dict] = None,
                 max_nnz: Optional[Tuple[int, int]] = None,
                 perm: Optional[Tensor] = None):
        self.crow, self.col, self.val = crow, col, val
        #: the caller's node of each of the arrays' nodes (``perm[new] =
        #: old``) when the operator was built renumbered for locality
        #: (:meth:`local` gives the arrays' own operator), else None
        self.perm = perm
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
                 **kwargs) -> 'OperatorData':
        """From COO entries ``S[dst, src] += val`` (validated unless
        ``check=False``, for indices that already were)."""
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
        n = self.num_nodes
        return self.memo('csr', lambda: csr_tensor(
            self.crow, self.col, self.val, (n, n)))

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

    # -- a renumbered operator (built with ``locality=``) -----------------
    def local(self) -> 'OperatorData':
        r"""The operator in its arrays' own numbering,
        :math:`\mathbf{P}\mathbf{S}\mathbf{P}^\top`: the same arrays without
        :attr:`perm` (memoized, with a memo of its own); ``self`` when not
        renumbered."""
        if self.perm is None:
            return self
        return self.memo('local', lambda: type(self)(
            self.crow, self.col, self.val, self.diag, self.num_nodes,
            self._symmetric, self.meta, self.max_nnz))

    def inverse(self) -> Tensor:
        """``[N]`` position in the arrays' numbering of each of the
        caller's nodes (the inverse of :attr:`perm`)."""
        def make():
            inv = torch.empty_like(self.perm)
            inv[self.perm] = torch.arange(self.perm.numel(),
                                          device=self.perm.device)
            return inv
        return self.memo('inverse', make)

    def to_local(self, x: Tensor) -> Tensor:
        """Node-major ``x`` in the caller's numbering -> the arrays' (one
        gather; ``x`` itself when not renumbered)."""
        return x if self.perm is None else x.index_select(0, self.perm)

    def from_local(self, y: Tensor) -> Tensor:
        """The inverse of :meth:`to_local`."""
        return y if self.perm is None else y.index_select(0, self.inverse())

    # ------------------------------------------------------------------
    def t(self) -> 'OperatorData':
        """The transposed operator (memoized; ``self`` when symmetric)."""
        return self.memo('t', self._transpose)

    def _transpose(self) -> 'OperatorData':
        if self._symmetric:
            return self
        if self.perm is not None:  # (P S P^T)^T = P S^T P^T
            lt = self.local().t()
            if lt is self.local():
                self._symmetric = True
                return self
            t = type(self)(lt.crow, lt.col, lt.val, lt.diag, self.num_nodes,
                           lt._symmetric, self.meta, lt.max_nnz, self.perm)
            t._memo['t'] = self
            return t
        t = type(self)(*csr_transpose(self.crow, self.col, self.val,
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
        if self.perm is not None:  # in the caller's numbering
            inv = self.inverse()
            return self.local().to_dense()[inv][:, inv]
        dense = self.val.new_zeros(self.num_nodes, self.num_nodes)
        if self.num_edges:
            dense = dense.index_put((self.rows(), self.col.long()), self.val,
                                    accumulate=True)
        return dense + torch.diag(self.diag_tensor())

    def to(self, device=None, dtype=None) -> 'OperatorData':
        """``self`` when already there; otherwise a converted copy that
        keeps the transpose (converted alike) and the symmetry flag."""
        if (device is None or torch.device(device) == self.device) and \
                (dtype is None or dtype == self.dtype):
            return self
        return self._map(lambda t: t.to(device),
                         lambda t: t.to(device=device, dtype=dtype))

    def detach(self) -> 'OperatorData':
        return self._map(lambda t: t, lambda t: t.detach())

    def _map(self, index_fn, value_fn) -> 'OperatorData':
        """A copy with ``index_fn`` applied to the index arrays and
        ``value_fn`` to the values and diagonal; the transpose comes along
        (mapped alike) and the copies know each other."""
        def one(op):
            d = op.diag
            return type(op)(index_fn(op.crow), index_fn(op.col),
                                  value_fn(op.val),
                                  value_fn(d) if isinstance(d, Tensor) else d,
                                  op.num_nodes, op._symmetric, op.meta,
                                  op.max_nnz, None if op.perm is None
                                  else index_fn(op.perm))
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
        order = '' if self.perm is None else ', renumbered'
        return (f'{self.__class__.__name__}(num_nodes={self.num_nodes}, '
                f'num_edges={self.num_edges}, dtype={self.dtype}, '
                f'meta={self.meta}{order})')


def _close(a: Tensor, b: Tensor) -> bool:
    if a.numel() == 0:
        return True
    eps = torch.finfo(a.dtype).eps if a.is_floating_point() else 0.0
    return bool(torch.allclose(a, b, rtol=8 * eps, atol=0.0))


# The custom ops receive an operator as its arrays; an operator built here
# is found again from them (with its memo: CSR view, transpose, plans), so
# nothing derived is rebuilt per call.
_LIVE: 'weakref.WeakValueDictionary[int, OperatorData]' = \
    weakref.WeakValueDictionary()


def _register(op: OperatorData) -> None:
    if not tracing(op.crow):
        _LIVE[id(op.crow)] = op


def operator_of(crow: Tensor, col: Tensor, val: Tensor,
                diag: Optional[Tensor], diag_scalar: float
                ) -> OperatorData:
    """The operator whose arrays these are (a live one when it exists)."""
    op = _LIVE.get(id(crow))
    if op is not None and op.crow is crow and op.col is col and \
            op.val is val and (
                op.diag is diag or op._memo.get('diag_tensor') is diag
                if diag is not None else not isinstance(op.diag, Tensor)):
        return op  # (a diag_tensor given for a constant diagonal included)
    d = diag if diag is not None else (diag_scalar or None)
    return OperatorData(crow, col, val, d, crow.numel() - 1)
