"""The batch's request gate (extractor/model_call/gate.py): `concurrency` caps requests in flight, while a
few more articles are prepared; a backoff holds no slot; a refusal stops what waits."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from extractor.engines import JobStore
from extractor.model_call.gate import RequestGate, prepared_ahead
from extractor.testing.faultserver import FaultConfig, FaultServer
from extractor.testing.scripted_server import Reply, ScriptedServer, tool_call_completion
from tests.support.answers import SEED_TEXT, VALID
from tests.support.batch import collect, make_extractor, records

logging.getLogger("instructor").disabled = True


async def test_requests_in_flight_reach_the_concurrency_and_never_pass_it():
    with FaultServer(FaultConfig(latency=0.05)) as server:
        outcomes = await collect(make_extractor(server), records(60), concurrency=6)
        stats = server.stats
    assert sum(outcome.status == "done" for outcome in outcomes) == 60
    assert stats.max_in_flight == 6 and stats.requests == 60


async def test_articles_in_process_exceed_requests_in_flight_by_the_prepared_few(monkeypatch):
    """While every slot is taken, the next articles are already underway (prompt built, waiting)."""
    from extractor.pipeline import Extractor

    in_process, peak = 0, 0
    original = Extractor.aextract_article

    async def counted(self, article):
        nonlocal in_process, peak
        in_process += 1
        peak = max(peak, in_process)
        try:
            return await original(self, article)
        finally:
            in_process -= 1

    monkeypatch.setattr(Extractor, "aextract_article", counted)
    with FaultServer(FaultConfig(latency=0.05)) as server:
        await collect(make_extractor(server), records(40), concurrency=4)
        assert server.stats.max_in_flight == 4
    assert peak == 4 + prepared_ahead(4)


async def test_a_backoff_sleep_holds_no_slot():
    """At concurrency 1, another article is sent while the first one waits to retry a 500."""
    fail_then_ok = [Reply(500, {"error": {"message": "boom"}}), Reply(body=tool_call_completion(VALID))]
    with ScriptedServer(fail_then_ok) as server:
        extractor = make_extractor(server, backoff_initial=0.4, backoff_max=0.4)
        articles = [{"id": "first", "text": SEED_TEXT}, {"id": "second", "text": SEED_TEXT + " Again."}]
        outcomes = await collect(extractor, articles, concurrency=1)
    assert sorted(outcome.status for outcome in outcomes) == ["done", "done"]
    second = ["Again." in seen.body["messages"][-1]["content"] for seen in server.seen]
    # The retried article's second attempt comes last: the other one went out during its backoff.
    assert len(second) == 3 and second[0] == second[2] != second[1]


async def test_a_refused_key_sends_nothing_that_was_waiting_for_a_slot(tmp_path):
    refusal = Reply(401, {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}})
    with ScriptedServer([refusal]) as server:
        with JobStore(tmp_path / "job.db") as store:
            with pytest.raises(Exception, match="refused the credentials"):
                await collect(make_extractor(server), records(40), concurrency=4, store=store)
            counts = store.counts()
        sent = len(server.seen)
    assert sent <= 4  # what was in flight when the first refusal came back
    assert counts.get("done", 0) == 0 and counts.get("failed", 0) == 0 and counts["pending"] == 40


async def test_a_closed_gate_sends_nothing_more():
    gate = RequestGate(2)
    gate.close()
    with pytest.raises(asyncio.CancelledError):
        async with gate.slot():
            pytest.fail("a closed gate gave a slot")


def test_a_gate_needs_a_slot():
    with pytest.raises(ValueError):
        RequestGate(0)


async def test_time_spent_waiting_for_a_slot_is_not_an_articles_latency():
    """At concurrency 1 the third article waits for two 200 ms answers before it is sent: its
    latency is its own request's, not 600 ms of queueing; the job's meter holds the wait."""
    from extractor.engines.local import BatchJob
    from extractor.input.sources import as_source_items

    with FaultServer(FaultConfig(latency=0.2)) as server:
        extractor = make_extractor(server)
        elapsed_ms: list[float] = []
        extract_article = extractor.aextract_article

        async def timed(article):
            started = time.perf_counter()
            try:
                return await extract_article(article)
            finally:
                elapsed_ms.append((time.perf_counter() - started) * 1000)

        extractor.aextract_article = timed
        job = BatchJob(extractor, JobStore(), concurrency=1)
        plan = job.plan(as_source_items(records(3), max_bytes=10**6))
        outcomes = [outcome async for outcome in job.run(plan)]
    assert [outcome.status for outcome in outcomes] == ["done"] * 3
    waiting_ms = job.meter.waiting * 1000
    assert waiting_ms >= 200 + 400  # the second waited one answer, the third two
    latencies = [outcome.latency_ms for outcome in outcomes]
    assert all(latency >= 200 for latency in latencies), latencies
    # Each latency is measured inside its article's extraction, less the article's wait for a
    # slot: together they are the articles' time less the job's wait, however busy the machine.
    # Counting the wait would make them the articles' whole time, 600 ms or more above this.
    assert sum(latencies) <= sum(elapsed_ms) - waiting_ms + 1, (latencies, elapsed_ms, waiting_ms)
