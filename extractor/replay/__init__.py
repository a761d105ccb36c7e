"""Record and replay of model exchanges at the HTTP transport.

Modes: `off` (the provider answers), `replay` (fixtures answer; a miss is an error),
`record` (the provider answers and every exchange is stored), `record-missing` (fixtures
answer what they can, the provider the rest, which is stored).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .context import Answerer, answered_by, article_scope, current_answerer
from .store import FixtureStore, store_for
from .transport import AsyncFixtureTransport, FixtureTransport, Recorder

MODES = ("off", "replay", "record", "record-missing")


def wrap_transport(inner: Callable[[], Any], *, mode: str, fixtures_dir: Path, provider: str, is_async: bool) -> Any:
    """The transport that answers the SDK's requests for `provider` in fixtures `mode`."""
    if mode not in MODES:
        raise ConfigError(f"unknown fixtures mode {mode!r} (use {', '.join(MODES)})")
    answerer = current_answerer()
    origin, note = "recorded", None
    if answerer is not None:
        inner = lambda: answerer.factory(is_async)  # noqa: E731
        provider, origin, note = answerer.provider, answerer.origin, answerer.note
    if mode == "off":
        transport = inner()
        if transport is None:
            raise ConfigError("the replay provider needs fixtures")
        return transport
    if provider == "replay" and mode != "replay":
        raise ConfigError("the replay provider can only replay; record with --provider openai or local")
    recorder = Recorder(store_for(fixtures_dir), mode=mode, provider=provider, inner=inner, origin=origin, note=note)
    return AsyncFixtureTransport(recorder) if is_async else FixtureTransport(recorder)


__all__ = [
    "MODES",
    "Answerer",
    "FixtureStore",
    "answered_by",
    "article_scope",
    "store_for",
    "wrap_transport",
]
