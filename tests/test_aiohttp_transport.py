"""The async HTTP transport (aiohttp under httpx2): an extractor dropped without `aclose()`
releases its connections without aiohttp's "Unclosed client session" complaint, and one used
again from a second event loop opens a fresh session."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

from extractor import Extractor
from extractor.aiohttp_transport import AsyncAiohttpTransport
from extractor.testing.scripted_server import Reply, ScriptedServer, tool_call_completion
from tests.support.answers import SEED_TEXT, VALID
from tests.support.paths import ROOT

DROPPED = textwrap.dedent(
    """
    import asyncio, gc, sys
    from extractor import Extractor

    ex = Extractor(provider="openai", base_url=sys.argv[1], api_key="sk-test", fixtures_mode="off")

    async def main():
        result = await ex.aextract(sys.argv[2])
        print(len(result.aircraft))

    asyncio.run(main())
    del ex
    gc.collect()
    print("dropped")
    """
)


def test_an_extractor_dropped_open_releases_its_session_quietly():
    with ScriptedServer([Reply(body=tool_call_completion(VALID))]) as server:
        run = subprocess.run(
            [sys.executable, "-c", DROPPED, server.base_url, SEED_TEXT],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["1", "dropped"]
    assert "Unclosed" not in run.stderr, run.stderr


def test_a_second_event_loop_gets_a_fresh_session_and_the_first_closes():
    with ScriptedServer([Reply(body=tool_call_completion(VALID))]) as server:
        ex = Extractor(provider="openai", base_url=server.base_url, api_key="sk-test", fixtures_mode="off")
        first = asyncio.run(ex.aextract(SEED_TEXT))
        second = asyncio.run(ex.aextract(SEED_TEXT))
        ex.close()
    assert len(first.aircraft) == len(second.aircraft) == 1 and len(server.seen) == 2


async def test_closing_shuts_the_session_and_a_later_request_opens_another():
    transport = AsyncAiohttpTransport()
    with ScriptedServer([Reply(body=tool_call_completion(VALID))]) as server:
        import httpx2

        async with httpx2.AsyncClient(transport=transport) as client:
            first = await client.post(f"{server.base_url}/chat/completions", json={})
            session = transport._inner.client
            await transport.aclose()
            assert session.closed
            second = await client.post(f"{server.base_url}/chat/completions", json={})
            assert transport._inner.client is not session
    assert first.status_code == second.status_code == 200 and len(server.seen) == 2


async def test_a_proxy_from_the_environment_carries_the_requests(monkeypatch):
    with ScriptedServer([Reply(body=tool_call_completion(VALID))]) as proxy:
        for name in ("HTTP_PROXY", "http_proxy"):
            monkeypatch.setenv(name, proxy.base_url.removesuffix("/v1"))
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        base_url = "http://model-server.invalid/v1"  # reachable only through the proxy
        async with Extractor(provider="openai", base_url=base_url, api_key="sk-test", fixtures_mode="off") as ex:
            result = await ex.aextract(SEED_TEXT)
    assert len(result.aircraft) == 1
    assert [seen.path for seen in proxy.seen] == ["http://model-server.invalid/v1/chat/completions"]
