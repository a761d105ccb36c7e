"""The articles triage is measured on: those with something to extract, and off-topic ones.

Relevant: every article with a gold item, an authored reference item (fixtures/reference) or
an item in a hand-made events result. Off-topic: the stories in tests/data/offtopic, and the
corpus stories whose reference answer is empty (nothing to extract).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.paths import CORPUS, FIXTURES, GOLD, ROOT, SEEDS

OFF_TOPIC = ROOT / "tests" / "data" / "offtopic"
EVENTS = ROOT / "tests" / "data" / "events"
ITEM_TYPES = ("exercises", "aircraft", "statements")


def article_text(stem: str) -> str:
    for folder in (SEEDS, CORPUS, EVENTS / "articles"):
        if (folder / f"{stem}.txt").exists():
            return (folder / f"{stem}.txt").read_text(encoding="utf-8")
    raise FileNotFoundError(stem)


def _has_items(path: Path) -> bool:
    answer = json.loads(path.read_text(encoding="utf-8"))
    return any(answer[kind] for kind in ITEM_TYPES)


def stems_with_items() -> list[str]:
    """Every article with a gold item, an authored reference item or an item in an events result."""
    files = [*GOLD.glob("*.json"), *(FIXTURES / "reference").glob("*.json"), *(EVENTS / "results").glob("*.json")]
    return sorted({path.stem for path in files if _has_items(path)})


def stems_without_items() -> list[str]:
    """Corpus articles whose authored reference answer is empty."""
    return sorted(path.stem for path in (FIXTURES / "reference").glob("*.json") if not _has_items(path))


def off_topic_paths() -> list[Path]:
    return sorted(OFF_TOPIC.glob("*.txt"))


def _published() -> dict[str, str]:
    meta = json.loads((EVENTS / "articles" / "metadata.json").read_text(encoding="utf-8"))
    return {stem: about["published"] for stem, about in meta.items() if about.get("published")}


def relevant_records() -> list[dict[str, Any]]:
    """The articles with items as batch records (id, text, and the publication date when known)."""
    published = _published()
    return [{"id": stem, "text": article_text(stem), "published": published.get(stem)} for stem in stems_with_items()]


def off_topic_records() -> list[dict[str, Any]]:
    """The off-topic articles as batch records: tests/data/offtopic and the corpus stories without items."""
    made = [{"id": f"offtopic-{path.stem}", "text": path.read_text(encoding="utf-8")} for path in off_topic_paths()]
    published = _published()
    corpus = [
        {"id": stem, "text": article_text(stem), "published": published.get(stem)} for stem in stems_without_items()
    ]
    return made + corpus
