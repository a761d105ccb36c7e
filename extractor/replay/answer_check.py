"""Is a stored exchange a usable model answer? Read at replay time (to explain a rejected
answer) and by `extractor fixtures check`; it reads fixtures, never writes them."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from ..input.block import article_in_messages
from ..postprocess.grounding import span_finder
from ..schemas import ExtractionDraft
from .record import completion_problem, stored_response_problem
from .store import Fixture

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def answer_text(response_body: Any) -> str | None:
    """The model's answer in a stored completion: tool-call arguments or message content."""
    if completion_problem(response_body) is not None:
        return None
    message = response_body["choices"][0]["message"]
    calls = message.get("tool_calls") or []
    if calls:
        arguments = calls[0]["function"].get("arguments")
        return arguments if isinstance(arguments, str) else None
    content = message.get("content")
    if isinstance(content, str):
        fenced = _FENCE.match(content)
        return fenced.group(1) if fenced else content
    return None


def draft_quotes(draft: Any) -> list[str]:
    """Every quote an `ExtractionDraft` claims is in the article: evidence and statement quotes."""
    items = [*draft.exercises, *draft.aircraft, *draft.statements]
    quotes = [evidence.quote for item in items for evidence in item.evidence]
    return quotes + [statement.quote for statement in draft.statements if statement.quote]


def asked_answers(request_body: Any) -> set[str]:
    """Earlier answers quoted back in a request: a re-ask carries the answer it rejected."""
    found: set[str] = set()
    messages = request_body.get("messages") if isinstance(request_body, dict) else None
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict) or message.get("role") != "assistant":
            continue
        calls = message.get("tool_calls")
        for call in calls if isinstance(calls, list) else []:
            function = call.get("function") if isinstance(call, dict) else None
            arguments = function.get("arguments") if isinstance(function, dict) else None
            if isinstance(arguments, str):
                found.add(arguments)
        if isinstance(message.get("content"), str):
            found.add(message["content"])
    return found


def validation_error(fixture: Fixture) -> str | None:
    """Why the stored exchange is not a usable model answer (or cannot be replayed at all), or None."""
    response = fixture.response
    status = response.get("status")
    if isinstance(status, int) and not 200 <= status < 300:
        return f"stored HTTP {status} response, not a model answer: delete it and record again"
    problem = broken(fixture)
    if problem is not None:
        return problem
    if not str(fixture.request.get("path", "")).endswith("/chat/completions"):
        return None  # a Batch API exchange (upload, create, poll, download) holds no answer of its own
    text = answer_text(response.get("body"))
    if text is None:
        return "no answer in the stored response (no tool call and no content)"
    try:
        draft = ExtractionDraft.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "answer"
        return f"{where}: {first['msg']} ({exc.error_count()} error(s))"
    return _ungrounded(fixture, draft_quotes(draft))


def broken(fixture: Fixture) -> str | None:
    """Why replaying this fixture is an error (a bad fixture, exit 3), or None."""
    return stored_response_problem(fixture.data)


def _ungrounded(fixture: Fixture, quotes: list[str]) -> str | None:
    body = fixture.request_body
    messages = body.get("messages") if isinstance(body, dict) else None
    article = article_in_messages(messages) if isinstance(messages, list) else None
    if article is None or not quotes:
        return None
    # The same matcher grounding uses: what the pipeline would drop, check reports.
    finder = span_finder(article)
    missing = [quote for quote in quotes if finder.find(quote) is None]
    if not missing:
        return None
    return f"evidence not in the article: {missing[0][:80]!r} ({len(missing)} of {len(quotes)} quote(s))"
