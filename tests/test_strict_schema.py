"""OpenAI strict structured outputs: strict on api.openai.com, plain tools on compatible servers.

The strict schema is checked against OpenAI's documented subset by `strict_schema_problems`
(no network); the requests are the ones a real server on 127.0.0.1 receives.
"""

from __future__ import annotations

import copy
import json

import openai
import pytest
from typer.testing import CliRunner

from extractor import Extractor
from extractor.cli import app
from extractor.model_call.client import ModelClients
from extractor.model_call.strict_schema import (
    strict_json_schema,
    strict_schema_problems,
    uses_strict_schema,
)
from extractor.replay.keys import request_is_strict
from extractor.replay.store import read_fixture
from extractor.replay.tools.check import check_fixtures
from extractor.schemas import ExtractionDraft
from extractor.settings import Settings
from extractor.testing.scripted_server import Reply, ScriptedServer, tool_call_completion
from tests.support.answers import VALID
from tests.support.paths import FIXTURES, SEEDS
from tests.support.servers import extractor_for

SEED = SEEDS / "000_dc08afd2001463f6.txt"
SEED_TEXT = SEED.read_text(encoding="utf-8")
DRAFT = ExtractionDraft.model_json_schema()


make = extractor_for


# -- the schema ---------------------------------------------------------------------------------


def test_the_strict_draft_follows_openais_rules_and_the_plain_one_does_not():
    assert strict_schema_problems(strict_json_schema(DRAFT)) == []
    problems = strict_schema_problems(DRAFT)
    assert "root: every property must be required" in problems
    assert any("unsupported keywords" in p and "'default'" in p for p in problems)
    assert any("maxLength" in p for p in problems)  # pydantic's length limits are not in the subset


def test_the_strict_draft_keeps_every_field_and_value_the_model_can_give():
    strict = strict_json_schema(DRAFT)
    assert strict["$defs"].keys() == DRAFT["$defs"].keys()
    for name, definition in DRAFT["$defs"].items():
        properties = strict["$defs"][name]["properties"]
        assert list(properties) == list(definition["properties"])  # same fields, same order
        assert strict["$defs"][name]["required"] == list(definition["properties"])
    kind = strict["$defs"]["ActorDraft"]["properties"]["kind"]["anyOf"]
    assert {"type": "null"} in kind and "armed_group" in kind[0]["enum"]
    # A $ref beside a description is inlined: OpenAI wants a $ref on its own.
    speaker = strict["$defs"]["StatementDraft"]["properties"]["speaker"]
    assert "$ref" not in speaker and speaker["additionalProperties"] is False and "name" in speaker["properties"]
    # An answer to the strict schema (every field present) is a valid draft.
    answer = copy.deepcopy(VALID)
    for item in answer["aircraft"]:
        for field in ExtractionDraft.model_fields["aircraft"].annotation.__args__[0].model_fields:
            item.setdefault(field, None)
    ExtractionDraft.model_validate(answer)


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ({"anyOf": [{"type": "object"}]}, "root: must be an object"),
        ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}, "additionalProperties"),
        (
            {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False},
            "every property must be required",
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"type": "string", "minLength": 1}},
                "required": ["a"],
                "additionalProperties": False,
            },
            "unsupported keywords ['minLength']",
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"type": "string", "format": "phone"}},
                "required": ["a"],
                "additionalProperties": False,
            },
            "unsupported format 'phone'",
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"$ref": "#/$defs/A", "description": "x"}},
                "required": ["a"],
                "additionalProperties": False,
                "$defs": {"A": {"type": "string"}},
            },
            "$ref with other keywords",
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"allOf": [{"type": "string"}]}},
                "required": ["a"],
                "additionalProperties": False,
            },
            "unsupported keywords ['allOf']",
        ),
    ],
)
def test_the_check_reports_each_broken_rule(schema, problem):
    assert any(problem in p for p in strict_schema_problems(schema)), strict_schema_problems(schema)


def test_the_check_knows_the_nesting_limit():
    node: dict = {"type": "string"}
    for _ in range(11):
        node = {"type": "object", "properties": {"x": node}, "required": ["x"], "additionalProperties": False}
    assert any("nested deeper than 10" in p for p in strict_schema_problems(node))


def test_schema_command_prints_the_strict_draft():
    result = CliRunner().invoke(app, ["schema", "--draft", "--strict"])
    assert result.exit_code == 0, result.output
    assert strict_schema_problems(json.loads(result.stdout)) == []
    refused = CliRunner().invoke(app, ["schema", "--strict"])
    assert refused.exit_code == 2 and "--strict goes with --draft" in refused.output


# -- when it is used ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "provider", "base_url", "mode", "strict"),
    [
        ("auto", "openai", "https://api.openai.com/v1", "tools", True),
        ("auto", "openai", "https://api.openai.com/v1", "json_schema", True),
        ("auto", "openai", "https://api.openai.com/v1", "json", False),  # no schema is sent
        ("auto", "openai", "http://127.0.0.1:11434/v1", "tools", False),  # Ollama
        ("auto", "openai", "http://localhost:8000/v1", "tools", False),  # vLLM
        ("auto", "replay", "http://in-process.invalid/v1", "tools", False),
        ("on", "openai", "http://127.0.0.1:8080/v1", "tools", True),
        ("on", "replay", "http://in-process.invalid/v1", "tools", True),
        ("on", "local", "http://in-process.invalid/v1", "json_schema", False),  # a grammar already
        ("off", "openai", "https://api.openai.com/v1", "tools", False),
    ],
)
def test_strict_is_auto_detected_by_base_url_and_overridable(setting, provider, base_url, mode, strict):
    assert uses_strict_schema(setting, provider=provider, base_url=base_url, mode=mode) is strict


