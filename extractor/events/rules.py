"""The matching rules: when two mentions from different articles are the same event.

Each rule has three parts:

- `blocks(m)` and `span(m)`: keys and dates under which a mention is filed; only mentions
  sharing a key and lying within `reach_days` of each other are compared (this is what keeps
  a run over thousands of results fast; `reach_days` is the rule's widest date slack);
- `compatible(a, b)`: hard vetoes. A mention joins an event only if it is compatible with
  *every* mention already in it, so clearly different dates, disjoint participants or two
  different names never end up in one event, even through a chain of similar mentions;
- `similar(a, b)`: positive evidence. It must hold with *at least one* mention of the event.

Two items of the same article are never one event: the extractor already merged an article's
duplicate mentions, so two items there are two things.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Protocol

from rapidfuzz import fuzz

from ..postprocess.gazetteer import alias_key as _alias_key
from ..postprocess.gazetteer import parse_designation
from ..schemas import Actor, Aircraft, Exercise, PoliticalStatement
from .mentions import Mention

# Exercises: two explicitly dated reports are one exercise only if their date ranges overlap
# or lie within this many days (a drill reported as "Monday" by one and "Tuesday" by another).
EXPLICIT_DATE_SLACK_DAYS = 3
# Without an explicit date, the publication date stands in; reports of one drill come out
# within days of each other, a drill a month later is another one.
REPORTED_DATE_SLACK_DAYS = 10
NAME_SIMILARITY = 90
PARTICIPANT_OVERLAP = 0.5
# Broad kinds that do not contradict a specific one ("joint" air-and-naval drill vs "air").
LENIENT_KINDS = {"joint", "other"}

DEPLOYMENT_GAP_DAYS = 45
PLACE_SIMILARITY = 85

SPEAKER_SIMILARITY = 90
STATEMENT_DATE_SLACK_DAYS = 2
STATEMENT_REPORTED_SLACK_DAYS = 7
QUOTE_SIMILARITY = 85
MIN_QUOTE_CHARS = 12
SUMMARY_SIMILARITY = 70

_YEAR = re.compile(r"^(19|20)\d\d$")

# Rules compare each mention with many others; its names are folded once, not every time.
alias_key = lru_cache(maxsize=1 << 16)(_alias_key)


class Rule(Protocol):
    reach_days: int

    def blocks(self, mention: Mention) -> set[str]: ...

    def span(self, mention: Mention) -> tuple[dt.date, dt.date] | None: ...

    def compatible(self, a: Mention, b: Mention) -> bool: ...

    def similar(self, a: Mention, b: Mention) -> bool: ...


def participant_key(actor: Actor) -> str:
    """Countries match across spellings ("U.S." and "U.S. Air Force" are both USA)."""
    return actor.country or actor.canonical_name or alias_key(actor.name)


def speaker_key(actor: Actor) -> str:
    """The speaker's name to compare: canonical when known, folded."""
    return alias_key(actor.canonical_name or actor.name)


def _gap_days(a: tuple[dt.date, dt.date], b: tuple[dt.date, dt.date]) -> int:
    """Days between two date ranges; 0 when they overlap."""
    if a[1] < b[0]:
        return (b[0] - a[1]).days
    if b[1] < a[0]:
        return (a[0] - b[1]).days
    return 0


def _published_gap(a: Mention, b: Mention) -> int | None:
    if a.published is None or b.published is None:
        return None
    return abs((a.published - b.published).days)


def _text_similar(a: str | None, b: str | None, threshold: int) -> bool:
    return bool(a and b) and fuzz.token_set_ratio(alias_key(a), alias_key(b)) >= threshold  # type: ignore[arg-type]


class ExerciseRule:
    """Exercises: the same normalized name, else the same participants, kind and dates."""

    reach_days = max(EXPLICIT_DATE_SLACK_DAYS, REPORTED_DATE_SLACK_DAYS)

    @staticmethod
    def _item(m: Mention) -> Exercise:
        return m.item  # type: ignore[return-value]

    @staticmethod
    def window(m: Mention) -> tuple[dt.date, dt.date] | None:
        item = ExerciseRule._item(m)
        if item.start_date is None:
            return None
        return item.start_date, item.end_date or item.start_date

    @staticmethod
    def reference(m: Mention) -> tuple[dt.date, dt.date] | None:
        """The explicit dates, else the publication day."""
        return ExerciseRule.window(m) or ((m.published, m.published) if m.published else None)

    @staticmethod
    def participants(m: Mention) -> set[str]:
        return {participant_key(actor) for actor in ExerciseRule._item(m).participants}

    def span(self, m: Mention) -> tuple[dt.date, dt.date] | None:
        return self.reference(m)

    def blocks(self, m: Mention) -> set[str]:
        item = self._item(m)
        words = alias_key(item.name).split() if item.name else []
        return {f"p:{key}" for key in self.participants(m)} | {
            f"n:{word}" for word in words if len(word) > 2 and not _YEAR.match(word)
        }

    def compatible(self, a: Mention, b: Mention) -> bool:
        if a.article_id == b.article_id:
            return False
        ia, ib = self._item(a), self._item(b)
        if ia.name and ib.name and not _text_similar(ia.name, ib.name, NAME_SIMILARITY):
            return False
        if ia.kind != ib.kind and not {ia.kind, ib.kind} & LENIENT_KINDS:
            return False
        pa, pb = self.participants(a), self.participants(b)
        if pa and pb and not pa & pb:
            return False
        wa, wb = self.window(a), self.window(b)
        if wa and wb:
            return _gap_days(wa, wb) <= EXPLICIT_DATE_SLACK_DAYS
        ra, rb = self.reference(a), self.reference(b)
        return not (ra and rb) or _gap_days(ra, rb) <= REPORTED_DATE_SLACK_DAYS

    def similar(self, a: Mention, b: Mention) -> bool:
        ia, ib = self._item(a), self._item(b)
        if ia.name and ib.name:
            return True  # compatible() already found the names alike
        pa, pb = self.participants(a), self.participants(b)
        if not (pa and pb) or len(pa & pb) / len(pa | pb) < PARTICIPANT_OVERLAP:
            return False
        if self.window(a) or self.window(b):
            return True
        # Neither is dated: "the January drill" and "the June drill" of two background
        # paragraphs must not become one, so their dates as written must not differ.
        return not (ia.date_text and ib.date_text) or alias_key(ia.date_text) == alias_key(ib.date_text)


