"""The matching rules: when two mentions from different articles are the same event.

Each rule has three parts:

- `blocks(m)` and `span(m)`: keys and dates under which a mention is filed; only mentions
  sharing a key and lying within `reach_days` of each other are compared (this is what keeps
  a run over thousands of results fast; `reach_days` is the rule's widest date slack);
- `compatible(a, b)`: hard vetoes. A mention joins an event only if it is compatible with
  *every* mention already in it, so clearly different dates, disjoint participants or two
  different names never end up in one event, even through a chain of similar mentions;
- `similar(a, b)`: positive evidence. It must hold with *at least one* mention of the event.

`compatible` reads only the articles and `veto_key(m)`, `similar` only `like_key(m)`: mentions
with equal keys get equal verdicts, which lets `cluster` test a newcomer once per distinct
key of an event rather than once per member.

Two items of the same article are never one event: the extractor already merged an article's
duplicate mentions, so two items there are two things.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Hashable
from functools import lru_cache
from typing import Protocol

from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

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
# A surname misspelt by one letter added, dropped or replaced ("Chaundry" / "Chaudhry": an
# insertion and a deletion), for names long enough that such a slip does not as easily turn
# one real name into another.
MIN_FUZZY_SURNAME = 6
SURNAME_EDITS = 2
STATEMENT_DATE_SLACK_DAYS = 2
STATEMENT_REPORTED_SLACK_DAYS = 7
QUOTE_SIMILARITY = 85
MIN_QUOTE_CHARS = 12
SUMMARY_SIMILARITY = 70
# Weaker wording suffices when the context agrees (same stance, and the same stated day or
# the same addressees): two outlets' paraphrases of one claim, figures aside.
CONTEXT_SIMILARITY = 60

_YEAR = re.compile(r"^(19|20)\d\d$")

# Rules compare each mention with many others; its names are folded once, not every time.
alias_key = lru_cache(maxsize=1 << 16)(_alias_key)


class Rule(Protocol):
    reach_days: int

    def blocks(self, mention: Mention) -> set[str]: ...

    def span(self, mention: Mention) -> tuple[dt.date, dt.date] | None: ...

    def veto_key(self, mention: Mention) -> Hashable: ...

    def like_key(self, mention: Mention) -> Hashable: ...

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

    def veto_key(self, m: Mention) -> Hashable:
        item = self._item(m)
        return (item.name, item.kind, frozenset(self.participants(m)), item.start_date, item.end_date, m.published)

    def like_key(self, m: Mention) -> Hashable:
        item = self._item(m)
        return (item.name is not None, frozenset(self.participants(m)), self.window(m), item.date_text)

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

    def veto_key(self, m: Mention) -> Hashable:
        item = self._item(m)
        return (item.designation, self.operator(m), item.deployed_to, m.published)

    def like_key(self, m: Mention) -> Hashable:
        item = self._item(m)
        return (self.operator(m), item.deployed_to, item.home_base)

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

    def veto_key(self, m: Mention) -> Hashable:
        speaker = self._item(m).speaker
        return (speaker.canonical_name, speaker_key(speaker), speaker.country, self._item(m).date, m.published)

    def like_key(self, m: Mention) -> Hashable:
        item = self._item(m)
        targets = frozenset(participant_key(t) for t in item.targets)
        evidence = tuple(e.quote for e in item.evidence)
        return (item.quote, item.summary, item.stance, targets, item.date, evidence)

    def blocks(self, m: Mention) -> set[str]:
        # The surname, and its one-letter deletions when it is long enough to be matched
        # despite a misspelling: "Hulusi Akar" and "Akar" meet, so do "Chaudhry" and "Chaundry".
        words = speaker_key(self._item(m).speaker).split()
        return surname_keys(words[-1] if words else "")

    def compatible(self, a: Mention, b: Mention) -> bool:
        if a.article_id == b.article_id:
            return False
        sa, sb = self._item(a).speaker, self._item(b).speaker
        if not same_speaker(sa, sb):
            return False
        if sa.country and sb.country and sa.country != sb.country:
            return False
        da, db = self._item(a).date, self._item(b).date
        # An article cannot report words said after it was published.
        if (da and b.published and da > b.published) or (db and a.published and db > a.published):
            return False
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
        if fuzz.token_sort_ratio(alias_key(ia.summary), alias_key(ib.summary)) >= SUMMARY_SIMILARITY:
            return True
        return self._same_context(ia, ib) and _wording_overlap(ia, ib) >= CONTEXT_SIMILARITY

    @staticmethod
    def _same_context(ia: PoliticalStatement, ib: PoliticalStatement) -> bool:
        """The same stance, and the same stated day or the same addressees (never two stated days)."""
        if ia.stance != ib.stance:
            return False
        if ia.date and ib.date:
            return ia.date == ib.date
        targets_a = {participant_key(t) for t in ia.targets}
        return bool(targets_a) and targets_a == {participant_key(t) for t in ib.targets}


_DIGITS = re.compile(r"\d[\d,.]*")


def _figureless(text: str) -> str:
    """Folded text with its figures blanked: reports of one claim often differ in the numbers."""
    return _DIGITS.sub("#", alias_key(text))


def _wording_overlap(ia: PoliticalStatement, ib: PoliticalStatement) -> float:
    """How much two reports share their words: summaries, else the evidence spans."""
    texts_a = [ia.summary, *(e.quote for e in ia.evidence)]
    texts_b = [ib.summary, *(e.quote for e in ib.evidence)]
    return max(fuzz.token_set_ratio(_figureless(x), _figureless(y)) for x in texts_a for y in texts_b)


def surname_keys(surname: str) -> set[str]:
    """The surname and, from `MIN_FUZZY_SURNAME` letters on, every spelling one letter shorter.

    Two spellings one letter added, dropped or replaced apart share one of these (one deletion
    each side). `same_speaker` requires a shared one, so blocking on them hides no pair.
    """
    if len(surname) < MIN_FUZZY_SURNAME:
        return {surname}
    return {surname} | {surname[:i] + surname[i + 1 :] for i in range(len(surname))}


def same_speaker(sa: Actor, sb: Actor) -> bool:
    """Canonical names when both have one; else surnames alike and the names alike.

    The surnames must share a `surname_keys` spelling (equal, or one letter apart when long
    enough). Then the names must be alike as a whole ("Akar" = "Hulusi Akar"), or the
    surnames one slip apart ("Chaundry" for "Chaudhry") with any given names equal and both
    speakers placed in the same country.
    """
    if sa.canonical_name and sb.canonical_name:
        return sa.canonical_name == sb.canonical_name
    ka, kb = speaker_key(sa), speaker_key(sb)
    wa, wb = ka.split(), kb.split()
    if not (wa and wb) or not surname_keys(wa[-1]) & surname_keys(wb[-1]):
        return False
    if fuzz.token_set_ratio(ka, kb) >= SPEAKER_SIMILARITY:
        return True
    surname_a, surname_b = wa[-1], wb[-1]
    return (
        bool(sa.country)
        and sa.country == sb.country
        and (len(wa) == 1 or len(wb) == 1 or wa[:-1] == wb[:-1])
        and min(len(surname_a), len(surname_b)) >= MIN_FUZZY_SURNAME
        and Indel.distance(surname_a, surname_b) <= SURNAME_EDITS
    )


RULES: dict[str, Rule] = {"exercise": ExerciseRule(), "deployment": DeploymentRule(), "statement": StatementRule()}
