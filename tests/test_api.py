"""The Python API: typed arguments, closing what is opened, bring-your-own client or
transport, and the batch methods. Model calls go to a scripted server on 127.0.0.1 or to an
in-process httpx MockTransport."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import threading
from typing import Any

import httpx2
import openai
import pytest
from pydantic import ValidationError

import extractor
from extractor import (
    ArticleExtraction,
    ConfigError,
    Extractor,
    Settings,
    aextract,
    extract,
)
from extractor.engines import BatchOutcome
from extractor.model_call import client as client_module
from extractor.settings import SettingsOverrides
from extractor.testing.scripted_server import (
    Reply,
    ScriptedServer,
    tool_call_completion,
)
from tests.support.answers import SEED_TEXT, VALID

KEY = "sk-test-not-a-real-key"


def offline(server: ScriptedServer) -> dict[str, Any]:
    """Settings that send every call to `server`, fast."""
    return {
        "provider": "openai",
        "base_url": server.base_url,
        "api_key": KEY,
        "fixtures_mode": "off",
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
        "request_timeout": 10,
    }


def valid_reply() -> Reply:
    return Reply(body=tool_call_completion(VALID))


@pytest.fixture
def opened(monkeypatch) -> list[openai.OpenAI | openai.AsyncOpenAI]:
    """Every openai client the extractor opens, to check it closed them."""
    seen: list[openai.OpenAI | openai.AsyncOpenAI] = []
    real = client_module.open_openai

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(real(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(client_module, "open_openai", spy)
    return seen


def test_extract_from_the_package_is_the_function_even_after_the_pipeline_loaded():
    importlib.import_module("extractor.pipeline")
    assert extractor.extract is extract and callable(extract) and extract.__name__ == "extract"


# -- keyword arguments ----------------------------------------------------------------------


def test_misspelt_setting_is_a_type_error_naming_it():
    with pytest.raises(TypeError) as caught:
        Extractor(provider="replay", temprature=0.9)
    assert "'temprature'" in str(caught.value) and "did you mean 'temperature'" in str(caught.value)


def test_one_shot_extract_rejects_unknown_arguments_before_any_call():
    with pytest.raises(TypeError, match="'temprature'"):
        extract("Some text.", provider="replay", temprature=1)
    with pytest.raises(TypeError, match="'titel'"):
        Extractor(provider="replay").article("Some text.", titel="x")


async def test_async_one_shot_rejects_unknown_arguments():
    with pytest.raises(TypeError, match="'colour'"):
        await aextract("Some text.", provider="replay", colour="red")


def test_settings_itself_rejects_unknown_arguments():
    with pytest.raises(TypeError, match="'grounding_mode'"):
        Settings(grounding_mode="off")


def test_every_setting_is_a_typed_keyword_argument():
    assert set(SettingsOverrides.__annotations__) | {"provider", "model"} == set(Settings.model_fields)


def test_an_override_on_given_settings_is_validated():
    base = Settings(provider="replay", temperature=0.3)
    assert Extractor(settings=base, max_tokens=100).settings.temperature == 0.3
    with pytest.raises(ValidationError):
        Extractor(settings=base, temperature=5)


def test_one_shot_extract_takes_settings_and_article_fields_and_closes_its_client(
    opened,
):
    with ScriptedServer([valid_reply()]) as server:
        result = extract(
            SEED_TEXT,
            article_id="seed",
            title="Bombers",
            max_reasks=0,
            **offline(server),
        )
    assert isinstance(result, ArticleExtraction)
    assert result.article.id == "seed" and result.article.title == "Bombers"
    assert [a.designation for a in result.aircraft] == ["B-52"]
    assert len(opened) == 1 and opened[0].is_closed()


async def test_async_one_shot_closes_its_client(opened):
    with ScriptedServer([valid_reply()]) as server:
        result = await aextract(SEED_TEXT, article_id="seed", **offline(server))
    assert result.article.id == "seed"
    assert len(opened) == 1 and isinstance(opened[0], openai.AsyncOpenAI) and opened[0].is_closed()


# -- closing --------------------------------------------------------------------------------


def test_with_block_closes_the_client_and_the_extractor_reopens_on_use(opened):
    with ScriptedServer([valid_reply()]) as server:
        with Extractor(**offline(server)) as ex:
            ex.extract(SEED_TEXT)
            assert not opened[0].is_closed()
        assert opened[0].is_closed()
        ex.extract(SEED_TEXT)  # after close: a new client
        assert len(opened) == 2 and not opened[1].is_closed()
        ex.close()
    assert opened[1].is_closed()


async def test_async_with_closes_the_async_client(opened):
    with ScriptedServer([valid_reply()]) as server:
        async with Extractor(**offline(server)) as ex:
            await ex.aextract(SEED_TEXT)
    assert len(opened) == 1 and isinstance(opened[0], openai.AsyncOpenAI) and opened[0].is_closed()


def test_close_outside_a_loop_closes_an_async_client_too(opened):
    with ScriptedServer([valid_reply()]) as server:
        ex = Extractor(**offline(server))
        ex.extract(SEED_TEXT)
        asyncio.run(ex.aextract(SEED_TEXT))
        ex.close()
    assert len(opened) == 2 and all(client.is_closed() for client in opened)


async def test_sync_close_inside_a_loop_with_an_open_async_client_names_aclose(opened):
    with ScriptedServer([valid_reply()]) as server:
        ex = Extractor(**offline(server))
        await ex.aextract(SEED_TEXT)
        with pytest.raises(RuntimeError, match="aclose"):
            ex.close()
        await ex.aclose()
    assert opened[0].is_closed()


def test_a_second_event_loop_gets_a_fresh_async_client():
    with ScriptedServer([valid_reply()]) as server:
        ex = Extractor(**offline(server))
        first = asyncio.run(ex.aextract(SEED_TEXT))
        # The first client's connections belong to a closed loop; reusing them would fail.
        second = asyncio.run(ex.aextract(SEED_TEXT))
    assert first.aircraft == second.aircraft and len(server.seen) == 2


# -- bring your own client or transport -----------------------------------------------------


def test_callers_own_client_is_used_and_left_open():
    with ScriptedServer([valid_reply()]) as server:
        mine = openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0)
        with Extractor(client=mine, fixtures_mode="replay") as ex:
            result = ex.extract(SEED_TEXT, article_id="own")
        assert not mine.is_closed()
        mine.close()
    assert result.meta.provider == "openai" and [a.designation for a in result.aircraft] == ["B-52"]
    assert len(server.seen) == 1 and server.seen[0].headers.get("authorization") == f"Bearer {KEY}"


async def test_callers_own_async_client_is_used_and_left_open():
    with ScriptedServer([valid_reply()]) as server:
        mine = openai.AsyncOpenAI(base_url=server.base_url, api_key=KEY, max_retries=0)
        async with Extractor(async_client=mine) as ex:
            result = await ex.aextract(SEED_TEXT)
            with pytest.raises(ConfigError, match="aextract"):
                ex.extract(SEED_TEXT)
        assert not mine.is_closed()
        await mine.close()
    assert len(result.aircraft) == 1 and len(server.seen) == 1


def test_own_client_with_an_in_process_provider_is_a_config_error():
    with pytest.raises(ConfigError, match="'replay'"):
        Extractor(
            provider="replay",
            client=openai.OpenAI(api_key=KEY, base_url="http://127.0.0.1:9/v1"),
        )


class CountingTransport(httpx2.MockTransport):
    """Answers from a script like a server would; remembers whether it was closed."""

    def __init__(self, replies: list[tuple[int, dict[str, Any]]]) -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []
        self.closed = False
        self._lock = threading.Lock()
        super().__init__(self._answer)

    def _answer(self, request: httpx2.Request) -> httpx2.Response:
        with self._lock:
            self.requests.append(json.loads(request.content))
            status, body = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        return httpx2.Response(status, json=body)

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def test_callers_transport_keeps_retries_and_metering_and_stays_open():
    transport = CountingTransport([(500, {"error": {"message": "boom"}}), (200, tool_call_completion(VALID))])
    with Extractor(
        http_transport=transport,
        fixtures_mode="off",
        backoff_initial=0.01,
        backoff_max=0.02,
    ) as ex:
        result = ex.extract(SEED_TEXT)
    assert len(transport.requests) == 2  # our transport retry re-sent the 500
    assert result.meta.attempts == 2 and result.meta.usage.total_tokens == 120
    assert result.meta.provider == "openai" and len(result.aircraft) == 1
    assert not transport.closed


async def test_callers_transport_answers_async_calls():
    transport = CountingTransport([(200, tool_call_completion(VALID))])
    async with Extractor(http_transport=transport, fixtures_mode="off") as ex:
        result = await ex.aextract(SEED_TEXT)
    assert result.meta.attempts == 1 and not transport.closed


async def test_a_sync_only_transport_refuses_async_calls_by_name():
    class SyncOnly(httpx2.BaseTransport):
        def handle_request(self, request: httpx2.Request) -> httpx2.Response:
            return httpx2.Response(200, json=tool_call_completion(VALID))

    ex = Extractor(http_transport=SyncOnly(), fixtures_mode="off")
    assert len(ex.extract(SEED_TEXT).aircraft) == 1
    with pytest.raises(ConfigError, match="sync-only"):
        await ex.aextract(SEED_TEXT)
    await ex.aclose()


def test_client_and_transport_together_is_a_config_error():
    with pytest.raises(ConfigError, match="not both"):
        Extractor(
            client=openai.OpenAI(api_key=KEY),
            http_transport=CountingTransport([(200, {})]),
        )


# -- batch ----------------------------------------------------------------------------------


def articles(n: int) -> list[dict[str, str]]:
    return [{"id": f"a{i}", "text": SEED_TEXT} for i in range(n)]


def test_batch_returns_typed_outcomes_carrying_the_extraction():
    transport = CountingTransport([(200, tool_call_completion(VALID))])
    records = [*articles(2), {"id": "bad", "text": "   "}]
    with Extractor(http_transport=transport, fixtures_mode="off") as ex:
        outcomes = ex.batch(records, concurrency=2)
    assert all(isinstance(outcome, BatchOutcome) for outcome in outcomes)
    by_id = {outcome.article_id: outcome for outcome in outcomes}
    assert set(by_id) == {"a0", "a1", "input:<item 3>"}
    done = [outcome for outcome in outcomes if outcome.ok]
    assert {outcome.article_id for outcome in done} == {"a0", "a1"}
    for outcome in done:
        assert isinstance(outcome.result, ArticleExtraction)
        assert outcome.result.article.id == outcome.article_id
        assert outcome.error is None
    failed = [outcome for outcome in outcomes if not outcome.ok]
    assert len(failed) == 1 and failed[0].result is None
    assert failed[0].error is not None and "(input)" in failed[0].error


async def test_abatch_is_the_async_iterator():
    transport = CountingTransport([(200, tool_call_completion(VALID))])
    async with Extractor(http_transport=transport, fixtures_mode="off") as ex:
        ids = [outcome.article_id async for outcome in ex.abatch(articles(3), concurrency=3)]
    assert sorted(ids) == ["a0", "a1", "a2"]


async def test_sync_batch_inside_a_running_event_loop_works():
    # As in a Jupyter cell: a loop is running, so asyncio.run would refuse.
    transport = CountingTransport([(200, tool_call_completion(VALID))])
    ex = Extractor(http_transport=transport, fixtures_mode="off")
    outcomes = ex.batch(articles(2))
    assert sorted(outcome.article_id for outcome in outcomes if outcome.ok) == [
        "a0",
        "a1",
    ]
    await ex.aclose()


def test_sync_batch_twice_on_one_extractor_closes_its_async_client_each_time(opened):
    with ScriptedServer([valid_reply()]) as server:
        ex = Extractor(**offline(server))
        first = ex.batch(articles(2))
        second = ex.batch(articles(2), store=None)
    assert all(outcome.ok for outcome in first + second)
    assert len(opened) == 2 and all(client.is_closed() for client in opened)


def test_unknown_batch_option_is_a_type_error():
    with pytest.raises(TypeError, match="concurency"):
        Extractor(provider="replay").batch(articles(1), concurency=2)


# -- documentation --------------------------------------------------------------------------


def test_every_public_name_and_method_has_a_docstring():
    undocumented = []
    for name in extractor.__all__:
        value = getattr(extractor, name)
        if name.startswith("__") or not (inspect.isclass(value) or inspect.isfunction(value)):
            continue
        if not inspect.getdoc(value):
            undocumented.append(name)
        if inspect.isclass(value) and value.__module__.startswith("extractor"):
            for member, attribute in vars(value).items():
                if member.startswith("_") or not callable(getattr(attribute, "__func__", attribute)):
                    continue
                if not (attribute.__doc__ or "").strip():
                    undocumented.append(f"{name}.{member}")
    assert undocumented == []
