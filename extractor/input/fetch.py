"""Fetching pages, feeds and sitemaps as a good citizen, and never from where we must not.

`Fetcher.get(url)` returns the body of one URL or raises `FetchError` naming the URL and the
HTTP status or network reason. On the way:

- the address policy (`safety.py`) judges every address a connection is opened to, after DNS
  resolution, for the first request and for every redirect hop; the connection is made to
  the address that was judged;
- robots.txt is honoured (the stdlib parser fed with the robots.txt fetched through this same
  fetcher; a missing one allows everything, an unreachable one (5xx) refuses, as RFC 9309
  says), with its Crawl-delay when longer than our own pace;
- each host gets at most `rate` requests a second (robots.txt included), independent of how
  many model calls run;
- 429 and 5xx answers and network faults are retried with exponential backoff, honouring
  Retry-After up to `retry_after_max`;
- a page already in the cache is asked for with `If-None-Match` / `If-Modified-Since`, and a
  304 takes the cached body;
- redirects are followed by hand (at most `max_redirects`), the content type is checked
  before the body is read, and the body is read as a stream and decompressed here, counting
  decompressed bytes, so a large page or a decompression bomb stops at `max_bytes`;
- no cookie is kept, no proxy from the environment is used.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import re
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpcore2
import httpx2
from aiolimiter import AsyncLimiter
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from .._version import __version__
from ..errors import Cause, InputError
from .fetch_cache import FetchCache
from .safety import AddressPolicy, AddressRefused, check_scheme

HTML_TYPES = ("text/html", "application/xhtml+xml")
XML_TYPES = ("application/xml", "text/xml", "application/rss+xml", "application/atom+xml", "application/rdf+xml")
GZIP_TYPES = ("application/gzip", "application/x-gzip")
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
MAX_CRAWL_DELAY = 60.0


class FetchSettings(BaseSettings):
    """How URLs are fetched; each setting also reads `EXTRACTOR_FETCH_<NAME>` (and `.env`)."""

    model_config = SettingsConfigDict(
        env_prefix="EXTRACTOR_FETCH_", env_file=".env", extra="ignore", env_ignore_empty=True
    )

    user_agent: str = Field(default=f"extractor/{__version__} (news extraction)", min_length=1)
    timeout: float = Field(default=20.0, gt=0, description="connect, read and write timeout, each, in seconds")
    deadline: float = Field(default=90.0, gt=0, description="longest one attempt at a URL may take, in seconds")
    max_bytes: int = Field(default=10_000_000, ge=1, description="largest body read, after decompression")
    max_redirects: int = Field(default=5, ge=0, le=20)
    rate: float = Field(default=1.0, gt=0, description="requests a second to one host")
    retries: int = Field(default=3, ge=0, le=10, description="retries of 429, 5xx and network faults")
    backoff_initial: float = Field(default=1.0, ge=0)
    backoff_max: float = Field(default=30.0, ge=0)
    retry_after_max: float = Field(default=120.0, ge=0, description="longest Retry-After honoured; longer gives up")
    concurrency: int = Field(default=8, ge=1, le=256, description="URLs fetched at once, over all hosts")
    max_urls: int = Field(default=1000, ge=1, description="most article URLs taken from one feed or sitemap")
    robots: bool = Field(default=True, description="honour robots.txt")
    allow_private: bool = False
    allow_networks: list[str] = Field(default_factory=list)


class FetchError(InputError):
    """A URL could not be fetched: its HTTP status (`status`), or the network's reason."""

    cause = Cause.FETCH

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Fetched:
    """One fetched body: where it was asked for, where it came from after redirects, and what it is."""

    url: str
    final_url: str
    media_type: str
    charset: str | None
    body: bytes
    revalidated: bool = False  # a 304: the body is the cached copy

    def text(self) -> str:
        """The body decoded by its declared charset (header, then `<meta charset>`), else UTF-8."""
        for charset in (self.charset, _sniffed_charset(self.body), "utf-8"):
            if charset:
                try:
                    return self.body.decode(charset)
                except (LookupError, UnicodeDecodeError):
                    continue
        return self.body.decode("utf-8", errors="replace")


def _sniffed_charset(body: bytes) -> str | None:
    match = re.search(rb"""<meta[^>]+charset=["']?([\w-]+)|<\?xml[^>]+encoding=["']([\w-]+)""", body[:4096], re.I)
    return (match.group(1) or match.group(2)).decode("ascii") if match else None


