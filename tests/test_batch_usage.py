"""What a batch spent and why it stopped: failed articles' tokens, --fail-fast counts, a 401."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time

from extractor.engines import JobStore
from extractor.engines.local import BatchJob
from extractor.input.sources import as_source_items
from extractor.jobs.limiter import JobLimiter, RateLimit
from extractor.jobs.summary import Summary
from extractor.testing.faultserver import FaultConfig, FaultServer
from extractor.testing.scripted_server import Reply, ScriptedServer
from tests.test_batch import make_extractor, records
from tests.test_batch_cli import ROOT, batch_command, env_for, store_state, write_jsonl


class TimedServer(FaultServer):
    """The fault server, noting when each chat request arrived."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        super().__init__(config)
        self.arrivals: list[float] = []

    async def _respond(self, request, reader, writer):
        if request.method == "POST":
            self.arrivals.append(time.monotonic())
        return await super()._respond(request, reader, writer)


async def run_job(job: BatchJob, plan) -> list:
    return [outcome async for outcome in job.run(plan)]


def run_batch(inputs, out, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess:
    """`extractor batch` in its own process; the exit code is the caller's to judge."""
    command = batch_command(inputs, out, *extra)
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def test_failed_articles_count_their_tokens_and_cost(tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", records(6))
    out, summary_path = tmp_path / "out.jsonl", tmp_path / "summary.json"
    with FaultServer(FaultConfig(rate_invalid=1.0)) as server:
        result = run_batch(inputs, out, env_for(server), "--json-summary", str(summary_path), "--model", "gpt-4o-mini")
        requests = server.stats.requests
    assert result.returncode == 4, result.stderr
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    assert summary["articles"]["failed"] == 6 and summary["failures_by_reason"] == {"invalid_output": 6}
    assert summary["model_calls"] == requests == 12  # one answer and one re-ask each
    assert summary["tokens_this_run"]["total_tokens"] > 0
    assert summary["estimated_cost_usd"] > 0
    with JobStore(f"{out}.db") as store:
        assert all(row.total_tokens > 0 for row in store.rows())


def test_fail_fast_counts_add_up(tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", records(30))
    out, summary_path = tmp_path / "out.jsonl", tmp_path / "summary.json"
    with FaultServer(FaultConfig(latency=0.02, rate_500=0.3, seed=5)) as server:
        env = {**env_for(server), "EXTRACTOR_TRANSPORT_RETRIES": "0"}
        result = run_batch(inputs, out, env, "-c", "4", "--fail-fast", "--json-summary", str(summary_path))
        requests = server.stats.requests
    assert result.returncode == 4, result.stderr
    articles = json.loads(summary_path.read_text(encoding="utf-8"))["articles"]
    assert articles["total"] == 30 and articles["failed"] >= 1 and articles["not_run"] > 0
    assert articles["done"] + articles["failed"] + articles["not_run"] == 30
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    # Every request the server saw is counted; calls cut off in flight (at most -c) may not have arrived.
    assert requests <= summary["model_calls"] <= requests + 4
    states = store_state(f"{out}.db")
    # The summary and the JSONL agree with the store: nothing finished goes unreported.
    assert sum(state == "done" for state in states.values()) == articles["done"]
    assert sum(state == "failed" for state in states.values()) == articles["failed"]
    assert len(out.read_text(encoding="utf-8").splitlines()) == articles["done"]


def test_a_refused_key_stops_the_job(tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", records(20))
    out = tmp_path / "out.jsonl"
    refusal = Reply(401, {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}})
    with ScriptedServer([refusal]) as server:
        env = {**env_for(server), "OPENAI_API_KEY": "sk-wrong-key-1234"}
        result = run_batch(inputs, out, env, "-c", "2")
        requests = len(server.seen)
    assert result.returncode == 3, result.stderr
    assert requests <= 2  # only what was already in flight
    line = result.stderr.strip().splitlines()[-1]
    assert "refused the credentials (HTTP 401)" in line and "stopped sending" in line
    assert "sk-wrong-key-1234" not in result.stderr
    assert set(store_state(f"{out}.db").values()) == {"pending"}


def test_rpm_holds_the_request_rate():
    # A one-second window: a burst of rpm/60 requests, then rpm/60 a second.
    rpm, n = 300, 20
    with TimedServer() as server:
        extractor = make_extractor(server)
        job = BatchJob(extractor, JobStore(), concurrency=4, limiter=JobLimiter(rpm, window=1.0))
        plan = job.plan(as_source_items(records(n)))

        outcomes = asyncio.run(run_job(job, plan))
        arrivals = sorted(server.arrivals)
    assert [o.status for o in outcomes] == ["done"] * n and len(arrivals) == n
    burst = rpm / 60
    assert arrivals[-1] - arrivals[0] >= (n - burst) / (rpm / 60) * 0.9


def test_tpm_holds_the_token_rate():
    articles = records(6)
    per_article = JobLimiter.estimate_tokens(articles[0]["text"])
    tpm = per_article * 60 * 2  # two articles' estimate a second
    with TimedServer() as server:
        extractor = make_extractor(server)
        job = BatchJob(
            extractor,
            JobStore(),
            concurrency=4,
            limiter=JobLimiter(tpm=tpm, window=1.0),
        )
        plan = job.plan(as_source_items(articles))
        asyncio.run(run_job(job, plan))
        arrivals = sorted(server.arrivals)
    # The first second's allowance pays for about two articles; the other four take ≥ 1.5 s more.
    assert arrivals[-1] - arrivals[0] >= 1.5


def test_summary_of_a_stopped_run_adds_up():
    summary = Summary(model="gpt-4o-mini", planned=10)
    assert summary.as_dict()["articles"] == {
        "total": 10,
        "done": 0,
        "failed": 0,
        "not_run": 10,
        "extracted_now": 0,
        "reused_identical_text": 0,
        "resumed": 0,
    }


def test_rate_limits_below_one_a_window_and_amounts_above_it():
    async def timed(limit: RateLimit, *amounts: float) -> float:
        started = time.monotonic()
        for amount in amounts:
            await limit.acquire(amount)
        return time.monotonic() - started

    assert asyncio.run(timed(RateLimit(0.5), 1)) < 1  # one request every two minutes: the first goes now
    # Ten a second: 25 at once is taken in parts, the last 15 over at least 1.5 s.
    assert asyncio.run(timed(RateLimit(600, window=1.0), 25)) >= 1.4
