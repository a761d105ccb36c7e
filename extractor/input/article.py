"""Reading articles: files, stdin and records, validated into text plus an `Article` header."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import InputError
from ..schemas import Article
from .block import has_control_characters, one_line
from .metadata import split_metadata
from .reading import checked_file, lone_surrogate, parse_json, stdin_stream

DEFAULT_MAX_BYTES = 2_000_000
SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".json")


@dataclass(frozen=True)
class ArticleInput:
    """The text to extract from and what is known about it."""

    text: str
    id: str | None = None
    title: str | None = None
    url: str | None = None
    published: dt.date | None = None
    site_name: str | None = None
    author: str | None = None

    @cached_property
    def sha256(self) -> str:
        """The text's SHA-256, hex."""
        # Asked for by the header, the job store and fixtures: hash the text once.
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def header(self) -> Article:
        """The contract's `Article`: the id (given, else one derived from the text) and metadata."""
        return Article(
            id=self.id or f"sha256-{self.sha256[:16]}",
            title=self.title,
            url=self.url,
            published=self.published,
            sha256=self.sha256,
            chars=len(self.text),
            site_name=self.site_name,
            author=self.author,
        )


def parse_published(value: Any) -> dt.date | None:
    """Accept a date, an ISO date or an ISO timestamp ("2025-03-14 20:30:26Z"); else null."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        match = re.match(r"\s*(\d{4}-\d{2}-\d{2})", value)
        if match:
            try:
                return dt.date.fromisoformat(match.group(1))
            except ValueError:
                pass
    raise InputError(f"published: {value!r} is not an ISO date")


def make_article(
    text: str,
    *,
    article_id: str | None = None,
    title: str | None = None,
    url: str | None = None,
    published: Any = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    site_name: str | None = None,
    author: str | None = None,
) -> ArticleInput:
    """Validate text and metadata into an `ArticleInput`; bad input raises `InputError`.

    A title is put on one line (its line breaks and control characters become spaces: it is a
    header line of the prompt); an id or url holding control characters is refused.
    """
    if not isinstance(text, str):
        raise InputError(f"article text must be a string, not {type(text).__name__}")
    if not text.strip():
        raise InputError("article text is empty")
    if "\x00" in text:
        raise InputError("article text contains NUL bytes: binary data, not text")
    problem = lone_surrogate(text)
    if problem is not None:
        raise InputError(f"text: {problem}")
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise InputError(f"article is {size:,} bytes, over the {max_bytes:,}-byte limit")
    article = ArticleInput(
        text=text,
        id=_plain_id(article_id),
        title=_title(title),
        url=_string_field("url", url, single_line=True),
        published=parse_published(published),
        site_name=site_name or None,
        author=author or None,
    )
    _check_header(article)
    return article


def _string_field(name: str, value: Any, *, single_line: bool = False) -> str | None:
    """A metadata string as given; None or "" is not known; another type, or text no UTF-8 can hold, is refused."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InputError(f"{name}: expected a string, not {type(value).__name__}")
    problem = lone_surrogate(value)
    if problem is not None:
        raise InputError(f"{name}: {problem}")
    if single_line and has_control_characters(value):
        raise InputError(f"{name}: contains line breaks or control characters")
    return value


def _title(value: Any) -> str | None:
    title = _string_field("title", value)
    return (one_line(title) or None) if title is not None else None


def _plain_id(value: Any) -> str | None:
    """Ids may be strings or integers in the wild; anything else is not an id."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _string_field("id", value, single_line=True)


def _check_header(article: ArticleInput) -> None:
    """Judge the metadata by the output contract now, not when the result is built after a model call."""
    try:
        article.header()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "article"
        raise InputError(f"{field}: {first['msg']}") from None


def article_from_record(record: Any, *, where: str, max_bytes: int = DEFAULT_MAX_BYTES) -> ArticleInput:
    """A JSON object `{id, title, url, published, text}`."""
    if not isinstance(record, dict):
        raise InputError(f"{where}: expected a JSON object with a 'text' field")
    if "text" not in record:
        raise InputError(f"{where}: missing 'text' field")
    text = record["text"]
    if not isinstance(text, str):
        raise InputError(f"{where}: text: expected a string, not {type(text).__name__}")
    try:
        if looks_like_html(text):
            return article_from_page(text, url=record.get("url"), record=record, max_bytes=max_bytes)
        return make_article(
            text,
            article_id=record.get("id"),
            title=record.get("title"),
            url=record.get("url"),
            published=record.get("published"),
            max_bytes=max_bytes,
        )
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None


def article_from_page(
    markup: str,
    *,
    url: Any,
    record: dict[str, Any],
    hints: dict[str, Any] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ArticleInput:
    """An HTML page as an article: its main text, and its metadata where `record` gives none.

    `url` is where the page was fetched from (None for a file); the page's canonical link wins
    over it. The record's own id, title and published win over the page's, and `hints` (what
    a feed says of the item) fill what the page leaves out.
    """
    hints = hints or {}
    from .html import read_page

    page = read_page(markup, url=url if isinstance(url, str) else None)
    if not page.text.strip():
        raise InputError("no article text found in the page")
    return make_article(
        page.text,
        article_id=record.get("id"),
        title=record.get("title") or page.title or hints.get("title"),
        url=page.url or record.get("url"),
        published=record.get("published") or page.published or hints.get("published"),
        max_bytes=max_bytes,
        site_name=page.site_name,
        author=page.author,
    )


def looks_like_html(text: str) -> bool:
    """Whether a record's text is a page's markup (it opens with a tag and closes one), not article text."""
    head = text.lstrip("\ufeff \t\r\n")[:1]
    return head == "<" and re.search(r"</(html|body|p|div|article|span|h[1-6]|a)\s*>", text, re.I) is not None


def decode_bytes(data: bytes, *, source: str) -> str:
    if b"\x00" in data[:8192]:
        raise InputError(f"{source}: binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: not valid UTF-8 (byte {exc.start})") from None


def article_from_bytes(
    data: bytes, *, suffix: str, source: str, stem: str | None, max_bytes: int = DEFAULT_MAX_BYTES
) -> ArticleInput:
    if len(data) > max_bytes:
        raise InputError(f"{source}: {len(data):,} bytes, over the {max_bytes:,}-byte limit")
    if not data.strip():
        raise InputError(f"{source}: empty file")
    raw = decode_bytes(data, source=source)
    # Keep the text byte-for-byte (no newline translation): evidence offsets index into it.
    if suffix == ".json":
        try:
            record = parse_json(raw)
        except InputError as exc:
            raise InputError(f"{source}: {exc}") from None
        if isinstance(record, dict) and not record.get("id") and stem:
            record = {**record, "id": stem}
        return article_from_record(record, where=source, max_bytes=max_bytes)
    title = url = published = None
    if suffix in (".html", ".htm"):
        try:
            return article_from_page(raw, url=None, record={"id": stem}, max_bytes=max_bytes)
        except InputError as exc:
            raise InputError(f"{source}: {exc}") from None
    elif suffix in (".txt", ".md"):
        header = split_metadata(raw)
        raw = header.text
        title, url = header.fields.get("title"), header.fields.get("url")
        published = _header_date(header.fields.get("published"), source=source)
    try:
        return make_article(raw, article_id=stem, title=title, url=url, published=published, max_bytes=max_bytes)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from None


def _header_date(value: str | None, *, source: str) -> dt.date | None:
    """A header's `Published:`: an ISO date or timestamp, or a full date as written ("March 14, 2025")."""
    if value is None:
        return None
    try:
        return parse_published(value)
    except InputError:
        pass
    from ..postprocess.dates import resolve_date_text

    resolved = resolve_date_text(value, published=None)
    if resolved is None or resolved[0] != resolved[1]:
        raise InputError(f"{source}: Published: {value!r} is not a date (use YYYY-MM-DD)")
    return resolved[0]


