"""The model call against a real OpenAI-compatible HTTP server on 127.0.0.1: the openai SDK,
instructor and our transport retries all run for real."""

from __future__ import annotations

import json
import time

import pytest
from pydantic import ValidationError

from extractor import Cause, ExtractionFailed, ProviderUnavailable
from extractor.cli.exit_codes import exit_code
from extractor.schemas import ExtractionDraft
from extractor.testing.scripted_server import Reply, ScriptedServer, tool_call_completion
from tests.support.answers import INVALID, VALID
from tests.support.paths import SEEDS
from tests.support.servers import extractor_for

SEED = SEEDS / "000_dc08afd2001463f6.txt"
SEED_TEXT = SEED.read_text(encoding="utf-8")


def validation_errors(answer: dict) -> list[dict[str, str]]:
    """Where and why `answer` fails validation, as pydantic words it."""
    with pytest.raises(ValidationError) as caught:
        ExtractionDraft.model_validate(answer)
    return [{"loc": ".".join(map(str, e["loc"])), "msg": e["msg"]} for e in caught.value.errors()]


make = extractor_for


def test_valid_answer_becomes_contract_extraction():
    with ScriptedServer([Reply(body=tool_call_completion(VALID))]) as server:
        result = make(server).extract(SEED_TEXT, article_id="seed")
    assert [a.designation for a in result.aircraft] == ["B-52"]
    assert result.article.id == "seed" and result.article.chars == len(SEED_TEXT)
    assert result.meta.attempts == 1
    assert result.meta.usage.total_tokens == 120
    assert result.meta.provider == "openai" and result.meta.model == "gpt-4o-mini"
    sent = server.seen[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.body["tools"][0]["function"]["name"] == "ExtractionDraft"
    assert SEED_TEXT in sent.body["messages"][1]["content"]


class ClockedSeen(list):
    """`server.seen` that also notes when each request arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: list[float] = []

    def append(self, item) -> None:
        self.arrived.append(time.monotonic())
        super().append(item)


def test_429_with_retry_after_is_waited_out_then_succeeds():
    replies = [
        Reply(429, {"error": {"message": "slow down"}}, {"retry-after": "1"}),
        Reply(body=tool_call_completion(VALID)),
    ]
    with ScriptedServer(replies) as server:
        server.seen = ClockedSeen()
        # Backoff alone would retry within 0.05 s: only the Retry-After explains a longer gap.
        result = make(server, backoff_initial=0.01, backoff_max=0.05).extract(SEED_TEXT)
    assert len(server.seen) == 2
    first, second = server.seen.arrived
    assert second - first >= 0.9
    assert result.meta.attempts == 2
    assert result.meta.usage.total_tokens == 120  # the 429 used no tokens
    assert len(result.aircraft) == 1


def test_5xx_is_retried_until_the_budget_runs_out():
    with ScriptedServer([Reply(503, {"error": {"message": "overloaded"}})]) as server:
        with pytest.raises(ExtractionFailed) as caught:
            make(server, transport_retries=2).extract(SEED_TEXT)
    assert len(server.seen) == 3
    assert caught.value.cause is Cause.SERVER_ERROR and caught.value.http_status == 503
    assert caught.value.attempts == 3


def test_invalid_answer_is_reasked_and_usage_summed():
    replies = [
        Reply(body=tool_call_completion(INVALID, usage=(100, 30))),
        Reply(body=tool_call_completion(VALID, usage=(150, 20))),
    ]
    with ScriptedServer(replies) as server:
        result = make(server).extract(SEED_TEXT)
    assert len(server.seen) == 2
    assert result.meta.attempts == 2
    assert result.meta.usage.prompt_tokens == 250
    assert result.meta.usage.completion_tokens == 50
    assert result.meta.usage.total_tokens == 300
    # The re-ask carries the validation error back to the model in a message of its own, not
    # just the echo of the rejected answer (which already says "underwater").
    first, second = (seen.body["messages"] for seen in server.seen)
    assert second[: len(first)] == first
    added = second[len(first) :]
    assert [m["role"] for m in added] == ["assistant", "tool"]
    feedback = added[1]["content"]
    for error in validation_errors(INVALID):
        assert error["loc"] in feedback and error["msg"] in feedback


def test_always_invalid_fails_with_last_output():
    with ScriptedServer([Reply(body=tool_call_completion(INVALID))]) as server:
        with pytest.raises(ExtractionFailed) as caught:
            make(server, max_reasks=2).extract(SEED_TEXT)
    assert len(server.seen) == 3
    error = caught.value
    assert error.cause == "invalid_output"
    assert exit_code(error) == 4
    assert "underwater" in error.last_output


def test_401_is_not_retried_and_key_is_not_echoed():
    key = "sk-test-not-a-real-key"
    # OpenAI quotes the rejected key back in its error message: that must not reach ours.
    refusal = {"error": {"message": f"Incorrect API key provided: {key}.", "code": "invalid_api_key"}}
    with ScriptedServer([Reply(401, refusal)]) as server:
        with pytest.raises(ProviderUnavailable) as caught:
            make(server, api_key=key).extract(SEED_TEXT)
    assert len(server.seen) == 1
    sent = {name.lower(): value for name, value in server.seen[0].headers.items()}
    assert sent["authorization"] == f"Bearer {key}"  # the key was sent, and refused
    assert key not in str(caught.value) and "401" in str(caught.value)
    assert exit_code(caught.value) == 3


def test_400_is_not_retried():
    with ScriptedServer([Reply(400, {"error": {"message": "bad request"}})]) as server:
        with pytest.raises(ExtractionFailed) as caught:
            make(server).extract(SEED_TEXT)
    assert len(server.seen) == 1
    assert caught.value.cause is Cause.HTTP_ERROR and caught.value.http_status == 400


def test_json_schema_mode_sends_response_format():
    answer = tool_call_completion(VALID)
    message = answer["choices"][0]["message"]
    message["content"] = json.dumps(VALID)
    del message["tool_calls"]
    with ScriptedServer([Reply(body=answer)]) as server:
        result = make(server, mode="json_schema").extract(SEED_TEXT)
    assert server.seen[0].body["response_format"]["type"] == "json_schema"
    assert len(result.aircraft) == 1


async def test_async_extract_matches_sync():
    with ScriptedServer([Reply(body=tool_call_completion(VALID))]) as server:
        extractor = make(server)
        sync_result = extractor.extract(SEED_TEXT, article_id="a")
        async_result = await extractor.aextract(SEED_TEXT, article_id="a")
    assert async_result.aircraft == sync_result.aircraft
    assert async_result.meta.attempts == 1


def test_long_article_is_split_on_paragraphs_and_merged():
    paragraphs = [f"Paragraph {i}. " + "Filler text about nothing. " * 40 for i in range(6)]
    text = "\n\n".join(paragraphs)
    with ScriptedServer(
        [Reply(body=tool_call_completion({"exercises": [], "aircraft": [], "statements": []}))]
    ) as server:
        result = make(server, chunk_chars=1500).extract(text)
    assert len(server.seen) >= 4
    for seen in server.seen:
        assert len(seen.body["messages"][1]["content"]) < 1500 + 400
    assert any("split into" in warning for warning in result.meta.warnings)


def test_article_text_with_template_syntax_is_sent_verbatim_and_still_grounded():
    # Jinja syntax, a comment block and leading indentation: a templating step would render,
    # drop or dedent them, and the evidence below would no longer be in what the model saw.
    text = (
        "    Pilots painted {{ squadron }} and {# not a comment #} on the hangar.\n\n"
        "U.S. Air Drive B-52s deployed to Andersen AFB, Guam, for {% raw %}a drill{% endraw %}."
    )
    answer = {
        "exercises": [],
        "aircraft": [
            {
                "designation": "B-52",
                "mention": "B-52s",
                "evidence": [{"quote": "U.S. Air Drive B-52s deployed to Andersen AFB, Guam, for {% raw %}a drill"}],
            }
        ],
        "statements": [],
    }
    with ScriptedServer([Reply(body=tool_call_completion(answer))]) as server:
        result = make(server).extract(text, article_id="templated")
    assert text in server.seen[0].body["messages"][1]["content"]
    (aircraft,) = result.aircraft
    (evidence,) = aircraft.evidence
    assert text[evidence.start : evidence.end] == evidence.quote


def test_an_ungrounded_quote_is_still_reasked_through_the_draft_check():
    bad = {**VALID, "aircraft": [{**VALID["aircraft"][0], "evidence": [{"quote": "B-52s landed on the Moon"}]}]}
    replies = [Reply(body=tool_call_completion(bad)), Reply(body=tool_call_completion(VALID))]
    with ScriptedServer(replies) as server:
        result = make(server).extract(SEED_TEXT, article_id="seed")
    assert len(server.seen) == 2  # the quote not in the article was re-asked once
    assert "B-52s landed on the Moon" in json.dumps(server.seen[1].body["messages"])
    assert [a.designation for a in result.aircraft] == ["B-52"]
