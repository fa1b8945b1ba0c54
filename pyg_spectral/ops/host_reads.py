r"""The host-read rule: **one read back to the host per new graph, none
per cached graph**, and how the code keeps it.

Reading a tensor value in Python (``int(t)``, ``t.item()``, ``if t.any()``,
``nonzero``, ``unique``, ...) is a device synchronization on CUDA and stops
the GPU queue; a training step on a cached operator must not do it, and a
new graph may do it once. The operator build is therefore written for three
modes, which :func:`build_mode` names:

* ``'traced'``: torch.compile / torch.export trace, or a tensor is fake
  (and the eager body of the traced op ``pyg_spectral::graph_operator``,
  under :func:`static_shapes`): nothing may be read, every shape must
  follow from input shapes. Self-loops and duplicate edges stay as entries
  (with weight 0 or summed by the kernel); data checks are skipped
  (eagerly the same graph was, or will be, checked once).
* ``'queued'``: inside :func:`one_read` (every public operator builder
  opens one): each data check posts its device scalars on the current
  :class:`HostChecks` instead of reading them; the builder posts what it
  needs to know too (loop and duplicate counts, the symmetry hash, the
  largest row, a scalar ``lambda_max``) and reads everything in one
  transfer (:meth:`HostChecks.read`), when it needs the values.
* ``'eager'``: outside any build: a check reads its values at once (one
  read per call), as a plain function call would.

To add a data check without a new read: compute its value as 0-dim
tensors and call :func:`check_values` (or post on
:func:`pending_checks`); the test runs on the host values when the build
reads. To branch on data inside a build: post the scalar and use the value
:meth:`HostChecks.read` returns, never ``int(t)``. ``tests/test_host_reads.py``
counts the reads of every layer with :class:`CountReads` (the same
counter as ``benchmarks/bench_minibatch.py``): a new ``int(t)`` on the path
of a build fails it.
"""
from __future__ import annotations

import contextlib
import threading
from collections import Counter
from typing import Callable, Optional

import torch
from torch import Tensor
from torch.utils._python_dispatch import TorchDispatchMode

#: aten ops that read values back to the host, or whose output size depends
#: on data (a read on CUDA); ``repeat_interleave`` only without
#: ``output_size``; and :meth:`HostChecks.read` itself (its transfer is
#: one ``tolist``, which the dispatcher does not see on the CPU)
READ_OPS = frozenset({'HostChecks.read', '_local_scalar_dense', 'item',
                      'nonzero',
                      'unique_consecutive', '_unique2', 'unique_dim',
                      'masked_select', 'repeat_interleave', 'equal',
                      'allclose', 'is_nonzero'})
#: aten ops that make a tensor from host data (a host-to-device copy on CUDA)
HOST_TENSOR_OPS = frozenset({'lift_fresh', 'lift_fresh_copy', '_to_copy'})


class CountReads(TorchDispatchMode):
    """Counts every aten op by name while active (``count``); :meth:`reads`
    and :meth:`host_tensors` select the ops of :data:`READ_OPS` and
    :data:`HOST_TENSOR_OPS`. A ``repeat_interleave`` given its
    ``output_size`` reads nothing and is counted as
    ``'repeat_interleave (sized)'``."""

    def __init__(self):
        super().__init__()
        self.count = Counter()

    def __enter__(self):
        _COUNTERS.append(self)
        return super().__enter__()

    def __exit__(self, *exc):
        _COUNTERS.remove(self)
        return super().__exit__(*exc)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        if name == 'repeat_interleave' and (kwargs or {}).get(
                'output_size') is not None:
            name += ' (sized)'
        self.count[name] += 1
        return func(*args, **(kwargs or {}))

    def of(self, names) -> dict:
        return {k: v for k, v in self.count.items() if k in names}

    def reads(self) -> dict:
        return self.of(READ_OPS)

    def host_tensors(self) -> dict:
        return self.of(HOST_TENSOR_OPS)


_COUNTERS: list = []  # the active CountReads


def build_mode(*tensors) -> str:
    """``'traced'``, ``'queued'`` or ``'eager'`` (module docstring) for an
    operator built from ``tensors`` now."""
    if keep_shapes(*tensors):
        return 'traced'
    return 'eager' if pending_checks() is None else 'queued'


