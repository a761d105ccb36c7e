"""Job articles given as `{"url": ...}`: fetched when a runner takes them, as `batch --url` does.

The page is read with the batch's `Fetcher` (timeouts, size cap, redirects checked, robots.txt,
per-host pace, retries of 429/5xx) and `html.read_page` (main text and metadata). Loopback,
private and link-local addresses are refused unless the service allows them
(`EXTRACTOR_SERVICE_FETCH_ALLOW_PRIVATE`). A URL that cannot be fetched fails alone, with the
`fetch` cause and the HTTP status or network reason. The fetched texts are kept in the state
folder (`fetched.sqlite`, by SHA-256) so that the review shows what the evidence points into.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from ..input.article import DEFAULT_MAX_BYTES
from ..input.fetch import Fetcher, FetchSettings
from ..input.fetch_cache import FetchCache, stored_text
from ..input.sources import SourceItem
from ..input.web import UrlInput, WebReader, is_url

FETCHED_TEXTS = "fetched.sqlite"
GIVEN_FIELDS = ("id", "title", "published")


def url_of(record: Any) -> str | None:
    """The URL of a record that names one instead of holding its text; None for any other record."""
    if isinstance(record, dict) and "text" not in record and isinstance(record.get("url"), str):
        url: str = record["url"]
        return url if is_url(url) else None
    return None


def fetched_text(state_dir: Path, sha256: str | None) -> str | None:
    """The text fetched for an article with this SHA-256, if it was fetched here."""
    path = state_dir / FETCHED_TEXTS
    return stored_text(path, sha256) if sha256 and path.is_file() else None


class JobFetcher:
    """This process's fetcher of job URLs, opened at the first URL and closed with the runner."""

    def __init__(self, state_dir: Path, *, allow_private: bool, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.state_dir = state_dir
        self.allow_private = allow_private
        self.max_bytes = max_bytes
        self._reader: WebReader | None = None
        self._opening = asyncio.Lock()

    async def _open(self) -> WebReader:
        async with self._opening:
            if self._reader is None:
                settings = FetchSettings(allow_private=self.allow_private)
                cache = await asyncio.to_thread(FetchCache, self.state_dir / FETCHED_TEXTS)
                fetcher = Fetcher(settings, cache=cache)
                await fetcher.__aenter__()
                self._reader = WebReader(fetcher, max_bytes=self.max_bytes)
            return self._reader

    async def item(self, where: str, line: str) -> SourceItem:
        """The stored URL record `line` as an article read from its page, or the failure saying why not."""
        record = json.loads(line)
        given = {name: record.get(name) for name in GIVEN_FIELDS if record.get(name) is not None}
        reader = await self._open()
        return await reader.article(UrlInput(where, record["url"], given=given))

    async def aclose(self) -> None:
        if self._reader is not None:
            fetcher, self._reader = self._reader.fetcher, None
            await fetcher.__aexit__(None, None, None)
            if fetcher.cache is not None:
                fetcher.cache.close()


__all__ = ["FETCHED_TEXTS", "JobFetcher", "fetched_text", "url_of"]
