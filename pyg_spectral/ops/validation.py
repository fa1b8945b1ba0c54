"""Argument checks shared by every public function and layer.

Each check raises ``TypeError`` (wrong kind of object / dtype) or
``ValueError`` (right kind, bad value) with the argument's name in the
message, so that bad input never reaches a sparse kernel. A check of
tensor values goes through :func:`~.host_reads.check_values`, so that it
joins the one host read of the operator build in progress
(:mod:`.host_reads` states the rule).
"""
from __future__ import annotations

import math
from typing import Optional, Tuple

import torch
from torch import Tensor

from .host_reads import check_values, tracing


_NORMALIZATIONS = (None, 'sym', 'rw')
FLOWS = ('source_to_target', 'target_to_source')


def check_flow(flow) -> str:
    if flow not in FLOWS:
        raise ValueError(f"flow must be 'source_to_target' or "
                         f"'target_to_source' (got {flow!r})")
    return flow


def check_normalization(normalization) -> None:
    if normalization not in _NORMALIZATIONS:
        raise ValueError(
            f"normalization must be one of None, 'sym', 'rw' "
            f"(got {normalization!r})")


def check_K(K) -> int:
    if isinstance(K, bool) or not isinstance(K, int):
        raise TypeError(f"K must be an int (got {type(K).__name__})")
    if K < 1:
        raise ValueError(f"K must be >= 1 (got {K})")
    return K


def as_size(n):
    """``int(n)``, but a symbolic size (torch.compile's ``dynamic=True``)
    stays symbolic instead of being specialized."""
    return n if isinstance(n, torch.SymInt) else int(n)


def check_num_nodes(num_nodes) -> Optional[int]:
    if num_nodes is None:
        return None
    if isinstance(num_nodes, torch.SymInt) or (
            isinstance(num_nodes, int) and not isinstance(num_nodes, bool)
            and tracing()):
        return num_nodes  # a (possibly symbolic) size from x.size()
    if isinstance(num_nodes, bool) or isinstance(num_nodes, float) or \
            not hasattr(num_nodes, '__index__'):
        raise TypeError(f"num_nodes must be an int or None "
                        f"(got {type(num_nodes).__name__})")
    if int(num_nodes) < 0:
        raise ValueError(f"num_nodes must be >= 0 (got {num_nodes})")
    return int(num_nodes)


def check_edge_index(edge_index: Tensor, num_nodes: Optional[int],
                     values: bool = True) -> None:
    """Kind, dtype and shape; with ``values`` also the index range (a
    queued read, :mod:`.host_reads`)."""
    if not isinstance(edge_index, Tensor):
        raise TypeError(f"edge_index must be a Tensor "
                        f"(got {type(edge_index).__name__})")
    if edge_index.is_floating_point() or edge_index.is_complex() or \
            edge_index.dtype == torch.bool:
        raise TypeError(f"edge_index must have an integer dtype "
                        f"(got {edge_index.dtype})")
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"edge_index must have shape [2, num_edges] "
                         f"(got {list(edge_index.shape)})")
    if values and edge_index.numel() > 0 and not tracing(edge_index):
        def test(lo, hi):
            if lo < 0:
                raise ValueError(f"edge_index contains a negative node "
                                 f"index ({int(lo)})")
            if num_nodes is not None and hi >= num_nodes:
                raise ValueError(
                    f"edge_index contains node index {int(hi)}, out of "
                    f"range for num_nodes={num_nodes} (the rows of x)")
        check_values(list(torch.aminmax(edge_index)), test)


def check_edge_weight(edge_weight: Optional[Tensor], num_edges: int) -> None:
    if edge_weight is None:
        return
    if not isinstance(edge_weight, Tensor):
        raise TypeError(f"edge_weight must be a Tensor or None "
                        f"(got {type(edge_weight).__name__})")
    if not edge_weight.is_floating_point():
        raise TypeError(f"edge_weight must be floating point "
                        f"(got {edge_weight.dtype})")
    if edge_weight.dim() != 1 or edge_weight.numel() != num_edges:
        raise ValueError(f"edge_weight must have shape [num_edges]="
                         f"[{num_edges}] (got {list(edge_weight.shape)})")
    if edge_weight.numel() and not tracing(edge_weight):
        def test(finite):
            if not finite:
                raise ValueError("edge_weight contains NaN or Inf")
        check_values([torch.isfinite(edge_weight).all()], test)


def check_x(x, name: str = 'x', dims: Tuple[int, ...] = (2, ),
            layout: str = '[num_nodes, channels]',
            channels: Optional[int] = None) -> None:
    """A floating-point feature tensor with one of ``dims`` dimensions and
    (if given, and not lazy ``-1``) ``channels`` entries in the last."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a Tensor (got {type(x).__name__})")
    if not (x.is_floating_point()):
        raise TypeError(f"{name} must be floating point (got {x.dtype})")
    if x.dim() not in dims or (channels is not None and channels > 0
                               and x.size(-1) != channels):
        if channels is not None and channels > 0:
            layout = layout.replace('channels', str(channels))
        raise ValueError(f"{name} must have shape {layout} "
                         f"(got {list(x.shape)})")


def check_same_device(name_a: str, a: torch.device, name_b: str,
                      b: torch.device) -> None:
    if torch.device(a) != torch.device(b):
        raise ValueError(f"{name_a} is on {a} but {name_b} is on {b}; move "
                         f"them to the same device")


def check_int(value, name: str, minimum: int = 1,
              allow: Tuple[int, ...] = ()) -> int:
    """An ``int`` >= ``minimum`` (or one of ``allow``, e.g. ``-1`` for lazy
    channels)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int "
                        f"(got {type(value).__name__})")
    if value < minimum and value not in allow:
        raise ValueError(f"{name} must be >= {minimum} (got {value})")
    return value


