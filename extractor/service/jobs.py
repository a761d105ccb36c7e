"""The one adapter between the service and the extraction library: the unit of work, BatchJob, JobStore.

Everything the service knows about how extraction and batch jobs work is here, so a change
to those APIs is adapted in this module alone.

A job is a folder under `<state>/jobs/<id>/`: `articles.jsonl` (its input, one JSON record a
line, written before the job is acknowledged), `store.sqlite` (its own JobStore, so no job
ever waits on another's store) and `job.json` (created/finished times, grounding, cancelled).
A job without `finished_at` is resumed when the service starts; the store's rule (a row left
`running` goes back to `pending`, a `done` row is never redone) makes each article end
exactly once however often the process dies.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ..engines.local import BatchJob
from ..errors import ConfigError, InputError, cause_of
from ..input.article import ArticleInput, article_from_record
from ..input.sources import InputFailure, SourcedArticle, SourceItem
from ..jobs.outcome import Origin, Status
from ..jobs.store import JobStore, Plan, StoreReader, open_reader
from ..jobs.summary import estimated_cost
from ..jobs.unit import Work, run_unit
from ..model_call.retry import Throttle
from ..output.files import write_atomically, write_json_atomically
from ..pipeline import Extractor
from ..review.render import render_batch
from ..schemas import ArticleExtraction, Usage
from ..settings import GroundingMode, Settings
from .access_log import log_event
from .intake import INVALID, read_stored
from .limits import ExtractionGate, Overloaded
from .metrics import Metrics
from .problems import ApiError

READ_PAGE = 500


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# -- extraction ---------------------------------------------------------------------------


class Engine:
    """One Extractor per grounding mode, every extraction through the shared gate and metered."""

    def __init__(self, settings: Settings, gate: ExtractionGate, metrics: Metrics) -> None:
        self.settings = settings
        self.gate = gate
        self.metrics = metrics
        # One throttle for everything: a 429's Retry-After pauses every caller, not one.
        self.throttle = Throttle()
        self._extractors: dict[str, Extractor] = {}

    def extractor(self, grounding: GroundingMode | None = None) -> Extractor:
        """The Extractor for a grounding mode (ConfigError when no provider can run)."""
        mode = grounding or self.settings.grounding
        if mode not in self._extractors:
            self._extractors[mode] = Extractor(settings=self.settings, grounding=mode, throttle=self.throttle)
        return self._extractors[mode]

    def ready(self) -> str | None:
        """None when a provider is configured, else why not."""
        try:
            self.extractor()
        except ConfigError as error:
            return str(error)
        return None

    def article(self, record: Any, where: str) -> ArticleInput:
        return article_from_record(record, where=where, max_bytes=self.settings.max_input_bytes)

    async def extract(self, article: ArticleInput, grounding: GroundingMode | None) -> ArticleExtraction:
        """Extract one request's article now (the unit of work, recording nothing); its error as raised.

        A request may get 429 instead of waiting when too many wait already.
        """
        work = Work(GatedExtractor(self, grounding, source="request"), stop_on_refusal=False, keep_exceptions=True)
        outcome = await run_unit(SourcedArticle("request", article), work)
        if outcome is None:  # only a stopping job skips an article
            raise RuntimeError("the extraction was not run")
        if outcome.status is not Status.DONE or outcome.result is None:
            outcome.raise_error()
        return outcome.result

    async def aclose(self) -> None:
        for extractor in self._extractors.values():
            closer = getattr(extractor, "aclose", None)
            if closer is not None:
                await closer()


class GatedExtractor:
    """An Extractor seen through the engine's gate and metrics: what the unit of work drives.

    `source` is "request" (may be refused with 429 when the queue is full) or "job" (waits).
    """

    def __init__(self, engine: Engine, grounding: GroundingMode | None, *, source: str) -> None:
        self._engine = engine
        self._source = source
        self._extractor = engine.extractor(grounding)
        self.settings = self._extractor.settings
        self.reuse_key = self._extractor.reuse_key
        self.throttle: Throttle | None = engine.throttle

    async def aextract_article(self, article: ArticleInput) -> ArticleExtraction:
        """Extract once a slot is free, metered by source."""
        metrics = self._engine.metrics
        async with self._engine.gate.slot(may_refuse=self._source == "request"):
            started = time.perf_counter()
            try:
                result = await self._extractor.aextract_article(article)
            except Exception as error:
                attempts = getattr(error, "attempts", 0) or 0
                metrics.observe_failure(self._source, time.perf_counter() - started, cause_of(error), attempts)
                raise
        meta = result.meta
        metrics.observe_success(self._source, time.perf_counter() - started, meta.usage, meta.attempts)
        return result


# -- job input ----------------------------------------------------------------------------


def source_items(lines: list[str], engine: Engine) -> Iterator[SourceItem]:
    """The stored input as the runner's items; the same lines give the same keys every time."""
    for number, line in enumerate(lines, start=1):
        where = f"article {number}"
        record = json.loads(line)
        if isinstance(record, dict) and INVALID in record:
            yield InputFailure(where, f"{where}: {record[INVALID]}")
            continue
        try:
            yield SourcedArticle(where, engine.article(record, where))
        except InputError as exc:
            yield InputFailure(where, str(exc))


