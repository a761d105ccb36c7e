"""Where a batch's articles come from: directories, JSONL files, single files, stdin, objects.

Every input yields exactly one item: an article with the place it came from, or an
`InputFailure` naming the file (and line) that could not be read, so a bad input is recorded
as a failure of its own instead of stopping the job.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import Cause, InputError
from .article import (
    DEFAULT_MAX_BYTES,
    SUPPORTED_SUFFIXES,
    ArticleInput,
    article_from_record,
    load_article,
    make_article,
)

JSONL_SUFFIXES = (".jsonl", ".ndjson")


@dataclass(frozen=True)
class SourcedArticle:
    where: str
    article: ArticleInput
    same_as: str | None = None  # the text SHA-256 of the first article of the same story (input/dedupe.py)

    @property
    def key(self) -> str:
        """The job-wide identity of an article: its id, else one derived from its text."""
        return self.article.header().id

    @property
    def content_key(self) -> str:
        """What the article's result is shared by: its story's first text, else its own."""
        return self.same_as or self.article.sha256


@dataclass(frozen=True)
class InputFailure:
    where: str
    message: str
    cause: str = Cause.INPUT  # or Cause.FETCH: the URL could not be fetched

    @property
    def key(self) -> str:
        return f"input:{self.where}"


SourceItem = SourcedArticle | InputFailure


def iter_sources(
    inputs: Iterable[str | Path], *, max_bytes: int = DEFAULT_MAX_BYTES, stdin: IO[bytes] | None = None
) -> Iterator[SourceItem]:
    """Articles from CLI-style inputs: a directory, a .jsonl file, an article file or "-"."""
    for given in inputs:
        name = str(given)
        if name == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            yield from iter_jsonl(stream, where="<stdin>", max_bytes=max_bytes)
            continue
        path = Path(name)
        if path.is_dir():
            yield from iter_directory(path, max_bytes=max_bytes)
        elif path.suffix.lower() in JSONL_SUFFIXES:
            try:
                with path.open("rb") as stream:
                    yield from iter_jsonl(stream, where=name, max_bytes=max_bytes)
            except OSError as exc:
                yield InputFailure(name, f"{name}: cannot read ({exc.strerror})")
        else:
            yield _load_file(path, max_bytes=max_bytes)


def iter_directory(directory: Path, *, max_bytes: int) -> Iterator[SourceItem]:
    """Article files under a directory, recursively, in a stable (sorted) order."""
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not path.name.startswith(".") and path.suffix.lower() in SUPPORTED_SUFFIXES:
            yield _load_file(path, max_bytes=max_bytes)


def _load_file(path: Path, *, max_bytes: int) -> SourceItem:
    try:
        return SourcedArticle(str(path), load_article(path, max_bytes=max_bytes))
    except InputError as exc:
        return InputFailure(str(path), str(exc))


def iter_jsonl(stream: IO[bytes], *, where: str, max_bytes: int) -> Iterator[SourceItem]:
    """One {id, title, url, published, text} object a line; blank lines are skipped."""
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        yield jsonl_item(raw, where=f"{where}:{number}", max_bytes=max_bytes)


def jsonl_item(raw: bytes, *, where: str, max_bytes: int) -> SourceItem:
    """One JSONL line as an article, or the input failure that names what is wrong with it."""
    try:
        record = json.loads(raw.decode("utf-8"))
        return SourcedArticle(where, article_from_record(record, where=where, max_bytes=max_bytes))
    except UnicodeDecodeError as exc:
        return InputFailure(where, f"{where}: not valid UTF-8 (byte {exc.start})")
    except json.JSONDecodeError as exc:
        return InputFailure(where, f"{where}: malformed JSON (column {exc.colno}: {exc.msg})")
    except InputError as exc:
        return InputFailure(where, str(exc))


def as_source_items(articles: Iterable[Any], *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[SourceItem]:
    """Python-API inputs: ArticleInput, plain text, {text, id, ...} records or paths."""
    for number, item in enumerate(articles, start=1):
        where = f"<item {number}>"
        try:
            if isinstance(item, (SourcedArticle, InputFailure)):
                yield item
            elif isinstance(item, ArticleInput):
                yield SourcedArticle(where, item)
            elif isinstance(item, Path):
                yield _load_file(item, max_bytes=max_bytes)
            elif isinstance(item, str):
                yield SourcedArticle(where, make_article(item, max_bytes=max_bytes))
            else:
                yield SourcedArticle(where, article_from_record(item, where=where, max_bytes=max_bytes))
        except InputError as exc:
            yield InputFailure(where, str(exc))
