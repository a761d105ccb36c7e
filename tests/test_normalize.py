"""Normalization: gazetteer actors, designations, dates, merging."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources

import pytest
from _evalkit import aircraft, as_extraction, gold, make, seed_text, strip_private

from extractor.postprocess.dates import resolve_date_text
from extractor.postprocess.gazetteer import load_gazetteer
from extractor.postprocess.grounding import ground_extraction
from extractor.postprocess.normalize import (
    NOT_AIRCRAFT_PREFIX,
    normalize_actor,
    normalize_designation,
    normalize_extraction,
)
from extractor.schemas import Actor


def test_gazetteer_is_versioned():
    raw = json.loads(
        resources.files("extractor.postprocess").joinpath("data/gazetteer.json").read_text(encoding="utf-8")
    )
    assert raw["version"] and load_gazetteer().version == raw["version"]


@pytest.mark.parametrize(
    "name, canonical, abbreviation, country",
    [
        ("U.S. Air Drive", "United States Air Force", "USAF", "USA"),
        ("Japan Air Self-Protection Drive", "Japan Air Self-Defense Force", "JASDF", "JPN"),
        ("Republic of Korea Air Drive (ROKAF)", "Republic of Korea Air Force", "ROKAF", "KOR"),
        ("ROKAF", "Republic of Korea Air Force", "ROKAF", "KOR"),
        ("KCNA", "Korean Central News Agency", "KCNA", "PRK"),
        ("Xinhua", "Xinhua News Agency", "Xinhua", "CHN"),
        ("INDOPACOM", "United States Indo-Pacific Command", "INDOPACOM", "USA"),
        ("the Royal Air Force", "Royal Air Force", "RAF", "GBR"),
        ("NATO", "North Atlantic Treaty Organization", "NATO", None),
    ],
)
def test_known_actors(name, canonical, abbreviation, country):
    actor = normalize_actor(Actor(name=name))
    assert (actor.name, actor.canonical_name, actor.abbreviation, actor.country) == (
        name,
        canonical,
        abbreviation,
        country,
    )


@pytest.mark.parametrize(
    "name, canonical, country",
    [
        ("U.S.", "United States", "USA"),
        ("US", "United States", "USA"),
        ("United States", "United States", "USA"),
        ("South Korea", "South Korea", "KOR"),
        ("North Korea", "North Korea", "PRK"),
        ("Russia", "Russia", "RUS"),
        ("Taiwan", "Taiwan", "TWN"),
        ("Turkey", "Turkey", "TUR"),
        ("Japan", "Japan", "JPN"),
        ("Norway", "Norway", "NOR"),
    ],
)
def test_states(name, canonical, country):
    actor = normalize_actor(Actor(name=name))
    assert (actor.canonical_name, actor.country, actor.kind) == (canonical, country, "state")


def test_unknown_actor_stays_as_written():
    actor = normalize_actor(Actor(name="Freedonia Air Drive", country=None, kind="military"))
    assert actor == Actor(name="Freedonia Air Drive", kind="military")
    # close to a known name, but not it: never pulled onto the nearest entry
    assert normalize_actor(Actor(name="U.S. Air Forge")).canonical_name is None


def test_person_is_not_a_place_and_demonym_gives_country_or_armed_forces():
    assert normalize_actor(Actor(name="Washington", kind="person")).canonical_name is None
    # "Turkish" as a military: at least Turkey's armed forces (which service, the name does not say)
    turkish = normalize_actor(Actor(name="Turkish", kind="military"))
    assert (turkish.country, turkish.canonical_name) == ("TUR", "Turkish Armed Forces")
    # of another kind it says the country only
    turkish = normalize_actor(Actor(name="Turkish", kind="government"))
    assert (turkish.country, turkish.canonical_name) == ("TUR", None)


@pytest.mark.parametrize(
    "given, expected",
    [
        ("B-52s", "B-52"),
        ("B-52H", "B-52H"),
        ("B-1Bs", "B-1B"),
        ("KF-16 Combating Falcons", "KF-16"),
        ("Mitsubishi F-2s", "F-2"),
        ("SU 35", "Su-35"),
        ("F-35A", "F-35A"),
        ("F-15K", "F-15K"),
        ("Tu-22M3", "Tu-22M3"),
        ("Gripen", "JAS 39"),
        ("XQ-58s", "XQ-58"),
    ],
)
def test_designations(given, expected):
    assert normalize_designation(given) == expected


def test_seed_model_output_normalizes_like_gold():
    """Gold with the normalizer's fields blanked: normalization restores them."""
    doc = strip_private(gold())
    for item in doc["aircraft"]:
        item["designation"], item["name"] = item["mention"], None
    for actor in [a for e in doc["exercises"] for a in e["participants"]] + [a["operator"] for a in doc["aircraft"]]:
        actor.update(canonical_name=None, abbreviation=None, country=None, kind=None)
    result = normalize_extraction(as_extraction(doc))
    expected = gold()
    assert [a.designation for a in result.aircraft] == [a["designation"] for a in expected["aircraft"]]
    kf16 = result.aircraft[2]
    assert (kf16.designation, kf16.name, kf16.mention) == ("KF-16", "Fighting Falcon", "KF-16 Combating Falcons")
    ops = {(a.operator.abbreviation, a.operator.country) for a in result.aircraft}
    assert ops == {("USAF", "USA"), ("JASDF", "JPN"), ("ROKAF", "KOR")}
    first = result.exercises[0].participants
    assert [(p.canonical_name, p.country, p.kind) for p in first] == [
        ("United States Air Force", "USA", "military"),
        ("Japan Air Self-Defense Force", "JPN", "military"),
        ("Republic of Korea Air Force", "KOR", "military"),
    ]
    # only what the model said: B-52 true (from the article), the rest unknown, never invented
    assert [a.nuclear_capable for a in result.aircraft] == [a["nuclear_capable"] for a in expected["aircraft"]]


