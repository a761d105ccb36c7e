"""What the repository hands out and takes in: plain frozen dataclasses, no SQLAlchemy rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...jobs.outcome import Outcome
from ...schemas import Usage

FINAL_STATUSES = frozenset({"completed", "completed_with_failures", "failed", "cancelled", "expired"})
JOB_STATUSES = (
    "queued",
    "running",
    "completed",
    "completed_with_failures",
    "failed",
    "cancelling",
    "cancelled",
    "expired",
)


@dataclass(frozen=True)
class JobRow:
    id: str
    owner: str
    status: str
    grounding: str | None
    triage: bool
    total: int
    done: int
    failed: int
    expired: int
    skipped: int
    outcome_seq: int
    calls: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    created_at: float
    started_at: float | None
    finished_at: float | None
    deadline_at: float
    cancel_requested: bool
    idempotency_key: str | None
    error: str | None

    @property
    def pending(self) -> int:
        return self.total - self.done - self.failed - self.skipped

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def usage(self) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens, completion_tokens=self.completion_tokens, total_tokens=self.total_tokens
        )


@dataclass(frozen=True)
class NewArticle:
    """An article as a new job stores it: pending, or already failed (its input could not be read)."""

    seq: int
    key: str
    record: str
    sha256: str | None = None
    failure: str | None = None  # the input failure's message


@dataclass(frozen=True)
class NewJob:
    id: str
    owner: str
    grounding: str | None
    created_at: float
    deadline_at: float
    articles: list[NewArticle]
    idempotency_key: str | None = None
    error: str | None = None
    status: str | None = None  # forced (a broken job imported as failed); else from the articles
    triage: bool = False  # articles the rules find nothing in are skipped, never sent


@dataclass(frozen=True)
class Claim:
    """An article a runner took: run it, then record or release it."""

    job_id: str
    seq: int
    key: str
    owner: str
    record: str
    grounding: str | None
    deadline_at: float
    tries: int
    triage: bool = False


@dataclass(frozen=True)
class ArticleRow:
    job_id: str
    seq: int
    key: str
    status: str
    record: str
    result: str | None
    error_class: str | None
    cause: str | None
    http_status: int | None
    message: str | None
    attempts: int
    tries: int
    outcome_seq: int | None
    sha256: str | None = None  # of the text extracted (a fetched page's: how the review finds it)


@dataclass(frozen=True)
class IdempotencyRow:
    owner: str
    key: str
    fingerprint: str
    state: str
    status_code: int | None
    headers: dict[str, str]
    body: str | None
    job_id: str | None
    created_at: float = 0.0


# -- writes the runner hands to the write-behind thread ---------------------------------------


@dataclass(frozen=True)
class Spent:
    """A live model call ended (for a job's article, or a request when `job_id` is None)."""

    owner: str
    usage: Usage
    calls: int = 1
    job_id: str | None = None
    seq: int | None = None
    request: bool = False  # count one request (the synchronous route)


@dataclass(frozen=True)
class Finished:
    """A claimed article ended; `requeue_at` puts it back in the queue instead (an outage)."""

    job_id: str
    seq: int
    worker: str
    outcome: Outcome
    requeue_at: float | None = None


@dataclass(frozen=True)
class Released:
    """A claimed article is given back unfinished (shutdown, cancellation, a refused key)."""

    job_id: str
    seq: int
    worker: str
    retry_at: float | None = None
    error: str | None = None


Write = Spent | Finished | Released


def row_dict(row: Any) -> dict[str, Any]:
    return dict(row._mapping)
