"""Aircraft designations in text ("B-52s", "KF-16", "SU 35", "Su-57", "F16") and what the type table says of them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from ..postprocess.gazetteer import designation_key, load_gazetteer
from ..postprocess.normalize import normalize_designation
from .text import Span


@dataclass(frozen=True)
class TypeInfo:
    """What the table says about one type: its role, its one operating country, a nuclear role."""

    role: str | None
    operators: tuple[str, ...] = ()
    nuclear_role: bool = False


@dataclass(frozen=True)
class DesignationMention:
    """A designation as written (`span`), normalized (`designation`), with its type's table entry."""

    span: Span
    designation: str
    info: TypeInfo = field(default_factory=lambda: TypeInfo(None))


@dataclass(frozen=True)
class TypeTable:
    families: dict[str, str]
    compact: frozenset[str]
    spaced: frozenset[str]
    named: dict[str, str]
    types: dict[str, dict[str, Any]]
    not_aircraft: frozenset[str]
    not_before: frozenset[str]
    pattern: re.Pattern[str]
    named_pattern: re.Pattern[str]

    def info(self, designation: str, family: str | None) -> TypeInfo:
        entry = next((self.types[d] for d in _shorter(designation) if d in self.types), {})
        return TypeInfo(
            # A named type without a family ("Rafale", "Gripen") is a fighter unless the table says otherwise.
            role=entry.get("role") or (self.families.get(family) if family else "fighter"),
            operators=tuple(entry.get("operators", ())),
            nuclear_role=bool(entry.get("nuclear_role", False)),
        )


def _shorter(designation: str) -> list[str]:
    """ "Tu-22M3" -> ["Tu-22M3", "Tu-22M", "Tu-22"]: the type with ever fewer series characters."""
    match = re.match(r"^(.*?\d)([A-Z]{0,3}\d?)$", designation)
    if match is None:
        return [designation]
    base, series = match.groups()
    return [base + series[:cut] for cut in range(len(series), -1, -1)]


@lru_cache(maxsize=1)
def type_table() -> TypeTable:
    raw = resources.files("extractor.rules").joinpath("data/aircraft_types.json").read_text(encoding="utf-8")
    data = json.loads(raw)
    families: dict[str, str] = data["families"]
    prefixes = sorted(families, key=len, reverse=True)
    alternation = "|".join(re.escape(p) for p in prefixes)
    # prefix, then a hyphen, a space (for spaced families) or nothing (compact), then the number and a series.
    pattern = re.compile(
        rf"(?<![\w/-])(?P<prefix>(?i:{alternation}))(?P<sep>[-‑–]| |)(?P<number>\d{{1,3}})(?P<series>[A-Z]{{0,3}}\d?)"
        rf"(?:/[A-Z])?(?P<plural>s|’s|'s)?(?![\w-])"
    )
    return TypeTable(
        families=families,
        compact=frozenset(p.upper() for p in data["compact_families"]),
        spaced=frozenset(p.upper() for p in data["spaced_families"]),
        named=data["named_types"],
        types=data["types"],
        not_aircraft=frozenset(_key(x) for x in data["not_aircraft"]),
        not_before=frozenset(data["not_before"]),
        pattern=pattern,
        named_pattern=re.compile(
            r"(?<!\w)(?P<name>" + "|".join(re.escape(name) for name in data["named_types"]) + r")s?(?!\w)"
        ),
    )


def _key(text: str) -> str:
    return designation_key(text) or text.upper()


def _family(prefix: str, table: TypeTable) -> str | None:
    for family in table.families:
        if family.upper() == prefix.upper():
            return family
    return None


_NEXT_WORD = re.compile(r"\s*([A-Za-z]+)")


def find_designations(text: str) -> list[DesignationMention]:
    """Every aircraft designation in `text`, left to right."""
    table = type_table()
    gaz = load_gazetteer()
    found: list[DesignationMention] = []
    for match in table.pattern.finditer(text):
        prefix, sep, number = match.group("prefix"), match.group("sep"), match.group("number")
        family = _family(prefix, table)
        if family is None or not prefix[0].isupper():
            continue
        if prefix.isupper() and len(prefix) > 1 and family != family.upper() and family.upper() not in table.spaced:
            continue  # "AN-" or "IL-" shouted: not the An/Il families
        if sep == " " and family.upper() not in table.spaced:
            continue
        if sep == "" and (family.upper() not in table.compact or len(number) < 2):
            continue
        written = text[match.start() : match.end() - len(match.group("plural") or "")]
        key = _key(written)
        if key in table.not_aircraft or key in gaz.not_aircraft:
            continue
        following = _NEXT_WORD.match(text, match.end())
        if following and following.group(1).lower() in table.not_before:
            continue
        designation = normalize_designation(written, gaz)
        found.append(
            DesignationMention(
                Span(match.start(), match.end(), text[match.start() : match.end()]),
                designation,
                table.info(designation, family),
            )
        )
    found.extend(_named_types(text, table))
    return sorted(found, key=lambda mention: mention.span.start)


def _named_types(text: str, table: TypeTable) -> list[DesignationMention]:
    found = []
    for match in table.named_pattern.finditer(text):
        normalized = normalize_designation(table.named[match.group("name")])
        found.append(
            DesignationMention(
                Span(match.start(), match.end(), match.group()), normalized, table.info(normalized, None)
            )
        )
    return found
