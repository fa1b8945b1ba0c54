"""TorchScript (deprecated in torch) is refused with a TypeError that names
torch.compile and torch.export, for the layers and the zoo's filters."""
import pytest
import torch

import pyg_spectral.nn as ours

LAYERS = [lambda: ours.ChebConv(4, 4, 2), lambda: ours.GCNConv(4, 4),
          lambda: ours.GPRConv(3), lambda: ours.FavardConv(4, 3),
          lambda: ours.OptBasisConv(4, 3), lambda: ours.APPNP(3, 0.1),
          lambda: ours.SGConv(4, 4)]


@pytest.mark.parametrize('make', LAYERS)
def test_torchscript_raises_naming_alternatives(make):
    with pytest.raises(TypeError, match='torch.compile.*torch.export'):
        torch.jit.script(make())