class DeploymentRule:
    """Deployments: the same designation, operator and place, within a time window."""

    reach_days = DEPLOYMENT_GAP_DAYS

    def span(self, m: Mention) -> tuple[dt.date, dt.date] | None:
        return (m.published, m.published) if m.published else None

    @staticmethod
    def _item(m: Mention) -> Aircraft:
        return m.item  # type: ignore[return-value]

    @staticmethod
    def designation(m: Mention) -> tuple[str, str] | None:
        """(family, series): "B-52H" is ("B52", "H"), "B-52" is ("B52", "")."""
        parsed = parse_designation(DeploymentRule._item(m).designation)
        if parsed is None:
            return None
        prefix, number, series = parsed
        return prefix.upper().replace("/", "") + number, series

    @staticmethod
    def operator(m: Mention) -> str | None:
        operator = DeploymentRule._item(m).operator
        return participant_key(operator) if operator else None

    def blocks(self, m: Mention) -> set[str]:
        designation = self.designation(m)
        return {designation[0] if designation else alias_key(self._item(m).designation)}

    def compatible(self, a: Mention, b: Mention) -> bool:
        if a.article_id == b.article_id:
            return False
        da, db = self.designation(a), self.designation(b)
        if da is None or db is None:
            if alias_key(self._item(a).designation) != alias_key(self._item(b).designation):
                return False
        elif da[0] != db[0] or (da[1] and db[1] and da[1] != db[1]):
            return False
        oa, ob = self.operator(a), self.operator(b)
        if oa and ob and oa != ob:
            return False
        ia, ib = self._item(a), self._item(b)
        if ia.deployed_to and ib.deployed_to and not _text_similar(ia.deployed_to, ib.deployed_to, PLACE_SIMILARITY):
            return False
        gap = _published_gap(a, b)
        return gap is None or gap <= DEPLOYMENT_GAP_DAYS

    def similar(self, a: Mention, b: Mention) -> bool:
        if self.operator(a) != self.operator(b):
            return False
        ia, ib = self._item(a), self._item(b)
        if ia.deployed_to and ib.deployed_to:
            return True  # compatible() already found the places alike
        places_a = [p for p in (ia.deployed_to, ia.home_base) if p]
        places_b = [p for p in (ib.deployed_to, ib.home_base) if p]
        return any(_text_similar(pa, pb, PLACE_SIMILARITY) for pa in places_a for pb in places_b)


class StatementRule:
    """Statements: the same speaker, the same words (quote, else summary), the same days."""

    reach_days = max(STATEMENT_DATE_SLACK_DAYS, STATEMENT_REPORTED_SLACK_DAYS)

    def span(self, m: Mention) -> tuple[dt.date, dt.date] | None:
        day = self._item(m).date or m.published
        return (day, day) if day else None

    @staticmethod
    def _item(m: Mention) -> PoliticalStatement:
        return m.item  # type: ignore[return-value]

    def blocks(self, m: Mention) -> set[str]:
        # The surname: "Hulusi Akar" and "Akar" meet; the fuzzy comparison decides.
        words = speaker_key(self._item(m).speaker).split()
        return {words[-1] if words else ""}

    def compatible(self, a: Mention, b: Mention) -> bool:
        if a.article_id == b.article_id:
            return False
        sa, sb = self._item(a).speaker, self._item(b).speaker
        if sa.canonical_name and sb.canonical_name:
            if sa.canonical_name != sb.canonical_name:
                return False
        elif fuzz.token_set_ratio(speaker_key(sa), speaker_key(sb)) < SPEAKER_SIMILARITY:
            return False
        if sa.country and sb.country and sa.country != sb.country:
            return False
        da, db = self._item(a).date, self._item(b).date
        if da and db:
            return abs((da - db).days) <= STATEMENT_DATE_SLACK_DAYS
        # Otherwise the stated date where there is one, else the publication date.
        ra, rb = da or a.published, db or b.published
        return ra is None or rb is None or abs((ra - rb).days) <= STATEMENT_REPORTED_SLACK_DAYS

    def similar(self, a: Mention, b: Mention) -> bool:
        ia, ib = self._item(a), self._item(b)
        if ia.quote and ib.quote and min(len(ia.quote), len(ib.quote)) >= MIN_QUOTE_CHARS:
            # One article may quote only part of the sentence another quotes whole.
            return fuzz.partial_ratio(alias_key(ia.quote), alias_key(ib.quote)) >= QUOTE_SIMILARITY
        return fuzz.token_sort_ratio(alias_key(ia.summary), alias_key(ib.summary)) >= SUMMARY_SIMILARITY


RULES: dict[str, Rule] = {"exercise": ExerciseRule(), "deployment": DeploymentRule(), "statement": StatementRule()}
