"""Score extractions against gold files (contract v1 plus `_required` / `_stance_ambiguous`).

Matching, per item type, greedy and one-to-one: every (gold, predicted) pair that qualifies
gets a score; pairs are taken best score first, each item used at most once.
- exercises qualify when their evidence spans overlap, or when they share resolved dates (or
  the date as written) and at least one participant country; score = overlapping characters,
  plus a bonus for equal dates.
- aircraft qualify when normalized designations are equal and operator countries are equal
  or one of them is unknown; an equal operator country scores higher, and so does the same
  place (contract 1.2: one entry per type, operator and place; `deployed_to` equal, or one
  containing the other as written, or both null).
- statements qualify when their evidence/quote spans overlap; the same speaker scores higher.
Spans come from evidence offsets; a prediction without offsets is located in the article
text with the grounding finder when the text is known.

Counting: a prediction matched to a required gold item is a true positive; one matched to a
`_required: false` item counts for nothing; an unmatched prediction is a false positive; an
unmatched required gold item is a false negative. Precision of no predictions and recall of
no required gold are 1.0 (nothing claimed wrongly / nothing missed). Totals are micro sums.

Key-field accuracy is computed on matched pairs: exercise participant countries (as sets),
aircraft designation, operator (canonical name when both have one, else country), count,
statement speaker (canonical name, else name containment), date_text (as written, compared
after folding case and punctuation; both null agree) and stance (skipped for gold statements
marked `_stance_ambiguous`). Grounding rate is the share of predicted items with
at least one evidence `match` that is not null; dropped counts the `dropped_ungrounded`
notices in meta.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from ..postprocess.gazetteer import alias_key
from ..postprocess.grounding import SpanFinder
from ..postprocess.normalize import normalize_designation
from ..postprocess.notices import with_code
from ..schemas import NoticeCode

ITEM_TYPES = ("exercises", "aircraft", "statements")
Item = dict[str, Any]


@dataclass
class TypeScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, other: TypeScore) -> None:
        self.tp, self.fp, self.fn = self.tp + other.tp, self.fp + other.fp, self.fn + other.fn

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1}


@dataclass
class FieldScore:
    correct: int = 0
    total: int = 0

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.total if self.total else None

    def record(self, ok: bool) -> None:
        self.correct += int(ok)
        self.total += 1

    def add(self, other: FieldScore) -> None:
        self.correct, self.total = self.correct + other.correct, self.total + other.total


@dataclass
class ArticleScore:
    types: dict[str, TypeScore] = field(default_factory=lambda: {t: TypeScore() for t in ITEM_TYPES})
    fields: dict[str, FieldScore] = field(default_factory=dict)
    predicted_items: int = 0
    grounded_items: int = 0
    dropped_ungrounded: int = 0

    @property
    def grounding_rate(self) -> float | None:
        return self.grounded_items / self.predicted_items if self.predicted_items else None

    def field(self, name: str) -> FieldScore:
        return self.fields.setdefault(name, FieldScore())

    def add(self, other: ArticleScore) -> None:
        for name, score in other.types.items():
            self.types[name].add(score)
        for name, fscore in other.fields.items():
            self.field(name).add(fscore)
        self.predicted_items += other.predicted_items
        self.grounded_items += other.grounded_items
        self.dropped_ungrounded += other.dropped_ungrounded

    def as_dict(self) -> dict[str, Any]:
        overall = TypeScore()
        for score in self.types.values():
            overall.add(score)
        return {
            "types": {name: score.as_dict() for name, score in self.types.items()},
            "overall": overall.as_dict(),
            "fields": {name: {**asdict(f), "accuracy": f.accuracy} for name, f in sorted(self.fields.items())},
            "predicted_items": self.predicted_items,
            "grounding_rate": self.grounding_rate,
            "dropped_ungrounded": self.dropped_ungrounded,
        }


# -- spans and keys -------------------------------------------------------------------------


def _spans(item: Item, finder: SpanFinder | None) -> list[tuple[int, int]]:
    quotes = [(ev.get("quote"), ev.get("start"), ev.get("end")) for ev in item.get("evidence", [])]
    if item.get("quote"):
        quotes.append((item["quote"], None, None))
    spans = []
    for quote, start, end in quotes:
        if start is None and finder is not None and quote:
            found = finder.find(quote)
            start, end = (found[0], found[1]) if found else (None, None)
        if start is not None and end is not None:
            spans.append((start, end))
    return spans


def _overlap(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> int:
    return sum(max(0, min(e1, e2) - max(s1, s2)) for s1, e1 in a for s2, e2 in b)


def _countries(actors: list[Item] | None) -> set[str]:
    return {a["country"] for a in actors or [] if a.get("country")}


def _country(actor: Item | None) -> str | None:
    return actor.get("country") if actor else None


def _same_actor(gold: Item | None, pred: Item | None) -> bool:
    if gold is None or pred is None:
        return gold is None and pred is None
    if gold.get("canonical_name") and pred.get("canonical_name"):
        # Spellings of one name ("Kim Jong Un", "Kim Jong-un") are the same actor.
        return alias_key(gold["canonical_name"]) == alias_key(pred["canonical_name"])
    g, p = alias_key(gold.get("name", "")), alias_key(pred.get("name", ""))
    if g and p and (g in p or p in g):
        return True
    return (
        bool(gold.get("country"))
        and gold.get("country") == pred.get("country")
        and gold.get("kind") == pred.get("kind") != "person"
    )


def _designation(item: Item) -> str:
    return normalize_designation(item.get("designation", "")).upper()


# -- pair scores (None = does not qualify) -----------------------------------------------------


def _exercise_pair(gold: Item, pred: Item, gs: list[Any], ps: list[Any]) -> float | None:
    overlap = _overlap(gs, ps)
    shared = bool(_countries(gold.get("participants")) & _countries(pred.get("participants")))
    same_dates = gold.get("start_date") is not None and gold.get("start_date") == pred.get("start_date")
    same_text = bool(gold.get("date_text")) and alias_key(gold["date_text"]) == alias_key(pred.get("date_text") or "")
    if overlap:
        return overlap + (100 if same_dates else 0)
    if shared and (same_dates or same_text):
        return 50 + (50 if same_dates else 0)
    return None


def _same_place(gold: Item, pred: Item) -> bool:
    g, p = alias_key(gold.get("deployed_to") or ""), alias_key(pred.get("deployed_to") or "")
    return g == p or bool(g and p and (g in p or p in g))


def _aircraft_pair(gold: Item, pred: Item, gs: list[Any], ps: list[Any]) -> float | None:
    if _designation(gold) != _designation(pred):
        return None
    g, p = _country(gold.get("operator")), _country(pred.get("operator"))
    if g and p and g != p:
        return None
    return 100 + (100 if g == p else 0) + (50 if _same_place(gold, pred) else 0) + _overlap(gs, ps)


def _statement_pair(gold: Item, pred: Item, gs: list[Any], ps: list[Any]) -> float | None:
    overlap = _overlap(gs, ps)
    if not overlap:
        return None
    return overlap + (1000 if _same_actor(gold.get("speaker"), pred.get("speaker")) else 0)


_PAIR: dict[str, Callable[[Item, Item, list[Any], list[Any]], float | None]] = {
    "exercises": _exercise_pair,
    "aircraft": _aircraft_pair,
    "statements": _statement_pair,
}


def match_items(
    kind: str, gold: list[Item], pred: list[Item], finder: SpanFinder | None = None
) -> list[tuple[int, int]]:
    """Greedy one-to-one (gold index, predicted index) pairs, best pair first."""
    gold_spans = [_spans(g, finder) for g in gold]
    pred_spans = [_spans(p, finder) for p in pred]
    candidates = []
    for gi, g in enumerate(gold):
        for pi, p in enumerate(pred):
            score = _PAIR[kind](g, p, gold_spans[gi], pred_spans[pi])
            if score is not None:
                candidates.append((-score, gi, pi))
    used_gold: set[int] = set()
    used_pred: set[int] = set()
    pairs = []
    for _, gi, pi in sorted(candidates):
        if gi not in used_gold and pi not in used_pred:
            used_gold.add(gi)
            used_pred.add(pi)
            pairs.append((gi, pi))
    return pairs


def _score_fields(kind: str, gold: Item, pred: Item, score: ArticleScore) -> None:
    if kind == "exercises":
        score.field("exercise.participants").record(
            _countries(gold.get("participants")) == _countries(pred.get("participants"))
        )
    elif kind == "aircraft":
        score.field("aircraft.designation").record(_designation(gold) == _designation(pred))
        g, p = gold.get("operator"), pred.get("operator")
        same = (
            _same_actor(g, p)
            if (g or {}).get("canonical_name") and (p or {}).get("canonical_name")
            else _country(g) == _country(p)
        )
        score.field("aircraft.operator").record(same)
        score.field("aircraft.count").record(gold.get("count") == pred.get("count"))
    else:
        score.field("statement.speaker").record(_same_actor(gold.get("speaker"), pred.get("speaker")))
        # Contract 1.1: when it was said, as written; both null (the article does not say) agrees.
        score.field("statement.date_text").record(
            alias_key(gold.get("date_text") or "") == alias_key(pred.get("date_text") or "")
        )
        if not gold.get("_stance_ambiguous"):
            score.field("statement.stance").record(gold.get("stance") == pred.get("stance"))


def score_article(gold: dict[str, Any], predicted: dict[str, Any], text: str | None = None) -> ArticleScore:
    """Score one predicted ArticleExtraction (as a dict) against its gold file."""
    finder = SpanFinder(text) if text is not None else None
    score = ArticleScore()
    for kind in ITEM_TYPES:
        gold_items, pred_items = gold.get(kind, []), predicted.get(kind, [])
        pairs = match_items(kind, gold_items, pred_items, finder)
        matched_gold = {gi for gi, _ in pairs}
        result = score.types[kind]
        for gi, pi in pairs:
            if gold_items[gi].get("_required", True):
                result.tp += 1
            _score_fields(kind, gold_items[gi], pred_items[pi], score)
        result.fp = len(pred_items) - len(pairs)
        result.fn = sum(1 for gi, g in enumerate(gold_items) if gi not in matched_gold and g.get("_required", True))
        score.predicted_items += len(pred_items)
        score.grounded_items += sum(1 for p in pred_items if any(ev.get("match") for ev in p.get("evidence", [])))
    score.dropped_ungrounded = len(with_code(predicted.get("meta"), NoticeCode.DROPPED_UNGROUNDED))
    return score
