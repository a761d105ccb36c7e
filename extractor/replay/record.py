"""Turning an HTTP exchange into a fixture record and a record back into a response."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import httpx2

from ..errors import ConfigError
from .keys import FORMAT_VERSION, RequestFacts, keyed_body, parse_body, request_key
from .redact import kept_response_headers, scrub, secret_values


@dataclass(frozen=True)
class Exchange:
    """A request as the store sees it: no headers, no host, only what decides the answer."""

    method: str
    path: str
    body: Any
    key: str
    facts: RequestFacts
    secrets: tuple[str, ...]

    @classmethod
    def of(cls, request: httpx2.Request) -> Exchange:
        """`request` must have been read (`read()` / `aread()`) by the caller."""
        body = keyed_body(request.content, request.headers.get("content-type", ""))
        return cls(
            method=request.method,
            path=request.url.path,
            body=body,
            key=request_key(request.method, request.url.path, body),
            facts=RequestFacts.of(body),
            secrets=tuple(secret_values(request.headers.multi_items())),
        )


def _prompt_version() -> str | None:
    try:
        from ..prompting import prompt_version

        return prompt_version()
    except Exception:  # a fixture is still worth keeping when the templates cannot be read
        return None


def build_record(
    exchange: Exchange,
    response: httpx2.Response,
    *,
    provider: str,
    origin: str = "recorded",
    note: str | None = None,
    article_id: str | None = None,
) -> dict[str, Any]:
    """The fixture document; `response` must have been read."""
    from .. import __version__

    body = parse_body(response.content)
    facts = exchange.facts
    record = {
        "format": FORMAT_VERSION,
        "key": exchange.key,
        "origin": origin,
        "note": note,
        "meta": {
            "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "provider": provider,
            "model": facts.model,
            "mode": facts.mode,
            "prompt_version": _prompt_version(),
            "schema_hash": facts.schema_hash,
            "system_sha256": facts.system_sha256,
            "article": {"id": article_id, "sha256": facts.article_sha256, "user_sha256": facts.user_sha256},
            "extractor_version": __version__,
        },
        "request": {"method": exchange.method, "path": exchange.path, "body": exchange.body},
        "response": {
            "status": response.status_code,
            "headers": kept_response_headers(response.headers),
            "body": body,
        },
    }
    if not exchange.secrets:
        return record
    scrubbed: dict[str, Any] = json.loads(scrub(json.dumps(record, ensure_ascii=False), exchange.secrets))
    return scrubbed


def stored_response_problem(record: dict[str, Any]) -> str | None:
    """Why a fixture's stored response cannot be replayed, or None."""
    stored = record.get("response")
    if not isinstance(stored, dict):
        return "no 'response' object"
    status = stored.get("status")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        return f"response status {status!r} is not an HTTP status"
    if not isinstance(stored.get("headers") or {}, dict):
        return "response headers are not an object"
    if stored.get("body") is None:
        return "response has no body"
    request = record.get("request")
    path = request.get("path") if isinstance(request, dict) else None
    if isinstance(path, str) and path.endswith("/chat/completions") and 200 <= status < 300:
        return completion_problem(stored["body"])
    return None


def completion_problem(body: Any) -> str | None:
    """Why a stored chat-completions body is no chat completion the SDK can read, or None."""
    if not isinstance(body, dict):
        return f"response body is not a chat completion (a JSON {_json_type(body)}, not an object)"
    choices = body.get("choices")
    if not isinstance(choices, list):
        return "response body has no 'choices' list" if choices is None else "response 'choices' is not a list"
    if not choices:
        return "response 'choices' is empty"
    first = choices[0]
    if not isinstance(first, dict) or not isinstance(first.get("message"), dict):
        return "response choices[0] has no 'message' object"
    calls = first["message"].get("tool_calls")
    if calls is not None and not (isinstance(calls, list) and all(_is_function_call(call) for call in calls)):
        return "response choices[0].message.tool_calls is not a list of function calls with string arguments"
    return None


def _is_function_call(call: Any) -> bool:
    function = call.get("function") if isinstance(call, dict) else None
    return isinstance(function, dict) and isinstance(function.get("arguments"), str)


def _json_type(value: Any) -> str:
    names = {str: "string", bool: "boolean", int: "number", float: "number", list: "array"}
    return names.get(type(value), type(value).__name__)


def response_of(record: dict[str, Any], request: httpx2.Request, *, source: Any = "fixture") -> httpx2.Response:
    """A fresh response for every replay: the SDK consumes and closes what it gets."""
    problem = stored_response_problem(record)
    if problem is not None:
        raise ConfigError(f"bad fixture {source}: {problem}")
    stored = record["response"]
    body = stored["body"]
    content = body.encode("utf-8") if isinstance(body, str) else json.dumps(body).encode("utf-8")
    headers = {str(name): str(value) for name, value in (stored.get("headers") or {}).items()}
    headers.setdefault("content-type", "application/json")
    return httpx2.Response(stored["status"], headers=headers, content=content, request=request)