def tracing(*tensors, transforms: bool = True) -> bool:
    """True while torch.compile / torch.export trace (or a tensor is fake
    or wrapped by a torch.func transform): no value may be read back to
    Python then, so data-dependent checks are skipped (they run eagerly,
    where the operator is built) and choices are made from shapes only.
    ``transforms=False``: torch.func wrappers do not count (the custom ops
    are for compile/export only)."""
    if torch.compiler.is_compiling():
        return True
    wrapped = torch._C._functorch.is_functorch_wrapped_tensor
    for t in tensors:
        if not isinstance(t, Tensor):
            continue
        if transforms and wrapped(t):
            return True
        if type(t) is Tensor and not wrapped(t) and \
                not torch._is_functional_tensor(t):
            continue  # a plain tensor: not fake (the common case, fast)
        if _is_fake(t):
            return True
    return False


def _is_fake(t: Tensor) -> bool:
    from torch._subclasses.fake_tensor import is_fake
    return is_fake(t)


_STATIC = threading.local()


@contextlib.contextmanager
def static_shapes():
    """Within this block operators are built as while tracing (one entry
    per input edge, self-loops and duplicates kept), but with the eager
    data checks: what ``pyg_spectral::graph_operator`` runs."""
    old = getattr(_STATIC, 'on', False)
    _STATIC.on = True
    try:
        yield
    finally:
        _STATIC.on = old


def keep_shapes(*tensors) -> bool:
    """True when an operator's entry count must not depend on data."""
    return getattr(_STATIC, 'on', False) or tracing(*tensors)


# -- data checks, read back to the host in one transfer ---------------------
class HostChecks:
    """The data checks of one operator build, collected as device scalars
    and read back to the host in a single transfer (one synchronization on
    CUDA) by :meth:`read`, which also returns the values the build asked
    for. Checks run in the order they were posted, so the first failing one
    raises, as it would have eagerly."""

    def __init__(self):
        self._scalars: list = []  # 0-dim tensors, in posting order
        self._tests: list = []  # (first index, count, test)

    def post(self, scalars, test: Optional[Callable] = None) -> slice:
        """Queues ``scalars`` (0-dim tensors); ``test(*values)`` runs on
        their host values at :meth:`read` (raising on bad input). Returns
        where the values will be in :meth:`read`'s list."""
        i = len(self._scalars)
        self._scalars.extend(scalars)
        if test is not None:
            self._tests.append((i, len(scalars), test))
        return slice(i, len(self._scalars))

    def read(self) -> list:
        """Reads every queued scalar (exact for integers below 2**53), runs
        the tests, and returns the values; the queue is emptied."""
        scalars, tests = self._scalars, self._tests
        self._scalars, self._tests = [], []
        if not scalars:
            return []
        for counter in _COUNTERS:
            counter.count['HostChecks.read'] += 1
        values = torch.stack([s.detach().reshape(()).to(torch.float64)
                              for s in scalars]).tolist()
        for i, n, test in tests:
            test(*values[i:i + n])
        return values


_CHECKS = threading.local()


def pending_checks() -> Optional[HostChecks]:
    """The collector of the build in progress (see :func:`one_read`), or
    None: then each check reads its own values at once."""
    return getattr(_CHECKS, 'current', None)


@contextlib.contextmanager
def one_read():
    """Within this block the data checks of :mod:`.validation` are queued on
    a :class:`HostChecks` (yielded) instead of each reading values back;
    the builder calls :meth:`HostChecks.read` once, when it needs the
    values, and whatever is still queued is read on exit. Nested blocks
    share the outer collector."""
    outer = pending_checks()
    if outer is not None:
        yield outer
        return
    checks = HostChecks()
    _CHECKS.current = checks
    try:
        yield checks
    finally:
        _CHECKS.current = None
    checks.read()


@contextlib.contextmanager
def checks_now():
    """Suspends the current collector: checks in this block read at once
    (for data too large to copy for a deferred check)."""
    outer = pending_checks()
    _CHECKS.current = None
    try:
        yield
    finally:
        _CHECKS.current = outer


def check_values(scalars, test) -> None:
    """Runs ``test`` on the host values of ``scalars`` now (one read), or
    queues it on the current :class:`HostChecks`."""
    checks = pending_checks()
    if checks is not None:
        checks.post(scalars, test)
    else:
        now = HostChecks()
        now.post(scalars, test)
        now.read()


