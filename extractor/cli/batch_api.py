"""`extractor batch --via batch-api`: the glue between the batch command and the Batch API job."""

from __future__ import annotations

from typing import Any

import typer

from ..engines.batch_api import BatchApiOptions, BatchApiRun
from ..engines.local import BatchJob
from ..schemas import Usage

POLL_MAX = 60.0


def batch_api_run(
    job: BatchJob, *, live_fallback: bool, poll_interval: float, quiet: bool, fresh: bool = False
) -> BatchApiRun:
    """The job to run instead of `job`: same store and outcomes, answers from the Batch API.

    `fresh` (--no-resume) forgets the job's earlier batches and answers too.
    """
    options = BatchApiOptions(
        live_fallback=live_fallback, poll_initial=poll_interval, poll_max=max(POLL_MAX, poll_interval)
    )
    run = BatchApiRun(job, options)
    if fresh:
        run.state.reset()
    if quiet:
        run.on_status = None
    return run


def cancel_batches(job: BatchJob) -> None:
    """`--cancel`: cancel the job's running batches; the next run finishes what they left, live."""
    run = BatchApiRun(job)
    try:
        cancelled = run.cancel()
    finally:
        run.close()
    if not cancelled:
        typer.echo("batch-api: no running batch to cancel", err=True)
    for view in cancelled:
        typer.echo(f"batch-api: {view.id}: {view.status}", err=True)


def batch_api_summary(run: BatchApiRun, summary: Any) -> dict[str, Any]:
    """The Batch API part of the summary; the tokens the batch answered go to the summary's one cost."""
    report = run.report()
    run.close()
    summary.answered_at(
        "batch", usage=Usage(**report["batch_tokens"]), this_run=Usage(**report["batch_tokens_this_run"])
    )
    return report


def render_batch_api(report: dict[str, Any]) -> Any:
    """A rich Table of the Batch API part of the summary."""
    from rich.table import Table

    table = Table(title="batch api", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value")
    statuses = ", ".join(f"{batch}: {status}" for batch, status in report["batches"].items()) or "none"
    table.add_row("batches", f"{report['request_files']} ({statuses}), {report['requests']} requests")
    table.add_row("answered by the batch", str(report["answered_from_batch"]))
    fallback = report["live_fallback"]
    table.add_row(
        "sent live instead",
        ", ".join(f"{reason.replace('_', ' ')}: {count}" for reason, count in fallback.items()) or "none",
    )
    tokens = report["batch_tokens"]
    table.add_row("batch tokens", f"{tokens['prompt_tokens']:,} in, {tokens['completion_tokens']:,} out")
    return table
