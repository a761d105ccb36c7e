"""Aircraft items: one per type, operator and place, from the designations an article names.

- operator: the force or state named in the designation's own noun phrase ("USAF B-1B
  Lancers", "Japanese Mitsubishi F-2", "Russia's SU 35"), else the subject that sent or flew
  it ("the ROKAF despatched KF-16s"), else, for a type one country alone flies, an actor of
  that country the article names; never an actor the article does not name;
- count: only a number (or "both", "a pair of", "a/an") in the same noun phrase;
- role: the article's word next to it (escort, tanker, ...), else the type's family role;
- places: "deployed to X", "a detachment to X" (deployed_to) and "from X", "based at X" (home_base);
- nuclear_capable: true only when a sentence about the type (by designation, or "the bombers"
  when one bomber type is named nearby) says nuclear-capable; false only for "non-nuclear".
Types named only as a lineage ("a derivative of the F-16") are not items.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..postprocess.gazetteer import alias_key
from ..schemas import Aircraft, Evidence
from .actors import ActorMention
from .aircraft_types import DesignationMention
from .context import Context, bounded, evidence
from .lexicon import CAPABLE, NUMBERS
from .text import Span, clause_around

_LINEAGE = re.compile(
    r"(?:derivative|by-product|byproduct|variant|version|copy|clone|successor|development|upgrade|modeled|modelled)"
    r"\s+(?:of|on|to)\s+(?:the\s+|an?\s+)?$",
    re.IGNORECASE,
)
# Between an actor and the designation of its own aircraft: "(ROKAF) ", "'s aging fleet of ", " Mitsubishi ".
_NP_GAP = re.compile(
    r"^(?:\s*\([A-Z]{2,8}\))?(?:[’']s)?(?:\s+(?:[A-Z][\w-]*|[a-z-]+(?=\s+fleet)|fleet\s+of|new|aging|ageing|own))*\s*$"
)
_SENDING_VERB = re.compile(
    r"\b(?:contribut|sen[dt]|despatch|dispatch|deploy|fl[ewy]|flies|field|scrambl|launch|operat|mobili[sz]|"
    r"station|us(?:e[ds]?|ing)|employ|provid|suppl)\w*",
    re.IGNORECASE,
)
_SUBORDINATE = re.compile(r"\b(?:after|before|when|while|as|because|since|until|but|whereas|although)\b", re.IGNORECASE)
_NOT_THE_AIRCRAFT = re.compile(
    r"^\s*(?:deployment|detachment|rotation|sale|sales|fleet|program|programme|squadron|squadrons|wing|unit|units|"
    r"contract|order|purchase|deal|crash|pilot|pilots|base|mission|task)\b",
    re.IGNORECASE,
)
_COUNT_WORDS = "|".join(sorted((re.escape(w) for w in NUMBERS), key=len, reverse=True))
_COUNT = re.compile(rf"(?:^|\s)(?P<count>\d{{1,4}}|(?i:{_COUNT_WORDS}))\s+(?:(?:[A-Z][\w.-]*|[a-z]+-[a-z]+)\s+)*$")
_PLACE = (
    r"(?P<place>(?:the\s+)?[A-Z][\w.’'-]*(?:\s+(?:[A-Z][\w.’'-]*|of|de))*(?:,\s+[A-Z][\w.’'-]*(?:\s+[A-Z][\w.’'-]*)*)?)"
)
_DEPLOYED_AFTER = re.compile(
    rf"^[^.;]{{0,80}}?\b(?:deployed|deploying|redeployed|sent|flown|moved|rotated|arrived|detachment|deployment|rotation)"
    rf"\s+(?:back\s+)?(?:to|in|at|on)\s+{_PLACE}"
)
_HOME_AFTER = re.compile(
    rf"^(?:\s+|[^.;]{{0,60}}?\b(?:flew|flown|took off|taking off|departed|departing|launched|operating)\s+)"
    rf"(?:from|based\s+(?:at|in|on)|out\s+of|stationed\s+(?:at|in))\s+{_PLACE}"
)
_ROLE_WORDS = (
    ("escort", re.compile(r"\bescort\w*|\baccompan\w*", re.IGNORECASE)),
    ("tanker", re.compile(r"\btanker|\brefuel\w*", re.IGNORECASE)),
    ("reconnaissance", re.compile(r"\breconnaissance|\bsurveillance|\bspy\b|\bintelligence\b", re.IGNORECASE)),
    ("transport", re.compile(r"\btransport|\bcargo\b|\bairlift", re.IGNORECASE)),
    ("airborne_early_warning", re.compile(r"\bearly[- ]warning|\bAWACS\b")),
)
_NUCLEAR = re.compile(
    rf"\bnuclear[- ]{CAPABLE}\b|\bcapable of (?:carrying|delivering|dropping) nuclear\b|\b(?:can|could|able to) carry nuclear\b",
    re.IGNORECASE,
)
_NON_NUCLEAR = re.compile(rf"\bnon[- ]nuclear\b|\bnot nuclear[- ]{CAPABLE}\b", re.IGNORECASE)
_ROLE_NOUN = {"bomber": r"\bbombers?\b", "fighter": r"\bfighters?\b|\bjets\b"}


@dataclass
class _Mention:
    at: DesignationMention
    clause: Span
    operator: ActorMention | None = None
    count: int | None = None
    role: str | None = None
    deployed_to: Span | None = None
    home_base: Span | None = None


@dataclass
class _Group:
    designation: str
    mentions: list[_Mention] = field(default_factory=list)

    def first(self, name: str) -> object:
        return next((getattr(m, name) for m in self.mentions if getattr(m, name) is not None), None)


def extract_aircraft(ctx: Context) -> list[Aircraft]:
    mentions = [m for m in (_read(ctx, at) for at in ctx.designations) if m is not None]
    _share_coordinated_operators(mentions)
    for mention in mentions:
        if mention.operator is None:
            mention.operator = _hinted_operator(ctx, mention)
    groups = _group(mentions)
    nuclear = _nuclear_words(ctx, groups)
    return [_item(group, nuclear.get(group.designation)) for group in groups]


def _read(ctx: Context, at: DesignationMention) -> _Mention | None:
    sentence = ctx.sentence_of(at.span.start)
    clause = clause_around(sentence, at.span.start, at.span.end)
    before = ctx.text[clause.start : at.span.start]
    if _LINEAGE.search(before):
        return None
    after = ctx.text[at.span.end : clause.end]
    rest = ctx.text[at.span.end : sentence.end]  # places may sit past a relative clause ("B-52s, which ..., flew from")
    mention = _Mention(at, clause)
    mention.operator = _own_operator(ctx, at, clause)
    mention.count = _count(before, after)
    mention.role = _role(_role_window(ctx, at, clause)) or at.info.role
    deployed = _DEPLOYED_AFTER.match(rest)
    if deployed:
        mention.deployed_to = _place(ctx, at.span.end + deployed.start("place"), deployed.group("place"))
    home = _HOME_AFTER.match(rest)
    if home:
        mention.home_base = _place(ctx, at.span.end + home.start("place"), home.group("place"))
    return mention


def _own_operator(ctx: Context, at: DesignationMention, clause: Span) -> ActorMention | None:
    actors = [a for a in ctx.actors_between(clause.start, at.span.start) if a.kind != "media"]
    for actor in reversed(actors):  # the nearest first: "U.S. Air Drive B-52s"
        if _NP_GAP.match(ctx.text[actor.span.end : at.span.start]):
            return actor
    for actor in reversed(actors):  # "the ROKAF despatched KF-16 Combating Falcons"
        between = ctx.text[actor.span.end : at.span.start]
        if _SUBORDINATE.search(between) or any(
            other.span.start in Span(actor.span.end, at.span.start, "") for other in ctx.designations
        ):
            break  # "Japan scrambled jets after two Chinese H-6 bombers": not Japan's
        if _SENDING_VERB.search(between) and actor.kind in ("military", "state", "government", None):
            return actor
    return None


def _share_coordinated_operators(mentions: list[_Mention]) -> None:
    """ "ROKAF F-15s and KF-16s": the second designation is the first one's operator's too."""
    for previous, mention in zip(mentions, mentions[1:], strict=False):
        if mention.operator is None and previous.operator is not None and previous.clause == mention.clause:
            gap = mention.clause.text[
                previous.at.span.end - mention.clause.start : mention.at.span.start - mention.clause.start
            ]
            if re.fullmatch(r"\s*(?:[a-z]+s\s+)?(?:,|and|,\s*and|or)\s*(?:an?\s+|the\s+)?", gap):
                mention.operator = previous.operator


def _hinted_operator(ctx: Context, mention: _Mention) -> ActorMention | None:
    """For a type one country alone flies, that country's force (else the state) as the article names it."""
    if len(mention.at.info.operators) != 1:
        return None
    country = mention.at.info.operators[0]
    # An air force, else the state or its demonym: never a command or a ministry.
    named = [
        a
        for a in ctx.all_actors
        if a.country == country
        and (
            a.kind in ("state", None)
            or a.kind == "military"
            and re.search(r"\bAir\b|\bAF\b", f"{a.name} {a.canonical}")
        )
    ]
    named.sort(key=lambda a: (a.kind != "military", a.kind is None, a.span.start))
    return named[0] if named else None


