"""Rebuild `data/gazetteer.json` from the source extracts and the curated files in `data/gazetteer/`.

    scripts/build-gazetteer            # writes extractor/postprocess/data/gazetteer.json
    scripts/build-gazetteer --check    # exit 1 if the committed file differs from a rebuild

Sources (`data/gazetteer/sources/`, listed in `sources.csv`) are rows copied from public
Wikidata-derived datasets: office holders with their Wikidata QIDs and dates, and the QIDs of
states. Curated files (`data/gazetteer/curated/`) hold what no source gives: bodies
(ministries, forces, international organizations, armed groups, media), further people and
offices, aliases, and the matching vocabulary. A QID in the output always comes from a
source row; the output names, for every entry, the source it came from.

The output is deterministic (sorted, fixed formatting), so a rebuild reproduces the committed
file byte for byte.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pycountry

from .gazetteer_rows import CURATED, BuildError, Person, country_code, date_cell, fold, rows, short_forms, split_cell

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "gazetteer"
OUTPUT = ROOT / "extractor" / "postprocess" / "data" / "gazetteer.json"
VERSION = "2026.1"
# Offices held before this date are not carried over from the sources.
SINCE = "2015-01-01"
_QID = re.compile(r"^Q[0-9]+$")
_DISAMBIGUATION = re.compile(r"\s*\([^()]*\)$")
_SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}


class Builder:
    def __init__(self, data: Path) -> None:
        self.data = data
        self.vocabulary: dict[str, Any] = json.loads((data / CURATED / "vocabulary.json").read_text(encoding="utf-8"))
        self.sources: dict[str, dict[str, str]] = {}
        self.people: dict[str, Person] = {}  # by folded canonical name
        self.by_qid: dict[str, Person] = {}

    # -- sources ------------------------------------------------------------------------

    def read_sources(self) -> None:
        for number, row in rows(self.data / "sources" / "sources.csv"):
            where = f"sources.csv:{number}"
            if not (self.data / "sources" / row["file"]).is_file():
                raise BuildError(f"{where}: {row['file']} does not exist")
            self.sources[row["file"]] = row
            if row["kind"] == "officeholders":
                self._officeholders(row)
            elif row["kind"] != "states":
                raise BuildError(f"{where}: unknown source kind {row['kind']!r}")

    def _officeholders(self, source: dict[str, str]) -> None:
        positions: dict[str, list[str]] = self.vocabulary["positions"]
        family_first = set(self.vocabulary["family_name_first"])
        for number, row in rows(self.data / "sources" / source["file"]):
            where = f"{source['file']}:{number}"
            if row["position"] not in positions:
                raise BuildError(f"{where}: position {row['position']!r} has no role in vocabulary.json")
            role, title, scope = positions[row["position"]]
            if not _QID.match(row["personID"]):
                raise BuildError(f"{where}: {row['personID']!r} is not a QID")
            end = date_cell(row["end"], where)
            if end is not None and end < SINCE:
                continue
            label = row["person"]
            canonical = _DISAMBIGUATION.sub("", row.get("enwiki") or label)
            country = country_code(source["country"], where)
            person = self.by_qid.get(row["personID"])
            if person is None:
                person = self._person(canonical, row["personID"], source["file"], country)
                person.surname = "" if country in family_first else None
            person.add_alias(label)
            person.sources.add(source["file"])
            body = self.vocabulary["bodies_of_positions"].get(row["position"]) if scope == "body" else None
            person.add_term(
                {
                    "role": role,
                    "title": title,
                    "country": country if scope == "state" else None,
                    "body": body,
                    "start": date_cell(row["start"], where),
                    "end": end,
                    "source": source["file"],
                }
            )

    def _person(self, canonical: str, qid: str | None, source: str, country: str | None) -> Person:
        key = fold(canonical)
        if key in self.people:
            raise BuildError(f"{source}: two people named {canonical!r}; give one a distinct canonical name")
        person = Person(canonical, qid, source if qid else None, country)
        self.people[key] = person
        if qid:
            self.by_qid[qid] = person
        return person

    def state_qids(self) -> dict[str, tuple[str, str]]:
        """ISO3 -> (QID, source file) from the state sources (labels mapped to ISO codes)."""
        overrides: dict[str, str | None] = self.vocabulary["state_labels"]
        found: dict[str, tuple[str, str]] = {}
        for file, source in sorted(self.sources.items()):
            if source["kind"] != "states":
                continue
            for number, row in rows(self.data / "sources" / file):
                where = f"{file}:{number}"
                label = row["stateLabel"]
                if label in overrides:
                    code = overrides[label]
                else:
                    try:
                        code = pycountry.countries.lookup(label).alpha_3
                    except LookupError:
                        raise BuildError(f"{where}: no ISO code for {label!r}; map it in state_labels") from None
                if code is None:
                    continue
                if not _QID.match(row["state"]):
                    raise BuildError(f"{where}: {row['state']!r} is not a QID")
                found.setdefault(code, (row["state"], file))
        return found

    # -- curated ------------------------------------------------------------------------

    def curated_people(self) -> None:
        for number, row in rows(self.data / CURATED / "people.csv"):
            where = f"people.csv:{number}"
            person = self.people.get(fold(row["name"]))
            if person is None:
                country = country_code(row["country"], where)
                person = self._person(row["name"], None, "people.csv", country)
                if country in self.vocabulary["family_name_first"]:
                    person.surname = ""
            if row["country"] and person.country is None:
                person.country = country_code(row["country"], where)
            for alias in split_cell(row["aliases"]):
                person.add_alias(alias)
            if row["surname"]:
                person.surname = "" if row["surname"] == "-" else row["surname"]
            if row["known_by_surname"] == "yes":
                person.known_by_surname = True
            if row["role"]:
                if row["role"] not in self.vocabulary["roles"]:
                    raise BuildError(f"{where}: unknown role {row['role']!r}")
                start, end = date_cell(row["start"], where), date_cell(row["end"], where)
                if person.end_term(row["role"], start, end):
                    person.sources.add(CURATED)
                    continue
                person.add_term(
                    {
                        "role": row["role"],
                        "title": row["title"] or self.vocabulary["roles"][row["role"]],
                        "country": country_code(row["office_country"] or row["country"], where)
                        if not row["body"]
                        else None,
                        "body": row["body"] or None,
                        "start": start,
                        "end": end,
                        "source": CURATED,
                    }
                )
            person.sources.add(CURATED)

    def transliterations(self) -> None:
        """Add the usual other spellings of a name ("Sergei Lavrov" for "Sergey Lavrov")."""
        groups = {fold(name): group for group in self.vocabulary["transliterations"] for name in group}
        for person in self.people.values():
            pending = [person.canonical_name, *person.aliases]
            while pending:  # variants of variants too: "Sergei Shoigu" from "Sergey Shoygu"
                words = pending.pop().split()
                for index, word in enumerate(words):
                    for variant in groups.get(fold(word), ()):
                        spelled = " ".join([*words[:index], variant, *words[index + 1 :]])
                        if fold(spelled) not in {fold(n) for n in (person.canonical_name, *person.aliases)}:
                            person.add_alias(spelled)
                            pending.append(spelled)

    def people_json(self, bodies: set[str]) -> list[dict[str, Any]]:
        out = []
        for person in sorted(self.people.values(), key=lambda p: fold(p.canonical_name)):
            for term in person.terms:
                if term["body"] and term["body"] not in bodies:
                    raise BuildError(f"{person.canonical_name}: office of unknown body {term['body']!r}")
            out.append(
                {
                    "canonical_name": person.canonical_name,
                    "qid": person.qid,
                    "qid_source": person.qid_source,
                    "country": person.country,
                    "aliases": sorted(person.aliases, key=str.casefold),
                    "surname": self._surname(person),
                    "known_by_surname": person.known_by_surname,
                    "terms": sorted(person.terms, key=lambda t: (t["start"] or "", t["role"], t["title"])),
                    "sources": sorted(person.sources),
                }
            )
        return out

    @staticmethod
    def _surname(person: Person) -> str | None:
        if person.surname == "":
            return None  # family name first, or deliberately never matched alone
        if person.surname:
            return person.surname
        words = [w for w in person.canonical_name.replace(",", " ").split() if w.strip(".").lower() not in _SUFFIXES]
        return words[-1] if len(words) > 1 else None

    def states_json(self) -> list[dict[str, Any]]:
        qids = self.state_qids()
        curated: dict[str, dict[str, str]] = {}
        for number, row in rows(self.data / CURATED / "states.csv"):
            curated[country_code(row["country"], f"states.csv:{number}") or ""] = row
        out = []
        for code in sorted(set(curated) | set(qids)):
            row = curated.get(code, {})
            qid, source = qids.get(code, (None, None))
            out.append(
                {
                    "country": code,
                    "name": row.get("name") or None,
                    "qid": qid,
                    "qid_source": source,
                    "aliases": split_cell(row.get("aliases", "")),
                    "demonyms": split_cell(row.get("demonyms", "")),
                    "air_arm": row.get("air_arm") or None,
                }
            )
        return out

    def bodies_json(self) -> list[dict[str, Any]]:
        kinds = {"state", "military", "government", "organization", "armed_group", "media"}
        body_types = set(self.vocabulary["body_phrases"].values())
        out, seen = [], set()
        for file in ("bodies.csv", "organizations.csv", "armed_groups.csv", "media.csv"):
            for number, row in rows(self.data / CURATED / file):
                where = f"{file}:{number}"
                if row["kind"] not in kinds:
                    raise BuildError(f"{where}: unknown kind {row['kind']!r}")
                if row.get("body") and row["body"] not in body_types:
                    raise BuildError(f"{where}: unknown body type {row['body']!r}")
                key = fold(row["canonical_name"])
                if key in seen:
                    raise BuildError(f"{where}: {row['canonical_name']!r} listed twice")
                seen.add(key)
                entry: dict[str, Any] = {
                    "canonical_name": row["canonical_name"],
                    "abbreviation": row.get("abbreviation") or None,
                    "country": country_code(row.get("country", ""), where),
                    "kind": row["kind"],
                    "body": row.get("body") or None,
                    "qid": None,
                    "aliases": short_forms(row["canonical_name"], split_cell(row.get("aliases", ""))),
                }
                if row.get("context_aliases"):
                    entry["context_aliases"] = split_cell(row["context_aliases"])
                    entry["context"] = split_cell(row.get("context", ""))
                if row.get("state_media"):
                    entry["state_media"] = row["state_media"] == "yes"
                out.append(entry)
        return out

    # -- output -------------------------------------------------------------------------

    def build(self) -> dict[str, Any]:
        self.read_sources()
        self.curated_people()
        self.transliterations()
        aircraft = json.loads((self.data / CURATED / "aircraft.json").read_text(encoding="utf-8"))
        actors = self.bodies_json()
        bodies = {a["canonical_name"] for a in actors}
        sources: list[dict[str, str | None]] = [
            {key: row[key] for key in ("file", "kind", "repository", "commit", "path", "licence")}
            for _, row in sorted(self.sources.items())
        ]
        sources.append(
            {
                "file": CURATED,
                "kind": "curated",
                "repository": None,
                "commit": None,
                "path": "data/gazetteer/curated/",
                "licence": "same as this repository",
            }
        )
        return {
            "version": VERSION,
            "notes": (
                "Built by scripts/build-gazetteer from data/gazetteer/ (see its README.md): do not edit by hand. "
                "Matching is exact on a lightly normalized key, never nearest-neighbour. A qid is present only "
                "where a source row gives it (qid_source names the file); curated entries have qid null."
            ),
            "sources": sources,
            "spin_variants": aircraft["spin_variants"],
            "vocabulary": {key: self.vocabulary[key] for key in ("titles", "body_phrases", "name_stopwords")},
            "states": self.states_json(),
            "actors": actors,
            "people": self.people_json(bodies),
            "aircraft": aircraft["aircraft"],
            "not_aircraft": aircraft["not_aircraft"],
        }


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False, sort_keys=False) + "\n"


def build(data_dir: Path = DATA) -> str:
    """The gazetteer JSON text for the files under `data_dir`."""
    return render(Builder(data_dir).build())


def qids_in_sources(data_dir: Path = DATA) -> set[str]:
    """Every QID that appears in a source file (for checking that none is typed in by hand)."""
    found: set[str] = set()
    for path in sorted((data_dir / "sources").rglob("*.csv")):
        found.update(re.findall(r"\bQ[0-9]+\b", path.read_text(encoding="utf-8")))
    return found


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the committed file instead of writing")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        text = build()
    except (BuildError, OSError, json.JSONDecodeError, KeyError) as exc:
        print(f"build-gazetteer: {exc}", file=sys.stderr)
        return 2
    if args.check:
        same = args.out.is_file() and args.out.read_text(encoding="utf-8") == text
        print(f"build-gazetteer: {args.out} {'is up to date' if same else 'differs from a rebuild'}", file=sys.stderr)
        return 0 if same else 1
    args.out.write_text(text, encoding="utf-8")
    data = json.loads(text)
    print(
        f"build-gazetteer: {len(data['states'])} states, {len(data['actors'])} bodies, {len(data['people'])} people "
        f"({sum(1 for p in data['people'] if p['qid'])} with a sourced QID) -> {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
