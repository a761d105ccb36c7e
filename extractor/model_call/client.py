"""Building the instructor-patched openai clients for a provider, and holding them open.

Providers differ only in the HTTP transport under the SDK: a real server (openai and every
OpenAI-compatible one), the in-process local model, recorded fixtures, or a caller's own
transport. The SDK's own retries are off; transport retries happen once, in
`RetryingTransport`. A caller's own openai client is only wrapped with instructor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, overload

import httpx2
import instructor
import openai

from ..errors import ConfigError, ProviderUnavailable
from ..settings import ResolvedProvider, Settings
from . import instructor_patch
from .caller_transport import CallerTransport, HttpxTransport, as_httpx2
from .retry import Throttle
from .strict_schema import async_strict_create, strict_create, uses_strict_schema
from .transport import AsyncRetryingTransport, RetryingTransport, RetryOptions

if TYPE_CHECKING:
    from ..local import LocalModel


class AnswerLayer(Protocol):
    """A transport layer put between what answers (fixtures, the server) and the retries and
    metering above it, so what it answers is retried, metered and validated like a live answer.

    Engines bring their own (the Batch API engine answers from its batches this way): the
    model call never imports an engine.
    """

    def __call__(self, transport: Any, *, is_async: bool) -> Any: ...


OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Local and replay never leave the process; the SDK still wants a URL and a key.
IN_PROCESS_BASE_URL = "http://in-process.invalid/v1"
IN_PROCESS_API_KEY = "in-process-no-key"

INSTRUCTOR_MODES = {
    "tools": instructor.Mode.TOOLS,
    "json_schema": instructor.Mode.JSON_SCHEMA,
    "json": instructor.Mode.JSON,
    "md_json": instructor.Mode.MD_JSON,
}


def effective_mode(settings: Settings, provider: ResolvedProvider) -> str:
    """The instructor mode actually used: the local model always answers a JSON schema."""
    # Grammar-constrained decoding in llama.cpp works from a JSON schema, not from tool definitions.
    return "json_schema" if provider == "local" else settings.mode


def strict_schema_for(settings: Settings, provider: ResolvedProvider, *, base_url: str | None = None) -> bool:
    """Whether this provider's requests use OpenAI strict structured outputs (see `strict_schema`).

    `base_url` is where the requests go when a caller's own client says so; else the setting's,
    else api.openai.com for the openai provider (replay and local answer in-process).
    """
    url = base_url or settings.base_url or (OPENAI_DEFAULT_BASE_URL if provider == "openai" else IN_PROCESS_BASE_URL)
    return uses_strict_schema(
        settings.strict_schema, provider=provider, base_url=url, mode=effective_mode(settings, provider)
    )


def _local_model(settings: Settings) -> LocalModel:
    from ..local import LocalModel

    return LocalModel(
        settings.local_model_path,
        n_ctx=settings.local_n_ctx,
        n_threads=settings.local_n_threads,
        max_tokens=settings.local_max_tokens,
        constrain=settings.local_constrain,
    )


class _Borrowed(httpx2.BaseTransport, httpx2.AsyncBaseTransport):
    """A caller's transport, used but never closed: whoever opened it closes it."""

    def __init__(self, transport: HttpxTransport) -> None:
        self.transport = transport

    # ModelClients checks the kind before opening a client; the asserts only narrow the type.
    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        assert isinstance(self.transport, httpx2.BaseTransport)
        return self.transport.handle_request(request)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        assert isinstance(self.transport, httpx2.AsyncBaseTransport)
        return await self.transport.handle_async_request(request)

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


def _base_transport(
    settings: Settings, provider: ResolvedProvider, *, is_async: bool, http_transport: HttpxTransport | None
) -> Any:
    """The innermost transport: what actually answers a request."""
    if http_transport is not None:
        return _Borrowed(http_transport)
    if provider == "local":
        from ..local import AsyncLocalTransport, LocalTransport

        model = _local_model(settings)
        return AsyncLocalTransport(model) if is_async else LocalTransport(model)
    if provider == "replay":
        return None
    if is_async:
        from .aiohttp_transport import async_transport

        return async_transport()
    # Concurrency is bounded by the caller, not by a hidden pool limit.
    return httpx2.HTTPTransport(limits=httpx2.Limits(max_connections=None, max_keepalive_connections=None))


