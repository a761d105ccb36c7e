"""Shared helpers for the grounding/normalize/evaluate/review tests (not a test module)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from extractor.schemas import ArticleExtraction
from tests.support.paths import GOLD, SEEDS  # noqa: E402

GOLD_DIR = GOLD
SEED_STEM = "000_dc08afd2001463f6"
SEED_TEXT_PATH = SEEDS / f"{SEED_STEM}.txt"

META = {
    "provider": "test",
    "model": "m",
    "prompt_version": "1",
    "fingerprint": "f",
    "extracted_at": "2025-01-01T00:00:00Z",
    "warnings": [],
}


def seed_text() -> str:
    return SEED_TEXT_PATH.read_bytes().decode("utf-8")


def gold(stem: str = SEED_STEM) -> dict[str, Any]:
    return json.loads((GOLD_DIR / f"{stem}.json").read_text(encoding="utf-8"))


def article_text(stem: str) -> str:
    """The article a gold file annotates: the seed, or a corpus article beside the gold folder."""
    for folder in (SEED_TEXT_PATH.parent, GOLD_DIR.parent / "corpus"):
        path = folder / f"{stem}.txt"
        if path.exists():
            return path.read_bytes().decode("utf-8")
    raise FileNotFoundError(f"no article for gold {stem}")


def strip_private(item: Any) -> Any:
    if isinstance(item, dict):
        return {k: strip_private(v) for k, v in item.items() if not k.startswith("_")}
    if isinstance(item, list):
        return [strip_private(v) for v in item]
    return item


def as_extraction(doc: dict[str, Any], **article: Any) -> ArticleExtraction:
    data = strip_private(doc)
    data["article"] = {**data["article"], **article}
    data["meta"] = META
    return ArticleExtraction.model_validate(data)


def make(text: str, *, exercises=(), aircraft=(), statements=(), published: dt.date | None = None) -> ArticleExtraction:
    return ArticleExtraction.model_validate(
        {
            "article": {"id": "t", "sha256": "0" * 64, "chars": len(text), "published": published},
            "exercises": list(exercises),
            "aircraft": list(aircraft),
            "statements": list(statements),
            "meta": META,
        }
    )


def aircraft(designation: str, *quotes: str, operator: dict | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "designation": designation,
        "mention": extra.pop("mention", designation),
        "operator": operator,
        "evidence": [{"quote": q} for q in quotes],
        **extra,
    }
