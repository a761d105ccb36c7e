"""The job runner: claims due articles from the database and runs each through the unit of work.

Every service process runs one. It takes articles in batches (`Database.claim`) while it has
room (`capacity`: the model slots plus a few prepared ahead), runs each with `run_unit` and
records the outcome through `ArticleRecorder`, the unit's `OutcomeStore` on the database
(written behind, in batches). A heartbeat renews the claims of the articles it is working on,
so a process that dies leaves them to the others once their lease runs out; at start-up the
claims of a previous run on this host are released at once (SQLite: one host; with
PostgreSQL other replicas' claims are left to expire). The job articles' rate limits are
this process's share (`limiter`): the service's split evenly among replicas and workers.

An article that failed because the model server could not be reached, was overloaded (429)
or failed (5xx, timeouts) after its retries goes back to the queue with an exponential
backoff, until the job's deadline; an article still not done then fails as `expired`.

An article of a triage job runs with `Work(triage=True)`: one the rules find nothing in ends
`skipped` before the limiter or the model is asked.

An article given as a URL is fetched and read when it is taken (`fetching.JobFetcher`); a
page that cannot be fetched is that article's failure, cause `fetch`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass

from ..errors import Cause, JobStopped
from ..input.sources import SourcedArticle, SourceItem
from ..jobs.limiter import JobLimiter
from ..jobs.outcome import Adopt, Origin, Outcome, Status, copy_header
from ..jobs.unit import Work, run_unit
from ..model_call.gate import prepared_ahead
from ..schemas import Usage
from .access_log import log_event
from .db import Claim, Database, Finished, Released, Spent, WriteBehind
from .db.recording import EXPIRED_MESSAGE
from .fetching import JobFetcher, url_of
from .intake import article_item
from .jobs import Engine, GatedExtractor, grounding_mode
from .stopping import PATIENCE, within

logger = logging.getLogger("extractor.service")

# Failures of the model server, not of the article: the article waits for it to come back.
OUTAGE_CAUSES = frozenset({Cause.CONNECTION, Cause.RATE_LIMITED, Cause.SERVER_ERROR, Cause.TIMEOUT})


@dataclass(frozen=True)
class RunnerOptions:
    lease: float = 60.0  # seconds a claim lasts without a heartbeat
    poll: float = 0.5  # seconds between looks for work queued by other processes or now due
    backoff: float = 10.0  # first wait before an article that met an outage is tried again
    backoff_max: float = 600.0


class ArticleRecorder:
    """The unit of work's store (`OutcomeStore`) for one claimed article, on the database."""

    def __init__(
        self, claim: Claim, worker: str, writer: WriteBehind, options: RunnerOptions, earlier: Outcome | None
    ) -> None:
        self.claim = claim
        self.worker = worker
        self.writer = writer
        self.options = options
        self._earlier = earlier
        self.released = False

    def earlier(self, item: SourcedArticle, reuse_key: str, adopt: Adopt = copy_header) -> Outcome | None:
        # Looked up and adopted ahead, in a thread, for the whole claimed batch (`JobRunner._earlier`).
        if self._earlier is None:
            return None
        self.record(self._earlier)
        return self._earlier

    def started(self, key: str) -> None:
        """Nothing to write: claiming the article made it running."""

    def spent(self, key: str, usage: Usage, *, calls: int = 1) -> None:
        claim = self.claim
        self.writer.submit(Spent(claim.owner, usage, calls, job_id=claim.job_id, seq=claim.seq))

    def record(self, outcome: Outcome) -> None:
        requeue_at = None
        if outcome.status is Status.FAILED and outcome.cause in OUTAGE_CAUSES:
            now = time.time()
            if now < self.claim.deadline_at:
                delay = min(self.options.backoff * 2**self.claim.tries, self.options.backoff_max)
                requeue_at = min(now + delay, self.claim.deadline_at)
            else:
                outcome.message = f"{EXPIRED_MESSAGE}; last error: {outcome.message}"
                outcome.cause = Cause.EXPIRED
        self.writer.submit(Finished(self.claim.job_id, self.claim.seq, self.worker, outcome, requeue_at))

    def release(self, key: str) -> None:
        self.released = True


