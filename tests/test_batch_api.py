"""The Batch API path through the Python API, against the fault server's Files and Batches endpoints."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import httpx2
import pytest

from extractor.engines import BatchJob, JobStore
from extractor.engines.batch_api import BatchApiOptions, BatchApiRun
from extractor.engines.batch_api import intercept as layer
from extractor.engines.batch_api.requests import split_files
from extractor.input.sources import as_source_items
from extractor.jobs.outcome import Origin
from extractor.jobs.summary import Summary
from extractor.replay.tools.check import check_fixtures
from extractor.schemas import Usage
from extractor.testing.faultserver import FaultConfig, FaultServer
from tests.support.batch import SHORT_TIMEOUT, make_extractor, records

FAST = BatchApiOptions(poll_initial=0.02, poll_max=0.1)


def batch_config(**overrides) -> FaultConfig:
    return FaultConfig(**{"batch_seconds": 0.2, **overrides})


async def run_job(extractor, store_path: Path, articles, options: BatchApiOptions = FAST, **job_options):
    """Every outcome of one batch-api run, and the run (for its report)."""
    with JobStore(store_path) as store:
        run = BatchApiRun(BatchJob(extractor, store, **job_options), options, on_status=None)
        plan = run.plan(as_source_items(articles))
        try:
            outcomes = [outcome async for outcome in run.run(plan)]
            return outcomes, run.report()
        finally:
            run.close()


def once_each(outcomes, n: int) -> None:
    keys = Counter(outcome.key for outcome in outcomes)
    assert len(keys) == n and set(keys.values()) == {1}


async def test_a_hundred_articles_complete_exactly_once_from_one_batch(tmp_path):
    with FaultServer(batch_config()) as server:
        outcomes, report = await run_job(make_extractor(server), tmp_path / "job.db", records(100))
        calls = dict(server.stats.batch_calls)
        live_requests = server.stats.requests
    once_each(outcomes, 100)
    assert {outcome.status for outcome in outcomes} == {"done"}
    assert calls["upload"] == 1 and calls["create"] == 1 and calls["download"] == 1
    assert live_requests == 0
    assert report["answered_from_batch"] == 100 and report["live_fallback"] == {}
    # Tokens come from the output file, and every result carries its answer's usage.
    assert report["batch_tokens"]["total_tokens"] == sum(outcome.usage.total_tokens for outcome in outcomes) > 0
    # Answered by the batch: said so, and not counted as live calls (they are priced as the batch's).
    assert {outcome.origin for outcome in outcomes} == {Origin.BATCH_API}
    with JobStore(tmp_path / "job.db") as store:
        assert store.spent_totals() == (0, Usage())


def record_live_requests(monkeypatch) -> list[dict]:
    """Chat bodies that pass the Batch API layer on their way to the server."""
    gone_live: list[dict] = []
    answer = layer._answer

    def recording(request):
        answered = answer(request)
        if answered is None and request.url.path.endswith("/chat/completions"):
            gone_live.append(json.loads(request.content))
        return answered

    monkeypatch.setattr(layer, "_answer", recording)
    return gone_live


async def test_request_file_holds_exactly_what_the_live_path_sends(tmp_path, monkeypatch):
    article = records(1)[0]
    live = record_live_requests(monkeypatch)
    with FaultServer(batch_config()) as server:
        extractor = make_extractor(server, model="gpt-4o-mini")
        await run_job(extractor, tmp_path / "job.db", [article])
        uploaded = next(iter(server.batches.contents.values()))
        live_path = make_extractor(server, model="gpt-4o-mini")
        live_path.add_answer_layer(layer.intercept)  # a pass-through outside a job: it sees what goes live
        await live_path.aextract(article["text"], article_id=article["id"], title=article["title"])
    line = json.loads(uploaded.decode().splitlines()[0])
    assert line["custom_id"] == article["id"]
    assert line["method"] == "POST" and line["url"] == "/v1/chat/completions"
    assert [line["body"]] == live


async def test_results_are_interchangeable_with_the_live_path(tmp_path):
    """Same fingerprint: a live run over the batch job's store finds every article done."""
    store_path = tmp_path / "job.db"
    with FaultServer(batch_config()) as server:
        extractor = make_extractor(server)
        await run_job(extractor, store_path, records(10))
        with JobStore(store_path) as store:
            job = BatchJob(extractor, store)
            plan = job.plan(as_source_items(records(10)))
            outcomes = [outcome async for outcome in job.run(plan)]
        assert server.stats.requests == 0
    assert all(outcome.resumed for outcome in outcomes) and len(outcomes) == 10


