"""`extractor batch` and `extractor export` as users run them, SIGKILL and resume included."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from extractor.cli import app
from extractor.model_call.gate import prepared_ahead
from extractor.testing.faultserver import FaultConfig, FaultServer
from tests.support.batch import (
    ALL_FAULTS,
    SHORT_TIMEOUT,
    batch_command,
    count_lines,
    env_for,
    jsonl_ids,
    records,
    store_state,
    write_jsonl,
)
from tests.support.paths import ROOT


def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path):
    n = 120
    inputs = write_jsonl(tmp_path / "in.jsonl", records(n))
    with FaultServer(FaultConfig(latency=0.02)) as server:
        env = env_for(server)
        clean = tmp_path / "clean.jsonl"
        subprocess.run(batch_command(inputs, clean, "-c", "4"), env=env, cwd=ROOT, check=True, timeout=120)
        clean_requests = server.stats.requests

        killed = tmp_path / "killed.jsonl"
        process = subprocess.Popen(batch_command(inputs, killed, "-c", "4"), env=env, cwd=ROOT)
        deadline = time.monotonic() + 60
        while count_lines(killed) < n // 4 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        assert process.wait() == -signal.SIGKILL  # killed mid-run, not finished before the signal
        at_kill = store_state(Path(f"{killed}.db"))
        before_resume = server.stats.requests
        subprocess.run(batch_command(inputs, killed, "-c", "4"), env=env, cwd=ROOT, check=True, timeout=120)
        resume_requests = server.stats.requests - before_resume
        killed_run_requests = before_resume - clean_requests

    assert clean_requests == n
    done_at_kill = sum(status == "done" for status in at_kill.values())
    assert 0 < done_at_kill < n
    # Exactly once: the resume sends only what was not done. The killed run left unfinished at
    # most its 4 requests in flight plus the articles prepared ahead, whose answers may have
    # arrived (freeing their slots) without being stored yet.
    assert resume_requests == n - done_at_kill
    assert done_at_kill <= killed_run_requests <= done_at_kill + 4 + prepared_ahead(4)
    assert store_state(Path(f"{killed}.db")) == store_state(Path(f"{clean}.db"))
    assert set(store_state(Path(f"{killed}.db")).values()) == {"done"}
    killed_ids, clean_ids = jsonl_ids(killed), jsonl_ids(clean)
    assert len(killed_ids) == len(set(killed_ids)) == n
    assert sorted(killed_ids) == sorted(clean_ids)


def test_cli_batch_with_every_fault_then_export(tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", records(60))
    with open(inputs, "a", encoding="utf-8") as extra:
        extra.write("{broken json\n")
    out, summary_path = tmp_path / "out.jsonl", tmp_path / "summary.json"
    with FaultServer(FaultConfig(latency=0.002, **ALL_FAULTS)) as server:
        env = env_for(server, request_timeout=SHORT_TIMEOUT)  # the hangs time out at once
        result = subprocess.run(
            [*batch_command(inputs, out, "-c", "8", "--json-summary", str(summary_path)), "--rpm", "100000"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert server.stats.max_in_flight <= 8
    assert result.returncode == 4, result.stderr  # some articles failed: the job still finished
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    articles = summary["articles"]
    assert articles["total"] == 61 and articles["done"] + articles["failed"] == 61
    assert summary["failures_by_reason"]["input"] == 1
    assert sum(summary["failures_by_reason"].values()) == articles["failed"]
    ids = jsonl_ids(out)
    assert len(ids) == len(set(ids)) == articles["done"]
    assert Counter(store_state(Path(f"{out}.db")).values()) == {"done": articles["done"], "failed": articles["failed"]}

    runner = CliRunner()
    exported = runner.invoke(app, ["export", f"{out}.db", "--format", "csv", "--out", str(tmp_path / "tables")])
    assert exported.exit_code == 0, exported.output
    assert {p.name for p in (tmp_path / "tables").iterdir()} == {"exercises.csv", "aircraft.csv", "statements.csv"}
    exported = runner.invoke(app, ["export", f"{out}.db", "--out", str(tmp_path / "again.jsonl")])
    assert exported.exit_code == 0
    assert sorted(jsonl_ids(tmp_path / "again.jsonl")) == sorted(ids)


def test_cli_stdin_and_no_resume(tmp_path, monkeypatch):
    rows = records(3)
    stdin = "".join(json.dumps(row) + "\n" for row in rows)
    out = tmp_path / "out.jsonl"
    with FaultServer() as server:
        for key, value in env_for(server).items():
            if key.startswith(("EXTRACTOR_", "OPENAI_")):
                monkeypatch.setenv(key, value)
        runner = CliRunner()
        first = runner.invoke(app, ["batch", "-", "--out", str(out), "--quiet"], input=stdin)
        assert first.exit_code == 0, first.output
        again = runner.invoke(app, ["batch", "-", "--out", str(out), "--quiet", "--no-resume"], input=stdin)
        assert again.exit_code == 0
        assert server.stats.requests == 6
    assert sorted(jsonl_ids(out)) == ["a0000", "a0001", "a0002"]
