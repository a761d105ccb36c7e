"""The matching rules: when two mentions from different articles are the same event.

Each rule has three parts:

- `blocks(m)` and `span(m)`: keys and dates under which a mention is filed; only mentions
  sharing a key and lying within `reach_days` of each other are compared (this is what keeps
  a run over thousands of results fast; `reach_days` is the rule's widest date slack);
- `compatible(a, b)`: hard vetoes. A mention joins an event only if it is compatible with
  *every* mention already in it, so clearly different dates, disjoint participants or two
  different names never end up in one event, even through a chain of similar mentions;
- `similar(a, b)`: positive evidence. It must hold with *at least one* mention of the event.

Each mention is read once into two keys: `veto_key(m)`, all that the vetoes look at, and
`like_key(m)`, all that the positive evidence looks at; the tests run on keys
(`compatible_keys`, `similar_keys`). Mentions with equal keys get equal verdicts, which lets
`cluster` test a newcomer once per distinct key of an event rather than once per member.

Two items of the same article are never one event: the extractor already merged an article's
duplicate mentions, so two items there are two things.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Hashable
from typing import Any, NamedTuple, Protocol

from rapidfuzz import fuzz

from ..postprocess.gazetteer import parse_designation
from ..schemas import Actor, Aircraft, Exercise, PoliticalStatement
from .mentions import Mention
from .speakers import Speaker, alias_key, same_speaker, speaker_key, speaker_of, surname_keys

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

STATEMENT_DATE_SLACK_DAYS = 2
STATEMENT_REPORTED_SLACK_DAYS = 7
QUOTE_SIMILARITY = 85
MIN_QUOTE_CHARS = 12
SUMMARY_SIMILARITY = 70
# Weaker wording suffices when the context agrees (same stance, and the same stated day or
# the same addressees): two outlets' paraphrases of one claim, figures aside.
CONTEXT_SIMILARITY = 60

_YEAR = re.compile(r"^(19|20)\d\d$")


class Rule(Protocol):
    reach_days: int

    def blocks(self, mention: Mention) -> set[str]: ...

    def span(self, mention: Mention) -> tuple[dt.date, dt.date] | None: ...

    def veto_key(self, mention: Mention) -> Hashable: ...

    def like_key(self, mention: Mention) -> Hashable: ...

    # Any: each rule takes the keys its own veto_key/like_key made.
    def compatible_keys(self, a: Any, b: Any) -> bool: ...

    def similar_keys(self, a: Any, b: Any) -> bool: ...

    def compatible(self, a: Mention, b: Mention) -> bool: ...

    def similar(self, a: Mention, b: Mention) -> bool: ...


class KeyedRule:
    """`compatible` and `similar` on mentions, by way of their keys."""

    def veto_key(self, mention: Mention) -> Hashable:
        raise NotImplementedError

    def like_key(self, mention: Mention) -> Hashable:
        raise NotImplementedError

    def compatible_keys(self, a: Hashable, b: Hashable) -> bool:
        raise NotImplementedError

    def similar_keys(self, a: Hashable, b: Hashable) -> bool:
        raise NotImplementedError

    def compatible(self, a: Mention, b: Mention) -> bool:
        """Vetoes: never two items of one article, then the rule's own."""
        return a.article_id != b.article_id and self.compatible_keys(self.veto_key(a), self.veto_key(b))

    def similar(self, a: Mention, b: Mention) -> bool:
        return self.similar_keys(self.like_key(a), self.like_key(b))


def participant_key(actor: Actor) -> str:
    """Countries match across spellings ("U.S." and "U.S. Air Force" are both USA)."""
    return actor.country or actor.canonical_name or alias_key(actor.name)


Span = tuple[dt.date, dt.date]


def _gap_days(a: Span, b: Span) -> int:
    """Days between two date ranges; 0 when they overlap."""
    if a[1] < b[0]:
        return (b[0] - a[1]).days
    if b[1] < a[0]:
        return (a[0] - b[1]).days
    return 0


def _day(day: dt.date | None) -> Span | None:
    return (day, day) if day else None


def _text_similar(a: str | None, b: str | None, threshold: int) -> bool:
    return a is not None and b is not None and fuzz.token_set_ratio(alias_key(a), alias_key(b)) >= threshold


class ExerciseVeto(NamedTuple):
    name: str | None
    kind: str
    participants: frozenset[str]
    window: Span | None  # the explicit dates
    reference: Span | None  # the explicit dates, else the publication day


class ExerciseLike(NamedTuple):
    named: bool
    participants: frozenset[str]
    dated: bool
    date_text: str | None


