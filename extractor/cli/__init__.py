"""The `extractor` command line: one module per command group, each a thin client of the library."""

from .app import app, main

__all__ = ["app", "main"]
