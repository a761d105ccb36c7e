"""Building the instructor-patched openai client for a provider.

Providers differ only in the HTTP transport under the SDK: a real server (openai and every
OpenAI-compatible one), the in-process local model, or recorded fixtures. The SDK's own
retries are off; transport retries happen once, in `RetryingTransport`.
"""

from __future__ import annotations

from typing import Any

import httpx2
import instructor
import openai

from . import instructor_patch
from .errors import ProviderUnavailable
from .retry import Throttle
from .settings import ResolvedProvider, Settings
from .transport import AsyncRetryingTransport, RetryingTransport, RetryOptions

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
    # Grammar-constrained decoding in llama.cpp works from a JSON schema, not from tool definitions.
    return "json_schema" if provider == "local" else settings.mode


def _local_model(settings: Settings):
    from .local import LocalModel

    return LocalModel(
        settings.local_model_path,
        n_ctx=settings.local_n_ctx,
        n_threads=settings.local_n_threads,
        max_tokens=settings.local_max_tokens,
        constrain=settings.local_constrain,
    )


def _base_transport(settings: Settings, provider: ResolvedProvider, *, is_async: bool) -> Any:
    """The innermost transport: what actually answers a request."""
    if provider == "local":
        from .local import AsyncLocalTransport, LocalTransport

        model = _local_model(settings)
        return AsyncLocalTransport(model) if is_async else LocalTransport(model)
    if provider == "replay":
        return None
    # Concurrency is bounded by the caller (batch --concurrency), not by a hidden pool limit.
    limits = httpx2.Limits(max_connections=None, max_keepalive_connections=None)
    return httpx2.AsyncHTTPTransport(limits=limits) if is_async else httpx2.HTTPTransport(limits=limits)


def build_transport(
    settings: Settings, provider: ResolvedProvider, *, is_async: bool, throttle: Throttle | None = None
) -> Any:
    from .replay import wrap_transport

    def inner() -> Any:
        return _base_transport(settings, provider, is_async=is_async)

    fixtures_mode = "replay" if provider == "replay" else settings.fixtures_mode
    answering = wrap_transport(
        inner,
        mode=fixtures_mode,
        fixtures_dir=settings.fixtures_dir,
        provider=provider,
        is_async=is_async,
    )
    options = RetryOptions(settings.transport_retries, settings.backoff_initial, settings.backoff_max)
    if is_async:
        return AsyncRetryingTransport(answering, options, throttle)
    return RetryingTransport(answering, options, throttle)


def _credentials(settings: Settings, provider: ResolvedProvider) -> tuple[str, str]:
    if provider != "openai":
        return IN_PROCESS_API_KEY, settings.base_url or IN_PROCESS_BASE_URL
    key = settings.api_key.get_secret_value() if settings.api_key else ""
    if not key:
        if settings.base_url:
            # Local OpenAI-compatible servers (Ollama, vLLM, llama.cpp) usually ignore the key.
            key = "no-key"
        elif settings.fixtures_mode != "replay":
            raise ProviderUnavailable("the openai provider needs OPENAI_API_KEY (or --base-url for a compatible server)")
        else:
            key = IN_PROCESS_API_KEY
    return key, settings.base_url or OPENAI_DEFAULT_BASE_URL


def build_client(
    settings: Settings, provider: ResolvedProvider, *, is_async: bool, throttle: Throttle | None = None
) -> Any:
    """An instructor client over the openai SDK, with SDK retries off."""
    instructor_patch.apply()  # instructor re-walks the response model on every call otherwise
    api_key, base_url = _credentials(settings, provider)
    transport = build_transport(settings, provider, is_async=is_async, throttle=throttle)
    timeout = httpx2.Timeout(settings.request_timeout, connect=min(10.0, settings.request_timeout))
    mode = INSTRUCTOR_MODES[effective_mode(settings, provider)]
    if is_async:
        http_client = httpx2.AsyncClient(transport=transport, timeout=timeout)
        raw = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0, http_client=http_client)
    else:
        http_client = httpx2.Client(transport=transport, timeout=timeout)
        raw = openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=0, http_client=http_client)
    return instructor.from_openai(raw, mode=mode)
