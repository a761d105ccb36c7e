"""Reading the gazetteer's source and curated rows: cells, dates, country codes, a person being built."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pycountry

CURATED = "curated"
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


class BuildError(Exception):
    """A source or curated row the build cannot use; the message names the file and row."""


def rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            yield number, {k: (v or "").strip() for k, v in row.items()}


def split_cell(cell: str) -> list[str]:
    return [part.strip() for part in cell.split("|") if part.strip()]


def date_cell(value: str, where: str) -> str | None:
    if not value:
        return None
    if not _DATE.match(value):
        raise BuildError(f"{where}: {value!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)")
    return value


def country_code(code: str, where: str) -> str | None:
    if not code:
        return None
    if pycountry.countries.get(alpha_3=code) is None:
        raise BuildError(f"{where}: {code!r} is not an ISO 3166-1 alpha-3 code")
    return code


def fold(text: str) -> str:
    from .gazetteer import alias_key

    return alias_key(text)


@dataclass
class Person:
    canonical_name: str
    qid: str | None
    qid_source: str | None
    country: str | None
    aliases: list[str] = field(default_factory=list)
    surname: str | None = None
    known_by_surname: bool = False
    terms: list[dict[str, Any]] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)

    def add_alias(self, alias: str) -> None:
        known = {fold(name) for name in (self.canonical_name, *self.aliases)}
        if alias and fold(alias) not in known:
            self.aliases.append(alias)

    def add_term(self, term: dict[str, Any]) -> None:
        if term not in self.terms:
            self.terms.append(term)

    def end_term(self, role: str, start: str | None, end: str | None) -> bool:
        """Give a sourced term its end (the source predates it); False when there is no such term."""
        for term in self.terms:
            if term["role"] == role and term["start"] == start and term["source"] != CURATED:
                term["end"], term["end_source"] = end, CURATED
                return True
        return False


# "U.N. Office for ..." for "United Nations Office for ...", "U.S. Central Command" likewise.
SHORT_FORMS = {"United Nations ": ("U.N. ", "UN "), "United States ": ("U.S. ", "US ")}


def short_forms(canonical: str, aliases: list[str]) -> list[str]:
    out, seen = list(aliases), {fold(name) for name in (canonical, *aliases)}
    for name in (canonical, *aliases):
        for full, shorts in SHORT_FORMS.items():
            if name.startswith(full):
                for short in shorts:
                    variant = short + name[len(full) :]
                    if fold(variant) not in seen:
                        seen.add(fold(variant))
                        out.append(variant)
    return out
