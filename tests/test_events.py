"""Merging items across articles into events: the proofs from the issue and each rule."""

from __future__ import annotations

import random

import pytest
from _eventkit import JP, KR, US, actor, aircraft, exercise, result, statement

from extractor.events import merge


def by_type(events, kind):
    return [e for e in events if e.type == kind]


def source_ids(event) -> list[str]:
    return [s.article_id for s in event.sources]


# -- the proofs asked for -------------------------------------------------------------------


def three_reports() -> list[dict]:
    return [
        result(
            "a1",
            "2025-07-12",
            exercises=[
                exercise(
                    "Trilateral air drill with B-52 bombers",
                    name="Freedom Edge",
                    start="2025-07-11",
                    location="Pacific",
                )
            ],
        ),
        result(
            "a2",
            "2025-07-12",
            exercises=[
                exercise(
                    "US, Japan and South Korea staged joint aerial exercise",
                    name="Freedom Edge 2025",
                    start="2025-07-11",
                    end="2025-07-11",
                    location="over the Pacific area",
                )
            ],
        ),
        result(
            "a3",
            "2025-07-14",
            exercises=[
                exercise(
                    "Allied jets escorted US bombers near the peninsula",
                    start="2025-07-11",
                    date_text="Friday",
                    participants=[actor("United States", "USA"), actor("Japan Air Self-Defense Force", "JPN"), KR],
                )
            ],
        ),
    ]


def test_same_exercise_in_three_articles_is_one_event_with_three_sources():
    events = merge(three_reports())
    assert len(events) == 1
    event = events[0]
    assert event.type == "exercise"
    assert source_ids(event) == ["a1", "a2", "a3"]
    assert event.name in {"Freedom Edge", "Freedom Edge 2025"}
    assert str(event.start_date) == "2025-07-11"
    assert {p.country for p in event.participants} == {"USA", "JPN", "KOR"}
    # each source carries its own evidence with offsets
    assert all(s.evidence and s.evidence[0].end > s.evidence[0].start for s in event.sources)


def test_two_exercises_of_the_same_participants_a_month_apart_stay_two():
    dated = [
        result("b1", "2025-06-05", exercises=[exercise("Trilateral air drill", start="2025-06-04")]),
        result("b2", "2025-07-05", exercises=[exercise("Trilateral air drill", start="2025-07-04")]),
    ]
    assert len(merge(dated)) == 2
    undated = [
        result("c1", "2025-06-05", exercises=[exercise("Trilateral air drill")]),
        result("c2", "2025-07-05", exercises=[exercise("Trilateral air drill")]),
    ]
    assert len(merge(undated)) == 2
    # ...and the same name does not override clearly different dates (a yearly exercise)
    named = [
        result("d1", "2024-06-28", exercises=[exercise("drill", name="Freedom Edge", start="2024-06-27")]),
        result("d2", "2025-07-12", exercises=[exercise("drill", name="Freedom Edge", start="2025-07-11")]),
    ]
    assert len(merge(named)) == 2


def test_a_date_conflict_is_kept_not_resolved_silently():
    events = merge(
        [
            result("e1", "2025-07-12", exercises=[exercise("drill", name="Freedom Edge", start="2025-07-11")]),
            result("e2", "2025-07-13", exercises=[exercise("drill", name="Freedom Edge", start="2025-07-12")]),
            result("e3", "2025-07-13", exercises=[exercise("drill", name="Freedom Edge", start="2025-07-12")]),
        ]
    )
    assert len(events) == 1
    event = events[0]
    conflict = {c.field: c for c in event.conflicts}["start_date"]
    assert {v.value: v.articles for v in conflict.values} == {"2025-07-11": ["e1"], "2025-07-12": ["e2", "e3"]}
    assert str(event.start_date) == "2025-07-12"  # what most sources say, and flagged above


def test_ids_are_stable_across_runs_and_input_order():
    results = three_reports() + [
        result("s1", "2025-07-12", statements=[statement(actor("KCNA", "PRK"), summary="KCNA condemned the drill")]),
        result("s2", "2025-07-20", aircraft=[aircraft("B-52H", deployed_to="Guam")]),
    ]
    first = merge(results)
    shuffled = results[:]
    random.Random(7).shuffle(shuffled)
    second = merge(shuffled)
    assert [e.id for e in first] == [e.id for e in second]
    assert [e.model_dump() for e in first] == [e.model_dump() for e in second]