def test_not_an_aircraft_is_removed():
    extraction = make("x", aircraft=[aircraft("S-400", "x"), aircraft("F-16s", "x")])
    result = normalize_extraction(extraction)
    assert [a.designation for a in result.aircraft] == ["F-16"]
    assert result.meta.warnings[0].startswith(NOT_AIRCRAFT_PREFIX)


def test_dates_resolve_against_published():
    pub = dt.date(2025, 7, 14)
    assert resolve_date_text("Jul. 11, 2025", published=None) == (dt.date(2025, 7, 11),) * 2
    assert resolve_date_text("July 8-12, 2025", published=None) == (dt.date(2025, 7, 8), dt.date(2025, 7, 12))
    assert resolve_date_text("in January", published=None) is None
    assert resolve_date_text("in January", published=pub) == (dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    assert resolve_date_text("in December", published=pub) == (dt.date(2024, 12, 1), dt.date(2024, 12, 31))
    assert resolve_date_text("in December", published=pub, planned=True)[0] == dt.date(2025, 12, 1)
    assert resolve_date_text("Monday", published=dt.date(2019, 11, 25)) == (dt.date(2019, 11, 25),) * 2
    assert resolve_date_text("Wednesday", published=dt.date(2019, 11, 25))[0] == dt.date(2019, 11, 20)
    assert resolve_date_text("2023", published=pub) is None


def test_exercise_dates_filled_only_when_known():
    ex = {
        "description": "d",
        "kind": "air",
        "status": "conducted",
        "date_text": "January",
        "evidence": [{"quote": "q"}],
    }
    unknown = normalize_extraction(make("q", exercises=[ex]))
    assert unknown.exercises[0].start_date is None and unknown.exercises[0].date_text == "January"
    known = normalize_extraction(make("q", exercises=[ex], published=dt.date(2025, 7, 14)))
    assert known.exercises[0].start_date == dt.date(2025, 1, 1)


def _statement(**fields):
    return {
        "speaker": {"name": "Hulusi Akar"},
        "summary": "s",
        "stance": "neutral",
        "evidence": [{"quote": "q"}],
        **fields,
    }


def test_statement_date_resolves_from_date_text_against_published():
    monday = dt.date(2019, 11, 25)
    said = [_statement(date_text="Monday"), _statement(date_text="Wednesday", quote="other")]
    known = normalize_extraction(make("q", statements=said, published=monday))
    assert [(s.date, s.date_text) for s in known.statements] == [
        (monday, "Monday"),
        (dt.date(2019, 11, 20), "Wednesday"),
    ]
    unknown = normalize_extraction(make("q", statements=said))
    assert [(s.date, s.date_text) for s in unknown.statements] == [(None, "Monday"), (None, "Wednesday")]


def test_statement_date_stays_null_when_the_words_do_not_fix_one_day():
    said = [
        _statement(date_text="in January"),
        _statement(date_text="Dec. 7, 2024", quote="x", date=dt.date(2024, 12, 8)),
    ]
    result = normalize_extraction(make("q", statements=said, published=dt.date(2025, 3, 14)))
    assert result.statements[0].date is None  # a month is not a day
    assert result.statements[1].date == dt.date(2024, 12, 8)  # a date the model gave is kept


def test_duplicate_statements_merge_keeps_a_date_text_from_either():
    first = _statement(quote="We will respond.", evidence=[{"quote": "a"}])
    second = _statement(quote="We will respond.", date_text="Friday", evidence=[{"quote": "b"}])
    result = normalize_extraction(make("ab", statements=[first, second], published=dt.date(2025, 3, 14)))
    assert len(result.statements) == 1
    assert (result.statements[0].date_text, result.statements[0].date) == ("Friday", dt.date(2025, 3, 14))


def test_duplicate_aircraft_merge():
    text = seed_text()
    usaf = {"name": "U.S. Air Drive"}
    extraction = make(
        text,
        aircraft=[
            aircraft("B-52s", "U.S. Air Drive B-52s deployed to Andersen AFB", operator=usaf, count=2),
            aircraft("B-52", "A number of B-52s from Minot Air Drive Base", operator={"name": "USAF"}, count=2),
            aircraft("B-52", "U.S. Air Drive B-52s deployed to Andersen AFB", operator=usaf, home_base="Minot"),
            aircraft("B-52", "B-52s stay deployed to Diego Garcia", operator={"name": "Freedonia Air Drive"}),
            aircraft("KF-16", "KF-16 Combating Falcons", count=3),
            aircraft("KF-16s", "KF-16s", count=4),
        ],
    )
    result = normalize_extraction(ground_extraction(extraction, text, mode="strict", threshold=90))
    assert [(a.designation, a.operator and a.operator.name) for a in result.aircraft] == [
        ("B-52", "U.S. Air Drive"),
        ("B-52", "Freedonia Air Drive"),
        ("KF-16", None),
    ]
    b52 = result.aircraft[0]
    assert b52.count == 2 and b52.home_base == "Minot"
    assert [ev.quote for ev in b52.evidence] == [
        "U.S. Air Drive B-52s deployed to Andersen AFB",
        "A number of B-52s from Minot Air Drive Base",
    ]
    assert result.aircraft[2].count is None  # 3 vs 4: inconsistent


def test_one_aircraft_entry_per_type_operator_and_place():
    """Contract 1.2: B-52s at Guam and B-52s at Diego Garcia are two entries; Guam written two ways is one place."""
    text = seed_text()
    usaf = {"name": "U.S. Air Drive"}
    extraction = make(
        text,
        aircraft=[
            aircraft(
                "B-52", "U.S. Air Drive B-52s deployed to Andersen AFB", operator=usaf, deployed_to="Andersen AFB, Guam"
            ),
            aircraft("B-52", "B-52s stay deployed to Diego Garcia", operator=usaf, deployed_to="Diego Garcia"),
            aircraft("B-52", "a earlier B-52 detachment to Guam", operator=usaf, deployed_to="Guam"),
        ],
    )
    result = normalize_extraction(ground_extraction(extraction, text, mode="strict", threshold=90))
    assert [(a.designation, a.deployed_to) for a in result.aircraft] == [
        ("B-52", "Andersen AFB, Guam"),
        ("B-52", "Diego Garcia"),
    ]
    assert len(result.aircraft[0].evidence) == 2


def test_duplicate_exercises_merge_and_aircraft_designations_normalize():
    ex = {
        "description": "escort flight",
        "kind": "air",
        "status": "conducted",
        "date_text": "Jul. 11, 2025",
        "participants": [{"name": "U.S. Air Drive"}, {"name": "ROKAF"}],
        "aircraft": ["B-52s"],
        "evidence": [{"quote": "a"}],
    }
    other = {
        **ex,
        "participants": [{"name": "USAF"}, {"name": "Republic of Korea Air Drive"}],
        "aircraft": ["KF-16 Combating Falcons", "B-52"],
        "evidence": [{"quote": "b"}],
    }
    june = {**ex, "date_text": "June", "evidence": [{"quote": "c"}]}
    result = normalize_extraction(make("abc", exercises=[ex, other, june]))
    assert len(result.exercises) == 2
    merged = result.exercises[0]
    assert merged.start_date == dt.date(2025, 7, 11)
    assert merged.aircraft == ["B-52", "KF-16"]
    assert [e.quote for e in merged.evidence] == ["a", "b"]


def test_one_aircraft_entry_per_place_and_none_for_no_place():
    # Contract 1.2: B-52s deployed to two places are two entries; the same place twice is one.
    text = "B-52s deployed to Guam. More B-52s deployed to Guam. B-52s stay at Diego Garcia. B-52s flew."
    usaf = {"name": "U.S. Air Drive"}
    extraction = make(
        text,
        aircraft=[
            aircraft("B-52s", "B-52s deployed to Guam", operator=usaf, deployed_to="Guam", count=2),
            aircraft("B-52", "More B-52s deployed to Guam", operator=usaf, deployed_to="guam", nuclear_capable=True),
            aircraft("B-52", "B-52s stay at Diego Garcia", operator=usaf, deployed_to="Diego Garcia"),
            aircraft("B-52", "B-52s flew", operator=usaf),
        ],
    )
    result = normalize_extraction(ground_extraction(extraction, text, mode="strict", threshold=90))
    assert [(a.designation, a.deployed_to) for a in result.aircraft] == [
        ("B-52", "Guam"),
        ("B-52", "Diego Garcia"),
        ("B-52", None),
    ]
    guam = result.aircraft[0]
    assert (guam.count, guam.nuclear_capable) == (2, True)
    assert [e.quote for e in guam.evidence] == ["B-52s deployed to Guam", "More B-52s deployed to Guam"]


@pytest.mark.parametrize("date_text", ["annual", "every spring", "held twice a year", "each August"])
def test_a_recurring_exercise_gets_no_dates(date_text):
    # Contract 1.2: no dates unless the article gives this occurrence's; the words stay.
    exercise = {"description": "d", "kind": "naval", "status": "planned", "date_text": date_text}
    result = normalize_extraction(
        make("q", exercises=[{**exercise, "evidence": [{"quote": "q"}]}], published=dt.date(2025, 3, 14))
    )
    assert (result.exercises[0].start_date, result.exercises[0].date_text) == (None, date_text)


def test_a_recurring_exercise_with_this_occurrences_dates_resolves():
    exercise = {"description": "d", "kind": "naval", "status": "conducted", "date_text": "annual drill, Aug. 3-9, 2025"}
    result = normalize_extraction(make("q", exercises=[{**exercise, "evidence": [{"quote": "q"}]}]))
    assert (result.exercises[0].start_date, result.exercises[0].end_date) == (dt.date(2025, 8, 3), dt.date(2025, 8, 9))
