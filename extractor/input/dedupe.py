"""One story under several URLs: extracted once, recorded under every URL.

Among the articles read from URLs, a later one is the same story as an earlier one when

- both have the same canonical URL (an AMP page and its article page, a link with and without
  tracking parameters), or
- their texts are near-identical: the 64-bit SimHash (Charikar) of their word 3-shingles
  differs in at most `MAX_DISTANCE` bits, as for five outlets running one wire story with
  their own first line or a trimmed last paragraph. Texts shorter than `MIN_WORDS` words are
  compared by canonical URL only: a few shingles make a fingerprint that says little.

A duplicate keeps its own URL, title, date and text; it is marked `same_as` the first
article of its story (that article's text SHA-256). The batch engine then waits for that
article's result and copies it instead of calling the model (`adopt_result`), so every URL
gets its own result line and the events built from them list every URL as a source.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ..schemas import ArticleExtraction
from .article import ArticleInput
from .sources import SourcedArticle, SourceItem

BITS = 64
SHINGLE_WORDS = 3
MAX_DISTANCE = 3
MIN_WORDS = 60
# Two fingerprints within MAX_DISTANCE bits agree on at least one of MAX_DISTANCE + 1 bands
# (pigeonhole): only articles sharing a band are compared.
BANDS = MAX_DISTANCE + 1
_WORD = re.compile(r"\w+")


def simhash(text: str) -> int | None:
    """The SimHash of the text's word 3-shingles (lower case), or None for a text under `MIN_WORDS` words."""
    words = _WORD.findall(text.lower())
    if len(words) < MIN_WORDS:
        return None
    weights = [0] * BITS
    for start in range(len(words) - SHINGLE_WORDS + 1):
        shingle = " ".join(words[start : start + SHINGLE_WORDS]).encode("utf-8")
        value = int.from_bytes(hashlib.blake2b(shingle, digest_size=BITS // 8).digest(), "big")
        for bit in range(BITS):
            weights[bit] += 1 if value >> bit & 1 else -1
    return sum(1 << bit for bit, weight in enumerate(weights) if weight > 0)


def distance(a: int, b: int) -> int:
    """Bits in which two fingerprints differ."""
    return (a ^ b).bit_count()


def _bands(fingerprint: int) -> list[tuple[int, int]]:
    width = BITS // BANDS
    return [(band, fingerprint >> (band * width) & ((1 << width) - 1)) for band in range(BANDS)]


class StoryIndex:
    """The stories seen so far, by canonical URL and by text fingerprint."""

    def __init__(self) -> None:
        self._by_url: dict[str, str] = {}
        self._by_band: dict[tuple[int, int], list[tuple[int, str]]] = {}

    def first_of(self, article: ArticleInput) -> str | None:
        """The SHA-256 of the first article of this one's story, or None when it starts a story."""
        if article.url and article.url in self._by_url:
            return self._by_url[article.url]
        fingerprint = simhash(article.text)
        if fingerprint is not None:
            for band in _bands(fingerprint):
                for other, sha in self._by_band.get(band, []):
                    if distance(fingerprint, other) <= MAX_DISTANCE:
                        return self._remember(article, fingerprint, sha)
        return self._remember(article, fingerprint, None)

    def _remember(self, article: ArticleInput, fingerprint: int | None, story: str | None) -> str | None:
        first = story or article.sha256
        if article.url:
            self._by_url.setdefault(article.url, first)
        if fingerprint is not None and story is None:
            for band in _bands(fingerprint):
                self._by_band.setdefault(band, []).append((fingerprint, first))
        return story


def mark_duplicates(items: Sequence[SourceItem], *, from_urls: set[str]) -> list[SourceItem]:
    """The items, with each later copy of a story read from a URL marked `same_as` its first article."""
    index = StoryIndex()
    marked: list[SourceItem] = []
    for item in items:
        if isinstance(item, SourcedArticle) and item.where in from_urls:
            first = index.first_of(item.article)
            if first is not None and first != item.article.sha256:
                item = replace(item, same_as=first)
        marked.append(item)
    return marked


def adopt_result(result: ArticleExtraction, article: ArticleInput, settings: Any) -> ArticleExtraction:
    """Another article's result as this article's: its header, and evidence found again in its own text.

    For an identical text only the header changes; for a near-identical one every quote is
    grounded again, so offsets index this article's text (quotes it lacks are dropped under
    strict grounding, as for a model's answer).
    """
    from ..postprocess.grounding import ground_extraction

    adopted = result.model_copy(update={"article": article.header()})
    if result.article.sha256 == article.sha256:
        return adopted
    return ground_extraction(adopted, article.text, mode=settings.grounding, threshold=settings.fuzzy_threshold)
