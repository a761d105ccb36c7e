"""`merge(results)`: events across articles, optionally on top of earlier events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from ..schemas import ArticleExtraction
from .build import BUILDERS
from .cluster import cluster
from .ids import assign_ids
from .mentions import Mention, mention_from_source, mentions_of
from .models import EventBase, EventType
from .rules import RULES

EVENT_TYPES: tuple[EventType, ...] = ("exercise", "deployment", "statement")


def _as_extraction(result: ArticleExtraction | dict[str, Any]) -> ArticleExtraction:
    return result if isinstance(result, ArticleExtraction) else ArticleExtraction.model_validate(result)


def merge(results: Iterable[ArticleExtraction | dict[str, Any]], existing: Sequence[EventBase] = ()) -> list[EventBase]:
    """Events from the items of many ArticleExtraction results.

    `existing` are events from an earlier run: their sources take part again, so new results
    join them, and an event keeps its id as long as it holds the mentions it held. A result
    for an article that an earlier event already cites replaces that article's items (an
    article extracted again). Events come out ordered by first report, then id.
    """
    new: dict[str, list[Mention]] = {}
    for result in results:
        extraction = _as_extraction(result)
        new[extraction.article.id] = mentions_of(extraction)  # the last result of an article wins
    mentions = [m for found in new.values() for m in found]
    previous: dict[str, str] = {}
    for event in existing:
        for source in event.sources:
            mention = mention_from_source(event.type, source)  # type: ignore[attr-defined]
            # A re-extracted article's item at the same place still votes for its old event.
            previous[mention.key] = event.id
            if source.article_id not in new:
                mentions.append(mention)
    events: list[EventBase] = []
    for kind in EVENT_TYPES:
        groups = cluster([m for m in mentions if m.type == kind], RULES[kind])
        for group, event_id in zip(groups, assign_ids(groups, previous), strict=True):
            events.append(BUILDERS[kind](group, event_id))
    return sorted(events, key=lambda e: (e.first_reported or dt.date.max, e.id))
