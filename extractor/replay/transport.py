"""Transports that answer from fixtures, record what the provider answers, or both.

`Recorder` holds every decision; the sync and async transports only differ in how they
read bodies and call the provider underneath.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx2

from ..errors import ConfigError
from .context import current_article_id, note_replayed
from .explain import replay_miss
from .record import Exchange, build_record, response_of
from .store import FixtureStore

REPLAY_MODES = ("replay", "record-missing")


class Recorder:
    def __init__(
        self,
        store: FixtureStore,
        *,
        mode: str,
        provider: str,
        inner: Callable[[], Any],
        origin: str = "recorded",
        note: str | None = None,
    ) -> None:
        self.store = store
        self.mode = mode
        self.provider = provider
        self.origin = origin
        self.note = note
        self._inner_factory = inner
        self._inner: Any = None
        self._lock = threading.Lock()

    def inner(self) -> Any:
        """The provider's transport, built on first use: replay never builds (or loads) a model."""
        with self._lock:
            if self._inner is None:
                self._inner = self._inner_factory()
                if self._inner is None:
                    raise ConfigError(
                        f"provider {self.provider!r} cannot answer requests in fixtures mode {self.mode!r}"
                    )
            return self._inner

    def answer(self, request: httpx2.Request, exchange: Exchange) -> httpx2.Response | None:
        """The stored response, None when the provider must be asked; a strict replay miss raises."""
        note_replayed(None)
        if self.mode in REPLAY_MODES:
            fixture = self.store.get(exchange.key)
            if fixture is not None:
                note_replayed(fixture.path)
                return response_of(fixture.data, request, source=fixture.path)
        if self.mode == "replay":
            raise replay_miss(self.store, exchange, current_article_id())
        return None

    def keep(self, exchange: Exchange, response: httpx2.Response) -> httpx2.Response:
        # Only model answers are stored. A 429 or 5xx is an outage (the transport retry sends
        # the same key again and the answer that follows is stored); a 401, 400 or 404 is a
        # refusal that, once stored, record-missing would replay forever after the key is fixed.
        if response.is_success:
            article_id = current_article_id()
            record = build_record(
                exchange, response, provider=self.provider, origin=self.origin, note=self.note, article_id=article_id
            )
            self.store.put(record, label=article_id or _label(exchange))
        return response

    def built_inner(self) -> Any:
        """The provider transport if one was built (for closing), else None."""
        return self._inner


def _label(exchange: Exchange) -> str:
    sha = exchange.facts.article_sha256
    return f"sha256-{sha[:16]}" if sha else "request"


def _detached(response: httpx2.Response, request: httpx2.Request) -> httpx2.Response:
    """A read copy of the provider's response, so the stored and returned bodies are the same bytes."""
    headers = [
        (k, v) for k, v in response.headers.multi_items() if k.lower() not in ("content-encoding", "content-length")
    ]
    return httpx2.Response(response.status_code, headers=headers, content=response.content, request=request)


class FixtureTransport(httpx2.BaseTransport):
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        exchange = Exchange.of(request)
        stored = self.recorder.answer(request, exchange)
        if stored is not None:
            return stored
        response = self.recorder.inner().handle_request(request)
        try:
            response.read()
        finally:
            response.close()
        return self.recorder.keep(exchange, _detached(response, request))

    def close(self) -> None:
        inner = self.recorder.built_inner()
        if inner is not None and hasattr(inner, "close"):
            inner.close()


class AsyncFixtureTransport(httpx2.AsyncBaseTransport):
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        exchange = Exchange.of(request)
        stored = self.recorder.answer(request, exchange)
        if stored is not None:
            return stored
        response = await self.recorder.inner().handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        return self.recorder.keep(exchange, _detached(response, request))

    async def aclose(self) -> None:
        inner = self.recorder.built_inner()
        if inner is not None and hasattr(inner, "aclose"):
            await inner.aclose()
