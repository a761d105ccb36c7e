"""A statement's stance from a small lexicon, with the contract's precedence.

threaten > demand > reject > criticize > support > cooperate > neutral: the first stance whose
words occur wins; `neutral` when none do (the contract's "when unsure").
"""

from __future__ import annotations

import re

_LEXICON = (
    (
        "threaten",
        r"\bthreaten(?:s|ed)?\b(?! (?:the )?(?:security|peace|stability))|\bretaliat\w*|\bcountermeasures?\b|"
        r"\b(?:resolutely|firmly|decisively|strongly) respond\w*|\bwill respond\b|\btake steps to defend\b|"
        r"\b(?:severe|serious|grave) consequences\b|\bpay (?:a|the) (?:heavy |dear |high |steep )?price\b|\bpunish\w*|"
        r"\bmilitary (?:action|response|options?)\b|\bstrike back\b|\bwipe out\b|"
        r"\b(?:will|would|could|may) (?:\w+ ){0,3}(?:follow|buy|turn|look for|close|retaliate|respond|act)\b[^.]{0,80}\bif\b|"
        r"\bif\b[^.]{0,120}\b(?:will|would) (?:\w+ ){0,2}(?:have to|be forced to|respond|retaliate|act)\b",
    ),
    (
        "demand",
        r"\burg(?:e|es|ed|ing) (?!(?:he|she|they|we|I)\b)[\w\s,’'-]{0,40}?\bto\b|\bcall(?:s|ed|ing)? (?:on|upon)\b|\bcall(?:s|ed|ing)? for\b|"
        r"\bdemand\w*|\bmust\b|\bneeds? to\b|\bappeal(?:s|ed)? to\b|\binsist\w* (?:that )?[^.]{0,60}\bshould\b|"
        r"\bshould (?:stop|end|cease|withdraw|return|quit|refrain)\b|\bpress(?:es|ed)? [\w\s]{0,30}\bto\b",
    ),
    (
        "reject",
        r"\breject\w*|\bden(?:y|ies|ied)\b|\bdismiss\w*|\brefus\w*|\bcompletely false\b|\b(?:baseless|groundless|unfounded)\b|"
        r"\bnot going to\b|\bno reason\b|\bwill not (?:accept|allow|tolerate)\b|\bnever (?:accept|allow)\b",
    ),
    (
        "criticize",
        r"\bcondemn\w*|\bcritici[sz]\w*|\baccus\w*|\bblam\w*|\bconcern(?:ed|s)?\b|\bdangerous\w*|\billegal\b|"
        r"\bprovocat\w*|\baggress\w*|\birresponsible\b|\bbully\w*|\bintimidat\w*|\bviolat\w*|\bdeplor\w*|"
        r"\bwhy (?:doesn['’]t|don['’]t|didn['’]t|won['’]t)\b",
    ),
    (
        "support",
        r"\bsupport\w*|\bprais\w*|\bwelcom\w*|\bcommend\w*|\bcommitment\b|\bdedication\b|\bsteadfast\b|"
        r"\bunconditional\b|\bsolidarity\b|\bbacks?\b|\bbacking\b|\bwonderful\b",
    ),
    (
        "cooperate",
        r"\bcooperat\w*|\bdialogue\b|\bwork together\b|\bpartnership\b|\bnormali[sz]e\w*|\bagreed? to\b|"
        r"\bjoint efforts\b|\bstrengthen (?:ties|relations)\b|\bnegotiat\w*",
    ),
)
# Case matters: "Steadfast Noon" is an exercise's name, "steadfast" a word of support.
_PATTERNS = tuple((stance, re.compile(words)) for stance, words in _LEXICON)
_OPENING = re.compile(r"(^|[.!?:;]\s+|[\"“‘(]\s*)([A-Z])(?=[a-z])")


def stance_of(text: str) -> str:
    """The stance of a statement whose words (attribution and content) are `text`."""
    # A word opening a sentence or a quotation is an ordinary word in lower case.
    lowered = _OPENING.sub(lambda m: m.group(1) + m.group(2).lower(), text)
    for stance, words in _PATTERNS:
        if words.search(lowered):
            return stance
    return "neutral"
