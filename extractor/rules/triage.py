"""Triage: does an article hold anything to extract, before a model is paid to read it?

An article is kept when the rules find a candidate of any type in it: an aircraft
designation (even one the rules then leave out, such as a lineage), an exercise, or a
statement by an official, a government, a military or state media in an article about
security. Everything else (sports, markets, weather, science) is skipped. The decision
is cheap (the rules' few milliseconds of CPU) and errs on the side of keeping: a skipped
article is never sent, so a wrong skip loses its items for good.

`triage_key` names the decision's version: a job store keeps an article it skipped skipped on
a later run only while the key is the same (the rules' code and data, the gazetteer).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import lru_cache

from .aircraft import extract_aircraft
from .context import Context
from .exercises import extract_exercises
from .statements import extract_statements
from .version import rules_fingerprint

TRIAGE_VERSION = "1"
"""Bumped by hand when what triage keeps changes on purpose; the key changes with any edit of the rules."""


@dataclass(frozen=True)
class Triage:
    """Whether to extract an article, and the candidates that decided it (empty when skipped)."""

    keep: bool
    reasons: tuple[str, ...] = ()


def triage(text: str, *, published: dt.date | None = None) -> Triage:
    """Keep the article when the rules find a candidate of any type in `text`."""
    ctx = Context(text, published)
    reasons = [f"aircraft {d}" for d in list(dict.fromkeys(m.designation for m in ctx.designations))[:3]]
    if not reasons:
        reasons += [f"exercise {e.name or e.description}" for e in extract_exercises(ctx)[:3]]
    if not reasons:
        reasons += [f"aircraft {a.designation}" for a in extract_aircraft(ctx)[:3]]
    if not reasons:
        reasons += [f"statement by {s.speaker.name}" for s in extract_statements(ctx)[:3]]
    return Triage(keep=bool(reasons), reasons=tuple(reasons))


@lru_cache(maxsize=1)
def triage_key() -> str:
    """Equal keys mean triage would decide the same for the same text: its version and the rules'
    fingerprint (their code, this module included, their data and the gazetteer)."""
    return "triage-" + hashlib.sha256(f"{TRIAGE_VERSION}\0{rules_fingerprint()}".encode()).hexdigest()[:24]