def _read_stdin(stdin: Any, max_bytes: int) -> bytes:
    stream = stdin_stream(stdin)
    try:
        data: bytes = stream.read(max_bytes + 1)
        return data
    except (OSError, ValueError) as exc:  # ValueError: reading a closed file
        raise InputError(f"<stdin>: cannot read ({getattr(exc, 'strerror', None) or exc})") from None


def load_article(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, stdin: Any = None) -> ArticleInput:
    """Load one article from a regular file, or from stdin when `path` is "-"."""
    if str(path) == "-":
        data = _read_stdin(stdin, max_bytes)
        stripped = data.lstrip()
        suffix = ".json" if stripped[:1] == b"{" else ".txt"
        return article_from_bytes(data, suffix=suffix, source="<stdin>", stem=None, max_bytes=max_bytes)
    path = Path(path)
    # A FIFO or a device would block or never end: refused before it is opened.
    info = checked_file(path, hint="use - to read stdin")
    suffix = path.suffix.lower()
    if suffix and suffix not in SUPPORTED_SUFFIXES:
        raise InputError(f"{path}: unsupported file type {suffix!r} (use {', '.join(SUPPORTED_SUFFIXES)})")
    if info.st_size > max_bytes:
        raise InputError(f"{path}: {info.st_size:,} bytes, over the {max_bytes:,}-byte limit")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    return article_from_bytes(data, suffix=suffix or ".txt", source=str(path), stem=path.stem, max_bytes=max_bytes)


def find_article(stem: str, folders: list[Path]) -> Path | None:
    """The article file `<stem>.<suffix>` in the first folder that has one.

    `stem` comes from result files, which anyone can write: only a plain file name inside a
    folder counts, so an id such as `../private/x` or `/etc/passwd` never reads another file.
    """
    if not _is_plain_name(stem):
        return None
    for folder in folders:
        root = Path(folder).resolve()
        for suffix in SUPPORTED_SUFFIXES:
            path = root / f"{stem}{suffix}"
            # resolve(): a symlink in the folder must not lead out of it either.
            if path.is_file() and path.resolve().is_relative_to(root):
                return path
    return None


def _is_plain_name(stem: str) -> bool:
    return (
        isinstance(stem, str)
        and stem not in ("", ".", "..")
        and "/" not in stem
        and "\\" not in stem
        and "\x00" not in stem
        and not Path(stem).is_absolute()
    )


def split_paragraphs(text: str, budget: int) -> list[tuple[int, str]]:
    """Split on paragraph boundaries into pieces of at most `budget` chars, with their offsets.

    A single paragraph longer than the budget is split on sentence ends, then hard.
    """
    if len(text) <= budget:
        return [(0, text)]
    pieces: list[tuple[int, str]] = []
    start = 0
    boundaries = [m.end() for m in re.finditer(r"\n\s*\n|\n", text)] + [len(text)]
    cut = 0
    for boundary in boundaries:
        if boundary - start > budget and cut > start:
            pieces.append((start, text[start:cut]))
            start = cut
        while boundary - start > budget:
            window = text[start : start + budget]
            sentence_end = max(window.rfind(". "), window.rfind("\n"))
            end = start + (sentence_end + 1 if sentence_end > budget // 2 else budget)
            pieces.append((start, text[start:end]))
            start = end
        cut = boundary
    if start < len(text):
        pieces.append((start, text[start:]))
    return [(offset, piece) for offset, piece in pieces if piece.strip()]