async def test_expired_batch_finishes_the_rest_live(tmp_path):
    config = batch_config(batch_outcome="expired", batch_expire_fraction=0.4)
    with FaultServer(config) as server:
        outcomes, report = await run_job(make_extractor(server), tmp_path / "job.db", records(50))
        live_requests = server.stats.requests
    once_each(outcomes, 50)
    assert {outcome.status for outcome in outcomes} == {"done"}
    assert report["batches"] == {"batch_000001": "expired"}
    assert report["answered_from_batch"] == 20
    assert report["live_fallback"] == {"left_over": 30}
    assert live_requests == 30


async def test_failed_batch_goes_live_entirely(tmp_path):
    with FaultServer(batch_config(batch_outcome="failed")) as server:
        outcomes, report = await run_job(make_extractor(server), tmp_path / "job.db", records(12))
        assert server.stats.requests == 12
    assert {outcome.status for outcome in outcomes} == {"done"}
    assert report["live_fallback"] == {"left_over": 12} and report["answered_from_batch"] == 0


async def test_invalid_answers_are_reasked_live_with_the_validation_errors(tmp_path):
    with FaultServer(batch_config(batch_rate_invalid=0.3, batch_rate_error=0.1)) as server:
        outcomes, report = await run_job(make_extractor(server), tmp_path / "job.db", records(60))
        live_requests = server.stats.requests
        invalid = errors = 0
        output_files = [
            c for name, c in server.batches.contents.items() if server.batches.files[name]["purpose"] == "batch_output"
        ]
    for content in output_files:
        for raw in content.decode().splitlines():
            line = json.loads(raw)
            response = line["response"]
            if response["status_code"] != 200:
                errors += 1
            elif "underwater" in json.dumps(response["body"]):
                invalid += 1
    once_each(outcomes, 60)
    assert {outcome.status for outcome in outcomes} == {"done"}
    assert invalid > 0 and errors > 0
    fallback = report["live_fallback"]
    assert fallback == {"invalid_answer_reasked": invalid, "request_error": errors}
    # One live re-ask per invalid answer, one live call per errored request.
    assert live_requests == invalid + errors
    reasked = sum(1 for outcome in outcomes if outcome.attempts == 2)
    assert reasked == invalid


async def test_reask_carries_the_validation_error(tmp_path, monkeypatch):
    gone_live = record_live_requests(monkeypatch)
    with FaultServer(batch_config(batch_rate_invalid=1.0)) as server:
        outcomes, _ = await run_job(make_extractor(server), tmp_path / "job.db", records(1))
    assert outcomes[0].status == "done"
    (reask,) = gone_live
    assistant = [m for m in reask["messages"] if m["role"] == "assistant"]
    assert assistant and "underwater" in json.dumps(assistant)  # the rejected batch answer, quoted back
    assert "underwater" in json.dumps(reask["messages"][-1])  # with its validation error


async def test_without_live_fallback_nothing_goes_live(tmp_path):
    options = BatchApiOptions(live_fallback=False, poll_initial=0.02, poll_max=0.1)
    config = batch_config(batch_outcome="expired", batch_expire_fraction=0.5, batch_rate_invalid=0.5)
    with FaultServer(config) as server:
        outcomes, report = await run_job(make_extractor(server), tmp_path / "job.db", records(20), options)
        assert server.stats.requests == 0
    once_each(outcomes, 20)
    causes = Counter(outcome.cause for outcome in outcomes if outcome.status == "failed")
    assert causes["batch_left_over"] == 10
    assert causes["batch_invalid_answer"] == report["live_fallback"].get("invalid_answer_reasked", 0) > 0


async def test_request_files_are_split_at_the_limits(tmp_path):
    options = BatchApiOptions(poll_initial=0.02, poll_max=0.1, max_requests=30)
    with FaultServer(batch_config()) as server:
        outcomes, report = await run_job(make_extractor(server), tmp_path / "job.db", records(100), options)
        calls = dict(server.stats.batch_calls)
        sizes = sorted(
            len(c.splitlines())
            for n, c in server.batches.contents.items()
            if server.batches.files[n]["purpose"] == "batch"
        )
    once_each(outcomes, 100)
    assert sizes == [10, 30, 30, 30]
    assert calls["upload"] == calls["create"] == 4 and report["request_files"] == 4


