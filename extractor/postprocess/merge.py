"""Merge duplicate mentions of one thing (within an article, or across its chunks).

- Aircraft: same normalized designation, same operator (canonical name, else country, else
  the name as written) and same place (`deployed_to`; "Andersen AFB, Guam" and "Guam" are one
  place, its last comma-separated part; none is a place of its own) are one item. Contract 1.2: B-52s deployed to two places are two entries, and so are B-52s
  flying in an exercise and B-52s deployed elsewhere.
- Exercises: same name when both give one, same participants (by country/canonical name),
  and same dates — resolved dates, else the date as written. Undated, unnamed exercises are
  merged only when their evidence spans overlap, since "a drill" twice may be two drills.
- Statements: same speaker and the same direct quote.
Merged items keep the first item's fields, fill its nulls from later ones, union the
evidence (deduplicated by span, else by quote) and keep a count or nuclear_capable only when
the duplicates agree.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from ..schemas import Actor, Aircraft, Evidence, Exercise, PoliticalStatement
from ..schemas.common import MAX_EVIDENCE
from .gazetteer import alias_key

T = TypeVar("T", Aircraft, Exercise, PoliticalStatement)

# Fields where disagreement means "unknown", not "take the first".
_MUST_AGREE = {"count", "nuclear_capable"}


def actor_key(actor: Actor | None) -> Hashable:
    if actor is None:
        return None
    return actor.canonical_name or actor.country or alias_key(actor.name)


def evidence_key(evidence: Evidence) -> Hashable:
    return (evidence.start, evidence.end) if evidence.start is not None else alias_key(evidence.quote)


def merge_evidence(lists: Sequence[Sequence[Evidence]]) -> list[Evidence]:
    seen: dict[Hashable, Evidence] = {}
    for evidence in (ev for group in lists for ev in group):
        seen.setdefault(evidence_key(evidence), evidence)
    return list(seen.values())[:MAX_EVIDENCE]


def _merge_group(items: list[T]) -> T:
    first = items[0]
    if len(items) == 1:
        return first
    update: dict[str, Any] = {"evidence": merge_evidence([item.evidence for item in items])}
    for field in type(first).model_fields:
        if field == "evidence":
            continue
        values = [getattr(item, field) for item in items]
        known = [v for v in values if v is not None and v != []]
        if field in _MUST_AGREE:
            update[field] = known[0] if known and all(v == known[0] for v in known) else None
        elif field == "aircraft":  # Exercise.aircraft: union in order of appearance
            update[field] = list(dict.fromkeys(d for v in values for d in v))
        elif getattr(first, field) in (None, []) and known:
            update[field] = known[0]
    return first.model_copy(update=update)


def _group(items: Sequence[T], key: Callable[[T], Hashable | None]) -> list[list[T]]:
    groups: dict[Hashable, list[T]] = {}
    singles: list[list[T]] = []
    order: list[list[T]] = []
    for item in items:
        k = key(item)
        if k is None:
            singles.append([item])
            order.append(singles[-1])
        elif k in groups:
            groups[k].append(item)
        else:
            groups[k] = [item]
            order.append(groups[k])
    return order


def aircraft_place(item: Aircraft) -> str | None:
    """Where an aircraft entry is (contract 1.2: one entry per type, operator and place).

    "Andersen AFB, Guam" and "Guam" are one place: the last comma-separated part decides.
    """
    return alias_key(item.deployed_to.split(",")[-1]) if item.deployed_to else None


def _aircraft_key(item: Aircraft) -> Hashable:
    return (item.designation.upper(), actor_key(item.operator), aircraft_place(item))


def _exercise_key(item: Exercise) -> Hashable | None:
    dates: Hashable = (item.start_date, item.end_date) if item.start_date or item.end_date else None
    if dates is None and item.date_text:
        dates = alias_key(item.date_text)
    if dates is None and item.name is None:
        return None  # decided by evidence overlap instead
    participants = frozenset(actor_key(a) for a in item.participants)
    return (alias_key(item.name) if item.name else None, dates, participants)


def _statement_key(item: PoliticalStatement) -> Hashable | None:
    if item.quote is None:
        return None
    return (actor_key(item.speaker), alias_key(item.quote))


def _spans(item: Exercise) -> list[tuple[int, int]]:
    return [(e.start, e.end) for e in item.evidence if e.start is not None and e.end is not None]


def _overlap(a: Exercise, b: Exercise) -> bool:
    return any(s1 < e2 and s2 < e1 for s1, e1 in _spans(a) for s2, e2 in _spans(b))


def _merge_by_overlap(groups: list[list[Exercise]]) -> list[list[Exercise]]:
    """Undated exercises join an earlier group whose evidence they overlap."""
    result: list[list[Exercise]] = []
    for group in groups:
        head = group[0]
        undated = _exercise_key(head) is None
        target = next((g for g in result if undated and any(_overlap(head, other) for other in g)), None)
        if target is not None:
            target.extend(group)
        else:
            result.append(list(group))
    return result


def merge_aircraft(items: Sequence[Aircraft]) -> list[Aircraft]:
    return [_merge_group(g) for g in _group(items, _aircraft_key)]


def merge_exercises(items: Sequence[Exercise]) -> list[Exercise]:
    return [_merge_group(g) for g in _merge_by_overlap(_group(items, _exercise_key))]


def merge_statements(items: Sequence[PoliticalStatement]) -> list[PoliticalStatement]:
    return [_merge_group(g) for g in _group(items, _statement_key)]
