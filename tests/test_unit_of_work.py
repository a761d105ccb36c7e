"""The unit of work every engine runs an article through: one outcome type, causes, the store, limits."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys

import extractor
from extractor import BatchOutcome, Cause, Outcome
from extractor.engines import JobStore
from extractor.engines.local import BatchJob
from extractor.input.sources import as_source_items
from extractor.jobs.limiter import JobLimiter, RateLimit
from extractor.testing.faultserver import FaultConfig, FaultServer
from tests.support.batch import collect, make_extractor, records
from tests.support.paths import ROOT, SEEDS


def test_the_core_imports_no_engine_service_or_test_code():
    # An extraction end to end (replayed), then: which of our modules did it load?
    script = (
        "import sys\n"
        "from extractor.pipeline import Extractor\n"
        f"text = open({str(SEEDS / '000_dc08afd2001463f6.txt')!r}, encoding='utf-8').read()\n"
        f"Extractor(provider='replay', fixtures_dir={str(ROOT / 'fixtures')!r}).extract(text)\n"
        "apart = ('extractor.engines', 'extractor.service', 'extractor.testing', 'extractor.replay.tools')\n"
        "print(sorted(name for name in sys.modules if name.startswith(apart)))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]", loaded.stdout


def test_batch_outcome_is_the_one_outcome_type():
    assert extractor.BatchOutcome is extractor.Outcome is Outcome is BatchOutcome
    failed = Outcome(key="a", status="failed", error_class="ExtractionFailed", cause="server_error", message="boom")
    assert failed.cause is Cause.SERVER_ERROR and not failed.ok and failed.result is None
    assert failed.error == "ExtractionFailed (server_error): boom"


def test_an_older_store_reads_its_http_causes_and_counts_what_it_spent(tmp_path):
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as connection:  # the store as the first versions wrote it
        connection.executescript(
            "CREATE TABLE articles (key TEXT PRIMARY KEY, seq INTEGER NOT NULL, source TEXT, sha256 TEXT, "
            "fingerprint TEXT, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, error_class TEXT, "
            "error_cause TEXT, error_message TEXT, prompt_tokens INTEGER NOT NULL DEFAULT 0, "
            "completion_tokens INTEGER NOT NULL DEFAULT 0, total_tokens INTEGER NOT NULL DEFAULT 0, "
            "latency_ms REAL, reused_from TEXT, result TEXT, updated_at REAL NOT NULL);"
            "INSERT INTO articles VALUES ('a', 0, 'in.jsonl:1', 'x', 'f', 'failed', 3, 'ExtractionFailed', "
            "'http_503', 'the model server answered HTTP 503', 30, 0, 30, 5.0, NULL, NULL, 0);"
            "INSERT INTO articles VALUES ('b', 1, 'in.jsonl:2', 'y', 'f', 'failed', 1, 'ExtractionFailed', "
            "'http_400', 'the model server answered HTTP 400', 10, 0, 10, 5.0, NULL, NULL, 0);"
        )
    with JobStore(db) as store:
        a, b = store.outcome("a"), store.outcome("b")
        assert (a.cause, a.http_status) == (Cause.SERVER_ERROR, 503)
        assert (b.cause, b.http_status) == (Cause.HTTP_ERROR, 400)
        # What the old rows spent is counted, as their last extraction's tokens.
        assert store.spent_totals()[0] == 4 and store.usage().total_tokens == 40


def test_the_local_engine_charges_the_limiter_for_every_request_the_server_saw():
    # Re-asks (invalid answers) and retries (500s) are charged beside each article's reservation.
    faults = FaultConfig(rate_invalid=0.3, rate_500=0.2, seed=11)
    with FaultServer(faults) as server:
        limiter = JobLimiter(rpm=600_000, tpm=10**9)
        job = BatchJob(make_extractor(server), JobStore(), concurrency=4, limiter=limiter)

        async def run():
            return [outcome async for outcome in job.run(job.plan(as_source_items(records(20))))]

        outcomes = asyncio.run(run())
        seen = server.stats.requests
    assert len(outcomes) == 20 and seen > 20
    assert limiter.charged_requests == seen == sum(outcome.attempts for outcome in outcomes)
    assert limiter.charged_tokens >= sum(outcome.usage.total_tokens for outcome in outcomes)


async def test_a_failed_article_records_its_cause_and_status_in_the_store(tmp_path):
    with FaultServer(FaultConfig(rate_500=1.0)) as server:
        outcomes = await collect(make_extractor(server, transport_retries=0), records(1), store=tmp_path / "job.db")
    (outcome,) = outcomes
    assert (outcome.cause, outcome.http_status, outcome.attempts) == (Cause.SERVER_ERROR, 500, 1)
    with sqlite3.connect(tmp_path / "job.db") as connection:
        stored = connection.execute("SELECT error_cause, http_status FROM articles").fetchone()
    assert stored == ("server_error", 500)


def test_amounts_above_a_window_are_taken_in_parts(monkeypatch):
    taken: list[float] = []
    limit = RateLimit(600, window=1.0)  # ten a second, at most ten at once
    real = limit.bucket.acquire

    async def spy(amount: float = 1) -> None:
        taken.append(amount)
        await real(amount)

    monkeypatch.setattr(limit.bucket, "acquire", spy)
    asyncio.run(limit.acquire(25))
    assert taken == [10, 10, 5]


async def test_below_one_request_a_window_the_first_goes_at_once():
    limit = RateLimit(0.5)  # one request every two minutes
    assert limit.bucket.has_capacity(1)
    await limit.acquire(1)
    assert not limit.bucket.has_capacity(1)