def _count(before: str, after: str) -> int | None:
    if _NOT_THE_AIRCRAFT.match(after):
        return None  # "a B-1B deployment": the article counts deployments, not aircraft
    match = _COUNT.search(before)
    if match is None:
        return None
    word = match.group("count").lower()
    return int(word) if word.isdigit() else NUMBERS.get(word)


def _role_window(ctx: Context, at: DesignationMention, clause: Span) -> str:
    """The words about this designation: a few before it ("escorted by") and its own phrase after it."""
    start = max(clause.start, at.span.start - 30)
    # Its own phrase ends at a comma, or where the next aircraft starts ("H-6 bombers and a Y-9 ...").
    after = re.match(r"(?:(?!\band\b|\bor\b)[^,.;])*", ctx.text[at.span.end : min(clause.end, at.span.end + 60)])
    return ctx.text[start : at.span.end + (after.end() if after else 0)]


def _role(clause: str) -> str | None:
    return next((role for role, words in _ROLE_WORDS if words.search(clause)), None)


def _place(ctx: Context, start: int, place: str) -> Span:
    if place.startswith("the "):
        start, place = start + 4, place[4:]
    if place.endswith(".") and not re.search(r"\b[A-Z]\.$", place):
        place = place[:-1]  # the sentence's full stop, not "D.C."
    return Span(start, start + len(place), place)


