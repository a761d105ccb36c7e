"""`--engine ray` and `extractor.ray.extract_dataset` against the fault server on 127.0.0.1.

Tests marked `ray` share one local Ray (`ray_session` in conftest: num_cpus=2, no
dashboard); the CLI runs join it with `--address`. The rest need no running Ray.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.support.batch import (  # noqa: E402
    ALL_FAULTS,
    FAST_SETTINGS,
    SHORT_TIMEOUT,
    count_lines,
    env_for,
    jsonl_ids,
    records,
    write_jsonl,
)

pytest.importorskip("ray")

from extractor.engines.ray.actor import ExtractionActor  # noqa: E402
from extractor.engines.ray.output import ResultWriter, read_finished  # noqa: E402
from extractor.engines.ray.sources import DATA, KIND, WHERE, items_from_batch  # noqa: E402
from extractor.input.article import make_article  # noqa: E402
from extractor.input.sources import InputFailure, SourcedArticle  # noqa: E402
from extractor.jobs.outcome import ROW_COLUMNS, Outcome  # noqa: E402
from extractor.schemas import ArticleExtraction  # noqa: E402
from extractor.settings import Settings  # noqa: E402
from extractor.testing.faultserver import FaultConfig, FaultServer, article_text  # noqa: E402
from extractor.testing.scripted_server import Reply, ScriptedServer  # noqa: E402
from tests.support.paths import ROOT  # noqa: E402

logging.getLogger("instructor").disabled = True


def settings_for(server: FaultServer, **overrides) -> Settings:
    values = dict(provider="openai", base_url=server.base_url, api_key="sk-test", fixtures_mode="off", **FAST_SETTINGS)
    values.update(overrides)
    return Settings(**values)


class CountingServer(FaultServer):
    """The fault server, also counting chat completions per article text."""

    def __init__(self, config: FaultConfig) -> None:
        super().__init__(config)
        self.per_text: Counter[str] = Counter()
        self._lock = threading.Lock()

    async def _respond(self, request, reader, writer):
        if request.method == "POST" and request.body:
            with self._lock:
                self.per_text[article_text(json.loads(request.body))] += 1
        return await super()._respond(request, reader, writer)


# -- with Ray ----------------------------------------------------------------------------


@pytest.mark.ray
def test_extract_dataset_each_of_200_faulty_articles_once_with_reasons(ray_session):
    import ray

    from extractor.ray import extract_dataset

    with FaultServer(FaultConfig(latency=0.005, **ALL_FAULTS)) as server:
        dataset = ray.data.from_items(records(200))
        settings = settings_for(server, request_timeout=SHORT_TIMEOUT)  # the hangs time out at once
        rows = extract_dataset(dataset, settings=settings, workers=2, concurrency=16).take_all()
        injected = sum(server.stats.outcomes[fault] for fault in ("429", "500", "hang", "drop", "malformed", "invalid"))
    assert injected > 0
    keys = Counter(row["key"] for row in rows)
    assert len(keys) == 200 and set(keys.values()) == {1}
    done = [row for row in rows if row["status"] == "done"]
    failed = [row for row in rows if row["status"] == "failed"]
    assert len(done) + len(failed) == 200 and done
    for row in done:  # the local engine's line: a contract ArticleExtraction of this article
        assert ArticleExtraction.model_validate_json(row["line"]).article.id == row["key"]
    for row in failed:
        assert row["cause"] and row["message"] and row["line"] is None


class SlowArticlesServer(FaultServer):
    """Answers articles marked SLOW after `slow` seconds (recording when), others at once."""

    def __init__(self, slow: float) -> None:
        super().__init__(FaultConfig())
        self.slow = slow
        self.slow_windows: list[tuple[float, float]] = []

    async def _respond(self, request, reader, writer):
        import asyncio

        if request.method != "POST" or "SLOW" not in article_text(json.loads(request.body or b"{}")):
            return await super()._respond(request, reader, writer)
        started = time.monotonic()
        await asyncio.sleep(self.slow)
        answered = await super()._respond(request, reader, writer)
        self.slow_windows.append((started, time.monotonic()))
        return answered


@pytest.mark.ray
def test_a_slow_article_holds_one_slot_not_its_whole_batch(ray_session):
    import ray

    from extractor.ray import extract_dataset

    rows = records(12)
    for index in (0, 4):  # one slow article in each of the first two batches of 4
        rows[index] = dict(rows[index], text="SLOW " + rows[index]["text"])
    with SlowArticlesServer(slow=3.0) as server:
        settings = settings_for(server)
        dataset = extract_dataset(ray.data.from_items(rows), settings=settings, workers=1, concurrency=4)
        outcomes = dataset.take_all()
        windows = server.slow_windows
    assert sorted(row["key"] for row in outcomes) == sorted(row["id"] for row in rows)
    # One actor, 4 slots, batches of 4: the two slow articles wait side by side. Were an
    # actor's batches run one after another, the second would start only once the first
    # batch, slow article included, was done.
    assert len(windows) == 2
    assert max(start for start, _ in windows) < min(end for _, end in windows)


@pytest.mark.ray
def test_killed_driver_then_rerun_extracts_no_article_twice(ray_session, tmp_path):
    n = 200
    inputs = write_jsonl(tmp_path / "in.jsonl", records(n))
    out = tmp_path / "out.jsonl"
    # 500s and no transport retries: a request is one attempt at one article, and failed
    # articles are recorded (with their reason) rather than retried within the run.
    with CountingServer(FaultConfig(latency=0.05, rate_500=0.05)) as server:
        # The patient request timeout: every failure here must be an injected 500.
        env = {**env_for(server), "EXTRACTOR_TRANSPORT_RETRIES": "0"}
        command = [
            str(Path(sys.executable).parent / "extractor"), "batch", str(inputs), "--out", str(out), "--quiet",
            "--engine", "ray", "--address", ray_session, "--workers", "2", "-c", "8",
        ]  # fmt: skip
        process = subprocess.Popen(command, env=env, cwd=ROOT)
        # A bound for a broken run only: on a loaded machine Ray's actors take long to start.
        deadline = time.monotonic() + 900
        while count_lines(out) < n // 4 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert process.poll() is None, f"the first run ended by itself, status {process.returncode}"
        process.send_signal(signal.SIGKILL)
        process.wait()
        before_kill = [json.loads(line)["article"]["id"] for line in out.read_text().splitlines() if line.endswith("}")]
        assert 0 < len(before_kill) < n, "the kill should land midway"

        summary_path = tmp_path / "summary.json"
        rerun = subprocess.run([*command, "--json-summary", str(summary_path)], env=env, cwd=ROOT, timeout=300)
        per_text = dict(server.per_text)
        injected = server.stats.outcomes["500"]
    done = jsonl_ids(out)
    failures = [json.loads(line) for line in Path(f"{out}.failures.jsonl").read_text().splitlines()]
    failed = [failure["id"] for failure in failures]
    # Every article exactly once: in the output, or in the failures file with its reason.
    assert len(set(done)) == len(done) and len(set(failed)) == len(failed) and not set(done) & set(failed)
    assert sorted(done + failed) == sorted(f"a{i:04d}" for i in range(n))
    assert injected > 0 and failed
    assert all(
        failure["cause"] == "server_error" and failure["http_status"] == 500 and failure["message"]
        for failure in failures
    )
    assert rerun.returncode == 4  # some articles failed
    # What was written before the kill is never asked again; only articles in flight when the
    # driver died, or failed in the first run, are.
    text_of = {record["id"]: record["text"] for record in records(n)}
    assert len(per_text) == n
    assert all(per_text[text_of[article_id]] == 1 for article_id in before_kill)
    summary = json.loads(summary_path.read_text())
    assert summary["articles"]["total"] == n and summary["articles"]["failed"] == len(failed)
    assert summary["articles"]["resumed"] == len(before_kill)
    assert summary["articles"]["resumed"] + summary["articles"]["extracted_now"] == n
    assert summary["failures_by_reason"] == {"server_error": len(failed)}


@pytest.mark.ray
def test_summary_matches_the_asyncio_engine_and_parquet_round_trips(ray_session, tmp_path):
    import pyarrow.parquet as pq

    from extractor import Extractor
    from extractor.engines import batch as local_batch
    from extractor.engines import iter_sources
    from extractor.engines.ray.job import RayOptions, run_ray_batch
    from extractor.jobs.summary import Summary

    inputs = [str(write_jsonl(tmp_path / "in.jsonl", records(24))), str(tmp_path / "bad.jsonl")]
    Path(inputs[1]).write_text('{"id": "x", "text": "cut off\n', encoding="utf-8")
    with FaultServer(FaultConfig(latency=0.002, rate_500=0.3, seed=3)) as server:
        # every failure must be an injected 500 (the patient request timeout is not reached)
        settings = settings_for(server, transport_retries=0)
        extractor = Extractor(settings=settings)
        local = Summary(model=extractor.model)
        for outcome in local_batch(extractor, iter_sources(inputs), concurrency=4):
            local.add(outcome)
        on_ray = Summary(model=extractor.model)
        out = tmp_path / "out"
        options = RayOptions(workers=2, concurrency=4, fmt="parquet", quiet=True)
        run_ray_batch(inputs, out, settings, extractor.reuse_key, options, on_ray)
    a, b = local.as_dict(), on_ray.as_dict()
    assert (
        set(a) == set(b) and set(a["articles"]) == set(b["articles"]) and set(a["latency_ms"]) == set(b["latency_ms"])
    )
    assert a["articles"]["total"] == b["articles"]["total"] == 25
    assert a["failures_by_reason"]["input"] == b["failures_by_reason"]["input"] == 1
    assert set(b["failures_by_reason"]) == {"input", "server_error"}  # the server's 500s, out of retries
    assert b["tokens"]["total_tokens"] > 0 and b["latency_ms"]["p95"] is not None

    table = pq.read_table(out)
    assert len(table) == b["articles"]["done"]
    assert table.column("id").to_pylist() == [
        json.loads(line)["article"]["id"] for line in table.column("result").to_pylist()
    ]
    failures = [json.loads(line) for line in (tmp_path / "out.failures.jsonl").read_text().splitlines()]
    assert len(failures) == b["articles"]["failed"]
    assert all(failure["cause"] in ("input", "server_error") and failure["message"] for failure in failures)


@pytest.mark.ray
def test_a_rerun_after_a_post_processing_change_extracts_again(ray_session, tmp_path):
    from extractor import Extractor
    from extractor.engines.ray.job import RayOptions, run_ray_batch
    from extractor.jobs.summary import Summary

    inputs = [str(write_jsonl(tmp_path / "in.jsonl", records(6)))]
    out = tmp_path / "out.jsonl"
    sent, resumed = [], []
    with FaultServer() as server:
        for grounding in ("off", "strict", "strict"):
            settings = settings_for(server, grounding=grounding)
            summary = Summary(model="m")
            options = RayOptions(workers=1, concurrency=4, quiet=True)
            run_ray_batch(inputs, out, settings, Extractor(settings=settings).reuse_key, options, summary)
            sent.append(server.stats.requests)
            resumed.append(summary.resumed)
        strict_key = Extractor(settings=settings).reuse_key
    # Grounding off, then strict: the strict run extracts again; a third run resumes it all.
    assert sent == [6, 12, 12] and resumed == [0, 0, 6]
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(results) == 6 and {result["meta"]["reuse_key"] for result in results} == {strict_key}
    assert all(ev["match"] for result in results for item in result["aircraft"] for ev in item["evidence"])


# -- without Ray -------------------------------------------------------------------------


def test_a_second_run_on_one_output_refuses_before_ray_starts(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from extractor.cli import app
    from extractor.jobs.lease import OutputLease

    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "in.jsonl", records(2))
    with OutputLease(tmp_path / "out.jsonl"):  # a live run (this process) writes out.jsonl
        result = CliRunner().invoke(
            app, ["batch", "in.jsonl", "--out", "out.jsonl", "--engine", "ray", "--provider", "replay"]
        )
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 3 and len(lines) == 1
    assert f"out.jsonl: output in use by pid {os.getpid()} on " in lines[0]
    assert not (tmp_path / "out.jsonl").exists() and not (tmp_path / "out.jsonl.failures.jsonl").exists()


def test_an_actor_charges_its_rate_limits_for_every_request_the_server_saw(monkeypatch):
    """Re-asks and retries are charged as the local engine charges them (once, awaited)."""
    from extractor.jobs.limiter import RateLimit

    charged: Counter[str] = Counter()
    acquire = RateLimit.acquire

    async def counting(self, amount: float) -> None:
        charged["requests" if self is actor.limiter.requests else "tokens"] += amount
        await acquire(self, amount)

    monkeypatch.setattr(RateLimit, "acquire", counting)
    with FaultServer(FaultConfig(rate_invalid=0.3, rate_500=0.2, seed=7)) as server:
        actor = ExtractionActor(settings_for(server), concurrency=4, rpm=600_000, tpm=10**9)
        rows = records(20)
        result = actor({"text": [row["text"] for row in rows], "id": [row["id"] for row in rows]})
        seen = server.stats.requests
    assert len(result["key"]) == 20 and seen > 20  # some articles were re-asked or retried
    assert charged["requests"] == seen == sum(result["attempts"])
    assert charged["tokens"] >= sum(result["total_tokens"])


def test_a_429_with_retry_after_slows_only_the_actor_that_saw_it():
    with FaultServer(FaultConfig(rate_429=1.0, retry_after=5)) as server:
        settings = settings_for(server, transport_retries=0)
        hit, other = ExtractionActor(settings, concurrency=2), ExtractionActor(settings, concurrency=2)
        batch = {"text": [records(1)[0]["text"]], "id": ["a0"]}
        result = hit(batch)
    assert result["status"] == ["failed"] and result["cause"] == ["rate_limited"]
    # Out of retries, the actor did not sleep the 5 s out itself: its next requests wait for it…
    assert hit.throttle.remaining() > 3
    assert other.throttle.remaining() == 0  # …another actor's do not


def test_an_actor_keeps_its_concurrency_in_flight_and_prepares_a_few_more_articles():
    from extractor.model_call.gate import prepared_ahead

    with FaultServer(FaultConfig(latency=0.05)) as server:
        actor = ExtractionActor(settings_for(server), concurrency=4)
        rows = records(24)
        result = actor({"text": [row["text"] for row in rows], "id": [row["id"] for row in rows]})
        stats = server.stats
    assert result["status"] == ["done"] * 24
    assert stats.max_in_flight == 4 and stats.requests == 24
    assert actor._slots._value == 4 + prepared_ahead(4)  # every article slot free again


def test_a_refused_key_fails_each_article_of_an_actor_and_sends_them_all():
    """A Ray actor has no job to stop: every article records the refusal, none hangs."""
    refusal = Reply(401, {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}})
    with ScriptedServer([refusal]) as server:
        actor = ExtractionActor(settings_for(server), concurrency=2)
        rows = records(6)
        result = actor({"text": [row["text"] for row in rows], "id": [row["id"] for row in rows]})
    assert result["status"] == ["failed"] * 6 and len(server.seen) == 6
    assert all("refused the credentials" in message for message in result["message"])


def test_rows_read_by_ray_become_the_local_engines_articles_and_input_failures():
    text = records(1)[0]["text"]
    batch = {
        KIND: ["line", "line", "file", "file"],
        WHERE: ["in.jsonl", "in.jsonl", "s3://bucket/dir/story-7.txt", "dir/empty.txt"],
        DATA: [json.dumps({"id": "a1", "text": text}).encode(), b'{"id": "a2", "te', text.encode(), b"  "],
    }
    items = list(items_from_batch(batch, max_bytes=1_000_000))
    assert isinstance(items[0], SourcedArticle) and items[0].key == "a1"
    assert isinstance(items[1], InputFailure) and "malformed JSON" in items[1].message
    assert isinstance(items[2], SourcedArticle) and items[2].key == "story-7"
    assert isinstance(items[3], InputFailure) and "empty file" in items[3].message
    assert items[0].article.sha256 == items[2].article.sha256 == make_article(text).sha256


def test_a_rerun_keeps_finished_results_of_these_settings_and_drops_a_torn_line(tmp_path):
    def line(article_id: str, text: str, reuse_key: str) -> str:
        article = make_article(text, article_id=article_id).header()
        meta = {
            "reuse_key": reuse_key,
            "attempts": 1,
            "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
        }
        return json.dumps({"article": article.model_dump(mode="json"), "meta": meta})

    out = tmp_path / "out.jsonl"
    kept, other, torn = line("a", "first text", "fp1"), line("b", "second text", "fp2"), line("c", "third", "fp1")[:40]
    twin = line("a-twin", "first text", "fp1")
    out.write_text(f"{kept}\n{other}\n{twin}\n{kept}\n{torn}", encoding="utf-8")
    finished = read_finished(out, fmt="jsonl", reuse_key="fp1")
    assert list(finished) == [make_article("first text").sha256]
    assert list(finished[make_article("first text").sha256].lines) == ["a", "a-twin"]
    assert finished[make_article("first text").sha256].outcome("a", where=None).usage.total_tokens == 6
    ResultWriter(out, fmt="jsonl", keep=finished).close()
    assert out.read_text(encoding="utf-8") == f"{kept}\n{twin}\n"


def test_known_text_rows_name_the_article_for_the_driver(tmp_path):
    text = records(1)[0]["text"]
    with FaultServer() as server:
        actor = ExtractionActor(settings_for(server), concurrency=2, known={make_article(text).sha256})
        result = actor({"text": [text], "id": ["twin"]})
        requests = server.stats.requests
    assert result["status"] == ["done"] and result["origin"] == ["resumed"] and requests == 0
    assert result["line"] == [None] and json.loads(result["article_header"][0])["id"] == "twin"
    assert set(result) == set(ROW_COLUMNS)


@pytest.mark.parametrize(
    ("given", "engine", "message"),
    [
        ("-", "ray", "reads files or URIs, not stdin"),
        ("missing.jsonl", "ray", "missing.jsonl: no such file or directory"),
        ("in.jsonl --workers 2", "asyncio", "--workers: only with --engine ray"),
        ("in.jsonl --format parquet", "asyncio", "--format: only with --engine ray"),
        ("in.jsonl --fail-fast --db job.db", "ray", "--db, --fail-fast: only with --engine asyncio"),
        ("in.jsonl --via batch-api", "ray", "--via: only with --engine asyncio"),
        ("in.jsonl --no-live-fallback", "asyncio", "--no-live-fallback: only with --via batch-api"),
    ],
)
def test_bad_engine_input_is_one_line_and_exit_2_before_ray_starts(tmp_path, monkeypatch, given, engine, message):
    from typer.testing import CliRunner

    from extractor.cli import app

    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.jsonl").write_text(json.dumps(records(1)[0]) + "\n", encoding="utf-8")
    arguments = ["batch", *given.split(), "--out", "out.jsonl", "--provider", "replay", "--engine", engine]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.output
    assert not (tmp_path / "out.jsonl").exists()


def test_an_unknown_engine_is_a_usage_error_naming_the_choices(tmp_path):
    from typer.testing import CliRunner

    from extractor.cli import app

    result = CliRunner().invoke(app, ["batch", "in.jsonl", "--out", str(tmp_path / "o.jsonl"), "--engine", "spark"])
    words = " ".join(result.output.replace("│", " ").split())  # the usage box wraps lines
    assert result.exit_code == 2 and "'spark' is not one of 'asyncio', 'ray'" in words
    assert "Traceback" not in result.output and not (tmp_path / "o.jsonl").exists()


def test_parquet_parts_gather_results_and_the_last_part_is_written_on_close(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from extractor.engines.ray import output as ray_output

    def done(article_id: str) -> Outcome:
        article = make_article(f"text of {article_id}", article_id=article_id).header()
        line = json.dumps({"article": article.model_dump(mode="json"), "meta": {"reuse_key": "fp"}})
        return Outcome(key=article_id, status="done", line=line)

    monkeypatch.setattr(ray_output, "PART_ROWS", 3)
    monkeypatch.setattr(ray_output, "PART_SECONDS", 3600)
    out = tmp_path / "out"
    writer = ResultWriter(out, fmt="parquet", keep={})
    for batch in (["a", "b"], ["c", "d"], ["e"]):
        writer.write([done(article_id) for article_id in batch])
    assert [len(pq.read_table(part)) for part in sorted(out.glob("part-*.parquet"))] == [4]  # a-d, at 3 or more
    writer.close()
    parts = sorted(out.glob("part-*.parquet"), key=lambda part: part.name)
    assert [pq.read_table(part).column("id").to_pylist() for part in parts] == [["a", "b", "c", "d"], ["e"]]
    assert not list(out.glob(".*.tmp"))
    assert set(read_finished(out, fmt="parquet", reuse_key="fp")) == {
        make_article(f"text of {x}").sha256 for x in "abcde"
    }
