"""Argument checks shared by every public function and layer.

Each check raises ``TypeError`` (wrong kind of object / dtype) or
``ValueError`` (right kind, bad value) with the argument's name in the
message, so that bad input never reaches a sparse kernel.
"""
from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor

_NORMALIZATIONS = (None, 'sym', 'rw')


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


def check_edge_index(edge_index: Tensor, num_nodes: Optional[int]) -> None:
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
    if edge_index.numel() > 0:
        lo, hi = int(edge_index.min()), int(edge_index.max())
        if lo < 0:
            raise ValueError(f"edge_index contains a negative node index "
                             f"({lo})")
        if num_nodes is not None and hi >= num_nodes:
            raise ValueError(
                f"edge_index contains node index {hi}, out of range for "
                f"num_nodes={num_nodes} (x has {num_nodes} rows?)")


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
    if edge_weight.numel() and not bool(torch.isfinite(edge_weight).all()):
        raise ValueError("edge_weight contains NaN or Inf")


def check_x(x, name: str = 'x') -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a Tensor (got {type(x).__name__})")
    if not (x.is_floating_point()):
        raise TypeError(f"{name} must be floating point (got {x.dtype})")
    if x.dim() != 2:
        raise ValueError(f"{name} must have shape [num_nodes, channels] "
                         f"(got {list(x.shape)})")


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
        if bool(torch.isnan(lambda_max).any()) or \
                bool((lambda_max <= 0).any()) or \
                bool(torch.isinf(lambda_max).any()):
            raise ValueError(f"lambda_max must be finite and > 0 "
                             f"(got {lambda_max.tolist()})")
        if (num_graphs is not None and lambda_max.numel() > 1
                and lambda_max.numel() != num_graphs):
            raise ValueError(f"lambda_max has {lambda_max.numel()} entries "
                             f"but batch holds {num_graphs} graphs")
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
    if batch.numel() and int(batch.min()) < 0:
        raise ValueError("batch contains a negative graph index")