class ExerciseRule(KeyedRule):
    """Exercises: the same normalized name, else the same participants, kind and dates."""

    reach_days = max(EXPLICIT_DATE_SLACK_DAYS, REPORTED_DATE_SLACK_DAYS)

    @staticmethod
    def _item(m: Mention) -> Exercise:
        return m.item  # type: ignore[return-value]

    @staticmethod
    def window(m: Mention) -> Span | None:
        item = ExerciseRule._item(m)
        if item.start_date is None:
            return None
        return item.start_date, item.end_date or item.start_date

    @staticmethod
    def participants(m: Mention) -> frozenset[str]:
        return frozenset(participant_key(actor) for actor in ExerciseRule._item(m).participants)

    def span(self, m: Mention) -> Span | None:
        return self.window(m) or _day(m.published)

    def veto_key(self, m: Mention) -> ExerciseVeto:
        item = self._item(m)
        return ExerciseVeto(item.name, item.kind, self.participants(m), self.window(m), self.span(m))

    def like_key(self, m: Mention) -> ExerciseLike:
        item = self._item(m)
        date_text = alias_key(item.date_text) if item.date_text else None
        return ExerciseLike(item.name is not None, self.participants(m), item.start_date is not None, date_text)

    def blocks(self, m: Mention) -> set[str]:
        item = self._item(m)
        words = alias_key(item.name).split() if item.name else []
        return {f"p:{key}" for key in self.participants(m)} | {
            f"n:{word}" for word in words if len(word) > 2 and not _YEAR.match(word)
        }

    def compatible_keys(self, a: ExerciseVeto, b: ExerciseVeto) -> bool:  # type: ignore[override]
        if a.name and b.name and not _text_similar(a.name, b.name, NAME_SIMILARITY):
            return False
        if a.kind != b.kind and not {a.kind, b.kind} & LENIENT_KINDS:
            return False
        if a.participants and b.participants and not a.participants & b.participants:
            return False
        if a.window and b.window:
            return _gap_days(a.window, b.window) <= EXPLICIT_DATE_SLACK_DAYS
        return not (a.reference and b.reference) or _gap_days(a.reference, b.reference) <= REPORTED_DATE_SLACK_DAYS

    def similar_keys(self, a: ExerciseLike, b: ExerciseLike) -> bool:  # type: ignore[override]
        if a.named and b.named:
            return True  # the vetoes already found the names alike
        pa, pb = a.participants, b.participants
        if not (pa and pb) or len(pa & pb) / len(pa | pb) < PARTICIPANT_OVERLAP:
            return False
        if a.dated or b.dated:
            return True
        # Neither is dated: "the January drill" and "the June drill" of two background
        # paragraphs must not become one, so their dates as written must not differ.
        return not (a.date_text and b.date_text) or a.date_text == b.date_text


class DeploymentVeto(NamedTuple):
    designation: str  # folded, for designations that do not parse
    family: tuple[str, str] | None  # ("B52", "H") for "B-52H"
    operator: str | None
    deployed_to: str | None
    published: dt.date | None


class DeploymentLike(NamedTuple):
    operator: str | None
    deployed_to: str | None
    home_base: str | None


class DeploymentRule(KeyedRule):
    """Deployments: the same designation, operator and place, within a time window."""

    reach_days = DEPLOYMENT_GAP_DAYS

    def span(self, m: Mention) -> Span | None:
        return _day(m.published)

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

    def veto_key(self, m: Mention) -> DeploymentVeto:
        item = self._item(m)
        return DeploymentVeto(
            alias_key(item.designation), self.designation(m), self.operator(m), item.deployed_to, m.published
        )

    def like_key(self, m: Mention) -> DeploymentLike:
        item = self._item(m)
        return DeploymentLike(self.operator(m), item.deployed_to, item.home_base)

    def blocks(self, m: Mention) -> set[str]:
        designation = self.designation(m)
        return {designation[0] if designation else alias_key(self._item(m).designation)}

    def compatible_keys(self, a: DeploymentVeto, b: DeploymentVeto) -> bool:  # type: ignore[override]
        if a.family is None or b.family is None:
            if a.designation != b.designation:
                return False
        elif a.family[0] != b.family[0] or (a.family[1] and b.family[1] and a.family[1] != b.family[1]):
            return False
        if a.operator and b.operator and a.operator != b.operator:
            return False
        if a.deployed_to and b.deployed_to and not _text_similar(a.deployed_to, b.deployed_to, PLACE_SIMILARITY):
            return False
        return (
            a.published is None or b.published is None or abs((a.published - b.published).days) <= DEPLOYMENT_GAP_DAYS
        )

    def similar_keys(self, a: DeploymentLike, b: DeploymentLike) -> bool:  # type: ignore[override]
        if a.operator != b.operator:
            return False
        if a.deployed_to and b.deployed_to:
            return True  # the vetoes already found the places alike
        places_a = [p for p in (a.deployed_to, a.home_base) if p]
        places_b = [p for p in (b.deployed_to, b.home_base) if p]
        return any(_text_similar(pa, pb, PLACE_SIMILARITY) for pa in places_a for pb in places_b)