def test_ids_are_stable_across_incremental_merges():
    old = merge(
        [
            *three_reports()[1:],
            result(
                "s1",
                "2025-07-12",
                statements=[
                    statement(
                        actor("Hulusi Akar", "TUR"),
                        quote="We are not going to integrate this with the NATO systems",
                        summary="No threat",
                    )
                ],
            ),
            result("p1", "2025-03-01", aircraft=[aircraft("B-2", deployed_to="Diego Garcia")]),
        ]
    )
    ids = {e.type: e.id for e in old}
    # a1 sorts before the event's founding report a2: the event must still keep its id
    new = merge(
        [three_reports()[0], result("x9", "2025-09-01", exercises=[exercise("naval drill", kind="naval")])],
        existing=old,
    )
    by_id = {e.id: e for e in new}
    # unchanged events keep id and content; the exercise that gained a source keeps its id
    assert by_id[ids["statement"]].model_dump() == next(e for e in old if e.type == "statement").model_dump()
    assert by_id[ids["deployment"]].model_dump() == next(e for e in old if e.type == "deployment").model_dump()
    assert source_ids(by_id[ids["exercise"]]) == ["a1", "a2", "a3"]
    assert len(new) == 4
    # merging the same results again changes nothing
    assert [e.model_dump() for e in merge([three_reports()[0]], existing=new)] == [e.model_dump() for e in new]


def test_an_article_extracted_again_replaces_its_items():
    old = merge(three_reports())
    again = result("a3", "2025-07-14", exercises=[exercise("naval drill", kind="naval", start="2025-08-30")])
    new = merge([again], existing=old)
    assert sorted(source_ids(e) for e in new) == [["a1", "a2"], ["a3"]]
    assert next(e for e in new if source_ids(e) == ["a1", "a2"]).id == old[0].id


def test_nothing_is_invented():
    events = merge(
        three_reports()
        + [
            result(
                "e2",
                "2025-07-13",
                exercises=[exercise("drill", name="Freedom Edge", start="2025-07-12", status="planned")],
            ),
        ]
    )
    for event in events:
        items = [s.item for s in event.sources]
        for field in ("name", "kind", "status", "start_date", "end_date", "location"):
            value = getattr(event, field)
            if value is not None:
                assert any(str(item[field]) == str(value) for item in items), field
        assert all(
            any(p.name in [q["name"] for q in item["participants"]] for item in items) for p in event.participants
        )


# -- exercises, rule by rule ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        # different names on the same day: two exercises
        (dict(name="Freedom Edge", start="2025-07-11"), dict(name="Vigilant Defense", start="2025-07-11"), False),
        # one named, one not, same participants and day
        (dict(name="Freedom Edge", start="2025-07-11"), dict(start="2025-07-11"), True),
        # reported a day apart ("Monday" / "Tuesday"): within the slack
        (dict(start="2025-07-11"), dict(start="2025-07-12"), True),
        # a week apart, both dated: two
        (dict(start="2025-07-01"), dict(start="2025-07-08"), False),
        # overlapping ranges
        (dict(start="2025-07-01", end="2025-07-10"), dict(start="2025-07-08"), True),
        # disjoint participants on the same day
        (
            dict(start="2025-07-11"),
            dict(start="2025-07-11", participants=[actor("Russia", "RUS"), actor("China", "CHN")]),
            False,
        ),
        # participants only half shared: not similar enough without a name
        (
            dict(start="2025-07-11"),
            dict(
                start="2025-07-11",
                participants=[US, actor("Philippines", "PHL"), actor("Australia", "AUS"), actor("India", "IND")],
            ),
            False,
        ),
        # but a shared name carries it
        (
            dict(name="Talisman Sabre", start="2025-07-11"),
            dict(name="Talisman Sabre", start="2025-07-11", participants=[US, actor("Australia", "AUS")]),
            True,
        ),
        # air vs naval: two
        (dict(start="2025-07-11"), dict(start="2025-07-11", kind="naval"), False),
        # air vs joint: may be the same drill described more broadly
        (dict(start="2025-07-11"), dict(start="2025-07-11", kind="joint"), True),
        # neither dated, different dates as written
        (dict(date_text="in January"), dict(date_text="in June"), False),
        # neither dated, same date as written
        (dict(date_text="Friday"), dict(date_text="Friday"), True),
        # no participants and no name: nothing to match on
        (dict(start="2025-07-11", participants=[]), dict(start="2025-07-11", participants=[]), False),
    ],
)
def test_exercise_rules(a, b, same):
    events = merge(
        [
            result("r1", "2025-07-12", exercises=[exercise("drill one", **a)]),
            result("r2", "2025-07-12", exercises=[exercise("drill two", **b)]),
        ]
    )
    assert len(events) == (1 if same else 2)


def test_two_exercises_of_one_article_are_never_merged():
    events = merge([result("r1", "2025-07-12", exercises=[exercise("January drill"), exercise("June drill")])])
    assert len(events) == 2


