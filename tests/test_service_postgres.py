"""Several `extractor serve` replicas on one real PostgreSQL server: shared work, kill -9 of a
replica, reads from any replica, the database going away and coming back, start-up errors,
migrations under an advisory lock, and moving a SQLite state folder in."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="needs the service extra")
pytest.importorskip("psycopg", reason="needs the postgres extra")

from sqlalchemy import func, select

from extractor.service.db import Database
from extractor.service.db.migrations import STEPS
from extractor.service.db.schema import articles, schema_migrations
from extractor.testing.faultserver import FaultConfig, FaultServer
from extractor.testing.postgres import PostgresServer, postgres_bin
from tests.support.service_process import EXTRACTOR, ServiceProcess, free_port, service_env, wait_for_job

SLOTS = 4


def records(n: int, prefix: str) -> list[dict]:
    return [{"id": f"{prefix}{i}", "text": f"Exercise {prefix} {i} began with {i} aircraft."} for i in range(n)]


def wait_until(predicate, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def replica(tmp_path: Path, name: str, env: dict[str, str], *args: str) -> ServiceProcess:
    workdir = tmp_path / name
    workdir.mkdir(parents=True, exist_ok=True)
    return ServiceProcess(workdir, env, args=args)


def result_ids(process: ServiceProcess, job_id: str) -> list[str]:
    with process.client() as client:
        lines = client.get(f"/v1/jobs/{job_id}/results").text.splitlines()
    return [json.loads(line)["article"]["id"] for line in lines]


def claimed_by(url: str, process: ServiceProcess) -> int:
    """Articles the database holds as running for one replica (its runner's id starts host:pid:)."""
    assert process.process is not None
    db = Database(url)
    try:
        with db.engine.connect() as connection:
            query = select(func.count()).where(
                articles.c.status == "running", articles.c.claimed_by.like(f"%:{process.process.pid}:%")
            )
            return int(connection.execute(query).scalar_one())
    finally:
        db.close()


@pytest.fixture
def stopped(request):
    """Processes to stop at the end of the test, whatever happens."""
    processes: list[ServiceProcess] = []
    yield processes
    for process in processes:
        process.stop()


def test_replicas_starting_together_migrate_once(postgres_server):
    url = postgres_server.new_database()
    replicas = [Database(url) for _ in range(4)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(replicas))

    def migrate(db: Database) -> None:
        start.wait()
        try:
            db.migrate()
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=migrate, args=(db,)) for db in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        with replicas[0].engine.connect() as connection:
            versions = connection.execute(select(schema_migrations.c.version, func.count()).group_by("version")).all()
        assert sorted(tuple(row) for row in versions) == [(step.version, 1) for step in STEPS]  # each once
    finally:
        for db in replicas:
            db.close()


def test_two_replicas_a_killed_with_kill9_b_finishes_each_article_once(postgres_server, tmp_path, stopped):
    n = 60
    with FaultServer(FaultConfig(latency=0.3)) as model:
        env = service_env(
            model.base_url, EXTRACTOR_DATABASE_URL=postgres_server.new_database(),
            EXTRACTOR_SERVICE_CONCURRENCY=str(SLOTS), EXTRACTOR_SERVICE_CLAIM_LEASE="10",
        )  # fmt: skip
        a = replica(tmp_path, "a", env).start()
        b = replica(tmp_path, "b", env).start()
        stopped += [a, b]
        with a.client() as client_a, b.client() as client_b:
            job_id = client_a.post("/v1/jobs", json={"articles": records(n, "r")}).json()["id"]
            assert client_b.get(f"/v1/jobs/{job_id}").status_code == 200  # visible once the POST is answered
            wait_until(lambda: client_b.get(f"/v1/jobs/{job_id}").json()["counts"]["done"] >= 10)
            a.kill()
            held_by_a = claimed_by(env["EXTRACTOR_DATABASE_URL"], a)  # A's in-flight articles, left to expire
            done_at_kill = client_b.get(f"/v1/jobs/{job_id}").json()["counts"]["done"]
            assert done_at_kill < n and held_by_a  # mid-job
            job = wait_for_job(client_b, job_id, timeout=300)
        assert job["status"] == "completed" and job["counts"]["done"] == n
        ids = result_ids(b, job_id)
        assert sorted(ids) == sorted(record["id"] for record in records(n, "r"))  # each article once
        # sent at most once each, plus A's in-flight ones (claimed, maybe sent, never recorded)
        assert n <= model.stats.requests <= n + held_by_a
        # usage counts the calls whose end was recorded: all of B's, A's up to the kill
        assert n <= job["usage"]["model_calls"] <= model.stats.requests


