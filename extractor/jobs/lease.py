"""One writer per job store (a lease row in the store itself) and per output (`OutputLease`, in
a small SQLite file beside it), each kept alive by a heartbeat.

A run takes the lease before it touches any row and keeps it until it closes the store. A
second run on the same store refuses at once, naming the holder. A lease whose holder is
gone is taken over: at once when its pid no longer exists on this host, and whatever its pid
when its heartbeat is older than `LEASE_TIMEOUT` seconds (a holder beats every
`HEARTBEAT_SECONDS`). Every write transaction checks the lease is still ours, so a run that
lost it (suspended past the timeout, say) stops instead of writing beside the new holder.

Every run of a store is on one host: SQLite in WAL mode shares its index through memory
mapped by the processes of one machine, so a store on a network filesystem used from several
hosts is not supported. The lease records the host so that its pid can be checked (a lease
recorded under another host name, a renamed machine say, waits for its heartbeat to age)
and so that the refusal names where the holder runs.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass

from ..errors import LeaseLost, StoreBusy

LEASE_TIMEOUT = 60.0
HEARTBEAT_SECONDS = 5.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS lease (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    token TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    started_at REAL NOT NULL,
    heartbeat REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Holder:
    """Who holds the lease, as its row says."""

    token: str
    pid: int
    host: str
    started_at: float
    heartbeat: float

    def is_alive(self, *, timeout: float, now: float) -> bool:
        if now - self.heartbeat > timeout:
            return False
        return self.host != socket.gethostname() or _pid_exists(self.pid)

    def describe(self, now: float) -> str:
        since = dt.datetime.fromtimestamp(self.started_at).strftime("%Y-%m-%d %H:%M:%S")
        return f"pid {self.pid} on {self.host} since {since} (last heartbeat {now - self.heartbeat:.0f} s ago)"


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


class Lease:
    """The lease on one store file; `acquire` in a BEGIN IMMEDIATE transaction of `db`.

    `subject` names what the lease guards in messages ("job store", "output"); `db_path` is
    the SQLite file the lease row lives in, `path` what messages name (the same, for a store).
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        path: str,
        *,
        timeout: float = LEASE_TIMEOUT,
        subject: str = "job store",
        db_path: str | None = None,
    ) -> None:
        self.db = db
        self.path = path
        self.db_path = db_path or path
        self.subject = subject
        self.timeout = timeout
        self.token: str | None = None
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
        db.executescript(SCHEMA)

    @property
    def held(self) -> bool:
        return self.token is not None

    def holder(self) -> Holder | None:
        row = self.db.execute("SELECT token, pid, host, started_at, heartbeat FROM lease WHERE id = 1").fetchone()
        return Holder(*row) if row else None

    def acquire(self) -> None:
        """Take the lease, or raise `StoreBusy` naming the live holder. The caller's transaction is open."""
        now = time.time()
        holder = self.holder()
        if holder is not None and holder.token != self.token and holder.is_alive(timeout=self.timeout, now=now):
            raise StoreBusy(
                f"{self.path}: {self.subject} in use by {holder.describe(now)}; wait for that run or stop it"
            )
        token = self.token or uuid.uuid4().hex
        self.db.execute(
            "INSERT OR REPLACE INTO lease (id, token, pid, host, started_at, heartbeat) VALUES (1, ?, ?, ?, ?, ?)",
            (token, os.getpid(), socket.gethostname(), now, now),
        )
        self.token = token

    def start_heartbeat(self) -> None:
        # A thread with its own connection: beats go on while the event loop is busy, and never
        # interleave with the main connection's transactions.
        interval = HEARTBEAT_SECONDS
        self._beat = threading.Thread(
            target=self._heartbeat,
            args=(interval,),
            name="job-store-lease",
            daemon=True,
        )
        self._beat.start()

    def _heartbeat(self, interval: float) -> None:
        db = sqlite3.connect(self.db_path, isolation_level=None)
        db.execute("PRAGMA busy_timeout=5000")
        try:
            while not self._stop.wait(interval):
                try:
                    db.execute(
                        "UPDATE lease SET heartbeat = ? WHERE token = ?",
                        (time.time(), self.token),
                    )
                except sqlite3.OperationalError:
                    continue  # busy past the timeout: the next beat tries again
        finally:
            db.close()

    def check(self) -> None:
        """Inside a write transaction: raise `LeaseLost` unless the lease is still ours."""
        if self.token is None:
            return
        row = self.db.execute("SELECT token FROM lease WHERE id = 1").fetchone()
        if row is None or row[0] != self.token:
            holder = self.holder()
            by = f" by {holder.describe(time.time())}" if holder else ""
            raise LeaseLost(f"{self.path}: this run's lease on the {self.subject} was taken over{by}; stopping")

    def release(self) -> None:
        """Stop the heartbeat and drop the lease (if it is still ours)."""
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
        if self.token is not None:
            self.db.execute("DELETE FROM lease WHERE token = ?", (self.token,))
            self.token = None


class OutputLease:
    """One writer per output: a lease like the job store's, in a small SQLite file beside it.

    `OUT.lease` beside the output `OUT` holds the lease row only. Two runs writing the same
    output (even with different job stores) would tear its lines: the second refuses at once,
    naming the holder; a dead holder's lease is taken over, as for a job store. The file
    stays after the run (deleting it could let two runs each hold a lease of their own).
    """

    def __init__(self, output: str | os.PathLike[str]) -> None:
        self.output = os.path.realpath(output)
        self.path = lease_path(self.output)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA busy_timeout=5000")
        self.lease = Lease(db, self.output, subject="output", db_path=self.path)

    def acquire(self) -> OutputLease:
        """Take the lease (raises `StoreBusy` naming a live holder) and keep it alive."""
        self.lease.db.execute("BEGIN IMMEDIATE")
        try:
            self.lease.acquire()
        except BaseException:
            self.lease.db.execute("ROLLBACK")
            self.lease.db.close()  # refused: this object is done with
            raise
        self.lease.db.execute("COMMIT")
        self.lease.start_heartbeat()
        return self

    def check(self) -> None:
        """Raise `LeaseLost` unless the lease is still this run's."""
        self.lease.check()

    def release(self) -> None:
        self.lease.release()
        self.lease.db.close()

    def __enter__(self) -> OutputLease:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def lease_path(output: str | os.PathLike[str]) -> str:
    """Where the lease of an output lives: `OUT.lease` beside it."""
    return os.fspath(output) + ".lease"
