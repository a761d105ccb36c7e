"""`batch --triage`: articles the rules find nothing in are skipped before any model call, on every engine."""

from __future__ import annotations

import asyncio
import csv
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

import extractor.rules.triage as triage_module
from extractor.cli import app
from extractor.engines import BatchJob, JobStore
from extractor.input.sources import as_source_items
from extractor.jobs.limiter import JobLimiter
from extractor.jobs.outcome import SKIP_REASON, Origin, Outcome, Status
from extractor.jobs.summary import estimated_cost
from extractor.output.results import load_results
from extractor.rules.triage import Triage, triage_key
from extractor.schemas import Usage
from extractor.testing.faultserver import FaultServer
from tests.support.batch import collect, env_for, make_extractor, records, run_batch, store_state, write_jsonl
from tests.support.triage import off_topic_records, relevant_records

ON_TOPIC = records(6)  # each reports B-52 bombers and an exercise: kept
OFF_TOPIC = off_topic_records()[:4]  # football, markets, a food festival, a typhoon forecast: skipped
OFF_IDS = {record["id"] for record in OFF_TOPIC}
ON_IDS = {record["id"] for record in ON_TOPIC}


def mixed() -> list[dict]:
    """On- and off-topic articles interleaved."""
    mixed = []
    for index, record in enumerate(ON_TOPIC):
        mixed.append(record)
        if index < len(OFF_TOPIC):
            mixed.append(OFF_TOPIC[index])
    return mixed


def test_the_mixed_job_has_both_kinds():
    assert len(OFF_TOPIC) == 4 and all(len(record["text"]) > 800 for record in OFF_TOPIC)


# -- the local engine, through the CLI ----------------------------------------------------


def test_skipped_articles_cost_no_model_call_are_summarized_and_stay_skipped_on_resume(tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", mixed())
    out, first, again, untriaged = (tmp_path / name for name in ("out.jsonl", "1.json", "2.json", "3.json"))
    with FaultServer() as server:
        env = env_for(server)
        run = run_batch(inputs, out, env, "--triage", "--json-summary", str(first))
        sent_first = server.stats.requests
        written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        resumed = run_batch(inputs, out, env, "--triage", "--json-summary", str(again))
        sent_on_resume = server.stats.requests - sent_first
        state_after_resume = store_state(Path(f"{out}.db"))
        exported = CliRunner().invoke(app, ["export", f"{out}.db", "--include-skipped"])
        without_triage = run_batch(inputs, out, env, "--json-summary", str(untriaged))
        sent_without_triage = server.stats.requests - sent_first - sent_on_resume

    assert run.returncode == resumed.returncode == without_triage.returncode == 0, run.stderr
    # One request per kept article (each is one short piece), none for the skipped ones.
    assert sent_first == len(ON_TOPIC)
    assert sorted(result["article"]["id"] for result in written) == sorted(ON_IDS)  # one line per kept article
    summary = json.loads(first.read_text(encoding="utf-8"))
    assert summary["articles"]["done"] == len(ON_TOPIC) and summary["articles"]["skipped"] == len(OFF_TOPIC)
    assert summary["articles"]["failed"] == summary["articles"]["not_run"] == 0
    assert summary["articles"]["extracted_now"] == len(ON_TOPIC)
    # The cost saved: each skipped article at the mean tokens of the articles extracted.
    extracted = [result["meta"]["usage"] for result in written]
    prompt = round(sum(usage["prompt_tokens"] for usage in extracted) * len(OFF_TOPIC) / len(ON_TOPIC))
    completion = round(sum(usage["completion_tokens"] for usage in extracted) * len(OFF_TOPIC) / len(ON_TOPIC))
    saved = Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)
    triage = summary["triage"]
    assert triage["enabled"] is True and triage["skipped"] == len(OFF_TOPIC)
    assert triage["estimated_tokens_saved"] == saved.model_dump() and saved.total_tokens > 0
    assert triage["estimated_cost_saved_usd"] == round(estimated_cost("gpt-4o-mini", saved), 6) > 0
    assert triage["estimated_from"] == "mean tokens of 6 extracted articles"

    # Resumed with triage: nothing sent, the skipped articles still skipped.
    assert sent_on_resume == 0
    assert {key: status for key, status in state_after_resume.items() if status == "skipped"} == dict.fromkeys(
        OFF_IDS, "skipped"
    )
    summary = json.loads(again.read_text(encoding="utf-8"))
    assert summary["articles"]["skipped"] == len(OFF_TOPIC) and summary["articles"]["resumed"] == len(mixed())
    assert summary["triage"]["estimated_from"] == "mean tokens of 6 extracted articles"

    # Exported among the results, in input order, as records readers of results pass over.
    assert exported.exit_code == 0, exported.output
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    order = [line["id"] if "id" in line else line["article"]["id"] for line in lines]
    assert order == [record["id"] for record in mixed()]
    skipped = [line for line in lines if line.get("status") == "skipped"]
    assert skipped == [
        {"status": "skipped", "id": record["id"], "where": f"{inputs}:{number}", "reason": SKIP_REASON}
        for number, record in enumerate(mixed(), start=1)
        if record["id"] in OFF_IDS
    ]

    # Without triage the skipped articles are extracted: the triage setting decides reuse.
    assert sent_without_triage == len(OFF_TOPIC)
    assert set(store_state(Path(f"{out}.db")).values()) == {"done"}
    summary = json.loads(untriaged.read_text(encoding="utf-8"))
    assert summary["triage"]["enabled"] is False and summary["articles"]["skipped"] == 0
    assert summary["triage"]["estimated_cost_saved_usd"] is summary["triage"]["estimated_tokens_saved"] is None


