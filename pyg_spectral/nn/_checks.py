"""Input and output checks shared by the layers.

``check_input`` runs before a layer's forward: ``x`` must be a floating-point
tensor of the documented layout, with the dtype and device of the layer's
parameters (metadata only: no value is read). ``check_output`` is an opt-in
debugging aid, off by default like torch's anomaly detection: once on
(:func:`set_finite_checks` or ``PYG_SPECTRAL_FINITE_CHECKS=1``), a
non-finite result of the outermost layer raises a ``ValueError`` naming the
input, parameter or overflow that caused it. It reads a value back to the
host (a device synchronization on CUDA) and is skipped while tracing.
"""
from __future__ import annotations

import functools
import os
import threading
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor

from ..ops.host_reads import tracing
from ..ops.validation import check_same_device, check_x

_FINITE_CHECKS = os.environ.get('PYG_SPECTRAL_FINITE_CHECKS', '0') == '1'


def set_finite_checks(enabled: bool) -> bool:
    """Turns the output finiteness check of every layer on or off (default
    off, or ``PYG_SPECTRAL_FINITE_CHECKS=1``); returns the previous
    setting."""
    global _FINITE_CHECKS
    previous, _FINITE_CHECKS = _FINITE_CHECKS, bool(enabled)
    return previous


def _first_parameter(module: torch.nn.Module) -> Optional[Tensor]:
    from torch_geometric.nn.dense.linear import is_uninitialized_parameter
    for p in module._parameters.values():  # the module's own first (fast)
        if p is not None and p.is_floating_point() and \
                not is_uninitialized_parameter(p):
            return p
    for p in module.parameters():
        if p.is_floating_point() and not is_uninitialized_parameter(p):
            return p
    return None


def check_input(module: torch.nn.Module, x, dims: Tuple[int, ...],
                layout: str, channels: Optional[int] = None,
                name: str = 'x') -> None:
    check_x(x, name, dims, layout, channels)
    p = _first_parameter(module)
    if p is None:
        return
    check_same_device(name, x.device, f'{type(module).__name__} parameters',
                      p.device)
    if x.dtype != p.dtype and not torch.is_autocast_enabled(x.device.type):
        raise TypeError(
            f"{name} has dtype {x.dtype} but {type(module).__name__}'s "
            f"parameters are {p.dtype}; cast one to the other (e.g. "
            f"module.to({x.dtype}))")


def _finite(t: Tensor) -> bool:
    if t.layout == torch.sparse_coo:
        t = t._values()
    elif t.layout != torch.strided:  # CSR/CSC
        t = t.values()
    if t.numel() == 0:
        return True
    # a sum is NaN/Inf if any entry is (one fast multi-threaded pass); only
    # then (or on an overflowing sum) the exact elementwise test
    acc = t.sum(dtype=torch.promote_types(t.dtype, torch.float32))
    return bool(torch.isfinite(acc)) or bool(torch.isfinite(t).all())


class outermost:
    """``with outermost() as check:`` — ``check`` is True only in the
    outermost checked layer, so nested layers (the temporal and spatial
    convolutions inside an :class:`STConv` inside :class:`STGCN`) do not
    each re-scan their outputs."""
    _state = threading.local()

    def __enter__(self) -> bool:
        depth = getattr(self._state, 'depth', 0) + 1
        self._state.depth = depth
        return depth == 1

    def __exit__(self, *exc) -> None:
        self._state.depth -= 1


def check_output(module: torch.nn.Module, out: Tensor,
                 inputs: Dict[str, Optional[Tensor]]) -> Tensor:
    """Returns ``out``, or raises naming why it holds NaN/Inf."""
    if out.device.type == 'meta' or tracing(out) or _finite(out.detach()):
        return out
    for name, t in inputs.items():
        if isinstance(t, Tensor) and t.is_floating_point() and \
                not _finite(t.detach()):
            raise ValueError(f"{name} contains NaN or Inf")
    for name, p in module.named_parameters():
        if not _finite(p.detach()):
            raise ValueError(f"parameter {name!r} of "
                             f"{type(module).__name__} contains NaN or Inf")
    raise ValueError(
        f"{type(module).__name__} produced NaN/Inf from finite inputs and "
        f"parameters: the result overflows {out.dtype} (scale the input or "
        f"use a wider dtype)")


def checked_forward(forward):
    """Decorates a layer's ``forward(self, x, ...)``: the output of the
    outermost checked layer goes through :func:`check_output`."""
    @functools.wraps(forward)
    def wrapper(self, x, *args, **kwargs):
        if not _FINITE_CHECKS:  # the default: nothing to do
            return forward(self, x, *args, **kwargs)
        with outermost() as outer:
            out = forward(self, x, *args, **kwargs)
        return check_output(self, out, {'x': x}) if outer else out
    return wrapper
