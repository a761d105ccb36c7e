"""`extractor serve` as an operator and a hostile client find it: tenants, idempotency, paging,
statuses, deletion and retention, problems, request ids, CORS, Host and Origin, metrics,
broken records, readiness, outages, retries, abandoned requests, several workers.

Each test starts real `extractor serve` processes on loopback against a real fault server.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="needs the service extra")

from extractor.testing.faultserver import FaultConfig, FaultServer
from tests.support.service_process import API_KEY, ServiceProcess, service_env, wait_for_job


def records(n: int, prefix: str) -> list[dict]:
    return [{"id": f"{prefix}{i}", "text": f"Exercise {prefix} {i} began with {i} aircraft."} for i in range(n)]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def metric(text: str, name: str) -> float:
    return next((float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " ")), 0.0)


def wait_until(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def fault():
    with FaultServer(FaultConfig(latency=0.01)) as server:
        yield server


@pytest.fixture
def start(fault, tmp_path, database):
    """Start services (stopped at the end) on the test's database (PostgreSQL: one for the test)."""
    started: list[ServiceProcess] = []

    def run(state_dir: Path | None = None, base_url: str | None = None, **settings: str) -> ServiceProcess:
        env = service_env(base_url or fault.base_url, **{**database, **settings})
        process = ServiceProcess(tmp_path, env, state_dir)
        started.append(process.start())
        return process

    yield run
    for process in started:
        process.stop()


# -- tenancy ---------------------------------------------------------------------------------

TENANTS = {"EXTRACTOR_API_KEYS": "alice:alice-secret-1,bob-bare-secret", "EXTRACTOR_ADMIN_KEYS": "root:root-secret"}


def test_a_job_is_its_key_s_alone_admins_see_all_and_keys_rotate(start, tmp_path):
    service = start(tmp_path / "state", **TENANTS)
    with service.client(key="alice-secret-1") as alice, service.client(key="bob-bare-secret") as bob:
        job_id = alice.post("/v1/jobs", json={"articles": records(2, "ten")}).json()["id"]
        bobs = bob.post("/v1/jobs", json={"articles": records(1, "bob")}).json()["id"]
        wait_for_job(alice, job_id)
        for method, path in [
            ("GET", f"/v1/jobs/{job_id}"),
            ("GET", f"/v1/jobs/{job_id}/results"),
            ("GET", f"/v1/jobs/{job_id}/failures"),
            ("GET", f"/v1/jobs/{job_id}/review"),
            ("POST", f"/v1/jobs/{job_id}/cancel"),
            ("POST", f"/v1/jobs/{job_id}/retry"),
            ("DELETE", f"/v1/jobs/{job_id}"),
        ]:
            answer = bob.request(method, path)
            assert answer.status_code == 404 and answer.json()["code"] == "not_found", (method, path)
        assert [job["id"] for job in bob.get("/v1/jobs").json()["data"]] == [bobs]
        assert [job["id"] for job in alice.get("/v1/jobs").json()["data"]] == [job_id]
        owner = f"sha256:{hashlib.sha256(b'bob-bare-secret').hexdigest()[:16]}"
        assert bob.get(f"/v1/jobs/{bobs}").json()["owner"] == owner
    with service.client(key="root-secret") as root:
        listed = {job["id"]: job["owner"] for job in root.get("/v1/jobs").json()["data"]}
        assert listed == {job_id: "alice", bobs: owner}
        assert root.get(f"/v1/jobs/{job_id}/results").text.count("\n") == 2
    service.stop()
    text = service.log.read_text()
    assert "alice-secret-1" not in text and "bob-bare-secret" not in text and "root-secret" not in text

    # alice's secret is rotated: her jobs stay hers, the old secret is refused
    service.env["EXTRACTOR_API_KEYS"] = "alice:alice-secret-2,bob-bare-secret"
    service.start()
    with service.client(key="alice-secret-2") as alice:
        assert alice.get(f"/v1/jobs/{job_id}").json()["owner"] == "alice"
    with service.client(key="alice-secret-1") as old:
        assert old.get(f"/v1/jobs/{job_id}").status_code == 401


# -- idempotency -----------------------------------------------------------------------------