def test_no_chaining_across_clearly_different_dates():
    # r2 is within the slack of r1 and of r3, but r1 and r3 are 6 days apart: r3 starts its own.
    events = merge(
        [
            result("r1", "2025-07-02", exercises=[exercise("drill", start="2025-07-01")]),
            result("r2", "2025-07-05", exercises=[exercise("drill", start="2025-07-04")]),
            result("r3", "2025-07-08", exercises=[exercise("drill", start="2025-07-07")]),
        ]
    )
    assert sorted(source_ids(e) for e in events) == [["r1", "r2"], ["r3"]]


def test_participant_conflict_lists_each_set_with_its_articles():
    events = merge(
        [
            result("r1", "2025-07-12", exercises=[exercise("drill", name="Freedom Edge", start="2025-07-11")]),
            result(
                "r2",
                "2025-07-12",
                exercises=[exercise("drill", name="Freedom Edge", start="2025-07-11", participants=[US, JP])],
            ),
        ]
    )
    (event,) = events
    conflict = {c.field: c for c in event.conflicts}["participants"]
    assert [(v.value, v.articles) for v in conflict.values] == [
        (["United States Air Force", "Japan", "South Korea"], ["r1"]),
        (["United States Air Force", "Japan"], ["r2"]),
    ]


# -- deployments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (
            dict(designation="B-52H", deployed_to="Andersen Air Force Base, Guam"),
            dict(designation="B-52", deployed_to="Guam"),
            True,
        ),
        (dict(designation="B-52H", deployed_to="Guam"), dict(designation="B-1B", deployed_to="Guam"), False),
        (dict(designation="B-52H", deployed_to="Guam"), dict(designation="B-52H", deployed_to="Diego Garcia"), False),
        (
            dict(designation="B-52H", deployed_to="Guam"),
            dict(designation="B-52H", deployed_to="Guam", operator=actor("Royal Air Force", "GBR")),
            False,
        ),
        # no operator stated on either side: designation and place still decide
        (
            dict(designation="B-2", deployed_to="Diego Garcia", operator=None),
            dict(designation="B-2A", deployed_to="Diego Garcia", operator=None),
            True,
        ),
        # one says who flies them, the other does not: not enough to call them one deployment
        (
            dict(designation="B-2", deployed_to="Diego Garcia"),
            dict(designation="B-2", deployed_to="Diego Garcia", operator=None),
            False,
        ),
        (
            dict(designation="B-52H", home_base="Minot Air Force Base, North Dakota"),
            dict(designation="B-52H", home_base="Minot Air Force Base"),
            True,
        ),
    ],
)
def test_deployment_rules(a, b, same):
    events = merge(
        [
            result("r1", "2025-07-12", aircraft=[aircraft(**a)]),
            result("r2", "2025-07-14", aircraft=[aircraft(**b)]),
        ]
    )
    assert len(events) == (1 if same else 2)


def test_deployment_window_and_count_conflict():
    events = merge(
        [
            result("r1", "2025-07-01", aircraft=[aircraft("B-52H", deployed_to="Guam", count=4)]),
            result("r2", "2025-07-20", aircraft=[aircraft("B-52H", deployed_to="Guam", count=6)]),
            result(
                "r3", "2025-11-20", aircraft=[aircraft("B-52H", deployed_to="Guam", count=6)]
            ),  # months later: another
        ]
    )
    assert sorted(source_ids(e) for e in events) == [["r1", "r2"], ["r3"]]
    first = next(e for e in events if len(e.sources) == 2)
    assert (str(first.first_reported), str(first.last_reported)) == ("2025-07-01", "2025-07-20")
    assert [(v.value, v.articles) for v in first.conflicts[0].values] == [(4, ["r1"]), (6, ["r2"])]


def test_aircraft_without_a_place_is_not_a_deployment():
    assert merge([result("r1", "2025-07-01", aircraft=[aircraft("F-16")])]) == []


def test_deployment_source_points_at_the_article_item():
    (event,) = merge(
        [result("r1", "2025-07-01", aircraft=[aircraft("F-16"), aircraft("B-2", deployed_to="Diego Garcia")])]
    )
    assert event.sources[0].item_index == 1 and event.sources[0].item["designation"] == "B-2"


# -- statements -----------------------------------------------------------------------------

