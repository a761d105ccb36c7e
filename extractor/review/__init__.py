"""Self-contained HTML review pages for extraction results."""

from .render import render_batch, render_page

__all__ = ["render_batch", "render_page"]