def test_split_by_bytes_keeps_whole_lines():
    from extractor.engines.batch_api.requests import RequestLine
    from extractor.engines.batch_api.state import PlannedRequest

    lines = [RequestLine(PlannedRequest(f"a{i}", f"a{i}", "s", "b"), f"{i}".encode() * 99 + b"\n") for i in range(10)]
    files = list(split_files(lines, max_bytes=350))
    assert [len(f.requests) for f in files] == [3, 3, 3, 1]
    assert all(len(f.content) <= 350 and f.content.endswith(b"\n") for f in files)
    assert len({f.name for f in files}) == 4


async def test_resume_after_a_lost_upload_and_create_reply_reuses_them(tmp_path):
    """A run that died inside the upload or the create call finds the file and batch at the server."""
    store_path = tmp_path / "job.db"
    with FaultServer(batch_config()) as server:
        extractor = make_extractor(server)
        with JobStore(store_path) as store:
            run = BatchApiRun(BatchJob(extractor, store), FAST, on_status=None)
            plan = run.plan(as_source_items(records(5)))
            await run.submit(plan)
            (chunk,) = run.state.chunks()
            # The upload reached the server, then the process died before writing down its id.
            run.remote.upload(chunk.name, run.state.content(chunk.id))
            run.state.set_step(chunk.id, "uploading")
            run.close()
        outcomes, _ = await run_job(extractor, store_path, records(5))
        assert dict(server.stats.batch_calls)["upload"] == 1
        assert dict(server.stats.batch_calls)["create"] == 1
        with JobStore(store_path) as store:
            run = BatchApiRun(BatchJob(extractor, store), FAST, on_status=None)
            (chunk,) = run.state.chunks()
            batch_id = chunk.batch_id
            # Same for a create whose reply was lost: the batch is found by its metadata.
            run.state.set_step(chunk.id, "creating", batch_id=None)
            run._start(run.state.chunk(chunk.id))
            assert run.state.chunk(chunk.id).batch_id == batch_id
            run.close()
        assert dict(server.stats.batch_calls)["create"] == 1
    assert {outcome.status for outcome in outcomes} == {"done"} and len(outcomes) == 5


async def test_cancel_then_resume_finishes_live(tmp_path):
    store_path = tmp_path / "job.db"
    with FaultServer(batch_config(batch_seconds=3600)) as server:
        extractor = make_extractor(server)
        with JobStore(store_path) as store:
            run = BatchApiRun(BatchJob(extractor, store), FAST, on_status=None)
            await run.submit(run.plan(as_source_items(records(8))))
            for chunk in run.state.chunks():
                run._start(chunk)
            cancelled = run.cancel()
            run.close()
        assert [view.status for view in cancelled] == ["cancelling"]
        outcomes, report = await run_job(extractor, store_path, records(8))
        calls = dict(server.stats.batch_calls)
        assert server.stats.requests == 8  # nothing was answered before the cancel
    assert calls["cancel"] == 1 and calls["create"] == 1
    assert report["batches"] == {"batch_000001": "cancelled"}
    assert {outcome.status for outcome in outcomes} == {"done"}


async def test_a_second_run_pays_nothing(tmp_path):
    store_path = tmp_path / "job.db"
    with FaultServer(batch_config(batch_rate_invalid=0.2)) as server:
        extractor = make_extractor(server)
        await run_job(extractor, store_path, records(20))
        before = (dict(server.stats.batch_calls), server.stats.requests)
        outcomes, _ = await run_job(extractor, store_path, records(20))
        after = (dict(server.stats.batch_calls), server.stats.requests)
    assert before == after
    assert all(outcome.resumed for outcome in outcomes)


async def test_identical_texts_are_submitted_once(tmp_path):
    rows = records(3)
    rows.append({**rows[0], "id": "twin"})
    with FaultServer(batch_config()) as server:
        outcomes, report = await run_job(make_extractor(server), tmp_path / "job.db", rows)
    assert report["requests"] == 3
    assert {outcome.key: outcome.reused for outcome in outcomes}["twin"] is True


