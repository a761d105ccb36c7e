"""The Batch API's steps, recorded in the job store's database in tables of their own.

One row per request file ("chunk") walks written -> uploading -> uploaded -> creating ->
created -> downloaded, each step committed before the next begins. `uploading` and
`creating` are written *before* the call: a process killed during the call finds them and
looks the file or batch up at the server (by its file name, by its metadata) instead of
paying for a second one. The request bytes live in the row, so a retried upload sends the
same file. Answers from the output and error files are kept per request, so processing them
again after a kill costs nothing.

Each chunk is one part of the job; its tag (request file name, part number and the store's
generation, which `--no-resume` bumps) goes into its batch's metadata, so the batch of a
create left in doubt is found again, and a `--no-resume` run never adopts the run before's.

Kept apart from `store.py` (the articles table) so both can change independently.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from ...jobs.store import JobStore
from ...schemas import Usage

SCHEMA = """
CREATE TABLE IF NOT EXISTS batch_api_chunks (
    id INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    name TEXT NOT NULL UNIQUE,
    content BLOB NOT NULL,
    requests INTEGER NOT NULL,
    step TEXT NOT NULL CHECK (step IN ('written', 'uploading', 'uploaded', 'creating', 'created', 'downloaded')),
    file_id TEXT,
    batch_id TEXT,
    batch_status TEXT,
    completed INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS batch_api_requests (
    chunk INTEGER NOT NULL REFERENCES batch_api_chunks (id),
    custom_id TEXT NOT NULL,
    article_key TEXT NOT NULL,
    article_sha256 TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    PRIMARY KEY (chunk, custom_id)
);
CREATE INDEX IF NOT EXISTS batch_api_requests_by_body ON batch_api_requests (body_sha256);
CREATE TABLE IF NOT EXISTS batch_api_answers (
    chunk INTEGER NOT NULL REFERENCES batch_api_chunks (id),
    custom_id TEXT NOT NULL,
    status_code INTEGER,
    body TEXT,
    error TEXT,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (chunk, custom_id)
);
CREATE TABLE IF NOT EXISTS batch_api_job (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
"""
FINAL_BATCH_STATUSES = ("completed", "failed", "expired", "cancelled")
LEFT_OVER_CODES = ("batch_expired", "batch_cancelled")
# The error code of a line this job could not read (torn JSON, a 200 answer without choices...).
UNREADABLE_CODE = "unreadable_line"


@dataclass(frozen=True)
class Chunk:
    id: int
    fingerprint: str
    name: str
    requests: int
    step: str
    file_id: str | None
    batch_id: str | None
    batch_status: str | None
    completed: int
    failed: int


@dataclass(frozen=True)
class PlannedRequest:
    custom_id: str
    article_key: str
    article_sha256: str
    body_sha256: str


@dataclass(frozen=True)
class Answer:
    """One line of an output or error file, as the job kept it."""

    status_code: int | None
    body: str | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code == 200 and self.body is not None

    @classmethod
    def unreadable_line(cls, detail: str, status_code: int | None = None) -> Answer:
        """The answer of a request whose line in the output or error file could not be read."""
        return cls(status_code, None, json.dumps({"code": UNREADABLE_CODE, "message": detail}))

    @property
    def left_over(self) -> bool:
        """Never run: the batch expired or was cancelled first (the error file says which)."""
        return any(f'"{code}"' in (self.error or "") for code in LEFT_OVER_CODES)

    @property
    def unreadable(self) -> bool:
        return f'"{UNREADABLE_CODE}"' in (self.error or "")

    @property
    def detail(self) -> str:
        """The error's message, or the error as written."""
        try:
            error = json.loads(self.error or "null")
        except ValueError:
            return self.error or ""
        return str(error.get("message") or error) if isinstance(error, dict) else str(error or "")


_CHUNK_COLUMNS = "id, fingerprint, name, requests, step, file_id, batch_id, batch_status, completed, failed"


class BatchApiState:
    """The Batch API tables in a job store's database."""

    def __init__(self, store: JobStore) -> None:
        self.db = store.db
        # The store's own transactions, so these writes follow its rules (one writer at a time).
        self._transaction: Callable[[], AbstractContextManager[sqlite3.Connection]] = store._transaction
        self.db.executescript(SCHEMA)
        with self._transaction():
            self.db.execute("INSERT OR IGNORE INTO batch_api_job (id, generation) VALUES (1, 1)")

    def reset(self) -> None:
        """Forget every request file, batch and answer (a fresh run with --no-resume)."""
        with self._transaction():
            for table in ("batch_api_answers", "batch_api_requests", "batch_api_chunks"):
                self.db.execute(f"DELETE FROM {table}")
            self.db.execute("UPDATE batch_api_job SET generation = generation + 1")

    def tag(self, chunk: Chunk) -> str:
        """The chunk's job-part tag, put in its batch's metadata to find the batch again."""
        (generation,) = self.db.execute("SELECT generation FROM batch_api_job").fetchone()
        return f"{chunk.name}:part{chunk.id}:gen{generation}"

    # -- writing requests ---------------------------------------------------------------

    def submitted(self, fingerprint: str) -> set[tuple[str, str]]:
        """(article key, text sha256) of every article already in a request file."""
        rows = self.db.execute(
            "SELECT r.article_key, r.article_sha256 FROM batch_api_requests r "
            "JOIN batch_api_chunks c ON c.id = r.chunk WHERE c.fingerprint = ?",
            (fingerprint,),
        )
        return {(key, sha) for key, sha in rows}

    def add_chunk(self, fingerprint: str, name: str, content: bytes, requests: list[PlannedRequest]) -> Chunk:
        """Record one request file and its requests in one transaction: all of it or nothing."""
        with self._transaction():
            cursor = self.db.execute(
                "INSERT INTO batch_api_chunks (fingerprint, name, content, requests, step, updated_at) "
                "VALUES (?, ?, ?, ?, 'written', ?)",
                (fingerprint, name, content, len(requests), time.time()),
            )
            chunk_id = cursor.lastrowid
            self.db.executemany(
                "INSERT INTO batch_api_requests (chunk, custom_id, article_key, article_sha256, body_sha256) "
                "VALUES (?, ?, ?, ?, ?)",
                [(chunk_id, r.custom_id, r.article_key, r.article_sha256, r.body_sha256) for r in requests],
            )
        chunk = self.chunk(int(chunk_id or 0))
        assert chunk is not None
        return chunk

    # -- steps ------------------------------------------------------------------------------

    def set_step(self, chunk_id: int, step: str, **values: Any) -> Chunk:
        columns = ", ".join(f"{name} = ?" for name in values)
        with self._transaction():
            self.db.execute(
                f"UPDATE batch_api_chunks SET step = ?, {columns + ', ' if columns else ''}updated_at = ? WHERE id = ?",
                (step, *values.values(), time.time(), chunk_id),
            )
        chunk = self.chunk(chunk_id)
        assert chunk is not None
        return chunk

    def set_status(self, chunk_id: int, status: str, completed: int, failed: int) -> None:
        with self._transaction():
            self.db.execute(
                "UPDATE batch_api_chunks SET batch_status = ?, completed = ?, failed = ?, updated_at = ? WHERE id = ?",
                (status, completed, failed, time.time(), chunk_id),
            )

    def store_answers(self, chunk_id: int, answers: list[tuple[str, Answer, Usage]], status: str) -> Chunk:
        """Keep every downloaded line and mark the chunk downloaded, in one transaction."""
        with self._transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO batch_api_answers "
                "(chunk, custom_id, status_code, body, error, prompt_tokens, completion_tokens) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (chunk_id, cid, a.status_code, a.body, a.error, u.prompt_tokens, u.completion_tokens)
                    for cid, a, u in answers
                ],
            )
            self.db.execute(
                "UPDATE batch_api_chunks SET step = 'downloaded', batch_status = ?, updated_at = ? WHERE id = ?",
                (status, time.time(), chunk_id),
            )
        chunk = self.chunk(chunk_id)
        assert chunk is not None
        return chunk

    # -- reading ----------------------------------------------------------------------------

    def chunk(self, chunk_id: int) -> Chunk | None:
        row = self.db.execute(f"SELECT {_CHUNK_COLUMNS} FROM batch_api_chunks WHERE id = ?", (chunk_id,)).fetchone()
        return Chunk(*row) if row else None

    def chunks(self, fingerprint: str | None = None) -> list[Chunk]:
        where, params = ("WHERE fingerprint = ?", (fingerprint,)) if fingerprint else ("", ())
        rows = self.db.execute(f"SELECT {_CHUNK_COLUMNS} FROM batch_api_chunks {where} ORDER BY id", params)
        return [Chunk(*row) for row in rows]

    def custom_ids(self, chunk_id: int) -> set[str]:
        rows = self.db.execute("SELECT custom_id FROM batch_api_requests WHERE chunk = ?", (chunk_id,))
        return {custom_id for (custom_id,) in rows}

    def content(self, chunk_id: int) -> bytes:
        row = self.db.execute("SELECT content FROM batch_api_chunks WHERE id = ?", (chunk_id,)).fetchone()
        return bytes(row[0])

    def answers_by_body(self, fingerprint: str) -> dict[str, Answer | None]:
        """Request body sha256 -> its answer, or None for a request the batch left unanswered."""
        rows = self.db.execute(
            "SELECT r.body_sha256, a.status_code, a.body, a.error FROM batch_api_requests r "
            "JOIN batch_api_chunks c ON c.id = r.chunk "
            "LEFT JOIN batch_api_answers a ON a.chunk = r.chunk AND a.custom_id = r.custom_id "
            "WHERE c.fingerprint = ? AND c.step = 'downloaded' ORDER BY c.id",
            (fingerprint,),
        )
        found: dict[str, Answer | None] = {}
        for body_sha, status_code, body, error in rows:
            answer = Answer(status_code, body, error) if (status_code is not None or error is not None) else None
            # A later chunk's answer to the same request (a resubmitted text) wins only if it is one.
            if answer is not None or body_sha not in found:
                found[body_sha] = answer
        return found

    def batch_usage(self, fingerprint: str) -> Usage:
        """Tokens of the answers the job can use, billed at the batch price (a line that could not
        be read is billed too, but its tokens reach no article)."""
        prompt, completion = self.db.execute(
            "SELECT COALESCE(SUM(a.prompt_tokens), 0), COALESCE(SUM(a.completion_tokens), 0) FROM batch_api_answers a "
            "JOIN batch_api_chunks c ON c.id = a.chunk "
            "WHERE c.fingerprint = ? AND a.status_code = 200 AND a.body IS NOT NULL",
            (fingerprint,),
        ).fetchone()
        return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)