def test_idempotency_key_gives_the_same_job_even_after_a_restart(start, fault, tmp_path):
    service = start(tmp_path / "state")
    body = {"articles": records(3, "idem")}
    once = {"Idempotency-Key": "job-7f3a"}
    with service.client() as client:
        first = client.post("/v1/jobs", json=body, headers=once)
        assert first.status_code == 202 and "idempotent-replayed" not in first.headers
        again = client.post("/v1/jobs", json=body, headers=once)
        assert again.status_code == 202 and again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true" and again.headers["location"] == first.headers["location"]
    service.stop()
    service.start()
    with service.client() as client:
        after_restart = client.post("/v1/jobs", json=body, headers=once)
        assert after_restart.status_code == 202 and after_restart.json()["id"] == first.json()["id"]
        other_body = client.post("/v1/jobs", json={"articles": records(4, "idem")}, headers=once)
        assert other_body.status_code == 422 and other_body.json()["code"] == "idempotency_key_reused"
        assert len(client.get("/v1/jobs").json()["data"]) == 1
        # an extraction answered once is not paid for twice
        article = {"text": "Exercise Idem began on Monday."}
        answered = client.post("/v1/extract", json=article, headers={"Idempotency-Key": "x-1"})
        sent = fault.stats.requests
        replayed = client.post("/v1/extract", json=article, headers={"Idempotency-Key": "x-1"})
        assert replayed.status_code == 200 and replayed.json() == answered.json() and fault.stats.requests == sent
    with service.client(key="other-key") as other:  # keys are the caller's own
        theirs = other.post("/v1/jobs", json=body, headers=once)
        assert theirs.status_code == 202 and theirs.json()["id"] != first.json()["id"]


# -- lists, statuses, deletion, retention ------------------------------------------------------


def test_job_list_pages_with_limit_and_after(start):
    service = start()
    with service.client() as client:
        made = [client.post("/v1/jobs", json={"articles": records(1, f"page{n}-")}).json()["id"] for n in range(5)]
        seen: list[str] = []
        after = None
        while True:
            page = client.get("/v1/jobs", params={"limit": 2, **({"after": after} if after else {})}).json()
            assert page["object"] == "list" and len(page["data"]) <= 2
            assert page["first_id"] == page["data"][0]["id"] and page["last_id"] == page["data"][-1]["id"]
            seen += [job["id"] for job in page["data"]]
            if not page["has_more"]:
                break
            after = page["last_id"]
        assert seen == made[::-1]  # newest first, each once
        assert client.get("/v1/jobs", params={"limit": 0}).status_code == 422


def test_statuses_say_how_a_job_ended(start):
    service = start()
    with service.client() as client:
        good = client.post("/v1/jobs", json={"articles": records(2, "ok")}).json()
        mixed = client.post("/v1/jobs", json={"articles": [*records(1, "mix"), {"text": ""}]}).json()
        bad = client.post("/v1/jobs", json={"articles": [{"text": ""}, 42]}).json()
        assert bad["status"] == "failed"  # nothing to run: known at once
        assert wait_for_job(client, good["id"])["status"] == "completed"
        assert wait_for_job(client, mixed["id"])["status"] == "completed_with_failures"
        assert wait_for_job(client, bad["id"])["status"] == "failed"


def test_delete_removes_a_finished_job_and_retention_removes_old_ones(start, tmp_path):
    slow = FaultServer(FaultConfig(latency=0.5))
    with slow:
        service = start(tmp_path / "state", base_url=slow.base_url, EXTRACTOR_SERVICE_CONCURRENCY="1")
        with service.client() as client:
            # 40 articles one at a time at 0.5 s: still running when the cancel comes, even on a loaded machine
            running = client.post("/v1/jobs", json={"articles": records(40, "del")}).json()["id"]
            refused = client.delete(f"/v1/jobs/{running}")
            assert refused.status_code == 409 and refused.json()["code"] == "job_not_finished"
            assert client.post(f"/v1/jobs/{running}/retry").status_code == 409
            client.post(f"/v1/jobs/{running}/cancel")
            wait_for_job(client, running, until="cancelled")
            deleted = client.delete(f"/v1/jobs/{running}")
            assert deleted.json() == {"id": running, "object": "job.deleted", "deleted": True}
            assert client.get(f"/v1/jobs/{running}").status_code == 404
            assert client.get(f"/v1/jobs/{running}/results").status_code == 404
            kept = client.post("/v1/jobs", json={"articles": records(1, "old")}).json()["id"]
            wait_for_job(client, kept, timeout=120)
        service.stop()
        service.env["EXTRACTOR_SERVICE_RETENTION_DAYS"] = "0.000000001"  # anything finished is old now
        service.start()
        with service.client() as client:
            wait_until(lambda: client.get(f"/v1/jobs/{kept}").status_code == 404)
    assert '"event": "jobs_removed"' in service.log.read_text()


