"""The async HTTP transport under the SDK: aiohttp, as the openai SDK's `aiohttp` extra ships it.

aiohttp parses HTTP in C where httpcore's pool and parser are pure Python, and every
microsecond spent on the event loop delays the other requests in flight (the difference is
measured in bench/README.md). The SDK's own transport (`openai._vendor.httpx_aiohttp`) speaks
httpx2's transport interface; this module evens out where it differs from httpx:
- an aiohttp session belongs to the event loop it was made in: ours is made on the first
  request, inside the running loop;
- aiohttp complains ("Unclosed client session") about a session that is garbage-collected
  open. An extractor that is dropped without `aclose()` releases its connections quietly,
  as it did over httpx;
- errors: the SDK's transport calls every lost connection a connect timeout; ours raises
  what httpx raises, so retries and failure reasons read the same on both paths;
- HTTPS trusts what httpx trusts, and proxies come from the environment.

The SDK's transport is a private module: `async_transport` looks it up each time a client is
opened, and if it has moved, httpx2's own async transport is used instead (one
`InternalsFallbackWarning` says so).
"""

from __future__ import annotations

import urllib.request
import weakref
from typing import Any

import aiohttp
import httpx2

from .fallback import fall_back

SPEEDUP = "the aiohttp transport"


def _sdk_transport_class() -> Any:
    """The SDK's aiohttp transport class (private), or None when it has moved."""
    try:
        from openai._vendor.httpx_aiohttp.transport import AiohttpTransport
    except ImportError:
        fall_back(SPEEDUP, "openai._vendor.httpx_aiohttp.transport.AiohttpTransport")
        return None
    return AiohttpTransport


def async_transport() -> httpx2.AsyncBaseTransport:
    """The async transport for a real server: over aiohttp, or httpx2's own when the SDK's has moved."""
    sdk_transport = _sdk_transport_class()
    if sdk_transport is None:
        unbounded = httpx2.Limits(max_connections=None, max_keepalive_connections=None)
        return httpx2.AsyncHTTPTransport(limits=unbounded)
    return AsyncAiohttpTransport(sdk_transport)


class AsyncAiohttpTransport(httpx2.AsyncBaseTransport):
    """httpx2's async transport interface over one aiohttp session with an unbounded pool.

    Concurrency is bounded by the caller (batch --concurrency), not by a hidden pool limit;
    proxies come from the environment (HTTPS_PROXY, NO_PROXY, ...), as with httpx.
    `sdk_transport` is the SDK's aiohttp transport class (see `async_transport`).
    """

    def __init__(self, sdk_transport: Any = None) -> None:
        self._sdk_transport = sdk_transport or _sdk_transport_class()
        self._inner: Any = None
        self._release: weakref.finalize[..., Any] | None = None

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if self._inner is None:
            # Asked per request, the environment's proxy settings cost a thread hop each (about
            # 60 ms at concurrency 32 here): only a process that has proxies set pays for them.
            trust_env = bool(urllib.request.getproxies())
            # httpx's trust store (certifi, or SSL_CERT_FILE / SSL_CERT_DIR): HTTPS verifies
            # against the same certificates on the sync and the async path.
            connector = aiohttp.TCPConnector(limit=0, ssl=httpx2.create_ssl_context())
            session = aiohttp.ClientSession(connector=connector, trust_env=trust_env)
            self._inner = self._sdk_transport(client=session)
            self._release = weakref.finalize(self, _release_quietly, session)
        try:
            response: httpx2.Response = await self._inner.handle_async_request(request)
            await response.aread()  # read here, so a cut-off body is mapped below too
        except httpx2.TransportError as error:
            raise _as_httpx_error(error, request) from error.__cause__
        return response

    async def aclose(self) -> None:
        inner, self._inner = self._inner, None
        if self._release is not None:
            self._release.detach()
            self._release = None
        if inner is not None:
            # A session whose loop has ended closes without I/O: its sockets went with the loop.
            await inner.aclose()


def _as_httpx_error(error: httpx2.TransportError, request: httpx2.Request) -> httpx2.TransportError:
    """The error httpx itself raises for the same fault.

    The SDK's aiohttp transport turns every `ClientConnectionError` into a `ConnectTimeout`,
    so a refused connection, a dropped one or an untrusted certificate would all read "timed
    out". What the SDK and our retries make of an error depends on its httpx class.
    """
    cause = error.__cause__
    message = str(cause or error) or type(cause or error).__name__
    if isinstance(cause, aiohttp.ClientConnectorError):  # refused, unresolvable, TLS refused
        return httpx2.ConnectError(message, request=request)
    if isinstance(cause, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError)):
        return httpx2.RemoteProtocolError(message, request=request)
    if isinstance(cause, aiohttp.ClientOSError):  # reset by peer, broken pipe
        return httpx2.ReadError(message, request=request)
    return error


def _release_quietly(session: aiohttp.ClientSession) -> None:
    """Shut a dropped session's sockets and mark it closed, without awaiting (there may be no loop)."""
    connector = session.connector
    close_now = getattr(connector, "_close", None)  # private to aiohttp: without it, the sockets go with the loop
    if connector is not None and not connector.closed and callable(close_now):
        # The synchronous part of `await connector.close()`: it closes every transport; what
        # is left to await is only their goodbye, which a dropped session cannot wait for.
        close_now()
    session.detach()
