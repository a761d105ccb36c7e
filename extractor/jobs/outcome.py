"""`Outcome`: what became of one article in a job, the one type every engine hands around.

The unit of work (`extractor.jobs.unit`) makes it, the job store and Ray's output file record
it, the summary, the progress bar, `extractor failures` and the Python API read it.
`extractor.BatchOutcome` is the same class under its first name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any, NoReturn

from ..errors import Cause, ExtractionFailed, read_cause
from ..schemas import ArticleExtraction, Usage

if TYPE_CHECKING:
    from ..input.article import ArticleInput
    from ..input.sources import SourcedArticle


class Status(StrEnum):
    """Where an article stands at the end of its unit of work."""

    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"  # left out on purpose: triage found nothing to extract, no model call


class Origin(StrEnum):
    """Where an outcome came from."""

    EXTRACTED = "extracted"  # the model was asked in this run (live)
    BATCH_API = "batch_api"  # this run answered it from a Batch API batch (live re-asks included)
    RESUMED = "resumed"  # an earlier run finished it: nothing was done now
    REUSED = "reused"  # copied from an identical text extracted with the same reuse key: no model call
    INPUT = "input"  # the input could not be read: nothing was sent
    TRIAGED = "triaged"  # triage skipped it in this run: nothing was sent


SKIP_REASON = "triage: the rules found no exercise, aircraft or statement candidate in the text"
"""Why an article was skipped (`--triage`): its `message`, and the `reason` of its skip record."""


# The flat columns of an outcome row (Ray Data batches, Parquet): plain types Arrow stores as they are.
ROW_COLUMNS = (
    "key", "where", "sha256", "status", "origin", "line", "article_header", "reuse_key", "reused_from",
    "error_class", "cause", "http_status", "message", "attempts", "prompt_tokens", "completion_tokens",
    "total_tokens", "latency_ms",
)  # fmt: skip


@dataclass
class Outcome:
    """What became of one article: its extraction (`result`), or why it failed (`cause`, `message`).

    `line` is the `ArticleExtraction` as one JSON line when `status` is done (None for a done
    outcome its recorder fills in: a Ray actor's "already in the output", which carries the
    `article_header` to copy that result under); a
    failure has `error_class`, `cause` (a `Cause`), `http_status` when the server refused the
    request, and `message`; a skipped article (triage) has no result and `SKIP_REASON` as its
    message. `usage`, `attempts` and `latency_ms` are what the extraction
    spent (zero for resumed and reused outcomes' calls in this run, and for skipped ones).
    """

    key: str
    status: Status
    where: str | None = None
    line: str | None = field(default=None, repr=False)
    origin: Origin = Origin.EXTRACTED
    sha256: str | None = None
    article_header: str | None = field(default=None, repr=False)  # the Article as JSON, for a recorder to copy under
    reuse_key: str | None = None
    reused_from: str | None = None  # the article whose result was copied
    error_class: str | None = None
    cause: Cause | None = None
    http_status: int | None = None
    message: str | None = None
    attempts: int = 0
    usage: Usage = field(default_factory=Usage)
    latency_ms: float | None = None
    # The exception itself, for a caller that re-raises it (the service's one-article route).
    exception: BaseException | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.status = Status(self.status)
        self.origin = Origin(self.origin)
        if self.cause is not None and not isinstance(self.cause, Cause):
            self.cause, status = read_cause(self.cause)
            self.http_status = self.http_status or status

    @classmethod
    def of(cls, item: SourcedArticle, status: Status, **fields: Any) -> Outcome:
        """The outcome of the job's article `item`: its key, place and text hash, and `fields`."""
        return cls(key=item.key, status=status, where=item.where, sha256=item.article.sha256, **fields)

    # -- the Python API's view (extractor.BatchOutcome) -------------------------------------

    @property
    def article_id(self) -> str:
        """The article's id in the job (`input:<where>` for an input that could not be read)."""
        return self.key

    @property
    def ok(self) -> bool:
        """Whether the article was extracted (now, earlier, or copied from a twin)."""
        return self.status is Status.DONE

    @cached_property
    def result(self) -> ArticleExtraction | None:
        """The extraction of a done article; None for a failed one."""
        return ArticleExtraction.model_validate_json(self.line) if self.line else None

    @property
    def error(self) -> str | None:
        """A failure in one line, "<ErrorClass> (<cause>): <message>"; None when done."""
        if self.status is not Status.FAILED:
            return None
        return f"{self.error_class} ({self.cause}): {self.message}"

    @property
    def skipped(self) -> bool:
        """Left out by triage (now or by an earlier run): no model call, no result."""
        return self.status is Status.SKIPPED

    @property
    def reused(self) -> bool:
        """Copied from an identical text (now or by the run that finished it): no model call."""
        return self.reused_from is not None or self.origin is Origin.REUSED

    @property
    def resumed(self) -> bool:
        """Finished by an earlier run: nothing was done now."""
        return self.origin is Origin.RESUMED

    def raise_error(self) -> NoReturn:
        """Raise what made a failed article fail (the original exception when there is one)."""
        if self.exception is not None:
            raise self.exception
        raise ExtractionFailed(
            self.message or "failed",
            cause=self.cause or Cause.INTERNAL_ERROR,
            attempts=self.attempts,
            http_status=self.http_status,
        )

    # -- rows -------------------------------------------------------------------------------

    def to_row(self) -> dict[str, Any]:
        """The outcome as flat columns (`ROW_COLUMNS`), for Ray Data batches and Parquet."""
        usage = self.usage
        return {
            "key": self.key, "where": self.where, "sha256": self.sha256, "status": str(self.status),
            "origin": str(self.origin), "line": self.line, "article_header": self.article_header,
            "reuse_key": self.reuse_key,
            "reused_from": self.reused_from, "error_class": self.error_class,
            "cause": None if self.cause is None else str(self.cause), "http_status": self.http_status,
            "message": self.message, "attempts": self.attempts, "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens, "total_tokens": usage.total_tokens,
            "latency_ms": self.latency_ms,
        }  # fmt: skip

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Outcome:
        """An outcome from flat columns; missing, None and NaN values (pandas) read as unset."""

        def value(name: str) -> Any:
            found = row.get(name)
            return None if isinstance(found, float) and math.isnan(found) else found

        def number(name: str) -> int:
            return int(value(name) or 0)

        http_status = value("http_status")
        latency = value("latency_ms")
        return cls(
            key=str(row["key"]),
            status=Status(value("status") or Status.FAILED),
            where=value("where"),
            line=value("line"),
            origin=Origin(value("origin") or Origin.EXTRACTED),
            sha256=value("sha256"),
            article_header=value("article_header"),
            reuse_key=value("reuse_key"),
            reused_from=value("reused_from"),
            error_class=value("error_class"),
            cause=value("cause"),
            http_status=None if http_status is None else int(http_status),
            message=value("message"),
            attempts=number("attempts"),
            usage=Usage(
                prompt_tokens=number("prompt_tokens"),
                completion_tokens=number("completion_tokens"),
                total_tokens=number("total_tokens"),
            ),
            latency_ms=None if latency is None else float(latency),
        )

    def failure_record(self) -> dict[str, Any]:
        """A failed article as one JSON record (Ray's failures file, `extractor failures`, export)."""
        return {
            "id": self.key,
            "where": self.where,
            "error_class": self.error_class,
            "cause": None if self.cause is None else str(self.cause),
            "http_status": self.http_status,
            "message": self.message,
            "attempts": self.attempts,
        }

    def skip_record(self) -> dict[str, Any]:
        """A skipped article as one JSON record (Ray's skipped file, `export --include-skipped`)."""
        return {"status": str(Status.SKIPPED), "id": self.key, "where": self.where, "reason": SKIP_REASON}

    @classmethod
    def from_failure_record(cls, record: dict[str, Any]) -> Outcome:
        """A failure written by `failure_record` (older files: no http_status, `http_500` causes)."""
        return cls(
            key=str(record["id"]),
            status=Status.FAILED,
            where=record.get("where"),
            error_class=record.get("error_class"),
            cause=record.get("cause"),
            http_status=record.get("http_status"),
            message=record.get("message"),
            attempts=int(record.get("attempts") or 0),
        )


BatchOutcome = Outcome
"""The first name of `Outcome`, kept for the Python API."""


Adopt = Callable[[ArticleExtraction, "ArticleInput"], ArticleExtraction]
"""Another article's result made this article's (see `extractor.input.dedupe.adopt_result`)."""


def copy_header(result: ArticleExtraction, article: ArticleInput) -> ArticleExtraction:
    """An identical text's result under this article's header."""
    return result.model_copy(update={"article": article.header()})
