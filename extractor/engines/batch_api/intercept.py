"""The seam between the Batch API and the live path: a transport layer under the SDK.

Two jobs, chosen per asyncio task by a context variable, so the Extractor runs unchanged:

- *capture*: record the chat request the Extractor sends and answer it with an empty
  draft, so the request file holds exactly what the live path would send;
- *serve*: answer a request with the batch's answer to that very body, so the answer goes
  through the same instructor validation, grounding and normalization as a live one. What
  the batch did not answer well (a re-ask after a failed validation, a request error, a
  request an expired batch left over) goes to the provider, or fails when live fallback is
  off.

Without a job in the context the layer passes every request through untouched.
"""

from __future__ import annotations

import contextvars
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2

from ...errors import Cause, ExtractionFailed
from ...model_call.transport import ANSWERED_BY, BATCH_ANSWER
from ...replay.context import current_article_id
from ...replay.keys import canonical_json, sha256_hex
from ...testing.completions import answer_for
from .state import Answer

EMPTY_DRAFT = json.dumps({"exercises": [], "aircraft": [], "statements": []})

# Why an article went to the live path, as the summary counts them.
REASKED = "invalid_answer_reasked"
ERRORED = "request_error"
UNREADABLE = "unreadable_answer"  # its line in the output or error file could not be read
LEFT_OVER = "left_over"
NOT_IN_BATCH = "not_in_batch"  # e.g. its identical twin was asked instead, and failed


def body_sha256(body: Any) -> str:
    return sha256_hex(canonical_json(body))


@dataclass
class Capture:
    """Chat request bodies sent while capturing, in order."""

    bodies: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Serving:
    """Batch answers by request body, and a tally of what was answered where."""

    answers: dict[str, Answer | None]
    live_fallback: bool = True
    from_batch: int = 0
    live: dict[str, set[str]] = field(default_factory=dict)  # reason -> article ids
    answered: set[str] = field(default_factory=set)  # articles given a batch answer

    def counts(self) -> Counter[str]:
        return Counter({reason: len(ids) for reason, ids in self.live.items()})

    def decide(self, body: Any, article_id: str) -> Answer | str:
        """The batch answer to send back, or the reason the request goes live."""
        sha = body_sha256(body)
        if sha not in self.answers:
            # Not a request the batch was given: a re-ask of its answer, or an article never in it.
            return REASKED if article_id in self.answered else NOT_IN_BATCH
        answer = self.answers[sha]
        if answer is None or answer.left_over:
            return LEFT_OVER
        if answer.unreadable:
            return UNREADABLE
        return answer if answer.ok else ERRORED


_mode: contextvars.ContextVar[Capture | Serving | None] = contextvars.ContextVar("extractor_batch_api", default=None)


@contextmanager
def capturing() -> Iterator[Capture]:
    capture = Capture()
    token = _mode.set(capture)
    try:
        yield capture
    finally:
        _mode.reset(token)


@contextmanager
def serving(answers: dict[str, Answer | None], *, live_fallback: bool = True) -> Iterator[Serving]:
    served = Serving(answers, live_fallback=live_fallback)
    token = _mode.set(served)
    try:
        yield served
    finally:
        _mode.reset(token)


_REFUSALS = {
    REASKED: "the batch answer did not validate and live re-asks are off (--no-live-fallback)",
    ERRORED: "the batch answered this request with an error and live fallback is off (--no-live-fallback)",
    UNREADABLE: "the batch's answer line for this request could not be read and live fallback is off "
    "(--no-live-fallback)",
    LEFT_OVER: "the batch ended without answering this request and live fallback is off (--no-live-fallback)",
    NOT_IN_BATCH: "this request was not in the batch and live fallback is off (--no-live-fallback)",
}
_CAUSES = {
    REASKED: Cause.BATCH_INVALID_ANSWER,
    ERRORED: Cause.BATCH_REQUEST_ERROR,
    UNREADABLE: Cause.BATCH_UNREADABLE_ANSWER,
    LEFT_OVER: Cause.BATCH_LEFT_OVER,
    NOT_IN_BATCH: Cause.BATCH_NOT_SUBMITTED,
}


def _answer(request: httpx2.Request) -> httpx2.Response | None:
    """The response this layer gives itself, or None to pass the request on."""
    mode = _mode.get()
    if mode is None or not request.url.path.endswith("/chat/completions"):
        return None
    body = json.loads(request.content)
    if isinstance(mode, Capture):
        mode.bodies.append(body)
        return httpx2.Response(200, json=answer_for(body, EMPTY_DRAFT, completion_id="capture"), request=request)
    article_id = current_article_id() or "?"
    decision = mode.decide(body, article_id)
    if isinstance(decision, Answer):
        mode.from_batch += 1
        mode.answered.add(article_id)
        headers = {"content-type": "application/json"}
        content = (decision.body or "").encode()
        # Marked, so the meter prices its tokens as the batch's and never records them as a live call.
        extensions = {ANSWERED_BY: BATCH_ANSWER}
        return httpx2.Response(200, headers=headers, content=content, request=request, extensions=extensions)
    mode.live.setdefault(decision, set()).add(article_id)
    if not mode.live_fallback:
        raise ExtractionFailed(_REFUSALS[decision], cause=_CAUSES[decision])
    return None


class BatchApiTransport(httpx2.BaseTransport):
    def __init__(self, inner: httpx2.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        answered = _answer(request)
        return answered if answered is not None else self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class AsyncBatchApiTransport(httpx2.AsyncBaseTransport):
    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        answered = _answer(request)
        return answered if answered is not None else await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def intercept(transport: Any, *, is_async: bool) -> Any:
    """`transport` under the Batch API layer (a pass-through outside a batch job)."""
    return AsyncBatchApiTransport(transport) if is_async else BatchApiTransport(transport)
