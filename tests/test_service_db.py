"""The service database on a real SQLite file and a real PostgreSQL server: migrations, claims
shared by several processes, leases, counters, and following a job's results from a cursor
without reading anything twice."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time

import pytest

pytest.importorskip("sqlalchemy", reason="needs the service extra")

from sqlalchemy import text

from extractor.jobs.outcome import SKIP_REASON, Origin, Outcome, Status
from extractor.service.db import Database, Finished, JobRow, NewArticle, NewJob, SchemaTooNew, WriteBehind
from extractor.service.db.engine import sqlite_url, transaction
from extractor.service.db.migrations import LATEST, migrate
from extractor.service.db.schema import schema_migrations
from extractor.service.reading import Followers, Reader


def new_job(job_id: str, n: int, *, now: float | None = None, deadline: float = 3600) -> NewJob:
    now = time.time() if now is None else now
    articles = [NewArticle(i, f"a{i}", json.dumps({"id": f"a{i}", "text": f"Text {i}."})) for i in range(n)]
    return NewJob(job_id, "owner", None, now, now + deadline, articles)


def done(key: str) -> Outcome:
    return Outcome(key=key, status=Status.DONE, line=json.dumps({"article": {"id": key}}))


@pytest.fixture
def url(tmp_path, database) -> str:
    return database.get("EXTRACTOR_DATABASE_URL") or sqlite_url(tmp_path / "service.db")


@pytest.fixture
def db(url):
    database = Database(url)
    database.migrate()
    yield database
    database.close()


def test_migrations_are_versioned_and_applied_once(tmp_path, db):
    assert db.migrate() == LATEST  # already there: nothing to do
    with transaction(db.engine, write=True) as connection:
        connection.execute(schema_migrations.insert().values(version=LATEST + 1, name="from the future", applied_at=0))
    with pytest.raises(SchemaTooNew):
        db.migrate()


def test_claims_never_overlap_across_processes(url, db):
    db.create_job(new_job("job_a", 300))
    others = [Database(url) for _ in range(3)]  # as other processes would
    claimed: list[list[tuple[str, int]]] = [[] for _ in others]

    def take(index: int) -> None:
        while claims := others[index].claim(f"worker{index}", 7, time.time(), 60):
            claimed[index] += [(claim.job_id, claim.seq) for claim in claims]

    threads = [threading.Thread(target=take, args=(i,)) for i in range(len(others))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [item for taken in claimed for item in taken]
    assert sorted(every) == [("job_a", seq) for seq in range(300)]  # each article once, none lost
    assert db.get_job("job_a").status == "running"
    for other in others:
        other.close()


def test_a_lost_claim_is_run_again_and_ends_once(db):
    db.create_job(new_job("job_b", 1))
    now = time.time()
    (first,) = db.claim("dead-worker", 10, now, lease=5)
    assert db.claim("other", 10, now, lease=5) == []  # claimed: not handed out twice
    assert db.release_expired_claims(now + 10) == 1  # the dead worker's lease ran out
    (second,) = db.claim("other", 10, now + 10, lease=5)
    assert (second.job_id, second.seq) == (first.job_id, first.seq)
    db.apply([Finished("job_b", 0, "dead-worker", done("a0"))])  # too late: not its claim any more
    assert db.get_job("job_b").done == 0
    db.apply([Finished("job_b", 0, "other", done("a0"))])
    job = db.get_job("job_b")
    assert (job.done, job.status, job.outcome_seq) == (1, "completed", 1)


def test_the_deadline_expires_articles_instead_of_handing_them_out(db):
    now = time.time()
    db.create_job(new_job("job_c", 2, now=now, deadline=1))
    assert db.claim("w", 10, now + 2, lease=5) == []
    job = db.get_job("job_c")
    assert (job.status, job.failed, job.expired) == ("expired", 2, 2)
    assert {row.cause for row in db.outcomes("job_c", statuses=("failed",))} == {"expired"}


def skipped(key: str) -> Outcome:
    return Outcome(key=key, status=Status.SKIPPED, origin=Origin.TRIAGED, message=SKIP_REASON)


def test_skipped_articles_end_the_job_counted_apart_from_failures(db):
    db.create_job(dataclasses.replace(new_job("job_t", 3), triage=True))
    claims = db.claim("w", 10, time.time(), 60)
    assert [claim.triage for claim in claims] == [True] * 3  # the runner runs them with triage
    db.apply([Finished("job_t", 0, "w", done("a0")), Finished("job_t", 1, "w", skipped("a1"))])
    job = db.get_job("job_t")
    assert (job.triage, job.done, job.skipped, job.failed, job.pending, job.status) == (True, 1, 1, 0, 1, "running")
    assert db.queued_articles() == 1
    db.apply([Finished("job_t", 2, "w", skipped("a2"))])
    job = db.get_job("job_t")
    assert (job.done, job.skipped, job.failed, job.pending, job.status) == (1, 2, 0, 0, "completed")
    assert db.outcomes("job_t", statuses=("failed",)) == []
    assert [row.key for row in db.outcomes("job_t", statuses=("skipped",))] == ["a1", "a2"]
    db.create_job(new_job("job_u", 1))
    assert db.claim("w", 10, time.time(), 60)[0].triage is False  # the default


def test_a_version_1_database_upgrades_and_keeps_its_jobs(url, db):
    db.create_job(new_job("job_old", 2))
    (first, _) = db.claim("w", 10, time.time(), 60)
    db.apply([Finished(first.job_id, first.seq, "w", done(first.key))])
    # Back to schema version 1: the jobs table as it was before triage.
    with transaction(db.engine, write=True) as connection:
        for column in ("triage", "skipped"):
            connection.execute(text(f"ALTER TABLE jobs DROP COLUMN {column}"))
        connection.execute(schema_migrations.delete().where(schema_migrations.c.version > 1))
        assert {"triage", "skipped"}.isdisjoint(connection.execute(text("SELECT * FROM jobs")).keys())
    assert migrate(db.engine) == 1
    with transaction(db.engine, write=False) as connection:
        assert connection.execute(text("SELECT max(version) FROM schema_migrations")).scalar_one() == LATEST
    job = db.get_job("job_old")
    assert (job.triage, job.skipped, job.done, job.pending, job.status) == (False, 0, 1, 1, "running")
    db.apply([Finished("job_old", 1, "w", done("a1"))])
    assert db.get_job("job_old").status == "completed"
    db.create_job(dataclasses.replace(new_job("job_new", 1), triage=True))
    assert db.get_job("job_new").triage is True


async def test_following_reads_each_outcome_once_and_wakes_when_one_is_recorded(db):
    n = 25
    db.create_job(new_job("job_d", n))
    followers = Followers()
    followers.bind(asyncio.get_running_loop())
    writer = WriteBehind(db, followers.notify)
    pages: list[tuple[int, int]] = []
    outcomes = db.outcomes

    def counted(job_id: str, *, statuses: tuple[str, ...], after: int = 0, limit: int = 500):
        rows = outcomes(job_id, statuses=statuses, after=after, limit=limit)
        pages.append((after, len(rows)))
        return rows

    db.outcomes = counted  # type: ignore[method-assign]
    # A poll of an hour: the follower only gets on because the writer wakes it.
    reader = Reader(db, followers, poll=3600)
    job = db.get_job("job_d")
    assert isinstance(job, JobRow)
    received: list[str] = []

    async def follow() -> None:
        async for row in reader.stream(job, ("done",), after=0, limit=None, follow=True):
            received.append(row.key)

    following = asyncio.ensure_future(follow())
    claims = await asyncio.to_thread(db.claim, "w", n, time.time(), 60)
    for claim in claims:
        writer.submit(Finished(claim.job_id, claim.seq, "w", done(claim.key)))
        await writer.flush()
        await asyncio.sleep(0)
    await asyncio.wait_for(following, 60)
    writer.close()
    assert received == [f"a{i}" for i in range(n)]
    cursors = [after for after, _ in pages]
    assert cursors == sorted(cursors)  # always onwards from where it was
    assert sum(count for _, count in pages) == n  # every outcome read exactly once


async def test_the_writer_outlives_a_failing_wake_up_and_flush_is_bounded(db):
    """A follower wake-up that raises once used to end the writer thread, and every later flush
    (the one in the service's shutdown too) waited for ever."""
    db.create_job(new_job("job_w", 2))
    woken: list[set[str]] = []

    def wake(job_ids: set[str]) -> None:
        woken.append(job_ids)
        if len(woken) == 1:
            raise RuntimeError("event loop is closed")

    writer = WriteBehind(db, wake)
    claims = await asyncio.to_thread(db.claim, "w", 2, time.time(), 60)
    for claim in claims:
        writer.submit(Finished(claim.job_id, claim.seq, "w", done(claim.key)))
        assert await writer.flush(timeout=60) is True
    assert woken == [{"job_w"}, {"job_w"}]
    assert db.get_job("job_w").status == "completed"
    # a writer stuck applying a batch: flush says so in time instead of waiting with it
    stuck = threading.Event()
    apply = db.apply
    db.apply = lambda batch: stuck.wait(60) and apply(batch)  # type: ignore[method-assign]
    writer.submit(Finished("job_w", 0, "w", done("a0")))
    assert await writer.flush(timeout=0.5) is False
    stuck.set()
    writer.close()
