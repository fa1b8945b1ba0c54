"""Reproductions of the papers' experiments (``python -m pyg_spectral
reproduce ...``)."""
