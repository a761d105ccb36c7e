"""Triage: articles with something to extract are kept, off-topic ones skipped."""

from __future__ import annotations

import pytest

from extractor.rules.triage import triage
from tests.support.triage import article_text, off_topic_paths, stems_with_items, stems_without_items


@pytest.mark.parametrize("stem", stems_with_items())
def test_no_article_with_items_is_skipped(stem):
    decision = triage(article_text(stem))
    assert decision.keep and decision.reasons


@pytest.mark.parametrize("path", off_topic_paths(), ids=lambda path: path.stem)
def test_off_topic_articles_are_skipped(path):
    assert triage(path.read_text(encoding="utf-8")).keep is False


@pytest.mark.parametrize("stem", stems_without_items())
def test_corpus_articles_with_nothing_to_extract_are_skipped(stem):
    assert triage(article_text(stem)) == triage("")  # skipped, with no reason


def test_the_off_topic_set_is_realistic_and_not_empty():
    texts = [path.read_text(encoding="utf-8") for path in off_topic_paths()]
    assert len(texts) >= 4 and all(len(text) > 800 for text in texts)