AKAR = actor("Hulusi Akar", "TUR", kind="person")
QUOTE = "We are not going to integrate this with the NATO systems in any way. It will operate independently"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        # one article quotes part of the sentence
        (
            dict(quote=QUOTE, summary="Akar said the S-400 poses no threat"),
            dict(quote="It will operate independently", summary="Turkey's minister defended the purchase"),
            True,
        ),
        # surname only, same words
        (dict(quote=QUOTE, summary="x"), dict(speaker=actor("Akar"), quote=QUOTE, summary="y"), True),
        # same speaker, another utterance
        (
            dict(quote=QUOTE, summary="x"),
            dict(quote="All should be aware that Turkey will have to look for alternatives", summary="y"),
            False,
        ),
        # another speaker, same words
        (
            dict(quote=QUOTE, summary="x"),
            dict(speaker=actor("Mevlut Cavusoglu", "TUR"), quote=QUOTE, summary="x"),
            False,
        ),
        # no quotes: similar summaries
        (
            dict(summary="Akar said the S-400 will be a stand-alone system posing no threat to NATO"),
            dict(summary="Akar said the S-400 would be a stand-alone system that poses no threat to NATO"),
            True,
        ),
        # no quotes: different summaries
        (
            dict(summary="Akar said the S-400 poses no threat to NATO"),
            dict(summary="Akar warned Turkey will seek alternatives if it cannot buy F-35s"),
            False,
        ),
        # stated dates far apart
        (dict(quote=QUOTE, summary="x", date="2025-07-01"), dict(quote=QUOTE, summary="x", date="2025-07-09"), False),
    ],
)
def test_statement_rules(a, b, same):
    events = merge(
        [
            result("r1", "2025-07-10", statements=[statement(a.pop("speaker", AKAR), **a)]),
            result("r2", "2025-07-11", statements=[statement(b.pop("speaker", AKAR), **b)]),
        ]
    )
    assert len(events) == (1 if same else 2)


def test_statement_keeps_the_longest_quote_and_flags_stance_conflicts():
    (event,) = merge(
        [
            result(
                "r1",
                "2025-07-10",
                statements=[statement(AKAR, quote="It will operate independently", summary="a", stance="reject")],
            ),
            result("r2", "2025-07-11", statements=[statement(AKAR, quote=QUOTE, summary="b", stance="neutral")]),
        ]
    )
    assert event.quote == QUOTE
    assert {c.field for c in event.conflicts} == {"stance"}


def test_merge_accepts_models_and_dicts():
    from extractor.schemas import ArticleExtraction

    results = three_reports()
    assert [e.id for e in merge(ArticleExtraction.model_validate(r) for r in results)] == [e.id for e in merge(results)]


# -- candidate lookup (blocking) must not hide a match ---------------------------------------


def test_undated_reports_still_meet_dated_ones():
    events = merge(
        [
            result("r1", "2025-07-12", exercises=[exercise("drill", name="Freedom Edge", start="2025-07-11")]),
            result("r2", None, exercises=[exercise("drill", name="Freedom Edge")]),
            result("r3", None, statements=[statement(actor("KCNA", "PRK"), summary="KCNA condemned the drill")]),
            result(
                "r4", "2025-07-12", statements=[statement(actor("KCNA", "PRK"), summary="KCNA condemned the drills")]
            ),
        ]
    )
    assert sorted(source_ids(e) for e in events) == [["r1", "r2"], ["r4", "r3"]]


def test_a_long_exercise_meets_reports_of_its_last_week():
    events = merge(
        [
            result(
                "r1",
                "2025-06-01",
                exercises=[exercise("drill", name="Pacific Vanguard", start="2025-06-01", end="2025-07-31")],
            ),
            result("r2", "2025-08-01", exercises=[exercise("drill", name="Pacific Vanguard", start="2025-07-30")]),
        ]
    )
    assert [source_ids(e) for e in events] == [["r1", "r2"]]


def test_merged_date_range_is_never_inverted():
    events = merge(
        [
            result(
                "e1",
                "2025-07-12",
                exercises=[exercise("drill", name="Freedom Edge", start="2025-07-10", end="2025-07-11")],
            ),
            result("e2", "2025-07-13", exercises=[exercise("drill", name="Freedom Edge", start="2025-07-12")]),
            result("e3", "2025-07-13", exercises=[exercise("drill", name="Freedom Edge", start="2025-07-12")]),
        ]
    )
    (event,) = events
    assert str(event.start_date) == "2025-07-12" and event.end_date is None
    assert {c.field for c in event.conflicts} == {"start_date"}


def test_an_event_keeps_its_id_when_its_sources_are_extracted_again():
    old = merge(three_reports()[:2])
    (event,) = old
    # a1 (the founding report) now yields nothing; a2 is extracted again with the same item
    new = merge([result("a1", "2025-07-12"), three_reports()[1]], existing=old)
    assert [(e.id, source_ids(e)) for e in new] == [(event.id, ["a2"])]


def test_speakers_spelled_differently_meet_through_the_gazetteer():
    # Results written before the gazetteer knew him, with two spellings and no canonical name.
    quote = "Our forces will continue until all the objectives are met"
    events = merge(
        [
            result("r1", "2022-03-02", statements=[statement(actor("Sergey Shoygu", "RUS"), quote=quote, summary="a")]),
            result("r2", "2022-03-03", statements=[statement(actor("Sergei Shoigu", "RUS"), quote=quote, summary="b")]),
        ]
    )
    assert [source_ids(e) for e in events] == [["r1", "r2"]]
