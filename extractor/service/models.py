"""Request and response bodies of the API, as pydantic models (they make /openapi.json)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ArticleRecord(BaseModel):
    """One article: its text and what is known about it."""

    model_config = ConfigDict(extra="forbid")

    text: str
    id: str | None = None
    title: str | None = None
    url: str | None = None
    published: dt.date | None = Field(default=None, description="YYYY-MM-DD")

    def as_record(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class JobRequest(BaseModel):
    """A job as JSON; `application/x-ndjson` (one article a line) is accepted too.

    Articles are taken as they are: one that is not a valid article fails alone, with its
    reason, instead of failing the whole request.
    """

    articles: list[Any]


class Counts(BaseModel):
    total: int
    done: int
    failed: int
    pending: int


class JobAccepted(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "cancelled"]
    counts: Counts


class JobStatus(JobAccepted):
    usage: dict[str, int]
    estimated_cost_usd: float | None
    created_at: str
    finished_at: str | None
    error: str | None = Field(default=None, description="why the job stopped early (it resumes at the next start)")


class JobList(BaseModel):
    jobs: list[JobStatus]