# -- errors, request ids, CORS, Host and Origin, metrics ------------------------------------------


def test_problems_list_every_validation_error_and_carry_the_request_id(start):
    service = start()
    with service.client() as client:
        answer = client.post(
            "/v1/extract",
            json={"text": "", "colour": "red", "published": "soon"},
            headers={"X-Request-Id": "trace-42.a"},
        )
        assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
        problem = answer.json()
        assert problem["request_id"] == "trace-42.a" == answer.headers["x-request-id"]
        assert problem["instance"] == "/v1/extract" and problem["title"] == "Unprocessable Entity"
        assert {tuple(error["loc"]) for error in problem["errors"]} == {("text",), ("colour",), ("published",)}
        made = client.get("/v1/jobs/nosuch", headers={"X-Request-Id": "not valid!"})
        assert (
            re.fullmatch(r"[0-9a-f]{16}", made.headers["x-request-id"])
            and made.json()["request_id"] == made.headers["x-request-id"]
        )
        assert client.put("/v1/jobs/x").headers["allow"] == "DELETE, GET"
        assert client.delete("/v1/jobs").headers["allow"] == "GET, POST"
    logged = [json.loads(line) for line in service.log.read_text().splitlines() if line.startswith("{")]
    assert any(entry.get("request_id") == "trace-42.a" and entry["status"] == 422 for entry in logged)


def test_cors_only_for_the_configured_origins(start):
    service = start(EXTRACTOR_SERVICE_CORS_ORIGINS="https://newsroom.example")
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    with service.client() as client:
        allowed = client.options("/v1/jobs", headers={"Origin": "https://newsroom.example", **preflight})
        assert allowed.headers["access-control-allow-origin"] == "https://newsroom.example"
        other = client.options("/v1/jobs", headers={"Origin": "https://elsewhere.example", **preflight})
        assert "access-control-allow-origin" not in other.headers
        listed = client.get("/v1/jobs", headers={"Origin": "https://newsroom.example"})
        assert "x-request-id" in listed.headers["access-control-expose-headers"].lower()
    plain = start()
    with plain.client() as client:
        answer = client.options("/v1/jobs", headers={"Origin": "https://newsroom.example", **preflight})
        assert "access-control-allow-origin" not in answer.headers


def test_a_keyless_server_refuses_foreign_hosts_and_origins(start, fault):
    service = start(EXTRACTOR_API_KEYS="")
    sent = fault.stats.requests
    with service.client(key=None) as client:
        rebound = client.get("/v1/jobs", headers={"Host": "attacker.example"})
        assert rebound.status_code == 421 and rebound.json()["code"] == "host_not_allowed"
        cross_site = client.post(
            "/v1/jobs",
            content=json.dumps({"articles": records(1, "csrf")}),
            headers={"Origin": "https://attacker.example", "content-type": "text/plain"},
        )
        assert cross_site.status_code == 403 and cross_site.json()["code"] == "origin_not_allowed"
        assert client.get("/v1/jobs").json()["data"] == [] and fault.stats.requests == sent
        local = client.get("/v1/jobs", headers={"Origin": f"http://localhost:{service.port}", "Host": "localhost"})
        assert local.status_code == 200
        assert client.get("/metrics").status_code == 200  # no keys: nothing to ask for


def test_allowed_hosts_and_metrics_need_a_key(start):
    service = start(EXTRACTOR_SERVICE_ALLOWED_HOSTS="api.newsroom.example,127.0.0.1")
    with service.client() as client:
        assert client.get("/v1/jobs", headers={"Host": "api.newsroom.example"}).status_code == 200
        assert client.get("/v1/jobs", headers={"Host": "evil.example"}).status_code == 421
        assert client.get("/metrics").status_code == 200
    with service.client(key=None) as anonymous:
        refused = anonymous.get("/metrics")
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    public = start(EXTRACTOR_SERVICE_PUBLIC_METRICS="true")
    with public.client(key=None) as anonymous:
        assert anonymous.get("/metrics").status_code == 200


# -- earlier state, broken records -------------------------------------------------------------


