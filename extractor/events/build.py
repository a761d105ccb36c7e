"""Turning a group of mentions into an event: merged fields and recorded conflicts.

Nothing is invented: a merged field is the value most sources state (ties go to the
earliest report), a merged list is the union of what the sources list. Where sources state
different values for a checked field, the event keeps a `Conflict` listing every value with
the articles that state it, instead of resolving it silently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from typing import Any

from pydantic import BaseModel

from ..schemas import Actor, Exercise, PoliticalStatement
from .mentions import Mention
from .models import Conflict, ConflictValue, DeploymentEvent, EventBase, ExerciseEvent, StatementEvent
from .rules import participant_key


class Votes:
    """The values the sources of one event state for each field."""

    def __init__(self, group: list[Mention]) -> None:
        self.group = group
        self.conflicts: list[Conflict] = []

    def stated(self, field: str) -> list[tuple[Any, str]]:
        """(value, article id) of every source that states the field."""
        return [(value, m.article_id) for m in self.group if (value := getattr(m.item, field)) not in (None, [], "")]

    def pick(self, field: str, *, conflict: bool = False) -> Any:
        """The value stated by most sources (earliest report on a tie); None if none states one."""
        by_value: dict[Hashable, dict[str, None]] = {}  # value -> its articles, as an ordered set
        values: dict[Hashable, Any] = {}
        for value, article in self.stated(field):
            key = _hashable(value)
            values.setdefault(key, value)
            by_value.setdefault(key, {})[article] = None
        if not by_value:
            return None
        if conflict and len(by_value) > 1:
            self.record(field, [(values[key], list(articles)) for key, articles in by_value.items()])
        best = max(by_value, key=lambda key: len(by_value[key]))  # max keeps the first of equals
        return values[best]

    def record(self, field: str, values: list[tuple[Any, list[str]]]) -> None:
        self.conflicts.append(
            Conflict(field=field, values=[ConflictValue(value=_jsonable(v), articles=a) for v, a in values])
        )


def _hashable(value: Any) -> Hashable:
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def union_actors(groups: list[list[Actor]]) -> list[Actor]:
    """Every actor some source names, once each, in the order first named."""
    seen: dict[str, Actor] = {}
    for actors in groups:
        for actor in actors:
            seen.setdefault(participant_key(actor), actor)
    return list(seen.values())


def _participant_conflict(votes: Votes) -> None:
    """Sources listing different participants: each list, with who gives it."""
    lists: dict[frozenset[str], tuple[list[str], list[str]]] = {}
    for m in votes.group:
        actors = m.item.participants  # type: ignore[union-attr]
        if not actors:
            continue
        key = frozenset(participant_key(a) for a in actors)
        _, articles = lists.setdefault(key, ([a.canonical_name or a.name for a in actors], []))
        articles.append(m.article_id)
    if len(lists) > 1:
        votes.record("participants", list(lists.values()))


def _common(group: list[Mention], event_id: str) -> dict[str, Any]:
    published = [m.published for m in group if m.published]
    return {
        "id": event_id,
        "first_reported": min(published, default=None),
        "last_reported": max(published, default=None),
        "sources": [m.to_source() for m in group],
    }


def build_exercise(group: list[Mention], event_id: str) -> ExerciseEvent:
    votes = Votes(group)
    items: list[Exercise] = [m.item for m in group]  # type: ignore[misc]
    _participant_conflict(votes)
    fields = {
        "name": votes.pick("name"),
        "kind": votes.pick("kind", conflict=True),
        "status": votes.pick("status", conflict=True),
        "participants": union_actors([item.participants for item in items]),
        "start_date": votes.pick("start_date", conflict=True),
        "end_date": votes.pick("end_date", conflict=True),
        "location": votes.pick("location"),
        "aircraft": list(dict.fromkeys(a for item in items for a in item.aircraft)),
        "description": items[0].description,
    }
    start, end = fields["start_date"], fields["end_date"]
    if start and end and end < start:
        # Majorities picked apart can make a range no source states; take the end that goes
        # with the chosen start (both conflicts stay recorded).
        fields["end_date"] = next((i.end_date for i in items if i.start_date == start and i.end_date), None)
    return ExerciseEvent(**_common(group, event_id), **fields, conflicts=votes.conflicts)


def build_deployment(group: list[Mention], event_id: str) -> DeploymentEvent:
    votes = Votes(group)
    fields = {
        "designation": votes.pick("designation"),
        "name": votes.pick("name"),
        "operator": votes.pick("operator"),
        "home_base": votes.pick("home_base"),
        "deployed_to": votes.pick("deployed_to"),
        "count": votes.pick("count", conflict=True),
        "role": votes.pick("role", conflict=True),
    }
    return DeploymentEvent(**_common(group, event_id), **fields, conflicts=votes.conflicts)


def build_statement(group: list[Mention], event_id: str) -> StatementEvent:
    votes = Votes(group)
    items: list[PoliticalStatement] = [m.item for m in group]  # type: ignore[misc]
    quotes = [item.quote for item in items if item.quote]
    fields = {
        "speaker": votes.pick("speaker"),
        "speaker_title": votes.pick("speaker_title"),
        # The longest quote is the most complete; shorter ones are usually its excerpts.
        "quote": max(quotes, key=len) if quotes else None,
        "summary": items[0].summary,
        "stance": votes.pick("stance", conflict=True),
        "targets": union_actors([item.targets for item in items]),
        "date": votes.pick("date", conflict=True),
    }
    return StatementEvent(**_common(group, event_id), **fields, conflicts=votes.conflicts)


BUILDERS: dict[str, Callable[[list[Mention], str], EventBase]] = {
    "exercise": build_exercise,
    "deployment": build_deployment,
    "statement": build_statement,
}
