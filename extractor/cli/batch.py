"""CLI commands for batch jobs: `extractor batch` (and `extractor export`, in cli/export.py).

`batch` runs one of two engines, and the asyncio engine one of two ways (`--via`). Each
engine and way owns a few options, declared once as the fields of its options dataclass
(`ENGINES`, `VIAS`); an option given on the command line that belongs to an engine or way
not chosen is refused by name, in one line, before anything starts.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, fields
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from ..errors import BatchAborted, BatchHadFailures, ConfigError, InputError
from .common import check_output_path, make_extractor, run_guarded, with_provider_options, write_atomically
from .export import export
from .web_options import AllowNetworkOpt, AllowPrivateOpt, IgnoreRobotsOpt, fetch_settings, print_notes

if TYPE_CHECKING:
    from ..jobs.lease import OutputLease
    from ..jobs.summary import Summary


class EngineName(StrEnum):
    """--engine: where the job runs."""

    ASYNCIO = "asyncio"  # one process, a pool of asyncio workers, a SQLite job store
    RAY = "ray"  # Ray Data: every core, or a cluster; the output is the job's state


class Via(StrEnum):
    """--via: how the asyncio engine asks the model."""

    LIVE = "live"
    BATCH_API = "batch-api"  # OpenAI's Batch API: half price, hours


class RayFormat(StrEnum):
    """--format of a Ray job's output."""

    JSONL = "jsonl"
    PARQUET = "parquet"  # a directory of part files


@dataclass(frozen=True)
class AsyncioChoices:
    """The options of `--engine asyncio`: its job store, and how it asks the model."""

    db: Path | None = None
    retry_failed: bool = False
    fail_fast: bool = False
    via: Via = Via.LIVE
    # Web inputs: fetched by this process, cached in its job store.
    feed: list[str] | None = None
    sitemap: list[str] | None = None
    allow_private: bool = False
    allow_network: list[str] | None = None
    ignore_robots: bool = False


@dataclass(frozen=True)
class BatchApiChoices:
    """The options of `--via batch-api`."""

    live_fallback: bool = True
    cancel: bool = False
    poll_interval: float = 5.0


@dataclass(frozen=True)
class RayChoices:
    """The options of `--engine ray`."""

    address: str | None = None
    workers: int | None = None
    format: RayFormat = RayFormat.JSONL


ENGINES: dict[EngineName, type[Any]] = {EngineName.ASYNCIO: AsyncioChoices, EngineName.RAY: RayChoices}
VIAS: dict[Via, type[Any] | None] = {Via.LIVE: None, Via.BATCH_API: BatchApiChoices}


def default_db(out: Path) -> Path:
    return out.with_name(out.name + ".db")


@with_provider_options
def batch(
    context: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="JSONL of ArticleExtraction, one line per article")],
    inputs: Annotated[
        Optional[list[str]],
        typer.Argument(help="directories, .jsonl files, article files, URLs, .txt lists of URLs, or - for stdin JSONL"),
    ] = None,
    feed: Annotated[
        Optional[list[str]], typer.Option("--feed", help="RSS or Atom feed: every item (repeatable)")
    ] = None,
    sitemap: Annotated[
        Optional[list[str]], typer.Option("--sitemap", help="sitemap, news sitemap or sitemap index (repeatable)")
    ] = None,
    allow_private: AllowPrivateOpt = False,
    allow_network: AllowNetworkOpt = None,
    ignore_robots: IgnoreRobotsOpt = False,
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", min=1, max=1024, help="requests in flight")] = 8,
    rpm: Annotated[Optional[float], typer.Option("--rpm", min=0.001, help="client-side limit: requests/minute")] = None,
    tpm: Annotated[Optional[float], typer.Option("--tpm", min=1, help="client-side limit: tokens/minute")] = None,
    db: Annotated[Optional[Path], typer.Option("--db", help="job store (sqlite); default OUT.db")] = None,
    resume: Annotated[bool, typer.Option("--resume/--no-resume", help="skip articles already done")] = True,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="on resume, try failed articles again")] = False,
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="stop at the first failed article")] = False,
    triage: Annotated[
        bool,
        typer.Option("--triage", help="skip, before any model call, articles in which the rules find nothing"),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar and no summary table")] = False,
    json_summary: Annotated[
        Optional[Path], typer.Option("--json-summary", help="write the summary as JSON here")
    ] = None,
    via: Annotated[Via, typer.Option("--via", help="live, or the OpenAI Batch API (half price, hours)")] = Via.LIVE,
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
        EngineName, typer.Option("--engine", help="one process, or Ray Data (every core, or a cluster)")
    ] = EngineName.ASYNCIO,
    address: Annotated[
        Optional[str], typer.Option("--address", help="ray: auto | ray://HOST:10001; default a local Ray")
    ] = None,
    workers: Annotated[
        Optional[int], typer.Option("--workers", min=1, help="ray: actors, each with one Extractor; default every CPU")
    ] = None,
    format: Annotated[RayFormat, typer.Option("--format", help="ray: a JSONL file, or Parquet part files")] = (
        RayFormat.JSONL
    ),
    overrides: dict[str, Any] | None = None,
) -> None:
    """Extract many articles; resumable (sqlite job store), results written as they complete.

    Exit code 0 when every article is done, 4 when some failed (see the summary), 3 when the
    store or the output is in use by another run or the server refused the credentials, 2 for
    bad input or options (an output that is also an input, say), 130 on Ctrl-C.
    """
    given = {name: value for name, value in locals().items() if name not in ("context", "inputs", "overrides")}

    def action() -> None:
        refuse_misplaced(context, engine, via)
        choices = ENGINES[engine](**{f.name: given[f.name] for f in fields(ENGINES[engine])})
        job = BatchRun(
            inputs or [], out, concurrency, rpm, tpm, resume, quiet, json_summary, overrides or {}, triage=triage
        )
        if isinstance(choices, RayChoices):
            job.on_ray(choices)
        else:
            way = VIAS[via]
            batch_api = way(**{f.name: given[f.name] for f in fields(way)}) if way is not None else None
            job.on_asyncio(choices, batch_api)

    run_guarded(action)


