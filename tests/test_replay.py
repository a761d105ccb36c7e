"""Record and replay at the transport: real SDK, real instructor, a scripted server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import pytest

from extractor import Extractor
from extractor.errors import ReplayMiss
from extractor.prompting import PromptTemplates, load_templates
from extractor.replay import article_scope
from extractor.testing.scripted_server import Reply, ScriptedServer, tool_call_completion
from tests.support.answers import INVALID, VALID
from tests.support.paths import SEEDS

SEED_TEXT = (SEEDS / "000_dc08afd2001463f6.txt").read_text(encoding="utf-8")
SECRET = "sk-live-DO-NOT-STORE-0123456789abcdef"


def recorder(server: ScriptedServer, fixtures: Path, mode: str = "record") -> Extractor:
    return Extractor(
        provider="openai",
        base_url=server.base_url,
        api_key=SECRET,
        fixtures_mode=mode,
        fixtures_dir=fixtures,
        backoff_initial=0.01,
        request_timeout=10,
    )


def replayer(fixtures: Path) -> Extractor:
    return Extractor(provider="replay", fixtures_dir=fixtures)


def answer_of(result) -> dict:
    """What must replay identically: items, article header, usage and attempts."""
    data = result.model_dump(mode="json")
    meta = data.pop("meta")
    return {**data, "usage": meta["usage"], "attempts": meta["attempts"], "model": meta["model"]}


def fixture_files(fixtures: Path) -> list[Path]:
    return sorted(fixtures.glob("*.json"))


def test_network_is_blocked_during_tests():
    with pytest.raises(OSError, match="blocked by extractor_fixtures"):
        socket.create_connection(("192.0.2.1", 443), timeout=1)


def test_record_then_replay_gives_the_same_extraction_without_calling_the_server(tmp_path):
    with ScriptedServer([Reply(body=tool_call_completion(VALID))]) as server:
        recorded = recorder(server, tmp_path).extract(SEED_TEXT, article_id="seed")
        replayed = replayer(tmp_path).extract(SEED_TEXT, article_id="seed")
        assert len(server.seen) == 1  # the replay never reached the server
    assert answer_of(replayed) == answer_of(recorded)
    assert [a.designation for a in replayed.aircraft] == ["B-52"]
    assert replayed.meta.provider == "replay" and replayed.meta.usage.total_tokens == 120
    [path] = fixture_files(tmp_path)
    stored = json.loads(path.read_text())
    assert stored["origin"] == "recorded" and stored["meta"]["provider"] == "openai"
    assert stored["meta"]["article"]["sha256"] == recorded.article.sha256
    assert stored["meta"]["model"] == "gpt-4o-mini" and stored["meta"]["prompt_version"] == load_templates().version
    assert set(stored["response"]["headers"]) <= {"content-type", "retry-after", "x-request-id"}


def test_record_missing_answers_from_fixtures_and_records_only_new_articles(tmp_path):
    other = SEED_TEXT.replace("Guam", "Guam.", 1)
    with ScriptedServer([Reply(body=tool_call_completion(VALID))]) as server:
        recorder(server, tmp_path).extract(SEED_TEXT)
        recorder(server, tmp_path, mode="record-missing").extract(SEED_TEXT)
        assert len(server.seen) == 1
        recorder(server, tmp_path, mode="record-missing").extract(other)
        assert len(server.seen) == 2
    assert len(fixture_files(tmp_path)) == 2


def test_recorded_fixtures_hold_no_credentials(tmp_path):
    echo = tool_call_completion(VALID)
    echo["id"] = f"echo {SECRET}"  # a server echoing the key must not leak it either
    headers = {
        "set-cookie": "session=cookie-secret-value-123",
        "x-request-id": "req_1",
        "openai-organization": "org-secret-456789",
    }
    with ScriptedServer([Reply(body=echo, headers=headers)]) as server:
        recorder(server, tmp_path).extract(SEED_TEXT)
    text = "".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())
    assert SECRET not in text and "cookie-secret" not in text and "org-secret" not in text
    assert "authorization" not in text.lower()
    assert '"x-request-id": "req_1"' in text


def test_redaction_at_the_transport_covers_every_credential_header(tmp_path):
    import httpx2

    from extractor.replay import wrap_transport

    secrets = {
        "Authorization": "Bearer sk-proj-secret-one-111111",
        "api-key": "azure-secret-two-222222",
        "OpenAI-Organization": "org-secret-three-333",
        "OpenAI-Project": "proj_secret-four-444",
        "Cookie": "sid=secret-five-555555",
    }

    def handle(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json={"seen": dict(request.headers)}, headers={"set-cookie": "x=secret-six-666666"})

    transport = wrap_transport(
        lambda: httpx2.MockTransport(handle), mode="record", fixtures_dir=tmp_path, provider="openai", is_async=False
    )
    with httpx2.Client(transport=transport) as client:
        assert (
            client.post("https://api.example/v1/chat/completions", json={"model": "m"}, headers=secrets).status_code
            == 200
        )
    files = fixture_files(tmp_path)
    text = "".join(p.read_text() for p in files)
    assert len(files) == 1 and "chat/completions" in text  # the exchange was stored, minus the secrets
    for value in [*secrets.values(), "secret-six"]:
        assert value.split(" ")[-1] not in text


def test_changed_prompt_version_fails_replay_with_an_explanation(tmp_path, monkeypatch):
    # article_scope names the article for file names and messages (the CLI's file stem).
    with ScriptedServer([Reply(body=tool_call_completion(VALID))]) as server, article_scope("seed"):
        recorder(server, tmp_path).extract(SEED_TEXT, article_id="seed")
    assert [p.name.split(".")[0] for p in fixture_files(tmp_path)] == ["seed"]
    current = load_templates()
    bumped = str(int(current.version) + 1)
    changed = PromptTemplates(system=current.system + "\n- Prefer precision.", user=current.user, version=bumped)
    monkeypatch.setattr("extractor.prompting.load_templates", lambda: changed)
    with pytest.raises(ReplayMiss) as caught:
        replayer(tmp_path).extract(SEED_TEXT, article_id="seed")  # outside the scope: named from the fixture
    miss = caught.value
    first, *diff = str(miss).splitlines()
    assert miss.key[:16] in first and miss.article_id == "seed"
    assert f"prompt_version {current.version} -> {bumped}" in first and "system prompt" in first
    assert any(line.startswith("+") and "Prefer precision." in line for line in diff)


def test_recorded_reask_chain_replays_to_the_same_result_and_attempts(tmp_path):
    script = [Reply(body=tool_call_completion(INVALID)), Reply(body=tool_call_completion(VALID))]
    with ScriptedServer(script) as server:
        recorded = recorder(server, tmp_path).extract(SEED_TEXT)
        assert len(server.seen) == 2
    assert recorded.meta.attempts == 2
    assert len(fixture_files(tmp_path)) == 2  # the re-ask carries the rejected answer: another key
    replayed = replayer(tmp_path).extract(SEED_TEXT)
    assert answer_of(replayed) == answer_of(recorded)
    assert replayed.meta.attempts == 2 and replayed.meta.usage.total_tokens == 240


async def test_async_batch_of_replays_matches_the_recording(tmp_path):
    texts = [SEED_TEXT, SEED_TEXT.replace("Guam", "Guam.", 1), SEED_TEXT + "\n"]
    with ScriptedServer([Reply(body=tool_call_completion(VALID))]) as server:
        async_recorder = recorder(server, tmp_path)
        recorded = await asyncio.gather(*(async_recorder.aextract(t, article_id=f"a{i}") for i, t in enumerate(texts)))
    assert len(fixture_files(tmp_path)) == 3
    extractor = replayer(tmp_path)
    replayed = await asyncio.gather(*(extractor.aextract(t, article_id=f"a{i}") for i, t in enumerate(texts)))
    assert [answer_of(r) for r in replayed] == [answer_of(r) for r in recorded]
    # The sync client reads the same store the async one wrote.
    assert answer_of(extractor.extract(texts[1], article_id="a1")) == answer_of(recorded[1])


def test_replay_provider_without_a_fixture_names_the_article(tmp_path):
    with pytest.raises(ReplayMiss, match=r"no fixture recorded for this article") as caught:
        replayer(tmp_path).extract("Nothing recorded for this text.")
    assert caught.value.article_id.startswith("sha256-")
