"""Readiness: can this process do its work now? The model server, the database, the state folder.

The model server is probed with a cheap request (`GET {base_url}/models`, the provider's key
as usual), at most once every `ttl` seconds: a probe answer, good or bad, is reused meanwhile,
so a load balancer polling `/readyz` never turns into load on the model server. Any HTTP
answer but a refusal of the key (401/403) or a server error (5xx) means it is reachable (a
server without `/models` answers 404, and still serves completions). In-process providers
(the bundled model, replay) have no server to probe.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx

from ..errors import ConfigError
from ..model_call.client import OPENAI_DEFAULT_BASE_URL
from ..settings import Settings
from .db import Database

PROBE_TIMEOUT = 2.0


class ModelServerProbe:
    def __init__(self, settings: Settings, ttl: float) -> None:
        self.settings = settings
        self.ttl = ttl
        self._checked = -float("inf")
        self._problem: str | None = None
        self._lock = asyncio.Lock()

    async def problem(self) -> str | None:
        """None when the model server answers, else why it cannot be used (cached for `ttl`)."""
        async with self._lock:  # one probe at a time; those waiting reuse its answer
            if time.monotonic() - self._checked >= self.ttl:
                self._problem = await self._probe()
                self._checked = time.monotonic()
            return self._problem

    async def _probe(self) -> str | None:
        settings = self.settings
        try:
            provider = settings.resolved_provider()
        except ConfigError as error:
            return str(error)
        if provider != "openai" or settings.fixtures_mode == "replay":
            return None
        base_url = (settings.base_url or OPENAI_DEFAULT_BASE_URL).rstrip("/")
        key = settings.api_key.get_secret_value() if settings.api_key else ""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        try:
            async with httpx.AsyncClient(timeout=PROBE_TIMEOUT) as client:
                answer = await client.get(f"{base_url}/models", headers=headers)
        except httpx.HTTPError as error:
            reason = type(error).__name__
            return f"the model server at {base_url} cannot be reached ({reason})"
        if answer.status_code in (401, 403):
            return f"the model server at {base_url} refuses the API key (HTTP {answer.status_code})"
        if answer.status_code >= 500:
            return f"the model server at {base_url} fails (HTTP {answer.status_code})"
        return None


def state_writable(state_dir: Path) -> str | None:
    """None when the state folder can be written, else why not."""
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        probe = state_dir / f".probe-{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return f"state folder {state_dir} is not writable: {exc.strerror}"
    return None


def database_problem(db: Database) -> str | None:
    try:
        db.ping()
    except Exception as error:
        return f"the service database cannot be read ({type(error).__name__})"
    return None
