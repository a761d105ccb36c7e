"""Bulk extraction through OpenAI's Batch API: half the price, resumable, validated like live calls."""

from .job import BatchApiOptions, BatchApiRun
from .state import BatchApiState

__all__ = ["BatchApiOptions", "BatchApiRun", "BatchApiState"]
