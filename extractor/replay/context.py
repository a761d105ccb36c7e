"""Per-call context the transport cannot see in a request: the article id, and who answers.

Context variables follow asyncio tasks, so concurrent extractions each keep their own.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_article_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("extractor_replay_article", default=None)
# The fixture that answered the latest request in this context: an invalid stored answer is
# then reported with its file, which is what the user has to fix.
_replayed: contextvars.ContextVar[Path | None] = contextvars.ContextVar("extractor_replayed_fixture", default=None)


@dataclass(frozen=True)
class Answerer:
    """A stand-in for the provider's transport (authoring, rendering, tests)."""

    factory: Callable[[bool], Any]  # is_async -> transport
    provider: str
    origin: str = "recorded"
    note: str | None = None


_answerer: contextvars.ContextVar[Answerer | None] = contextvars.ContextVar("extractor_replay_answerer", default=None)


@contextmanager
def article_scope(article_id: str | None) -> Iterator[None]:
    """Name the article being extracted, for fixture file names and miss messages."""
    token = _article_id.set(article_id)
    try:
        yield
    finally:
        _article_id.reset(token)


def current_article_id() -> str | None:
    return _article_id.get()


@contextmanager
def answered_by(answerer: Answerer) -> Iterator[None]:
    """Clients built inside this block send requests to `answerer` instead of the provider."""
    token = _answerer.set(answerer)
    try:
        yield
    finally:
        _answerer.reset(token)


def current_answerer() -> Answerer | None:
    return _answerer.get()


def note_replayed(path: Path | None) -> None:
    """Remember which fixture (if any) answered the request being handled."""
    _replayed.set(path)


def last_replayed() -> Path | None:
    """The fixture that answered the latest request in this context, or None."""
    return _replayed.get()
