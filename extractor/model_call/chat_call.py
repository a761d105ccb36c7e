"""The chat-completions call instructor makes on the clients we open, minus the SDK's transform.

openai's `chat.completions.create` sends every request through `maybe_transform`, a recursive
walk of the typed-dict parameters (aliases, dates, file uploads) on every request (its share
of a batch's CPU is in bench/README.md). What instructor sends is JSON already (messages, the tool schema, numbers), so
for it the walk changes nothing: we post the same body with the same request options.
`tests/test_chat_call.py` checks that both paths send the same JSON body and headers.

A streaming request, or a parameter whose value is not JSON-shaped (a pydantic model, a
date, a generator: what the transform converts), goes through the SDK's own `create`. Only the
top level is looked at: walking every nested value would cost what the transform costs, and
the chat parameters declare no aliases or formats below it (the test checks that too). A
caller's own openai client is never rerouted: its `create` may be wrapped by their tracing.

The request options come from the SDK's private `make_request_options`, looked up when a
client is wrapped: if it has moved, the SDK's own `create` is used (one
`InternalsFallbackWarning` says so).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import openai
from openai.types.chat import ChatCompletion

from .fallback import fall_back

_PATH = "/chat/completions"
_OPTION_NAMES = ("extra_headers", "extra_query", "extra_body", "timeout")
_SECURITY = {"bearer_auth": True}  # as the SDK's create: the client adds its API key
_JSON_SHAPED = (dict, list, str, bool, int, float, type(None))
SPEEDUP = "the direct chat-completions call"

RequestOptions = Callable[..., Mapping[str, Any]]


def _request_options(client: openai.OpenAI | openai.AsyncOpenAI) -> RequestOptions | None:
    """The SDK's (private) request-options builder, when it and `client.post` are where we expect them."""
    try:
        from openai._base_client import make_request_options
    except ImportError:
        fall_back(SPEEDUP, "openai._base_client.make_request_options")
        return None
    if not callable(getattr(client, "post", None)):
        fall_back(SPEEDUP, f"{type(client).__name__}.post")
        return None
    return make_request_options


def _split(kwargs: Mapping[str, Any], make_options: RequestOptions) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(body, request options) for a direct post, or None when the SDK's create must take it."""
    body: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for name, value in kwargs.items():
        if name in _OPTION_NAMES:
            options[name] = value
        elif isinstance(value, openai.NotGiven) or value is openai.omit:
            continue
        elif name == "stream" and value:
            return None
        elif type(value) not in _JSON_SHAPED:
            return None
        else:
            body[name] = value
    return body, dict(make_options(**options, security=_SECURITY))


def direct_create(client: openai.OpenAI) -> Callable[..., ChatCompletion]:
    """`client.chat.completions.create` for instructor's requests, posting the body as given."""
    sdk_create = client.chat.completions.create
    make_options = _request_options(client)
    if make_options is None:
        return sdk_create

    def create(**kwargs: Any) -> Any:
        split = _split(kwargs, make_options)
        if split is None:
            return sdk_create(**kwargs)
        body, options = split
        return client.post(_PATH, body=body, options=options, cast_to=ChatCompletion)  # type: ignore[call-overload]

    return create


def async_direct_create(client: openai.AsyncOpenAI) -> Callable[..., Awaitable[ChatCompletion]]:
    """The async twin of `direct_create`."""
    sdk_create = client.chat.completions.create
    make_options = _request_options(client)
    if make_options is None:
        return sdk_create

    async def create(**kwargs: Any) -> Any:
        split = _split(kwargs, make_options)
        if split is None:
            return await sdk_create(**kwargs)
        body, options = split
        return await client.post(_PATH, body=body, options=options, cast_to=ChatCompletion)  # type: ignore[call-overload]

    return create
