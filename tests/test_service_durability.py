"""`extractor serve` under load and when killed: 429, cancel, kill -9 and SIGTERM, then resume."""

from __future__ import annotations

import json
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("fastapi", reason="needs the service extra")

from sqlalchemy import select

from extractor.service.db import Database
from extractor.service.db.engine import sqlite_url
from extractor.service.db.schema import articles
from extractor.testing.faultserver import FaultConfig, FaultServer
from tests.support.service_process import ServiceProcess, service_env, wait_for_job

SLOTS = 3


def records(n: int, prefix: str) -> list[dict]:
    return [{"id": f"{prefix}{i}", "text": f"Exercise {prefix} {i} began with {i} aircraft."} for i in range(n)]


def store_statuses(process: ServiceProcess, job_id: str) -> dict[str, str]:
    """The articles' statuses as the service database holds them (SQLite or PostgreSQL)."""
    url = process.env.get("EXTRACTOR_DATABASE_URL") or sqlite_url(process.state_dir / "service.db")
    db = Database(url)
    try:
        with db.engine.connect() as connection:
            rows = connection.execute(select(articles.c.key, articles.c.status).where(articles.c.job_id == job_id))
            return {key: status for key, status in rows}
    finally:
        db.close()


def metric(service: ServiceProcess, name: str) -> float:
    text = service.client().get("/metrics").text
    return next((float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " ")), 0.0)


def wait_until(predicate, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def slow():
    with FaultServer(FaultConfig(latency=0.15)) as server:
        yield server


def start_service(slow, workdir, **settings: str) -> ServiceProcess:
    env = service_env(
        slow.base_url, EXTRACTOR_SERVICE_CONCURRENCY=str(SLOTS), EXTRACTOR_SERVICE_MAX_WAITING="1", **settings
    )
    return ServiceProcess(workdir, env).start()


@pytest.fixture(scope="module")
def service(slow, tmp_path_factory, module_database):
    """Shared by the tests below; the SIGTERM test stops it, so it comes last.

    PostgreSQL: a killed replica's claims are left to expire (other replicas may hold claims of
    their own), so the lease is short here, for the restart after kill -9 to pick them up soon.
    """
    lease = {"EXTRACTOR_SERVICE_CLAIM_LEASE": "5"} if module_database else {}
    process = start_service(
        slow, tmp_path_factory.mktemp("durable"), EXTRACTOR_SERVICE_MAX_PENDING_ARTICLES="45", **module_database,
        **lease,
    )  # fmt: skip
    yield process
    process.stop()


def test_overload_is_429_with_retry_after_and_the_slots_hold(slow, service):
    before = slow.stats.max_in_flight
    with service.client() as client, ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda n: client.post("/v1/extract", json={"text": f"Drill {n} began."}), range(16)))
        statuses = [answer.status_code for answer in answers]
        assert set(statuses) == {200, 429}, statuses
        assert statuses.count(200) >= SLOTS
        refused = [answer for answer in answers if answer.status_code == 429]
        assert all(answer.headers["retry-after"] == "2" for answer in refused)
        assert refused[0].json()["code"] == "overloaded"
        # never more extractions at once than the slots, whatever the load
        assert slow.stats.max_in_flight <= max(before, SLOTS)
        # a job bigger than the room left in the queue
        assert client.post("/v1/jobs", json={"articles": records(46, "big")}).status_code == 429


