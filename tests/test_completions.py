"""The one builder of fake chat completions, as the fake servers and authored fixtures use it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openai.types.chat import ChatCompletion

from extractor.replay.tools.answers import answer_text
from extractor.testing import faultserver
from extractor.testing.completions import answer_for, chat_completion, requested_tool, tool_call_completion

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TOOLS = [{"type": "function", "function": {"name": "First"}}, {"type": "function", "function": {"name": "Second"}}]


def test_a_tool_call_answer_is_a_valid_openai_completion():
    body = chat_completion('{"a": 1}', model="m", tool="ExtractionDraft", completion_id="x", usage=(7, 3))
    parsed = ChatCompletion.model_validate(body)
    choice = parsed.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    assert choice.message.tool_calls[0].function.name == "ExtractionDraft"
    assert choice.message.tool_calls[0].function.arguments == '{"a": 1}'
    assert (parsed.usage.prompt_tokens, parsed.usage.completion_tokens, parsed.usage.total_tokens) == (7, 3, 10)
    assert parsed.id == "chatcmpl-x"


def test_a_content_answer_is_a_valid_openai_completion():
    parsed = ChatCompletion.model_validate(chat_completion('{"a": 1}', model="m"))
    assert parsed.choices[0].finish_reason == "stop"
    assert parsed.choices[0].message.content == '{"a": 1}' and not parsed.choices[0].message.tool_calls


@pytest.mark.parametrize(
    ("body", "tool"),
    [
        ({"tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "Second"}}}, "Second"),
        ({"tools": TOOLS, "tool_choice": "required"}, "First"),
        ({"tools": TOOLS}, "First"),
        ({"response_format": {"type": "json_object"}}, None),
        ({}, None),
    ],
)
def test_requested_tool(body, tool):
    assert requested_tool(body) == tool


def test_answer_for_follows_the_request():
    asked = answer_for({"model": "gpt-x", "tools": TOOLS}, "{}", completion_id="c")
    assert asked["model"] == "gpt-x" and asked["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "First"
    unnamed = answer_for({"messages": []}, "{}", completion_id="c", default_model="fallback")
    assert unnamed["model"] == "fallback" and unnamed["choices"][0]["message"]["content"] == "{}"


def authored_fixtures() -> list[dict]:
    found = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(FIXTURES.glob("*.json"))]
    return [data for data in found if data["origin"] == "authored"]


def test_authoring_again_answers_exactly_as_the_committed_authored_fixtures():
    # Re-authoring after this refactor must not rewrite every committed fixture.
    fixtures = authored_fixtures()
    assert fixtures
    for data in fixtures:
        stored = data["response"]["body"]
        rebuilt = answer_for(
            data["request"]["body"], answer_text(stored), completion_id=stored["id"].removeprefix("chatcmpl-")
        )
        assert rebuilt == stored


def test_the_scripted_servers_answer_is_a_valid_extraction_draft_call():
    parsed = ChatCompletion.model_validate(tool_call_completion({"exercises": []}, usage=(100, 30)))
    call = parsed.choices[0].message.tool_calls[0]
    assert call.function.name == "ExtractionDraft" and json.loads(call.function.arguments) == {"exercises": []}
    assert parsed.usage.total_tokens == 130


@pytest.mark.parametrize("fault", ["", "invalid", "malformed"])
def test_the_fault_servers_answers_are_valid_openai_completions(fault):
    request = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}], "tools": TOOLS}
    parsed = ChatCompletion.model_validate(faultserver.completion(request, fault))
    assert parsed.choices[0].message.tool_calls[0].function.name == "First"
    assert parsed.usage.prompt_tokens >= 1 and parsed.usage.completion_tokens >= 1
    as_json = ChatCompletion.model_validate(faultserver.completion({"messages": []}, fault))
    assert as_json.model == "fault-server" and as_json.choices[0].message.content
