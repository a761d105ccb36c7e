"""`extractor serve`: run the HTTP API (needs the `service` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..errors import ConfigError, InputError
from .common import run_guarded, with_provider_options


def _settings(overrides: dict[str, Any], state_dir: Path | None) -> tuple[Any, Any]:
    """Extraction and service settings; a bad value is a usage error naming the setting."""
    from pydantic import ValidationError

    from ..service.settings import ServiceSettings
    from ..settings import Settings

    try:
        service = ServiceSettings(**({"state_dir": state_dir} if state_dir is not None else {}))
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
    overrides: dict[str, Any] | None = None,
) -> None:
    """Serve the extractor as an HTTP API: /v1/extract, /v1/jobs, /metrics, a jobs page at /."""

    def action() -> None:
        try:
            import uvicorn

            from ..service import create_app
            from ..service.auth import is_loopback
        except ImportError as exc:
            raise ConfigError(
                f"the service needs its extra ({exc.name} is missing): pip install 'extractor[service]'"
            ) from None
        settings, service = _settings(overrides or {}, state_dir)
        if not service.api_keys and not is_loopback(host):
            raise ConfigError(
                f"refusing to listen on {host} without API keys: set EXTRACTOR_API_KEYS, or listen on 127.0.0.1"
            )
        app = create_app(settings, service)
        uvicorn.run(app, host=host, port=port, access_log=False, timeout_graceful_shutdown=service.shutdown_timeout)

    run_guarded(action)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
