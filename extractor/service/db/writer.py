"""Write-behind: the runner's writes applied by one thread, many to a transaction.

The unit of work records through a synchronous interface (`OutcomeStore`) on the event loop;
a database write there would block every request. Writes are queued instead and a thread
applies whatever has queued up in one transaction (group commit), then tells the loop which
jobs changed, so that result followers wake. A process killed before a write was applied
leaves the article claimed; its lease expires and it is run again: an outcome is recorded
once, never half.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future

from .repository import Database
from .rows import Write

BATCH = 500
logger = logging.getLogger("extractor.service")


class WriteBehind:
    """One thread applying queued writes in batches; `flush` waits until all queued are applied."""

    def __init__(self, db: Database, on_applied: Callable[[set[str]], None]) -> None:
        self.db = db
        self.on_applied = on_applied
        self._queue: queue.SimpleQueue[Write | Future[None] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="extractor-db-writer", daemon=True)
        self._thread.start()
        self.failures = 0

    def submit(self, write: Write) -> None:
        self._queue.put(write)

    async def flush(self) -> None:
        """Every write submitted so far is applied (or failed and was logged)."""
        done: Future[None] = Future()
        self._queue.put(done)
        await asyncio.wrap_future(done)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            batch: list[Write] = []
            waiters: list[Future[None]] = []
            stop = False
            item: Write | Future[None] | None = first
            while True:
                if item is None:
                    stop = True
                elif isinstance(item, Future):
                    waiters.append(item)
                else:
                    batch.append(item)
                if stop or len(batch) >= BATCH:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._apply(batch)
            for waiter in waiters:
                waiter.set_result(None)
            if stop:
                return

    def _apply(self, batch: list[Write]) -> None:
        try:
            touched = self.db.apply(batch)
        except Exception:
            # The database failed (a full disk, say): these articles stay claimed, their lease
            # expires and they run again. Nothing half-written is left.
            self.failures += 1
            logger.exception("could not record %d outcomes", len(batch))
            return
        if touched:
            self.on_applied(touched)
