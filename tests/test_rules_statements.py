"""The rules provider's statements: attribution patterns, speakers, channels, quotes and stance."""

from __future__ import annotations

import pytest
from _rulekit import rules, spans_are_exact

from extractor.rules.stance import stance_of

SECURITY = " The military drills involved warships and missile units."  # an article about security


def test_reporting_clause_after_a_quote_with_title_and_country():
    text = (
        '"We will never accept such provocations," South Korean Defense Minister Shin Won-sik told reporters '
        "at a news conference on Tuesday." + SECURITY
    )
    result = rules(text, published="2025-03-12")
    assert spans_are_exact(result, text)
    [statement] = result.statements
    assert (statement.speaker.name, statement.speaker.kind, statement.speaker.country) == (
        "Shin Won-sik",
        "person",
        "KOR",
    )
    assert statement.speaker_title == "Defense Minister"
    assert statement.on_behalf_of is not None and statement.on_behalf_of.country == "KOR"
    assert statement.quote == "We will never accept such provocations,"
    assert (statement.channel, statement.stance, statement.date_text) == ("news conference", "reject", "Tuesday")
    assert str(statement.date) == "2025-03-11"


def test_inverted_attribution_with_an_apposition():
    text = (
        '"Our allies must stand together against this threat," said Mark Rutte, the secretary general of '
        "NATO, after the alliance's troops finished their drills."
    )
    [statement] = rules(text).statements
    assert statement.speaker.name == "Mark Rutte"
    assert statement.speaker_title == "secretary general of NATO"
    assert statement.stance == "demand"


def test_state_media_and_a_statement_channel():
    text = (
        "North Korea's state news agency KCNA said on Saturday that the allies' drills were a rehearsal for "
        "invasion and warned they would pay a dear price for the provocation." + SECURITY
    )
    [statement] = rules(text).statements
    assert (statement.speaker.canonical_name, statement.speaker.kind) == ("Korean Central News Agency", "media")
    assert statement.stance == "threaten"


def test_according_to_and_in_a_statement():
    text = (
        "According to the Pentagon, the exercise will involve 2,500 Marines. In a separate statement, the "
        "Japanese Defense Ministry said Chinese warships had sailed near its islands on Friday."
    )
    result = rules(text)
    speakers = [(s.speaker.canonical_name, s.channel) for s in result.statements]
    assert speakers == [
        ("United States Department of Defense", None),
        ("Ministry of Defense (Japan)", "statement"),
    ]


def test_a_quote_split_by_he_said_is_one_statement():
    text = (
        '"There is room for dialogue," a senior State Department official told reporters at a briefing. '
        '"But they know the missiles must go."' + SECURITY
    )
    [statement] = rules(text).statements
    assert statement.speaker.country == "USA" and statement.channel == "briefing"
    assert len(statement.evidence) == 2 and statement.stance == "demand"


def test_a_further_point_reported_after_a_quote_is_a_new_statement():
    text = (
        '"We have seen the reports," a senior State Department official told reporters at a briefing. '
        "The official added that sanctions could follow if Ankara activated the missile system."
    )
    stances = [s.stance for s in rules(text).statements]
    assert stances == ["neutral", "threaten"]


def test_a_role_then_the_person_quoted_for_it_is_one_statement():
    text = (
        "Russia's envoy dismissed the accusations at Friday's meeting. "
        '"This is completely false," Vassily Nebenzia told the council.' + SECURITY
    )
    [statement] = rules(text).statements
    assert (statement.speaker.name, statement.speaker.country, statement.speaker_title) == (
        "Vassily Nebenzia",
        "RUS",
        "envoy",
    )
    assert (statement.stance, statement.date_text) == ("reject", "Friday")


def test_a_joint_statement_is_one_entry_per_named_speaker():
    text = (
        "The United States, Japan and South Korea condemned the missile launch on Friday, calling it a "
        "violation of U.N. Security Council resolutions." + SECURITY
    )
    result = rules(text)
    assert [s.speaker.country for s in result.statements] == ["USA", "JPN", "KOR"]
    assert {s.evidence[0].start for s in result.statements} == {0}
    assert {s.stance for s in result.statements} == {"criticize"}


@pytest.mark.parametrize(
    "sentence",
    [
        '"The sanctions will bite," said analyst Jane Doe of the Global Policy Institute.',
        '"The treaty was a mistake," said former defense minister John Roe.',
        "Analysts say the military drills are meant to intimidate Taiwan.",
        "Officials have not publicly responded to the militants' demands about the missile strikes.",
        "If you remember in 1950, our secretary of state famously said that Korea was outside the defense perimeter.",
        "The president is shifting his priorities away from North Korea in an election year, experts said.",
        "U.S. officials have yet to comment on the Iraqi claims about the airstrike.",
    ],
)
def test_no_statement_where_the_contract_wants_none(sentence):
    assert rules(sentence + SECURITY).statements == []


def test_no_statement_in_an_article_about_something_else():
    text = (
        '"Inflation has been sticky, and we are in no hurry," the central bank governor told reporters on '
        "Wednesday, as stocks fell and bond yields rose."
    )
    assert rules(text).statements == []


@pytest.mark.parametrize(
    ("words", "stance"),
    [
        ("warned that Seoul would resolutely respond to any provocation and urged Pyongyang to stop", "threaten"),
        ("urged Pyongyang to stop its missile launches and condemned them", "demand"),
        ("rejected the accusations as baseless and condemned the report", "reject"),
        ("condemned the launch and expressed support for the sanctions", "criticize"),
        ("welcomed the agreement and pledged to cooperate on missile defense", "support"),
        ("said the two navies would cooperate more closely", "cooperate"),
        ("said the plane was an E-11A", "neutral"),
        ("said NATO's Steadfast Noon exercise began on Monday", "neutral"),
    ],
)
def test_stance_follows_the_contracts_precedence(words, stance):
    assert stance_of(f"The minister {words}.") == stance


def test_evidence_of_a_long_sentence_is_the_attribution_and_the_quote_not_its_opening():
    opening = "On Tuesday, after a week of missile tests and military drills near the border with the South, " * 2
    text = (
        f"{opening}a top U.S. Air Force general said he expects a long-range launch, adding: "
        '"What I would expect is some type of long-range ballistic missile."'
    )
    [statement] = rules(text).statements
    assert spans_are_exact(rules(text), text)
    quotes = [ev.quote for ev in statement.evidence]
    assert any("general said" in quote for quote in quotes)
    assert "What I would expect is some type of long-range ballistic missile." in quotes
    assert statement.speaker.name == "a top U.S. Air Force general" and statement.speaker.kind == "military"
