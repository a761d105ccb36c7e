"""The FastAPI application: routes, problems, access log, safety, metrics, the job runner."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi

from .._version import __version__
from ..errors import ConfigError, InputError
from ..jobs.limiter import JobLimiter, split_limit
from ..settings import Settings
from .access_log import AccessLog, configure_access_log, log_event
from .auth import is_loopback
from .db import Database, SchemaTooNew, WriteBehind, import_state
from .db.engine import sqlite_url
from .db.startup import open_database
from .db.transfer import copy_database
from .fetching import JobFetcher
from .idempotency import ANSWER_SECONDS
from .job_service import JobService
from .jobs import Engine
from .limits import ExtractionGate
from .metrics import Metrics
from .openapi import finish
from .page import page
from .problems import install_handlers
from .readiness import ModelServerProbe
from .reading import Followers, Reader
from .routes import api, ops
from .runner import JobRunner, RunnerOptions
from .settings import ServiceSettings
from .state import ServiceState
from .stopping import watchdog, within

SWEEP_SECONDS = 3600.0
logger = logging.getLogger("extractor.service")


def database_of(service: ServiceSettings) -> Database:
    """The service database: `EXTRACTOR_DATABASE_URL` (PostgreSQL), else SQLite in the state folder."""
    service.state_dir.mkdir(parents=True, exist_ok=True)
    return Database(service.database() or sqlite_url(service.state_dir / "service.db"))


def _migrated(db: Database) -> None:
    try:
        db.migrate()
    except SchemaTooNew as error:
        raise ConfigError(str(error)) from None


def _import_folders(settings: Settings, service: ServiceSettings, db: Database, state_dir: Path, now: float) -> None:
    imported = import_state(db, state_dir, deadline=service.job_deadline, max_bytes=settings.max_input_bytes, now=now)
    if imported.jobs or imported.broken:
        log_event("state_imported", jobs=imported.jobs, broken=imported.broken)


def prepare_state(settings: Settings, service: ServiceSettings, *, migrate_from: Path | None = None) -> None:
    """Before any process serves: the database reached (waiting for it a bounded time), its schema
    up to date, earlier state imported, and the claims a killed run left released.

    SQLite: this host's processes are the only runners, so every claim left is released.
    PostgreSQL: other replicas hold claims of their own; only expired ones are released, and
    `migrate_from` (a state folder of a SQLite service) is copied in.
    """
    url = service.database()
    patience = service.database_wait  # a server may still be starting; a local file is there or not
    if url is None:
        service.state_dir.mkdir(parents=True, exist_ok=True)
        url, patience = sqlite_url(service.state_dir / "service.db"), 0.0
    db = open_database(url, patience)
    try:
        _migrated(db)
        now = time.time()
        if db.dialect == "sqlite":
            _import_folders(settings, service, db, service.state_dir, now)
            db.release_expired_claims(now, all_of_them=True)
            return
        if migrate_from is not None:
            _migrate_from(settings, service, db, migrate_from, now)
        db.release_expired_claims(now)
    finally:
        db.close()


def _migrate_from(settings: Settings, service: ServiceSettings, target: Database, state_dir: Path, now: float) -> None:
    """A SQLite service's state folder (its database and any older job folders) into `target`."""
    if not (state_dir / "service.db").is_file() and not (state_dir / "jobs").is_dir():
        raise InputError(f"--migrate-from {state_dir}: no service state there (no service.db, no jobs/)")
    source = Database(sqlite_url(state_dir / "service.db"))
    try:
        _migrated(source)
        _import_folders(settings, service, source, state_dir, now)
        copied = copy_database(source, target)
    finally:
        source.close()
    log_event("state_migrated", source=str(state_dir), **copied.rows)


def tune_process() -> None:
    """A serving process: database reads run in threads, and while one holds the GIL the event
    loop waits up to the switch interval (5 ms by default) to answer anyone, `/healthz`
    included. A shorter interval keeps the loop's waits short."""
    sys.setswitchinterval(0.001)