def test_any_replica_answers_the_same_status_results_failures_and_follows(postgres_server, tmp_path, stopped):
    with FaultServer(FaultConfig(latency=0.05)) as model:
        env = service_env(model.base_url, EXTRACTOR_DATABASE_URL=postgres_server.new_database())
        a = replica(tmp_path, "a", env).start()
        b = replica(tmp_path, "b", env).start()
        stopped += [a, b]
        lines = [json.dumps(record) for record in records(20, "f")] + ["{not json", json.dumps({"id": "no-text"})]
        body = ("\n".join(lines) + "\n").encode()
        with a.client() as client_a, b.client() as client_b:
            created = client_a.post("/v1/jobs", content=body, headers={"content-type": "application/x-ndjson"})
            job_id = created.json()["id"]
            with client_b.stream("GET", f"/v1/jobs/{job_id}/results", params={"follow": "true"}) as stream:
                followed = [json.loads(line)["article"]["id"] for line in stream.iter_lines() if line]
            job_a, job_b = (wait_for_job(client, job_id) for client in (client_a, client_b))
            assert sorted(followed) == sorted(record["id"] for record in records(20, "f"))
            assert job_a == job_b and job_a["status"] == "completed_with_failures"
            for path in (f"/v1/jobs/{job_id}/results", f"/v1/jobs/{job_id}/failures", "/v1/jobs", "/v1/usage"):
                assert client_a.get(path).text == client_b.get(path).text, path
            assert len(client_b.get(f"/v1/jobs/{job_id}/failures").text.splitlines()) == 2
            review = client_b.get(f"/v1/jobs/{job_id}/review", headers={"accept": "application/json"})
            assert review.status_code == 200
            for client in (client_a, client_b):  # job counts come from the database, whichever replica
                metrics = client.get("/metrics").text
                assert 'extractor_jobs{status="completed_with_failures"} 1.0' in metrics


@pytest.fixture
def own_server():
    """A PostgreSQL server of the test's own, to stop and start again."""
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed")
    server = PostgresServer(bindir).start()
    yield server
    server.close()


def test_start_up_waits_for_the_database_and_work_survives_it_going_away(own_server, tmp_path, stopped):
    n = 30
    url = own_server.new_database()
    own_server.stop()
    with FaultServer(FaultConfig(latency=0.2)) as model:
        env = service_env(
            model.base_url, EXTRACTOR_DATABASE_URL=url, EXTRACTOR_SERVICE_CONCURRENCY=str(SLOTS),
            EXTRACTOR_SERVICE_READINESS_TTL="0", EXTRACTOR_SERVICE_DATABASE_WAIT="120",
        )  # fmt: skip
        process = replica(tmp_path, "a", env)
        stopped.append(process)
        starting = threading.Thread(target=process.start)
        starting.start()
        time.sleep(1)  # not a timing assertion: the server is merely started after serve began waiting
        own_server.launch()
        starting.join()
        assert process.process is not None and process.process.poll() is None
        with process.client() as client:
            assert client.get("/readyz").status_code == 200
            job_id = client.post("/v1/jobs", json={"articles": records(n, "o")}).json()["id"]
            wait_until(lambda: client.get(f"/v1/jobs/{job_id}").json()["counts"]["done"] >= 3)
            own_server.stop()
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert any("database" in problem for problem in ready.json()["problems"])
            own_server.launch()
            job = wait_for_job(client, job_id, timeout=300)
            assert client.get("/readyz").status_code == 200
        assert job["status"] == "completed" and job["counts"]["done"] == n
        assert sorted(result_ids(process, job_id)) == sorted(record["id"] for record in records(n, "o"))
        assert job["usage"]["model_calls"] == model.stats.requests  # every call made is counted


