"""Extraction on Ray Data, for users who already have a Ray Dataset (needs `extractor[ray]`).

    import ray, extractor.ray
    ds = ray.data.read_parquet("s3://bucket/articles/")      # columns: text, id, title, url, published
    out = extractor.ray.extract_dataset(ds, provider="openai", model="gpt-4o-mini", workers=8, concurrency=256)
    out.filter(lambda row: row["status"] == "done").write_parquet("s3://bucket/extractions/")

Each output row: key (the article id), where, sha256, status ("done" / "failed" / "known"),
line (the ArticleExtraction JSON, as `extractor batch` writes it), error_class, cause,
message, attempts, prompt/completion/total tokens and latency_ms.
"""

from __future__ import annotations

from .engines.ray.actor import ExtractionActor, extract_dataset, outcome_from_row

__all__ = ["ExtractionActor", "extract_dataset", "outcome_from_row"]
