"""Bounded shutdown steps: a step that does not finish in time is logged, and stopping goes on.

A service told to stop (SIGTERM, a deploy) must stop: anything it leaves unfinished is safe to
leave (claimed articles go back to the queue when their lease runs out, writes not applied
were never half-applied). Each step is waited for at most `patience` seconds; one that takes
longer is named in the log with where its tasks wait, so a slow stop can be traced. Past
`LIMIT` in all (a call blocking the event loop, a task that swallows its cancellation) the
`watchdog` writes every thread's stack to stderr and ends the process.
"""

from __future__ import annotations

import asyncio
import faulthandler
import json
import os
import sys
import threading
from collections.abc import Awaitable, Iterable
from typing import Any

from .access_log import log_event

PATIENCE = 10.0  # seconds a shutdown step may take before stopping goes on without it
LIMIT = 60.0  # seconds the whole shutdown may take, after which the process ends regardless
OVERRAN = 70  # the exit status of a process the watchdog ended (EX_SOFTWARE)


async def within(step: str, awaitables: Iterable[Awaitable[Any]], patience: float = PATIENCE) -> bool:
    """Wait for `awaitables` at most `patience` seconds (never cancels them); False if some did
    not finish, after logging which and where they wait."""
    tasks = [asyncio.ensure_future(awaitable) for awaitable in awaitables]
    if not tasks:
        return True
    _, pending = await asyncio.wait(tasks, timeout=patience)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            error = task.exception()
            log_event("shutdown_step_failed", step=step, error=f"{type(error).__name__}: {error}")
    if pending:
        log_event("shutdown_step_slow", step=step, seconds=patience, waiting=[where(task) for task in pending][:10])
        return False
    return True


def where(task: asyncio.Future[Any]) -> str:
    """A task's name and the line it waits on."""
    name = task.get_name() if isinstance(task, asyncio.Task) else type(task).__name__
    stack = task.get_stack(limit=1) if isinstance(task, asyncio.Task) else []
    if not stack:
        return name
    frame = stack[-1]
    return f"{name} at {frame.f_code.co_filename}:{frame.f_lineno} ({frame.f_code.co_name})"


def watchdog(limit: float = LIMIT) -> threading.Timer:
    """Started when shutdown begins: a process still alive `limit` seconds later is ended, after
    its threads' stacks are written to stderr. Its claims go back to the queue with their lease."""

    def overran() -> None:
        # Straight to stderr: the logging machinery may be what the process hangs in.
        sys.stderr.write(json.dumps({"event": "shutdown_overran", "seconds": limit}) + "\n")
        sys.stderr.flush()
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        os._exit(OVERRAN)

    timer = threading.Timer(limit, overran)
    timer.daemon = True  # a process that ends in time is not kept by it
    timer.start()
    return timer


__all__ = ["LIMIT", "OVERRAN", "PATIENCE", "watchdog", "within"]
