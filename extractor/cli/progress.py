"""A rich progress bar for a batch: done / failed / skipped / total, rate, ETA, tokens, server pauses.

Off when stderr is not a terminal or with --quiet, so logs and pipes stay clean.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

from ..jobs.outcome import Outcome, Status
from ..model_call.retry import Throttle


def pause_note(throttle: Throttle | None) -> str:
    """ "paused by the server until HH:MM:SS" while a Retry-After pause holds every request."""
    until = throttle.paused_until() if throttle is not None else None
    return f"paused by the server until {until:%H:%M:%S}" if until is not None else ""


def pause_column(throttle: Throttle | None) -> Any:
    """A column read on every refresh, so the note comes and goes without an article finishing."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class PauseColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            return Text(pause_note(throttle), style="yellow")

    return PauseColumn()


class BatchProgress:
    def __init__(self, total: int, *, enabled: bool | None = None, throttle: Throttle | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.done = self.failed = self.skipped = self.tokens = 0
        self._progress: Any = None
        self._task: Any = None
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("[bold]batch"),
                BarColumn(),
                TextColumn(
                    "{task.fields[done]} done, {task.fields[failed]} failed, {task.fields[skipped]} skipped / {task.total}"
                ),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[tokens]:,} tokens"),
                pause_column(throttle),
                console=Console(stderr=True),
                transient=False,
            )
            self._task = self._progress.add_task("batch", total=total, done=0, failed=0, skipped=0, tokens=0, rate="")

    def advance(self, outcome: Outcome) -> None:
        if outcome.status is Status.DONE:
            self.done += 1
        elif outcome.status is Status.SKIPPED:
            self.skipped += 1
        else:
            self.failed += 1
        if not outcome.reused and not outcome.resumed:
            self.tokens += outcome.usage.total_tokens
        if self._progress is not None:
            task = self._progress.tasks[0]
            speed = task.speed
            self._progress.update(
                self._task,
                advance=1,
                done=self.done,
                failed=self.failed,
                skipped=self.skipped,
                tokens=self.tokens,
                rate=f"{speed:.1f}/s" if speed else "",
            )

    def __enter__(self) -> BatchProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
