"""What a batch spent and why it stopped: failed articles' tokens, --fail-fast counts, a 401."""

from __future__ import annotations

import json

from extractor.engines import JobStore
from extractor.testing.faultserver import FaultConfig, FaultServer
from extractor.testing.scripted_server import Reply, ScriptedServer
from tests.support.batch import env_for, records, run_batch, store_state, write_jsonl


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