def build_transport(
    settings: Settings,
    provider: ResolvedProvider,
    *,
    is_async: bool,
    throttle: Throttle | None = None,
    http_transport: HttpxTransport | None = None,
    layers: Sequence[AnswerLayer] = (),
) -> RetryingTransport | AsyncRetryingTransport:
    """Retries and metering over the engines' `layers` over fixtures (per `fixtures_mode`) over what answers."""
    from ..replay import wrap_transport

    def inner() -> Any:
        return _base_transport(settings, provider, is_async=is_async, http_transport=http_transport)

    fixtures_mode = "replay" if provider == "replay" else settings.fixtures_mode
    answering = wrap_transport(
        inner,
        mode=fixtures_mode,
        fixtures_dir=settings.fixtures_dir,
        provider=provider,
        is_async=is_async,
    )
    for layer in layers:
        # Above the fixtures, below retries and metering: what a layer answers is metered like a live answer.
        answering = layer(answering, is_async=is_async)
    options = RetryOptions.from_settings(settings)
    if is_async:
        return AsyncRetryingTransport(answering, options, throttle)
    return RetryingTransport(answering, options, throttle)


def checked_base_url(url: str) -> str:
    """`url` when it is an http(s) URL with a host; a `ConfigError` (exit 3) otherwise."""
    try:
        parsed = httpx2.URL(url)
    except (httpx2.InvalidURL, TypeError, ValueError) as exc:
        raise ConfigError(f"base URL {url!r} (--base-url or OPENAI_BASE_URL) is not a valid URL ({exc})") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError(
            f"base URL {url!r} (--base-url or OPENAI_BASE_URL) is not a valid URL (use http://host[:port]/v1 or https://...)"
        )
    return url


def _credentials(settings: Settings, provider: ResolvedProvider, *, own_transport: bool) -> tuple[str, str]:
    if settings.base_url is not None:
        checked_base_url(settings.base_url)
    if provider != "openai":
        return IN_PROCESS_API_KEY, settings.base_url or IN_PROCESS_BASE_URL
    key = settings.api_key.get_secret_value() if settings.api_key else ""
    from ..replay.redact import remember_secret

    remember_secret(key)
    if not key:
        if settings.base_url or own_transport:
            # Local OpenAI-compatible servers (Ollama, vLLM, llama.cpp) usually ignore the key;
            # a caller's transport answers however it likes.
            key = "no-key"
        elif settings.fixtures_mode != "replay":
            raise ProviderUnavailable(
                "the openai provider needs OPENAI_API_KEY (or --base-url for a compatible server)"
            )
        else:
            key = IN_PROCESS_API_KEY
    return key, settings.base_url or OPENAI_DEFAULT_BASE_URL


def instructor_mode(settings: Settings, provider: ResolvedProvider) -> instructor.Mode:
    """The instructor mode for `settings.mode` on this provider."""
    return INSTRUCTOR_MODES[effective_mode(settings, provider)]


@overload
def open_openai(
    settings: Settings,
    provider: ResolvedProvider,
    *,
    is_async: Literal[False],
    throttle: Throttle | None = None,
    http_transport: HttpxTransport | None = None,
    layers: Sequence[AnswerLayer] = (),
) -> openai.OpenAI: ...


@overload
def open_openai(
    settings: Settings,
    provider: ResolvedProvider,
    *,
    is_async: Literal[True],
    throttle: Throttle | None = None,
    http_transport: HttpxTransport | None = None,
    layers: Sequence[AnswerLayer] = (),
) -> openai.AsyncOpenAI: ...


