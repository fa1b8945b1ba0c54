"""Sphinx configuration: API documentation of pyg_spectral (autodoc of every
public name; the math of the docstrings rendered by MathJax). Built with
warnings as errors by ``tests/test_docs.py``:

    python -m sphinx -W -b html docs docs/_build/html
"""
import os
import sys
import warnings

sys.path.insert(0, os.path.abspath('..'))
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')
warnings.filterwarnings('ignore', message='An issue occurred while importing')

project = 'pyg_spectral'
author = 'pyg_spectral developers'
copyright = '2026, pyg_spectral developers'
release = '0.1.0'

extensions = [
    'sphinx.ext.autodoc',
    'sphinx.ext.mathjax',
    'sphinx.ext.napoleon',
    'sphinx.ext.viewcode',
]
# MathJax is loaded by the reader's browser; building needs no network
autodoc_member_order = 'bysource'
autodoc_typehints = 'none'  # the signatures say enough; no forward refs
autodoc_default_options = {'members': False}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
nitpicky = False
html_theme = 'alabaster'
exclude_patterns = ['_build']
suppress_warnings = ['config.cache']
