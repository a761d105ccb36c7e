"""`extractor serve`: the extractor as an authenticated HTTP API (FastAPI + uvicorn).

Needs the `service` extra: `pip install -e '.[service]'`.
"""

from __future__ import annotations

from typing import Any


def create_app(*args: Any, **kwargs: Any) -> Any:
    """Build the ASGI app; see `extractor.service.app.create_app`."""
    from .app import create_app as build

    return build(*args, **kwargs)


__all__ = ["create_app"]
