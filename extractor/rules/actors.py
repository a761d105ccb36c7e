"""Actors named in a stretch of text: states, forces, ministries, agencies, state media, demonyms.

Names are looked up in the gazetteer exactly as normalization does (spun-text variants
included), longest name first, so "Republic of Korea Air Drive (ROKAF)" is one actor and
not "Republic of Korea" plus a stray word. A demonym ("Japanese", "South Korean") is an
actor known only by its country.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import get_args

from ..postprocess.gazetteer import alias_key, load_gazetteer
from ..schemas import Actor, ActorKind
from .text import Span

# Capitalized words, joined by the lowercase words that occur inside names.
_TOKEN = re.compile(r"[A-Z][\w’'.&-]*|\((?:[A-Z][A-Za-z]{1,9})\)|(?<=\s)(?:of|the|and|for|on)(?=\s+[A-Z])")
_POSSESSIVE = re.compile(r"[’']s$")
MAX_NAME_WORDS = 8

# Non-state armed groups (contract 1.2's `armed_group`), by the names news uses for them.
ARMED_GROUPS = frozenset(
    alias_key(name)
    for name in (
        "Taliban",
        "Hezbollah",
        "Hamas",
        "Houthis",
        "Houthi",
        "al-Shabab",
        "Al-Shabaab",
        "Islamic State",
        "ISIS",
        "al-Qaida",
        "al-Qaeda",
        "Boko Haram",
        "Wagner",
        "BLA",
        "Baloch Liberation Army",
        "YPG",
        "PKK",
    )
)


@dataclass(frozen=True)
class ActorMention:
    """An actor named in the text: where, as written, and what the gazetteer knows of it."""

    span: Span
    kind: str | None
    country: str | None
    canonical: str | None = None

    @property
    def name(self) -> str:
        return self.span.text

    def actor(self) -> Actor:
        """The contract's actor, name as written; normalization fills canonical names later."""
        kind = self.kind if self.kind in get_args(ActorKind) else None
        return Actor(name=self.name, country=self.country, kind=kind)  # type: ignore[arg-type]


@lru_cache(maxsize=4096)
def lookup(name: str) -> tuple[str | None, str | None, str | None] | None:
    """(kind, country, canonical name) of a name as written, or None when it names no actor."""
    gaz = load_gazetteer()
    entry = gaz.actor(name)
    if entry is not None and entry.kind == "person":
        return None  # people are read as speakers (speakers.py), never as forces or states
    if entry is not None:
        return entry.kind, entry.country, entry.canonical_name
    key = alias_key(name)
    if key in ARMED_GROUPS:
        return "armed_group", None, None
    country = gaz.demonym_country(name)
    if country is None and key.endswith("s"):
        country = gaz.demonym_country(name[:-1])  # "Canadians"
    return (None, country, None) if country else None


@lru_cache(maxsize=1)
def _first_words() -> frozenset[str]:
    """The first word of every name the gazetteer knows: where a lookup can start."""
    gaz = load_gazetteer()
    keys = [*gaz.actors, *gaz.demonyms, *ARMED_GROUPS, *(alias_key(a) for a in gaz.abbreviations)]
    firsts = {key.split()[0] for key in keys if key}
    return frozenset(firsts | {gaz.spun(first) for first in firsts})


def _clean(token: str) -> str:
    return _POSSESSIVE.sub("", token.strip("()"))


def find_actors(within: Span) -> list[ActorMention]:
    """Actors named in `within`, left to right, longest name first, none overlapping."""
    return list(_find_actors(within))


@lru_cache(maxsize=2048)
def _find_actors(within: Span) -> tuple[ActorMention, ...]:
    tokens = [(within.start + m.start(), within.start + m.end(), m.group()) for m in _TOKEN.finditer(within.text)]
    firsts = _first_words()
    found: list[ActorMention] = []
    i = 0
    while i < len(tokens):
        start, _, first = tokens[i]
        key = alias_key(_clean(first))
        if not key or key.split()[0] not in firsts:
            i += 1
            continue
        hit = None
        for j in range(min(len(tokens), i + MAX_NAME_WORDS), i, -1):
            end = tokens[j - 1][1]
            if not _joined(within, tokens, i, j):
                continue
            name = _name_as_written(within.text[start - within.start : end - within.start])
            if len(name) <= 3 and name.istitle():
                continue  # "Un" of Kim Jong Un is not the U.N.
            known = lookup(name.strip("()"))
            if known is not None:
                stripped_end = start + len(name)
                hit = (j, ActorMention(Span(start, stripped_end, name), *known))
                break
        if hit is None:
            i += 1
            continue
        i, mention = hit
        if found and mention.name.startswith("(") and _same_entry(found[-1], mention, within):
            previous = found.pop()  # "Republic of Korea Air Force (ROKAF)" is one name
            mention = ActorMention(
                Span(
                    previous.span.start,
                    mention.span.end,
                    within.text[previous.span.start - within.start : mention.span.end - within.start],
                ),
                previous.kind,
                previous.country,
                previous.canonical,
            )
        found.append(mention)
    return tuple(found)


def _same_entry(previous: ActorMention, paren: ActorMention, within: Span) -> bool:
    gap = within.text[previous.span.end - within.start : paren.span.start - within.start]
    return not gap.strip() and previous.canonical is not None and previous.canonical == paren.canonical


def _name_as_written(raw: str) -> str:
    """Without a possessive, or a sentence's full stop ("Ukraine." but "U.S.")."""
    name = _POSSESSIVE.sub("", raw)
    last = name.rsplit(" ", 1)[-1]
    if name.endswith(".") and last.count(".") == 1 and any(ch.islower() for ch in last):
        name = name[:-1]
    return name


def _joined(within: Span, tokens: list[tuple[int, int, str]], i: int, j: int) -> bool:
    """Whether tokens i..j-1 form one name: only spaces between them, no lowercase word at the edges."""
    if tokens[j - 1][2] in ("of", "the", "and", "for", "on") or tokens[i][2] in ("of", "the", "and", "for", "on"):
        return False
    for (_, end, _), (start, _, _) in zip(tokens[i : j - 1], tokens[i + 1 : j], strict=True):
        gap = within.text[end - within.start : start - within.start]
        if gap.strip() or "\n" in gap:
            return False
    return True
