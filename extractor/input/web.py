"""Articles from the web: URLs wherever inputs are read, RSS/Atom feeds and sitemaps.

A batch's inputs may name URLs in four ways besides feeds and sitemaps: an `http(s)://`
argument, a `.txt` file whose every line is a URL (blank lines and `#` comments aside), a
JSONL record with `url` and no `text` (its id, title and published win over the page's), and
the same records on stdin. Everything else is read as before (`sources.iter_sources`).

The URLs are fetched together (`Fetcher`: per-host pace, robots.txt, retries, caps), each
page becomes an article (`html.read_page`), and copies of one story are marked
(`dedupe.mark_duplicates`). A URL that cannot be fetched or read is an `InputFailure` of its
own, with cause `fetch` (HTTP status, network reason, refused address) or `input` (no article
text in the page), in its place among the inputs: it never stops the job.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import Cause, InputError
from .article import DEFAULT_MAX_BYTES, ArticleInput, article_from_page
from .dedupe import mark_duplicates
from .feeds import Entry, inflate, parse_feed, parse_sitemap
from .fetch import GZIP_TYPES, HTML_TYPES, XML_TYPES, Fetcher, FetchError, FetchSettings
from .fetch_cache import FetchCache
from .html import clean_url, fallback_note
from .reading import parse_json
from .sources import JSONL_SUFFIXES, InputFailure, SourcedArticle, SourceItem, iter_sources, jsonl_item

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")
SITEMAP_DEPTH = 3


def is_url(text: str) -> bool:
    """Whether an input names a URL (any scheme: the fetcher refuses all but http and https)."""
    return bool(_URL.match(text.strip()))


def url_id(url: str) -> str:
    """A URL's article id: stable across runs, the same with or without tracking parameters."""
    return "url-" + hashlib.sha256(clean_url(url).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class UrlInput:
    """A URL to read, with what the caller (`given`) or a feed (`hints`) already says of it."""

    where: str
    url: str
    given: dict[str, Any] = field(default_factory=dict)
    hints: dict[str, Any] = field(default_factory=dict)


@dataclass
class WebRead:
    """Every input as an article or a failure, in input order, and what the reading had to say."""

    items: list[SourceItem]
    notes: list[str] = field(default_factory=list)
    urls: int = 0
    requests: int = 0
    not_modified: int = 0

    def summary(self) -> str | None:
        """One line on what was fetched; None when no URL was read."""
        if not self.urls:
            return None
        failed = sum(1 for item in self.items if isinstance(item, InputFailure) and item.cause == Cause.FETCH)
        return (
            f"fetched {self.urls} URLs: {self.requests} requests, {self.not_modified} unchanged (304), {failed} failed"
        )


def expand(inputs: Iterable[str | Path], *, max_bytes: int, stdin: IO[bytes] | None = None) -> Iterator[Any]:
    """Each input as `SourceItem`s and `UrlInput`s, in order."""
    for given in inputs:
        name = str(given)
        if is_url(name):
            yield UrlInput(name, name)
        elif name == "-":
            yield from _jsonl(stdin if stdin is not None else sys.stdin.buffer, "<stdin>", max_bytes)
        elif Path(name).suffix.lower() in JSONL_SUFFIXES and Path(name).is_file():
            try:
                with Path(name).open("rb") as stream:
                    yield from _jsonl(stream, name, max_bytes)
            except OSError as exc:
                yield InputFailure(name, f"{name}: cannot read ({exc.strerror})")
        elif (urls := url_list(Path(name))) is not None:
            yield from (UrlInput(url, url) for url in urls)
        else:
            yield from iter_sources([name], max_bytes=max_bytes)


def url_list(path: Path) -> list[str] | None:
    """The URLs of a `.txt` file made only of URLs (and blank or `#` lines); None for any other file."""
    if path.suffix.lower() != ".txt" or not path.is_file():
        return None
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None  # read as an article, which names the problem
    urls = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return urls if urls and all(is_url(url) for url in urls) else None


def _jsonl(stream: IO[bytes], where: str, max_bytes: int) -> Iterator[Any]:
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        here = f"{where}:{number}"
        record = _url_record(raw)
        if record is not None:
            yield UrlInput(here, record["url"], given={k: record.get(k) for k in ("id", "title", "published")})
        else:
            yield jsonl_item(raw, where=here, max_bytes=max_bytes)


def _url_record(raw: bytes) -> dict[str, Any] | None:
    try:
        record = parse_json(raw)
    except InputError:
        return None  # read as an article record, which names the problem
    if isinstance(record, dict) and "text" not in record and isinstance(record.get("url"), str):
        return record
    return None


class WebReader:
    """Reads URLs, feeds and sitemaps with one `Fetcher`; keeps fetched texts when given a cache."""

    def __init__(self, fetcher: Fetcher, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.fetcher = fetcher
        self.max_bytes = max_bytes
        self.notes: list[str] = []
        self._slots = asyncio.Semaphore(fetcher.settings.concurrency)

    async def article(self, item: UrlInput) -> SourceItem:
        """The page at `item.url` as an article, or the failure that says why not."""
        async with self._slots:
            try:
                fetched = await self.fetcher.get(item.url, accept=HTML_TYPES)
            except InputError as exc:
                return InputFailure(item.where, str(exc), cause=Cause.FETCH)
        try:
            record = {**item.given, "id": item.given.get("id") or url_id(item.url)}
            article = article_from_page(
                fetched.text(), url=fetched.final_url, record=record, hints=item.hints, max_bytes=self.max_bytes
            )
        except InputError as exc:
            return InputFailure(item.where, f"{item.url}: {exc}")
        if self.fetcher.cache is not None:
            self.fetcher.cache.keep_text(article.sha256, article.text, article.url)
        return SourcedArticle(item.where, article)

    async def feed(self, url: str) -> list[UrlInput] | InputFailure:
        """The items of an RSS or Atom feed as URLs to read."""
        try:
            fetched = await self.fetcher.get(url, accept=XML_TYPES)
        except InputError as exc:
            return InputFailure(url, str(exc), cause=Cause.FETCH)
        try:
            entries = parse_feed(fetched.body, base_url=fetched.final_url)
        except InputError as exc:
            return InputFailure(url, f"{url}: {exc}")
        return self._inputs(url, entries)

    async def sitemap(self, url: str) -> list[UrlInput] | InputFailure:
        """The pages of a sitemap, following a sitemap index down to `SITEMAP_DEPTH` levels."""
        entries: list[Entry] = []
        pending, seen = [(url, 0)], {url}
        while pending and len(entries) <= self.fetcher.settings.max_urls:
            current, depth = pending.pop(0)
            try:
                fetched = await self.fetcher.get(current, accept=XML_TYPES + GZIP_TYPES)
                body = inflate(fetched.body, limit=self.fetcher.settings.max_bytes, what="sitemap")
                sitemap = parse_sitemap(body, base_url=fetched.final_url)
            except FetchError as exc:
                return InputFailure(url, str(exc), cause=Cause.FETCH)
            except InputError as exc:
                return InputFailure(url, f"{current}: {exc}")
            entries += sitemap.entries
            for child in sitemap.sitemaps:
                if child not in seen and depth + 1 < SITEMAP_DEPTH:
                    seen.add(child)
                    pending.append((child, depth + 1))
        return self._inputs(url, entries)

    def _inputs(self, source: str, entries: list[Entry]) -> list[UrlInput]:
        limit = self.fetcher.settings.max_urls
        if len(entries) > limit:
            self.notes.append(f"{source}: took the first {limit} of {len(entries)} URLs (EXTRACTOR_FETCH_MAX_URLS)")
        unique = list({entry.url: entry for entry in entries}.values())[:limit]
        return [
            UrlInput(entry.url, entry.url, hints={"title": entry.title, "published": entry.published})
            for entry in unique
        ]

    async def read(self, inputs: Sequence[Any], *, feeds: Sequence[str] = (), sitemaps: Sequence[str] = ()) -> WebRead:
        """Every input, feed item and sitemap page as an article or a failure, duplicates marked."""
        expanded: list[Any] = list(inputs)
        for listed in await asyncio.gather(*(self.feed(u) for u in feeds), *(self.sitemap(u) for u in sitemaps)):
            expanded += listed if isinstance(listed, list) else [listed]
        urls = list({item.where: item for item in expanded if isinstance(item, UrlInput)}.values())
        read = dict(zip([item.where for item in urls], await asyncio.gather(*map(self.article, urls)), strict=True))
        items = [read[item.where] if isinstance(item, UrlInput) else item for item in expanded]
        from_urls = set(read)
        notes = [*self.notes, *filter(None, [fallback_note()])]
        stats = self.fetcher.stats
        return WebRead(
            mark_duplicates(items, from_urls=from_urls),
            notes,
            urls=len(urls),
            requests=stats["requests"],
            not_modified=stats["not_modified"],
        )


async def aread_inputs(
    inputs: Iterable[str | Path],
    *,
    feeds: Sequence[str] = (),
    sitemaps: Sequence[str] = (),
    settings: FetchSettings | None = None,
    cache: FetchCache | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    stdin: IO[bytes] | None = None,
) -> WebRead:
    """`read_inputs` for async code."""
    expanded = list(expand(inputs, max_bytes=max_bytes, stdin=stdin))
    if not feeds and not sitemaps and not any(isinstance(item, UrlInput) for item in expanded):
        return WebRead(expanded, list(filter(None, [fallback_note()])))
    async with Fetcher(settings, cache=cache) as fetcher:
        return await WebReader(fetcher, max_bytes=max_bytes).read(expanded, feeds=feeds, sitemaps=sitemaps)


def read_inputs(inputs: Iterable[str | Path], **options: Any) -> WebRead:
    """Every input (paths, URLs, URL lists, JSONL, `-`) plus feeds and sitemaps, read and fetched.

    Options: feeds, sitemaps, settings (`FetchSettings`), cache (`FetchCache`: conditional
    GET and kept texts), max_bytes (of one article's text), stdin.
    """
    read: WebRead = _run(aread_inputs(inputs, **options))
    return read


def read_url(url: str, *, settings: FetchSettings | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> ArticleInput:
    """One page as an article; a URL that cannot be fetched or read raises `InputError` (`FetchError`)."""

    async def read() -> SourceItem:
        async with Fetcher(settings) as fetcher:
            return await WebReader(fetcher, max_bytes=max_bytes).article(UrlInput(url, url))

    item = _run(read())
    if isinstance(item, InputFailure):
        raise (FetchError if item.cause == Cause.FETCH else InputError)(item.message)
    assert isinstance(item, SourcedArticle)
    return item.article


def _run(coroutine: Any) -> Any:
    """Run a coroutine to its end, also when called from inside a running event loop (in a thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="extractor-fetch") as pool:
        return pool.submit(asyncio.run, coroutine).result()
