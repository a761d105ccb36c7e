"""The gold files themselves: exact offsets, the right article, valid contract documents."""

from __future__ import annotations

import hashlib
import json

import pytest
from _evalkit import article_text, as_extraction

from tests.support.paths import GOLD

GOLD_FILES = sorted(GOLD.glob("*.json"))
ITEM_TYPES = ("exercises", "aircraft", "statements")


def test_five_articles_are_annotated():
    assert len(GOLD_FILES) == 5


@pytest.mark.parametrize("path", GOLD_FILES, ids=lambda path: path.stem)
def test_every_evidence_offset_is_exact(path):
    gold = json.loads(path.read_text(encoding="utf-8"))
    text = article_text(path.stem)
    assert gold["article"]["sha256"] == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert gold["article"]["chars"] == len(text)
    spans = [ev for kind in ITEM_TYPES for item in gold[kind] for ev in item["evidence"]]
    assert spans
    wrong = [ev["quote"][:60] for ev in spans if text[ev["start"] : ev["end"]] != ev["quote"]]
    assert wrong == []


@pytest.mark.parametrize("path", GOLD_FILES, ids=lambda path: path.stem)
def test_every_item_is_marked_and_the_document_is_the_contract(path):
    gold = json.loads(path.read_text(encoding="utf-8"))
    assert all(isinstance(item.get("_required"), bool) for kind in ITEM_TYPES for item in gold[kind])
    as_extraction(gold)  # raises on anything the contract's models reject
    quotes = [item["quote"] for item in gold["statements"] if item.get("quote")]
    text = article_text(path.stem)
    assert all(quote in text for quote in quotes)
