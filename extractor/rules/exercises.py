"""Exercises: drills, war games, joint flights, patrols and escort missions an article reports.

A mention is an exercise noun phrase ("a precision strike drill", "exercise Freedom Edge",
"the third trilateral flight"). A new exercise starts at a named, dated or indefinite mention
("a bomber escort flight in January"); a definite one without a name or date of its own
("the drills", "that type of exercise") is a further mention of the latest exercise of its
family (flights with flights, drills with exercises). Generic or hypothetical mentions
("joint air exercises" with nothing that says which, "could be excluded from exercises") and
exercises only named inside a quotation are left out.

Fields come from the mention's sentence: participants are the forces and states named there
(not places, not who reports it; "the three nations" looks back a sentence), kind from its
domain words, status from its tense, date and location as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..schemas import Evidence, Exercise
from ..schemas.common import MAX_ACTORS
from .actors import ActorMention, lookup
from .context import Context, evidence
from .lexicon import AMBIGUOUS_MONTHS, date_text_in
from .text import Span, clause_around, trim

# Words before the head that belong to its noun phrase: never a determiner, a verb or a preposition.
_NOT_MODIFIER = (
    r"(?:the|a|an|this|that|these|those|its|their|his|her|our|is|are|was|were|be|been|being|has|have|had|to|with|"
    r"and|or|of|in|on|at|for|by|from|as|into|whereas|while|marked|marks|includes?|including|incorporate|held|hold|"
    r"holds|holding|conducted|conduct|conducts|conducting|staged|stage|stages|launched|launch|began|begin|joined|join|"
    r"during|after|before|since|than|then|called|interpret|type|kind|sort|such|other|more|most|same)"
)
_MODIFIER = rf"(?:(?!{_NOT_MODIFIER}\b)[a-z0-9]+(?:-[a-z0-9]+)*\s+){{0,4}}"
_HEADS = (
    r"(?P<head>(?i:exercises?|drills?|war\s?games?|wargames?|maneuvers|manoeuvres"
    r"|escort\s+(?:missions?|flights?)|(?:joint|bilateral|trilateral|multilateral|combined)\s+(?:air\s+)?(?:flights?|patrols?|sorties)"
    r"|(?:air|naval|maritime|joint|combined)\s+patrols?))"
)
_MENTION = re.compile(
    rf"\b(?P<det>(?i:an?|the|this|that|these|those|its|their)\s+(?:(?i:type|kind|sort)\s+of\s+)?)?(?P<mods>{_MODIFIER}){_HEADS}\b"
)
_HEAD_WORD = re.compile(r"(?i:exercise|drill|war\s?game|maneuver|manoeuvre|escort|flight|patrol|sortie)")
_FAMILY = {"flight": "flight", "sortie": "flight", "mission": "flight", "patrol": "patrol"}
_VERB_USE = re.compile(
    r"^\s+(?:restraint|prudence|caution|control|power|authority|influence|its|their|his|her|the right|sovereignty|jurisdiction|option)\b"
)
_MILITARY = re.compile(
    r"\b(?:military|militar(?:y|ies)|army|navy|naval|air\s+force|troops|forces|jets?|warships?|bombers?|fighters?|"
    r"missiles?|defen[cs]e|aircraft|soldiers|marines|combat|live-fire|warplanes?|escort|strike|war\s?games?)\b",
    re.IGNORECASE,
)
_CIVILIAN = re.compile(
    r"(?<![\w-])(?:evacuation|fire|earthquake|emergency|tsunami|safety|disaster|lockdown|oil|drilling|dental|school|"
    r"breathing|fitness|cardio|mental|writing|spelling|classroom|cyber|tabletop)\b",
    re.IGNORECASE,
)
_HABITUAL = re.compile(
    r"\b(?:routinely|regularly|often|usually|typically|frequently|sometimes|generally)\b", re.IGNORECASE
)
_HYPOTHETICAL = re.compile(r"\b(?:could|would|might|may|if|unless|excluded|exclude)\b", re.IGNORECASE)
_STATUS = (
    (
        "cancelled",
        re.compile(
            r"\b(?:cancel(?:l?ed|s|ling)?|called off|calls off|scrap(?:ped|s)?|postpone[ds]?|suspend(?:ed|s)?|halted)\b",
            re.I,
        ),
    ),
    (
        "planned",
        re.compile(
            r"\b(?:will|’ll|'ll|plans?|planned|planning|scheduled|set to|to be held|upcoming|next (?:week|month|year)|agreed (?:to|upon|on)|are expected|is expected|intends?)\b",
            re.I,
        ),
    ),
    (
        "ongoing",
        re.compile(
            r"\b(?:(?:are|is) (?:holding|conducting|staging|carrying out|taking part)|began|begun|begins|started|starts|kicked off|kick off|underway|under way|ongoing|continu(?:e|es|ing)|(?:are|is) (?:being )?held)\b",
            re.I,
        ),
    ),
)
_DOMAINS = (
    (
        "missile_defense",
        re.compile(r"\b(?:missile|air)[- ]defen[cs]e|\banti-(?:missile|ballistic)|\binterceptors?\b", re.I),
    ),
    (
        "air",
        re.compile(
            r"\bair\b|\bflights?\b|\bsorties?\b|\bbombers?\b|\bfighters?\b|\bjets?\b|\baircraft\b|\baerial\b|\bair\s+force",
            re.I,
        ),
    ),
    (
        "naval",
        re.compile(
            r"\bnaval\b|\bnavy\b|\bmaritime\b|\bwarships?\b|\bships?\b|\bdestroyers?\b|\bfrigates?\b|\bsubmarines?\b|\bcarriers?\b|\bamphibious\b",
            re.I,
        ),
    ),
    ("land", re.compile(r"\barmy\b|\bground\b|\btanks?\b|\bartillery\b|\binfantry\b|\bland\b|\btroops\b", re.I)),
)
_GROUP_ANAPHORA = re.compile(
    r"\b(?:the|both|all)\s+(?:(?P<number>two|three|four|five|six)\s+)?(?:nations|countries|allies|sides|militaries|partners)\b",
    re.IGNORECASE,
)
_PLACE_PREPOSITION = re.compile(
    r"\b(?:to|in|at|from|near|over|around|encircling|across|off|toward|towards|into|within|against|above|along)\s+"
    r"(?:the\s+)?(?:[A-Z][\w.’'-]*(?:\s+(?:of\s+)?[A-Z][\w.’'-]*)*)(?:,\s+[A-Z][\w.’'-]*(?:\s+[A-Z][\w.’'-]*)*)?"
)
_LOCATION = re.compile(
    r"\b(?:over|in|around|near|off|across|within|encircling|above|along|into)\s+(?:the\s+)?"
    r"(?P<place>[A-Z][\w’'-]*(?:\s+(?:of\s+)?[A-Z][\w’'-]*)*(?:\s+(?:area|region|sea|waters|peninsula|strait|coast|islands?|skies|airspace|capital|border))?)"
)
_NAME_AFTER = re.compile(
    r"^\s+(?:(?:called|dubbed|code-?named|named)\s+)?[\"“‘']?(?P<name>[A-Z][\w-]*(?:\s+[A-Z0-9][\w-]*){0,3})"
)
_NAME_BEFORE = re.compile(r"(?P<name>(?:[A-Z][\w-]*\s+){1,3})$")


@dataclass
class _Mention:
    span: Span  # the exercise noun phrase
    sentence: int
    head: str
    definite: bool
    name: str | None
    date: Span | None  # in the mention's own comma-bounded segment
    sentence_date: Span | None = None


@dataclass
class _Exercise:
    mentions: list[_Mention] = field(default_factory=list)

    @property
    def families(self) -> set[str]:
        return {_family(m.head) for m in self.mentions}


def _family(head: str) -> str:
    words = head.lower().split()
    for word in reversed(words):
        stem = word.rstrip("s")
        if stem in _FAMILY:
            return _FAMILY[stem]
    return "exercise"


def extract_exercises(ctx: Context) -> list[Exercise]:
    exercises: list[_Exercise] = []
    for mention in _mentions(ctx):
        same = _antecedent(exercises, mention)
        if same is not None:
            same.mentions.append(mention)
        elif _specific(ctx, mention):
            exercises.append(_Exercise([mention]))
    return [_item(ctx, exercise) for exercise in exercises]


def _mentions(ctx: Context) -> list[_Mention]:
    found = []
    for index, sentence in enumerate(ctx.doc.sentences):
        if not _HEAD_WORD.search(sentence.text):
            continue  # most sentences name no exercise: skip the costlier full pattern
        for match in _MENTION.finditer(sentence.text):
            start, end = sentence.start + match.start(), sentence.start + match.end()
            head = match.group("head")
            after = ctx.text[end : sentence.end]
            if (
                head.lower().startswith("exercise")
                and not match.group("det")
                and not match.group("mods")
                and _VERB_USE.match(after)
            ):
                continue  # "exercise restraint"
            np_start = sentence.start + match.start()  # a name comes before the determiner, if any
            name = _name(ctx, sentence, np_start, end, after)
            if name and head[0].isupper() and not match.group("mods"):
                name = f"{name} {head}"  # "the Malabar Joint Maritime Exercise"
            if ctx.doc.in_quote(start, end) and name is None:
                continue  # rhetoric about "the joint military drills", not a report of one
            segment = _segment(sentence, Span(start, end, ""), always=True)
            date = date_text_in(segment.text)
            date_span = Span(segment.start + date.start(), segment.start + date.end(), date.group()) if date else None
            definite = (match.group("det") or "").strip().lower() not in ("a", "an", "")
            in_sentence = date_text_in(sentence.text)
            sentence_date = Span(0, 0, in_sentence.group()) if in_sentence else None
            found.append(
                _Mention(Span(start, end, ctx.text[start:end]), index, head, definite, name, date_span, sentence_date)
            )
    return found


def _name(ctx: Context, sentence: Span, np_start: int, end: int, after: str) -> str | None:
    """ "exercise Freedom Edge", "the Freedom Shield exercises", "drills dubbed Joint Sword"."""
    followed = _NAME_AFTER.match(after)
    if followed and not _is_common(ctx, followed.group("name")):
        return followed.group("name")
    before = _NAME_BEFORE.search(ctx.text[sentence.start : np_start])
    if before:
        name = before.group("name").strip()
        at = np_start - len(before.group("name"))
        if at > sentence.start and not _is_common(ctx, name):
            return name
    return None


def _is_common(ctx: Context, name: str) -> bool:
    """A capitalized phrase that is an actor, a month or weekday, or ordinary words."""
    words = name.split()
    if any(word in AMBIGUOUS_MONTHS or date_text_in(word) for word in words):
        return True
    if any(a.name == name or name.startswith(a.name) or a.name.startswith(name) for a in ctx.all_actors):
        return True
    lowered = {w.lower() for w in re.findall(r"\b[a-z][\w-]*\b", ctx.text)}
    return all(word.lower() in lowered for word in words)


def _antecedent(exercises: list[_Exercise], mention: _Mention) -> _Exercise | None:
    if mention.name:
        return next((e for e in exercises if any(m.name == mention.name for m in e.mentions)), None)
    if mention.date is not None and not re.fullmatch(r"\d{4}", mention.date.text):
        return None
    same_sentence = [e for e in exercises if e.mentions[-1].sentence == mention.sentence]
    if not mention.definite and not same_sentence:
        return None
    family = _family(mention.head)
    candidates = same_sentence if not mention.definite else exercises
    for exercise in reversed(candidates):
        if family in exercise.families or exercise in same_sentence:
            return exercise
    return None


def _specific(ctx: Context, mention: _Mention) -> bool:
    """Whether a first mention reports one exercise rather than exercises in general."""
    sentence = ctx.doc.sentences[mention.sentence]
    if _CIVILIAN.search(mention.span.text):
        return False  # "an evacuation drill", "a fire drill"
    military_head = not re.fullmatch(r"(?i:exercises?|drills?|maneuvers|manoeuvres|patrols?)", mention.head)
    has_forces = any(a.kind in ("military", "state", "organization") for a in ctx.actors_in(mention.sentence))
    if not (military_head or _MILITARY.search(sentence.text) or has_forces):
        return False  # "get outside and exercise"
    if mention.name or mention.date:
        return True
    clause = clause_around(sentence, mention.span.start, mention.span.end)
    if _HABITUAL.search(clause.text):
        return False
    plural = mention.head.lower().endswith("s") and not mention.head.lower().endswith("ss")
    if plural and not mention.definite:
        return not _HYPOTHETICAL.search(clause.text) and bool(_status_words(clause.text))
    return not (_HYPOTHETICAL.search(clause.text) and not mention.definite)


def _status_words(text: str) -> str | None:
    return next((status for status, words in _STATUS if words.search(text)), None) or (
        "conducted"
        if re.search(
            r"\b(?:held|conducted|staged|carried out|flew|took place|taken place|wrapped up|concluded|completed|marked)\b",
            text,
            re.I,
        )
        else None
    )


def _item(ctx: Context, exercise: _Exercise) -> Exercise:
    first = exercise.mentions[0]
    sentence = ctx.doc.sentences[first.sentence]
    clause = clause_around(sentence, first.span.start, first.span.end)
    participants = _participants(ctx, first.sentence, first.span)
    date = next((m.date for m in exercise.mentions if m.date is not None), None)
    if date is None and sum(1 for _ in _MENTION.finditer(sentence.text)) == 1:
        date = first.sentence_date  # "jets flew low Monday ..., in a two-day exercise"
    sentences = {first.sentence}
    if _GROUP_ANAPHORA.search(sentence.text) and first.sentence > 0:
        # "the three nations": the sentence before names them; a definite, undated first
        # mention ("the escort mission") is about what that sentence reports, too.
        earlier = first.sentence - 1
        participants = _union(participants, _participants(ctx, earlier, None))
        if first.definite and date is None:
            sentences.add(earlier)
            found = date_text_in(ctx.doc.sentences[earlier].text)
            date = Span(0, 0, found.group()) if found else None
    location = next((_location(ctx, ctx.doc.sentences[i].text) for i in sorted(sentences)), None)
    designations = [d.designation for d in ctx.designations if ctx.doc.sentence_index(d.span.start) in sentences]
    return Exercise(
        name=next((m.name for m in exercise.mentions if m.name), None),
        description=_description(first),
        kind=_kind(clause.text, sentence.text, bool(designations)),  # type: ignore[arg-type]
        participants=[p.actor() for p in participants][:MAX_ACTORS],
        date_text=date.text if date else None,
        location=location,
        status=_status_words(clause.text) or "conducted",  # type: ignore[arg-type]
        aircraft=list(dict.fromkeys(designations))[:MAX_ACTORS],
        evidence=_evidence(ctx, exercise),
    )


def _description(mention: _Mention) -> str:
    if mention.name and mention.name.endswith(mention.head):
        return mention.name
    text = re.sub(r"^(?:an?|the|this|that|these|those|its|their)\s+", "", mention.span.text, flags=re.IGNORECASE)
    return text.strip() or mention.head


def _kind(clause: str, sentence: str, has_aircraft: bool) -> str:
    for text in (clause, sentence):
        found = [domain for domain, words in _DOMAINS if words.search(text)]
        if "missile_defense" in found:
            return "missile_defense"
        if has_aircraft and "air" not in found:
            found.insert(0, "air")
        if len(found) >= 2 and "air" in found and text is clause and "joint" not in clause.lower():
            return "air"
        if len(found) >= 2:
            return "joint"
        if found:
            return found[0]
    return "other"


_JOINING = re.compile(
    r"^\s+of\s|^[^.;]{0,60}?\b(?:with|between|among|involving|including|includes|included|featuring|alongside|joined by|by)\b"
)


def _participants(ctx: Context, index: int, mention: Span | None) -> list[ActorMention]:
    """Forces and states taking part: named before the exercise, or after it behind "with", "between", ...

    Not places ("encircling Taiwan", "deployed to Guam"), not who reports it ("according to"),
    not ministries or media.
    """
    sentence = ctx.doc.sentences[index]
    places = [
        (sentence.start + m.start(), sentence.start + m.end()) for m in _PLACE_PREPOSITION.finditer(sentence.text)
    ]
    sources = [m.span() for m in re.finditer(r"\b(?:according to|based on|said|told)\b[^,.]*", sentence.text, re.I)]
    chosen: dict[str, ActorMention] = {}
    for actor in ctx.actors_in(index):
        if actor.kind in ("media", "government") or actor.country is None and actor.kind != "organization":
            continue
        if any(s <= actor.span.start < e for s, e in places):
            continue
        if any(sentence.start + s <= actor.span.start < sentence.start + e for s, e in sources):
            continue
        if mention is not None and actor.span.start >= mention.end:
            if not _JOINING.match(ctx.text[mention.end : actor.span.start]):
                continue
        key = actor.country or actor.name
        # One participant a country, the force rather than the state when both are named.
        if key not in chosen or (chosen[key].kind != "military" and actor.kind == "military"):
            chosen[key] = actor
    return list(chosen.values())


def _union(first: list[ActorMention], second: list[ActorMention]) -> list[ActorMention]:
    keys = {a.country or a.name for a in first}
    return first + [a for a in second if (a.country or a.name) not in keys]


def _location(ctx: Context, text: str) -> str | None:
    for match in _LOCATION.finditer(text):
        place = match.group("place")
        if date_text_in(place) or place in AMBIGUOUS_MONTHS:
            continue  # "in January" is a date
        if " " not in place and lookup(place) is not None and lookup(place)[0] is None:  # type: ignore[index]
            continue  # a demonym alone ("Turkish") is no place
        if any(a.name == place and a.kind not in ("state", None) for a in ctx.all_actors):
            continue  # "in the U.S. Air Force" is who, not where
        return place
    return None


def _evidence(ctx: Context, exercise: _Exercise) -> list[Evidence]:
    spans: dict[tuple[int, int], Span] = {}
    for mention in exercise.mentions:
        sentence = ctx.doc.sentences[mention.sentence]
        segment = _segment(sentence, mention.span)
        spans.setdefault((segment.start, segment.end), segment)
    return [evidence(span) for span in list(spans.values())[:10]]


def _segment(sentence: Span, mention: Span, *, always: bool = False) -> Span:
    """The comma-bounded part of the sentence around the mention (for evidence, the whole sentence when short)."""
    if len(sentence.text) <= 160 and not always:
        return sentence
    left, right = sentence.start, sentence.end
    for match in re.finditer(r",\s|\s[–—-]\s", sentence.text):
        at = sentence.start + match.start()
        if at < mention.start:
            left = sentence.start + match.end()
        elif at >= mention.end:
            right = at
            break
    segment = trim(sentence, left, right) or sentence
    return segment if len(segment.text) >= 30 or always else sentence