def test_summary_prices_each_token_where_it_ran():
    batch = Usage(prompt_tokens=1_000_000, completion_tokens=1_000_000, total_tokens=2_000_000)
    live = Usage(prompt_tokens=1_000_000, completion_tokens=0, total_tokens=1_000_000)

    def summary(model: str) -> dict:
        summary = Summary(model=model)
        summary.count_store(live)  # the store records live calls only
        summary.count_batch(batch)
        return summary.as_dict()

    # gpt-4o-mini: live 0.15 / 0.60, batch 0.075 / 0.30 per million.
    data = summary("gpt-4o-mini")
    assert data["estimated_cost_usd"] == pytest.approx(0.075 + 0.30 + 0.15)
    assert data["tokens"] == (live + batch).model_dump() and data["batch_tokens"] == batch.model_dump()
    assert summary("no-such-model")["estimated_cost_usd"] is None
    # A model with live prices but no batch price gets no cost rather than a guess.
    assert summary("SmolLM2-135M-Instruct.Q4_1")["estimated_cost_usd"] is None


def test_fault_server_batch_shapes_parse_with_the_sdk():
    import openai

    with FaultServer(batch_config(batch_seconds=0.0)) as server:
        client = openai.OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0)
        line = {
            "custom_id": "a",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": "m", "messages": []},
        }
        uploaded = client.files.create(file=("in.jsonl", json.dumps(line).encode() + b"\n"), purpose="batch")
        batch = client.batches.create(
            input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        assert batch.status == "validating"
        done = client.batches.retrieve(batch.id)
        assert done.status == "completed" and done.request_counts.completed == 1
        output = [json.loads(raw) for raw in client.files.content(done.output_file_id).text.splitlines()]
        assert output[0]["custom_id"] == "a" and output[0]["response"]["status_code"] == 200
        assert output[0]["response"]["body"]["object"] == "chat.completion"
        assert [b.id for b in client.batches.list()] == [batch.id]
        with httpx2.Client() as http:
            assert http.get(f"{server.base_url}/batches/nope").status_code == 404


async def test_a_whole_batch_job_records_then_replays_offline(tmp_path):
    fixtures = tmp_path / "fixtures"
    config = batch_config(batch_rate_invalid=0.3, batch_outcome="expired", batch_expire_fraction=0.7)
    with FaultServer(config) as server:
        recording = make_extractor(server, fixtures_mode="record", fixtures_dir=fixtures)
        recorded, _ = await run_job(recording, tmp_path / "recorded.db", records(10))
    names = sorted(path.name.split(".")[0] for path in fixtures.glob("*.json"))
    assert names.count("batch-api") >= 5  # upload, create, poll(s), output and error downloads
    assert any(name.startswith("a00") for name in names)  # the live re-asks and left-overs
    assert all("sk-test" not in path.read_text(encoding="utf-8") for path in fixtures.glob("*.json"))

    # No server at all now: every exchange, uploads and polls included, comes from the fixtures.
    offline = make_extractor(server, fixtures_mode="replay", fixtures_dir=fixtures, base_url="http://127.0.0.1:9/v1")
    replayed, report = await run_job(offline, tmp_path / "replayed.db", records(10))
    assert report["batches"] == {"batch_000001": "expired"}

    def results(outcomes):
        return {o.key: json.loads(o.line)["exercises"] for o in outcomes}

    assert results(replayed) == results(recorded)
    # `fixtures check` takes the Batch API exchanges in its stride: none of them is an answer.
    reports = check_fixtures(fixtures)
    assert not [report for report in reports if report.failed]


async def test_a_split_article_is_asked_in_parts_all_answered_by_the_batch(tmp_path):
    long_article = max(records(89), key=lambda row: len(row["text"]))
    with FaultServer(batch_config()) as server:
        extractor = make_extractor(server, chunk_chars=500)
        outcomes, report = await run_job(extractor, tmp_path / "job.db", [long_article])
        uploaded = next(iter(server.batches.contents.values()))
        assert server.stats.requests == 0
    ids = [json.loads(line)["custom_id"] for line in uploaded.decode().splitlines()]
    key = long_article["id"]
    assert len(ids) > 1 and ids == [key] + [f"{key}#{part}" for part in range(2, len(ids) + 1)]
    assert report["answered_from_batch"] == len(ids)
    (outcome,) = outcomes
    assert outcome.status == "done" and outcome.attempts == len(ids)


@pytest.mark.parametrize("bad", [{"batch_outcome": "lost"}, {"batch_rate_invalid": 0.7, "batch_rate_error": 0.5}])
def test_fault_config_rejects_impossible_batch_behaviour(bad):
    with pytest.raises(ValueError):
        FaultConfig(**bad)


async def test_progress_reports_each_status_with_its_request_counts(tmp_path):
    seen = []
    with FaultServer(batch_config(batch_seconds=1.0)) as server:
        with JobStore(tmp_path / "job.db") as store:
            run = BatchApiRun(
                BatchJob(make_extractor(server), store), FAST, on_status=lambda chunk, view: seen.append(view)
            )
            plan = run.plan(as_source_items(records(10)))
            _ = [outcome async for outcome in run.run(plan)]
            run.close()
    statuses = [view.status for view in seen]
    order = ["validating", "in_progress", "finalizing", "completed"]
    assert statuses[-1] == "completed" and statuses == sorted(statuses, key=order.index)
    assert len(set(statuses)) >= 2  # polled more than once while it ran
    assert seen[-1].total == 10 and seen[-1].completed == 10
    assert len(seen) == len(set(seen))  # one report per change, not per poll


async def test_new_settings_with_the_same_requests_make_a_new_batch(tmp_path):
    """max_reasks changes the fingerprint but not one request body: a second, separate batch."""
    store_path = tmp_path / "job.db"
    with FaultServer(batch_config()) as server:
        await run_job(make_extractor(server, max_reasks=1), store_path, records(3))
        outcomes, report = await run_job(make_extractor(server, max_reasks=2), store_path, records(3))
        calls = dict(server.stats.batch_calls)
    uploads = [c for n, c in server.batches.contents.items() if server.batches.files[n]["purpose"] == "batch"]
    assert len(uploads) == 2 and uploads[0] == uploads[1]  # the same requests, sent again for the new settings
    assert calls["create"] == 2 and report["request_files"] == 1
    assert {outcome.status for outcome in outcomes} == {"done"} and not any(o.resumed for o in outcomes)


# -- uploads and creates happen once, whatever the network does ----------------------------


def made_at(server: FaultServer) -> tuple[int, int]:
    """(request files uploaded, batches created) as the server holds them."""
    files = [f for f in server.batches.files.values() if f["purpose"] == "batch"]
    return len(files), len(server.batches.batches)


@pytest.mark.parametrize(
    "fault",
    [
        # The server makes the file or batch, then answers after the client's 0.5 s timeout.
        {"upload_delay": 0.6},
        {"create_delay": 0.6},
        # The server makes it, then answers 5xx.
        {"upload_status": 500},
        {"create_status": 500},
        {"upload_status": 502, "create_status": 503, "create_delay": 0.6},
    ],
)
async def test_an_upload_or_create_left_in_doubt_is_found_not_repeated(tmp_path, fault):
    with FaultServer(batch_config(**fault)) as server:
        extractor = make_extractor(server, request_timeout=SHORT_TIMEOUT)
        outcomes, report = await run_job(extractor, tmp_path / "job.db", records(5))
        made = made_at(server)
        calls = server.stats.batch_calls
        assert server.stats.requests == 0
    assert made == (1, 1)
    assert calls["upload"] == calls["create"] == 1 and calls["list_files"] + calls["list_batches"] >= 1
    assert report["batches"] == {"batch_000001": "completed"} and report["answered_from_batch"] == 5
    assert {outcome.status for outcome in outcomes} == {"done"}


@pytest.mark.parametrize(
    ("method", "path", "fault", "sends"),
    [
        ("POST", "/v1/chat/completions", httpx2.ReadTimeout, 3),  # a chat completion may be repeated
        ("POST", "/v1/chat/completions", 500, 3),
        ("GET", "/v1/batches/batch_1", httpx2.ReadTimeout, 3),
        ("POST", "/v1/batches/batch_1/cancel", 503, 3),
        ("POST", "/v1/files", httpx2.ReadTimeout, 1),  # an upload or create is not: it may have been made
        ("POST", "/v1/batches", httpx2.RemoteProtocolError, 1),
        ("POST", "/v1/batches", 500, 1),
        ("POST", "/v1/batches", httpx2.ConnectError, 3),  # never reached the server: safe to send again
        ("POST", "/v1/batches", 429, 3),  # turned away without acting
    ],
)
def test_the_transport_repeats_only_what_is_safe_to_repeat(method, path, fault, sends):
    from extractor.model_call.transport import RetryingTransport, RetryOptions

    sent = []

    def failing(request: httpx2.Request) -> httpx2.Response:
        sent.append(request)
        if isinstance(fault, int):
            return httpx2.Response(fault, json={"error": {"message": "failed"}})
        raise fault("failed", request=request)

    transport = RetryingTransport(httpx2.MockTransport(failing), RetryOptions(retries=2, initial=0.0, maximum=0.0))
    with httpx2.Client(transport=transport, base_url="http://127.0.0.1:9") as client:
        try:
            client.request(method, path, json={})
        except httpx2.HTTPError:
            pass
    assert len(sent) == sends


@pytest.mark.parametrize("fault", [{"refuse_uploads": 2}, {"refuse_creates": 2}])
async def test_an_upload_or_create_that_made_nothing_is_made_again_once(tmp_path, fault):
    with FaultServer(batch_config(**fault)) as server:
        outcomes, report = await run_job(make_extractor(server), tmp_path / "job.db", records(5))
        made = made_at(server)
        calls = server.stats.batch_calls
    assert made == (1, 1)
    assert calls["upload_refused"] + calls["create_refused"] == 2
    assert report["answered_from_batch"] == 5 and {outcome.status for outcome in outcomes} == {"done"}


async def test_a_create_still_refused_after_every_attempt_is_one_error_and_no_batch(tmp_path):
    from extractor.errors import ExtractionFailed

    with FaultServer(batch_config(refuse_creates=100)) as server:
        with pytest.raises(ExtractionFailed, match="batch-api create: the server answered HTTP 500"):
            await run_job(make_extractor(server), tmp_path / "job.db", records(2))
        assert made_at(server) == (1, 0)
        refused = server.stats.batch_calls["create_refused"]
    assert refused == 3  # transport_retries=2: three attempts in all, each after looking first


async def test_a_duplicate_batch_for_the_same_part_is_cancelled(tmp_path):
    """A create that landed twice (say, an attempt the server finished after it was looked for)."""
    store_path = tmp_path / "job.db"
    with FaultServer(batch_config(batch_seconds=3600)) as server:
        extractor = make_extractor(server)
        with JobStore(store_path) as store:
            run = BatchApiRun(BatchJob(extractor, store), FAST, on_status=None)
            await run.submit(run.plan(as_source_items(records(3))))
            (chunk,) = run.state.chunks()
            chunk = run._start(chunk)
            first = chunk.batch_id
            tag = run.state.tag(chunk)
            # A second batch with the same tag, then the job dies before writing down either.
            second = run.remote.create(chunk.file_id, chunk.name, tag)
            run.state.set_step(chunk.id, "creating", batch_id=None)
            kept = run._start(run.state.chunk(chunk.id))
            run.close()
        statuses = set(server.batches.batches)
        cancels = server.stats.batch_calls["cancel"]
    assert second.id != first and kept.batch_id == first
    assert cancels == 1 and statuses == {first, second.id}
    assert server.batches.batches[second.id].cancelled_at is not None
    assert server.batches.batches[first].cancelled_at is None


# -- a bad line in an output or error file fails only its own article -------------------


@pytest.mark.parametrize(
    ("junk", "reason"),
    [
        ("torn", "unreadable_answer"),  # its custom_id is still readable
        ("no_choices", "unreadable_answer"),
        ("array", "left_over"),  # no custom_id at all: its request is simply not answered
        ("no_custom_id", "left_over"),
    ],
)
async def test_a_bad_output_line_sends_only_its_article_live(tmp_path, caplog, junk, reason):
    with FaultServer(batch_config(batch_junk=junk)) as server:
        outcomes, report = await run_job(make_extractor(server), tmp_path / "job.db", records(6))
        live_requests = server.stats.requests
    once_each(outcomes, 6)
    assert {outcome.status for outcome in outcomes} == {"done"}
    assert report["answered_from_batch"] == 5 and report["live_fallback"] == {reason: 1}
    assert live_requests == 1
    assert any("line 1" in record.getMessage() for record in caplog.records if record.levelname == "WARNING")


async def test_a_line_for_an_unknown_custom_id_is_ignored_with_a_warning(tmp_path, caplog):
    with FaultServer(batch_config(batch_junk="unknown_custom_id")) as server:
        outcomes, report = await run_job(make_extractor(server), tmp_path / "job.db", records(3))
        assert server.stats.requests == 0
    assert {outcome.status for outcome in outcomes} == {"done"} and report["answered_from_batch"] == 3
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert any("'no-such-request'" in warning and "ignored" in warning for warning in warnings)


async def test_a_torn_error_file_line_fails_only_its_article(tmp_path):
    config = batch_config(batch_outcome="expired", batch_expire_fraction=0.5, batch_junk="torn,array")
    config.batch_junk_file = "error"
    with FaultServer(config) as server:
        outcomes, report = await run_job(make_extractor(server), tmp_path / "job.db", records(6))
        assert server.stats.requests == 3
    assert {outcome.status for outcome in outcomes} == {"done"}
    assert report["live_fallback"] == {"unreadable_answer": 1, "left_over": 2}


async def test_without_live_fallback_a_bad_line_fails_its_article_and_a_rerun_completes(tmp_path):
    store_path = tmp_path / "job.db"
    quiet = BatchApiOptions(live_fallback=False, poll_initial=0.02, poll_max=0.1)
    with FaultServer(batch_config(batch_junk="torn")) as server:
        extractor = make_extractor(server)
        outcomes, _ = await run_job(extractor, store_path, records(4), quiet)
        assert server.stats.requests == 0
        (failed,) = [outcome for outcome in outcomes if outcome.status == "failed"]
        assert failed.cause == "batch_unreadable_answer"
        assert "could not be read" in failed.error and "--no-live-fallback" in failed.error
        with JobStore(store_path) as store:
            run = BatchApiRun(BatchJob(extractor, store), FAST, on_status=None)
            plan = run.plan(as_source_items(records(4)), retry_failed=True)
            again = [outcome async for outcome in run.run(plan)]
            run.close()
        calls = dict(server.stats.batch_calls)
        assert server.stats.requests == 1  # the one article, live; nothing else paid again
    assert calls["upload"] == calls["create"] == 1
    assert {outcome.key: outcome.status for outcome in again}[failed.key] == "done"
    assert all(outcome.status == "done" for outcome in again)


@pytest.mark.parametrize(
    "raw",
    ["[1, 2]", "3", '"\\ud800"', "[" * 100_000, '{"custom_id": 7, "response": null}', '{"id": "x"}'],
)
def test_a_line_that_names_no_request_is_unreadable(raw):
    from extractor.engines.batch_api.remote import UnreadableLine, parse_line

    with pytest.raises(UnreadableLine):
        parse_line(raw)


@pytest.mark.parametrize(
    "line",
    [
        {"custom_id": "a", "response": {"status_code": 200, "body": {"choices": []}}},
        {"custom_id": "a", "response": {"status_code": 200, "body": "garbage"}},
        {"custom_id": "a", "response": {"status_code": "200", "body": {}}},
        {"custom_id": "a", "response": [1, 2]},
        {"custom_id": "a"},
    ],
)
def test_a_line_that_names_its_request_but_no_usable_answer_is_that_requests_failure(line):
    from extractor.engines.batch_api.remote import parse_line

    custom_id, answer, _ = parse_line(json.dumps(line))
    assert custom_id == "a" and answer.unreadable and not answer.ok


def test_an_answer_holding_a_line_separator_is_one_line(tmp_path):
    """JSONL lines end at "\\n" only; U+2028 in an answer's text (unescaped) is part of it."""
    from extractor.engines.batch_api.remote import RemoteBatches

    body = {"choices": [{"message": {"role": "assistant", "content": "a\u2028b"}}], "usage": {"prompt_tokens": 3}}
    line = {"custom_id": "a", "response": {"status_code": 200, "body": body}, "error": None}
    with FaultServer(batch_config()) as server:
        file_id = server.batches._store_file(
            "out.jsonl", (json.dumps(line, ensure_ascii=False) + "\n").encode(), purpose="batch_output"
        )
        remote = RemoteBatches(make_extractor(server))
        try:
            ((custom_id, answer, usage),) = remote.download(file_id)
        finally:
            remote.close()
    assert custom_id == "a" and answer.ok and json.loads(answer.body) == body and usage.prompt_tokens == 3
