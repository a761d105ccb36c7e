"""Article-aware decoding constraints for the bundled small model.

A 135M model cannot be trusted to copy text: asked for a quote it paraphrases or invents.
So for the local provider the grammar only lets it *choose*: evidence among the article's
own sentences, designations among the designations it mentions, names, places and dates
among the phrases it contains. Values it could only guess (resolved dates, counts,
nuclear capability) are held at null: normalization resolves dates from `date_text`.
Whatever it picks is then in the text by construction; grounding still checks it. No string
field is left free: a free field is where a small model copies the prompt itself (it used to
answer an exercise's description with the prompt's last line), so descriptions and summaries
are chosen among the article's sentences too.
"""

from __future__ import annotations

import copy
import re
from typing import Any

SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+|\n+")
DESIGNATION = re.compile(r"\b[A-Z]{1,3}/?[A-Z]?-\d{1,3}[A-Z]?\b")
DIRECT_QUOTE = re.compile(r"[“\"]([^”\"]{20,300})[”\"]")
_WORD = r"[A-Z](?:[\w’'-]|\.(?=\w))*\.?"
PROPER_PHRASE = re.compile(
    rf"{_WORD}(?:[ \t]+(?:of[ \t]+|the[ \t]+)?{_WORD})*(?:[ \t]+\([A-Z]{{2,6}}\))?(?:,[ \t]+{_WORD}(?:[ \t]+{_WORD})*)?"
)
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)(?:[a-z]+|\.)?"
_WEEKDAY = r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day"
DATE_PHRASE = re.compile(
    rf"\b{_MONTH}(?:[ \t]+\d{{1,2}}\b)?(?:,?[ \t]+\d{{4}}\b)?|\b\d{{4}}-\d{{2}}-\d{{2}}\b|\b(?:19|20)\d{{2}}\b"
    rf"|\b{_WEEKDAY}\b|\b(?:[Tt]oday|[Yy]esterday)\b"
)

SENTENCE_END = re.compile(r"(?<=[a-z]{2})\.[ \t]+")

MIN_SENTENCE, MAX_SENTENCE, MAX_CHOICES = 20, 300, 80


def _grammar_safe(value: str) -> bool:
    # llama-cpp-python's schema-to-grammar converter mis-escapes '"' and '\\' inside enum
    # values, and a grammar that fails to parse crashes the process.
    return '"' not in value and "\\" not in value and value.isprintable()


def _unique(values: list[str]) -> list[str]:
    return [value for value in dict.fromkeys(values) if _grammar_safe(value)]


def sentences(text: str) -> list[str]:
    """Sentences, cut at straight double quotes so that every choice is grammar-safe."""
    parts = (part.strip(" ,") for sentence in SENTENCE_BREAK.split(text) for part in sentence.split('"'))
    return _unique([p for p in parts if MIN_SENTENCE <= len(p) <= MAX_SENTENCE])[:MAX_CHOICES]


def designations(text: str) -> list[str]:
    return _unique(DESIGNATION.findall(text))[:MAX_CHOICES]


def direct_quotes(text: str) -> list[str]:
    return _unique([q.strip() for q in DIRECT_QUOTE.findall(text)])[:MAX_CHOICES]


def phrases(text: str) -> list[str]:
    """Capitalized phrases: candidate names of actors, places and titles."""
    common = _lowercase_words(text)
    found = []
    for match in PROPER_PHRASE.findall(text):
        # A period after a lowercase word ends a sentence; "U.S." does not.
        for phrase in SENTENCE_END.split(match):
            phrase = phrase.strip(" ,")
            if phrase.endswith(".") and "." not in phrase.split()[-1][:-1]:
                phrase = phrase[:-1]
            if " " not in phrase and phrase.lower() in common:
                continue  # a sentence-initial common word ("Although"), not a name
            found.append(phrase)
    return _unique([p for p in found if 2 <= len(p) <= 80])[: MAX_CHOICES * 2]


def _lowercase_words(text: str) -> set[str]:
    return set(re.findall(r"\b[a-z][\w’'-]*\b", text))