def check_positive_int(value, name: str, allow: Tuple[int, ...] = ()
                       ) -> int:
    return check_int(value, name, 1, allow)


def check_probability(p, name: str, closed: bool = False) -> float:
    """``p`` in ``[0, 1)`` (``[0, 1]`` with ``closed``)."""
    if isinstance(p, bool) or not isinstance(p, (int, float)):
        raise TypeError(f"{name} must be a float (got {type(p).__name__})")
    if not (0.0 <= p <= 1.0 if closed else 0.0 <= p < 1.0):
        raise ValueError(f"{name} must be in [0, 1{']' if closed else ')'} "
                         f"(got {p})")
    return float(p)


def check_rho(rho) -> float:
    """The exponent ``rho`` in ``[0, 1]`` of the generalized normalization
    :math:`D^{-\\rho} A D^{\\rho - 1}`."""
    if isinstance(rho, bool) or not isinstance(rho, (int, float)):
        raise TypeError(f"rho must be a float (got {type(rho).__name__})")
    if not 0.0 <= rho <= 1.0:
        raise ValueError(f"rho must be in [0, 1] (got {rho})")
    return float(rho)


def check_nonnegative_degree(deg: Tensor, normalization: str) -> None:
    """Degree normalization (``d^{-1/2}``, ``d^{-1}``) is undefined for a
    negative weighted degree."""
    if deg.numel() and not tracing(deg):
        # the most negative degree and its node, as device scalars (no
        # indexing by a tensor: that would read the index back at once)
        i, lowest = deg.argmin(), deg.min()

        def test(i, value):
            if value < 0:
                raise ValueError(
                    f"edge_weight gives node {int(i)} a negative degree "
                    f"({value:.4g}); {normalization} normalization is "
                    f"undefined for it (use non-negative weights or "
                    f"normalization=None)")
        check_values([i, lowest], test)


def check_lambda_max(lambda_max, num_graphs: Optional[int] = None) -> None:
    """``lambda_max`` may be None, a positive number, or a tensor of positive
    values (one per graph)."""
    if lambda_max is None:
        return
    if isinstance(lambda_max, Tensor):
        if not lambda_max.is_floating_point():
            raise TypeError(f"lambda_max must be floating point "
                            f"(got {lambda_max.dtype})")
        if lambda_max.numel() == 0:
            raise ValueError("lambda_max is an empty tensor")
        if not tracing(lambda_max):
            lam = lambda_max.detach()

            def test(ok):
                if not ok:
                    raise ValueError(f"lambda_max must be finite and > 0 "
                                     f"(got {lam.tolist()})")
            check_values([(torch.isfinite(lam) & (lam > 0)).all()], test)
        if num_graphs is not None and lambda_max.numel() > 1:
            check_num_graphs(lambda_max, num_graphs)
        return
    if tracing():  # a (possibly symbolic) float, checked when set
        return
    if isinstance(lambda_max, bool) or not isinstance(lambda_max,
                                                      (int, float)):
        raise TypeError(f"lambda_max must be a float, a Tensor or None "
                        f"(got {type(lambda_max).__name__})")
    if math.isnan(lambda_max) or math.isinf(lambda_max) or lambda_max <= 0:
        raise ValueError(f"lambda_max must be finite and > 0 "
                         f"(got {lambda_max})")


def check_batch(batch: Optional[Tensor], num_nodes: int) -> None:
    if batch is None:
        return
    if not isinstance(batch, Tensor):
        raise TypeError(f"batch must be a Tensor or None "
                        f"(got {type(batch).__name__})")
    if batch.is_floating_point():
        raise TypeError(f"batch must have an integer dtype "
                        f"(got {batch.dtype})")
    if batch.dim() != 1 or batch.numel() != num_nodes:
        raise ValueError(f"batch must have shape [num_nodes]=[{num_nodes}] "
                         f"(got {list(batch.shape)})")
    if batch.numel() and not tracing(batch):
        def test(lo):
            if lo < 0:
                raise ValueError("batch contains a negative graph index")
        check_values([batch.min()], test)


def check_num_graphs(lambda_max: Tensor, num_graphs) -> None:
    """A ``[num_graphs]`` ``lambda_max`` matches the batch's graph count
    (an int, or a 0-dim tensor ``batch.max() + 1`` checked with the other
    queued checks)."""
    def test(g):
        if lambda_max.numel() != int(g):
            raise ValueError(f"lambda_max has {lambda_max.numel()} entries "
                             f"but batch holds {int(g)} graphs")
    if isinstance(num_graphs, Tensor):
        check_values([num_graphs], test)
    else:
        test(num_graphs)
