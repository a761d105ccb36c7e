"""Who said it: comparing the speakers of two statements (see `rules.StatementRule`)."""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

from ..postprocess.gazetteer import alias_key as _alias_key
from ..postprocess.gazetteer import load_gazetteer
from ..schemas import Actor

SPEAKER_SIMILARITY = 90
# A surname misspelt by one letter added, dropped or replaced ("Chaundry" / "Chaudhry": an
# insertion and a deletion), for names long enough that such a slip does not as easily turn
# one real name into another.
MIN_FUZZY_SURNAME = 6
SURNAME_EDITS = 2

# Rules compare each mention with many others; its names are folded once, not every time.
alias_key = lru_cache(maxsize=1 << 16)(_alias_key)


@lru_cache(maxsize=1 << 14)
def _person_named(key: str) -> str | None:
    """The canonical name of the one gazetteer person with this full name ("Vasily Nebenzya")."""
    found = load_gazetteer().people.by_name.get(key, [])
    return found[0].canonical_name if len(found) == 1 else None


def speaker_key(actor: Actor) -> str:
    """The speaker's name to compare, folded: canonical when known, else the gazetteer's for a full
    name it knows (results made before it knew the person, or spelled another way), else as written."""
    if actor.canonical_name:
        return alias_key(actor.canonical_name)
    key = alias_key(actor.name)
    known = _person_named(key) if " " in key else None
    return alias_key(known) if known else key


class Speaker(NamedTuple):
    canonical: str | None
    key: str  # folded canonical name, else the name as written
    country: str | None


def speaker_of(actor: Actor) -> Speaker:
    return Speaker(actor.canonical_name, speaker_key(actor), actor.country)


@lru_cache(maxsize=1 << 14)
def surname_keys(surname: str) -> frozenset[str]:
    """The surname and, from `MIN_FUZZY_SURNAME` letters on, every spelling one letter shorter.

    Two spellings one letter added, dropped or replaced apart share one of these (one deletion
    each side). `same_speaker` requires a shared one, so blocking on them hides no pair.
    """
    if len(surname) < MIN_FUZZY_SURNAME:
        return frozenset({surname})
    return frozenset({surname} | {surname[:i] + surname[i + 1 :] for i in range(len(surname))})


def same_speaker(a: Speaker, b: Speaker) -> bool:
    """Canonical names when both have one; else surnames alike and the names alike.

    The surnames must share a `surname_keys` spelling (equal, or one letter apart when long
    enough). Then the names must be alike as a whole ("Akar" = "Hulusi Akar"), or the
    surnames one slip apart ("Chaundry" for "Chaudhry") with any given names equal and both
    speakers placed in the same country.
    """
    if a.canonical and b.canonical:
        return a.canonical == b.canonical
    wa, wb = a.key.split(), b.key.split()
    if not (wa and wb) or not surname_keys(wa[-1]) & surname_keys(wb[-1]):
        return False
    if fuzz.token_set_ratio(a.key, b.key) >= SPEAKER_SIMILARITY:
        return True
    surname_a, surname_b = wa[-1], wb[-1]
    return (
        bool(a.country)
        and a.country == b.country
        and (len(wa) == 1 or len(wb) == 1 or wa[:-1] == wb[:-1])
        and min(len(surname_a), len(surname_b)) >= MIN_FUZZY_SURNAME
        and Indel.distance(surname_a, surname_b) <= SURNAME_EDITS
    )
