"""CLI commands for batch jobs: `extractor batch` and `extractor export`."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..errors import ConfigError, ExtractorError, InputError
from .common import check_output_path, make_extractor, run_guarded, with_provider_options, write_atomically


class BatchHadFailures(ExtractorError):
    """The job finished, but some articles failed (their reasons are in the summary and the store)."""

    exit_code = 4


VIAS = ("live", "batch-api")


def default_db(out: Path) -> Path:
    return out.with_name(out.name + ".db")


@with_provider_options
def batch(
    inputs: Annotated[list[str], typer.Argument(help="directories, .jsonl files, article files, or - for stdin JSONL")],
    out: Annotated[Path, typer.Option("--out", "-o", help="JSONL of ArticleExtraction, one line per article")],
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", min=1, max=1024, help="requests in flight")] = 8,
    rpm: Annotated[Optional[float], typer.Option("--rpm", min=0.001, help="client-side limit: requests/minute")] = None,
    tpm: Annotated[Optional[float], typer.Option("--tpm", min=1, help="client-side limit: tokens/minute")] = None,
    db: Annotated[Optional[Path], typer.Option("--db", help="job store (sqlite); default OUT.db")] = None,
    resume: Annotated[bool, typer.Option("--resume/--no-resume", help="skip articles already done")] = True,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="on resume, try failed articles again")] = False,
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="stop at the first failed article")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar and no summary table")] = False,
    json_summary: Annotated[
        Optional[Path], typer.Option("--json-summary", help="write the summary as JSON here")
    ] = None,
    via: Annotated[str, typer.Option("--via", help="live | batch-api (OpenAI Batch API: half price, hours)")] = "live",
    live_fallback: Annotated[
        bool, typer.Option("--live-fallback/--no-live-fallback", help="batch-api: finish what the batch did not, live")
    ] = True,
    cancel: Annotated[
        bool, typer.Option("--cancel", help="batch-api: cancel this job's remote batches and stop")
    ] = False,
    poll_interval: Annotated[
        float, typer.Option("--poll-interval", min=0.01, help="batch-api: first wait between polls, s (doubles to 60)")
    ] = 5.0,
    engine: Annotated[
        str, typer.Option("--engine", help="asyncio (one process) | ray (Ray Data: every core, or a cluster)")
    ] = "asyncio",
    address: Annotated[
        Optional[str], typer.Option("--address", help="ray: auto | ray://HOST:10001; default a local Ray")
    ] = None,
    workers: Annotated[
        Optional[int], typer.Option("--workers", min=1, help="ray: actors, each with one Extractor; default every CPU")
    ] = None,
    format: Annotated[str, typer.Option("--format", help="ray: jsonl | parquet (a directory of part files)")] = "jsonl",
    overrides: dict[str, Any] | None = None,
) -> None:
    """Extract many articles; resumable (sqlite job store), results written as they complete.

    Exit code 0 when every article is done, 4 when some failed (see the summary), 3 when the
    store is in use by another run or the server refused the credentials, 130 on Ctrl-C.
    """

    only_ray = {"--address": address, "--workers": workers, "--format": format != "jsonl"}
    only_asyncio = {
        "--db": db,
        "--retry-failed": retry_failed,
        "--fail-fast": fail_fast,
        "--via batch-api": via != "live",
        "--cancel": cancel,
    }
    misplaced = [name for name, given in (only_asyncio if engine == "ray" else only_ray).items() if given]
    if engine != "asyncio":
        ray_options = dict(address=address, workers=workers, concurrency=concurrency, rpm=rpm, tpm=tpm, fmt=format)
        run_guarded(
            lambda: _ray_batch(
                engine, misplaced, inputs, out, ray_options, resume, quiet, json_summary, overrides or {}
            )
        )
        return

    def action() -> None:
        import asyncio

        if misplaced:
            raise InputError(f"{', '.join(misplaced)}: only with --engine ray")

        from ..engines.local import BatchAborted, BatchJob
        from ..input.sources import iter_sources
        from ..jobs.limiter import JobLimiter
        from ..jobs.store import JobStore
        from ..jobs.summary import Summary
        from ..model_call.retry import Throttle

        if via not in VIAS:
            raise InputError(f"--via must be one of {', '.join(VIAS)}, not {via!r}")
        if via != "batch-api" and (cancel or not live_fallback):
            raise InputError("--cancel and --no-live-fallback need --via batch-api")
        # Every place written to is checked before the store is created or a token is spent.
        for target in (out, db or default_db(out), json_summary):
            if target is not None:
                check_output_path(target)
        extractor = make_extractor(throttle=Throttle(), **(overrides or {}))
        if via == "batch-api" and extractor.provider == "rules":
            raise ConfigError(
                "--via batch-api sends requests to a model, and the rules provider has none: use --via live"
            )
        limiter = JobLimiter(rpm, tpm) if rpm or tpm else None
        summary = Summary(model=extractor.model)
        started = time.perf_counter()
        with JobStore(db or default_db(out)) as store:
            store.claim()  # one writer per store: refuse before touching a row or the JSONL
            if not resume:
                store.reset()
            job = BatchJob(extractor, store, concurrency=concurrency, limiter=limiter, fail_fast=fail_fast)
            if via == "batch-api":
                from .batch_api import batch_api_run, batch_api_summary, cancel_batches

                if cancel:
                    return cancel_batches(job)
                job = batch_api_run(
                    job, live_fallback=live_fallback, poll_interval=poll_interval, quiet=quiet, fresh=not resume
                )
            plan = job.plan(
                iter_sources(inputs, max_bytes=extractor.settings.max_input_bytes), retry_failed=retry_failed
            )
            summary.planned = plan.total
            aborted: BatchAborted | None = None
            try:
                asyncio.run(_run(job, plan, out, summary, show_progress=not quiet))
            except BatchAborted as error:
                aborted = error
            finally:
                summary.count_calls(job.meter)
                summary.wall_seconds = time.perf_counter() - started
                extra = batch_api_summary(job, summary) if via == "batch-api" else None
                _report(summary, quiet=quiet, json_path=json_summary, extra=extra)
        if aborted is not None:
            raise aborted
        if summary.failed:
            raise BatchHadFailures(f"{summary.failed} of {summary.total} articles failed")

    run_guarded(action)


def _ray_batch(
    engine: str,
    misplaced: list[str],
    inputs: list[str],
    out: Path,
    options: dict[str, Any],
    resume: bool,
    quiet: bool,
    json_summary: Path | None,
    overrides: dict[str, Any],
) -> None:
    """`--engine ray`: the same extraction and summary, run by Ray Data (extractor/engines/ray/job.py)."""
    if engine != "ray":
        raise InputError(f"--engine must be asyncio or ray, not {engine!r}")
    if misplaced:
        raise InputError(f"{', '.join(misplaced)}: not with --engine ray (its resume state is the output itself)")
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        raise ConfigError("--engine ray needs Ray: pip install 'extractor[ray]'")
    from ..engines.ray.job import RayOptions, run_ray_batch
    from ..engines.ray.sources import check_inputs
    from ..jobs.summary import Summary

    for target in (out if options.get("fmt") == "jsonl" else None, json_summary):
        if target is not None:
            check_output_path(target)
    check_inputs(inputs)  # before Ray starts and before any summary
    extractor = make_extractor(**overrides)
    summary = Summary(model=extractor.model)
    started = time.perf_counter()
    try:
        ray_options = RayOptions(resume=resume, quiet=quiet, **options)
        run_ray_batch(inputs, out, extractor.settings, extractor.fingerprint, ray_options, summary)
    finally:
        summary.wall_seconds = time.perf_counter() - started
        _report(summary, quiet=quiet, json_path=json_summary)
    if summary.failed:
        raise BatchHadFailures(f"{summary.failed} of {summary.total} articles failed")


async def _run(job, plan, out: Path, summary, *, show_progress: bool) -> None:
    from ..output.jsonl import JsonlWriter
    from .progress import BatchProgress

    progress = BatchProgress(plan.total, enabled=None if show_progress else False, throttle=job.extractor.throttle)
    try:
        with JsonlWriter(out) as writer, progress:
            async for outcome in job.run(plan):
                if outcome.line is not None:
                    writer.write(outcome.line)
                summary.add(outcome)
                progress.advance(outcome)
    finally:
        await job.extractor._aclose_async_client()  # its connections belong to this loop


def _report(summary, *, quiet: bool, json_path: Path | None, extra: dict[str, Any] | None = None) -> None:
    from ..jobs.summary import render

    if json_path is not None:
        data = {**summary.as_dict(), **({"batch_api": extra} if extra else {})}
        write_atomically(json_path, json.dumps(data, indent=2) + "\n")
    if not quiet:
        from rich.console import Console

        Console(stderr=True).print(render(summary))
        if extra:
            from .batch_api import render_batch_api

            Console(stderr=True).print(render_batch_api(extra))


def export(
    db: Annotated[Path, typer.Argument(help="a batch job store (sqlite)")],
    format: Annotated[str, typer.Option("--format", "-f", help="jsonl | csv")] = "jsonl",
    out: Annotated[
        Optional[Path], typer.Option("--out", "-o", help="JSONL file, or directory for the CSV tables")
    ] = None,
) -> None:
    """Export a job's results: JSONL, or CSV tables exercises.csv, aircraft.csv, statements.csv."""

    def action() -> None:
        from ..jobs.store import JobStore
        from ..output.export import export_csv, export_jsonl, iter_results

        if not db.is_file():
            raise InputError(f"{db}: no such job store")
        if format not in ("jsonl", "csv"):
            raise InputError(f"--format must be jsonl or csv, not {format!r}")
        if format == "jsonl" and out is not None:
            check_output_path(out)
        if format == "csv" and out is not None and out.exists() and not out.is_dir():
            raise InputError(f"{out}: not a directory (CSV export writes one file per table into it)")
        with JobStore(db) as store:
            if format == "csv":
                counts = export_csv(store, out or Path("."))
                typer.echo(", ".join(f"{name}.csv: {count} rows" for name, count in counts.items()), err=True)
            elif out is None:
                for _, line in iter_results(store):
                    sys.stdout.write(line + "\n")
            else:
                typer.echo(f"{export_jsonl(store, out)} results written to {out}", err=True)

    run_guarded(action)


def register(app: typer.Typer) -> None:
    """Add `batch` and `export` to the app."""
    app.command("batch")(batch)
    app.command("export")(export)
