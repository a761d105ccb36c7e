"""The fault server: real HTTP on 127.0.0.1, valid grounded answers, each fault, counters."""

from __future__ import annotations

import asyncio
import json

import httpx2
import pytest

from extractor.schemas import ExtractionDraft
from extractor.testing.faultserver import FaultConfig, FaultServer, article_text, valid_draft

TEXT = "Two B-52H bombers flew over the Korean Peninsula on Friday.\nSouth Korea joined the drill."


def body(*, tools: bool = True) -> dict:
    request = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "extract"},
            {"role": "user", "content": f"Article\n\n<<<ARTICLE\n{TEXT}\nARTICLE>>>\n\nReturn..."},
        ],
    }
    if tools:
        request["tools"] = [{"type": "function", "function": {"name": "ExtractionDraft", "parameters": {}}}]
    return request


def post(server: FaultServer, payload: dict) -> httpx2.Response:
    with httpx2.Client(timeout=5) as client:
        return client.post(f"{server.base_url}/chat/completions", json=payload)


def test_valid_answer_is_a_tool_call_quoting_the_article():
    with FaultServer() as server:
        answer = post(server, body()).json()
    call = answer["choices"][0]["message"]["tool_calls"][0]["function"]
    assert call["name"] == "ExtractionDraft"
    draft = ExtractionDraft.model_validate_json(call["arguments"])
    assert all(ev.quote in TEXT for item in draft.exercises + draft.aircraft + draft.statements for ev in item.evidence)
    assert (
        answer["usage"]["total_tokens"] == answer["usage"]["prompt_tokens"] + answer["usage"]["completion_tokens"] > 0
    )


def test_without_tools_the_answer_is_json_content():
    with FaultServer() as server:
        message = post(server, body(tools=False)).json()["choices"][0]["message"]
    assert "tool_calls" not in message
    ExtractionDraft.model_validate_json(message["content"])


def test_article_text_and_empty_article():
    assert article_text(body()) == TEXT
    assert valid_draft("") == {"exercises": [], "aircraft": [], "statements": []}


@pytest.mark.parametrize(
    ("fault", "check"),
    [
        ("429", lambda r: r.status_code == 429 and float(r.headers["retry-after"]) == 0.25),
        ("500", lambda r: r.status_code == 500),
        ("invalid", lambda r: r.status_code == 200 and "underwater" in r.text),
        ("malformed", lambda r: r.status_code == 200 and _arguments_are_broken(r)),
    ],
)
def test_each_answering_fault(fault, check):
    with FaultServer(FaultConfig(**{f"rate_{fault}": 1.0}, retry_after=0.25)) as server:
        assert check(post(server, body()))
        assert server.stats.outcomes[fault] == 1


def _arguments_are_broken(response: httpx2.Response) -> bool:
    arguments = response.json()["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
    try:
        json.loads(arguments)
    except ValueError:
        return True
    return False


@pytest.mark.parametrize("fault", ["drop", "hang"])
def test_connection_faults(fault):
    config = FaultConfig(**{f"rate_{fault}": 1.0})
    expected = httpx2.ReadTimeout if fault == "hang" else httpx2.RemoteProtocolError
    with FaultServer(config) as server:
        with httpx2.Client(timeout=0.3) as client, pytest.raises(expected):
            client.post(f"{server.base_url}/chat/completions", json=body())
    assert server.stats.in_flight == 0 or fault == "hang"


def test_rates_over_one_are_refused():
    with pytest.raises(ValueError):
        FaultConfig(rate_429=0.6, rate_500=0.6)


async def test_holds_many_concurrent_connections_and_counts_them():
    clients = 150
    with FaultServer(FaultConfig(latency=1.0)) as server:
        limits = httpx2.Limits(max_connections=None, max_keepalive_connections=None)
        async with httpx2.AsyncClient(timeout=30, limits=limits) as client:
            url = f"{server.base_url}/chat/completions"
            answers = await asyncio.gather(*(client.post(url, json=body()) for _ in range(clients)))
            stats = (await client.get(f"{server.base_url}/stats")).json()
    assert all(answer.status_code == 200 for answer in answers)
    assert stats["requests"] == clients
    assert stats["max_in_flight"] == clients
    assert stats["in_flight"] == 0
