"""`extractor batch --via batch-api` as users run it: SIGKILL at each step, resume, cancel."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from extractor.jobs.summary import estimated_cost
from extractor.schemas import Usage
from extractor.testing.faultserver import FaultConfig, FaultServer
from tests.support.batch import batch_command, env_for, jsonl_ids, records, store_state, write_jsonl
from tests.support.paths import ROOT

N = 40


def via_batch_api(inputs: Path, out: Path, *extra: str) -> list[str]:
    return batch_command(inputs, out, "--via", "batch-api", "--poll-interval", "0.05", *extra)


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
        result = subprocess.run(
            via_batch_api(inputs, out), env=env, cwd=ROOT, timeout=120, capture_output=True, text=True, check=False
        )
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


def test_summary_counts_live_fallbacks_and_prices_batch_tokens(tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", records(30))
    out, summary_path = tmp_path / "out.jsonl", tmp_path / "summary.json"
    config = FaultConfig(batch_seconds=0.2, batch_outcome="expired", batch_expire_fraction=0.5, batch_rate_invalid=0.3)
    with FaultServer(config) as server:
        env = {**env_for(server), "EXTRACTOR_MODEL": "gpt-4o-mini"}
        result = subprocess.run(
            via_batch_api(inputs, out, "--json-summary", str(summary_path)),
            env=env,
            cwd=ROOT,
            timeout=120,
            capture_output=True,
            text=True,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    batch_api = summary["batch_api"]
    assert batch_api["live_fallback"]["left_over"] == 15
    assert batch_api["live_fallback"]["invalid_answer_reasked"] > 0
    assert batch_api["answered_from_batch"] == 15
    # One cost figure, each token priced where it ran: cheaper than all of them at live prices,
    # dearer than all of them at batch prices.
    tokens = Usage(**summary["tokens"])
    assert summary["batch_tokens"] == batch_api["batch_tokens"] and "estimated_cost_usd" not in batch_api
    all_batch, all_live = estimated_cost("gpt-4o-mini", tokens, batch=tokens), estimated_cost("gpt-4o-mini", tokens)
    assert all_batch < summary["estimated_cost_usd"] < all_live


def test_cancel_then_next_run_finishes_live(tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", records(10))
    out = tmp_path / "out.jsonl"
    # An hour-long batch: nothing is answered by the time of the cancel, however slow the machine.
    with FaultServer(FaultConfig(batch_seconds=3600.0)) as server:
        env = env_for(server)
        kill_when(server, via_batch_api(inputs, out), env, "poll")
        cancelled = subprocess.run(
            via_batch_api(inputs, out, "--cancel"),
            env=env,
            cwd=ROOT,
            timeout=60,
            capture_output=True,
            text=True,
            check=False,
        )
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
        result = subprocess.run(
            via_batch_api(inputs, out),
            env=env_for(forgetful),
            cwd=ROOT,
            timeout=60,
            capture_output=True,
            text=True,
            check=False,
        )
        assert forgetful.stats.batch_calls["create"] == 0
    assert result.returncode == 4
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("extractor: error: batch-api poll: the server answered HTTP 404")
