"""The rules provider's exercises: what is one, who takes part, when, and its status from the tense."""

from __future__ import annotations

import datetime as dt

import pytest
from _rulekit import rules, spans_are_exact


def test_a_named_exercise_with_participants_date_and_status():
    text = (
        "South Korea and the United States began their annual Freedom Shield exercise on Monday, mobilizing "
        "tens of thousands of troops for 11 days of field training, South Korea's Joint Chiefs of Staff said."
    )
    result = rules(text, published="2025-03-10")
    assert spans_are_exact(result, text)
    [exercise] = result.exercises
    assert exercise.name == "Freedom Shield"
    assert {p.country for p in exercise.participants} == {"KOR", "USA"}
    assert (exercise.status, exercise.date_text, exercise.start_date) == ("ongoing", "Monday", dt.date(2025, 3, 10))


@pytest.mark.parametrize(
    ("sentence", "status"),
    [
        ("China and Russia will hold joint naval drills in the East China Sea next month.", "planned"),
        ("China and Russia are holding joint naval drills in the East China Sea this week.", "ongoing"),
        ("China and Russia held joint naval drills in the East China Sea last month.", "conducted"),
        ("China and Russia conducted joint naval drills in the East China Sea in July.", "conducted"),
        ("Planned joint naval drills of China and Russia in the East China Sea were called off.", "cancelled"),
        ("China and Russia cancelled their joint naval drills in the East China Sea.", "cancelled"),
    ],
)
def test_status_follows_the_tense(sentence, status):
    [exercise] = rules(sentence).exercises
    assert exercise.status == status
    assert exercise.kind == "naval"
    assert {p.country for p in exercise.participants} == {"CHN", "RUS"}


def test_kind_from_the_domain_words():
    flight = rules("U.S. and Japanese fighter jets held a trilateral flight with South Korean aircraft on Friday.")
    assert [e.kind for e in flight.exercises] == ["air"]
    defense = rules("Japan and the United States held a ballistic missile defense drill off Okinawa on Friday.")
    assert [e.kind for e in defense.exercises] == ["missile_defense"]
    unknown = rules("China conducted the military drills encircling Taiwan three days after the inauguration.")
    assert [(e.kind, e.location) for e in unknown.exercises] == [("other", "Taiwan")]


def test_later_mentions_are_the_same_exercise_and_new_dated_ones_are_not():
    text = (
        "China conducted military drills encircling Taiwan on Thursday. The drills involved warships and jets. "
        "That type of exercise was expected, analysts said. A separate naval drill off Fujian followed on Sunday."
    )
    result = rules(text)
    assert [len(e.evidence) for e in result.exercises] == [3, 1]
    assert [e.date_text for e in result.exercises] == ["Thursday", "Sunday"]


def test_participants_are_not_the_places_or_the_targets():
    text = (
        "Turkish F-16 jets flew low Monday across the Turkish capital, in a two-day exercise to test the radar "
        "of the newly acquired Russian S-400 missile system."
    )
    [exercise] = rules(text).exercises
    assert [p.country for p in exercise.participants] == ["TUR"]
    assert exercise.aircraft == ["F-16"]


@pytest.mark.parametrize(
    "sentence",
    [
        "Turkey could find itself excluded from joint air exercises with its NATO partners.",
        "Emergency services held an evacuation drill in the port city last month.",
        "Doctors say people should get outside and exercise for at least 30 minutes a day.",
        "The minister urged both sides to exercise restraint along the border.",
        "U.S. and South Korean forces routinely hold joint exercises on the peninsula.",
        '"The joint military drills have a clear aggressive character," the ministry said.',
    ],
)
def test_no_exercise_where_the_text_reports_none(sentence):
    assert rules(sentence).exercises == []


def test_an_exercise_named_in_a_quote_is_still_one():
    text = '"We will go ahead with exercise Freedom Edge next week," the Japanese Defense Ministry said.'
    [exercise] = rules(text).exercises
    assert (exercise.name, exercise.status) == ("Freedom Edge", "planned")
