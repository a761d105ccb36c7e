"""Normalization after grounding: gazetteer names, aircraft designations, dates, merging.

Only what the gazetteer or the article establishes is filled in. An actor or aircraft the
gazetteer does not know keeps its name as written with `canonical_name` null; fields such as
`nuclear_capable`, `role` or `count` are never filled from world knowledge. People are matched
in the context of the article (its text and publication date, see `people.py`): a name is
given a person only when the article leaves no doubt which one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from ..schemas import Actor, Aircraft, ArticleExtraction, Exercise, Notice, NoticeCode, PoliticalStatement
from .dates import is_recurrence, resolve_date_text
from .gazetteer import (
    ActorEntry,
    AircraftEntry,
    Gazetteer,
    alias_key,
    designation_key,
    load_gazetteer,
    parse_designation,
)
from .merge import merge_aircraft, merge_exercises, merge_statements
from .notices import noted
from .people import ArticleContext, PersonEntry

NOT_AIRCRAFT_PREFIX = "removed aircraft"


# Types flown by an air force wherever a state's combat jets are all its air force's.
COMBAT_ROLES = {"fighter", "bomber", "escort"}
COMBAT_PREFIXES = {"F", "FA", "B", "KF", "SU", "MIG", "J", "JF", "TU", "JAS"}


def _with_entry(actor: Actor, entry: ActorEntry) -> Actor:
    return actor.model_copy(
        update={
            "canonical_name": entry.canonical_name,
            "abbreviation": entry.abbreviation,
            "country": entry.country or actor.country,
            "kind": entry.kind,
            "qid": entry.qid,
        }
    )


def _with_person(actor: Actor, person: PersonEntry, day: dt.date | None, gaz: Gazetteer) -> Actor:
    # The country of the office held that day: a state's, or the armed group's; a UN office has none.
    terms = [t for t in person.terms if day and t.covers(day)] or list(person.terms)
    countries = set()
    for term in terms:
        body = gaz.actor(term.body) if term.body else None
        countries.add(term.country or (body.country if body else None))
    country = countries.pop() if len(countries) == 1 else person.country
    return actor.model_copy(
        update={
            "canonical_name": person.canonical_name,
            "abbreviation": None,
            "country": country or actor.country,
            "kind": "person",
            "qid": person.qid,
        }
    )


def normalize_actor(
    actor: Actor,
    gazetteer: Gazetteer | None = None,
    context: ArticleContext | None = None,
    *,
    title: str | None = None,
) -> Actor:
    """The actor with what the gazetteer knows of it; `title` is a speaker's title ("Defense Minister")."""
    gaz = gazetteer or load_gazetteer()
    # A person called "Jordan" or "Washington" is not the state.
    entry = gaz.actor(actor.name, context) if actor.kind != "person" else None
    if entry is not None:
        return _with_entry(actor, entry)
    if actor.kind in (None, "person"):
        person = gaz.person(actor.name, context, country=actor.country, title=title)
        if person is not None:
            return _with_person(actor, person, context.published if context else None, gaz)
    country = gaz.demonym_country(actor.name) if actor.kind != "person" else None
    if country and actor.kind == "military":  # "Turkish" (the military): at least its armed forces
        forces = gaz.bodies.get((country, "armed_forces"))
        if forces is not None:
            return _with_entry(actor, forces)
    if actor.country is None and country:
        return actor.model_copy(update={"country": country})  # "Turkish" says the country, not which force
    return actor


def _is_combat_type(item: Aircraft) -> bool:
    parsed = parse_designation(item.designation)
    prefix = parsed[0].upper().replace("/", "") if parsed else ""
    return item.role in COMBAT_ROLES or (item.role is None and prefix in COMBAT_PREFIXES)


def _operator(item: Aircraft, gaz: Gazetteer, context: ArticleContext | None) -> Actor | None:
    """The operator; a state or its demonym flying combat jets is its air force where only that flies them."""
    if item.operator is None:
        return None
    operator = normalize_actor(item.operator, gaz, context)
    country = gaz.place(item.operator.name) if item.operator.kind != "person" else None
    if country is None or country not in gaz.air_arm or not _is_combat_type(item):
        return operator
    forces = gaz.bodies.get((country, "armed_forces"))
    air_force = gaz.bodies.get((country, "air_force"))
    names_only_the_state = operator.kind == "state" or operator.canonical_name in (
        None,
        forces and forces.canonical_name,
    )
    if air_force is None or not names_only_the_state:
        return operator
    return _with_entry(operator, air_force)