@pytest.mark.parametrize("problem", ["password", "no server", "not a url"])
def test_a_wrong_database_url_is_one_line_and_exit_3(postgres_server, tmp_path, problem):
    url = {
        "password": postgres_server.url(password="not-the-password"),
        "no server": f"postgresql://someone:secret-pw@127.0.0.1:{free_port()}/db",
        "not a url": "postgresql://someone:secret-pw@127.0.0.1:notaport/db",
    }[problem]
    env = service_env("http://127.0.0.1:9/v1", EXTRACTOR_SERVICE_DATABASE_WAIT="1")
    command = [EXTRACTOR, "serve", "--port", str(free_port()), "--state-dir", str(tmp_path / "state")]
    run = subprocess.run(
        [*command, "--database-url", url], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 3, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "service database" in lines[0], run.stderr
    assert "not-the-password" not in run.stderr and "secret-pw" not in run.stderr


def test_migrate_from_moves_a_sqlite_state_folder_into_postgresql(postgres_server, tmp_path, stopped):
    state = tmp_path / "sqlite-state"
    with FaultServer(FaultConfig(latency=0.2)) as model:
        old = ServiceProcess(tmp_path, service_env(model.base_url, EXTRACTOR_SERVICE_CONCURRENCY="2"), state)
        stopped.append(old.start())
        with old.client() as client:
            finished = client.post("/v1/jobs", json={"articles": records(5, "m")}).json()["id"]
            wait_for_job(client, finished)
            unfinished = client.post("/v1/jobs", json={"articles": records(20, "u")}).json()["id"]
            wait_until(lambda: client.get(f"/v1/jobs/{unfinished}").json()["counts"]["done"] >= 2)
            before = client.get(f"/v1/jobs/{finished}").json()
            usage = client.get("/v1/usage").json()
        old.kill()  # mid-job: its running articles are moved as pending
        url = postgres_server.new_database()
        env = service_env(model.base_url)
        new = replica(tmp_path, "pg", env, "--database-url", url, "--migrate-from", str(state)).start()
        stopped.append(new)
        with new.client() as client:
            assert client.get(f"/v1/jobs/{finished}").json() == before
            assert sorted(result_ids(new, finished)) == sorted(record["id"] for record in records(5, "m"))
            job = wait_for_job(client, unfinished, timeout=300)
            assert job["status"] == "completed"
            assert sorted(result_ids(new, unfinished)) == sorted(record["id"] for record in records(20, "u"))
            calls = sum(row["calls"] for row in client.get("/v1/usage").json()["data"])
            assert calls >= sum(row["calls"] for row in usage["data"])  # the old usage came along
        new.stop()
        again = replica(tmp_path, "pg2", env, "--database-url", url, "--migrate-from", str(state)).start()
        stopped.append(again)
        with again.client() as client:  # a second copy adds nothing twice
            assert client.get(f"/v1/jobs/{finished}").json() == before
            assert len(client.get("/v1/jobs").json()["data"]) == 2


def test_rate_limits_are_split_evenly_among_the_replicas(postgres_server, tmp_path, stopped):
    # 4 requests a minute for 2 replicas: each may send 2 at once (a minute's allowance), then one
    # every 30 s. Without the split each would send 4; without limits, all 40 at once.
    with FaultServer(FaultConfig(latency=0.05)) as model:
        env = service_env(
            model.base_url, EXTRACTOR_DATABASE_URL=postgres_server.new_database(),
            EXTRACTOR_SERVICE_CONCURRENCY=str(SLOTS), EXTRACTOR_SERVICE_RPM="4", EXTRACTOR_SERVICE_REPLICAS="2",
        )  # fmt: skip
        a = replica(tmp_path, "a", env).start()
        b = replica(tmp_path, "b", env).start()
        stopped += [a, b]
        with a.client() as client:
            job_id = client.post("/v1/jobs", json={"articles": records(40, "l")}).json()["id"]
            wait_until(lambda: model.stats.requests >= 4)
            time.sleep(2)  # not a timing assertion: a slower machine can only send fewer
            assert model.stats.requests == 4
            wait_until(lambda: client.get(f"/v1/jobs/{job_id}").json()["counts"]["done"] == 4)
            assert model.stats.requests == 4
