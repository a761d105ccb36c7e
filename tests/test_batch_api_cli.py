"""`extractor batch --via batch-api` as users run it: SIGKILL at each step, resume, cancel."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from extractor.testing.faultserver import FaultConfig, FaultServer
from tests.support.batch import SHORT_TIMEOUT, batch_command, env_for, jsonl_ids, records, store_state, write_jsonl
from tests.support.paths import ROOT

N = 40


def via_batch_api(inputs: Path, out: Path, *extra: str) -> list[str]:
    return batch_command(inputs, out, "--via", "batch-api", "--poll-interval", "0.05", *extra)


def run_batch_api(env: dict[str, str], inputs: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """One `extractor batch --via batch-api` run to its end, stdout and stderr captured."""
    return subprocess.run(
        via_batch_api(inputs, out, *extra), env=env, cwd=ROOT, timeout=120, capture_output=True, text=True, check=False
    )


def kill_when(server: FaultServer, command: list[str], env: dict[str, str], call: str, count: int = 1) -> None:
    """Start the job and SIGKILL it once the server has seen `count` calls of kind `call`."""
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while server.stats.batch_calls[call] < count and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert process.poll() is None, "the job ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()


@pytest.mark.parametrize(
    ("moment", "slow", "call", "count"),
    [
        # The file is stored, then its reply is held back: the job dies not knowing the file id.
        ("after upload", {"upload_delay": 30.0}, "upload", 1),
        # The batch exists, then its reply is held back: the job dies not knowing the batch id.
        ("after create", {"create_delay": 30.0}, "create", 1),
        ("while polling", {"batch_seconds": 60.0}, "poll", 3),
    ],
)
def test_sigkill_then_resume_never_uploads_or_creates_twice(tmp_path, moment, slow, call, count):
    inputs = write_jsonl(tmp_path / "in.jsonl", records(N))
    out = tmp_path / "out.jsonl"
    with FaultServer(FaultConfig(**{"batch_seconds": 0.3, **slow})) as server:
        env = env_for(server)
        kill_when(server, via_batch_api(inputs, out), env, call, count)
        behaviour = server.batches.behaviour
        behaviour.upload_delay = behaviour.create_delay = 0.0
        behaviour.seconds = 0.3
        result = run_batch_api(env, inputs, out)
        calls = dict(server.stats.batch_calls)
        live_requests = server.stats.requests
    assert result.returncode == 0, result.stderr
    assert calls["upload"] == 1 and calls["create"] == 1, (moment, calls)
    assert live_requests == 0
    ids = jsonl_ids(out)
    assert len(ids) == len(set(ids)) == N
    assert set(store_state(Path(f"{out}.db")).values()) == {"done"}


def test_sigkill_while_processing_answers_resumes_without_paying_again(tmp_path):
    n = 150  # enough answers to process that the kill lands while they are
    inputs = write_jsonl(tmp_path / "in.jsonl", records(n))
    out = tmp_path / "out.jsonl"
    with FaultServer(FaultConfig(batch_seconds=0.2)) as server:
        env = env_for(server)
        kill_when(server, via_batch_api(inputs, out), env, "download")
        subprocess.run(via_batch_api(inputs, out), env=env, cwd=ROOT, timeout=120, check=True)
        calls = dict(server.stats.batch_calls)
        assert server.stats.requests == 0
    assert calls["upload"] == calls["create"] == 1
    assert calls["download"] in (1, 2)  # killed after downloading, or before storing the lines
    assert sorted(jsonl_ids(out)) == sorted(row["id"] for row in records(n))


def cost_keys(data, path: str = "") -> list[str]:
    """Every key anywhere in `data` that holds a cost."""
    if not isinstance(data, dict):
        return []
    found = [f"{path}{key}" for key in data if "cost" in key]
    return found + [found_key for key, value in data.items() for found_key in cost_keys(value, f"{path}{key}.")]


def test_an_expired_jobs_summary_prices_each_token_where_it_ran_once(tmp_path):
    from extractor.jobs.summary import price_table

    inputs = write_jsonl(tmp_path / "in.jsonl", records(30))
    out = tmp_path / "out.jsonl"
    config = FaultConfig(batch_seconds=0.2, batch_outcome="expired", batch_expire_fraction=0.5, batch_rate_invalid=0.3)
    summaries = []
    with FaultServer(config) as server:
        env = {**env_for(server), "EXTRACTOR_MODEL": "gpt-4o-mini"}
        for run in ("first", "again"):  # the second run finds every article done
            path = tmp_path / f"{run}.json"
            result = run_batch_api(env, inputs, out, "--json-summary", str(path))
            assert result.returncode == 0, result.stderr
            summaries.append(json.loads(path.read_text(encoding="utf-8")))
    first, again = summaries
    batch_api = first["batch_api"]
    assert batch_api["live_fallback"]["left_over"] == 15
    assert batch_api["live_fallback"]["invalid_answer_reasked"] > 0
    assert batch_api["answered_from_batch"] == 15
    # One cost for the job, none beside it in the Batch API part: batch tokens at batch prices,
    # the rest (the live fallback) at live prices. (Triage's saving is no cost, and there is none without triage.)
    assert cost_keys(first) == ["estimated_cost_usd", "triage.estimated_cost_saved_usd"]
    assert first["triage"]["estimated_cost_saved_usd"] is None
    batch, tokens = first["batch_tokens"], first["tokens"]
    assert batch == batch_api["batch_tokens"] and 0 < batch["total_tokens"] < tokens["total_tokens"]
    prices = price_table()["gpt-4o-mini"]
    expected = (
        batch["prompt_tokens"] * prices["batch_input"]
        + batch["completion_tokens"] * prices["batch_output"]
        + (tokens["prompt_tokens"] - batch["prompt_tokens"]) * prices["input"]
        + (tokens["completion_tokens"] - batch["completion_tokens"]) * prices["output"]
    ) / 1e6
    assert first["estimated_cost_usd"] == round(expected, 6)
    # A resumed run sends nothing: the job's cost is the same, priced the same way.
    assert again["articles"]["resumed"] == 30 and again["model_calls"] == 0
    assert again["estimated_cost_usd"] == first["estimated_cost_usd"]


@pytest.mark.parametrize("fault", [{"create_delay": 0.6}, {"upload_delay": 0.6}, {"create_status": 500}])
def test_a_create_left_in_doubt_makes_one_batch_from_the_command_line(tmp_path, fault):
    """A 0.5 s request timeout: a reply held back 0.6 s after acting times out."""
    inputs = write_jsonl(tmp_path / "in.jsonl", records(10))
    out = tmp_path / "out.jsonl"
    with FaultServer(FaultConfig(batch_seconds=0.2, **fault)) as server:
        result = run_batch_api(env_for(server, request_timeout=SHORT_TIMEOUT), inputs, out)
        batches = dict(server.batches.batches)
        uploads = [f for f in server.batches.files.values() if f["purpose"] == "batch"]
    assert result.returncode == 0, result.stderr
    assert len(uploads) == 1 and list(batches) == ["batch_000001"]
    assert set(store_state(Path(f"{out}.db")).values()) == {"done"}


def test_a_torn_output_line_fails_one_article_clearly_and_a_rerun_completes(tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", records(5))
    out = tmp_path / "out.jsonl"
    with FaultServer(FaultConfig(batch_seconds=0.2, batch_junk="torn")) as server:
        env = env_for(server)
        first = run_batch_api(env, inputs, out, "--no-live-fallback")
        assert server.stats.requests == 0
        failed = [key for key, status in store_state(Path(f"{out}.db")).items() if status == "failed"]
        with sqlite3.connect(f"{out}.db") as db:
            causes = [cause for (cause,) in db.execute("SELECT error_cause FROM articles WHERE status = 'failed'")]
        second = run_batch_api(env, inputs, out, "--retry-failed")
        calls = dict(server.stats.batch_calls)
        live_requests = server.stats.requests
    assert first.returncode == 4 and "Traceback" not in first.stderr
    assert "line 1 (custom_id 'a0000'): the line is not JSON (torn or cut off); not used" in first.stderr
    assert failed == ["a0000"] and causes == ["batch_unreadable_answer"]
    assert second.returncode == 0, second.stderr
    assert calls["upload"] == calls["create"] == 1 and live_requests == 1
    assert set(store_state(Path(f"{out}.db")).values()) == {"done"} and sorted(set(jsonl_ids(out))) == [
        row["id"] for row in records(5)
    ]


def test_cancel_then_next_run_finishes_live(tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", records(10))
    out = tmp_path / "out.jsonl"
    # An hour-long batch: nothing is answered by the time of the cancel, however slow the machine.
    with FaultServer(FaultConfig(batch_seconds=3600.0)) as server:
        env = env_for(server)
        kill_when(server, via_batch_api(inputs, out), env, "poll")
        cancelled = run_batch_api(env, inputs, out, "--cancel")
        assert cancelled.returncode == 0, cancelled.stderr
        assert "batch_000001: cancelling" in cancelled.stderr
        subprocess.run(via_batch_api(inputs, out), env=env, cwd=ROOT, timeout=120, check=True)
        calls = Counter(server.stats.batch_calls)
        assert server.stats.requests == 10  # the cancelled batch answered nothing: all live
    assert calls["cancel"] == 1 and calls["create"] == 1
    assert len(jsonl_ids(out)) == 10


@pytest.mark.parametrize("flag", ["--cancel", "--no-live-fallback"])
def test_batch_api_options_need_via_batch_api(tmp_path, flag):
    inputs = write_jsonl(tmp_path / "in.jsonl", records(1))
    result = subprocess.run(
        batch_command(inputs, tmp_path / "out.jsonl", flag),
        cwd=ROOT,
        timeout=60,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"extractor: error: {flag}: only with --via batch-api"


def test_unknown_via_is_a_usage_error(tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", records(1))
    result = subprocess.run(
        batch_command(inputs, tmp_path / "out.jsonl", "--via", "carrier-pigeon"),
        cwd=ROOT,
        check=False,
        timeout=60,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    words = " ".join(result.stderr.replace("│", " ").split())  # the usage box wraps lines
    assert "'carrier-pigeon' is not one of 'live', 'batch-api'" in words and "Traceback" not in result.stderr


def test_no_resume_starts_a_new_batch(tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", records(5))
    out = tmp_path / "out.jsonl"
    with FaultServer(FaultConfig(batch_seconds=0.1)) as server:
        env = env_for(server)
        subprocess.run(via_batch_api(inputs, out), env=env, cwd=ROOT, timeout=120, check=True)
        subprocess.run(via_batch_api(inputs, out), env=env, cwd=ROOT, timeout=120, check=True)
        assert server.stats.batch_calls["create"] == 1  # resumed: nothing sent again
        subprocess.run(via_batch_api(inputs, out, "--no-resume"), env=env, cwd=ROOT, timeout=120, check=True)
        assert server.stats.batch_calls["create"] == 2
    assert len(jsonl_ids(out)) == 5


def test_batch_api_refuses_the_local_model(tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", records(1))
    result = subprocess.run(
        [*batch_command(inputs, tmp_path / "out.jsonl", "--via", "batch-api"), "--provider", "local"],
        cwd=ROOT,
        timeout=60,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 3
    # the demonstration-model notice, then the one error line
    assert result.stderr.strip().splitlines()[-1] == (
        "extractor: error: --via batch-api needs an OpenAI-compatible server, not the local model"
    )


def test_a_batch_the_server_does_not_know_is_one_clear_error(tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", records(3))
    out = tmp_path / "out.jsonl"
    with FaultServer(FaultConfig(batch_seconds=3600.0)) as server:
        kill_when(server, via_batch_api(inputs, out), env_for(server), "poll")
    with FaultServer(FaultConfig()) as forgetful:  # a new server: it never saw that batch
        result = run_batch_api(env_for(forgetful), inputs, out)
        assert forgetful.stats.batch_calls["create"] == 0
    assert result.returncode == 4
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("extractor: error: batch-api poll: the server answered HTTP 404")
