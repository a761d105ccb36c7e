"""Request and response bodies of the API, as pydantic models (they make /openapi.json).

Limits that depend on the settings (the longest text, the most articles a job takes) are
written into the served OpenAPI document by `app.py` from the same settings the routes
enforce.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

# At least one character that no flavour of regular expression, nor Python, takes for
# whitespace or a control character, and no NUL anywhere: what the extractor accepts as text.
TEXT_PATTERN = r"^[^\x00]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff][^\x00]*$"
ONE_LINE = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"  # as extractor.input.block.has_control_characters
# One line, and not only spaces (the contract strips an id's surrounding spaces; it may not be empty).
ID_PATTERN = (
    r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*[^\s\x00-\x1f\x7f-\x9f\u2028\u2029][^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"
)
JobStatusName = Literal[
    "queued", "running", "completed", "completed_with_failures", "failed", "cancelling", "cancelled", "expired"
]


class ArticleRecord(BaseModel):
    """One article: its text and what is known about it."""

    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, Field(min_length=1, pattern=TEXT_PATTERN, description="the article's text")]
    id: Annotated[str, Field(min_length=1, max_length=200, pattern=ID_PATTERN)] | None = None
    title: Annotated[str, Field(max_length=1000)] | None = None
    url: Annotated[str, Field(max_length=2000, pattern=ONE_LINE)] | None = None
    published: Annotated[dt.date, Strict()] | None = Field(default=None, description="YYYY-MM-DD")

    def as_record(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class JobRequest(BaseModel):
    """A job as JSON; `application/x-ndjson` (one article a line) is accepted too.

    An article is `{"text", "id"?, "title"?, "url"?, "published"?}`, or `{"url", "id"?,
    "title"?, "published"?}` without text: the service fetches the page and reads its main
    text and metadata (a URL that cannot be fetched fails alone, reason `fetch`).

    Articles are taken as they are: one that is not a valid article fails alone, with its
    reason, instead of failing the whole request.
    """

    model_config = ConfigDict(extra="forbid")

    articles: Annotated[list[Any], Field(min_length=1)]
    triage: Annotated[bool, Strict()] = Field(
        default=False,
        description="skip, without a model call, the articles in which the rules find no candidate of any type"
        " (as the `triage` query parameter, which an NDJSON body uses)",
    )


class Counts(BaseModel):
    total: int
    done: int
    failed: int
    skipped: int = Field(description="left out by triage: no candidate found, never sent to the model")
    pending: int = Field(description="total - done - failed - skipped")


class JobAccepted(BaseModel):
    id: str
    object: Literal["job"] = "job"
    status: JobStatusName
    counts: Counts


class JobUsage(BaseModel):
    model_calls: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class JobObject(JobAccepted):
    owner: str = Field(description="the key id of the key that created it")
    grounding: Literal["strict", "flag", "off"] | None
    triage: Annotated[bool, Strict()] = Field(description="articles the rules find nothing in are skipped, never sent")
    usage: JobUsage
    estimated_cost_usd: float | None
    created_at: int = Field(description="Unix seconds")
    started_at: int | None
    finished_at: int | None
    expires_at: int = Field(description="Unix seconds: articles not done by then fail as expired")
    error: str | None = Field(description="why the job is broken, or stopped sending for now")


class JobList(BaseModel):
    object: Literal["list"] = "list"
    data: list[JobObject]
    first_id: str | None
    last_id: str | None
    has_more: bool


class ReviewItem(BaseModel):
    id: str
    result: dict[str, Any]
    text: str | None


class ReviewPage(BaseModel):
    object: Literal["list"] = "list"
    data: list[ReviewItem]
    first_id: str | None
    last_id: str | None
    has_more: bool


class ValidationProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(description="urn:extractor:problem:<code>")
    title: str
    status: int
    detail: str
    instance: str
    request_id: str
    code: str
    errors: list[ValidationProblem] | None = None


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    problems: list[str] = Field(default_factory=list)
