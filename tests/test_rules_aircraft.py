"""The rules provider's aircraft: designations as written, operators, counts, places, nuclear words."""

from __future__ import annotations

from _rulekit import rules, spans_are_exact

from extractor.rules.aircraft_types import find_designations


def test_designations_in_their_many_spellings():
    text = (
        "Russia flew two Su-57 stealth fighters and an SU 35 over the Baltic on Monday, while Polish F16s "
        "and a U.S. B-1B bomber were scrambled. South Korea sent KF-16 jets, and Japan two F-2s."
    )
    found = [(m.span.text, m.designation) for m in find_designations(text)]
    assert found == [
        ("Su-57", "Su-57"),
        ("SU 35", "Su-35"),
        ("F16s", "F-16"),
        ("B-1B", "B-1B"),
        ("KF-16", "KF-16"),
        ("F-2s", "F-2"),
    ]


def test_what_only_looks_like_a_designation_is_not_one():
    text = (
        "The U-17 team beat the hosts, a student with an F-1 visa was detained, the S-400 missiles were "
        "tested, a COVID-19 outbreak closed the G-7 venue, and the airline ordered Airbus A320 jets."
    )
    assert find_designations(text) == []


def test_operator_count_role_and_places_come_from_the_sentence():
    text = (
        "The Japan Air Self-Defense Force contributed two Mitsubishi F-2s for the escort, while the "
        "ROKAF despatched KF-16 fighters to accompany the U.S. bombers. Four U.S. Air Force B-52s from "
        "Minot Air Force Base, North Dakota, deployed to Andersen Air Force Base, Guam, last week."
    )
    result = rules(text)
    assert spans_are_exact(result, text)
    by_type = {a.designation: a for a in result.aircraft}
    assert set(by_type) == {"F-2", "KF-16", "B-52"}
    f2 = by_type["F-2"]
    assert (f2.operator.canonical_name, f2.count, f2.role) == ("Japan Air Self-Defense Force", 2, "escort")
    kf16 = by_type["KF-16"]
    assert (kf16.operator.country, kf16.count, kf16.role) == ("KOR", None, "escort")
    b52 = by_type["B-52"]
    assert b52.operator.canonical_name == "United States Air Force" and b52.count == 4
    assert (b52.home_base, b52.deployed_to) == ("Minot Air Force Base, North Dakota", "Andersen Air Force Base, Guam")


def test_nothing_is_invented():
    """No number, no nuclear words, no place, no operator in the text: all null."""
    text = "F-35 fighters and B-52 bombers flew over the region on Tuesday, military officials said."
    result = rules(text)
    by_type = {a.designation: a for a in result.aircraft}
    assert set(by_type) == {"F-35", "B-52"}
    for item in by_type.values():
        assert (item.count, item.nuclear_capable, item.home_base, item.deployed_to) == (None, None, None, None)
    assert by_type["F-35"].operator is None  # several countries fly it: the table names none
    assert by_type["B-52"].operator is None  # one country flies it, but the article names none of its actors


def test_nuclear_capability_only_from_the_articles_words():
    said = rules("The B-52s, which can carry nuclear weapons, landed at Fairford on Friday.")
    assert [a.nuclear_capable for a in said.aircraft] == [True]
    non_nuclear = rules("The non-nuclear B-52s landed at Fairford on Friday.")
    assert [a.nuclear_capable for a in non_nuclear.aircraft] == [False]
    silent = rules("The B-52s landed at Fairford on Friday.")
    assert [a.nuclear_capable for a in silent.aircraft] == [None]


def test_a_counted_deployment_is_not_a_counted_aircraft():
    deployment = rules("A B-1B deployment to Japan began in April, the U.S. Air Force said.")
    assert [(a.deployed_to, a.count) for a in deployment.aircraft] == [("Japan", None)]
    flight = rules("A B-1B and two F-35A fighters flew over the peninsula on Monday, the U.S. Air Force said.")
    assert sorted((a.designation, a.count) for a in flight.aircraft) == [("B-1B", 1), ("F-35A", 2)]


def test_one_entry_per_type_operator_and_place():
    text = (
        "U.S. Air Force B-52s deployed to Guam flew with Japanese jets on Monday. "
        "Other U.S. Air Force B-52s remain deployed to Diego Garcia, and a B-52 detachment to Guam ended in May."
    )
    result = rules(text)
    assert sorted((a.designation, a.deployed_to) for a in result.aircraft) == [
        ("B-52", "Diego Garcia"),
        ("B-52", "Guam"),
    ]


def test_a_lineage_is_not_an_aircraft_of_the_article():
    text = "Japan sent two F-2 fighters, a domestically built derivative of the F-16, to escort the bombers."
    assert [a.designation for a in rules(text).aircraft] == ["F-2"]