class StatementVeto(NamedTuple):
    speaker: Speaker
    date: dt.date | None
    published: dt.date | None


class StatementLike(NamedTuple):
    quote: str | None
    summary: str
    stance: str
    targets: frozenset[str]
    date: dt.date | None
    evidence: tuple[str, ...]


class StatementRule(KeyedRule):
    """Statements: the same speaker, the same words (quote, else summary), the same days."""

    reach_days = max(STATEMENT_DATE_SLACK_DAYS, STATEMENT_REPORTED_SLACK_DAYS)

    @staticmethod
    def _item(m: Mention) -> PoliticalStatement:
        return m.item  # type: ignore[return-value]

    def span(self, m: Mention) -> Span | None:
        return _day(self._item(m).date or m.published)

    def veto_key(self, m: Mention) -> StatementVeto:
        item = self._item(m)
        return StatementVeto(speaker_of(item.speaker), item.date, m.published)

    def like_key(self, m: Mention) -> StatementLike:
        item = self._item(m)
        targets = frozenset(participant_key(t) for t in item.targets)
        evidence = tuple(e.quote for e in item.evidence)
        return StatementLike(item.quote, item.summary, item.stance, targets, item.date, evidence)

    def blocks(self, m: Mention) -> set[str]:
        # The surname, and its one-letter deletions when it is long enough to be matched
        # despite a misspelling: "Hulusi Akar" and "Akar" meet, so do "Chaudhry" and "Chaundry".
        words = speaker_key(self._item(m).speaker).split()
        return set(surname_keys(words[-1] if words else ""))

    def compatible_keys(self, a: StatementVeto, b: StatementVeto) -> bool:  # type: ignore[override]
        if not same_speaker(a.speaker, b.speaker):
            return False
        if a.speaker.country and b.speaker.country and a.speaker.country != b.speaker.country:
            return False
        # An article cannot report words said after it was published.
        if (a.date and b.published and a.date > b.published) or (b.date and a.published and b.date > a.published):
            return False
        if a.date and b.date:
            return abs((a.date - b.date).days) <= STATEMENT_DATE_SLACK_DAYS
        # Otherwise the stated date where there is one, else the publication date.
        ra, rb = a.date or a.published, b.date or b.published
        return ra is None or rb is None or abs((ra - rb).days) <= STATEMENT_REPORTED_SLACK_DAYS

    def similar_keys(self, a: StatementLike, b: StatementLike) -> bool:  # type: ignore[override]
        if a.quote and b.quote and min(len(a.quote), len(b.quote)) >= MIN_QUOTE_CHARS:
            # One article may quote only part of the sentence another quotes whole.
            return fuzz.partial_ratio(alias_key(a.quote), alias_key(b.quote)) >= QUOTE_SIMILARITY
        if fuzz.token_sort_ratio(alias_key(a.summary), alias_key(b.summary)) >= SUMMARY_SIMILARITY:
            return True
        return _same_context(a, b) and _wording_overlap(a, b) >= CONTEXT_SIMILARITY


def _same_context(a: StatementLike, b: StatementLike) -> bool:
    """The same stance, and the same stated day or the same addressees (never two stated days)."""
    if a.stance != b.stance:
        return False
    if a.date and b.date:
        return a.date == b.date
    return bool(a.targets) and a.targets == b.targets


_DIGITS = re.compile(r"\d[\d,.]*")


def _figureless(text: str) -> str:
    """Folded text with its figures blanked: reports of one claim often differ in the numbers."""
    return _DIGITS.sub("#", alias_key(text))


def _wording_overlap(a: StatementLike, b: StatementLike) -> float:
    """How much two reports share their words: summaries, else the evidence spans."""
    texts_a, texts_b = [a.summary, *a.evidence], [b.summary, *b.evidence]
    return max(fuzz.token_set_ratio(_figureless(x), _figureless(y)) for x in texts_a for y in texts_b)


RULES: dict[str, Rule] = {"exercise": ExerciseRule(), "deployment": DeploymentRule(), "statement": StatementRule()}