def refuse_misplaced(context: typer.Context, engine: EngineName, via: Via) -> None:
    """Refuse options given for an engine or way not chosen: one line naming them."""
    given = {name for name in context.params if _source(context, name) == "COMMANDLINE"}
    for other, choices in ENGINES.items():
        misplaced = [_flag(context, f.name) for f in fields(choices) if f.name in given and other is not engine]
        if misplaced:
            raise InputError(f"{', '.join(misplaced)}: only with --engine {other}")
    for other_via, way in VIAS.items():
        names = [f.name for f in fields(way)] if way is not None else []
        misplaced = [_flag(context, name) for name in names if name in given and other_via is not via]
        if misplaced:
            raise InputError(f"{', '.join(misplaced)}: only with --via {other_via}")


def _source(context: typer.Context, name: str) -> str | None:
    """Where an option's value came from: COMMANDLINE, ENVIRONMENT, DEFAULT..."""
    source = context.get_parameter_source(name)
    return None if source is None else source.name


def _flag(context: typer.Context, name: str) -> str:
    """The option as it was written: `--no-live-fallback` rather than `--live-fallback`."""
    param = next(param for param in context.command.params if param.name == name)
    written = param.secondary_opts if context.params[name] is False and param.secondary_opts else param.opts
    return max(written, key=len)