def _actors(actors: Sequence[Actor], gaz: Gazetteer, context: ArticleContext | None = None) -> list[Actor]:
    return [normalize_actor(a, gaz, context) for a in actors]


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


def _aircraft(item: Aircraft, gaz: Gazetteer, context: ArticleContext | None = None) -> Aircraft | None:
    entry, designation = _lookup(item.designation, gaz)
    if entry is None and parse_designation(item.designation) is None and parse_designation(item.mention):
        entry, designation = _lookup(item.mention, gaz)  # designation "Combating Falcon", mention "KF-16s"
    if entry is None and (designation_key(designation) or alias_key(designation)) in gaz.not_aircraft:
        return None
    name = item.name
    if entry is not None and entry.name and (item.name is None or _same_name(item.name, entry.name, gaz)):
        name = entry.name
    operator = _operator(item.model_copy(update={"designation": designation}), gaz, context)
    return item.model_copy(update={"designation": designation, "name": name, "operator": operator})


def _same_name(given: str, canonical: str, gaz: Gazetteer) -> bool:
    """ "Combating Falcons" is "Fighting Falcon" once spun words and the plural are undone."""
    wanted = gaz.keys_of(canonical)[0]
    return any(key == wanted or key.rstrip("s") == wanted for key in gaz.keys_of(given))


def _exercise(item: Exercise, gaz: Gazetteer, context: ArticleContext, operators: dict[str, Actor]) -> Exercise:
    published = context.published
    participants = []
    for actor in item.participants:
        # The same name as an aircraft's operator in an air exercise: the same force ("Turkish").
        same = operators.get(actor.name) if item.kind == "air" and actor.kind != "person" else None
        participants.append(
            same.model_copy(update={"name": actor.name}) if same else normalize_actor(actor, gaz, context)
        )
    update: dict[str, Any] = {
        "participants": participants,
        "aircraft": list(dict.fromkeys(normalize_designation(d, gaz) for d in item.aircraft)),
    }
    # Contract 1.2: a recurring exercise ("annual", "every spring") has no dates but this occurrence's.
    if item.start_date is None and item.end_date is None and item.date_text and not is_recurrence(item.date_text):
        resolved = resolve_date_text(item.date_text, published=published, planned=item.status == "planned")
        if resolved is not None:
            update["start_date"], update["end_date"] = resolved
    return item.model_copy(update=update)


def _statement(item: PoliticalStatement, gaz: Gazetteer, context: ArticleContext) -> PoliticalStatement:
    published = context.published
    update: dict[str, Any] = {
        "speaker": normalize_actor(item.speaker, gaz, context, title=item.speaker_title),
        "on_behalf_of": normalize_actor(item.on_behalf_of, gaz, context) if item.on_behalf_of else None,
        "targets": _actors(item.targets, gaz, context),
    }
    if item.date is None and item.date_text:
        resolved = resolve_date_text(item.date_text, published=published)
        # A statement is made on one day: "in January" does not say which.
        if resolved is not None and resolved[0] == resolved[1]:
            update["date"] = resolved[0]
    return item.model_copy(update=update)


def normalize_extraction(
    extraction: ArticleExtraction, *, text: str | None = None, gazetteer: Gazetteer | None = None
) -> ArticleExtraction:
    """Normalize every item; `text` is the article's (people are matched in its context)."""
    gaz = gazetteer or load_gazetteer()
    context = ArticleContext(text or "", extraction.article.published)
    notices: list[Notice] = []
    aircraft: list[Aircraft] = []
    operators: dict[str, Actor] = {}  # operator name as written -> as normalized
    for index, item in enumerate(extraction.aircraft):
        normalized = _aircraft(item, gaz, context)
        if normalized is None:
            detail = f"{NOT_AIRCRAFT_PREFIX} {item.designation!r}: not an aircraft (gazetteer)"
            notices.append(Notice(code=NoticeCode.NOT_AIRCRAFT, detail=detail, path=f"aircraft[{index}]"))
            continue
        aircraft.append(normalized)
        if item.operator and normalized.operator and normalized.operator.canonical_name:
            operators.setdefault(item.operator.name, normalized.operator)
    return extraction.model_copy(
        update={
            "exercises": merge_exercises([_exercise(e, gaz, context, operators) for e in extraction.exercises]),
            "aircraft": merge_aircraft(aircraft),
            "statements": merge_statements([_statement(s, gaz, context) for s in extraction.statements]),
            "meta": noted(extraction.meta, notices),
        }
    )
