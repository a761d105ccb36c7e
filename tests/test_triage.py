"""Triage: articles with something to extract are kept, off-topic ones skipped."""

from __future__ import annotations

import json

import pytest

from extractor.rules.triage import triage
from tests.support.paths import CORPUS, FIXTURES, GOLD, ROOT, SEEDS

OFF_TOPIC = ROOT / "tests" / "data" / "offtopic"
EVENTS = ROOT / "tests" / "data" / "events"


def _article(stem: str) -> str:
    for folder in (SEEDS, CORPUS, EVENTS / "articles"):
        if (folder / f"{stem}.txt").exists():
            return (folder / f"{stem}.txt").read_text(encoding="utf-8")
    raise FileNotFoundError(stem)


def _has_items(path) -> bool:
    answer = json.loads(path.read_text(encoding="utf-8"))
    return any(answer[kind] for kind in ("exercises", "aircraft", "statements"))


def _with_items() -> list[str]:
    """Every article with a gold item, an authored reference item or an item in an events result."""
    files = [*GOLD.glob("*.json"), *(FIXTURES / "reference").glob("*.json"), *(EVENTS / "results").glob("*.json")]
    return sorted({path.stem for path in files if _has_items(path)})


@pytest.mark.parametrize("stem", _with_items())
def test_no_article_with_items_is_skipped(stem):
    decision = triage(_article(stem))
    assert decision.keep and decision.reasons


def _without_items() -> list[str]:
    return sorted(path.stem for path in (FIXTURES / "reference").glob("*.json") if not _has_items(path))


@pytest.mark.parametrize("path", sorted(OFF_TOPIC.glob("*.txt")), ids=lambda path: path.stem)
def test_off_topic_articles_are_skipped(path):
    assert triage(path.read_text(encoding="utf-8")).keep is False


@pytest.mark.parametrize("stem", _without_items())
def test_corpus_articles_with_nothing_to_extract_are_skipped(stem):
    assert triage(_article(stem)) == triage("")  # skipped, with no reason


def test_the_off_topic_set_is_realistic_and_not_empty():
    texts = [path.read_text(encoding="utf-8") for path in OFF_TOPIC.glob("*.txt")]
    assert len(texts) >= 4 and all(len(text) > 800 for text in texts)
