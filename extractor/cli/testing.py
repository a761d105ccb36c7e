"""`extractor fault-server`: a local OpenAI-compatible server with injected faults."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import InputError
from .common import run_guarded


def fault_server(
    port: Annotated[int, typer.Option("--port", help="0 picks a free port")] = 8099,
    latency: Annotated[float, typer.Option("--latency", help="seconds before each answer")] = 0.2,
    jitter: Annotated[float, typer.Option("--jitter", help="± seconds of random latency")] = 0.0,
    rate_429: Annotated[float, typer.Option("--rate-429", help="share of 429 answers (with Retry-After)")] = 0.0,
    retry_after: Annotated[float, typer.Option("--retry-after", help="Retry-After seconds of a 429")] = 1.0,
    rate_500: Annotated[float, typer.Option("--rate-500")] = 0.0,
    rate_hang: Annotated[float, typer.Option("--rate-hang", help="share of requests never answered")] = 0.0,
    rate_drop: Annotated[float, typer.Option("--rate-drop", help="share of connections closed unanswered")] = 0.0,
    rate_malformed: Annotated[float, typer.Option("--rate-malformed", help="share of answers with broken JSON")] = 0.0,
    rate_invalid: Annotated[float, typer.Option("--rate-invalid", help="share of schema-invalid answers")] = 0.0,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """Run a local OpenAI-compatible server with injected faults, for trying batch jobs."""

    def action() -> None:
        from ..testing.faultserver import FaultConfig, FaultServer, run_forever

        try:
            config = FaultConfig(
                latency=latency,
                jitter=jitter,
                rate_429=rate_429,
                retry_after=retry_after,
                rate_500=rate_500,
                rate_hang=rate_hang,
                rate_drop=rate_drop,
                rate_malformed=rate_malformed,
                rate_invalid=rate_invalid,
                seed=seed,
            )
        except ValueError as exc:
            raise InputError(str(exc)) from None
        run_forever(FaultServer(config, port=port))

    run_guarded(action)


def register(app: typer.Typer) -> None:
    """Add `fault-server` to the app."""
    app.command("fault-server")(fault_server)
