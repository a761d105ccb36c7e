"""A job's input as it is stored: one JSON line per article, whatever the request looked like.

A JSON list and an NDJSON body end up the same, and a record that could not be read is kept
(as its reason) so that it fails alone, under its own number, on every run of the job. Lines
are parsed as the CLI's JSONL lines are (`extractor.input.reading.parse_json`): a lone
surrogate or a line nested too deeply is that article's failure, not the request's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..input.article import ArticleInput, article_from_record
from ..input.html import clean_url
from ..input.reading import check_unicode, parse_json
from ..input.sources import InputFailure, SourcedArticle, SourceItem
from ..input.web import url_id
from .db.rows import NewArticle
from .fetching import url_of
from .models import JobRequest

INVALID = "__invalid__"  # marks an input line that was not JSON, with the reason


def records_from_ndjson(body: bytes) -> list[str]:
    """One stored line per non-blank input line; an unreadable line is kept as its reason."""
    lines = []
    for raw in body.splitlines():
        if not raw.strip():
            continue
        try:
            record = parse_json(raw)
        except InputError as exc:
            record = {INVALID: str(exc)}
        lines.append(json.dumps(record, ensure_ascii=False))
    return lines


def records_from_json(body: bytes) -> tuple[list[str], bool]:
    """The stored lines of a `{"articles": [...], "triage"?}` body, and whether it asks for triage;
    a body that is not JSON is an `InputError`.

    Parsed here rather than by pydantic's JSON parser, which refuses a whole body for one
    article holding a lone surrogate; the body's shape is still checked by `JobRequest`
    (a `ValidationError`).
    """
    try:
        document = parse_json(body, check_text=False)  # each article is checked alone
    except InputError as exc:
        raise InputError(f"request body: {exc}") from None
    request = JobRequest.model_validate(document)
    return records_from_list(request.articles), request.triage


def records_from_list(articles: list[Any]) -> list[str]:
    lines = []
    for record in articles:
        try:
            check_unicode(record)
        except InputError as exc:
            record = {INVALID: str(exc)}
        lines.append(json.dumps(record, ensure_ascii=False))
    return lines


def read_stored(path: Path) -> list[str]:
    """The stored lines back. Split on "\\n" only: str.splitlines would also cut at U+2028,
    U+0085 and the like, which JSON leaves unescaped inside an article's text."""
    return [line for line in path.read_text(encoding="utf-8").split("\n") if line]


def new_articles(lines: list[str], max_bytes: int) -> list[NewArticle]:
    """The stored lines as a job's articles, each with its key, as a batch job registers them.

    An unreadable record is an article failed for its input; an id given twice is one article
    when the text is the same, and the second one fails when it is not. A record naming a URL
    (`{"url": ...}` without `text`) is stored as it is and fetched when a runner takes it.
    """
    found: list[NewArticle] = []
    seen: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        where = f"article {number}"
        record = json.loads(line)
        failure: str | None = None
        article: ArticleInput | None = None
        if isinstance(record, dict) and INVALID in record:
            failure = f"{where}: {record[INVALID]}"
        elif (url := url_of(record)) is not None:
            given_id = record.get("id")
            key = given_id.strip() if isinstance(given_id, str) and given_id.strip() else url_id(url)
            same = f"url:{clean_url(url)}"
            if key in seen:
                if seen[key] == same:
                    continue
                failure = f"{where}: id {key!r} already used by another article"
            else:
                seen[key] = same
                found.append(NewArticle(len(found), key, line))
                continue
        else:
            try:
                article = article_from_record(record, where=where, max_bytes=max_bytes)
            except InputError as exc:
                failure = str(exc)
        if article is not None:
            key = SourcedArticle(where, article).key
            if key in seen:
                if seen[key] == article.sha256:
                    continue  # the same article given twice: one row, one result
                failure, article = f"{where}: id {key!r} already used by another text", None
        if article is None:
            key = InputFailure(where, failure or where).key
            if key in seen:
                continue
            seen[key] = ""
            found.append(NewArticle(len(found), key, line, failure=failure))
            continue
        seen[key] = article.sha256
        found.append(NewArticle(len(found), key, line, sha256=article.sha256))
    return found


def article_item(seq: int, line: str, max_bytes: int) -> SourceItem:
    """A stored article as the unit of work's item: its key is the one it was stored under."""
    where = f"article {seq + 1}"
    try:
        return SourcedArticle(where, article_from_record(json.loads(line), where=where, max_bytes=max_bytes))
    except InputError as exc:
        return InputFailure(where, str(exc))
