"""`extractor events`: merge results from many articles into events, optionally a timeline page."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import InputError
from .common import check_output_path, run_guarded

FORMATS = ("jsonl", "csv")


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Reading and merging build hundreds of thousands of small acyclic objects: freed by
    reference counting, they only make the cyclic collector rescan the heap again and again
    (bench/README.md has what that cost). The command is short-lived; collection resumes after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def events_command(
    inputs: Annotated[
        list[Path],
        typer.Argument(metavar="INPUT", help="result JSONL/JSON files, folders of result JSON, or batch job stores"),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="events file to write")],
    fmt: Annotated[str, typer.Option("--format", help="jsonl | csv")] = "jsonl",
    into: Annotated[
        Optional[Path],
        typer.Option("--into", help="events JSONL of an earlier run to merge into (may be the same file as --out)"),
    ] = None,
    html: Annotated[Optional[Path], typer.Option("--html", help="also write the timeline page here")] = None,
) -> None:
    """Merge extraction results into events (exercises, deployments, statements) with their sources."""

    def action() -> None:
        from ..events import merge, read_events, read_results, render_timeline, write_events
        from ..input.reading import checked_file
        from ..output.files import write_atomically

        if fmt not in FORMATS:
            raise InputError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        for path in (out, html):
            if path is not None:
                check_output_path(path)
        if into is not None and not into.exists():
            raise InputError(f"{into}: no such events file (--into)")
        if into is not None:
            checked_file(into)  # a FIFO or a device is refused before it is opened
        with _cyclic_gc_paused():
            existing = read_events(into) if into is not None else []
            events = merge(read_results(inputs), existing=existing)
            write_events(out, events, fmt)
            if html is not None:
                write_atomically(html, render_timeline(events))
        counts = {
            kind: sum(1 for e in events if getattr(e, "type", None) == kind)
            for kind in ("exercise", "deployment", "statement")
        }
        typer.echo(
            f"{len(events)} events ({', '.join(f'{n} {kind}' for kind, n in counts.items())}) -> {out}", err=True
        )

    run_guarded(action)


def register(app: typer.Typer) -> None:
    app.command("events")(events_command)
