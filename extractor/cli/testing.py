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
    batch_seconds: Annotated[float, typer.Option("--batch-seconds", help="Batch API: seconds a batch takes")] = 30.0,
    batch_outcome: Annotated[
        str, typer.Option("--batch-outcome", help="Batch API: completed | failed | expired")
    ] = "completed",
    batch_expire_fraction: Annotated[
        float, typer.Option("--batch-expire-fraction", help="Batch API: share answered before expiry")
    ] = 0.5,
    batch_rate_invalid: Annotated[
        float, typer.Option("--batch-rate-invalid", help="Batch API: share of schema-invalid answers")
    ] = 0.0,
    batch_rate_error: Annotated[
        float, typer.Option("--batch-rate-error", help="Batch API: share of request errors")
    ] = 0.0,
    upload_delay: Annotated[float, typer.Option("--upload-delay", help="Batch API: hold the upload reply, s")] = 0.0,
    create_delay: Annotated[float, typer.Option("--create-delay", help="Batch API: hold the create reply, s")] = 0.0,
    upload_status: Annotated[
        int, typer.Option("--upload-status", help="Batch API: status answered once the file is stored")
    ] = 200,
    create_status: Annotated[
        int, typer.Option("--create-status", help="Batch API: status answered once the batch is made")
    ] = 200,
    refuse_uploads: Annotated[
        int, typer.Option("--refuse-uploads", help="Batch API: the first N uploads fail, storing nothing")
    ] = 0,
    refuse_creates: Annotated[
        int, typer.Option("--refuse-creates", help="Batch API: the first N creates fail, making nothing")
    ] = 0,
    batch_junk: Annotated[
        str,
        typer.Option(
            "--batch-junk", help="Batch API: bad result lines, torn,array,no_custom_id,no_choices,unknown_custom_id"
        ),
    ] = "",
    batch_junk_file: Annotated[
        str, typer.Option("--batch-junk-file", help="Batch API: output | error, the file --batch-junk spoils")
    ] = "output",
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
                batch_seconds=batch_seconds,
                batch_outcome=batch_outcome,
                batch_expire_fraction=batch_expire_fraction,
                batch_rate_invalid=batch_rate_invalid,
                batch_rate_error=batch_rate_error,
                upload_delay=upload_delay,
                create_delay=create_delay,
                upload_status=upload_status,
                create_status=create_status,
                refuse_uploads=refuse_uploads,
                refuse_creates=refuse_creates,
                batch_junk=batch_junk,
                batch_junk_file=batch_junk_file,
            )
        except ValueError as exc:
            raise InputError(str(exc)) from None
        run_forever(FaultServer(config, port=port))

    run_guarded(action)


def register(app: typer.Typer) -> None:
    """Add `fault-server` to the app."""
    app.command("fault-server")(fault_server)
