"""The keyword options of a batch job through the Python API (`Extractor.batch`, `abatch`)."""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

from .store import JobStore

DEFAULT_CONCURRENCY = 8


class BatchOptions(TypedDict, total=False):
    """Keyword options of `abatch` and `batch` (and `Extractor.abatch` / `Extractor.batch`)."""

    concurrency: int
    store: JobStore | str | Path | None
    rpm: float | None
    tpm: float | None
    retry_failed: bool
    fail_fast: bool
    triage: bool  # skip, before any model call, articles in which the rules find nothing
