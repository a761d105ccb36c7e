"""Normalization after grounding: gazetteer names, aircraft designations, dates, merging.

Only what the gazetteer or the article establishes is filled in. An actor or aircraft the
gazetteer does not know keeps its name as written with `canonical_name` null; fields such as
`nuclear_capable`, `role` or `count` are never filled from world knowledge.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ..schemas import Actor, Aircraft, ArticleExtraction, Exercise, Notice, NoticeCode, PoliticalStatement
from .dates import is_recurrence, resolve_date_text
from .gazetteer import AircraftEntry, Gazetteer, alias_key, designation_key, load_gazetteer, parse_designation
from .merge import merge_aircraft, merge_exercises, merge_statements
from .notices import noted

NOT_AIRCRAFT_PREFIX = "removed aircraft"


def normalize_actor(actor: Actor, gazetteer: Gazetteer | None = None) -> Actor:
    gaz = gazetteer or load_gazetteer()
    # A person called "Jordan" or "Washington" is not the state.
    entry = gaz.actor(actor.name) if actor.kind != "person" else None
    if entry is not None:
        return actor.model_copy(
            update={
                "canonical_name": entry.canonical_name,
                "abbreviation": entry.abbreviation,
                "country": entry.country or actor.country,
                "kind": entry.kind,
                "qid": entry.qid,
            }
        )
    if actor.country is None and actor.kind != "person":
        country = gaz.demonym_country(actor.name)  # "Turkish" says the country, not which force
        if country:
            return actor.model_copy(update={"country": country})
    return actor


def _actors(actors: Sequence[Actor], gaz: Gazetteer) -> list[Actor]:
    return [normalize_actor(a, gaz) for a in actors]


def _lookup(text: str, gaz: Gazetteer) -> tuple[AircraftEntry | None, str]:
    """The gazetteer entry of a designation or popular name, and the designation to report."""
    parsed = parse_designation(text)
    if parsed is None:
        entry = gaz.aircraft_named(text)
        return entry, entry.designation if entry else text.strip()
    prefix, number, series = parsed
    base = prefix.upper().replace("/", "") + number
    # Longest known key first, so "B-1B" and "F-15K" win over "B-1"/"F-15" plus a series;
    # a series the gazetteer does not list is kept ("B-52H", "F-35A").
    for cut in range(len(series), -1, -1):
        entry = gaz.aircraft_by_key.get(base + series[:cut])
        if entry is not None:
            return entry, entry.designation + series[cut:]
    return None, f"{prefix}-{number}{series}"


def normalize_designation(text: str, gazetteer: Gazetteer | None = None) -> str:
    """ "B-52s" -> "B-52", "b-52h" -> "B-52H", "SU 35" -> "Su-35"; unknown forms only lose a plural."""
    return _lookup(text, gazetteer or load_gazetteer())[1]


def _aircraft(item: Aircraft, gaz: Gazetteer) -> Aircraft | None:
    entry, designation = _lookup(item.designation, gaz)
    if entry is None and parse_designation(item.designation) is None and parse_designation(item.mention):
        entry, designation = _lookup(item.mention, gaz)  # designation "Combating Falcon", mention "KF-16s"
    if entry is None and (designation_key(designation) or alias_key(designation)) in gaz.not_aircraft:
        return None
    name = item.name
    if entry is not None and entry.name and (item.name is None or _same_name(item.name, entry.name, gaz)):
        name = entry.name
    operator = normalize_actor(item.operator, gaz) if item.operator else None
    return item.model_copy(update={"designation": designation, "name": name, "operator": operator})


def _same_name(given: str, canonical: str, gaz: Gazetteer) -> bool:
    """ "Combating Falcons" is "Fighting Falcon" once spun words and the plural are undone."""
    wanted = gaz.keys_of(canonical)[0]
    return any(key == wanted or key.rstrip("s") == wanted for key in gaz.keys_of(given))


def _exercise(item: Exercise, gaz: Gazetteer, published: dt.date | None) -> Exercise:
    update: dict = {
        "participants": _actors(item.participants, gaz),
        "aircraft": list(dict.fromkeys(normalize_designation(d, gaz) for d in item.aircraft)),
    }
    # Contract 1.2: a recurring exercise ("annual", "every spring") has no dates but this occurrence's.
    if item.start_date is None and item.end_date is None and item.date_text and not is_recurrence(item.date_text):
        resolved = resolve_date_text(item.date_text, published=published, planned=item.status == "planned")
        if resolved is not None:
            update["start_date"], update["end_date"] = resolved
    return item.model_copy(update=update)


def _statement(item: PoliticalStatement, gaz: Gazetteer, published: dt.date | None) -> PoliticalStatement:
    update: dict = {
        "speaker": normalize_actor(item.speaker, gaz),
        "on_behalf_of": normalize_actor(item.on_behalf_of, gaz) if item.on_behalf_of else None,
        "targets": _actors(item.targets, gaz),
    }
    if item.date is None and item.date_text:
        resolved = resolve_date_text(item.date_text, published=published)
        # A statement is made on one day: "in January" does not say which.
        if resolved is not None and resolved[0] == resolved[1]:
            update["date"] = resolved[0]
    return item.model_copy(update=update)


def normalize_extraction(extraction: ArticleExtraction, *, gazetteer: Gazetteer | None = None) -> ArticleExtraction:
    gaz = gazetteer or load_gazetteer()
    notices: list[Notice] = []
    aircraft: list[Aircraft] = []
    for index, item in enumerate(extraction.aircraft):
        normalized = _aircraft(item, gaz)
        if normalized is None:
            detail = f"{NOT_AIRCRAFT_PREFIX} {item.designation!r}: not an aircraft (gazetteer)"
            notices.append(Notice(code=NoticeCode.NOT_AIRCRAFT, detail=detail, path=f"aircraft[{index}]"))
        else:
            aircraft.append(normalized)
    published = extraction.article.published
    return extraction.model_copy(
        update={
            "exercises": merge_exercises([_exercise(e, gaz, published) for e in extraction.exercises]),
            "aircraft": merge_aircraft(aircraft),
            "statements": merge_statements([_statement(s, gaz, published) for s in extraction.statements]),
            "meta": noted(extraction.meta, notices),
        }
    )
