"""Grouping mentions into events with a rule: deterministic, whatever the input order."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from .mentions import Mention
from .rules import Rule

BUCKET_DAYS = 7


def _week(day: dt.date) -> int:
    return day.toordinal() // BUCKET_DAYS


class _Index:
    """Groups filed by block key and week, so a mention meets only groups near it in time.

    Without the weeks, every US-led exercise of a year would be a candidate for every
    other; with them a run stays linear in the number of results.
    """

    def __init__(self, reach_days: int) -> None:
        self.reach = -(-reach_days // BUCKET_DAYS)  # ceiling: a whole week either side covers it
        self.filed: dict[str, dict[int | None, list[int]]] = defaultdict(lambda: defaultdict(list))

    def candidates(self, keys: set[str], span: tuple[dt.date, dt.date] | None) -> list[int]:
        found: set[int] = set()
        for key in keys:
            weeks = self.filed.get(key)
            if not weeks:
                continue
            if span is None:  # undated: anything filed under the key may be it
                found.update(number for numbers in weeks.values() for number in numbers)
                continue
            for week in (*range(_week(span[0]) - self.reach, _week(span[1]) + self.reach + 1), None):
                found.update(weeks.get(week, ()))
        return sorted(found)

    def file(self, keys: set[str], span: tuple[dt.date, dt.date] | None, number: int) -> None:
        weeks = [None] if span is None else range(_week(span[0]), _week(span[1]) + 1)
        for key in keys:
            for week in weeks:
                numbers = self.filed[key][week]
                if number not in numbers:
                    numbers.append(number)


def cluster(mentions: Iterable[Mention], rule: Rule) -> list[list[Mention]]:
    """Mentions grouped into events, earliest reported first.

    Mentions are taken in (published, article id, position) order, whatever the input order,
    so the same results always give the same events. A mention joins the first candidate event
    it is compatible with in full and similar to in part (see `rules`), else starts its own.
    """
    groups: list[list[Mention]] = []
    index = _Index(rule.reach_days)
    for mention in sorted(mentions, key=lambda m: m.order):
        keys, span = rule.blocks(mention), rule.span(mention)
        chosen = next(
            (
                number
                for number in index.candidates(keys, span)
                if all(rule.compatible(mention, other) for other in groups[number])
                and any(rule.similar(mention, other) for other in groups[number])
            ),
            None,
        )
        if chosen is None:
            chosen = len(groups)
            groups.append([])
        groups[chosen].append(mention)
        index.file(keys, span, chosen)
    return groups
