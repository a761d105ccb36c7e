"""Reading a job's outcomes: results, failures and review pages, paged, and followed live.

Outcomes are read in the order they ended (each article's `outcome_seq`), a page at a time
from where the previous page stopped: a cursor, never a re-read. `follow` keeps the stream
open until the job ends, waiting between pages for this process's runner to record more
(`Followers.notify`, from the write-behind thread) or, for outcomes recorded by another
process, at most `poll` seconds.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from ..input.article import article_from_record
from ..review.render import render_batch
from .db import ArticleRow, Database, JobRow
from .fetching import fetched_text, url_of

PAGE = 500


class Followers:
    """Events to wake the streams following a job when its outcomes change."""

    def __init__(self) -> None:
        self._waiting: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def notify(self, job_ids: set[str]) -> None:
        """Called from any thread: wake whoever follows these jobs."""
        if self._loop is not None and any(job_id in self._waiting for job_id in job_ids):
            self._loop.call_soon_threadsafe(self._wake, job_ids)

    def _wake(self, job_ids: set[str]) -> None:
        for job_id in job_ids:
            for event in self._waiting.get(job_id, ()):
                event.set()

    @contextmanager
    def following(self, job_id: str) -> Iterator[asyncio.Event]:
        """An event set whenever the job's outcomes change, for as long as the block lasts.

        Registered before anything is read: an outcome recorded between a read and the wait
        after it still wakes the follower (no lost wake-up).
        """
        event = asyncio.Event()
        self._waiting[job_id].add(event)
        try:
            yield event
        finally:
            self._waiting[job_id].discard(event)
            if not self._waiting[job_id]:
                del self._waiting[job_id]


class Reader:
    def __init__(self, db: Database, followers: Followers, *, poll: float = 1.0) -> None:
        self.db = db
        self.followers = followers
        self.poll = poll
        self.reads = 0  # pages read from the database (tests check that followers never re-read)

    async def position(self, job: JobRow, after: str | None) -> int:
        """The outcome number a page starts after: that of article `after` (0: from the start)."""
        if after is None:
            return 0
        found = await asyncio.to_thread(self.db.outcome_position, job.id, after)
        return found if found is not None else 0

    async def page(self, job: JobRow, statuses: tuple[str, ...], after: int, limit: int) -> list[ArticleRow]:
        self.reads += 1
        return await asyncio.to_thread(self.db.outcomes, job.id, statuses=statuses, after=after, limit=limit)

    async def stream(
        self, job: JobRow, statuses: tuple[str, ...], *, after: int, limit: int | None, follow: bool
    ) -> AsyncIterator[ArticleRow]:
        """Outcomes after a position, up to `limit` (None: all), following the job while it runs."""
        sent = 0
        with self.followers.following(job.id) as changed:
            while True:
                want = PAGE if limit is None else min(PAGE, limit - sent)
                if want <= 0:
                    return
                changed.clear()
                # Whether the job was still running is read before the page: an outcome recorded
                # between the two reads is in this page or the next, never lost.
                running = follow and not await self._finished(job.id)
                rows = await self.page(job, statuses, after, want)
                for row in rows:
                    yield row
                sent += len(rows)
                if rows:
                    after = rows[-1].outcome_seq or after
                    if len(rows) == want:
                        continue
                if not running:
                    return
                with suppress(TimeoutError):
                    async with asyncio.timeout(self.poll):  # not wait_for: see JobRunner._loop
                        await changed.wait()

    async def _finished(self, job_id: str) -> bool:
        job = await asyncio.to_thread(self.db.get_job, job_id)
        return job is None or job.finished


def result_line(row: ArticleRow) -> bytes:
    return (row.result or "").encode("utf-8") + b"\n"


def failure_line(row: ArticleRow) -> bytes:
    failure = {
        "id": row.key,
        "reason": row.cause,
        "message": row.message,
        "error_class": row.error_class,
        "http_status": row.http_status,
        "attempts": row.attempts,
        "tries": row.tries,
    }
    return json.dumps(failure, ensure_ascii=False).encode("utf-8") + b"\n"


def article_text(row: ArticleRow, state_dir: Path) -> str | None:
    """The text the article's evidence points into: its record's, or the one fetched from its URL."""
    try:
        record = json.loads(row.record)
        if url_of(record) is not None:
            return fetched_text(state_dir, row.sha256)
        return article_from_record(record, where=row.key).text
    except Exception:
        return None


def review_items(rows: list[ArticleRow], state_dir: Path) -> list[dict[str, Any]]:
    return [
        {"id": row.key, "result": json.loads(row.result or "null"), "text": article_text(row, state_dir)}
        for row in rows
    ]


def review_page(rows: list[ArticleRow], next_url: str | None, state_dir: Path) -> str:
    """A page of the review: the results with their evidence highlighted, and a link to the next page."""
    page = render_batch([(json.loads(row.result or "{}"), article_text(row, state_dir)) for row in rows])
    if next_url is None:
        return page
    link = f'<p class="next-page"><a rel="next" href="{next_url}">next page</a></p>'
    return page.replace("</body>", f"{link}</body>", 1)
