"""Batch jobs through the Python API against the fault server on 127.0.0.1."""

from __future__ import annotations

import csv
import json
import logging
from collections import Counter

import pytest

from extractor import Cause
from extractor.engines import BatchAborted, JobStore, batch, iter_sources
from extractor.jobs.summary import Summary, estimated_cost, percentile
from extractor.output.export import export_csv, export_jsonl
from extractor.schemas import Usage
from extractor.testing.faultserver import FaultConfig, FaultServer
from tests.support.batch import ALL_FAULTS, RECORDS, SHORT_TIMEOUT, collect, make_extractor, records

logging.getLogger("instructor").disabled = True


async def test_every_fault_each_article_done_or_failed_once(tmp_path):
    store_path = tmp_path / "job.db"
    with FaultServer(FaultConfig(latency=0.002, **ALL_FAULTS)) as server:
        extractor = make_extractor(server, request_timeout=SHORT_TIMEOUT)  # the hangs time out at once
        outcomes = await collect(extractor, records(300), concurrency=16, store=store_path)
        assert server.stats.max_in_flight <= 16
        assert sum(server.stats.outcomes[f] for f in ("429", "500", "hang", "drop", "malformed", "invalid")) > 0
    keys = Counter(outcome.key for outcome in outcomes)
    assert len(keys) == 300 and set(keys.values()) == {1}
    with JobStore(store_path) as store:
        rows = list(store.rows())
    assert len(rows) == 300
    assert {row.status for row in rows} <= {"done", "failed"}
    failed = [row for row in rows if row.status == "failed"]
    assert all(row.error_cause and row.error_message and row.error_class for row in failed)
    assert all(row.result is None for row in failed)
    done = [row for row in rows if row.status == "done"]
    assert done and all(json.loads(row.result)["article"]["id"] == row.key for row in done)


async def test_finished_job_makes_no_model_calls(tmp_path):
    store_path = tmp_path / "job.db"
    with FaultServer() as server:
        first = await collect(make_extractor(server), records(20), store=store_path)
        calls = server.stats.requests
        second = await collect(make_extractor(server), records(20), store=store_path)
        assert server.stats.requests == calls == 20
    assert all(outcome.status == "done" and not outcome.resumed for outcome in first)
    assert all(outcome.resumed for outcome in second)
    assert sorted(o.line for o in first) == sorted(o.line for o in second)


async def test_identical_texts_are_extracted_once():
    text = RECORDS[0]["text"]
    articles = [{"id": f"same-{i}", "text": text} for i in range(5)] + [{"id": "other", "text": RECORDS[1]["text"]}]
    with FaultServer(FaultConfig(latency=0.05)) as server:
        outcomes = await collect(make_extractor(server), articles, concurrency=8)
        assert server.stats.requests == 2
    by_key = {outcome.key: outcome for outcome in outcomes}
    assert len(by_key) == 6 and all(o.status == "done" for o in outcomes)
    assert sum(o.reused for o in outcomes) == 4
    assert all(by_key[f"same-{i}"].result.article.id == f"same-{i}" for i in range(5))


async def test_changed_settings_redo_the_article(tmp_path):
    store_path = tmp_path / "job.db"
    with FaultServer() as server:
        await collect(make_extractor(server), records(3), store=store_path)
        await collect(make_extractor(server, model="another-model"), records(3), store=store_path)
        assert server.stats.requests == 6


def test_bad_inputs_are_recorded_with_their_line(tmp_path):
    good = records(3)
    jsonl = tmp_path / "in.jsonl"
    lines = [
        json.dumps(good[0]),
        json.dumps(good[1]),
        "{not json",
        "",
        json.dumps({"id": "no-text"}),
        json.dumps(good[2]),
    ]
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    folder = tmp_path / "dir"
    folder.mkdir()
    (folder / "fine.txt").write_text("A plain article about a drill.", encoding="utf-8")
    (folder / "latin1.txt").write_bytes("caf\xe9 article".encode("latin-1"))
    inputs = [jsonl, folder, tmp_path / "missing.txt"]
    with FaultServer() as server, JobStore() as store:
        outcomes = batch(make_extractor(server), iter_sources(inputs), store=store)
        assert server.stats.requests == 4
    failed = {o.where: o for o in outcomes if o.status == "failed"}
    assert set(failed) == {f"{jsonl}:3", f"{jsonl}:5", str(folder / "latin1.txt"), str(tmp_path / "missing.txt")}
    assert all(o.cause == "input" and o.message for o in failed.values())
    assert f"{jsonl}:3" in failed[f"{jsonl}:3"].message
    assert sorted(o.key for o in outcomes if o.status == "done") == ["a0000", "a0001", "a0002", "fine"]