def test_the_setting_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("EXTRACTOR_STRICT_SCHEMA", "off")
    assert Settings().strict_schema == "off"
    monkeypatch.setenv("EXTRACTOR_STRICT_SCHEMA", "sometimes")
    with pytest.raises(ValueError, match="strict_schema"):
        Settings()


def test_a_callers_client_is_judged_by_its_own_base_url():
    settings = Settings(provider="openai")
    for url, strict in (("https://api.openai.com/v1", True), ("http://127.0.0.1:11434/v1", False)):
        client = openai.OpenAI(base_url=url, api_key="sk-test-not-a-real-key")
        try:
            assert ModelClients(settings, "openai", client=client).strict_schema is strict
        finally:
            client.close()


def test_replay_and_local_answer_in_process_and_are_not_strict_by_default():
    assert Extractor(provider="replay", fixtures_dir=FIXTURES).decoding()["strict_schema"] is False
    assert Extractor(provider="replay", fixtures_dir=FIXTURES, strict_schema="on").decoding()["strict_schema"] is True


def test_default_settings_on_api_openai_com_are_strict_and_change_the_fingerprint():
    default = Extractor(provider="openai", api_key="sk-test-not-a-real-key")
    plain = Extractor(provider="openai", api_key="sk-test-not-a-real-key", strict_schema="off")
    assert default.decoding()["strict_schema"] is True and plain.decoding()["strict_schema"] is False
    assert default.fingerprint != plain.fingerprint


# -- the requests a server receives ---------------------------------------------------------------


def test_a_compatible_server_gets_plain_tools():
    with ScriptedServer([Reply(body=tool_call_completion(VALID))]) as server:
        make(server).extract(SEED_TEXT)
    function = server.seen[0].body["tools"][0]["function"]
    assert "strict" not in function and not request_is_strict(server.seen[0].body)
    # The draft's own pydantic schema, untouched: defaults, optional fields, length limits.
    assert function["parameters"]["$defs"] == DRAFT["$defs"]
    assert strict_schema_problems(function["parameters"])


def test_strict_tools_reach_the_server_and_the_answer_is_validated_as_before():
    with ScriptedServer([Reply(body=tool_call_completion(VALID))]) as server:
        result = make(server, strict_schema="on").extract(SEED_TEXT)
    body = server.seen[0].body
    function = body["tools"][0]["function"]
    assert function["strict"] is True and function["name"] == "ExtractionDraft"
    assert body["tool_choice"] == {"type": "function", "function": {"name": "ExtractionDraft"}}
    assert strict_schema_problems(function["parameters"]) == []
    assert [a.designation for a in result.aircraft] == ["B-52"]


def test_strict_json_schema_mode_sets_the_flag_on_response_format():
    answer = tool_call_completion(VALID)
    message = answer["choices"][0]["message"]
    message["content"], message["tool_calls"] = json.dumps(VALID), None
    with ScriptedServer([Reply(body=answer)]) as server:
        result = make(server, strict_schema="on", mode="json_schema").extract(SEED_TEXT)
    json_schema = server.seen[0].body["response_format"]["json_schema"]
    assert json_schema["strict"] is True and json_schema["name"] == "ExtractionDraft"
    assert strict_schema_problems(json_schema["schema"]) == []
    assert len(result.aircraft) == 1


async def test_the_async_client_sends_strict_tools_too():
    with ScriptedServer([Reply(body=tool_call_completion(VALID))]) as server:
        async with make(server, strict_schema="on") as extractor:
            await extractor.aextract(SEED_TEXT)
    assert server.seen[0].body["tools"][0]["function"]["strict"] is True


# -- fixtures: both shapes recorded ---------------------------------------------------------------


def test_fixtures_hold_a_strict_and_a_plain_request_for_the_seed():
    seed_fixtures = [read_fixture(path) for path in sorted(FIXTURES.glob(f"{SEED.stem}.*.json"))]
    shapes = {(f.origin, request_is_strict(f.request_body)) for f in seed_fixtures}
    assert {("authored", True), ("authored", False)} <= shapes
    reports = [r for r in check_fixtures(FIXTURES) if r.path.name.startswith(SEED.stem)]
    assert reports and all(not r.stale and not r.failed for r in reports)


def test_the_strict_fixture_replays_to_the_same_extraction():
    plain = Extractor(provider="replay", fixtures_dir=FIXTURES).extract(SEED_TEXT, article_id=SEED.stem)
    strict = Extractor(provider="replay", fixtures_dir=FIXTURES, strict_schema="on").extract(
        SEED_TEXT, article_id=SEED.stem
    )
    assert plain.meta.fingerprint != strict.meta.fingerprint
    assert strict.model_dump(exclude={"meta"}) == plain.model_dump(exclude={"meta"})
    assert len(strict.aircraft) >= 5
