"""A caller's own transport (`Extractor(http_transport=...)`), as the SDK's HTTP client needs it.

The openai SDK sends its requests through httpx2. Callers mostly hold httpx transports
(`httpx.MockTransport` in tests, `httpx.HTTPTransport(...)` with their own settings): those
are adapted here, request and response copied across whole (bodies as sent, undecoded), and
httpx's transport errors raised as httpx2's of the same name, so retries and failure causes
read the same. An httpx2 transport is used as it is. The adapter serves sync calls when the
transport has `handle_request` (an `httpx.BaseTransport`) and async calls when it has
`handle_async_request`; `httpx.MockTransport` has both.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

import httpx2

from ..errors import ConfigError


@runtime_checkable
class SyncTransportLike(Protocol):
    """A sync httpx or httpx2 transport."""

    def handle_request(self, request: Any) -> Any: ...


@runtime_checkable
class AsyncTransportLike(Protocol):
    """An async httpx or httpx2 transport."""

    async def handle_async_request(self, request: Any) -> Any: ...


CallerTransport = SyncTransportLike | AsyncTransportLike
"""What `Extractor(http_transport=...)` accepts: an httpx or httpx2 transport, sync, async or both."""

HttpxTransport = httpx2.BaseTransport | httpx2.AsyncBaseTransport


def as_httpx2(transport: CallerTransport) -> HttpxTransport:
    """`transport` if it is an httpx2 transport; an httpx one adapted to httpx2; else a `ConfigError`."""
    if isinstance(transport, (httpx2.BaseTransport, httpx2.AsyncBaseTransport)):
        return transport
    try:
        import httpx  # not a dependency: only there when the caller made a transport with it
    except ImportError:
        httpx = None  # type: ignore[assignment]
    if httpx is None or not isinstance(transport, (httpx.BaseTransport, httpx.AsyncBaseTransport)):
        raise ConfigError(
            "http_transport must be an httpx or httpx2 transport (httpx.MockTransport, httpx.HTTPTransport, ...), "
            f"not {type(transport).__name__}"
        )
    sync = isinstance(transport, httpx.BaseTransport)
    async_ = isinstance(transport, httpx.AsyncBaseTransport)
    adapter = _FromHttpxBoth if sync and async_ else _FromHttpxSync if sync else _FromHttpxAsync
    return adapter(transport, httpx)


class _FromHttpx:
    def __init__(self, transport: Any, httpx: ModuleType) -> None:
        self.transport = transport
        self.httpx = httpx

    def _request(self, request: httpx2.Request) -> Any:
        """The httpx request carrying what `request` (already read) carries."""
        extensions = {"timeout": request.extensions["timeout"]} if "timeout" in request.extensions else {}
        return self.httpx.Request(
            request.method,
            str(request.url),
            headers=request.headers.multi_items(),
            content=request.content,
            extensions=extensions,
        )

    @staticmethod
    def _response(response: Any, raw: bytes | None, request: httpx2.Request) -> httpx2.Response:
        """The httpx2 response: the raw (still encoded) body with its own headers, which httpx2
        decodes as httpx would; or, for a response built already read (`httpx.Response(json=...)`
        in a mock), its decoded content without the headers that described the encoding."""
        headers = response.headers.multi_items()
        if raw is None:
            raw = response.content
            headers = [(k, v) for k, v in headers if k.lower() not in ("content-encoding", "content-length")]
        return httpx2.Response(response.status_code, headers=headers, content=raw, request=request)

    @contextmanager
    def _errors_as_httpx2(self, request: httpx2.Request) -> Iterator[None]:
        """Raise httpx's transport errors as httpx2's of the same name (ConnectError, ReadTimeout, ...)."""
        try:
            yield
        except self.httpx.TransportError as error:
            same = getattr(httpx2, type(error).__name__, None)
            kind = same if isinstance(same, type) and issubclass(same, httpx2.TransportError) else httpx2.TransportError
            raise kind(str(error), request=request) from error


class _FromHttpxSync(_FromHttpx, httpx2.BaseTransport):
    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        with self._errors_as_httpx2(request):
            response = self.transport.handle_request(self._request(request))
            try:
                raw = None if response.is_stream_consumed else b"".join(response.iter_raw())
            finally:
                response.close()
        return self._response(response, raw, request)


class _FromHttpxAsync(_FromHttpx, httpx2.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        with self._errors_as_httpx2(request):
            response = await self.transport.handle_async_request(self._request(request))
            try:
                raw = None if response.is_stream_consumed else b"".join([c async for c in response.aiter_raw()])
            finally:
                await response.aclose()
        return self._response(response, raw, request)


class _FromHttpxBoth(_FromHttpxSync, _FromHttpxAsync):
    """An httpx transport with both interfaces (`httpx.MockTransport`): serves sync and async calls."""
