"""Run an unchanged PyG script on pyg_spectral's layers.

::

    import pyg_spectral
    pyg_spectral.patch()              # from here on, PyG's ChebConv/GCNConv
                                      # are ours, wherever they were bound
    with pyg_spectral.patch():        # or only inside a block
        model = torch_geometric.nn.models.GCN(...)

:func:`patch` rebinds every module attribute that *is* PyG's ``ChebConv`` or
``GCNConv`` class (``torch_geometric.nn``, ``torch_geometric.nn.conv``, the
modules that imported them by name such as ``torch_geometric.nn.models.
basic_gnn`` behind ``GCN``, and any other loaded module that did ``from
torch_geometric.nn import GCNConv``) to ours; the returned handle's
:meth:`Patch.undo` (or leaving the ``with`` block) restores exactly those
bindings. Layers already constructed are not changed. Modules imported
after the call bind whatever ``torch_geometric.nn`` holds then.
"""
from __future__ import annotations

import sys
from typing import List, Tuple


class Patch:
    """The bindings one :func:`patch` call changed; :meth:`undo` restores
    them. Also a context manager."""

    def __init__(self, changed: List[Tuple[object, str, object]]):
        self._changed = changed

    @property
    def changed(self) -> List[str]:
        """``module.attribute`` names that were rebound."""
        return [f'{getattr(m, "__name__", m)}.{a}'
                for m, a, _ in self._changed]

    def undo(self) -> None:
        for module, attr, old in reversed(self._changed):
            setattr(module, attr, old)
        self._changed = []

    def __enter__(self) -> 'Patch':
        return self

    def __exit__(self, *exc) -> None:
        self.undo()

    def __repr__(self) -> str:
        return f'Patch({len(self._changed)} bindings)'


_PYG: List[type] = []


def _pyg_classes() -> List[type]:
    """PyG's own classes, remembered before any patch rebinds them."""
    if not _PYG:
        import torch_geometric.nn  # noqa: F401 (loads conv and models)
        from torch_geometric.nn.conv.cheb_conv import ChebConv
        from torch_geometric.nn.conv.gcn_conv import GCNConv
        _PYG.extend([ChebConv, GCNConv])
    return _PYG


def patch() -> Patch:
    """Makes ``torch_geometric``'s ``ChebConv`` and ``GCNConv`` ours in every
    loaded module (see module doc); returns the :class:`Patch` to undo."""
    from .nn import ChebConv, GCNConv
    cheb, gcn = _pyg_classes()
    swaps = {id(cheb): ChebConv, id(gcn): GCNConv}
    changed = []
    for name, module in list(sys.modules.items()):
        if module is None or name.split('.')[0] == 'pyg_spectral':
            continue
        try:
            items = list(vars(module).items())
        except TypeError:  # an object without a __dict__ in sys.modules
            continue
        for attr, value in items:
            new = swaps.get(id(value))
            if new is not None:
                setattr(module, attr, new)
                changed.append((module, attr, value))
    return Patch(changed)