class _GuardedBackend(httpcore2.AsyncNetworkBackend):
    """Opens TCP connections only to addresses the policy allows, to the very address it judged."""

    def __init__(self, policy: AddressPolicy, resolve_timeout: float) -> None:
        self.policy = policy
        self.resolve_timeout = resolve_timeout
        self.inner = httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        try:
            async with asyncio.timeout(self.resolve_timeout):  # wait_for may drop a cancellation (3.11)
                addresses = await self.policy.resolve(host, port)
        except TimeoutError:
            raise httpcore2.ConnectTimeout(f"resolving {host} timed out") from None
        error: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore2.AsyncNetworkStream:
        raise httpcore2.ConnectError("unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def guarded_transport(policy: AddressPolicy, *, timeout: float, connections: int) -> httpx2.AsyncHTTPTransport:
    """An httpx transport whose every connection goes through the address policy, without proxies."""
    transport = httpx2.AsyncHTTPTransport(trust_env=False)
    # The pool is the transport's own attribute: replaced so that connections use our backend.
    transport._pool = httpcore2.AsyncConnectionPool(
        ssl_context=httpx2.create_ssl_context(trust_env=False),
        max_connections=connections,
        max_keepalive_connections=connections,
        keepalive_expiry=5.0,
        network_backend=_GuardedBackend(policy, timeout),
    )
    return transport


def _no_cookies() -> http.cookiejar.CookieJar:
    return http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _media_type(content_type: str) -> tuple[str, str | None]:
    """(media type in lower case, charset) of a Content-Type value."""
    media, _, params = content_type.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, raw = param.strip().partition("=")
        if name.lower() == "charset" and raw:
            charset = raw.strip("\"' ")
    return media.strip().lower(), charset


def _wait(fallback: Any) -> Any:
    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, _Retryable) and error.retry_after is not None:
            return error.retry_after
        return float(fallback(state))

    return wait


