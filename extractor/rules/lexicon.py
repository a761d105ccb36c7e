"""Word lists the rules share: dates, numbers, and the words word-spinners put in place of ours.

Synonym-spun copies of news stories (the seed article is one) replace words with thesaurus
neighbours: "force" -> "drive" (the gazetteer's `spin_variants` undo those in names),
"capable" -> "succesful", "statement" -> "assertion", "press release" -> "press launch".
The few spun forms of the words the rules key on are listed next to the words themselves,
so that spun text reads like the original without the rules learning any one article.
"""

from __future__ import annotations

import re

MONTHS = (
    "January February March April May June July August September October November December "
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec"
).split()
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()

_MONTH = r"(?:" + "|".join(MONTHS) + r")\.?"
_WEEKDAY = r"(?:" + "|".join(WEEKDAYS) + r")"
# A date as written, from the most to the least precise; relative words resolve against `published`.
DATE_TEXT = re.compile(
    rf"\b{_MONTH}\s+\d{{1,2}}(?:\s*[-–]\s*\d{{1,2}})?(?:,?\s+\d{{4}})?\b"
    rf"|\b\d{{1,2}}\s+{_MONTH}(?:\s+\d{{4}})?\b"
    rf"|\b\d{{4}}-\d{{2}}-\d{{2}}\b"
    rf"|\b(?:early\s+|late\s+|mid-)?{_MONTH}(?:\s+\d{{4}})?\b(?!\s+\d)"
    rf"|\b(?:last|next|this)\s+(?:week|month|year|{_WEEKDAY})\b"
    rf"|\b{_WEEKDAY}\b|\b(?:today|yesterday|tomorrow|tonight)\b"
)
# "May" is a month only when a day or year goes with it; alone it is usually the verb.
AMBIGUOUS_MONTHS = frozenset({"May", "March"})

NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "a dozen": 12,
    "both": 2,
    "a pair of": 2,
    "pair of": 2,
    "a single": 1,
    "a": 1,
    "an": 1,
    "single": 1,
}

# Spun forms of the words below, as word-spinners write them.
CAPABLE = r"(?:capable|capability|capabilities|certified|armed|succesful|successful)"
STATEMENT_NOUNS = r"(?:statement|assertion|press release|press launch|news release|communique|communiqué)"
ACCORDING_TO = r"(?:according to|based on|in line with)"


def date_text_in(text: str) -> re.Match[str] | None:
    """The first date as written in `text`, skipping "May"/"March" used without a day or year."""
    for match in DATE_TEXT.finditer(text):
        word = match.group().strip()
        if word in AMBIGUOUS_MONTHS:
            continue
        return match
    return None
