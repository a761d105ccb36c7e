"""The ways to run a job over many articles: the local asyncio engine (`local`), Ray (`ray/`) and
OpenAI's Batch API (`batch_api/`). Each drives the same unit of work (`extractor.jobs`)."""

from ..input.sources import InputFailure, SourcedArticle, iter_sources
from ..jobs.store import JobStore
from .local import BatchAborted, BatchJob, BatchOutcome, abatch, batch

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