def test_cancel_stops_sending_pending_articles(slow, service):
    with service.client() as client:
        job = client.post("/v1/jobs", json={"articles": records(40, "cancel")}).json()
        wait_until(lambda: client.get(f"/v1/jobs/{job['id']}").json()["counts"]["done"] >= 1)
        cancelled = client.post(f"/v1/jobs/{job['id']}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["status"] in ("cancelling", "cancelled")
        wait_for_job(client, job["id"], until="cancelled")
        sent = slow.stats.requests
        time.sleep(0.8)  # three rounds of the fault server's latency: nothing more is sent
        assert slow.stats.requests == sent
        counts = client.get(f"/v1/jobs/{job['id']}").json()["counts"]
        assert counts["pending"] > 0 and counts["done"] + counts["failed"] + counts["pending"] == 40
        results = client.get(f"/v1/jobs/{job['id']}/results").text.splitlines()
        assert len(results) == counts["done"]
        statuses = store_statuses(service, job["id"])
        assert "running" not in statuses.values() and "pending" not in statuses.values()
        assert list(statuses.values()).count("cancelled") == counts["pending"]
        assert client.delete(f"/v1/jobs/{job['id']}").status_code == 200  # a finished job can be removed
        assert client.get(f"/v1/jobs/{job['id']}").status_code == 404 and not store_statuses(service, job["id"])


def test_kill9_then_restart_ends_every_article_exactly_once(slow, service):
    n = 24
    # the module's service: killed, then started again on the same state folder
    with service.client() as client:
        job_id = client.post("/v1/jobs", json={"articles": records(n, "durable")}).json()["id"]
        wait_until(lambda: client.get(f"/v1/jobs/{job_id}").json()["counts"]["done"] >= 3)
    sent_before_kill = slow.stats.requests
    service.kill()
    at_kill = store_statuses(service, job_id)
    assert len(at_kill) == n and {"pending", "running"} & set(at_kill.values())
    finished_at_kill = sum(status == "done" for status in at_kill.values())

    service.start()  # the same state folder: the job resumes by itself
    with service.client() as client:
        job = wait_for_job(client, job_id)
        lines = client.get(f"/v1/jobs/{job_id}/results").text.splitlines()
    ids = [json.loads(line)["article"]["id"] for line in lines]
    assert (
        job["counts"] == {"total": n, "done": n, "failed": 0, "skipped": 0, "pending": 0}
        and job["status"] == "completed"
    )
    assert sorted(ids) == sorted(record["id"] for record in records(n, "durable"))
    # what was done before the kill is not sent again; only what was in flight may be
    resent = slow.stats.requests - sent_before_kill - (n - finished_at_kill)
    assert 0 <= resent <= SLOTS


def test_results_follow_streams_until_the_job_ends(service):
    with service.client() as client:
        job_id = client.post("/v1/jobs", json={"articles": records(9, "follow")}).json()["id"]
        started = time.monotonic()
        with client.stream("GET", f"/v1/jobs/{job_id}/results", params={"follow": "true"}) as stream:
            ids = [json.loads(line)["article"]["id"] for line in stream.iter_lines() if line]
        # three rounds of 150 ms at three slots: the stream stayed open for the job's whole run
        assert time.monotonic() - started >= 0.4
        assert sorted(ids) == sorted(record["id"] for record in records(9, "follow"))
        assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "completed"


def test_sigterm_answers_in_flight_requests_and_requeues_job_articles(slow, service):
    with service.client() as client:
        job_id = client.post("/v1/jobs", json={"articles": records(30, "term")}).json()["id"]
        wait_until(lambda: client.get(f"/v1/jobs/{job_id}").json()["counts"]["done"] >= 2)
        answer: dict = {}
        request = threading.Thread(
            target=lambda: answer.update(r=client.post("/v1/extract", json={"text": "A drill began."}))
        )
        request.start()
        # the extract request is in the server (the /metrics request itself is the other one), or
        # on a slow machine it was answered already, before a /metrics request could see it
        wait_until(lambda: "r" in answer or metric(service, "extractor_http_requests_in_flight") >= 2)
        # uvicorn re-raises the SIGTERM once it has shut down cleanly
        assert service.terminate() in (0, -signal.SIGTERM)
        request.join(10)
    assert answer["r"].status_code == 200
    assert "Application shutdown complete" in service.log.read_text(encoding="utf-8")
    statuses = store_statuses(service, job_id)
    assert "running" not in statuses.values() and "pending" in statuses.values()
