"""The async HTTP transport (aiohttp under httpx2): an extractor dropped without `aclose()`
releases its connections without aiohttp's "Unclosed client session" complaint, and one used
again from a second event loop opens a fresh session."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import pytest

from extractor import ExtractionFailed, Extractor
from extractor.model_call.aiohttp_transport import AsyncAiohttpTransport
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


@pytest.fixture
def tls_server(tmp_path):
    """The scripted server over HTTPS, with a self-signed certificate for 127.0.0.1."""
    import shutil
    import ssl

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", str(key),
         "-out", str(cert), "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    server = ScriptedServer([Reply(body=tool_call_completion(VALID))])
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.httpd.socket = context.wrap_socket(server.httpd.socket, server_side=True)
    with server:
        yield server, server.base_url.replace("http://", "https://"), cert


async def test_https_verifies_the_server_against_the_trust_store(tls_server, monkeypatch):
    server, base_url, cert = tls_server
    settings = dict(provider="openai", base_url=base_url, api_key="sk-test", fixtures_mode="off", transport_retries=0)
    async with Extractor(**settings) as ex:
        with pytest.raises(ExtractionFailed, match=r"could not reach the model server .*CERTIFICATE_VERIFY_FAILED"):
            await ex.aextract(SEED_TEXT)  # a self-signed certificate nobody trusts
    assert server.seen == []
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trusted: as httpx, the async path honours it
    async with Extractor(**settings) as ex:
        result = await ex.aextract(SEED_TEXT)
    assert len(result.aircraft) == 1 and len(server.seen) == 1


@pytest.mark.parametrize("fault", ["drop", "refused"])
async def test_a_lost_connection_reads_as_one_not_as_a_timeout(fault):
    """The SDK's aiohttp transport calls every connection error a connect timeout; ours says
    what httpx says, so the failure's cause and message are the same on both paths."""
    from extractor.testing.faultserver import FaultConfig, FaultServer

    with FaultServer(FaultConfig(rate_drop=1.0)) as server:
        base_url = server.base_url if fault == "drop" else "http://127.0.0.1:9/v1"  # port 9: nothing listens
        settings = dict(provider="openai", base_url=base_url, api_key="sk-test", fixtures_mode="off")
        async with Extractor(**settings, transport_retries=0) as ex:
            with pytest.raises(ExtractionFailed, match="could not reach the model server") as raised:
                await ex.aextract(SEED_TEXT)
    assert raised.value.cause == "connection"
