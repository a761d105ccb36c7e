"""The FastAPI application: routes, error shape, access log, metrics, jobs resumed at start."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from .._version import __version__
from ..settings import Settings
from .access_log import AccessLog, configure_access_log
from .jobs import Engine, JobManager
from .limits import ExtractionGate
from .metrics import Metrics
from .problems import install_handlers
from .routes import api, ops
from .settings import ServiceSettings


def create_app(settings: Settings | None = None, service: ServiceSettings | None = None) -> FastAPI:
    """The service for these extraction and service settings (defaults: environment, `.env`)."""
    settings = settings or Settings()
    service = service or ServiceSettings()
    metrics = Metrics()
    gate = ExtractionGate(service.concurrency, service.max_waiting, service.retry_after)
    engine = Engine(settings, gate, metrics)
    jobs = JobManager(
        service.state_dir, engine, max_articles=service.max_job_articles, max_pending=service.max_pending_articles
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        jobs.start()
        try:
            yield
        finally:
            # Shutdown: uvicorn has stopped accepting and let in-flight requests finish;
            # running job articles go back to pending for the next start.
            await jobs.stop()
            await engine.aclose()

    app = FastAPI(
        title="extractor",
        version=__version__,
        description="Grounded extraction of military exercises, aircraft and political statements.",
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.api_keys = service.key_values()
    app.state.jobs = jobs
    install_handlers(app)
    app.include_router(api)
    app.include_router(ops)
    configure_access_log()
    app.add_middleware(AccessLog, metrics=metrics)
    return app
