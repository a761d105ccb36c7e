"""The lookup key of a name: how the gazetteer, the events rules and the evaluation compare names."""

from __future__ import annotations

import re
import unicodedata

_POSSESSIVE = re.compile(r"['’]s\b")
_NON_WORD = re.compile(r"[^0-9a-z]+")


def alias_key(text: str) -> str:
    """The lookup key of a name: "the U.S. Air Force's" -> "us air force"."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    folded = _POSSESSIVE.sub("", folded.replace("’", "'"))
    # Dots and apostrophes join ("U.S." == "US"); every other separator splits words.
    folded = folded.replace(".", "").replace("'", "")
    key = _NON_WORD.sub(" ", folded).strip()
    return key[4:] if key.startswith("the ") else key
