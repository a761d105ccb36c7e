"""People in the gazetteer, and telling which one an article's name means.

A name is matched to a person only when the article leaves no doubt:

- the full name (or a listed spelling of it: "Sergei Lavrov", "Kim Jong Un"), after any
  leading titles ("Turkish Defense Minister Hulusi Akar"), names one person, whose country
  and offices do not contradict the title or the actor's country;
- a surname alone ("Akar") counts when the article names that person in full somewhere and
  names no one else with that surname; or, for people listed as known by their surname
  ("Trump", "Putin"), when the article names no one else so called and its publication date
  falls in one of their terms; or when a title and country say which office it is ("Defense
  Minister Akar" of Turkey) and that office's holder on the publication date has that surname;
- an office without a name ("Turkey's defense minister") names its holder on the publication
  date, when exactly one person held it that day.

Everything else stays unmatched: "Kim" alone, "the defense minister" without a country, a
surname shared by two people the article names, a name the gazetteer does not know.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .keys import alias_key

# Publication dates this close to a change of office do not say who held it.
TRANSITION_DAYS = 3


def _day_range(text: str | None, *, end: bool) -> dt.date | None:
    """The first (or, for an end, last) day of "YYYY", "YYYY-MM" or "YYYY-MM-DD"."""
    if not text:
        return None
    parts = [int(p) for p in text.split("-")]
    if len(parts) == 3:
        return dt.date(*parts)
    if len(parts) == 2:
        if not end:
            return dt.date(parts[0], parts[1], 1)
        following = dt.date(parts[0] + parts[1] // 12, parts[1] % 12 + 1, 1)
        return following - dt.timedelta(days=1)
    return dt.date(parts[0], 12, 31) if end else dt.date(parts[0], 1, 1)


@dataclass(frozen=True)
class Term:
    """One office held over a period; `end` None means still held (or the end is not known)."""

    role: str
    title: str
    country: str | None
    body: str | None
    start: dt.date | None
    end: dt.date | None

    def covers(self, day: dt.date, margin: int = 0) -> bool:
        slack = dt.timedelta(days=margin)
        after_start = self.start is None or day >= self.start + slack
        before_end = self.end is None or day <= self.end - slack
        return after_start and before_end


@dataclass(frozen=True)
class PersonEntry:
    canonical_name: str
    qid: str | None
    country: str | None
    names: tuple[str, ...]  # folded full names: the canonical one and every alias
    surname: str | None  # folded; None when the surname alone never identifies them
    known_by_surname: bool
    terms: tuple[Term, ...]

    def in_office(self, day: dt.date) -> bool:
        return any(term.covers(day) for term in self.terms)

    def countries(self) -> set[str]:
        found = {term.country for term in self.terms if term.country}
        return found | ({self.country} if self.country else set())

    def given_names(self) -> set[str]:
        """Folded words of their names other than the surname (to tell "Donald Trump" from "Eric Trump")."""
        surname = set((self.surname or "").split())
        return {word for name in self.names for word in name.split()} - surname


@dataclass
class ArticleContext:
    """What normalization may know about the article: its text and publication date."""

    text: str = ""
    published: dt.date | None = None
    _folded: str = field(default="", init=False, repr=False)

    def __post_init__(self) -> None:
        self._folded = f" {alias_key(self.text)} " if self.text else ""

    def mentions(self, folded_name: str) -> bool:
        return bool(folded_name) and f" {folded_name} " in self._folded

    def capitalized_before(self, surname: str) -> set[str]:
        """Folded capitalized words right before each occurrence of a surname in the text."""
        words = surname.split()
        pattern = r"([\w'’.-]+)\s+(" + r"[\s-]+".join(re.escape(w) for w in words) + r")\b"
        found = set()
        for match in re.finditer(pattern, self.text, flags=re.IGNORECASE):
            word, name = match.group(1), match.group(2)
            # Only the name as a name ("Ankara's trump card" is not), and a word ending a
            # sentence ("... met Kim. Trump said") is not a first name.
            if name[0].isupper() and word[0].isupper() and not word.endswith("."):
                found.add(alias_key(word))
        return found


class PeopleIndex:
    """Lookups over the gazetteer's people."""

    def __init__(self, items: Iterable[dict[str, Any]], titles: dict[str, list[str]], stopwords: Iterable[str]) -> None:
        self.people: list[PersonEntry] = []
        self.by_name: dict[str, list[PersonEntry]] = {}
        self.by_surname: dict[str, list[PersonEntry]] = {}
        self.titles = {alias_key(k): set(v) for k, v in titles.items()}
        self.title_words = {word for title in self.titles for word in title.split()}
        self.stopwords = {alias_key(w) for w in stopwords}
        for item in items:
            self._add(item)

    def _add(self, item: dict[str, Any]) -> None:
        names = tuple(dict.fromkeys(alias_key(n) for n in [item["canonical_name"], *item["aliases"]] if alias_key(n)))
        person = PersonEntry(
            canonical_name=item["canonical_name"],
            qid=item.get("qid"),
            country=item.get("country"),
            names=names,
            surname=alias_key(item["surname"]) if item.get("surname") else None,
            known_by_surname=bool(item.get("known_by_surname")),
            terms=tuple(
                Term(
                    role=t["role"],
                    title=t["title"],
                    country=t.get("country"),
                    body=t.get("body"),
                    start=_day_range(t.get("start"), end=False),
                    end=_day_range(t.get("end"), end=True),
                )
                for t in item["terms"]
            ),
        )
        self.people.append(person)
        for name in names:
            self.by_name.setdefault(name, []).append(person)
        if person.surname:
            self.by_surname.setdefault(person.surname, []).append(person)

    # -- reading a name -----------------------------------------------------------------

    def split_title(self, key: str) -> tuple[list[str], str]:
        """(title phrases, the rest) of a folded name: "defense minister hulusi akar" -> (["defense minister"], "hulusi akar")."""
        words, found = key.split(), []
        start = 0
        while start < len(words):
            for size in range(min(6, len(words) - start), 0, -1):
                phrase = " ".join(words[start : start + size])
                if phrase in self.titles:
                    found.append(phrase)
                    start += size
                    break
            else:
                break
        return found, " ".join(words[start:])

    def roles_of(self, titles: Iterable[str]) -> set[str]:
        roles: set[str] = set()
        for title in titles:
            roles |= self.titles.get(title, set())
        return roles

    # -- resolving ----------------------------------------------------------------------

    def resolve(
        self,
        name: str,
        context: ArticleContext,
        *,
        country: str | None = None,
        prefix_country: str | None = None,
        titles: Iterable[str] = (),
    ) -> PersonEntry | None:
        """The person `name` (titles already removed) means in this article, or None when in doubt.

        `country` is the actor's country as the model gave it; `prefix_country` and `titles`
        what the name's prefix or the speaker's title say ("Turkish", "defense minister").
        """
        titles = list(titles)
        countries = {c for c in (country, prefix_country) if c}
        key = alias_key(name)
        candidates = self._fits(self.by_name.get(key, []), countries, titles)
        if len(candidates) > 1 and context.published:
            candidates = [p for p in candidates if p.in_office(context.published)] or candidates
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            return None
        if " " not in key:
            return self._by_surname(key, context, countries, titles)
        # A first name the gazetteer does not know ("Malie Joly"): only the office can say who.
        surname = key.rsplit(" ", 1)[1]
        holder = self._office_holder(self.by_surname.get(surname, []), context, countries, titles)
        return holder if holder is not None and not self._unknown_bearer(holder, surname, context, key) else None

    def _fits(self, people: list[PersonEntry], countries: set[str], titles: list[str]) -> list[PersonEntry]:
        """People not contradicted by the country or by the titles (by role, or by an office's own title)."""
        roles = self.roles_of(titles)
        out = []
        for person in people:
            if countries and not countries <= person.countries():
                continue
            if roles and not roles & {term.role for term in person.terms}:
                held = " ".join(alias_key(term.title) for term in person.terms)
                if not any(title and f" {title} " in f" {held} " for title in titles):
                    continue
            out.append(person)
        return out

    def _office_holder(
        self, bearers: list[PersonEntry], context: ArticleContext, countries: set[str], titles: list[str]
    ) -> PersonEntry | None:
        """Of people with this surname, the one who held the titled office of this country that day."""
        roles, day = self.roles_of(titles), context.published
        if not (roles and countries and day):
            return None
        holders = [
            p for p in self._fits(bearers, countries, titles) if any(t.role in roles and t.covers(day) for t in p.terms)
        ]
        return holders[0] if len(holders) == 1 else None

    def _by_surname(
        self, key: str, context: ArticleContext, countries: set[str], titles: list[str]
    ) -> PersonEntry | None:
        bearers = self._fits(self.by_surname.get(key, []), countries, titles)
        if not bearers:
            return None
        named = [p for p in bearers if any(context.mentions(n) for n in p.names)]
        # Someone else with this surname in the text ("Eric Trump" beside "Donald Trump")?
        others = [
            p for p in self.by_surname.get(key, []) if p not in named and any(context.mentions(n) for n in p.names)
        ]
        if others:
            return None
        if len(named) == 1:
            return named[0] if not self._unknown_bearer(named[0], key, context) else None
        if named:
            return None
        day = context.published
        if day is None:
            return None
        holder = self._office_holder(bearers, context, countries, titles)
        if holder is not None and not self._unknown_bearer(holder, key, context):
            return holder
        famous = [p for p in bearers if p.known_by_surname and p.in_office(day)]
        if len(famous) == 1 and not self._unknown_bearer(famous[0], key, context):
            return famous[0]
        return None

    def _unknown_bearer(self, person: PersonEntry, surname: str, context: ArticleContext, written: str = "") -> bool:
        """Does the text give this surname a first name that is not theirs ("Ivanka Trump")?

        `written` is the name being matched ("Malie Joly"): its own first name is not another person.
        """
        allowed = person.given_names() | self.stopwords | self.title_words | set(written.split())
        return any(word not in allowed for word in context.capitalized_before(surname))

    def holder(
        self, titles: Iterable[str], country: str | None, body: str | None, day: dt.date | None
    ) -> PersonEntry | None:
        """The one person holding the titled office of that state or body that day; none a few days
        from a handover. Offices whose own title has the words ("President") come before those
        the title's roles also allow ("president" may be a head of government)."""
        titles = list(titles)
        roles = self.roles_of(titles)
        if day is None or not roles or not (country or body):
            return None
        terms = [
            (person, term)
            for person in self.people
            for term in person.terms
            if term.role in roles and (term.country == country if country else term.body == body)
        ]
        worded = [(p, t) for p, t in terms if any(f" {w} " in f" {alias_key(t.title)} " for w in titles)]
        if any(t.covers(day) for _, t in worded):
            terms = worded
        holding = {id(person): person for person, term in terms if term.covers(day)}
        near = dt.timedelta(days=TRANSITION_DAYS)
        handover = any(
            (term.start and abs(term.start - day) <= near) or (term.end and abs(term.end - day) <= near)
            for _, term in terms
        )
        return next(iter(holding.values())) if len(holding) == 1 and not handover else None
