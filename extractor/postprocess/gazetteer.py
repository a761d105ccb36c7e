"""The versioned gazetteer (`data/gazetteer.json`): actor and aircraft entries and their lookups.

Matching is exact on a lightly normalized key — case, accents, punctuation, spacing, a
leading "the", possessive "'s" — never nearest-neighbour: an unknown name must stay
unknown rather than be pulled onto the closest entry. Synonym-spun text ("U.S. Air Drive",
"Self-Protection Drive", "Combating Falcon") is handled by a small token rewrite table
(`spin_variants`) tried only after the name as written found nothing.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import pycountry


@dataclass(frozen=True)
class ActorEntry:
    """A state, force, ministry or agency as the gazetteer names it."""

    canonical_name: str
    abbreviation: str | None
    country: str | None
    kind: str
    qid: str | None


@dataclass(frozen=True)
class AircraftEntry:
    """An aircraft type: its designation and popular name (what normalization fills in)."""

    designation: str
    name: str | None


_POSSESSIVE = re.compile(r"['’]s\b")
_NON_WORD = re.compile(r"[^0-9a-z]+")


def alias_key(text: str) -> str:
    """The lookup key of a name: "the U.S. Air Force's" -> "us air force"."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    folded = _POSSESSIVE.sub("", folded.replace("’", "'"))
    # Dots and apostrophes join ("U.S." == "US"); every other separator splits words.
    folded = folded.replace(".", "").replace("'", "")
    key = _NON_WORD.sub(" ", folded).strip()
    return key[4:] if key.startswith("the ") else key


class Gazetteer:
    """Indexes built once from the data file."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.version: str = data["version"]
        self._spin = [(alias_key(k), alias_key(v)) for k, v in data.get("spin_variants", {}).items()]
        self._spin.sort(key=lambda pair: -len(pair[0]))  # longest phrase first
        self.actors: dict[str, ActorEntry] = {}
        self.abbreviations: dict[str, ActorEntry] = {}
        self.demonyms: dict[str, str] = {}
        self._load_states(data.get("states", []))
        self._load_actors(data.get("actors", []))
        self.aircraft_by_key: dict[str, AircraftEntry] = {}
        self.aircraft_by_name: dict[str, AircraftEntry] = {}
        self._load_aircraft(data.get("aircraft", []))
        self.not_aircraft = {designation_key(x) or alias_key(x) for x in data.get("not_aircraft", [])}

    # -- building ---------------------------------------------------------------------------

    def _load_states(self, overrides: list[dict[str, Any]]) -> None:
        by_code = {item["country"]: item for item in overrides}
        for country in pycountry.countries:
            item = by_code.get(country.alpha_3, {})
            entry = ActorEntry(
                canonical_name=item.get("name") or getattr(country, "common_name", None) or country.name,
                abbreviation=None,
                country=country.alpha_3,
                kind="state",
                qid=item.get("qid"),
            )
            names = [country.name, getattr(country, "official_name", None), getattr(country, "common_name", None)]
            for name in [*names, entry.canonical_name, *item.get("aliases", [])]:
                if name:
                    self.actors.setdefault(alias_key(name), entry)
            for demonym in item.get("demonyms", []):
                self.demonyms[alias_key(demonym)] = country.alpha_3

    def _load_actors(self, items: list[dict[str, Any]]) -> None:
        for item in items:
            entry = ActorEntry(
                canonical_name=item["canonical_name"],
                abbreviation=item.get("abbreviation"),
                country=item.get("country"),
                kind=item["kind"],
                qid=item.get("qid"),
            )
            # Forces and agencies win over a state sharing a key (none should, but be explicit).
            for name in [entry.canonical_name, *item.get("aliases", [])]:
                self.actors[alias_key(name)] = entry
            if entry.abbreviation:
                self.abbreviations[entry.abbreviation.replace(".", "")] = entry

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

    def actor(self, name: str) -> ActorEntry | None:
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
                if key in self.actors:
                    return self.actors[key]
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
