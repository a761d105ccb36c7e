"""What was fetched, kept in the job store's SQLite file: pages for conditional GET, texts for review.

Two tables of their own beside the job's `articles` table (the job store never reads them):

- `fetch_cache`: per URL, the last 200 answer's body (zlib), content type, `ETag` and
  `Last-Modified`. A re-run asks with `If-None-Match` / `If-Modified-Since`, and a 304 takes
  the body from here: nothing new is downloaded.
- `article_texts`: the text each fetched article was extracted from, by its SHA-256 (the
  result's `article.sha256`), so a review page can show it with its evidence highlighted.

Its own connection: the job store's lease governs the articles, and a cache entry is only a
hint, so a write here never waits on or blocks the job's transactions for long.
"""

from __future__ import annotations

import sqlite3
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS fetch_cache (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    content_type TEXT NOT NULL,
    body BLOB NOT NULL,
    fetched_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS article_texts (
    sha256 TEXT PRIMARY KEY,
    url TEXT,
    text TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class CachedPage:
    url: str
    etag: str | None
    last_modified: str | None
    content_type: str
    body: bytes

    def validators(self) -> dict[str, str]:
        """The conditional-GET headers that ask the server whether this copy is still current."""
        headers = {}
        if self.etag:
            headers["if-none-match"] = self.etag
        if self.last_modified:
            headers["if-modified-since"] = self.last_modified
        return headers


class FetchCache:
    """The two tables in a SQLite file (the job store's, or `:memory:` for one run)."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self.db.execute("PRAGMA busy_timeout=30000")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> FetchCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str) -> CachedPage | None:
        row = self.db.execute(
            "SELECT etag, last_modified, content_type, body FROM fetch_cache WHERE url = ?", (url,)
        ).fetchone()
        if row is None:
            return None
        return CachedPage(url, row[0], row[1], row[2], zlib.decompress(row[3]))

    def put(self, url: str, *, etag: str | None, last_modified: str | None, content_type: str, body: bytes) -> None:
        """Keep a 200 answer that can be revalidated (one without validators is not worth the room)."""
        if not etag and not last_modified:
            return
        self.db.execute(
            "INSERT OR REPLACE INTO fetch_cache (url, etag, last_modified, content_type, body, fetched_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (url, etag, last_modified, content_type, zlib.compress(body, 6), time.time()),
        )

    def keep_text(self, sha256: str, text: str, url: str | None) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO article_texts (sha256, url, text) VALUES (?, ?, ?)", (sha256, url, text)
        )


def stored_text(path: str | Path, sha256: str) -> str | None:
    """The text an article with this SHA-256 was extracted from, if the store at `path` kept it."""
    try:
        db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        row = db.execute("SELECT text FROM article_texts WHERE sha256 = ?", (sha256,)).fetchone()
    except sqlite3.Error:
        return None  # a store without the table: nothing fetched into it
    finally:
        db.close()
    return row[0] if row else None
