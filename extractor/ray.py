"""Extraction on Ray Data, for users who already have a Ray Dataset (needs `extractor[ray]`).

    import ray, extractor.ray
    ds = ray.data.read_parquet("s3://bucket/articles/")      # columns: text, id, title, url, published
    out = extractor.ray.extract_dataset(ds, provider="openai", model="gpt-4o-mini", workers=8, concurrency=256)
    out.filter(lambda row: row["status"] == "done").write_parquet("s3://bucket/extractions/")

Each output row is an `Outcome` as flat columns (`Outcome.to_row`; `Outcome.from_row` reads
one back): key (the article id), where, sha256, status ("done" / "failed"), origin
("extracted", or "resumed" for a text listed in `known`: no line), line (the
ArticleExtraction JSON, as `extractor batch` writes it), reuse_key, error_class, cause,
http_status, message, attempts, prompt/completion/total tokens and latency_ms.
"""

from __future__ import annotations

from .engines.ray.actor import ExtractionActor, extract_dataset
from .jobs.outcome import Outcome

outcome_from_row = Outcome.from_row
"""An outcome row as the `Outcome` the local engine would have yielded (its first name)."""

__all__ = ["ExtractionActor", "Outcome", "extract_dataset", "outcome_from_row"]
