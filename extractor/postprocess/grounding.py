"""Grounding: find every evidence quote in the article text and record where it is.

A quote is looked up in three steps, the first hit wins:
1. exact — `text.find(quote)`;
2. normalized — both sides folded (whitespace runs -> one space, curly -> straight quotes,
   dashes -> "-", lower case), the hit mapped back to offsets in the original text;
3. fuzzy — rapidfuzz `partial_ratio_alignment` on the folded forms, accepted when the score is
   at least `threshold` (default 90, `EXTRACTOR_FUZZY_THRESHOLD`) and the quote has at least
   `MIN_FUZZY_CHARS` characters (short quotes match almost anywhere at 90%); the window is
   widened to whole words.
For normalized and fuzzy hits the quote is replaced by the text it was found at, so every
found Evidence satisfies `text[start:end] == quote`; `match` records how it was found.

Modes: strict drops items none of whose evidence is found (notice `dropped_ungrounded`,
warning `dropped <kind> ...`) and removes the unfound evidence of the others. A statement's
direct `quote` that is not in the text but joins the parts of a split quotation ("We stand
ready," he said, "to answer at once.") becomes the longest part (contract 1.2: `quote` is the
longest continuous part); any other quote not in the text is set to null with a notice
`quote_not_found`; the statement itself stands or falls by its evidence. flag keeps
everything, unfound evidence with `match` null (a quote not found is noted, and kept). off
leaves the extraction alone.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property, lru_cache
from typing import Any

from rapidfuzz import fuzz

from ..schemas import ArticleExtraction, Evidence, Notice, NoticeCode
from .notices import noted

MIN_FUZZY_CHARS = 24
FIELDS = {"exercise": "exercises", "aircraft": "aircraft", "statement": "statements"}
# A split quotation joined by a model: at most this many parts, of at least this many words.
MAX_PARTS = 4
MIN_PART_WORDS = 3

_FOLD = str.maketrans(
    {
        **dict.fromkeys("‘’‚‛′`´", "'"),
        **dict.fromkeys("“”„‟″«»", '"'),
        **dict.fromkeys("‐‑‒–—―−", "-"),
    }
)

Span = tuple[int, int, str]


def _fold(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each of its characters, the offset it came from."""
    chars: list[str] = []
    origin: list[int] = []
    previous_space = False
    for offset, ch in enumerate(text):
        if ch.isspace():
            if not previous_space:
                chars.append(" ")
                origin.append(offset)
            previous_space = True
            continue
        previous_space = False
        folded = ch.translate(_FOLD).lower()
        chars.append(folded if len(folded) == 1 else ch)  # keep 1:1 ("İ".lower() is 2 chars)
        origin.append(offset)
    return "".join(chars), origin


class SpanFinder:
    """Finds quotes in one text; folds the text once for many quotes."""

    def __init__(self, text: str, *, threshold: float = 90.0) -> None:
        self.text = text
        self.threshold = threshold

    @cached_property
    def _folding(self) -> tuple[str, list[int]]:
        # Built on the first quote that is not verbatim: most quotes are, and folding a whole
        # article character by character is the costliest step of grounding.
        return _fold(self.text)

    @property
    def _folded(self) -> str:
        return self._folding[0]

    @property
    def _origin(self) -> list[int]:
        return self._folding[1]

    def find(self, quote: str) -> Span | None:
        span = self.find_verbatim(quote)
        if span is not None or not quote:
            return span
        needle = _fold(quote)[0].strip()
        if len(needle) < MIN_FUZZY_CHARS or len(needle) > len(self._folded):
            return None
        hit = fuzz.partial_ratio_alignment(needle, self._folded, score_cutoff=self.threshold)
        if hit is None or hit.dest_end <= hit.dest_start:
            return None
        return self._widen(*self._original(hit.dest_start, hit.dest_end, "fuzzy"))

    def find_verbatim(self, quote: str) -> Span | None:
        """The exact or normalized hit of `quote`, without the fuzzy step."""
        if not quote:
            return None
        start = self.text.find(quote)
        if start >= 0:
            return start, start + len(quote), "exact"
        needle = _fold(quote)[0].strip()
        if not needle:
            return None
        at = self._folded.find(needle)
        return self._original(at, at + len(needle), "normalized") if at >= 0 else None

    def quotation_parts(self, quote: str) -> list[Span] | None:
        """The parts of a split quotation a model joined into `quote`, or None if it is not one.

        `quote` is one when its words, read left to right, fall into at most `MAX_PARTS` runs
        of at least `MIN_PART_WORDS` words, each run found verbatim (exactly or normalized) in
        the text; punctuation between the parts ("...", "--") is skipped. A paraphrase breaks
        into short runs or words the text does not have, and is not one.
        """
        words = [w for w in quote.split() if any(c.isalnum() for c in w)]
        parts: list[Span] = []
        at = 0
        while at < len(words):
            span = None
            end = at
            # Extend the run while it is still found: a longer run found implies every shorter one.
            while end < len(words):
                longer = self.find_verbatim(" ".join(words[at : end + 1]))
                if longer is None:
                    break
                span, end = longer, end + 1
            if span is None or end - at < MIN_PART_WORDS or len(parts) == MAX_PARTS:
                return None
            parts.append(span)
            at = end
        return parts or None

    def _original(self, start: int, end: int, how: str) -> Span:
        return self._origin[start], self._origin[end - 1] + 1, how

    def _widen(self, start: int, end: int, how: str) -> Span:
        """A fuzzy window may cut words in half: extend it to word edges, drop outer spaces."""
        text = self.text
        while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
            start -= 1
        while end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
            end += 1
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        return start, end, how