def _legacy_state(state: Path, fault: FaultServer) -> tuple[str, str]:
    """An earlier version's state folder: one job half done, one whose job.json is torn."""
    from extractor import Extractor
    from extractor.input.article import article_from_record
    from extractor.input.sources import as_source_items
    from extractor.jobs.outcome import Outcome, Status
    from extractor.jobs.store import JobStore
    from extractor.settings import Settings

    good, torn = state / "jobs" / "0123456789abcdef", state / "jobs" / "fedcba9876543210"
    for folder in (good, torn):
        folder.mkdir(parents=True)
    articles = records(3, "legacy")
    (good / "articles.jsonl").write_text("".join(json.dumps(record) + "\n" for record in articles))
    meta = {"id": good.name, "created_at": "2025-01-02T03:04:05+00:00", "finished_at": None, "cancelled": False}
    (good / "job.json").write_text(json.dumps(meta))
    settings = Settings(provider="openai", base_url=fault.base_url, api_key="sk-x", fixtures_mode="off", _env_file=None)
    done = Extractor(settings=settings).extract_article(article_from_record(articles[0], where="legacy"))
    with JobStore(good / "store.sqlite") as store:
        store.register(as_source_items(articles), fingerprint="fp")
        store.started("legacy0")
        store.record(Outcome(key="legacy0", status=Status.DONE, line=done.model_dump_json()))
    (torn / "job.json").write_text('{"id": "fedcba98')
    (torn / "articles.jsonl").write_text(json.dumps(articles[0]) + "\n")
    return good.name, torn.name


def test_earlier_state_is_imported_and_a_broken_record_does_not_stop_the_start(start, fault, tmp_path, backend):
    if backend == "postgres":
        pytest.skip("PostgreSQL imports a state folder with --migrate-from (tests/test_service_postgres.py)")
    good, torn = _legacy_state(tmp_path / "state", fault)
    service = start(tmp_path / "state", EXTRACTOR_ADMIN_KEYS="root:root-secret")
    with service.client(key="root-secret") as root:
        listed = {job["id"]: job for job in root.get("/v1/jobs").json()["data"]}
        assert listed[torn]["status"] == "failed" and listed[torn]["error"].startswith(
            "broken: job.json cannot be read"
        )
        job = wait_for_job(root, good)
        assert job["status"] == "completed" and job["counts"] == {
            "total": 3,
            "done": 3,
            "failed": 0,
            "skipped": 0,
            "pending": 0,
        }
        ids = sorted(
            json.loads(line)["article"]["id"] for line in root.get(f"/v1/jobs/{good}/results").text.splitlines()
        )
        assert ids == ["legacy0", "legacy1", "legacy2"]
    with service.client() as plain:  # imported jobs belong to no key
        assert plain.get(f"/v1/jobs/{good}").status_code == 404
    assert (tmp_path / "state" / "imported" / good / "store.sqlite").is_file()  # nothing deleted
    assert (tmp_path / "state" / "jobs" / torn / "job.json").is_file()  # left to be repaired


# -- outages ---------------------------------------------------------------------------------


def test_readyz_is_503_with_the_reason_when_the_model_server_is_down(start):
    with FaultServer() as gone:
        base_url = gone.base_url
    service = start(base_url=base_url, EXTRACTOR_FIXTURES_MODE="off", EXTRACTOR_SERVICE_READINESS_TTL="0")
    with service.client(key=None) as client:
        answer = client.get("/readyz")
        assert answer.status_code == 503
        assert answer.json()["problems"] == [f"the model server at {base_url} cannot be reached (ConnectError)"]
        assert client.get("/healthz").status_code == 200  # alive all the same


def test_outage_articles_are_requeued_with_backoff_then_expire_then_retry_on_request(start, tmp_path):
    backoff = {"EXTRACTOR_SERVICE_REQUEUE_BACKOFF": "0.01", "EXTRACTOR_SERVICE_REQUEUE_BACKOFF_MAX": "0.02"}
    # Before the deadline: a failed try puts the article back in the queue, it does not fail it.
    # (Waited for by count, not by a short deadline: a loaded machine makes fewer tries a second.)
    with FaultServer(FaultConfig(rate_500=1.0)) as down:
        service = start(tmp_path / "long", base_url=down.base_url, EXTRACTOR_SERVICE_JOB_DEADLINE="600", **backoff)
        with service.client() as client:
            job_id = client.post("/v1/jobs", json={"articles": records(2, "down")}).json()["id"]
            # each try is 2 requests (one transport retry): both articles were tried twice or more
            wait_until(lambda: down.stats.requests >= 2 * 2 * 2, timeout=300)
            job = client.get(f"/v1/jobs/{job_id}").json()
            assert job["status"] == "running" and job["counts"]["failed"] == 0 and job["counts"]["pending"] == 2
            assert client.post(f"/v1/jobs/{job_id}/cancel").status_code == 200
        service.stop()
    # At the deadline: the articles still not done fail as `expired`, with their last error.
    with FaultServer(FaultConfig(rate_500=1.0)) as down:
        service = start(tmp_path / "short", base_url=down.base_url, EXTRACTOR_SERVICE_JOB_DEADLINE="3", **backoff)
        with service.client() as client:
            job_id = client.post("/v1/jobs", json={"articles": records(2, "down")}).json()["id"]
            job = wait_for_job(client, job_id)
            assert job["status"] == "expired" and job["counts"] == {
                "total": 2,
                "done": 0,
                "failed": 2,
                "skipped": 0,
                "pending": 0,
            }
            failures = [json.loads(line) for line in client.get(f"/v1/jobs/{job_id}/failures").text.splitlines()]
            assert {failure["reason"] for failure in failures} == {"expired"}
            assert all("last error" in failure["message"] and failure["tries"] >= 1 for failure in failures)
            assert down.stats.requests % 2 == 0 and down.stats.requests >= 2 * 2