# -- jobs ---------------------------------------------------------------------------------


@dataclass
class Job:
    id: str
    folder: Path
    meta: dict[str, Any]
    task: asyncio.Task[None] | None = None
    started: bool = False

    @property
    def db(self) -> Path:
        return self.folder / "store.sqlite"

    @property
    def articles(self) -> Path:
        return self.folder / "articles.jsonl"

    @property
    def active(self) -> bool:
        return self.task is not None and not self.task.done()

    def save(self) -> None:
        write_json_atomically(self.folder / "job.json", self.meta)


T = TypeVar("T")


def _read(db: Path, read: Callable[[StoreReader], T], empty: T) -> T:
    """`read` over a short-lived read-only connection: the job's store stays with its runner."""
    if not db.exists():
        return empty
    reader = open_reader(db)
    try:
        return read(reader)
    finally:
        reader.close()


class JobManager:
    """Create, run, resume, cancel and read jobs kept in the state folder."""

    def __init__(self, state_dir: Path, engine: Engine, *, max_articles: int, max_pending: int) -> None:
        self.root = Path(state_dir) / "jobs"
        self.engine = engine
        self.max_articles = max_articles
        self.max_pending = max_pending
        self.jobs: dict[str, Job] = {}

    # -- lifecycle --------------------------------------------------------------------------

    def writable(self) -> str | None:
        """None when the state folder can be written, else why not."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".probe-{uuid.uuid4().hex}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            return f"state folder {self.root.parent} is not writable: {exc.strerror}"
        return None

    def start(self) -> None:
        """Load every job; resume the unfinished ones (a killed process left them so)."""
        self.root.mkdir(parents=True, exist_ok=True)
        for meta_path in sorted(self.root.glob("*/job.json")):
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            job = Job(meta["id"], meta_path.parent, meta)
            self.jobs[job.id] = job
            if not meta.get("finished_at") and not meta.get("cancelled"):
                self._start(job, *self._prepare(job))

    async def stop(self) -> None:
        """Stop every runner; in-flight articles go back to pending for the next start."""
        running = [job.task for job in self.jobs.values() if job.task is not None and not job.task.done()]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    # -- requests ---------------------------------------------------------------------------

    async def create(self, lines: list[str], grounding: GroundingMode | None) -> Job:
        """Store the job's articles and register them, then start it: all before the 202."""
        if not lines:
            raise ApiError(422, "invalid_input", "the job has no articles")
        if len(lines) > self.max_articles:
            raise ApiError(413, "too_many_articles", f"{len(lines)} articles; a job takes at most {self.max_articles}")
        if self.pending() + len(lines) > self.max_pending:
            raise Overloaded("too many job articles queued; retry later", self.engine.gate.retry_after)
        self.engine.extractor(grounding)  # no provider: 503 now rather than a job that fails every article
        job_id = uuid.uuid4().hex[:16]
        meta = {"id": job_id, "created_at": _now(), "finished_at": None, "cancelled": False, "grounding": grounding}
        job = Job(job_id, self.root / job_id, meta)
        # Writing and registering thousands of articles takes a while: off the event loop,
        # so the requests of everyone else keep being answered meanwhile.
        prepared = await asyncio.to_thread(self._store_and_prepare, job, lines)
        self.jobs[job_id] = job
        self._start(job, *prepared)
        return job

    def _store_and_prepare(self, job: Job, lines: list[str]) -> tuple[BatchJob, Plan, JobStore]:
        job.folder.mkdir(parents=True)
        write_atomically(job.articles, "\n".join(lines) + "\n")
        job.save()
        return self._prepare(job)

    def get(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise ApiError(404, "not_found", f"no job {job_id!r}")
        return job

    async def cancel(self, job: Job) -> None:
        """Stop sending the job's articles; the ones not finished stay pending."""
        if job.meta.get("finished_at"):
            return
        job.meta.update(cancelled=True, finished_at=_now())
        job.save()
        if job.task is not None:
            job.task.cancel()
            await asyncio.gather(job.task, return_exceptions=True)

    # -- running ----------------------------------------------------------------------------

    def _prepare(self, job: Job) -> tuple[BatchJob, Plan, JobStore]:
        """Register the job's articles in its store: durable once this returns."""
        store = JobStore(job.db)
        try:
            lines = read_stored(job.articles)
            extractor = GatedExtractor(self.engine, job.meta.get("grounding"), source="job")
            batch = BatchJob(extractor, store, concurrency=self.engine.gate.slots)
            plan = batch.plan(source_items(lines, self.engine))
        except BaseException:
            store.close()
            raise
        return batch, plan, store

    def _start(self, job: Job, batch: BatchJob, plan: Plan, store: JobStore) -> None:
        job.task = asyncio.get_running_loop().create_task(self._run(job, batch, plan, store), name=f"job-{job.id}")

    async def _run(self, job: Job, batch: BatchJob, plan: Plan, store: JobStore) -> None:
        try:
            async for outcome in batch.run(plan):
                job.started = True
                if outcome.origin is Origin.INPUT:
                    self.engine.metrics.failures.labels(str(outcome.cause)).inc()
            job.meta["finished_at"] = _now()
            job.save()
        except Exception as error:
            # The store or the disk failed, not an article (those fail alone): the job stops,
            # its unfinished articles stay pending and it resumes at the next start.
            job.meta["error"] = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            log_event("job_stopped", job_id=job.id, error=job.meta["error"])
        finally:
            store.close()

    # -- reading ----------------------------------------------------------------------------

    def counts(self, job: Job) -> dict[str, int]:
        by_status = _read(job.db, StoreReader.counts, {})
        done, failed = by_status.get("done", 0), by_status.get("failed", 0)
        pending = by_status.get("pending", 0) + by_status.get("running", 0)
        return {"total": done + failed + pending, "done": done, "failed": failed, "pending": pending}

    def status(self, job: Job, counts: dict[str, int]) -> str:
        if job.meta.get("cancelled"):
            return "cancelled"
        if job.meta.get("finished_at") or (counts["pending"] == 0 and not job.active):
            return "done"
        if not job.active:  # stopped by an error: waiting for the next start
            return "queued"
        return "running" if job.started or counts["pending"] < counts["total"] else "queued"

    def describe(self, job: Job) -> dict[str, Any]:
        """The job's public status document."""
        counts = self.counts(job)
        usage = _read(job.db, StoreReader.usage, Usage())  # every call paid for, killed runs' included
        cost = estimated_cost(self.engine.settings.resolved_model(self._provider()), usage)
        return {
            "id": job.id,
            "status": self.status(job, counts),
            "counts": counts,
            "usage": usage.model_dump(),
            "estimated_cost_usd": None if cost is None else round(cost, 6),
            "created_at": job.meta["created_at"],
            "finished_at": job.meta.get("finished_at"),
            **({"error": job.meta["error"]} if job.meta.get("error") else {}),
        }

    def _provider(self) -> Any:
        try:
            return self.engine.settings.resolved_provider()
        except ConfigError:
            return "openai"

    def pending(self) -> int:
        """Articles of running jobs still to do: the jobs' share of the queue."""
        return sum(self.counts(job)["pending"] for job in self.jobs.values() if job.active)

    def by_status(self) -> dict[str, int]:
        tally = {"queued": 0, "running": 0, "done": 0, "cancelled": 0}
        for job in self.jobs.values():
            tally[self.status(job, self.counts(job))] += 1
        return tally

    async def results(self, job: Job, *, follow: bool = False) -> AsyncIterator[bytes]:
        """One ArticleExtraction line per finished article, in input order, paged from the store.

        With `follow`, keep going until the job ends, sending each article as it finishes.
        """
        seen: set[str] = set()
        while True:
            active = job.active
            after = -1
            while rows := _read(
                job.db, lambda store, after=after: list(store.rows(status="done", after_seq=after, limit=READ_PAGE)), []
            ):
                for row in rows:
                    after = row.seq
                    if row.key not in seen and row.result is not None:
                        seen.add(row.key)
                        yield row.result.encode("utf-8") + b"\n"
                await asyncio.sleep(0)  # let the runner write between pages
            if not (follow and active):
                return
            await asyncio.sleep(0.25)

    def failures(self, job: Job) -> Iterator[bytes]:
        for row in _read(job.db, lambda store: list(store.rows(status="failed")), []):
            outcome = row.outcome(origin=Origin.RESUMED)
            failure = {"id": row.key, "reason": outcome.cause, "message": row.error_message}
            yield json.dumps(failure, ensure_ascii=False).encode() + b"\n"

    def review(self, job: Job) -> str:
        """The review page of the job's finished articles, each with its text highlighted."""
        lines = read_stored(job.articles)
        texts = {
            item.key: item.article.text for item in source_items(lines, self.engine) if isinstance(item, SourcedArticle)
        }
        rows = _read(job.db, lambda store: list(store.rows(status="done")), [])
        return render_batch([(json.loads(row.result), texts.get(row.key)) for row in rows if row.result is not None])
