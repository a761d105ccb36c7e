"""The direct chat-completions call (extractor/model_call/chat_call.py) sends what the SDK's create sends.

Our own clients post instructor's JSON without the SDK's typed-dict transform; a caller's
client keeps its own `create`. Both paths are run on the same article against a real local
server and their requests compared, so an SDK or instructor change that makes them differ
fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import openai
import pytest
from pydantic import BaseModel

from extractor import Extractor
from extractor.model_call import chat_call
from extractor.testing.scripted_server import Reply, ScriptedServer, tool_call_completion
from tests.support.answers import SEED_TEXT, VALID

KEY = "sk-test-not-a-real-key"
# Headers that differ between any two requests, or that name the client's own code path.
VARYING = {"content-length", "x-stainless-retry-count", "x-stainless-read-timeout", "host"}


def comparable(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items() if name.lower() not in VARYING}


def test_our_client_posts_the_body_and_headers_the_sdk_create_posts():
    with ScriptedServer([Reply(body=tool_call_completion(VALID))]) as server:
        settings = {"fixtures_mode": "off", "request_timeout": 10}
        sdk_client = openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0)
        with Extractor(client=sdk_client, **settings) as through_sdk:
            through_sdk.extract(SEED_TEXT, article_id="same")
        sdk_client.close()
        with Extractor(provider="openai", base_url=server.base_url, api_key=KEY, **settings) as ours:
            ours.extract(SEED_TEXT, article_id="same")
    sdk_seen, direct_seen = server.seen
    assert direct_seen.path == sdk_seen.path == "/v1/chat/completions"
    assert direct_seen.body == sdk_seen.body
    assert {"messages", "tools", "tool_choice", "model"} <= set(direct_seen.body)
    assert comparable(direct_seen.headers) == comparable(sdk_seen.headers)
    assert direct_seen.headers["authorization"] == f"Bearer {KEY}"


async def test_the_async_direct_call_sends_the_same_body_as_the_sync_one():
    with ScriptedServer([Reply(body=tool_call_completion(VALID))]) as server:
        settings = {"provider": "openai", "base_url": server.base_url, "api_key": KEY, "fixtures_mode": "off"}
        async with Extractor(**settings) as ex:
            result = await ex.aextract(SEED_TEXT, article_id="same")
        with Extractor(**settings) as ex:
            ex.extract(SEED_TEXT, article_id="same")
    assert [a.designation for a in result.aircraft] == ["B-52"]
    assert server.seen[0].body == server.seen[1].body


class Recorded:
    """Stands in for the SDK's create: records what reached it."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def __call__(self, **kwargs):
        self.calls.append(kwargs)
        return "through the sdk"


class Posted:
    def __init__(self) -> None:
        self.calls: list[dict] = []

    def __call__(self, path, **kwargs):
        self.calls.append({"path": path, **kwargs})
        return "posted"


@pytest.fixture
def client(monkeypatch) -> tuple[openai.OpenAI, Recorded, Posted]:
    client = openai.OpenAI(api_key=KEY, base_url="http://127.0.0.1:9/v1")
    sdk, posted = Recorded(), Posted()
    monkeypatch.setattr(client.chat.completions, "create", sdk)
    monkeypatch.setattr(client, "post", posted)
    return client, sdk, posted


def test_json_requests_are_posted_with_the_sdk_request_options(client):
    client, sdk, posted = client
    create = chat_call.direct_create(client)
    messages = [{"role": "user", "content": "hi"}]
    assert create(model="m", messages=messages, temperature=0.0, extra_headers={"x-a": "1"}, timeout=5) == "posted"
    (call,) = posted.calls
    assert call["path"] == "/chat/completions" and call["body"] == {
        "model": "m",
        "messages": messages,
        "temperature": 0,
    }
    assert call["options"] == {"headers": {"x-a": "1"}, "timeout": 5, "security": {"bearer_auth": True}}
    assert call["cast_to"] is openai.types.chat.ChatCompletion
    assert not sdk.calls


def test_omitted_parameters_are_left_out_of_the_body(client):
    client, _sdk, posted = client
    chat_call.direct_create(client)(model="m", messages=[], seed=openai.omit, user=openai.NOT_GIVEN)
    assert posted.calls[0]["body"] == {"model": "m", "messages": []}


class Format(BaseModel):
    type: str = "json_object"


@pytest.mark.parametrize(
    "extra",
    [
        {"stream": True},  # a stream needs the SDK's stream class
        {"response_format": Format()},  # the transform dumps models
        {"stop": ("a", "b")},  # ... and turns other iterables into lists
    ],
    ids=["stream", "pydantic-model", "tuple"],
)
def test_what_the_transform_would_change_goes_through_the_sdk(client, extra):
    client, sdk, posted = client
    assert chat_call.direct_create(client)(model="m", messages=[], **extra) == "through the sdk"
    assert sdk.calls == [{"model": "m", "messages": [], **extra}] and not posted.calls


def test_chat_request_parameters_declare_no_aliases_or_formats():
    """The direct call skips the transform on nested values; it may only do so while the SDK's
    chat request types declare nothing for the transform to apply there."""
    types_dir = Path(openai.__file__).parent / "types"
    param_files = [*types_dir.glob("chat/*param*.py"), *types_dir.glob("shared_params/*.py")]
    assert any(path.name == "completion_create_params.py" for path in param_files)
    declaring = [path.name for path in param_files if re.search(r"PropertyInfo\(", path.read_text(encoding="utf-8"))]
    assert declaring == []


def test_a_callers_own_client_keeps_its_own_create():
    calls: list[dict] = []
    with ScriptedServer([Reply(body=tool_call_completion(VALID))]) as server:
        mine = openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0)
        sdk_create = mine.chat.completions.create

        def traced(**kwargs):  # what a tracing wrapper does to the client it is given
            calls.append(kwargs)
            return sdk_create(**kwargs)

        mine.chat.completions.create = traced
        with Extractor(client=mine, fixtures_mode="off") as ex:
            result = ex.extract(SEED_TEXT)
        mine.close()
    assert len(calls) == 1 and len(server.seen) == 1 and len(result.aircraft) == 1