def create_app(
    settings: Settings | None = None, service: ServiceSettings | None = None, *, processes: int = 1,
    prepared: bool = False, owns_process: bool = False,
) -> FastAPI:  # fmt: skip
    """The service for these extraction and service settings (defaults: environment, `.env`).

    `processes`: how many processes share the settings' concurrency (uvicorn workers);
    `prepared`: the state was already prepared (`prepare_state`) by the parent process;
    `owns_process`: the app is all its process does (`extractor serve`): a shutdown that
    overruns `stopping.LIMIT` ends the process (an app embedded elsewhere is never ended).
    """
    settings = settings or Settings()
    service = service or ServiceSettings()
    configure_access_log()
    if not prepared:
        prepare_state(settings, service)
    metrics = Metrics()
    slots = max(1, -(-service.concurrency // processes))
    gate = ExtractionGate(slots, service.max_waiting, service.retry_after, metrics.in_flight)
    engine = Engine(settings, gate, metrics)
    db = database_of(service)
    _migrated(db)
    followers = Followers()
    writer = WriteBehind(db, followers.notify)
    engine.writer = writer
    options = RunnerOptions(
        lease=service.claim_lease, backoff=service.requeue_backoff, backoff_max=service.requeue_backoff_max
    )
    shares = service.replicas * processes
    limiter = (
        JobLimiter(split_limit(service.rpm, shares), split_limit(service.tpm, shares))
        if service.rpm or service.tpm
        else None
    )
    fetcher = JobFetcher(
        service.state_dir, allow_private=service.fetch_allow_private, max_bytes=settings.max_input_bytes
    )
    runner = JobRunner(db, engine, writer, options, fetcher, limiter)
    jobs = JobService(
        db, engine, runner, max_articles=service.max_job_articles, max_pending=service.max_pending_articles,
        deadline=service.job_deadline,
    )  # fmt: skip
    state = ServiceState(
        settings, service, metrics, db, engine, writer, runner, jobs, followers, Reader(db, followers),
        ModelServerProbe(settings, service.readiness_ttl),
    )  # fmt: skip

    async def sweep() -> None:
        while True:
            try:
                removed = await jobs.sweep(service.retention_days, ANSWER_SECONDS)
                if removed:
                    log_event("jobs_removed", jobs=removed, retention_days=service.retention_days)
            except Exception as error:
                log_event("sweep_error", error=f"{type(error).__name__}: {str(error).splitlines()[0]}")
            await asyncio.sleep(SWEEP_SECONDS)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        followers.bind(asyncio.get_running_loop())
        runner.start()
        sweeper = asyncio.get_running_loop().create_task(sweep(), name="retention")
        try:
            yield
        finally:
            # Shutdown: uvicorn has stopped accepting and let in-flight requests finish;
            # articles in process go back to the queue for the next start.
            # Every step is bounded (`stopping`): a deploy's SIGTERM must end the process.
            if owns_process:
                watchdog()
            sweeper.cancel()
            await within("retention", [sweeper])
            await runner.stop()
            await within("the database writer", [asyncio.to_thread(writer.close)])
            await within("closing the model client", [engine.aclose()])
            db.close()

    app = FastAPI(
        title="extractor",
        version=__version__,
        description="Grounded extraction of military exercises, aircraft and political statements.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    keys = service.keys()
    app.state.service = service
    app.state.api_keys = keys
    app.state.service_state = state
    install_handlers(app)
    app.include_router(api)
    app.include_router(ops)
    app.include_router(page)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            app.openapi_schema = finish(
                document, max_text=state.max_text, max_articles=service.max_job_articles, keyed=bool(keys),
                public_metrics=service.public_metrics,
            )  # fmt: skip
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    if service.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=service.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"],
            expose_headers=["X-Request-Id", "Location", "Link", "Retry-After", "Idempotent-Replayed"],
        )
    from .safety import RequestGuard

    app.add_middleware(
        RequestGuard, allowed_hosts=service.allowed_hosts, loopback_only=not keys, cors_origins=service.cors_origins
    )
    app.add_middleware(AccessLog, metrics=metrics)
    return app


__all__ = ["create_app", "is_loopback", "prepare_state"]