class JobRunner:
    """This process's runner of job articles."""

    def __init__(
        self, db: Database, engine: Engine, writer: WriteBehind, options: RunnerOptions, fetcher: JobFetcher,
        limiter: JobLimiter | None = None,
    ) -> None:  # fmt: skip
        self.db = db
        self.fetcher = fetcher
        self.limiter = limiter  # this process's share of the job articles' rate limits
        self.engine = engine
        self.writer = writer
        self.options = options
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        slots = engine.gate.slots
        self.capacity = slots + prepared_ahead(slots)
        self.active: dict[tuple[str, int], asyncio.Task[None]] = {}
        self._cancelled: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False  # how `stop` ends the loop: a cancel mid-claim would strand the claim

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="job-runner")

    def wake(self) -> None:
        self._wake.set()

    def retry_job(self, job_id: str) -> None:
        self._cancelled.discard(job_id)
        self.wake()

    def cancel_job(self, job_id: str) -> None:
        """Stop this process's articles of a cancelled job now (they go back as cancelled)."""
        self._cancelled.add(job_id)
        for (owner_job, _), task in list(self.active.items()):
            if owner_job == job_id:
                task.cancel()

    async def stop(self, patience: float = PATIENCE) -> None:
        """Stop claiming; articles in process go back to the queue for the next start.

        The loop is asked to end, not cancelled: cancelled during a claim, it would leave the
        articles just claimed running for no one until their lease ran out. Each step waits at
        most `patience` seconds: an article that does not stop in time keeps its claim, which
        expires with its lease."""
        self._stopping = True
        self.wake()
        if self._task is not None and not await within("claiming", [self._task], patience):
            self._task.cancel()
        tasks = list(self.active.values())
        for task in tasks:
            task.cancel()
        await within(f"stopping {len(tasks)} articles", tasks, patience)
        await within("closing the page fetcher", [self.fetcher.aclose()], patience)
        if not await self.writer.flush(patience):
            log_event("shutdown_step_slow", step="recording outcomes", seconds=patience)

    # -- the loop ----------------------------------------------------------------------------

    async def _loop(self) -> None:
        beat_every = min(self.options.lease / 3, 5.0)
        last_beat = 0.0
        while not self._stopping:
            try:
                now = time.time()
                if now - last_beat >= beat_every:
                    last_beat = now
                    await self._heartbeat(now)
                free = self.capacity - len(self.active)
                # Claimed in batches: one transaction for several articles, not one each.
                if free >= max(1, self.capacity // 8) or (free > 0 and not self.active):
                    claims = await asyncio.to_thread(self.db.claim, self.worker, free, now, self.options.lease)
                    if claims:
                        # Started even when stopping meanwhile: `stop` then cancels them, and a
                        # cancelled article goes back to the queue at once.
                        await self._start(claims)
                        continue
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database failed: say so, try again after a pause
                log_event("runner_error", error=f"{type(error).__name__}: {str(error).splitlines()[0]}")
            self._wake.clear()
            if self._stopping:
                return
            # Not `asyncio.wait_for`: on Python 3.11 it returns, dropping the cancellation, when
            # the event is set in the same turn as `stop` cancels the loop, which then ran on.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.options.poll):
                    await self._wake.wait()

    async def _heartbeat(self, now: float) -> None:
        claimed = list(self.active)
        await asyncio.to_thread(self.db.extend_claims, self.worker, claimed, now + self.options.lease)
        cancelled = await asyncio.to_thread(self.db.cancelled_among, {job_id for job_id, _ in claimed})
        newly, self._cancelled = cancelled - self._cancelled, cancelled
        for job_id in newly:  # cancelled through another process
            self.cancel_job(job_id)
        await asyncio.to_thread(self.db.release_expired_claims, now)

    async def _start(self, claims: list[Claim]) -> None:
        loop = asyncio.get_running_loop()
        # URL articles (`{"url": ...}` without text) are fetched first, each in its own task.
        urls = [claim for claim in claims if '"url"' in claim.record and url_of(json.loads(claim.record)) is not None]
        for claim in urls:
            self.active[(claim.job_id, claim.seq)] = loop.create_task(self._run(claim, None, None))
        items = [
            (claim, article_item(claim.seq, claim.record, self.engine.settings.max_input_bytes))
            for claim in claims
            if claim not in urls
        ]
        earlier = await asyncio.to_thread(self._earlier, items)
        for claim, item in items:
            task = loop.create_task(self._run(claim, item, earlier.get((claim.job_id, claim.seq))))
            self.active[(claim.job_id, claim.seq)] = task

    def _earlier(self, items: list[tuple[Claim, SourceItem]]) -> dict[tuple[str, int], Outcome]:
        """Results of identical texts extracted before for the same owner: copied, not asked again
        (looked up in one read for the claimed batch)."""
        wanted = [
            (claim, item, self.engine.extractor(grounding_mode(claim.grounding)).reuse_key)
            for claim, item in items
            if isinstance(item, SourcedArticle)
        ]
        known = self.db.find_earlier((claim.owner, item.article.sha256, reuse_key) for claim, item, reuse_key in wanted)
        found: dict[tuple[str, int], Outcome] = {}
        for claim, item, reuse_key in wanted:
            earlier = known.get((claim.owner, item.article.sha256, reuse_key))
            if earlier is None:
                continue
            source_key, line = earlier
            result = self.engine.copy_result(line, item.article)
            found[(claim.job_id, claim.seq)] = Outcome.of(
                item, Status.DONE, line=result, origin=Origin.REUSED, reuse_key=reuse_key, reused_from=source_key
            )
        return found

    async def _run(self, claim: Claim, item: SourceItem | None, earlier: Outcome | None) -> None:
        """Run a claimed article; `item` None: a URL article, whose page is fetched and read first
        (a page that cannot be is the article's failure, cause `fetch`)."""
        try:
            if item is None:
                item = await self.fetcher.item(f"article {claim.seq + 1}", claim.record)
                found = await asyncio.to_thread(self._earlier, [(claim, item)])
                earlier = found.get((claim.job_id, claim.seq))
            recorder = ArticleRecorder(claim, self.worker, self.writer, self.options, earlier)
            extractor = GatedExtractor(self.engine, grounding_mode(claim.grounding), source="job")
            work = Work(
                extractor, recorder, limiter=self.limiter, stopping=lambda: claim.job_id in self._cancelled,
                triage=claim.triage,
            )  # fmt: skip
            outcome = await run_unit(item, work)
            if outcome is None:
                self.writer.submit(Released(claim.job_id, claim.seq, self.worker))
            elif outcome.origin is Origin.INPUT:
                self.engine.metrics.failures.labels(str(outcome.cause)).inc()
        except asyncio.CancelledError:
            self.writer.submit(Released(claim.job_id, claim.seq, self.worker))
        except JobStopped as error:
            # The model server refuses the credentials: every article would be refused alike.
            retry_at = time.time() + self.options.backoff
            message = str(error).splitlines()[0]
            self.writer.submit(Released(claim.job_id, claim.seq, self.worker, retry_at=retry_at, error=message))
        except Exception as error:  # a bug of ours or the database: the article is tried again later
            retry_at = time.time() + self.options.backoff
            message = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            log_event("article_stopped", job_id=claim.job_id, article=claim.key, error=message)
            self.writer.submit(Released(claim.job_id, claim.seq, self.worker, retry_at=retry_at, error=message))
        finally:
            self.active.pop((claim.job_id, claim.seq), None)
            self.wake()
