"""The article's surface, with offsets: sentences, clauses, quotations and paragraphs.

Every span here indexes the article text itself, so whatever an item quotes from it is
grounded by construction (`text[start:end] == quote`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property

# A sentence ends at . ! ? (closing quotes and brackets may follow) before whitespace and a
# capital, a digit or an opening quote; never after an abbreviation or an initial ("U.S.").
_END = re.compile(r"[.!?…]+[\"”’)\]]*(?=\s+[\"“‘(\[]?[A-Z0-9])")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr gen lt col maj capt adm sgt cpl pvt rep sen gov st jr sr no vs etc inc corp co ltd dept "
    "jan feb mar apr jun jul aug sep sept oct nov dec mt ft approx fig est pres amb".split()
)
_LAST_WORD = re.compile(r"(?:^|(?<=[\s(\[\"“]))([A-Za-z][A-Za-z.]*)$")
# Curly or straight, and mixed ("... incident,” he added): a quotation opens and closes on one line.
_QUOTED = re.compile(r"[“\"][^“”\"\n]{2,}?[”\"]")


@dataclass(frozen=True)
class Span:
    """A stretch of the article: `text[start:end]`."""

    start: int
    end: int
    text: str

    def __contains__(self, offset: object) -> bool:
        return isinstance(offset, int) and self.start <= offset < self.end


def _is_abbreviation(before: str) -> bool:
    match = _LAST_WORD.search(before)
    if match is None:
        return False
    word = match.group(1)
    if re.fullmatch(r"(?:[A-Za-z]\.)*[A-Za-z]", word):  # "U.S", "D.C", an initial "J"
        return True
    return word.lower().rstrip(".") in _ABBREVIATIONS


def _trimmed(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end, text[start:end]) if end > start else None


def split_sentences(text: str) -> list[Span]:
    """Sentences with their offsets; line breaks always end one."""
    sentences: list[Span] = []
    for line in re.finditer(r"[^\n]+", text):
        start = line.start()
        for end_mark in _END.finditer(text, line.start(), line.end()):
            if _is_abbreviation(text[start : end_mark.start()]) and text[end_mark.start()] == ".":
                continue
            span = _trimmed(text, start, end_mark.end())
            if span:
                sentences.append(span)
            start = end_mark.end()
        span = _trimmed(text, start, line.end())
        if span:
            sentences.append(span)
    return sentences


def quotations(text: str) -> list[Span]:
    """Direct quotations, without their quotation marks (curly pairs, or straight ones on one line)."""
    found = []
    for match in _QUOTED.finditer(text):
        inner = _trimmed(text, match.start() + 1, match.end() - 1)  # the quotation's own comma stays
        if inner is not None:
            found.append(inner)
    return found


@dataclass
class Document:
    """One article's text, cut once into sentences, paragraphs and quotations."""

    text: str

    @cached_property
    def sentences(self) -> list[Span]:
        """Sentences, a quotation of several sentences kept in one with its attribution."""
        merged: list[Span] = []
        for sentence in split_sentences(self.text):
            previous = merged[-1] if merged else None
            if previous is not None and self._quote_across(previous.end, sentence.start):
                merged[-1] = Span(previous.start, sentence.end, self.text[previous.start : sentence.end])
            else:
                merged.append(sentence)
        return merged

    @cached_property
    def quotes(self) -> list[Span]:
        return quotations(self.text)

    @cached_property
    def _sentence_starts(self) -> list[int]:
        return [s.start for s in self.sentences]

    @cached_property
    def paragraph_breaks(self) -> list[int]:
        return [m.start() for m in re.finditer(r"\n\s*\n|\n(?=\S)", self.text)]

    def sentence_index(self, offset: int) -> int:
        """The index of the sentence holding `offset` (or the one before it)."""
        return max(0, bisect_right(self._sentence_starts, offset) - 1)

    def paragraph_of(self, offset: int) -> int:
        return bisect_right(self.paragraph_breaks, offset)

    @cached_property
    def _quote_starts(self) -> list[int]:
        return [quote.start for quote in self.quotes]

    def _quote_before(self, offset: int) -> Span | None:
        """The last quotation starting at or before `offset` (quotations do not overlap)."""
        index = bisect_right(self._quote_starts, offset) - 1
        return self.quotes[index] if index >= 0 else None

    def _quote_across(self, end: int, start: int) -> bool:
        quote = self._quote_before(start - 1)
        return quote is not None and quote.start < start and quote.end > end

    def in_quote(self, start: int, end: int | None = None) -> Span | None:
        """The quotation holding [start, end), if any."""
        end = start + 1 if end is None else end
        quote = self._quote_before(start)
        return quote if quote is not None and end <= quote.end else None

    def quotes_in(self, span: Span) -> list[Span]:
        """The quotations overlapping `span`."""
        first = max(0, bisect_right(self._quote_starts, span.start) - 1)
        last = bisect_right(self._quote_starts, span.end)
        return [q for q in self.quotes[first:last] if q.start < span.end and q.end > span.start]


_CLAUSE_BREAK = re.compile(r"[;:—–]|,\s+(?:while|whereas|but|and then|which|who|where)\b|\s-\s")


def clause_around(sentence: Span, start: int, end: int) -> Span:
    """The clause of `sentence` holding [start, end): cut at semicolons, dashes and clause conjunctions."""
    left, right = sentence.start, sentence.end
    for match in _CLAUSE_BREAK.finditer(sentence.text):
        at = sentence.start + match.start()
        if at + len(match.group()) <= start:
            left = max(left, sentence.start + match.end())
        elif at >= end:
            right = min(right, at)
            break
    return trim(sentence, left, right) or sentence


def trim(within: Span, start: int, end: int) -> Span | None:
    """The part [start, end) of `within` (absolute offsets), without outer spaces and commas."""
    text = within.text
    base = within.start
    while start < end and (text[start - base].isspace() or text[start - base] in ",;"):
        start += 1
    while end > start and (text[end - 1 - base].isspace() or text[end - 1 - base] in ",;"):
        end -= 1
    return Span(start, end, text[start - base : end - base]) if end > start else None
