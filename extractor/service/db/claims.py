"""The queue: runners claim due articles, keep their claims alive, and lose them when they stop.

Claims take pending articles whose next attempt is due (`FOR UPDATE SKIP LOCKED` where the
database has it; SQLite's `BEGIN IMMEDIATE` serializes writers instead) and mark them
running for one runner until a lease time, which its heartbeat extends.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, select, update

from .recording import RecordingMixin
from .rows import Claim
from .schema import articles, jobs

Earlier = tuple[str, str, str]  # (owner, sha256, reuse_key): a text done before for the same owner


class ClaimsMixin(RecordingMixin):
    """Claims on articles, as `Database` methods (an article's end is recording's)."""

    _read: Callable[[], Any]
    _write: Callable[[], Any]

    def claim(self, worker: str, limit: int, now: float, lease: float) -> list[Claim]:
        """Up to `limit` due articles, now running for `worker` until `now + lease`.

        Articles whose job's deadline has passed are not handed out: they fail as `expired`.
        """
        due = (
            select(
                articles.c.job_id, articles.c.seq, articles.c.key, articles.c.owner, articles.c.record,
                articles.c.deadline_at, articles.c.tries,
            )
            .where(articles.c.status == "pending", articles.c.next_attempt_at <= now)
            .order_by(articles.c.next_attempt_at, articles.c.job_id, articles.c.seq)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )  # fmt: skip
        with self._write() as connection:
            rows = connection.execute(due).all()
            if not rows:
                return []
            live = [row for row in rows if row.deadline_at > now]
            for row in rows:
                if row.deadline_at <= now:
                    self._end(connection, row.job_id, row.seq, now, expired=True)
            if live:
                connection.execute(
                    update(articles)
                    .where(articles.c.job_id == bindparam("b_job"), articles.c.seq == bindparam("b_seq"))
                    .values(status="running", claimed_by=worker, claim_expires=now + lease, updated_at=now),
                    [{"b_job": row.job_id, "b_seq": row.seq} for row in live],
                )
                job_ids = sorted({row.job_id for row in live})
                connection.execute(
                    update(jobs)
                    .where(jobs.c.id.in_(job_ids), jobs.c.status == "queued")
                    .values(status="running", started_at=now)
                )
                options = {
                    row.id: (row.grounding, row.triage)
                    for row in connection.execute(
                        select(jobs.c.id, jobs.c.grounding, jobs.c.triage).where(jobs.c.id.in_(job_ids))
                    )
                }
            for job_id in {row.job_id for row in rows if row.deadline_at <= now}:
                self._settle(connection, job_id, now)
        return [
            Claim(
                row.job_id,
                row.seq,
                row.key,
                row.owner,
                row.record,
                options[row.job_id][0],
                row.deadline_at,
                row.tries,
                bool(options[row.job_id][1]),
            )
            for row in live
        ]

    def extend_claims(self, worker: str, claimed: Sequence[tuple[str, int]], until: float) -> None:
        """The runner still works on these articles: their claims last until `until`."""
        if not claimed:
            return
        with self._write() as connection:
            connection.execute(
                update(articles)
                .where(
                    articles.c.job_id == bindparam("b_job"), articles.c.seq == bindparam("b_seq"),
                    articles.c.status == "running", articles.c.claimed_by == worker,
                )
                .values(claim_expires=until),
                [{"b_job": job_id, "b_seq": seq} for job_id, seq in claimed],
            )  # fmt: skip

    def release_expired_claims(self, now: float, *, all_of_them: bool = False) -> int:
        """Articles whose runner stopped renewing its claim (it died) go back to the queue.

        `all_of_them`: every running article, at start-up, when this host's processes (none
        running yet) are the database's only runners, as with SQLite; never with PostgreSQL,
        where other replicas hold claims of their own.
        """
        running = articles.c.status == "running"
        with self._write() as connection:
            stale = connection.execute(
                select(articles.c.job_id, articles.c.seq).where(
                    running if all_of_them else and_(running, articles.c.claim_expires < now)
                )
            ).all()
            for row in stale:
                # Guarded again: with several replicas the owner may have ended it meanwhile.
                guard = running if all_of_them else and_(running, articles.c.claim_expires < now)
                self._give_back(connection, row.job_id, row.seq, None, now, guard)
        return len(stale)

    def cancelled_among(self, job_ids: Iterable[str]) -> set[str]:
        ids = list(job_ids)
        if not ids:
            return set()
        with self._read() as connection:
            return set(
                connection.execute(select(jobs.c.id).where(jobs.c.id.in_(ids), jobs.c.cancel_requested)).scalars()
            )

    def find_earlier(self, wanted: Iterable[Earlier]) -> dict[Earlier, tuple[str, str]]:
        """(key, result) of an identical text each owner already had extracted with the same reuse
        key, for every (owner, sha256, reuse_key) that has one: one query per owner and reuse key."""
        groups: dict[tuple[str, str], set[str]] = defaultdict(set)
        for owner, sha256, reuse_key in wanted:
            groups[(owner, reuse_key)].add(sha256)
        found: dict[Earlier, tuple[str, str]] = {}
        with self._read() as connection:
            for (owner, reuse_key), hashes in groups.items():
                rows = connection.execute(
                    select(articles.c.sha256, articles.c.key, articles.c.result).where(
                        articles.c.owner == owner, articles.c.reuse_key == reuse_key,
                        articles.c.sha256.in_(sorted(hashes)), articles.c.status == "done",
                        articles.c.result.is_not(None),
                    )
                )  # fmt: skip
                for row in rows:
                    found.setdefault((owner, row.sha256, reuse_key), (row.key, row.result))
        return found
