"""Grouping mentions into events with a rule: deterministic, whatever the input order."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable, Iterable

from .mentions import Mention
from .rules import Rule

BUCKET_DAYS = 7
# Pairwise verdicts kept for reuse; bounded so a run over many results keeps a steady footprint.
MEMO_LIMIT = 1 << 18


def _week(day: dt.date) -> int:
    return day.toordinal() // BUCKET_DAYS


class _Index:
    """Events filed by block key and week, so a mention meets only events near it in time.

    Without the weeks, every US-led exercise of a year would be a candidate for every
    other; with them a run stays linear in the number of results.
    """

    def __init__(self, reach_days: int) -> None:
        self.reach = -(-reach_days // BUCKET_DAYS)  # ceiling: a whole week either side covers it
        # dicts as ordered sets: filing an event twice under one bucket is a no-op
        self.filed: dict[str, dict[int | None, dict[int, None]]] = defaultdict(lambda: defaultdict(dict))

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
                self.filed[key][week][number] = None


class _Event:
    """The mentions of one event so far, with what the rule needs to test a newcomer.

    A rule's vetoes read only the article and the mentions' `veto_key`s, its positive evidence
    only their `like_key`s; members that share a key answer alike, so a newcomer is tested
    against each distinct key once instead of against every member (an event reported by a
    thousand articles has a handful of distinct veto keys).
    """

    __slots__ = ("articles", "likes", "mentions", "vetoes")

    def __init__(self) -> None:
        self.mentions: list[Mention] = []
        self.articles: set[str] = set()
        self.vetoes: dict[Hashable, None] = {}  # ordered sets of the members' keys
        self.likes: dict[Hashable, None] = {}

    def add(self, mention: Mention, veto: Hashable, like: Hashable) -> None:
        self.mentions.append(mention)
        self.articles.add(mention.article_id)
        self.vetoes[veto] = None
        self.likes[like] = None


class _Verdicts:
    """`rule.compatible_keys` and `rule.similar_keys` by key pair, each pair decided once."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.memo: dict[tuple[bool, Hashable, Hashable], bool] = {}

    def _ask(self, vetoes: bool, key: Hashable, other: Hashable) -> bool:
        slot = (vetoes, key, other)
        verdict = self.memo.get(slot)
        if verdict is None:
            verdict = self.rule.compatible_keys(key, other) if vetoes else self.rule.similar_keys(key, other)
            if len(self.memo) >= MEMO_LIMIT:
                self.memo.clear()
            self.memo[slot] = verdict
        return verdict

    def joins(self, mention: Mention, veto: Hashable, like: Hashable, event: _Event) -> bool:
        if mention.article_id in event.articles:
            return False  # two items of one article are two things
        return all(self._ask(True, veto, key) for key in event.vetoes) and any(
            self._ask(False, like, key) for key in event.likes
        )


def cluster(mentions: Iterable[Mention], rule: Rule) -> list[list[Mention]]:
    """Mentions grouped into events, earliest reported first.

    Mentions are taken in (published, article id, position) order, whatever the input order,
    so the same results always give the same events. A mention joins the first candidate event
    it is compatible with in full and similar to in part (see `rules`), else starts its own.
    """
    events: list[_Event] = []
    index = _Index(rule.reach_days)
    verdicts = _Verdicts(rule)
    for mention in sorted(mentions, key=lambda m: m.order):
        keys, span = rule.blocks(mention), rule.span(mention)
        veto, like = rule.veto_key(mention), rule.like_key(mention)
        chosen = next(
            (number for number in index.candidates(keys, span) if verdicts.joins(mention, veto, like, events[number])),
            None,
        )
        if chosen is None:
            chosen = len(events)
            events.append(_Event())
        events[chosen].add(mention, veto, like)
        index.file(keys, span, chosen)
    return [event.mentions for event in events]
