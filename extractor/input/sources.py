"""Where a batch's articles come from: directories, JSONL files, single files, stdin, objects.

Every input yields exactly one item: an article with the place it came from, or an
`InputFailure` naming the file (and line) that could not be read, so a bad input is recorded
as a failure of its own instead of stopping the job.
"""

from __future__ import annotations

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
from .reading import checked_file, parse_json, stdin_stream

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
    """Articles from CLI-style inputs: a directory, a .jsonl file, an article file or "-".

    What can never be read is refused before the first article (`check_inputs`): a closed
    stdin, a FIFO or a device. A missing or unreadable file is a failure of its own.
    """
    given = list(inputs)
    stream = check_inputs(given, stdin=stdin)
    return _iter_sources(given, max_bytes=max_bytes, stdin=stream)


def check_inputs(inputs: Iterable[str | Path], *, stdin: IO[bytes] | None = None) -> IO[bytes] | None:
    """Refuse (`InputError`) a closed stdin and inputs that are FIFOs or devices; the stream for "-" if given."""
    stream = None
    for given in inputs:
        name = str(given)
        if name == "-":
            stream = stdin_stream(stdin)
            continue
        path = Path(name)
        if path.exists() and not path.is_dir():
            checked_file(path)  # a FIFO would block the whole job on open()
    return stream


def _iter_sources(inputs: Iterable[str | Path], *, max_bytes: int, stdin: IO[bytes] | None) -> Iterator[SourceItem]:
    for given in inputs:
        name = str(given)
        if name == "-":
            yield from iter_jsonl(stdin_stream(stdin), where="<stdin>", max_bytes=max_bytes)
            continue
        path = Path(name)
        if path.is_dir():
            yield from iter_directory(path, max_bytes=max_bytes)
        elif path.suffix.lower() in JSONL_SUFFIXES:
            try:
                checked_file(path)
            except InputError as exc:
                yield InputFailure(name, str(exc))
                continue
            try:
                with path.open("rb") as stream:
                    yield from iter_jsonl(stream, where=name, max_bytes=max_bytes)
            except OSError as exc:
                yield InputFailure(name, f"{name}: cannot read ({exc.strerror})")
        else:
            yield _load_file(path, max_bytes=max_bytes)


def iter_directory(directory: Path, *, max_bytes: int) -> Iterator[SourceItem]:
    """Article files under a directory, recursively, in a stable (sorted) order.

    A FIFO, socket or device named like an article is a failure of its own, never opened.
    """
    for path in sorted(directory.rglob("*")):
        if path.name.startswith(".") or path.suffix.lower() not in SUPPORTED_SUFFIXES or path.is_dir():
            continue
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
    """One JSONL line as an article, or the input failure that names what is wrong with it.

    The one place a JSON record becomes an article for every engine: the local one, Ray's
    actors and the service's jobs. Whatever is wrong with the line (not UTF-8, malformed,
    nested too deeply, a lone surrogate, a field of the wrong type) is its own failure.
    """
    try:
        record = parse_json(raw)
    except InputError as exc:
        return InputFailure(where, f"{where}: {exc}")
    try:
        return SourcedArticle(where, article_from_record(record, where=where, max_bytes=max_bytes))
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
