"""Record and replay of model exchanges at the HTTP transport (placeholder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ..errors import ConfigError


def wrap_transport(
    inner: Callable[[], Any], *, mode: str, fixtures_dir: Path, provider: str, is_async: bool
) -> Any:
    if mode == "off":
        transport = inner()
        if transport is None:
            raise ConfigError("the replay provider needs fixtures")
        return transport
    raise ConfigError(f"fixtures mode {mode!r} is not available yet")