@lru_cache(maxsize=64)
def span_finder(text: str, threshold: float = 90.0) -> SpanFinder:
    """One finder per text: the re-ask check and the grounding step share its folded copy."""
    return SpanFinder(text, threshold=threshold)


def find_span(text: str, quote: str, *, threshold: float = 90.0) -> Span | None:
    """(start, end, match) of `quote` in `text`, or None."""
    return span_finder(text, threshold).find(quote)


def make_grounding_check(text: str, *, threshold: float, reasks: int = 1) -> Callable[[Any], None]:
    """A validator hook: raise (at most `reasks` times) naming quotes that are not in `text`."""
    finder = span_finder(text, threshold)
    budget = [reasks]

    def check(draft: Any) -> None:
        missing = [
            ev.quote
            for items in (draft.exercises, draft.aircraft, draft.statements)
            for item in items
            for ev in item.evidence
            if finder.find(ev.quote) is None
        ]
        if missing and budget[0] > 0:
            budget[0] -= 1
            listed = "; ".join(repr(q[:120]) for q in missing[:5])
            raise ValueError(f"evidence quotes not found verbatim in the article: {listed}")

    return check


def _ground(evidence: Evidence, finder: SpanFinder) -> Evidence:
    start, end = evidence.start, evidence.end
    # Offsets that already point at the quote are kept: a quote may occur more than once.
    if start is not None and end is not None and finder.text[start:end] == evidence.quote:
        return evidence.model_copy(update={"match": evidence.match or "exact"})
    span = finder.find(evidence.quote)
    if span is None:
        return evidence.model_copy(update={"start": None, "end": None, "match": None})
    start, end, how = span
    return evidence.model_copy(update={"quote": finder.text[start:end], "start": start, "end": end, "match": how})


def _label(kind: str, item: Any) -> str:
    if kind == "aircraft":
        return str(item.designation)
    if kind == "statement":
        return str(item.speaker.name)
    return str(item.name or item.description[:60])


def _ground_items(kind: str, items: list[Any], finder: SpanFinder, mode: str, notices: list[Notice]) -> list[Any]:
    kept = []
    for index, item in enumerate(items):
        path = f"{FIELDS[kind]}[{index}]"
        evidence = [_ground(ev, finder) for ev in item.evidence]
        found = [ev for ev in evidence if ev.match is not None]
        if mode == "strict" and not found:
            detail = f"dropped {kind} {_label(kind, item)!r}: evidence not found: {item.evidence[0].quote[:120]!r}"
            notices.append(Notice(code=NoticeCode.DROPPED_UNGROUNDED, detail=detail, path=path))
            continue
        update: dict[str, Any] = {"evidence": found if mode == "strict" else evidence}
        if kind == "statement" and item.quote is not None:
            update.update(_ground_quote(item, finder, mode, notices, path=f"{path}.quote"))
        kept.append(item.model_copy(update=update))
    return kept


def _ground_quote(item: Any, finder: SpanFinder, mode: str, notices: list[Notice], *, path: str) -> dict[str, Any]:
    span = finder.find(item.quote)
    if span is not None:
        return {"quote": finder.text[span[0] : span[1]]}
    parts = finder.quotation_parts(item.quote)
    if parts is not None and len(parts) > 1:
        start, end, _ = max(parts, key=lambda span: span[1] - span[0])
        longest = finder.text[start:end]
        detail = (
            f"statement quote of {item.speaker.name!r} joins {len(parts)} parts of the text, "
            f"kept the longest: {longest[:120]!r}"
        )
        notices.append(Notice(code=NoticeCode.QUOTE_SPLIT, detail=detail, path=path))
        return {"quote": longest}
    action = "set to null" if mode == "strict" else "kept"
    detail = f"statement quote of {item.speaker.name!r} not found, {action}: {item.quote[:120]!r}"
    notices.append(Notice(code=NoticeCode.QUOTE_NOT_FOUND, detail=detail, path=path))
    return {"quote": None} if mode == "strict" else {}


def ground_extraction(
    extraction: ArticleExtraction, text: str, *, mode: str = "strict", threshold: float = 90.0
) -> ArticleExtraction:
    """Locate every quote in `text`; notices name the items `path`s as the model gave them."""
    if mode == "off":
        return extraction
    if mode not in ("strict", "flag"):
        raise ValueError(f"grounding mode must be strict, flag or off, not {mode!r}")
    finder = span_finder(text, threshold)
    notices: list[Notice] = []
    return extraction.model_copy(
        update={
            "exercises": _ground_items("exercise", extraction.exercises, finder, mode, notices),
            "aircraft": _ground_items("aircraft", extraction.aircraft, finder, mode, notices),
            "statements": _ground_items("statement", extraction.statements, finder, mode, notices),
            "meta": noted(extraction.meta, notices),
        }
    )
