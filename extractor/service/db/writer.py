"""Write-behind: the runner's writes applied by one thread, many to a transaction.

The unit of work records through a synchronous interface (`OutcomeStore`) on the event loop;
a database write there would block every request. Writes are queued instead and a thread
applies whatever has queued up in one transaction (group commit), then tells the loop which
jobs changed, so that result followers wake. A process killed before a write was applied
leaves the article claimed; its lease expires and it is run again: an outcome is recorded
once, never half. A database that cannot be reached (a PostgreSQL server restarting, a
network cut; SQLite is a local file, it has no such outage) keeps the batch: it is tried again, with a growing pause, until the database
answers, so calls already made are counted and outcomes already paid for are not lost (an
article whose claim expired meanwhile was handed to another runner: its late outcome is
not recorded, the other runner's is).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

from sqlalchemy.exc import DBAPIError, OperationalError

from .repository import Database
from .rows import Write

BATCH = 500
RETRY_PAUSE = 0.5  # first pause before a batch is tried again on an unreachable database
RETRY_PAUSE_MAX = 5.0
CLOSING_PATIENCE = 30.0  # seconds a closing writer still tries an unreachable database
logger = logging.getLogger("extractor.service")


class WriteBehind:
    """One thread applying queued writes in batches; `flush` waits until all queued are applied."""

    def __init__(self, db: Database, on_applied: Callable[[set[str]], None]) -> None:
        self.db = db
        self.on_applied = on_applied
        self._queue: queue.SimpleQueue[Write | Future[None] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="extractor-db-writer", daemon=True)
        self._closing_at: float | None = None
        self._thread.start()
        self.failures = 0

    def submit(self, write: Write) -> None:
        self._queue.put(write)

    async def flush(self, timeout: float | None = None) -> bool:
        """Every write submitted so far is applied (or failed and was logged); False if that
        took longer than `timeout` seconds (the writes still go on in the thread)."""
        done: Future[None] = Future()
        if not self._thread.is_alive():
            return False
        self._queue.put(done)
        finished, _ = await asyncio.wait({asyncio.wrap_future(done)}, timeout=timeout)
        return bool(finished)

    def close(self) -> None:
        self._closing_at = time.monotonic()
        self._queue.put(None)
        self._thread.join(CLOSING_PATIENCE + 5)

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
            try:
                if batch:
                    self._apply(batch)
            except Exception:  # a bug here must not end the thread: every later flush would hang
                self.failures += 1
                logger.exception("the writer failed on %d outcomes", len(batch))
            finally:
                for waiter in waiters:
                    waiter.set_result(None)
            if stop:
                return

    def _apply(self, batch: list[Write]) -> None:
        pause = RETRY_PAUSE
        while True:
            try:
                touched = self.db.apply(batch)
                break
            except Exception as error:
                if self.db.dialect == "postgresql" and unreachable(error) and not self._given_up():
                    self.failures += 1
                    logger.warning("the service database cannot be reached; %d outcomes wait", len(batch))
                    time.sleep(pause)
                    pause = min(pause * 2, RETRY_PAUSE_MAX)
                    continue
                # The database refused the batch (a full disk, say): these articles stay claimed,
                # their lease expires and they run again. Nothing half-written is left.
                self.failures += 1
                logger.exception("could not record %d outcomes", len(batch))
                return
        if touched:
            try:
                self.on_applied(touched)
            except Exception:  # the writes are applied; a follower not woken polls again
                logger.exception("could not wake the followers of %d jobs", len(touched))

    def _given_up(self) -> bool:
        return self._closing_at is not None and time.monotonic() - self._closing_at > CLOSING_PATIENCE


def unreachable(error: BaseException) -> bool:
    """The database could not be reached or dropped the connection (or chose this transaction
    as a deadlock's victim): the same writes may succeed when tried again."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OperationalError)
