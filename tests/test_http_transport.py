"""`Extractor(http_transport=httpx.MockTransport(...))` works as the README says.

The openai SDK speaks httpx2; a caller's httpx transport is adapted to it. These tests hand
in plain httpx transports (sync and async mocks) that answer with an OpenAI chat completion
and check the extraction, our transport retries and the failure causes on top of them.
"""

from __future__ import annotations

import gzip
import json

import pytest

from extractor import ConfigError, ExtractionFailed, Extractor
from extractor.errors import Cause
from extractor.testing.scripted_server import tool_call_completion
from tests.support.answers import SEED_TEXT, VALID

httpx = pytest.importorskip("httpx")

FAST_RETRIES = {"backoff_initial": 0.01, "backoff_max": 0.02, "fixtures_mode": "off"}


def answering(seen: list, *statuses: int):
    """A handler answering with `statuses` in turn (the last one repeats), a valid completion on 200."""
    script = list(statuses) or [200]

    def handle(request):
        seen.append(request)
        status = script.pop(0) if len(script) > 1 else script[0]
        body = tool_call_completion(VALID) if status == 200 else {"error": {"message": "boom"}}
        return httpx.Response(status, json=body)

    return handle


def test_a_sync_httpx_mock_answers_extract_with_our_retries():
    seen: list = []
    with Extractor(http_transport=httpx.MockTransport(answering(seen, 500, 200)), **FAST_RETRIES) as ex:
        result = ex.extract(SEED_TEXT, article_id="mock")
    assert [a.designation for a in result.aircraft] == ["B-52"]
    assert result.meta.attempts == 2 and result.meta.usage.total_tokens > 0  # the 500 was retried and metered
    assert len(seen) == 2 and all(isinstance(request, httpx.Request) for request in seen)
    assert seen[0].url.path.endswith("/chat/completions")
    assert {"messages", "tools", "model"} <= set(json.loads(seen[0].content))
    assert seen[0].headers["authorization"].startswith("Bearer ")


async def test_an_async_httpx_mock_answers_aextract():
    seen: list = []
    handle = answering(seen, 200)

    async def handle_async(request):
        await request.aread()
        return handle(request)

    async with Extractor(http_transport=httpx.MockTransport(handle_async), **FAST_RETRIES) as ex:
        result = await ex.aextract(SEED_TEXT)
    assert [a.designation for a in result.aircraft] == ["B-52"] and len(seen) == 1


def test_a_real_httpx_transport_reaches_a_real_server():
    from extractor.testing.scripted_server import Reply, ScriptedServer

    with ScriptedServer([Reply(body=tool_call_completion(VALID))]) as server:
        with httpx.HTTPTransport() as transport:
            with Extractor(http_transport=transport, base_url=server.base_url, **FAST_RETRIES) as ex:
                assert len(ex.extract(SEED_TEXT).aircraft) == 1
    assert [seen.path for seen in server.seen] == ["/v1/chat/completions"]


def test_a_compressed_answer_is_decoded_once():
    def handle(request):
        body = gzip.compress(json.dumps(tool_call_completion(VALID)).encode())
        return httpx.Response(
            200, content=body, headers={"content-encoding": "gzip", "content-type": "application/json"}
        )

    with Extractor(http_transport=httpx.MockTransport(handle), **FAST_RETRIES) as ex:
        assert len(ex.extract(SEED_TEXT).aircraft) == 1


def test_an_httpx_connection_error_is_a_connection_failure_after_retries():
    calls = []

    def refuse(request):
        calls.append(request)
        raise httpx.ConnectError("connection refused", request=request)

    with Extractor(http_transport=httpx.MockTransport(refuse), transport_retries=2, **FAST_RETRIES) as ex:
        with pytest.raises(ExtractionFailed) as caught:
            ex.extract(SEED_TEXT)
    assert caught.value.cause == Cause.CONNECTION and len(calls) == 3  # the first try and 2 retries


async def test_a_sync_only_httpx_transport_refuses_async_calls_by_name():
    class SyncOnly(httpx.BaseTransport):
        def handle_request(self, request):
            return httpx.Response(200, json=tool_call_completion(VALID))

    ex = Extractor(http_transport=SyncOnly(), **FAST_RETRIES)
    assert len(ex.extract(SEED_TEXT).aircraft) == 1
    with pytest.raises(ConfigError, match="sync-only"):
        await ex.aextract(SEED_TEXT)
    await ex.aclose()


def test_batch_runs_async_calls_so_a_sync_only_transport_is_refused_for_it_with_a_true_hint():
    class SyncOnly(httpx.BaseTransport):
        def handle_request(self, request):
            return httpx.Response(200, json=tool_call_completion(VALID))

    with Extractor(http_transport=SyncOnly(), **FAST_RETRIES) as ex:
        [outcome] = ex.batch([SEED_TEXT])
    assert outcome.status == "failed" and outcome.cause == Cause.CONFIG
    assert "sync-only" in (outcome.error or "") and "use extract (" in (outcome.error or "")


def test_something_that_is_no_transport_is_refused_at_once():
    with pytest.raises(ConfigError, match="httpx or httpx2 transport"):
        Extractor(http_transport=object(), **FAST_RETRIES)  # type: ignore[arg-type]