@overload
def open_openai(
    settings: Settings,
    provider: ResolvedProvider,
    *,
    is_async: bool,
    throttle: Throttle | None = None,
    http_transport: HttpxTransport | None = None,
    layers: Sequence[AnswerLayer] = (),
) -> openai.OpenAI | openai.AsyncOpenAI: ...


def open_openai(
    settings: Settings,
    provider: ResolvedProvider,
    *,
    is_async: bool,
    throttle: Throttle | None = None,
    http_transport: HttpxTransport | None = None,
    layers: Sequence[AnswerLayer] = (),
) -> openai.OpenAI | openai.AsyncOpenAI:
    """An openai SDK client over our transports, with SDK retries off; the caller closes it.

    `http_transport` (a caller's) answers in place of the provider's; retries, metering and
    fixtures still wrap it, and closing the client leaves it open.
    """
    api_key, base_url = _credentials(settings, provider, own_transport=http_transport is not None)
    transport = build_transport(
        settings, provider, is_async=is_async, throttle=throttle, http_transport=http_transport, layers=layers
    )
    timeout = httpx2.Timeout(settings.request_timeout, connect=min(10.0, settings.request_timeout))
    if isinstance(transport, AsyncRetryingTransport):
        async_http = httpx2.AsyncClient(transport=transport, timeout=timeout)
        return openai.AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0, http_client=async_http)
    sync_http = httpx2.Client(transport=transport, timeout=timeout)
    return openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=0, http_client=sync_http)


@overload
def wrap_client(
    client: openai.OpenAI,
    settings: Settings,
    provider: ResolvedProvider,
    *,
    direct: bool = False,
    strict: bool = False,
) -> instructor.Instructor: ...


@overload
def wrap_client(
    client: openai.AsyncOpenAI,
    settings: Settings,
    provider: ResolvedProvider,
    *,
    direct: bool = False,
    strict: bool = False,
) -> instructor.AsyncInstructor: ...


def wrap_client(
    client: openai.OpenAI | openai.AsyncOpenAI,
    settings: Settings,
    provider: ResolvedProvider,
    *,
    direct: bool = False,
    strict: bool = False,
) -> instructor.Instructor | instructor.AsyncInstructor:
    """Instructor over an openai client: a caller's calls its own `create`; `direct` (ours) posts
    instructor's JSON without the SDK's transform (see `chat_call`); `strict` sends its schema as
    OpenAI strict structured outputs (see `strict_schema`)."""
    instructor_patch.apply()  # instructor re-walks the response model on every call otherwise
    wrapped = instructor.from_openai(client, mode=instructor_mode(settings, provider))
    if not direct and not strict:
        return wrapped
    is_async = isinstance(client, openai.AsyncOpenAI)
    create: Any = client.chat.completions.create
    if direct:
        from .chat_call import async_direct_create, direct_create

        create = async_direct_create(client) if is_async else direct_create(client)  # type: ignore[arg-type]
    if strict:
        create = async_strict_create(create) if is_async else strict_create(create)
    # from_openai has checked and normalized the mode; the same handlers patch our create.
    patched = instructor.patch(create=create, mode=wrapped.mode, provider=wrapped.provider)
    return type(wrapped)(client=client, create=patched, mode=wrapped.mode, provider=wrapped.provider)