def date_phrases(text: str) -> list[str]:
    return _unique(DATE_PHRASE.findall(text))[:MAX_CHOICES]


def _choice(values: list[str], *, nullable: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "enum": values}
    return {"anyOf": [schema, {"type": "null"}]} if nullable else schema


def constrain_to_article(schema: dict[str, Any], text: str) -> dict[str, Any]:
    """Restrict evidence, designations and direct quotes in the draft schema to the article's own text."""
    schema = copy.deepcopy(schema)
    defs = schema.get("$defs", {})
    found_sentences = sentences(text)
    if not found_sentences:
        # Nothing quotable: no item could be grounded, so none may be produced.
        for key in ("exercises", "aircraft", "statements"):
            schema["properties"][key]["maxItems"] = 0
        return schema
    if "EvidenceDraft" in defs:
        defs["EvidenceDraft"]["properties"]["quote"] = _choice(found_sentences)
    aircraft = defs.get("AircraftDraft")
    if aircraft is not None:
        found = designations(text)
        if found:
            aircraft["properties"]["designation"] = _choice(found)
        else:
            schema["properties"]["aircraft"]["maxItems"] = 0
    statement = defs.get("StatementDraft")
    if statement is not None:
        quotes = direct_quotes(text)
        statement["properties"]["quote"] = _choice(quotes, nullable=True) if quotes else {"type": "null"}
    _restrict_strings(defs, text, found_sentences)
    return schema


NULL = {"type": "null"}
# (definition, field): where the value must come from. "phrase" fields may also be null.
_FROM_TEXT = {
    ("ActorDraft", "name"): "phrase",
    ("ExerciseDraft", "description"): "sentence",
    ("StatementDraft", "summary"): "sentence",
    ("StatementDraft", "date_text"): "date?",
    ("AircraftDraft", "name"): "phrase?",
    ("ExerciseDraft", "name"): "phrase?",
    ("ExerciseDraft", "location"): "phrase?",
    ("ExerciseDraft", "date_text"): "date?",
    ("AircraftDraft", "mention"): "designation",
    ("AircraftDraft", "home_base"): "phrase?",
    ("AircraftDraft", "deployed_to"): "phrase?",
    ("StatementDraft", "speaker_title"): "phrase?",
    ("StatementDraft", "channel"): "phrase?",
}
# Array fields whose items must come from the text.
_ITEMS_FROM_TEXT = {("ExerciseDraft", "aircraft"): "designation"}
_HELD_NULL = {
    ("ActorDraft", "country"),  # a guess for the model; the gazetteer fills known actors' countries
    ("ExerciseDraft", "start_date"),
    ("ExerciseDraft", "end_date"),
    ("AircraftDraft", "count"),
    ("AircraftDraft", "nuclear_capable"),
    ("StatementDraft", "date"),
}


def _restrict_strings(defs: dict[str, Any], text: str, found_sentences: list[str]) -> None:
    sources = {
        "phrase": phrases(text),
        "date": date_phrases(text),
        "designation": designations(text),
        "sentence": found_sentences,
    }
    for (definition, field), source in _FROM_TEXT.items():
        properties = defs.get(definition, {}).get("properties", {})
        if field not in properties:
            continue
        nullable = source.endswith("?")
        # A required field with nothing of its kind in the text still may not be free text.
        values = sources[source.rstrip("?")] or ([] if nullable else found_sentences)
        if values:
            properties[field] = _choice(values, nullable=nullable)
        elif nullable:
            properties[field] = NULL
    for (definition, field), source in _ITEMS_FROM_TEXT.items():
        properties = defs.get(definition, {}).get("properties", {})
        if field in properties:
            values = sources[source]
            properties[field]["items"] = _choice(values) if values else NULL
            if not values:
                properties[field]["maxItems"] = 0
    for definition, field in _HELD_NULL:
        properties = defs.get(definition, {}).get("properties", {})
        if field in properties:
            properties[field] = NULL
