"""The ways to run a job over many articles: the local asyncio engine (`local`), Ray (`ray/`) and
OpenAI's Batch API (`batch_api/`). Each drives the same unit of work (`extractor.jobs.unit`)."""

from ..errors import BatchAborted
from ..input.sources import InputFailure, SourcedArticle, iter_sources
from ..jobs.outcome import BatchOutcome, Outcome
from ..jobs.store import JobStore
from .local import BatchJob, abatch, batch

__all__ = [
    "BatchAborted",
    "BatchJob",
    "BatchOutcome",
    "InputFailure",
    "JobStore",
    "Outcome",
    "SourcedArticle",
    "abatch",
    "batch",
    "iter_sources",
]
