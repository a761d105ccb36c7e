"""What a batch writes: one run per output, no output over an input, and every paid call counted."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.jobs.lease import OutputLease, lease_path
from extractor.testing.faultserver import FaultConfig, FaultServer, article_text, completion
from tests.support.batch import batch_command, env_for, jsonl_ids, records, run_batch, write_jsonl
from tests.support.paths import ROOT


class HeldServer(FaultServer):
    """The fault server, holding every chat request until `release` is set."""

    def __init__(self) -> None:
        super().__init__(FaultConfig())
        self.release = threading.Event()
        self.arrived = 0

    async def _respond(self, request, reader, writer):
        if request.method == "POST" and request.path.endswith("/chat/completions"):
            self.arrived += 1
            while not self.release.is_set():
                await asyncio.sleep(0.01)
        return await super()._respond(request, reader, writer)


def wait_until(condition, *, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.01)


def test_two_runs_on_one_output_with_different_stores_one_refuses(tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", records(6))
    out = tmp_path / "out.jsonl"
    with HeldServer() as server:
        env = env_for(server, request_timeout=300)
        first = subprocess.Popen(
            batch_command(inputs, out, "--db", str(tmp_path / "one.db")), env=env, cwd=ROOT, stderr=subprocess.PIPE
        )
        # Its first request is held at the server: the first run is under way, and stays so.
        wait_until(lambda: server.arrived > 0 or first.poll() is not None, what="the first run's request")
        second = run_batch(inputs, out, env, "--db", str(tmp_path / "two.db"))
        server.release.set()
        assert first.wait(timeout=120) == 0, first.stderr.read()
    lines = second.stderr.strip().splitlines()
    assert second.returncode == 3 and len(lines) == 1
    assert f"{out}: output in use by pid {first.pid} on {socket.gethostname()} since " in lines[0]
    assert sorted(jsonl_ids(out)) == [f"a{i:04d}" for i in range(6)]  # every line whole, each article once
    assert not (tmp_path / "two.db").exists()  # refused before its store was made


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["-o", "in.jsonl"], "in.jsonl: --out is also an input; it would be overwritten"),
        (["-o", "out.jsonl", "--json-summary", "in.jsonl"], "in.jsonl: --json-summary is also an input"),
        (["-o", "out.jsonl", "--db", "in.jsonl"], "in.jsonl: --db is also an input"),
        (["-o", "out.jsonl", "--json-summary", "out.jsonl"], "out.jsonl: --json-summary and --out are the same file"),
        (["-o", "out.jsonl", "--json-summary", "out.jsonl.db"], "--db and --json-summary are the same file"),
        (["-o", "articles/summary.json"], "--out is inside the input folder articles"),
        (
            ["-o", "out.jsonl", "--json-summary", "out.jsonl.failures.jsonl", "--engine", "ray"],
            "the failures file and --json-summary are the same file",
        ),
    ],
    ids=["out", "summary", "db", "summary-is-out", "summary-is-db", "inside-input-folder", "ray-failures"],
)
def test_an_output_that_is_an_input_or_another_output_is_refused_before_any_work(
    tmp_path, monkeypatch, options, message
):
    monkeypatch.chdir(tmp_path)
    inputs = write_jsonl(tmp_path / "in.jsonl", records(2))
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "story.txt").write_text(records(1)[0]["text"], encoding="utf-8")
    before = inputs.read_bytes()
    result = CliRunner().invoke(app, ["batch", "in.jsonl", "articles", *options, "--provider", "replay"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert inputs.read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["articles", "in.jsonl"]  # nothing written


def test_export_onto_its_own_store_is_refused(tmp_path):
    db = tmp_path / "job.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE t (x)")
    before = db.read_bytes()
    result = CliRunner().invoke(app, ["export", str(db), "--out", str(db)])
    assert result.exit_code == 2 and "--out is also an input" in result.stderr
    assert db.read_bytes() == before


def test_an_output_lease_of_a_dead_run_is_taken_over_and_a_live_one_refuses(tmp_path):
    from extractor import StoreBusy

    out = tmp_path / "out.jsonl"
    dead = subprocess.Popen(["true"])
    dead.wait()
    OutputLease(out).acquire().release()  # the lease file exists, held by nobody
    with sqlite3.connect(lease_path(out)) as connection:  # as a run killed meanwhile left it
        connection.execute(
            "INSERT OR REPLACE INTO lease (id, token, pid, host, started_at, heartbeat) VALUES (1, 'gone', ?, ?, ?, ?)",
            (dead.pid, socket.gethostname(), time.time(), time.time()),
        )
    with OutputLease(out):  # the dead run's lease is taken over
        with pytest.raises(StoreBusy, match=f"output in use by pid {os.getpid()}"):
            OutputLease(out).acquire()


def test_a_run_whose_output_lease_was_taken_over_stops_writing(tmp_path):
    from extractor import LeaseLost

    out = tmp_path / "out.jsonl"
    with OutputLease(out) as lease:
        with sqlite3.connect(lease_path(out)) as connection:  # another host took it over
            connection.execute("UPDATE lease SET token = 'theirs', pid = 1, host = 'another-host'")
        with pytest.raises(LeaseLost, match="lease on the output was taken over by pid 1 on another-host"):
            lease.check()


class ReaskHeld(FaultServer):
    """Answers each article's first request with an invalid draft (paid for), holds its re-ask
    until the client goes away; once `fixed`, answers everything well. Tallies the tokens of
    every answer it sent."""

    def __init__(self) -> None:
        super().__init__(FaultConfig(hang_seconds=600))
        self.fixed = False
        self.billed = 0
        self.held = 0
        self._asked: set[str] = set()
        self._fault = "ok"

    async def _respond(self, request, reader, writer):
        if request.method == "POST" and request.path.endswith("/chat/completions"):
            body = json.loads(request.body)
            text = article_text(body)
            if self.fixed:
                self._fault = "ok"
            elif text in self._asked:
                self._fault = "hang"
                self.held += 1
            else:
                self._fault = "invalid"
                self._asked.add(text)
            if self._fault != "hang":
                self.billed += completion(body, self._fault)["usage"]["total_tokens"]
        return await super()._respond(request, reader, writer)

    def _pick_fault(self) -> str:
        return self._fault  # set just above, with no await between


def test_calls_of_a_killed_run_are_counted_in_the_next_runs_tokens_and_cost(tmp_path):
    n = 4
    inputs = write_jsonl(tmp_path / "in.jsonl", records(n))
    out, summary_path = tmp_path / "out.jsonl", tmp_path / "summary.json"
    with ReaskHeld() as server:
        env = {**env_for(server, request_timeout=300), "EXTRACTOR_MODEL": "gpt-4o-mini"}
        killed = subprocess.Popen(batch_command(inputs, out, "-c", str(n)), env=env, cwd=ROOT)
        # Every article's first answer arrived (paid) and its re-ask is held: kill the run now.
        wait_until(lambda: server.held == n or killed.poll() is not None, what="every re-ask held")
        killed.send_signal(signal.SIGKILL)
        assert killed.wait() == -signal.SIGKILL
        paid_before = server.billed
        server.fixed = True
        rerun = run_batch(inputs, out, env, "-c", str(n), "--json-summary", str(summary_path))
        billed = server.billed
    assert rerun.returncode == 0, rerun.stderr
    assert paid_before > 0 and billed > paid_before
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    # Every answer the server sent is in the job's tokens: the killed run's invalid ones too.
    assert summary["tokens"]["total_tokens"] == billed
    assert summary["tokens_this_run"]["total_tokens"] == billed - paid_before
    assert summary["model_calls"] == n
    from extractor.jobs.store import open_reader

    reader = open_reader(Path(f"{out}.db"))
    try:
        assert reader.usage().total_tokens == billed and reader.spent_totals()[0] == 2 * n
    finally:
        reader.close()
