"""Retry-After in batch jobs: malformed values ignored, long asks capped as in `extract`, shown while paused."""

from __future__ import annotations

import asyncio
import time

import httpx2
import pytest

from extractor.cli.progress import BatchProgress, pause_note
from extractor.engines import abatch
from extractor.model_call.retry import Throttle, retry_after_seconds
from extractor.testing.faultserver import FaultConfig, FaultServer
from extractor.testing.scripted_server import (
    Reply,
    ScriptedServer,
    tool_call_completion,
)
from tests.support.batch import make_extractor, records


def response(**headers: str) -> httpx2.Response:
    return httpx2.Response(429, headers=headers)


@pytest.mark.parametrize("value", ["soon", "", "nan", "inf", "Wed, 99 Foo 2026 99:99:99 GMT", "-"])
def test_unreadable_retry_after_is_no_request(value):
    assert retry_after_seconds(response(**{"retry-after": value})) is None
    assert retry_after_seconds(response(**{"retry-after-ms": value})) is None


def test_readable_retry_after_forms():
    assert retry_after_seconds(response(**{"retry-after": "2.5"})) == 2.5
    assert retry_after_seconds(response(**{"retry-after-ms": "1500"})) == 1.5
    assert retry_after_seconds(response(**{"retry-after-ms": "soon", "retry-after": "3"})) == 3.0
    assert retry_after_seconds(response(**{"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0


def test_a_malformed_retry_after_is_retried_not_a_crash():
    draft = {"exercises": [], "aircraft": [], "statements": []}
    replies = [
        Reply(429, {"error": {"message": "slow down"}}, {"retry-after": "soon"}),
        Reply(body=tool_call_completion(draft)),
    ]
    with ScriptedServer(replies) as server:
        extractor = make_extractor(server)
        results = asyncio.run(_collect(extractor, [{"id": "one", "text": "B-52 bombers flew."}]))
        assert len(server.seen) == 2
    assert [o.status for o in results] == ["done"]


async def _collect(extractor, articles, **options):
    return [outcome async for outcome in abatch(extractor, articles, **options)]


def test_a_day_long_retry_after_is_capped_for_the_whole_job():
    config = FaultConfig(rate_429=1.0, retry_after=86400)
    with FaultServer(config) as server:
        extractor = make_extractor(server, transport_retries=1, retry_after_max=0.2)
        started = time.monotonic()
        outcomes = asyncio.run(asyncio.wait_for(_collect(extractor, records(4), concurrency=2), 30))
        elapsed = time.monotonic() - started
        assert server.stats.requests == 8
    assert {o.cause for o in outcomes} == {"rate_limited"}
    assert elapsed < 30
    # Each article waited out its capped pause before its retry.
    assert elapsed >= 0.2


def test_progress_shows_the_server_pause():
    throttle = Throttle()
    assert pause_note(throttle) == ""
    throttle.pause(3600)
    note = pause_note(throttle)
    assert note.startswith("paused by the server until ")
    shown = time.strptime(note.rsplit(" ", 1)[1], "%H:%M:%S")
    expected = time.localtime(time.time() + 3600)
    assert (shown.tm_hour, shown.tm_min) in {
        (expected.tm_hour, expected.tm_min),
        (expected.tm_hour, (expected.tm_min - 1) % 60),
    }
    progress = BatchProgress(1, enabled=True, throttle=throttle)
    rendered = [column.render(progress._progress.tasks[0]) for column in progress._progress.columns[-1:]]
    assert rendered[0].plain == note


def test_extract_waits_the_same_capped_time():
    draft = {"exercises": [], "aircraft": [], "statements": []}
    replies = [
        Reply(429, {"error": {"message": "slow down"}}, {"retry-after": "86400"}),
        Reply(body=tool_call_completion(draft)),
    ]
    with ScriptedServer(replies) as server:
        started = time.monotonic()
        make_extractor(server, retry_after_max=0.3).extract("B-52 bombers flew.", article_id="one")
        elapsed = time.monotonic() - started
        assert len(server.seen) == 2
    assert 0.3 <= elapsed < 30
