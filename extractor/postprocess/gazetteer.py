"""The versioned gazetteer (`data/gazetteer.json`): states, bodies, people, aircraft and their lookups.

Matching is exact on a lightly normalized key — case, accents, punctuation, spacing, a
leading "the", possessive "'s" — never nearest-neighbour: an unknown name must stay
unknown rather than be pulled onto the closest entry. Synonym-spun text ("U.S. Air Drive",
"Self-Protection Drive", "Combating Falcon") is handled by a small token rewrite table
(`spin_variants`) tried only after the name as written found nothing.

Bodies are found by name, or composed from a state and a generic body phrase: "South
Korea's national defense ministry" is South Korea's `defence_ministry`, "Turkish military"
Turkey's `armed_forces`. A few names count only when the article gives the context they
need ("the Security Council" in an article that names the United Nations). People: see
`people.py`. The file is built by `scripts/build-gazetteer` from `data/gazetteer/`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import pycountry

from .keys import alias_key
from .people import ArticleContext, PeopleIndex, PersonEntry

__all__ = ["ActorEntry", "AircraftEntry", "Gazetteer", "alias_key", "load_gazetteer"]

# Names an office by itself, without a person's name: "Turkey's defense minister".
_NO_CONTEXT = ArticleContext()


@dataclass(frozen=True)
class ActorEntry:
    """A state, force, ministry, organization, armed group or media outlet as the gazetteer names it."""

    canonical_name: str
    abbreviation: str | None
    country: str | None
    kind: str
    qid: str | None
    body: str | None = None


@dataclass(frozen=True)
class AircraftEntry:
    """An aircraft type: its designation and popular name (what normalization fills in)."""

    designation: str
    name: str | None


@dataclass(frozen=True)
class NameParts:
    """A name read as: a state or body it belongs to, titles, and what remains (a person's name)."""

    country: str | None
    organization: ActorEntry | None
    titles: tuple[str, ...]
    rest: str


class Gazetteer:
    """Indexes built once from the data file."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.version: str = data["version"]
        self._spin = [(alias_key(k), alias_key(v)) for k, v in data.get("spin_variants", {}).items()]
        self._spin.sort(key=lambda pair: -len(pair[0]))  # longest phrase first
        vocabulary = data.get("vocabulary", {})
        self.body_phrases = {alias_key(k): v for k, v in vocabulary.get("body_phrases", {}).items()}
        self.actors: dict[str, ActorEntry] = {}
        self.conditional: dict[str, list[tuple[ActorEntry, tuple[str, ...]]]] = {}
        self.abbreviations: dict[str, ActorEntry] = {}
        self.demonyms: dict[str, str] = {}
        self.places: dict[str, str] = {}  # state names, aliases and demonyms -> ISO code
        self.states: dict[str, ActorEntry] = {}
        self.bodies: dict[tuple[str, str], ActorEntry] = {}
        self.air_arm: set[str] = set()
        self._load_states(data.get("states", []))
        self._load_actors(data.get("actors", []))
        self.people = PeopleIndex(
            data.get("people", []), vocabulary.get("titles", {}), vocabulary.get("name_stopwords", [])
        )
        self.aircraft_by_key: dict[str, AircraftEntry] = {}
        self.aircraft_by_name: dict[str, AircraftEntry] = {}
        self._load_aircraft(data.get("aircraft", []))
        self.not_aircraft = {designation_key(x) or alias_key(x) for x in data.get("not_aircraft", [])}

    # -- building ---------------------------------------------------------------------------

    def _load_states(self, items: list[dict[str, Any]]) -> None:
        by_code = {item["country"]: item for item in items}
        for country in pycountry.countries:
            item = by_code.get(country.alpha_3, {})
            name = item.get("name") or getattr(country, "common_name", None) or country.name
            entry = ActorEntry(name, None, country.alpha_3, "state", item.get("qid"))
            self.states[country.alpha_3] = entry
            names = [country.name, getattr(country, "official_name", None), getattr(country, "common_name", None)]
            for alias in [*names, name, *item.get("aliases", [])]:
                if alias:
                    self.actors.setdefault(alias_key(alias), entry)
                    self.places.setdefault(alias_key(alias), country.alpha_3)
            for demonym in item.get("demonyms", []):
                self.demonyms[alias_key(demonym)] = country.alpha_3
                self.places.setdefault(alias_key(demonym), country.alpha_3)
            if item.get("air_arm"):
                self.air_arm.add(country.alpha_3)
            government = ActorEntry(f"Government of {name}", None, country.alpha_3, "government", None, "government")
            self.bodies[(country.alpha_3, "government")] = government
            self.actors.setdefault(alias_key(government.canonical_name), government)

    def _load_actors(self, items: list[dict[str, Any]]) -> None:
        abbreviations: dict[str, list[ActorEntry]] = {}
        for item in items:
            entry = ActorEntry(
                canonical_name=item["canonical_name"],
                abbreviation=item.get("abbreviation"),
                country=item.get("country"),
                kind=item["kind"],
                qid=item.get("qid"),
                body=item.get("body"),
            )
            # Forces and agencies win over a state sharing a key (none should, but be explicit).
            for name in [entry.canonical_name, *item.get("aliases", [])]:
                self.actors[alias_key(name)] = entry
            for name in item.get("context_aliases", []):
                context = tuple(alias_key(c) for c in item.get("context", []))
                self.conditional.setdefault(alias_key(name), []).append((entry, context))
            if entry.abbreviation:
                abbreviations.setdefault(entry.abbreviation.replace(".", ""), []).append(entry)
            if entry.body and entry.country:
                self.bodies[(entry.country, entry.body)] = entry
        # An abbreviation two entries share ("AFP") names neither.
        self.abbreviations = {abbr: found[0] for abbr, found in abbreviations.items() if len(found) == 1}

    def _load_aircraft(self, items: list[dict[str, Any]]) -> None:
        names: dict[str, list[AircraftEntry]] = {}
        for item in items:
            entry = AircraftEntry(designation=item["designation"], name=item.get("name"))
            for alias in [entry.designation, *item.get("aliases", [])]:
                key = designation_key(alias)
                if key:
                    self.aircraft_by_key[key] = entry
                else:
                    names.setdefault(alias_key(alias), []).append(entry)
            if entry.name:
                names.setdefault(alias_key(entry.name), []).append(entry)
        # A popular name shared by several types (Fighting Falcon: F-16, KF-16) identifies none.
        for key, entries in names.items():
            if len({e.designation for e in entries}) == 1:
                self.aircraft_by_name[key] = entries[0]

    # -- lookups ----------------------------------------------------------------------------

    def spun(self, key: str) -> str:
        """Rewrite spun words back to the usual ones ("air drive" -> "air force")."""
        padded = f" {key} "
        for old, new in self._spin:
            padded = padded.replace(f" {old} ", f" {new} ")
        return padded.strip()

    def keys_of(self, name: str) -> list[str]:
        key = alias_key(name)
        spun = self.spun(key)
        return [key] if spun == key else [key, spun]

    def actor(self, name: str, context: ArticleContext | None = None) -> ActorEntry | None:
        """The entry for an actor name as written, trying "X (ABBR)" as X and as ABBR."""
        candidates = [name]
        paren = re.match(r"^(.*?)\s*\(([^()]+)\)\s*$", name)
        if paren:
            candidates += [paren.group(1), paren.group(2)]
        for candidate in candidates:
            bare = candidate.strip().replace(".", "")
            if bare in self.abbreviations:  # case-sensitive: "PLAN" the navy, not "plan"
                return self.abbreviations[bare]
            for key in self.keys_of(candidate):
                found = self.actors.get(key) or self._in_context(key, context) or self._composed(key)
                if found is not None:
                    return found
        return None

    def _in_context(self, key: str, context: ArticleContext | None) -> ActorEntry | None:
        """A name that counts only where the article names what it belongs to ("the Council")."""
        if context is None:
            return None
        found = {e for e, needs in self.conditional.get(key, []) if any(context.mentions(n) for n in needs)}
        return found.pop() if len(found) == 1 else None

    def _composed(self, key: str) -> ActorEntry | None:
        """A state's body by a generic phrase: "south korea national defense ministry", "ministry of defense of russia"."""
        words = key.split()
        for cut in range(1, len(words)):
            country = self.places.get(" ".join(words[:cut]))
            body = self.body_phrases.get(" ".join(words[cut:]))
            if country and body:
                return self.bodies.get((country, body))
        if " of " in key:
            head, _, place = key.rpartition(" of ")
            country, body = self.places.get(place), self.body_phrases.get(head)
            if country and body:
                return self.bodies.get((country, body))
        return None

    def read_name(self, name: str) -> NameParts:
        """Split "Turkish Defense Minister Hulusi Akar" into TUR, ("defense minister",), "hulusi akar".

        In front of the titles may stand a state ("Turkish"), a body ("Pentagon", "NATO",
        "Taliban") or a state's body ("Russian Foreign Ministry"): the office's country or body.
        """
        words = self.spun(alias_key(name)).split()  # "Defence Secretary" is a "defense secretary"
        country, organization = None, None
        for cut in range(min(5, len(words)), 0, -1):
            head = " ".join(words[:cut])
            entry = self.actors.get(head) or self._composed(head) or self.abbreviations.get(head.upper())
            if head in self.places and (entry is None or entry.kind == "state"):
                country, words = self.places[head], words[cut:]
                break
            if entry is not None:
                if entry.kind in ("organization", "armed_group"):
                    organization = entry
                country, words = entry.country, words[cut:]
                break
        titles, rest = self.people.split_title(" ".join(words))
        return NameParts(country, organization, tuple(titles), rest)

    def person(
        self, name: str, context: ArticleContext | None = None, *, country: str | None = None, title: str | None = None
    ) -> PersonEntry | None:
        """The person an actor name means in this article (see `people.py`), or None."""
        context = context or _NO_CONTEXT
        said = self.read_name(title) if title else NameParts(None, None, (), "")
        if alias_key(name) in self.people.by_name:  # a full name first: "Israel Katz" is not Israel's Katz
            return self.people.resolve(name, context, country=country, prefix_country=said.country, titles=said.titles)
        parts = self.read_name(name)
        titles = (*parts.titles, *said.titles)
        if not parts.rest:  # an office without a name: its holder that day, if the name says whose office
            body = parts.organization.canonical_name if parts.organization else None
            return self.people.holder(parts.titles, parts.country, body, context.published)
        if parts.organization is not None and not parts.titles:
            return None  # "NATO Rutte" is not how names are written; leave it
        return self.people.resolve(
            parts.rest, context, country=country, prefix_country=parts.country or said.country, titles=titles
        )

    def place(self, name: str) -> str | None:
        """The ISO code a state's name, alias or demonym stands for."""
        for key in self.keys_of(name):
            if key in self.places:
                return self.places[key]
        return None

    def demonym_country(self, name: str) -> str | None:
        for key in self.keys_of(name):
            if key in self.demonyms:
                return self.demonyms[key]
        return None

    def aircraft_named(self, text: str) -> AircraftEntry | None:
        for key in self.keys_of(text):
            if key in self.aircraft_by_name:
                return self.aircraft_by_name[key]
        return None


_DESIGNATION = re.compile(r"(?<![A-Za-z0-9])(F/A|[A-Za-z]{1,3})[- ]?(\d{1,3})([A-Z]{0,3}\d?)(?![0-9])")


def parse_designation(text: str) -> tuple[str, str, str] | None:
    """(prefix, number, series) of the first designation in `text`; a lowercase plural s is not a series."""
    match = _DESIGNATION.search(text)
    if match is None:
        return None
    return match.group(1), match.group(2), match.group(3)


def designation_key(text: str) -> str | None:
    parsed = parse_designation(text)
    if parsed is None:
        return None
    prefix, number, series = parsed
    return prefix.upper().replace("/", "") + number + series


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    raw = resources.files("extractor.postprocess").joinpath("data/gazetteer.json").read_text(encoding="utf-8")
    return Gazetteer(json.loads(raw))
