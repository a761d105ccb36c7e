"""Batch extraction jobs: many articles, one resumable sqlite job store, JSONL/CSV output."""

from .runner import BatchAborted, BatchJob, BatchOutcome, abatch, batch
from .sources import InputFailure, SourcedArticle, iter_sources
from .store import JobStore

__all__ = [
    "BatchAborted",
    "BatchJob",
    "BatchOutcome",
    "InputFailure",
    "JobStore",
    "SourcedArticle",
    "abatch",
    "batch",
    "iter_sources",
]