def _place_key(place: Span | None) -> str | None:
    """ "Andersen AFB, Guam" and "Guam" are one place: the last part names it."""
    return alias_key(place.text.split(",")[-1]) if place is not None else None


def _group(mentions: list[_Mention]) -> list[_Group]:
    """One group per type, operator country and place (contract 1.2), in text order.

    A mention with a place joins the group with that place, else starts one; a mention
    without a place joins the type's first group; one without an operator, any country's.
    """
    groups: dict[tuple[str, str | None, str | None], _Group] = {}
    with_operator = [m for m in mentions if m.operator is not None]
    for mention in with_operator + [m for m in mentions if m.operator is None]:
        country = mention.operator.country if mention.operator else None
        place = _place_key(mention.deployed_to)
        designation = mention.at.designation
        fits = [
            key
            for key in groups
            if key[0] == designation and (country is None or key[1] == country) and (place is None or key[2] == place)
        ]
        key = fits[0] if fits else (designation, country, place)
        groups.setdefault(key, _Group(designation)).mentions.append(mention)
    ordered = sorted(groups.values(), key=lambda g: min(m.at.span.start for m in g.mentions))
    for group in ordered:
        group.mentions.sort(key=lambda m: m.at.span.start)
    return ordered


def _nuclear_words(ctx: Context, groups: list[_Group]) -> dict[str, bool]:
    """Designations the article itself calls nuclear-capable (True) or non-nuclear (False)."""
    said: dict[str, bool] = {}
    for index, sentence in enumerate(ctx.doc.sentences):
        positive, negative = _NUCLEAR.search(sentence.text), _NON_NUCLEAR.search(sentence.text)
        if not positive and not negative or positive and negative:
            continue
        types = _types_meant(ctx, index, sentence, groups)
        for designation in types:
            said.setdefault(designation, bool(positive))
    return said


def _types_meant(ctx: Context, index: int, sentence: Span, groups: list[_Group]) -> list[str]:
    named = list(dict.fromkeys(d.designation for d in ctx.designations if d.span.start in sentence))
    if len(named) > 1:
        nuclear = [
            d for d in named if any(m.at.info.nuclear_role for g in groups for m in g.mentions if g.designation == d)
        ]
        return nuclear
    if named:
        return named
    # "the bombers ... from the nuclear-capable fleet": the one bomber type named in the paragraph
    for role, noun in _ROLE_NOUN.items():
        if re.search(noun, sentence.text, re.IGNORECASE):
            paragraph = ctx.doc.paragraph_of(sentence.start)
            nearby = {
                g.designation
                for g in groups
                for m in g.mentions
                if m.role == role and ctx.doc.paragraph_of(m.at.span.start) == paragraph
            }
            return sorted(nearby) if len(nearby) == 1 else []
    return []


def _item(group: _Group, nuclear: bool | None) -> Aircraft:
    first = group.mentions[0]
    operator: ActorMention | None = group.first("operator")  # type: ignore[assignment]
    counts = {m.count for m in group.mentions if m.count is not None}
    deployed: Span | None = group.first("deployed_to")  # type: ignore[assignment]
    home: Span | None = group.first("home_base")  # type: ignore[assignment]
    return Aircraft(
        designation=group.designation,
        mention=first.at.span.text,
        operator=operator.actor() if operator else None,
        count=counts.pop() if len(counts) == 1 else None,
        role=_group_role(group),  # type: ignore[arg-type]
        home_base=home.text if home else None,
        deployed_to=deployed.text if deployed else None,
        nuclear_capable=nuclear,
        evidence=_evidence(group),
    )


def _group_role(group: _Group) -> str | None:
    """The role the article describes ("for the escort") over the type's usual one."""
    described = [m.role for m in group.mentions if m.role and m.role != m.at.info.role]
    return described[0] if described else next((m.role for m in group.mentions if m.role), None)


def _evidence(group: _Group) -> list[Evidence]:
    spans: dict[tuple[int, int], Span] = {}
    for mention in group.mentions:
        span = bounded(mention.clause, mention.at.span.start, mention.at.span.end)
        spans.setdefault((span.start, span.end), span)
    return [evidence(span) for span in list(spans.values())[:10]]
