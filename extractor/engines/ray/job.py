"""`extractor batch --engine ray`: the driver side of a Ray batch job.

The driver takes the output's lease (one run per output, like the job store's), connects
to Ray (a local one using every core, or a cluster by `--address`), reads what the output
already holds (resume: texts extracted with the same reuse key are not sent again), streams
the actors' outcomes back, writes results and failures as they arrive and adds every
outcome to the same `Summary` the local engine reports.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from ...jobs.lease import OutputLease
from ...jobs.outcome import Outcome
from ...jobs.summary import Summary
from ...settings import Settings
from .actor import extract_dataset
from .output import OutputStore
from .sources import check_inputs, read_inputs

# Larger known-sets travel through Ray's object store once instead of with every actor.
INLINE_KNOWN_LIMIT = 10_000


@dataclass
class RayOptions:
    address: str | None = None  # None: start a local Ray; "auto" or "ray://host:10001": a cluster
    workers: int | None = None  # actors; default: the cluster's CPU count
    concurrency: int = 32  # requests in flight over the whole job
    rpm: float | None = None
    tpm: float | None = None
    fmt: str = "jsonl"
    resume: bool = True
    quiet: bool = False
    triage: bool = False  # skip rows the rules find nothing in, before any model call


def connect(address: str | None, *, quiet: bool = False) -> None:
    """Join the given cluster, or start a local Ray without a dashboard; reuse one already up."""
    import ray
    import ray.data

    # The summary is the report; Ray's progress lines would bury it (and `--quiet` means quiet).
    ray.data.DataContext.get_current().enable_progress_bars = not quiet
    level = logging.ERROR if quiet else logging.WARNING
    logging.getLogger("ray.data").setLevel(level)
    if ray.is_initialized():
        return
    local = address is None
    try:
        ray.init(address=address, include_dashboard=False if local else None, log_to_driver=False, logging_level=level)
    except (ConnectionError, RuntimeError, ValueError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigError(f"cannot start or join Ray ({address or 'local'}): {first_line}") from None


def default_workers() -> int:
    import ray

    return max(1, int(ray.cluster_resources().get("CPU", 1)))  # type: ignore[no-untyped-call]


def run_ray_batch(
    inputs: list[str], out: Path, settings: Settings, reuse_key: str, options: RayOptions, summary: Summary
) -> None:
    """Run the job, adding every article's outcome to `summary` as it completes.

    `reuse_key` is the job's (`Extractor.reuse_key` of these settings). A second run on the
    same output while this one holds its lease raises `StoreBusy`, before Ray starts.
    """
    with OutputLease(out) as lease:
        run_leased(inputs, out, settings, reuse_key, options, summary, lease)


def run_leased(
    inputs: list[str],
    out: Path,
    settings: Settings,
    reuse_key: str,
    options: RayOptions,
    summary: Summary,
    lease: OutputLease,
) -> None:
    """`run_ray_batch` for a caller that holds the output's `lease` already (checked before each write)."""
    import ray

    check_inputs(inputs)
    connect(options.address, quiet=options.quiet)
    workers = options.workers or default_workers()
    output = OutputStore(out, fmt=options.fmt, reuse_key=reuse_key, resume=options.resume, triage=options.triage)
    known: Any = output.known
    if len(known) > INLINE_KNOWN_LIMIT:
        known = ray.put(known)
    try:
        per_actor = max(1, -(-options.concurrency // workers))
        dataset = extract_dataset(
            read_inputs(inputs, rows_per_block=per_actor),
            settings=settings,
            workers=workers,
            concurrency=options.concurrency,
            rpm=options.rpm,
            tpm=options.tpm,
            known=known,
            triage=options.triage,
        )
        for batch in dataset.iter_batches(batch_size=None, batch_format="pandas"):
            outcomes = [output.resolve(Outcome.from_row(row)) for row in batch.to_dict("records")]
            lease.check()  # taken over (this run was suspended past the timeout): stop writing
            output.record_all(outcomes)
            for outcome in outcomes:
                summary.add(outcome)
    finally:
        output.close()