def test_without_triage_every_article_is_sent(tmp_path):
    inputs = write_jsonl(tmp_path / "in.jsonl", mixed())
    with FaultServer() as server:
        run = run_batch(inputs, tmp_path / "out.jsonl", env_for(server))
        sent = server.stats.requests
    assert run.returncode == 0 and sent == len(mixed())


def test_export_csv_includes_skipped_articles_as_a_table_of_their_own(tmp_path):
    store = tmp_path / "job.db"
    with FaultServer() as server:
        asyncio.run(collect(make_extractor(server), mixed(), store=store, triage=True))
    runner = CliRunner()
    result = runner.invoke(
        app, ["export", str(store), "-f", "csv", "-o", str(tmp_path / "tables"), "--include-skipped"]
    )
    assert result.exit_code == 0, result.output
    with (tmp_path / "tables" / "skipped.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["id"] for row in rows] == [record["id"] for record in mixed() if record["id"] in OFF_IDS]
    assert {row["reason"] for row in rows} == {SKIP_REASON}
    result = runner.invoke(app, ["export", str(store), "-f", "csv", "-o", str(tmp_path / "plain")])
    assert not (tmp_path / "plain" / "skipped.csv").exists()
    # A JSONL export with the skipped records still reads as results: the records are passed over.
    runner.invoke(app, ["export", str(store), "-o", str(tmp_path / "all.jsonl"), "--include-skipped"])
    assert {result["article"]["id"] for result in load_results(tmp_path / "all.jsonl")} == ON_IDS


# -- the unit of work, through the Python API ---------------------------------------------


async def test_a_skipped_article_is_never_charged_to_the_rate_limiter():
    with FaultServer() as server:
        limiter = JobLimiter(rpm=600_000, tpm=10**9)
        job = BatchJob(make_extractor(server), JobStore(), concurrency=4, limiter=limiter, triage=True)
        outcomes = [outcome async for outcome in job.run(job.plan(as_source_items(mixed())))]
        sent = server.stats.requests
    by_key = {outcome.key: outcome for outcome in outcomes}
    assert sent == limiter.charged_requests == len(ON_TOPIC)
    for key in OFF_IDS:
        outcome = by_key[key]
        assert outcome.status is Status.SKIPPED and outcome.skipped and not outcome.ok and outcome.result is None
        assert outcome.origin is Origin.TRIAGED and outcome.attempts == 0 and outcome.usage == Usage()
        assert outcome.reuse_key == triage_key() and outcome.error is None and outcome.message == SKIP_REASON


async def test_a_skipped_article_stays_skipped_only_while_triage_decides_the_same(tmp_path, monkeypatch):
    store = tmp_path / "job.db"
    with FaultServer() as server:
        first = await collect(make_extractor(server), mixed(), store=store, triage=True)
        sent_first = server.stats.requests
        # The rules now keep everything, but the triage key is the same: the stored decision holds.
        monkeypatch.setattr(triage_module, "triage", lambda text, published=None: Triage(keep=True, reasons=("x",)))
        same_key = await collect(make_extractor(server), mixed(), store=store, triage=True)
        sent_same_key = server.stats.requests - sent_first
        # A new triage version: the skipped articles are triaged again, now kept and extracted.
        monkeypatch.setattr(triage_module, "triage_key", lambda: "triage-another-version")
        new_key = await collect(make_extractor(server), mixed(), store=store, triage=True)
        sent_new_key = server.stats.requests - sent_first - sent_same_key
    assert {o.key for o in first if o.skipped} == OFF_IDS and sent_first == len(ON_TOPIC)
    assert sent_same_key == 0
    assert {o.key for o in same_key if o.skipped} == OFF_IDS and {o.origin for o in same_key} == {Origin.RESUMED}
    assert sent_new_key == len(OFF_TOPIC)
    assert {o.key for o in new_key if o.origin is Origin.EXTRACTED} == OFF_IDS
    assert all(o.ok for o in new_key)


def test_extractor_batch_takes_triage_as_an_option():
    from extractor import Extractor

    with FaultServer() as server:
        outcomes = Extractor(provider="openai", base_url=server.base_url, api_key="sk-test", fixtures_mode="off").batch(
            mixed(), triage=True, concurrency=2
        )
        sent = server.stats.requests
    assert sent == len(ON_TOPIC) and {o.key for o in outcomes if o.status is Status.SKIPPED} == OFF_IDS


# -- the recall measurement ---------------------------------------------------------------


async def test_no_article_with_a_gold_or_reference_item_is_skipped_and_off_topic_ones_are():
    relevant, off_topic = relevant_records(), off_topic_records()
    assert len(relevant) >= 13 and len(off_topic) >= 6
    with FaultServer() as server:
        outcomes = await collect(make_extractor(server), relevant + off_topic, concurrency=4, triage=True)
        sent = server.stats.requests
    by_key = {outcome.key: outcome for outcome in outcomes}
    assert [key for key in (r["id"] for r in relevant) if by_key[key].status is not Status.DONE] == []
    assert [key for key in (r["id"] for r in off_topic) if by_key[key].status is not Status.SKIPPED] == []
    # Every request the server saw was for a relevant article.
    assert sent == sum(by_key[record["id"]].attempts for record in relevant)


# -- the store ----------------------------------------------------------------------------

OLD_SCHEMA = """
CREATE TABLE articles (
    key TEXT PRIMARY KEY, seq INTEGER NOT NULL, source TEXT, sha256 TEXT, fingerprint TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0, error_class TEXT, error_cause TEXT, error_message TEXT,
    prompt_tokens INTEGER NOT NULL DEFAULT 0, completion_tokens INTEGER NOT NULL DEFAULT 0,
    total_tokens INTEGER NOT NULL DEFAULT 0, latency_ms REAL, reused_from TEXT, result TEXT, updated_at REAL NOT NULL
);
CREATE INDEX articles_by_content ON articles (sha256, fingerprint, status);
INSERT INTO articles VALUES ('a', 0, 'in.jsonl:1', 'x', 'f', 'done', 1, NULL, NULL, NULL, 10, 5, 15, 3.0, NULL,
    '{"result": 1}', 1.0);
INSERT INTO articles VALUES ('b', 1, 'in.jsonl:2', 'y', 'f', 'failed', 2, 'ExtractionFailed', 'http_503', 'boom',
    20, 0, 20, 4.0, NULL, NULL, 2.0);
INSERT INTO articles VALUES ('c', 2, 'in.jsonl:3', 'z', 'f', 'pending', 0, NULL, NULL, NULL, 0, 0, 0, NULL, NULL,
    NULL, 3.0);
"""


def test_a_store_from_before_triage_is_migrated_in_place_with_every_row(tmp_path):
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as connection:
        connection.executescript(OLD_SCHEMA)
        before = connection.execute("SELECT * FROM articles ORDER BY key").fetchall()
    with JobStore(db) as store:
        store.record(Outcome(key="c", status=Status.SKIPPED, reuse_key="triage-k", message=SKIP_REASON))
        assert store.outcome("c") == Outcome(
            key="c", status=Status.SKIPPED, where="in.jsonl:3", origin=Origin.RESUMED, sha256="z",
            reuse_key="triage-k", message=SKIP_REASON,
        )  # fmt: skip
        assert store.usage().total_tokens == 35  # what the old rows spent is still counted
    with sqlite3.connect(db) as connection:
        after = connection.execute(
            "SELECT key, seq, source, sha256, fingerprint, status, attempts, error_class, error_cause, error_message, "
            "prompt_tokens, completion_tokens, total_tokens, latency_ms, reused_from, result, updated_at "
            "FROM articles ORDER BY key"
        ).fetchall()
        indexes = {row[1] for row in connection.execute("PRAGMA index_list(articles)")}
        with pytest.raises(sqlite3.IntegrityError):  # the CHECK is still there, with one status more
            connection.execute("UPDATE articles SET status = 'lost' WHERE key = 'a'")
    assert after[:2] == before[:2]
    assert after[2][:4] == before[2][:4] and after[2][4:6] == ("triage-k", "skipped")
    assert "articles_by_content" in indexes


# -- the Batch API --------------------------------------------------------------------------


async def test_the_batch_api_never_puts_a_skipped_article_in_a_request_file(tmp_path):
    from extractor.engines.batch_api import BatchApiOptions, BatchApiRun

    with FaultServer() as server:
        with JobStore(tmp_path / "job.db") as store:
            run = BatchApiRun(
                BatchJob(make_extractor(server), store, triage=True),
                BatchApiOptions(poll_initial=0.02, poll_max=0.1),
                on_status=None,
            )
            try:
                outcomes = [outcome async for outcome in run.run(run.plan(as_source_items(mixed())))]
                report = run.report()
            finally:
                run.close()
        uploaded = b"".join(server.batches.contents.values()).decode()
        live = server.stats.requests
    asked = {json.loads(line)["custom_id"] for line in uploaded.splitlines()}
    assert asked == ON_IDS and report["requests"] == len(ON_TOPIC) and live == 0
    assert {o.key for o in outcomes if o.status is Status.SKIPPED} == OFF_IDS
    assert {o.origin for o in outcomes if o.key in ON_IDS} == {Origin.BATCH_API}


# -- Ray ------------------------------------------------------------------------------------


@pytest.mark.ray
def test_ray_skips_rows_the_rules_find_nothing_in(ray_session):
    ray = pytest.importorskip("ray")
    from extractor.ray import extract_dataset
    from extractor.settings import Settings

    with FaultServer() as server:
        settings = Settings(provider="openai", base_url=server.base_url, api_key="sk-test", fixtures_mode="off")
        rows = extract_dataset(
            ray.data.from_items(mixed()), settings=settings, workers=2, concurrency=4, triage=True
        ).take_all()
        sent = server.stats.requests
    status = {row["key"]: row["status"] for row in rows}
    assert sent == len(ON_TOPIC)
    assert status == {**dict.fromkeys(ON_IDS, "done"), **dict.fromkeys(OFF_IDS, "skipped")}
    assert {row["origin"] for row in rows if row["status"] == "skipped"} == {"triaged"}
    assert all(row["line"] is None and row["total_tokens"] == 0 for row in rows if row["status"] == "skipped")


@pytest.mark.ray
def test_ray_job_lists_skipped_articles_and_extracts_them_without_triage(ray_session, tmp_path):
    pytest.importorskip("ray")
    from extractor.engines.ray.output import skipped_path

    inputs = write_jsonl(tmp_path / "in.jsonl", mixed())
    out, triaged, plain = tmp_path / "out.jsonl", tmp_path / "triaged.json", tmp_path / "plain.json"
    ray_options = ["--engine", "ray", "--address", ray_session, "--workers", "2", "-c", "4", "--quiet"]
    runner = CliRunner()
    with FaultServer() as server:
        env = env_for(server)
        command = ["batch", str(inputs), "-o", str(out), *ray_options, "--json-summary"]
        first = runner.invoke(app, [*command, str(triaged), "--triage"], env=env)
        sent_triaged = server.stats.requests
        listed = [json.loads(line) for line in skipped_path(out).read_text(encoding="utf-8").splitlines()]
        second = runner.invoke(app, [*command, str(plain)], env=env)
        sent_plain = server.stats.requests - sent_triaged
    assert first.exit_code == second.exit_code == 0, first.output
    assert sent_triaged == len(ON_TOPIC)
    summary = json.loads(triaged.read_text(encoding="utf-8"))
    assert summary["articles"]["skipped"] == len(OFF_TOPIC) and summary["articles"]["done"] == len(ON_TOPIC)
    assert summary["triage"]["estimated_cost_saved_usd"] > 0
    assert {record["id"] for record in listed} == OFF_IDS
    assert {record["reason"] for record in listed} == {SKIP_REASON}
    # Without triage the output's results are kept and the skipped articles extracted.
    summary = json.loads(plain.read_text(encoding="utf-8"))
    assert sent_plain == len(OFF_TOPIC) and summary["articles"]["resumed"] == len(ON_TOPIC)
    assert summary["articles"]["done"] == len(mixed()) and summary["articles"]["skipped"] == 0
    assert not skipped_path(out).exists()
