"""Batch stylization on a Ray cluster: image files read, stylized and written by warm workers, one per actor.

Imports Ray only when :func:`stylize_files` runs (``pip install 'restyle[ray]'``).
"""
from .files import stylize_files

__all__ = ["stylize_files"]