def test_retry_requeues_a_finished_job_s_failed_articles(start):
    with FaultServer(FaultConfig(rate_invalid=1.0)) as model:
        service = start(base_url=model.base_url)
        with service.client() as client:
            job_id = client.post("/v1/jobs", json={"articles": [*records(2, "retry"), {"text": ""}]}).json()["id"]
            assert wait_for_job(client, job_id)["status"] == "failed"  # every article failed
            model.config.rate_invalid = 0.0  # the model answers well now
            retried = client.post(f"/v1/jobs/{job_id}/retry")
            assert retried.status_code == 200 and retried.json()["status"] in ("queued", "running")
            assert retried.json()["counts"] == {"total": 3, "done": 0, "failed": 1, "skipped": 0, "pending": 2}
            job = wait_for_job(client, job_id)
            # the article whose input is bad is not retried: it would fail the same way
            assert job["status"] == "completed_with_failures"
            assert job["counts"] == {"total": 3, "done": 2, "failed": 1, "skipped": 0, "pending": 0}
            assert len(client.get(f"/v1/jobs/{job_id}/results").text.splitlines()) == 2


def _raw_extract(port: int) -> socket.socket:
    body = json.dumps({"text": "Exercise Gone began."}).encode()
    request = (
        f"POST /v1/extract HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {API_KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    connection = socket.create_connection(("127.0.0.1", port))
    connection.sendall(request + body)
    return connection


def test_a_client_that_leaves_cancels_its_queued_request(start):
    with FaultServer(FaultConfig(rate_hang=1.0, hang_seconds=300)) as model:
        service = start(base_url=model.base_url, EXTRACTOR_SERVICE_CONCURRENCY="1", EXTRACTOR_REQUEST_TIMEOUT="120")
        with service.client() as client:
            holder = _raw_extract(service.port)  # takes the one slot and hangs at the model
            wait_until(lambda: model.stats.in_flight == 1)
            leaving = [_raw_extract(service.port) for _ in range(5)]
            wait_until(lambda: metric(client.get("/metrics").text, "extractor_queue_depth") == 5)
            for connection in leaving:
                connection.close()
            wait_until(lambda: metric(client.get("/metrics").text, "extractor_abandoned_requests_total") == 5)
            holder.close()  # the one in flight is given up too
            wait_until(lambda: metric(client.get("/metrics").text, "extractor_abandoned_requests_total") == 6)
            model.config.rate_hang = 0.0
            assert client.post("/v1/extract", json={"text": "Exercise Stays began."}).status_code == 200
        # the slot is handed out first come, first served: had any of the five been left
        # waiting, it would have been sent before the last request
        assert model.stats.requests == 2


# -- several workers ---------------------------------------------------------------------------


def test_two_workers_share_the_queue_and_run_each_article_once(start, fault):
    service = start(EXTRACTOR_SERVICE_WORKERS="2", EXTRACTOR_SERVICE_CONCURRENCY="4")
    sent = fault.stats.requests
    with service.client() as client:
        job_id = client.post("/v1/jobs", json={"articles": records(40, "two")}).json()["id"]
        job = wait_for_job(client, job_id)
        lines = client.get(f"/v1/jobs/{job_id}/results").text.splitlines()
        calls = metric(client.get("/metrics").text, "extractor_model_calls_total")
    assert job["status"] == "completed" and len(lines) == 40
    assert sorted(json.loads(line)["article"]["id"] for line in lines) == sorted(r["id"] for r in records(40, "two"))
    assert fault.stats.requests - sent == 40 and calls == 40  # the metrics add up over both processes
    pids = {int(m) for m in re.findall(r"Started server process \[(\d+)\]", service.log.read_text())}
    assert len(pids) == 2