class Fetcher:
    """One HTTP client for a run: use as `async with Fetcher(settings, cache=...) as fetcher`."""

    def __init__(self, settings: FetchSettings | None = None, *, cache: FetchCache | None = None) -> None:
        self.settings = settings or FetchSettings()
        self.policy = AddressPolicy.of(
            allow_private=self.settings.allow_private, allow_networks=self.settings.allow_networks
        )
        self.cache = cache
        self.stats: Counter[str] = Counter()  # requests, not_modified, downloaded_bytes
        self._client: httpx2.AsyncClient | None = None
        self._limiters: dict[str, AsyncLimiter] = {}
        self._robots: dict[str, RobotFileParser | str] = {}  # the parsed file, or why there is none
        self._robots_locks: dict[str, asyncio.Lock] = {}

    async def __aenter__(self) -> Fetcher:
        s = self.settings
        self._client = httpx2.AsyncClient(
            transport=guarded_transport(self.policy, timeout=s.timeout, connections=s.concurrency * 2),
            timeout=httpx2.Timeout(s.timeout),
            follow_redirects=False,
            trust_env=False,
            cookies=_no_cookies(),
            headers={"user-agent": s.user_agent, "accept-encoding": "gzip, deflate"},
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def get(self, url: str, *, accept: tuple[str, ...] = HTML_TYPES) -> Fetched:
        """The body of `url` (any content type when `accept` is empty); else `FetchError`."""
        try:
            check_scheme(url)
            if self.settings.robots:
                await self._check_robots(url)
            return await self._retrying(url, accept, robots=self.settings.robots)
        except AddressRefused as exc:
            # Refused at the first request or at a redirect: either way, this URL's failure.
            raise FetchError(f"{url}: {exc}" if not str(exc).startswith(url) else str(exc)) from None

    async def _retrying(self, url: str, accept: tuple[str, ...], *, robots: bool) -> Fetched:
        s = self.settings
        retrying = AsyncRetrying(
            stop=stop_after_attempt(s.retries + 1),
            wait=_wait(
                wait_exponential_jitter(multiplier=s.backoff_initial, max=s.backoff_max, jitter=s.backoff_initial)
            ),
            retry=retry_if_exception_type(_Retryable),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    try:
                        async with asyncio.timeout(s.deadline):  # wait_for may drop a cancellation (3.11)
                            return await self._follow(url, accept, robots=robots)
                    except TimeoutError:
                        raise _Retryable(f"no complete answer within {s.deadline:g} s") from None
                    except httpx2.TimeoutException as exc:
                        raise _Retryable(f"timed out ({type(exc).__name__})") from None
                    except (httpx2.NetworkError, httpx2.RemoteProtocolError) as exc:
                        raise _Retryable(f"network error ({exc or type(exc).__name__})") from None
        except _Retryable as exc:
            attempts = s.retries + 1
            raise FetchError(f"{url}: {exc}" + (f" (after {attempts} attempts)" if attempts > 1 else "")) from None
        raise AssertionError("unreachable: tenacity either returns or raises")

    async def _follow(self, url: str, accept: tuple[str, ...], *, robots: bool) -> Fetched:
        assert self._client is not None, "use the Fetcher as an async context manager"
        current = url
        for _ in range(self.settings.max_redirects + 1):
            check_scheme(current)
            if robots and _origin(current) != _origin(url):
                await self._check_robots(current)  # a redirect to another host: that host's rules
            cached = self.cache.get(current) if self.cache is not None else None
            await self._limiter(current).acquire()
            request = self._client.build_request("GET", current, headers=cached.validators() if cached else None)
            self.stats["requests"] += 1
            response = await self._client.send(request, stream=True)
            try:
                location = response.headers.get("location")
                if response.status_code in REDIRECT_STATUS and location:
                    current = urljoin(current, location)
                    continue
                return await self._answer(url, current, response, cached, accept)
            finally:
                await response.aclose()
        raise FetchError(f"{url}: more than {self.settings.max_redirects} redirects")

    async def _answer(
        self, url: str, current: str, response: httpx2.Response, cached: Any, accept: tuple[str, ...]
    ) -> Fetched:
        status = response.status_code
        if status == 304 and cached is not None:
            self.stats["not_modified"] += 1
            media, charset = _media_type(cached.content_type)
            return Fetched(url, current, media, charset, cached.body, revalidated=True)
        if status in RETRY_STATUS:
            self._retry_after_or_give_up(url, response)
        if not 200 <= status < 300:
            raise FetchError(f"{url}: HTTP {status} {response.reason_phrase}".rstrip(), status=status)
        media, charset = _media_type(response.headers.get("content-type", ""))
        if accept and media not in accept:
            raise FetchError(f"{url}: content type {media or 'missing'}, not {' or '.join(accept)}")
        body = await self._read_body(url, response)
        if self.cache is not None:
            self.cache.put(
                current,
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                content_type=response.headers.get("content-type", media),
                body=body,
            )
        return Fetched(url, current, media, charset, body)

    def _retry_after_or_give_up(self, url: str, response: httpx2.Response) -> None:
        from ..model_call.retry import retry_after_seconds

        reason = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
        asked = retry_after_seconds(response)
        if asked is not None and asked > self.settings.retry_after_max:
            raise FetchError(
                f"{url}: {reason}, Retry-After {asked:g} s is over the {self.settings.retry_after_max:g} s we wait"
            )
        raise _Retryable(reason, asked)

    async def _read_body(self, url: str, response: httpx2.Response) -> bytes:
        limit = self.settings.max_bytes
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding in ("gzip", "x-gzip", "deflate"):
            # wbits 47: a zlib or gzip header, whichever the server sent.
            decompressor: Any = zlib.decompressobj(47)
        elif encoding in ("", "identity"):
            decompressor = None
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise FetchError(f"{url}: {int(declared):,} bytes, over the {limit:,}-byte limit (not read)")
        else:
            raise FetchError(f"{url}: unsupported content encoding {encoding!r}")
        body = bytearray()
        try:
            async for chunk in response.aiter_raw():
                self.stats["downloaded_bytes"] += len(chunk)
                # max_length: a small compressed chunk can never inflate past the limit in memory.
                body += decompressor.decompress(chunk, limit + 1 - len(body)) if decompressor else chunk
                if len(body) > limit:
                    raise FetchError(f"{url}: over the {limit:,}-byte limit (stopped reading)")
        except zlib.error as exc:
            raise FetchError(f"{url}: broken {encoding} body ({exc})") from None
        return bytes(body)

    def _limiter(self, url: str) -> AsyncLimiter:
        origin = _origin(url)
        if origin not in self._limiters:
            self._limiters[origin] = AsyncLimiter(1, 1.0 / self.settings.rate)
        return self._limiters[origin]

    async def _check_robots(self, url: str) -> None:
        origin = _origin(url)
        lock = self._robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:
            if origin not in self._robots:
                self._robots[origin] = await self._read_robots(origin)
        robots = self._robots[origin]
        if isinstance(robots, str):
            raise FetchError(f"{url}: {robots}")
        if not robots.can_fetch(self.settings.user_agent, url):
            raise FetchError(f"{url}: disallowed by {origin}/robots.txt (--ignore-robots to fetch anyway)")

    async def _read_robots(self, origin: str) -> RobotFileParser | str:
        """The host's robots.txt, or why nothing on the host is to be fetched (asked once per run)."""
        parser = RobotFileParser(f"{origin}/robots.txt")
        try:
            fetched = await self._retrying(f"{origin}/robots.txt", (), robots=False)
        except FetchError as exc:
            # RFC 9309: a robots.txt that does not exist (4xx) allows everything; one the site
            # cannot serve (5xx, network) means it may not want visitors now: fetch nothing.
            if exc.status is not None and 400 <= exc.status < 500:
                parser.parse([])  # no rules: everything allowed
                return parser
            return f"{origin}/robots.txt unreachable, so nothing on {origin} is fetched ({exc})"
        parser.parse(fetched.body.decode("utf-8", errors="replace").splitlines())
        delay = parser.crawl_delay(self.settings.user_agent)
        if delay is not None and float(delay) > 1.0 / self.settings.rate:
            self._limiters[origin] = AsyncLimiter(1, min(float(delay), MAX_CRAWL_DELAY))
        return parser