class ModelClients:
    """The sync and async instructor clients of one extractor, each opened on first use.

    Clients opened here are closed by `close`/`aclose` (and reopened by a later call); a
    caller's own openai client or transport is used as given and never closed.
    """

    def __init__(
        self,
        settings: Settings,
        provider: ResolvedProvider,
        *,
        client: openai.OpenAI | None = None,
        async_client: openai.AsyncOpenAI | None = None,
        http_transport: CallerTransport | None = None,
        throttle: Throttle | None = None,
    ) -> None:
        if (client is not None or async_client is not None) and http_transport is not None:
            raise ConfigError("give your own client or an http_transport, not both")
        self.settings = settings
        self.provider = provider
        self.throttle = throttle
        self._given, self._given_async = client, async_client
        self._transport = as_httpx2(http_transport) if http_transport is not None else None
        given = client or async_client
        self.strict_schema = strict_schema_for(settings, provider, base_url=str(given.base_url) if given else None)
        """Whether requests use OpenAI strict structured outputs."""
        self._sync: instructor.Instructor | None = None
        self._async: instructor.AsyncInstructor | None = None
        self._async_loop: asyncio.AbstractEventLoop | None = None
        self._opened: openai.OpenAI | None = None
        self._opened_async: openai.AsyncOpenAI | None = None
        self.layers: list[AnswerLayer] = []
        # How many layers each client was opened with: one opened before a layer was added is reopened.
        self._sync_layers = self._async_layers = 0

    def add_layer(self, layer: AnswerLayer) -> None:
        """Put `layer` under the retries and metering of the clients opened from now on."""
        if self._given is not None or self._given_async is not None:
            raise ConfigError("a caller's own openai client has no transport layers to add to")
        self.layers.append(layer)

    def _open_wrapped(self, *, is_async: bool) -> tuple[Any, Any]:
        """A client of our own with this extractor's layers, and its instructor wrapper."""
        opened = open_openai(
            self.settings,
            self.provider,
            is_async=is_async,
            throttle=self.throttle,
            http_transport=self._transport,
            layers=tuple(self.layers),
        )
        return opened, wrap_client(opened, self.settings, self.provider, direct=True, strict=self.strict_schema)

    def sync(self) -> instructor.Instructor:
        """The sync client."""
        if self._sync is not None and self._sync_layers != len(self.layers):
            self.close_sync()
        if self._sync is None:
            if self._given is not None:
                self._sync = wrap_client(self._given, self.settings, self.provider, strict=self.strict_schema)
            elif self._given_async is not None:
                raise ConfigError("this extractor has only an async_client: use aextract, abatch or batch")
            elif self._transport is not None and not isinstance(self._transport, httpx2.BaseTransport):
                raise ConfigError("http_transport is async-only: use aextract, abatch or batch")
            else:
                self._opened, self._sync = self._open_wrapped(is_async=False)
                self._sync_layers = len(self.layers)
        return self._sync

    async def async_(self) -> instructor.AsyncInstructor:
        """The async client for the running event loop."""
        loop = asyncio.get_running_loop()
        if self._async is not None and (self._async_loop is not loop or self._async_layers != len(self.layers)):
            # Its pooled connections belong to a loop that has ended (a second asyncio.run), or
            # it was opened before an engine added a layer.
            await self.aclose_async()
        if self._async is None:
            if self._given_async is not None:
                self._async = wrap_client(self._given_async, self.settings, self.provider, strict=self.strict_schema)
            elif self._given is not None:
                raise ConfigError(
                    "this extractor has only a sync client: use extract (batch runs async calls: give async_client too)"
                )
            elif self._transport is not None and not isinstance(self._transport, httpx2.AsyncBaseTransport):
                raise ConfigError(
                    "http_transport is sync-only: use extract (batch runs async calls: give a transport with both)"
                )
            else:
                self._opened_async, self._async = self._open_wrapped(is_async=True)
                self._async_layers = len(self.layers)
            self._async_loop = loop
        return self._async

    def close(self) -> None:
        """Close the clients opened here: the async one too when no event loop is running."""
        self.close_sync()
        if self._async is None:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(self.aclose_async())
        else:
            raise RuntimeError("close() inside a running event loop: use `await extractor.aclose()`")

    async def aclose(self) -> None:
        """Close the clients opened here, sync and async."""
        self.close_sync()
        await self.aclose_async()

    def close_sync(self) -> None:
        """Close the sync client if it was opened here."""
        opened, self._opened, self._sync = self._opened, None, None
        if opened is not None:
            opened.close()

    async def aclose_async(self) -> None:
        """Close the async client if it was opened here; a batch does so before its loop ends."""
        opened, self._opened_async, self._async, self._async_loop = self._opened_async, None, None, None
        if opened is not None:
            await opened.close()