def test_fail_fast_stops_and_leaves_nothing_running(tmp_path):
    with FaultServer(FaultConfig(rate_500=1.0)) as server, JobStore(tmp_path / "job.db") as store:
        with pytest.raises(BatchAborted):
            batch(make_extractor(server, transport_retries=0), records(30), store=store, concurrency=4, fail_fast=True)
        counts = store.counts()
    assert "running" not in counts
    assert counts["failed"] >= 1 and counts["failed"] + counts.get("pending", 0) == 30


async def test_retry_failed_tries_again(tmp_path):
    store_path = tmp_path / "job.db"
    with FaultServer(FaultConfig(rate_500=1.0)) as server:
        first = await collect(make_extractor(server, transport_retries=0), records(2), store=store_path)
    assert {(o.cause, o.http_status) for o in first} == {(Cause.SERVER_ERROR, 500)}
    with FaultServer() as server:
        kept = await collect(make_extractor(server), records(2), store=store_path)
        assert server.stats.requests == 0 and all(o.status == "failed" and o.resumed for o in kept)
        redone = await collect(make_extractor(server), records(2), store=store_path, retry_failed=True)
        assert server.stats.requests == 2 and all(o.status == "done" for o in redone)


def test_export_jsonl_and_csv(tmp_path):
    with FaultServer() as server, JobStore(tmp_path / "job.db") as store:
        batch(make_extractor(server), records(4), store=store)
        assert export_jsonl(store, tmp_path / "all.jsonl") == 4
        counts = export_csv(store, tmp_path / "csv")
    lines = (tmp_path / "all.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["article"]["id"] for line in lines] == ["a0000", "a0001", "a0002", "a0003"]
    assert counts == {"exercises": 4, "aircraft": 4, "statements": 4}
    header, *rows = (tmp_path / "csv" / "aircraft.csv").read_text(encoding="utf-8").splitlines()
    assert header.startswith("article_id,item,designation")
    assert rows[0].startswith("a0000,1,B-52H")


def test_csv_statements_carry_date_text_after_date(tmp_path, monkeypatch):
    from extractor.testing import faultserver

    plain = faultserver.valid_draft

    def dated(text):
        draft = plain(text)
        for statement in draft["statements"]:
            statement["date_text"] = "Friday"
        return draft

    monkeypatch.setattr(faultserver, "valid_draft", dated)
    with FaultServer() as server, JobStore(tmp_path / "job.db") as store:
        batch(make_extractor(server), records(1), store=store)
        export_csv(store, tmp_path / "csv")
    with (tmp_path / "csv" / "statements.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    header = list(rows[0])
    assert header.index("date_text") == header.index("date") + 1
    assert rows[0]["date_text"] == "Friday" and rows[0]["date"] == ""  # no publication date: not resolved


def test_summary_counts_cost_and_percentiles():
    assert percentile([], 0.5) is None
    assert percentile([1, 2, 3, 4], 0.5) == 2 and percentile(list(range(1, 101)), 0.95) == 95
    assert estimated_cost("no-such-model", Usage(prompt_tokens=10, completion_tokens=10, total_tokens=20)) is None
    assert estimated_cost("gpt-4o-mini", Usage(prompt_tokens=1_000_000, completion_tokens=0, total_tokens=1)) == 0.15
    with FaultServer(FaultConfig(rate_500=0.5, seed=3)) as server:
        outcomes = batch(make_extractor(server, transport_retries=0), records(10))
    summary = Summary(model="unknown-model")
    for outcome in outcomes:
        summary.add(outcome)
    data = summary.as_dict()
    assert data["articles"]["done"] + data["articles"]["failed"] == 10
    assert sum(data["failures_by_reason"].values()) == data["articles"]["failed"]
    assert data["estimated_cost_usd"] is None and data["tokens"]["total_tokens"] > 0


@pytest.mark.parametrize(
    "change", [{"grounding": "off"}, {"grounding": "flag"}, {"fuzzy_threshold": 80.0}], ids=["off", "flag", "threshold"]
)
async def test_changed_postprocessing_redoes_the_article(tmp_path, change):
    store_path = tmp_path / "job.db"
    with FaultServer() as server:
        await collect(make_extractor(server), records(3), store=store_path)
        again = await collect(make_extractor(server, **change), records(3), store=store_path)
        assert server.stats.requests == 6
    assert not any(outcome.resumed or outcome.reused for outcome in again)


async def test_a_changed_gazetteer_redoes_the_article(tmp_path, monkeypatch):
    from extractor.postprocess.gazetteer import load_gazetteer

    store_path = tmp_path / "job.db"
    with FaultServer() as server:
        await collect(make_extractor(server), records(2), store=store_path)
        monkeypatch.setattr(load_gazetteer(), "version", "9999.1")
        await collect(make_extractor(server), records(2), store=store_path)
        assert server.stats.requests == 4
