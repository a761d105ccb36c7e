"""Grounding: exact, normalized and fuzzy spans; strict / flag / off."""

from __future__ import annotations

import random

import pytest
from _evalkit import aircraft, as_extraction, gold, make, seed_text

from extractor.postprocess.grounding import (
    MIN_FUZZY_CHARS,
    find_span,
    ground_extraction,
    make_grounding_check,
)
from extractor.schemas import ExtractionDraft, NoticeCode

TEXT = (
    "Two U.S. Air Force B-52 bombers flew over the Korean Peninsula on Monday.\n"
    "Officials said the  flight was “routine” — and defensive.\n"
    "North Korea's KCNA called the drills a rehearsal for invasion and vowed countermeasures."
)


def test_exact_match():
    start, end, how = find_span(TEXT, "B-52 bombers flew")
    assert how == "exact" and TEXT[start:end] == "B-52 bombers flew"


def test_normalized_match_maps_back_to_original_offsets():
    quote = 'officials said the flight was "routine" - and defensive'
    start, end, how = find_span(TEXT, quote)
    assert how == "normalized"
    assert TEXT[start:end] == "Officials said the  flight was “routine” — and defensive"


def test_fuzzy_match_above_threshold_and_widened_to_words():
    quote = "KCNA called the drill a rehearsal for invasion and vowed countermeasure"
    start, end, how = find_span(TEXT, quote, threshold=90)
    assert how == "fuzzy"
    assert TEXT[start:end].startswith("KCNA called the drills")
    assert TEXT[start:end].endswith("countermeasures")


def test_fuzzy_respects_threshold_and_minimum_length():
    quote = "KCNA praised the drills as a rehearsal for peace and vowed cooperation"
    assert find_span(TEXT, quote, threshold=95) is None
    short = "B-25 bomber"  # 1 edit away but too short for fuzzy matching
    assert len(short) < MIN_FUZZY_CHARS and find_span(TEXT, short) is None


def test_missing_quote():
    assert find_span(TEXT, "Chinese J-20 fighters intercepted a Russian Tu-95 bomber") is None


def test_offsets_hold_for_random_substrings():
    text = seed_text()
    rng = random.Random(7)
    for _ in range(300):
        a = rng.randrange(0, len(text) - 5)
        b = min(len(text), a + rng.randrange(5, 200))
        quote = text[a:b].strip()
        if not quote:
            continue
        # Perturb: collapse whitespace and straighten quotes, sometimes change case.
        variant = " ".join(quote.split()).replace("’", "'").replace("“", '"').replace("”", '"')
        if rng.random() < 0.5:
            variant = variant.upper()
        span = find_span(text, variant)
        assert span is not None, variant
        start, end, how = span
        found = text[start:end]
        assert " ".join(found.split()).lower().replace("’", "'").replace("“", '"').replace("”", '"') == variant.lower()


SEED_QUOTES = [
    "U.S. Air Drive B-52s deployed to Andersen AFB, Guam",  # exact
    "the ROKAF  despatched KF-16 Combating Falcons",  # normalized (double space)
]


def _seed(mode: str):
    text = seed_text()
    extraction = make(
        text,
        aircraft=[
            aircraft("B-52", SEED_QUOTES[0], "B-52 bombers bombed the moon base in Ohio"),
            aircraft("KF-16", SEED_QUOTES[1]),
            aircraft("B-21", "A B-21 Raider landed at Minot to great fanfare"),
        ],
        statements=[
            {
                "speaker": {"name": "USAF"},
                "quote": "Our steadfast dedication fosters trust and cooperation forever and ever",
                "summary": "s",
                "stance": "support",
                "evidence": [{"quote": "Our steadfast dedication fosters belief, strengthens cooperation"}],
            }
        ],
    )
    return text, ground_extraction(extraction, text, mode=mode, threshold=90)


def test_strict_drops_ungrounded_items_and_evidence():
    text, result = _seed("strict")
    assert [a.designation for a in result.aircraft] == ["B-52", "KF-16"]
    b52, kf16 = result.aircraft
    assert len(b52.evidence) == 1 and b52.evidence[0].match == "exact"
    assert kf16.evidence[0].match == "normalized"
    for item in [*result.aircraft, *result.statements]:
        for ev in item.evidence:
            assert text[ev.start : ev.end] == ev.quote
    dropped, quote = result.meta.notices
    assert dropped.code is NoticeCode.DROPPED_UNGROUNDED and dropped.path == "aircraft[2]"
    assert (
        dropped.detail
        == "dropped aircraft 'B-21': evidence not found: 'A B-21 Raider landed at Minot to great fanfare'"
    )
    assert result.statements[0].quote is None  # paraphrased "quote" is not verbatim
    assert quote.code is NoticeCode.QUOTE_NOT_FOUND and quote.path == "statements[0].quote"
    assert "set to null" in quote.detail
    # The words of every notice are the warnings, in the same order.
    assert result.meta.warnings == [dropped.detail, quote.detail]


