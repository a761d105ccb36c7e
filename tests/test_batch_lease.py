"""One writer per job store: a second run refuses, a dead run's lease is taken over."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import time
from collections import Counter

import pytest

from extractor.jobs import lease
from extractor.jobs.lease import LeaseLost, StoreBusy
from extractor.jobs.store import JobStore
from extractor.testing.faultserver import FaultConfig, FaultServer
from tests.support.batch import batch_command, env_for, records, write_jsonl
from tests.support.paths import ROOT


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def set_lease(db, *, pid: int, host: str, heartbeat_age: float = 0.0) -> None:
    now = time.time()
    with sqlite3.connect(db) as connection:
        connection.execute(
            "INSERT OR REPLACE INTO lease (id, token, pid, host, started_at, heartbeat) VALUES (1, 'other', ?, ?, ?, ?)",
            (pid, host, now - 100, now - heartbeat_age),
        )


def test_two_runs_on_one_store_one_refuses_and_nothing_is_doubled(tmp_path):
    n = 40
    inputs = write_jsonl(tmp_path / "in.jsonl", records(n))
    out = tmp_path / "out.jsonl"
    with FaultServer(FaultConfig(latency=0.2)) as server:
        env = env_for(server)
        first = subprocess.Popen(
            batch_command(inputs, out, "-c", "4"),
            env=env,
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(0.3)
        second = subprocess.Popen(
            batch_command(inputs, out, "-c", "4"),
            env=env,
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        results = {p.pid: (p.wait(timeout=120), p.stderr.read()) for p in (first, second)}
        requests = server.stats.requests
    codes = sorted(code for code, _ in results.values())
    assert codes == [0, 3], results
    (winner,) = [pid for pid, (code, _) in results.items() if code == 0]
    (refusal,) = [err for code, err in results.values() if code == 3]
    assert f"in use by pid {winner} on {socket.gethostname()} since " in refusal
    assert len(refusal.strip().splitlines()) == 1 and "Traceback" not in refusal
    lines = out.read_text(encoding="utf-8").splitlines()
    ids = Counter(json.loads(line)["article"]["id"] for line in lines)  # every line is valid JSON
    assert sorted(ids) == [f"a{i:04d}" for i in range(n)] and set(ids.values()) == {1}
    assert requests <= n + 4


def test_export_reads_while_a_run_holds_the_store(tmp_path):
    db = tmp_path / "job.db"
    with JobStore(db) as writer:
        writer.claim()
        with JobStore(db) as reader:
            assert reader.counts() == {}
        with (
            JobStore(db) as second,
            pytest.raises(StoreBusy, match=f"pid {os.getpid()}"),
        ):
            second.claim()


def test_a_dead_holder_on_this_host_is_taken_over_and_its_running_rows_requeued(
    tmp_path,
):
    db = tmp_path / "job.db"
    with JobStore(db) as store:
        store.claim()
        with store._transaction():
            store.db.execute("INSERT INTO articles (key, seq, status, updated_at) VALUES ('a', 0, 'running', 0)")
    set_lease(db, pid=dead_pid(), host=socket.gethostname())
    with JobStore(db) as store:
        assert store.counts() == {"running": 1}  # opening to read changes nothing
        store.claim()
        assert store.counts() == {"pending": 1}


def test_a_live_holder_keeps_its_running_rows(tmp_path):
    db = tmp_path / "job.db"
    with JobStore(db) as store:
        store.claim()
        with store._transaction():
            store.db.execute("INSERT INTO articles (key, seq, status, updated_at) VALUES ('a', 0, 'running', 0)")
        with JobStore(db) as second:
            with pytest.raises(StoreBusy):
                second.claim()
            assert second.counts() == {"running": 1}


def test_a_silent_holder_elsewhere_is_taken_over_after_the_timeout(tmp_path):
    db = tmp_path / "job.db"
    JobStore(db).close()
    set_lease(db, pid=1, host="another-host", heartbeat_age=5)
    with JobStore(db) as store, pytest.raises(StoreBusy, match="pid 1 on another-host"):
        store.claim()
    set_lease(db, pid=1, host="another-host", heartbeat_age=120)
    with JobStore(db) as store:
        store.claim()


def test_a_run_that_lost_its_lease_stops_writing(tmp_path):
    db = tmp_path / "job.db"
    with JobStore(db) as store:
        store.claim()
        set_lease(db, pid=1, host="another-host")
        with pytest.raises(LeaseLost, match="taken over by pid 1 on another-host"):
            store.requeue_running()


def test_the_heartbeat_keeps_a_long_run_alive(tmp_path, monkeypatch):
    monkeypatch.setattr(lease, "HEARTBEAT_SECONDS", 0.05)
    db = tmp_path / "job.db"
    with JobStore(db) as store:
        store.claim()
        with sqlite3.connect(db) as connection:
            connection.execute("UPDATE lease SET heartbeat = 0")  # as if the last beat were long ago
        time.sleep(0.5)
        with sqlite3.connect(db) as connection:
            (beat,) = connection.execute("SELECT heartbeat FROM lease").fetchone()
        assert time.time() - beat < 5
        with JobStore(db) as second, pytest.raises(StoreBusy):
            second.claim()
