"""Self-contained HTML review pages for extraction results."""

from .build import build_review
from .render import render_batch, render_page

__all__ = ["build_review", "render_batch", "render_page"]