def test_flag_keeps_everything_with_null_match():
    _, result = _seed("flag")
    assert [a.designation for a in result.aircraft] == ["B-52", "KF-16", "B-21"]
    assert [ev.match for ev in result.aircraft[0].evidence] == ["exact", None]
    assert result.aircraft[2].evidence[0].start is None
    assert result.statements[0].quote is not None
    assert [notice.code for notice in result.meta.notices] == [NoticeCode.QUOTE_NOT_FOUND]
    assert "kept" in result.meta.warnings[0]


def test_off_leaves_extraction_untouched():
    text = seed_text()
    extraction = make(text, aircraft=[aircraft("B-21", "not in the text at all, anywhere")])
    assert ground_extraction(extraction, text, mode="off", threshold=90) == extraction


def test_grounding_puts_every_gold_quote_where_the_annotator_found_it():
    text = seed_text()
    erased = gold()
    for kind in ("exercises", "aircraft", "statements"):
        for item in erased[kind]:
            for ev in item["evidence"]:
                ev.update(start=None, end=None, match=None)
    grounded = ground_extraction(as_extraction(erased), text, mode="strict", threshold=90)
    assert grounded.model_dump(exclude={"meta"}) == as_extraction(gold()).model_dump(exclude={"meta"})


def test_offsets_already_on_a_repeated_quote_are_kept():
    text = "B-52s flew on Monday. Later, B-52s flew on Monday."
    later = text.rindex("B-52s flew")
    extraction = make(text, aircraft=[aircraft("B-52", "B-52s flew")])
    extraction.aircraft[0].evidence[0].start, extraction.aircraft[0].evidence[0].end = later, later + 10
    [evidence] = ground_extraction(extraction, text, mode="strict", threshold=90).aircraft[0].evidence
    assert (evidence.start, evidence.end, evidence.match) == (later, later + 10, "exact")


def test_grounding_check_reasks_once():
    check = make_grounding_check(TEXT, threshold=90, reasks=1)
    draft = ExtractionDraft.model_validate(
        {
            "aircraft": [
                {"designation": "B-1B", "mention": "B-1B", "evidence": [{"quote": "a B-1B landed in Guam yesterday"}]}
            ]
        }
    )
    with pytest.raises(ValueError, match="B-1B landed"):
        check(draft)
    check(draft)  # budget spent: the answer passes and grounding decides
    ok = ExtractionDraft.model_validate(
        {"aircraft": [{"designation": "B-52", "mention": "B-52", "evidence": [{"quote": "b-52 bombers  flew"}]}]}
    )
    make_grounding_check(TEXT, threshold=90)(ok)


SPLIT = (
    'Officials were defiant. "We stand ready," the envoy said on the 29th, '
    '"to answer any incursion at once and with every means we have." Talks stalled.'
)


def _statement(quote: str) -> dict:
    return {
        "speaker": {"name": "the envoy"},
        "quote": quote,
        "summary": "s",
        "stance": "threaten",
        "evidence": [{"quote": "We stand ready,"}, {"quote": "to answer any incursion at once"}],
    }


@pytest.mark.parametrize("mode", ["strict", "flag"])
def test_a_split_quotation_joined_by_the_model_keeps_its_longest_part(mode):
    # Contract 1.2: `quote` is the longest continuous part of a split quotation.
    joined = "We stand ready, to answer any incursion at once and with every means we have."
    result = ground_extraction(make(SPLIT, statements=[_statement(joined)]), SPLIT, mode=mode, threshold=90)
    statement = result.statements[0]
    assert statement.quote == "to answer any incursion at once and with every means we have."
    assert any("joins 2 parts of the text, kept the longest" in w for w in result.meta.warnings)
    assert [(n.code, n.path) for n in result.meta.notices] == [("quote_split", "statements[0].quote")]


def test_a_paraphrase_is_not_taken_for_a_split_quotation():
    paraphrase = "We stand ready to respond to any incursion with all our means."
    result = ground_extraction(make(SPLIT, statements=[_statement(paraphrase)]), SPLIT, mode="strict", threshold=90)
    assert result.statements[0].quote is None
    assert any("set to null" in w for w in result.meta.warnings)
