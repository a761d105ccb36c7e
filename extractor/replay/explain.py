"""Why a replay missed: the nearest fixture for the same article and what differs from it."""

from __future__ import annotations

import difflib
import json
from typing import Any

from ..errors import ReplayMiss
from .record import Exchange
from .store import Fixture, FixtureStore

MAX_DIFF_LINES = 40
COMPARED = ("prompt_version", "model", "schema_hash", "system_sha256")


def body_lines(body: Any) -> list[str]:
    """Bodies as diffable lines: message texts line by line, everything else as sorted JSON."""
    if not isinstance(body, dict):
        return json.dumps(body, indent=1, sort_keys=True).splitlines()
    lines: list[str] = []
    for name in sorted(body):
        value = body[name]
        if name == "messages" and isinstance(value, list):
            for number, message in enumerate(value):
                role = message.get("role") if isinstance(message, dict) else "?"
                lines.append(f"messages[{number}] {role}:")
                content = message.get("content") if isinstance(message, dict) else message
                text = content if isinstance(content, str) else json.dumps(content, sort_keys=True)
                lines.extend(f"  {line}" for line in text.splitlines())
                if isinstance(message, dict) and message.get("tool_calls"):
                    lines.append(f"  tool_calls: {json.dumps(message['tool_calls'], sort_keys=True)}")
        else:
            lines.extend(f"{name}: {line}" for line in json.dumps(value, indent=1, sort_keys=True).splitlines())
    return lines


def body_diff(old: Any, new: Any) -> list[str]:
    diff = list(difflib.unified_diff(body_lines(old), body_lines(new), "recorded", "requested", n=1, lineterm=""))
    return diff[:MAX_DIFF_LINES] + (["…"] if len(diff) > MAX_DIFF_LINES else [])


def _current(exchange: Exchange) -> dict[str, Any]:
    from .record import _prompt_version

    facts = exchange.facts
    return {
        "prompt_version": _prompt_version(),
        "model": facts.model,
        "schema_hash": facts.schema_hash,
        "system_sha256": facts.system_sha256,
    }


def _short(value: Any) -> str:
    text = str(value)
    return text[:12] if len(text) == 64 else text


def differences(fixture: Fixture, exchange: Exchange) -> list[str]:
    current = _current(exchange)
    named = {"system_sha256": "system prompt"}
    return [
        f"{named.get(name, name)} {_short(fixture.meta.get(name))} -> {_short(current[name])}"
        for name in COMPARED
        if fixture.meta.get(name) != current[name]
    ]


def _nearest(candidates: list[Fixture], exchange: Exchange) -> Fixture:
    def distance(fixture: Fixture) -> int:
        return sum(1 for line in body_diff(fixture.request_body, exchange.body) if line[:1] in "+-")

    return min(candidates, key=distance)


def article_label(exchange: Exchange, article_id: str | None, candidates: list[Fixture]) -> str:
    if article_id:
        return article_id
    for fixture in candidates:
        if fixture.article.get("id"):
            return str(fixture.article["id"])
    sha = exchange.facts.article_sha256
    # The same id the extractor gives an article without one (see ArticleInput.header).
    return f"sha256-{sha[:16]}" if sha else "unknown article"


def rejected_fixture(candidates: list[Fixture], exchange: Exchange) -> Fixture | None:
    """The fixture whose stored answer this request re-asks about (it quotes that answer back)."""
    from .answer_check import answer_text, asked_answers

    quoted = asked_answers(exchange.body)
    for fixture in candidates:
        answer = answer_text(fixture.response.get("body"))
        if answer is not None and answer in quoted:
            return fixture
    if _is_reask(exchange.body):
        # A stored response without an answer (no tool call, no content) is asked about again
        # without being quoted back: it is the fixture to fix, not a stale request.
        for fixture in candidates:
            if answer_text(fixture.response.get("body")) is None:
                return fixture
    return None


def _is_reask(body: Any) -> bool:
    messages = body.get("messages") if isinstance(body, dict) else None
    return isinstance(messages, list) and any(
        isinstance(message, dict) and message.get("role") == "assistant" for message in messages
    )


def _rejected_message(head: str, fixture: Fixture) -> str:
    from .answer_check import validation_error

    reason = validation_error(fixture) or "rejected by the extractor's checks"
    return f"{head}: the stored answer in {fixture.path} was rejected ({reason}) and its re-ask was never recorded; fix that answer or record again"


def replay_miss(store: FixtureStore, exchange: Exchange, article_id: str | None) -> ReplayMiss:
    sha = exchange.facts.article_sha256
    candidates = store.for_article(sha) if sha else []
    article = article_label(exchange, article_id, candidates)
    head = f"replay miss: no fixture for request {exchange.key[:16]} (article {article}) in {store.root}"
    if not candidates:
        reason = "no fixture recorded for this article; record it with --fixtures-mode record-missing"
        return ReplayMiss(f"{head}: {reason}", key=exchange.key, article_id=article)
    rejected = rejected_fixture(candidates, exchange)
    if rejected is not None:
        # Not a stale recording: a replayed answer failed validation, and the re-ask missed.
        return ReplayMiss(_rejected_message(head, rejected), key=exchange.key, article_id=article)
    nearest = _nearest(candidates, exchange)
    changed = differences(nearest, exchange)
    what = ", ".join(changed) if changed else "request body (see diff)"
    hint = "refresh with `extractor fixtures prune --yes` and --fixtures-mode record-missing"
    message = "\n".join(
        [
            f"{head}: nearest fixture {nearest.path.name} differs in {what}; {hint}",
            *body_diff(nearest.request_body, exchange.body),
        ]
    )
    return ReplayMiss(message, key=exchange.key, article_id=article)
