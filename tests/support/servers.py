"""An Extractor pointed at a test server on 127.0.0.1."""

from __future__ import annotations

from typing import Any

from extractor import Extractor
from extractor.testing.scripted_server import ScriptedServer


def extractor_for(server: ScriptedServer, **overrides: Any) -> Extractor:
    """The openai provider against `server`: no fixtures, short backoff and timeout."""
    settings: dict[str, Any] = dict(
        provider="openai",
        base_url=server.base_url,
        api_key="sk-test-not-a-real-key",
        fixtures_mode="off",
        backoff_initial=0.01,
        backoff_max=0.05,
        request_timeout=10,
    )
    settings.update(overrides)
    return Extractor(**settings)
