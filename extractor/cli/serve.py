"""`extractor serve`: run the HTTP API (needs the `service` extra)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..errors import ConfigError, InputError
from .common import run_guarded, with_provider_options


def _settings(overrides: dict[str, Any], service_overrides: dict[str, Any]) -> tuple[Any, Any]:
    """Extraction and service settings; a bad value is a usage error naming the setting."""
    from pydantic import ValidationError

    from ..service.settings import ServiceSettings
    from ..settings import Settings

    try:
        service = ServiceSettings(**service_overrides)
        return Settings(**overrides), service
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise InputError(f"invalid setting {field}: {first['msg']}") from None


@with_provider_options
def serve(
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="port to listen on")] = 8000,
    state_dir: Annotated[
        Optional[Path], typer.Option("--state-dir", help="where jobs live (env EXTRACTOR_SERVICE_DIR)")
    ] = None,
    workers: Annotated[
        Optional[int], typer.Option("--workers", help="service processes (env EXTRACTOR_SERVICE_WORKERS, 2)")
    ] = None,
    job_deadline: Annotated[
        Optional[float], typer.Option("--job-deadline", help="seconds a job may wait out outages (86400)")
    ] = None,
    retention_days: Annotated[
        Optional[float],
        typer.Option("--retention-days", help="delete finished jobs after this many days (30; 0 never)"),
    ] = None,
    cors_origins: Annotated[
        Optional[str], typer.Option("--cors-origins", help="comma-separated origins allowed by CORS")
    ] = None,
    allowed_hosts: Annotated[
        Optional[str], typer.Option("--allowed-hosts", help="comma-separated Host names served (*.example.org)")
    ] = None,
    public_metrics: Annotated[bool, typer.Option("--public-metrics", help="serve /metrics without a key")] = False,
    rpm: Annotated[
        Optional[float],
        typer.Option(
            "--rpm", min=0.001, help="job articles' model requests/minute, all replicas (env EXTRACTOR_SERVICE_RPM)"
        ),
    ] = None,
    tpm: Annotated[
        Optional[float],
        typer.Option("--tpm", min=1, help="job articles' tokens/minute, all replicas (env EXTRACTOR_SERVICE_TPM)"),
    ] = None,
    replicas: Annotated[
        Optional[int],
        typer.Option("--replicas", min=1, help="replicas sharing the database: --rpm/--tpm split among them (1)"),
    ] = None,
    database_url: Annotated[
        Optional[str],
        typer.Option(
            "--database-url",
            help="postgresql://user:password@host/db: jobs in PostgreSQL, shared by replicas (env EXTRACTOR_DATABASE_URL)",
            show_default=False,
        ),
    ] = None,
    migrate_from: Annotated[
        Optional[Path],
        typer.Option("--migrate-from", help="copy a SQLite service's state folder into the PostgreSQL database first"),
    ] = None,
    allow_private: Annotated[
        bool, typer.Option("--allow-private", help="job URLs may name loopback and private addresses")
    ] = False,
    overrides: dict[str, Any] | None = None,
) -> None:
    """Serve the extractor as an HTTP API: /v1/extract, /v1/jobs, /metrics, a jobs page at /."""

    def action() -> None:
        try:
            import uvicorn

            from ..service.app import create_app, prepare_state, tune_process
            from ..service.auth import is_loopback
            from ..service.worker import WORKER_ENV, worker_options
        except ImportError as exc:
            raise ConfigError(
                f"the service needs its extra ({exc.name} is missing): pip install 'extractor[service]'"
            ) from None
        given = {
            "state_dir": state_dir, "workers": workers, "job_deadline": job_deadline,
            "retention_days": retention_days, "cors_origins": cors_origins, "allowed_hosts": allowed_hosts,
            "public_metrics": public_metrics or None, "rpm": rpm, "tpm": tpm, "replicas": replicas,
            "fetch_allow_private": allow_private or None,
        }  # fmt: skip
        service_overrides = {name: value for name, value in given.items() if value is not None}
        if database_url is not None:
            # Through the environment, as workers read it: never in their options, never logged.
            os.environ["EXTRACTOR_DATABASE_URL"] = database_url
        settings, service = _settings(overrides or {}, service_overrides)
        if migrate_from is not None and service.database() is None:
            raise InputError("--migrate-from needs a PostgreSQL database: --database-url or EXTRACTOR_DATABASE_URL")
        if not service.api_keys and not service.admin_keys and not is_loopback(host):
            raise ConfigError(
                f"refusing to listen on {host} without API keys: set EXTRACTOR_API_KEYS, or listen on 127.0.0.1"
            )
        # A keep-alive longer than clients' own idle limits (httpx 5 s, a load balancer's 60 s):
        # with uvicorn's 5 s, a client reusing a connection just as it closed got "Server
        # disconnected" on a POST it cannot safely resend.
        options: dict[str, Any] = {
            "host": host, "port": port, "access_log": False, "timeout_graceful_shutdown": service.shutdown_timeout,
            "timeout_keep_alive": service.keep_alive,
        }  # fmt: skip
        prepare_state(settings, service, migrate_from=migrate_from)
        if service.workers == 1:
            tune_process()
            uvicorn.run(create_app(settings, service, prepared=True, owns_process=True), **options)
            return
        metrics_dir = service.state_dir / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        os.environ[WORKER_ENV] = worker_options(overrides or {}, service_overrides, service.workers)
        uvicorn.run("extractor.service.worker:app", factory=True, workers=service.workers, **options)

    run_guarded(action)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