@dataclass
class BatchRun:
    """What every engine shares: inputs, output, limits, the summary and its report."""

    inputs: list[str]
    out: Path
    concurrency: int
    rpm: float | None
    tpm: float | None
    resume: bool
    quiet: bool
    json_summary: Path | None
    overrides: dict[str, Any]
    triage: bool = False

    def check_outputs(self, more: dict[str, Path | None], *, out_is_folder: bool = False) -> None:
        """Every place written to: writable, and none of them an input or another output."""
        from ..jobs.lease import lease_path
        from ..output.files import check_distinct

        outputs = {"--out": self.out, "--json-summary": self.json_summary, **more}
        check_distinct(self.inputs, {**outputs, "the output's lease": Path(lease_path(self.out))})
        for label, target in outputs.items():
            if target is not None and not (label == "--out" and out_is_folder):
                check_output_path(target)

    def on_asyncio(self, choices: AsyncioChoices, batch_api: BatchApiChoices | None) -> None:
        """The local engine: a job store, the output's lease, one process."""
        import asyncio

        from ..engines.local import BatchJob
        from ..input.sources import check_inputs
        from ..jobs.lease import OutputLease
        from ..jobs.limiter import JobLimiter
        from ..jobs.store import JobStore
        from ..jobs.summary import Summary
        from ..model_call.retry import Throttle

        db = choices.db or default_db(self.out)
        # Every place written to is checked before the store is created or a token is spent.
        self.check_outputs({"--db": db})
        check_inputs(self.inputs)  # a closed stdin, a FIFO or a device: refused before the store is made
        if not self.inputs and not choices.feed and not choices.sitemap:
            raise InputError("no inputs given: name files, directories, URLs, or use --feed / --sitemap")
        web = fetch_settings(
            allow_private=choices.allow_private,
            allow_network=choices.allow_network,
            ignore_robots=choices.ignore_robots,
        )
        extractor = make_extractor(throttle=Throttle(), **self.overrides)
        if batch_api is not None and extractor.provider == "rules":
            raise ConfigError(
                "--via batch-api sends requests to a model, and the rules provider has none: use --via live"
            )
        limiter = JobLimiter(self.rpm, self.tpm) if self.rpm or self.tpm else None

        def read_web(store: Any) -> list[Any]:
            """Every input as an article or a failure; fetched pages are cached in the job store's file."""
            from ..input.fetch_cache import FetchCache
            from ..input.web import read_inputs

            with FetchCache(store.path) as cache:
                read = read_inputs(
                    self.inputs,
                    feeds=choices.feed or (),
                    sitemaps=choices.sitemap or (),
                    settings=web,
                    cache=cache,
                    max_bytes=extractor.settings.max_input_bytes,
                )
            print_notes([*read.notes, *filter(None, [read.summary()])], quiet=self.quiet)
            return read.items

        summary = Summary(model=extractor.model, triage=self.triage)
        started = time.perf_counter()
        # One writer per output and per store: refuse before touching a row or the JSONL.
        with OutputLease(self.out) as lease, JobStore(db) as store:
            store.claim()
            if not self.resume:
                store.reset()
            job: Any = BatchJob(
                extractor,
                store,
                concurrency=self.concurrency,
                limiter=limiter,
                fail_fast=choices.fail_fast,
                triage=self.triage,
            )
            if batch_api is not None:
                from .batch_api import batch_api_run, cancel_batches

                if batch_api.cancel:
                    return cancel_batches(job)
                job = batch_api_run(
                    job,
                    live_fallback=batch_api.live_fallback,
                    poll_interval=batch_api.poll_interval,
                    quiet=self.quiet,
                    fresh=not self.resume,
                )
            plan = job.plan(read_web(store), retry_failed=choices.retry_failed)
            summary.planned = plan.total
            aborted: BatchAborted | None = None
            try:
                asyncio.run(_run(job, plan, self.out, lease, summary, show_progress=not self.quiet))
            except BatchAborted as error:
                aborted = error
            finally:
                summary.count_calls(job.meter)
                summary.count_store(store.usage())
                summary.wall_seconds = time.perf_counter() - started
                extra = None
                if batch_api is not None:
                    from .batch_api import batch_api_summary

                    extra = batch_api_summary(job, summary)
                self.report(summary, extra=extra)
        if aborted is not None:
            raise aborted
        self.raise_for_failures(summary)

    def on_ray(self, choices: RayChoices) -> None:
        """`--engine ray`: the same extraction and summary, run by Ray Data (extractor/engines/ray/job.py)."""
        import importlib.util

        from ..engines.ray.output import failures_path, skipped_path

        if any(given.startswith(("http://", "https://")) for given in self.inputs):
            raise InputError("URL inputs: only with --engine asyncio (Ray reads files and datasets)")
        parquet = choices.format is RayFormat.PARQUET
        self.check_outputs(
            {"the failures file": failures_path(self.out), "the skipped file": skipped_path(self.out)},
            out_is_folder=parquet,
        )
        if importlib.util.find_spec("ray") is None:
            raise ConfigError("--engine ray needs Ray: pip install 'extractor[ray]'")
        from ..engines.ray.job import RayOptions, run_leased
        from ..engines.ray.sources import check_inputs
        from ..jobs.lease import OutputLease
        from ..jobs.summary import Summary

        check_inputs(self.inputs)  # before Ray starts and before any summary
        extractor = make_extractor(**self.overrides)
        summary = Summary(model=extractor.model, triage=self.triage)
        started = time.perf_counter()
        options = RayOptions(
            address=choices.address,
            workers=choices.workers,
            concurrency=self.concurrency,
            rpm=self.rpm,
            tpm=self.tpm,
            fmt=str(choices.format),
            resume=self.resume,
            quiet=self.quiet,
            triage=self.triage,
        )
        with OutputLease(self.out) as lease:  # one run per output: refuse before Ray starts
            try:
                run_leased(self.inputs, self.out, extractor.settings, extractor.reuse_key, options, summary, lease)
            finally:
                summary.wall_seconds = time.perf_counter() - started
                self.report(summary)
        self.raise_for_failures(summary)

    def report(self, summary: Summary, *, extra: dict[str, Any] | None = None) -> None:
        """The summary as JSON (--json-summary) and, unless quiet, as tables on stderr."""
        from ..jobs.summary import render

        if self.json_summary is not None:
            data = {**summary.as_dict(), **({"batch_api": extra} if extra else {})}
            write_atomically(self.json_summary, json.dumps(data, indent=2) + "\n")
        if not self.quiet:
            from rich.console import Console

            Console(stderr=True).print(render(summary))
            if extra:
                from .batch_api import render_batch_api

                Console(stderr=True).print(render_batch_api(extra))

    @staticmethod
    def raise_for_failures(summary: Summary) -> None:
        if summary.failed:
            raise BatchHadFailures(f"{summary.failed} of {summary.total} articles failed")


async def _run(job: Any, plan: Any, out: Path, lease: OutputLease, summary: Summary, *, show_progress: bool) -> None:
    from ..output.jsonl import JsonlWriter
    from .progress import BatchProgress

    progress = BatchProgress(plan.total, enabled=None if show_progress else False, throttle=job.extractor.throttle)
    try:
        with JsonlWriter(out) as writer, progress:
            async for outcome in job.run(plan):
                if outcome.line is not None:
                    lease.check()  # taken over (this run was suspended past the timeout): stop writing
                    writer.write(outcome.line)
                summary.add(outcome)
                progress.advance(outcome)
    finally:
        await job.extractor._aclose_async_client()  # its connections belong to this loop


def register(app: typer.Typer) -> None:
    """Add `batch` and `export` to the app."""
    app.command("batch")(batch)
    app.command("export")(export)
