"""Prompt v3: every example the model is shown is invented, none taken from an evaluation article.

An example is any double-quoted string in the system prompt or in a field description of the
draft schema (both are sent with every request). It leaks an evaluation article when a
12-character stretch of it, or one of its distinctive tokens (a word with a capital or a digit:
names, designations, dates), occurs in an article of seeds/ or corpus/ or in a gold file.
"""

from __future__ import annotations

import json
import re
from functools import cache

import pytest

from extractor.prompting import load_templates
from extractor.schemas import ExtractionDraft
from tests.support.paths import CORPUS, GOLD, SEEDS
from tests.support.schema_text import descriptions

WINDOW = 12
QUOTED = re.compile(r'"([^"\n]+)"')
TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-.][A-Za-z0-9]+)*")
# Sentence-initial and function words carry no article: capitalized, they are not distinctive.
COMMON = {"A", "An", "The", "We", "It", "Our", "If", "In", "On", "To", "And", "Of"}


def _strings(node: object) -> list[str]:
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return [node] if isinstance(node, str) else []


def _fold(text: str) -> str:
    text = text.translate(str.maketrans("‘’“”–—", "''\"\"--"))
    return re.sub(r"\s+", " ", text).lower()


@cache
def evaluation_texts() -> tuple[str, ...]:
    """Every article and gold file an evaluation reads."""
    texts = [p.read_text(encoding="utf-8") for folder in (SEEDS, CORPUS) for p in sorted(folder.glob("*.txt"))]
    for path in sorted(CORPUS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.extend(_strings(json.loads(line)))
    for path in sorted(GOLD.glob("*.json")):
        texts.extend(_strings(json.loads(path.read_text(encoding="utf-8"))))
    return tuple(texts)


@cache
def _folded_corpus() -> str:
    return "\n".join(_fold(t) for t in evaluation_texts())


@cache
def _corpus_tokens() -> tuple[frozenset[str], frozenset[str]]:
    """(tokens as written, tokens with separators removed and lower-cased: "SU 35" -> "su35")."""
    exact: set[str] = set()
    loose: set[str] = set()
    for text in evaluation_texts():
        words = TOKEN.findall(text)
        exact.update(words)
        loose.update(_loose(w) for w in words)
        # Designations written with a space ("SU 35") are two tokens: join letter-then-digit pairs.
        loose.update(_loose(a + b) for a, b in zip(words, words[1:], strict=False) if a.isalpha() and b.isdigit())
    return frozenset(exact), frozenset(loose)


def _loose(token: str) -> str:
    return re.sub(r"[^a-z0-9]", "", token.lower())


def leaks(example: str) -> list[str]:
    """What of `example` occurs in an evaluation article or gold file."""
    found = []
    folded = _fold(example)
    corpus = _folded_corpus()
    for start in range(len(folded) - WINDOW + 1):
        window = folded[start : start + WINDOW]
        if window.strip() == window and window in corpus:
            found.append(f"text {window!r}")
            break
    exact, loose = _corpus_tokens()
    tokens = TOKEN.findall(example)
    joined = [a + b for a, b in zip(tokens, tokens[1:], strict=False) if a.isalpha() and b.isdigit()]
    for token in tokens + joined:
        if any(c.isdigit() for c in token):
            # A bare day or count ("3", "29") says nothing; a designation or a year does.
            distinctive = any(c.isalpha() for c in token) or len(token) >= 4
            if distinctive and (_loose(token) in loose or _loose(token.rstrip("s")) in loose):
                found.append(f"token {token!r}")
        elif token[0].isupper() and token not in COMMON:
            if token in exact or token + "s" in exact or token.rstrip("s") in exact:
                found.append(f"token {token!r}")
    return found


def prompt_examples() -> list[str]:
    described = descriptions(ExtractionDraft.model_json_schema())
    sources = [load_templates().system, load_templates().user, *described]
    return sorted({example for source in sources for example in QUOTED.findall(source)})


def test_the_prompt_shows_examples():
    examples = prompt_examples()
    assert len(examples) >= 20, examples
    assert "Tu-95s" in examples and "MIG 29" in examples  # the designation rule's invented pair


@pytest.mark.parametrize("example", prompt_examples())
def test_no_example_comes_from_an_evaluation_article(example):
    assert leaks(example) == []


@pytest.mark.parametrize(
    "example",
    [
        "SU 35",  # corpus voa-6180015, as written
        "Su-35",  # ... and its normalized form
        "Friday",
        "Dec. 7",
        "a derivative of the F-16",
        "each of the bombers",  # the seed's words
        "Air Drive",
        "Jul. 11, 2025",
        "KCNA",
    ],
)
def test_the_check_catches_examples_taken_from_the_articles(example):
    # Prompt v2's examples: the check would have refused them.
    assert leaks(example), example
