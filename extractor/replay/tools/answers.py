"""A transport answering with a draft answer, and reading the answer back out of a completion.

The completions themselves are built by `extractor.testing.completions`. Used to author
reference fixtures, to render the request the current code would send, and by
`fixtures check` to re-validate stored answers.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx2

from ...testing.completions import answer_for

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def answering_transport(arguments: str, *, completion_id: str, seen: list[dict[str, Any]] | None = None) -> Any:
    """A sync-and-async transport that answers every chat request with `arguments`."""

    def handle(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        if seen is not None:
            seen.append(body)
        # Authored answers cost nothing; zero usage says so rather than inventing token counts.
        return httpx2.Response(200, json=answer_for(body, arguments, completion_id=completion_id))

    return httpx2.MockTransport(handle)


def answer_text(response_body: Any) -> str | None:
    """The model's answer in a stored completion: tool-call arguments or message content."""
    try:
        message = response_body["choices"][0]["message"]
    except (KeyError, IndexError, TypeError):
        return None
    calls = message.get("tool_calls") or []
    if calls:
        return (calls[0].get("function") or {}).get("arguments")
    content = message.get("content")
    if isinstance(content, str):
        fenced = _FENCE.match(content)
        return fenced.group(1) if fenced else content
    return None


def asked_answers(request_body: Any) -> set[str]:
    """Earlier answers quoted back in a request: a re-ask carries the answer it rejected."""
    found: set[str] = set()
    messages = request_body.get("messages") if isinstance(request_body, dict) else None
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict) or message.get("role") != "assistant":
            continue
        for call in message.get("tool_calls") or []:
            arguments = (call.get("function") or {}).get("arguments")
            if isinstance(arguments, str):
                found.add(arguments)
        if isinstance(message.get("content"), str):
            found.add(message["content"])
    return found


def draft_quotes(draft: Any) -> list[str]:
    """Every quote an `ExtractionDraft` claims is in the article: evidence and statement quotes."""
    items = [*draft.exercises, *draft.aircraft, *draft.statements]
    quotes = [evidence.quote for item in items for evidence in item.evidence]
    return quotes + [statement.quote for statement in draft.statements if statement.quote]
