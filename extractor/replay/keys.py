"""Request keys and the facts that explain a replay miss.

A key is a hash of what decides the answer: method, URL path and JSON body (sorted keys).
Headers are left out on purpose (user agent, retry count, timeouts and credentials change
between runs without changing the question), and so is the host, so that a fixture recorded
against api.openai.com replays under the in-process replay provider.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from ..input.block import article_in_message

# Bumping this changes every key: old fixtures then miss instead of replaying a wrong format.
FORMAT_VERSION = 1
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?')


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_body(content: bytes) -> Any:
    """The JSON body, or the text when it is not JSON (still hashable, still storable)."""
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", errors="replace")


def keyed_body(content: bytes, content_type: str) -> Any:
    """The body as keys and fixtures see it: a multipart upload by the hash of its parts.

    A multipart body carries a random boundary, so its bytes differ on every upload of the
    same file; with the boundary taken out the hash names the content. The content itself
    (a Batch API request file, say) is not kept in the fixture.
    """
    match = _BOUNDARY.search(content_type) if content_type.startswith("multipart/") else None
    if match is None:
        return parse_body(content)
    stable = content.replace(match.group(1).encode("latin-1"), b"BOUNDARY")
    return {"multipart_sha256": hashlib.sha256(stable).hexdigest()}


def request_key(method: str, path: str, body: Any) -> str:
    return sha256_hex(canonical_json({"format": FORMAT_VERSION, "method": method.upper(), "path": path, "body": body}))


def _messages(body: Any) -> list[dict[str, Any]]:
    messages = body.get("messages") if isinstance(body, dict) else None
    return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []


def _first_content(body: Any, role: str) -> str | None:
    for message in _messages(body):
        content = message.get("content")
        if message.get("role") == role and isinstance(content, str):
            return content
    return None


def schema_hash(body: Any) -> str | None:
    """Hash of the schema the model is asked to fill: tool definitions or response_format."""
    if not isinstance(body, dict) or not (body.get("tools") or body.get("response_format")):
        return None
    return sha256_hex(canonical_json({"tools": body.get("tools"), "response_format": body.get("response_format")}))


def request_mode(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    if body.get("tools"):
        return "tools"
    response_format = body.get("response_format")
    if isinstance(response_format, dict):
        return str(response_format.get("type") or "json")
    return None


def request_is_strict(body: Any) -> bool:
    """Whether a request asks for OpenAI strict structured outputs (a strict tool or json_schema)."""
    if not isinstance(body, dict):
        return False
    tools = body["tools"] if isinstance(body.get("tools"), list) else []
    if any(isinstance(t, dict) and (t.get("function") or {}).get("strict") is True for t in tools):
        return True
    response_format = body.get("response_format")
    json_schema = response_format.get("json_schema") if isinstance(response_format, dict) else None
    return isinstance(json_schema, dict) and json_schema.get("strict") is True


@dataclass(frozen=True)
class RequestFacts:
    """What a fixture records beside its key, so that a miss can say what changed.

    `article_sha256` stays equal when only the prompt, schema or model change; for an
    article sent in one piece it equals `article.sha256` of the extraction output.
    """

    model: str | None
    mode: str | None
    schema_hash: str | None
    system_sha256: str | None
    user_sha256: str | None
    article_sha256: str | None

    @classmethod
    def of(cls, body: Any) -> RequestFacts:
        system = _first_content(body, "system")
        user = _first_content(body, "user")
        article = article_in_message(user) if user is not None else None
        model = body.get("model") if isinstance(body, dict) else None
        return cls(
            model=str(model) if model is not None else None,
            mode=request_mode(body),
            schema_hash=schema_hash(body),
            system_sha256=sha256_hex(system) if system is not None else None,
            user_sha256=sha256_hex(user) if user is not None else None,
            article_sha256=sha256_hex(article) if article is not None else None,
        )
