"""Who speaks: the noun phrase of an attribution read as a person, a body or an official's role.

- a person: a name of two to four capitalized words (or a surname the article has already
  introduced), with the title around it ("Turkish Defense Minister Hulusi Akar", "Robert Wood,
  U.S. deputy U.N. ambassador");
- a body: a state, force, ministry, agency or state medium the gazetteer knows, or a
  capitalized name ending in Ministry, Command, Agency, ... ("Somali Military Command");
- a role: an official named by function ("a senior State Department official", "Russia's
  envoy", "the official").
In scope (contract 1.1): serving officials, governments, militaries, international bodies,
state media. Former officials, analysts, experts and private people are optional in the
contract: they are read (so "he said" finds them) but not emitted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from ..postprocess.gazetteer import alias_key
from .actors import ActorMention, find_actors, lookup
from .lexicon import STATEMENT_NOUNS
from .text import Span, trim

_TITLE_WORDS = (
    r"president|presidential|vice|prime|minister|premier|secretary|ambassador|envoy|spokes(?:man|woman|person)|"
    r"gen\.?|general|adm\.?|admiral|col\.?|colonel|lt\.?|lieutenant|maj\.?|major|capt\.?|captain|commander|chief|"
    r"chairman|chairwoman|chair|director|commissioner|governor|mayor|sen\.?|senator|rep\.?|representative|lawmaker|"
    r"leader|king|queen|prince|chancellor|advis[eo]r|deputy|official|head|dr\.?|professor|prof\.?|defen[cs]e|foreign|"
    r"overseas|interior|state|staff|of|national|security|district|provincial|council|member|u\.n\.|un|special|"
    r"assistant|under|undersecretary|acting|senior|top|military|army|navy|air|force|drive|intelligence|policy|"
    r"former|retired|ex|analyst|expert|fellow|researcher|lecturer|scholar|author|journalist|the|a|an"
)
_TITLE_WORD = re.compile(rf"^(?:{_TITLE_WORDS})$", re.IGNORECASE)
_STRONG_OFFICIAL = re.compile(
    r"\b(?:president|prime minister|premier|minister|secretary|ambassador|envoy|spokes(?:man|woman|person)|gen\.|general|"
    r"adm\.|admiral|colonel|commander|chief of staff|governor|senator|lawmaker|chancellor|king|official|officials|"
    r"commissioner|presidential)\b",
    re.IGNORECASE,
)
_NOT_IN_SCOPE = re.compile(
    r"\b(?:analysts?|experts?|fellow|researchers?|lecturer|scholar|author|journalists?|residents?|witness(?:es)?|"
    r"students?|professor|think[- ]tank|university|institute|center|centre|passengers?|guard|activists?|"
    r"lawyers?|critics?|observers?|studies|study|report|researchers|foundation|initiative|program|programme)\b",
    re.IGNORECASE,
)
_FORMER = re.compile(r"\b(?:former|retired|ex-|one-time|onetime)\b", re.IGNORECASE)
_ROLE_NOUN = re.compile(
    r"\b(?:officials?|spokes(?:man|woman|person)|envoy|ambassador|minister|ministry|government|authorities|military|"
    r"command|commander|army|navy|forces|officers|sources|estimates|delegation|embassy|mission|general|admiral|"
    r"colonel|officer)\b",
    re.IGNORECASE,
)
_BODY_HEAD = re.compile(
    r"\b(?:Ministry|Department|Command|Agency|Council|Forces|Army|Navy|Force|Office|Government|Parliament|Congress|"
    r"Senate|Pentagon|White House|Kremlin|Military|Guard|Corps|Service|Committee|Cabinet|Presidency)\b"
)
_PRONOUN = re.compile(r"^(?:he|she)$", re.IGNORECASE)
_NAME_TOKEN = r"(?:[A-Z][a-z’'-]+(?:-[A-Za-z][a-z]+)?|[A-Z]\.)"
_NAME_AT_END = re.compile(rf"(?P<name>{_NAME_TOKEN}(?:\s+{_NAME_TOKEN}){{1,3}})$")
_LEADING = re.compile(
    r"^(?:(?:and|but|so|also|however|then|later|again|too|meanwhile|separately|earlier|hours later|days later|"
    r"which|who|whom|that|certainly|notably|in a statement|in a separate statement|first of all|speaking to reporters|"
    r"responding to [^,]*)\b[\s,]*)+",
    re.IGNORECASE,
)
_TRAILING = re.compile(
    r"(?:\s+(?:has|have|had|is|are|was|were|will|would|also|again|later|earlier|previously|always|never|then|too|"
    r"repeatedly|reportedly|publicly|separately|recently|already|further|on \w+day|\w+day|in a statement))+$",
    re.IGNORECASE,
)


_TITLED_NAME = re.compile(
    r"\b(?P<title>President|Prime Minister|Premier|Minister|Ambassador|Envoy|General|Gen\.|Admiral|Adm\.|Secretary|"
    r"Chancellor|King|Senator|Sen\.|Governor|Commander|Spokesman|Spokeswoman|Dr\.|Colonel|Col\.|Lt\.)\s+"
    r"(?P<name>[A-Z][a-z’'-]+(?:[ -][A-Z][a-z’'-]+){0,2})\b"
)
# "the National Intelligence and Security Agency, or NISA" / "... Agency (NISA)": the acronym, then its name before it.
_ACRONYM_AFTER = re.compile(r"(?:,?\s+or\s+|\s*\()(?P<acronym>[A-Z]{2,8})\b")
_NAME_BEFORE_ACRONYM = re.compile(r"(?P<name>[A-Z][\w’'-]*(?:\s+(?:[A-Z][\w’'-]*|of|and|for|the))*)$")


@dataclass(frozen=True)
class Speaker:
    """One speaker as the article names it."""

    form: str  # "person", "body", "role" or "pronoun"
    name: str
    key: str  # who it is, for "the same speaker": a person's surname, a body's canonical name
    title: str | None = None
    country: str | None = None
    actor_kind: str | None = None
    behalf: ActorMention | None = None
    in_scope: bool = True
    joint: bool = False
    extra: tuple[Speaker, ...] = field(default=())


_EDGES = " ,–—-:()\"“”‘’'"


def _strip(part: str) -> str:
    part = _LEADING.sub("", part.strip(_EDGES))
    return _TRAILING.sub("", part).strip(_EDGES)


def _in_scope(text: str) -> bool:
    if _FORMER.search(text):
        return False
    return bool(_STRONG_OFFICIAL.search(text)) or not _NOT_IN_SCOPE.search(text)


class People:
    """The persons an article introduces, by surname: "Goldfein said" after "General Dave Goldfein"."""

    def __init__(self, text: str = "") -> None:
        self.by_surname: dict[str, Speaker] = {}
        self.acronyms: dict[str, Speaker] = {}
        if text:
            self._scan(text)

    def _scan(self, text: str) -> None:
        """Persons introduced by a title anywhere ("President Lai took office"), and acronyms the article defines."""
        for match in _TITLED_NAME.finditer(text):
            title, name = match.group("title"), match.group("name")
            if lookup(name) is None and not _ORGANIZATION_WORD.match(name.split()[-1]):
                self.by_surname.setdefault(
                    alias_key(name.split()[-1]),
                    Speaker(
                        "person",
                        name,
                        alias_key(name.split()[-1]),
                        title=title,
                        actor_kind="person",
                        in_scope=_in_scope(title),
                    ),
                )
        for defined in _ACRONYM_AFTER.finditer(text):
            named = _NAME_BEFORE_ACRONYM.search(text[max(0, defined.start() - 100) : defined.start()])
            if named is None:
                continue
            name, acronym = named.group("name"), defined.group("acronym")
            kind = (
                "military"
                if re.search(r"\b(?:Command|Army|Navy|Force|Forces|Military|Corps|Guard)\b", name)
                else "government"
            )
            if _BODY_HEAD.search(name):
                self.acronyms[acronym] = Speaker("body", acronym, alias_key(name), actor_kind=kind)

    def add(self, speaker: Speaker) -> Speaker:
        known = self.by_surname.get(speaker.key)
        if known is not None:
            # Keep what the first, fuller mention said: title, country, scope.
            speaker = replace(
                speaker,
                name=known.name if len(known.name) > len(speaker.name) else speaker.name,
                title=speaker.title or known.title,
                country=speaker.country or known.country,
                behalf=speaker.behalf or known.behalf,
                in_scope=known.in_scope and speaker.in_scope if speaker.title else known.in_scope,
            )
        self.by_surname[speaker.key] = speaker
        return speaker

    def get(self, surname: str) -> Speaker | None:
        return self.by_surname.get(alias_key(surname))


def read_speaker(region: Span, people: People, *, speaker_first: bool = False) -> Speaker | None:
    """The speaker named in `region`: its last comma-separated part (the first, after the verb)."""
    listed = _actor_list(region)
    if listed is not None:
        return listed
    parts = [p for p in _parts(region) if _strip(p.text)]
    if speaker_first:
        parts = parts[:2]
        head, apposition = (parts[0], parts[1] if len(parts) > 1 else None) if parts else (None, None)
    else:
        head, apposition = _head_before_verb(parts, people)
    if head is None:
        return None
    speaker = _read_part(head, people)
    if speaker is None:
        return None
    if apposition is not None and speaker.form == "person":
        speaker = _with_title(speaker, apposition)
    if speaker.form == "person":
        speaker = people.add(speaker)
    return speaker


def _actor_list(region: Span) -> Speaker | None:
    """ "The United States, Japan and South Korea": several bodies speaking together."""
    text = _strip(region.text)
    actors = find_actors(region)
    if len(actors) < 2:
        return None
    rest = text
    for actor in actors:
        rest = rest.replace(actor.name, " ", 1)
    if re.fullmatch(r"(?:\s|,|\band\b|\bthe\b|\bThe\b)*", rest):
        return _body(text, actors)
    return None


def _parts(region: Span) -> list[Span]:
    parts, start = [], region.start
    for match in re.finditer(r",\s*|\s[–—]\s|:\s", region.text):
        part = trim(region, start, region.start + match.start())
        if part:
            parts.append(part)
        start = region.start + match.end()
    last = trim(region, start, region.end)
    if last:
        parts.append(last)
    return parts


def _names_someone(text: str, people: People | None) -> bool:
    """Two or more name words, or a surname the article has introduced."""
    name = _trailing_name(text)
    return len(name) >= 2 or len(name) == 1 and people is not None and people.get(name[0]) is not None


def _head_before_verb(parts: list[Span], people: People | None = None) -> tuple[Span | None, Span | None]:
    """The part naming the speaker (the last one that names anyone) and a title apposition before it."""
    if parts and re.fullmatch(r"(?:which|who)", parts[-1].text.strip(), re.IGNORECASE) and len(parts) > 1:
        # "... tension with Washington, which claims": the relative pronoun's antecedent speaks.
        named = find_actors(parts[-2])
        if named:
            return named[-1].span, None
    for index in range(len(parts) - 1, -1, -1):
        part = parts[index]
        text = _strip(part.text)
        if (
            not text
            or re.match(r"^(?:speaking|adding|saying|who|which|surrounded)\b", part.text.strip(), re.I)
            and not re.search(r"\b(?:which|who)\s+[A-Z]", part.text)
        ):
            continue
        if _NOT_IN_SCOPE.search(text) and not re.search(r"[A-Z]", text):
            return part, None  # "..., experts said": the experts speak, and are out of scope
        if not (_ROLE_NOUN.search(text) or re.search(r"[A-Z]", text) or _PRONOUN.match(text) or lookup(text)):
            continue  # an adverbial ("first of all"); "the alliance" is NATO in the gazetteer
        before = parts[index - 1] if index > 0 else None
        # "KCNA – North Korea's state news agency – published": the name, then what it is.
        if before is not None and re.match(r"^[A-Z][\w .]*[’']s\s+[a-z][a-z ]*$", text) and find_actors(before):
            return before, None
        # "Robert Wood, U.S. deputy U.N. ambassador," told: the name, then its title.
        if before is not None and _looks_like_title(text) and _names_someone(_strip(before.text), people):
            return before, part
        # "U.S. Air Force Chief of Staff, General Dave Goldfein" said: a title, then the named person.
        if before is not None and _looks_like_title(_strip(before.text)) and _NAME_AT_END.search(text):
            return part, before
        return part, None
    return None, None


_TITLE_NOUN = re.compile(
    r"\b(?:head|member|chief|director|official|spokes(?:man|woman|person)|minister|secretary|adviser|advisor|ambassador|"
    r"envoy|commander|general|president|governor|commissioner|chairman|leader|deputy|fellow|analyst|expert|professor|"
    r"lecturer|researcher|author|journalist|correspondent|officer|representative|lawmaker|senator)s?\b",
    re.IGNORECASE,
)


def _looks_like_title(text: str) -> bool:
    """ "U.S. deputy U.N. ambassador", "a Turkish presidential foreign policy adviser", "the Ghazni provincial head ..."."""
    return _TITLE_NOUN.search(text) is not None and len(_trailing_name(text.split(" of ")[0].split(" for ")[0])) < 2


_ORGANIZATION_WORD = re.compile(
    r"^(?:Agency|Ministry|Department|Council|Command|Force|Forces|Army|Navy|Service|Office|Society|Center|Centre|"
    r"University|Institute|Party|Group|Company|Committee|Bank|Times|Post|News|Network|Organization|Organisation|"
    r"Association|Foundation|Commission|Court|Assembly|Parliament|Congress|Senate|House|Union|Fund|Program|Programme)$"
)


def _trailing_name(text: str) -> list[str]:
    """The capitalized words ending `text` that are neither title words nor actors: a person's name."""
    taken: list[str] = []
    for word in reversed(text.split()):
        if not re.fullmatch(_NAME_TOKEN, word) or _TITLE_WORD.match(word.strip(".")) or lookup(word) is not None:
            break
        if _ORGANIZATION_WORD.match(word):
            return []
        taken.insert(0, word)
    return taken


_STATEMENT_BY = re.compile(
    rf"^(?:an?|the)\s+(?:\w+\s+)?{STATEMENT_NOUNS}\s+(?:\w+\s+)?(?:by|from|of)\s+|^(?:an?|the)\s+(?=\S+\s+{STATEMENT_NOUNS}$)",
    re.IGNORECASE,
)
_CLAUSE_VERB = re.compile(r"\s+(?!(?:United|armed|based|led|backed|Red)\b)[a-z]+(?:ed|ted)\b")


def _read_part(part: Span, people: People) -> Speaker | None:
    text = _strip(part.text)
    if not text:
        return None
    if _PRONOUN.match(text):
        return Speaker("pronoun", text, text.lower())
    text = _STATEMENT_BY.sub("", text)  # "a statement posted by the government's agency" -> the agency
    text = re.sub(rf"\s+{STATEMENT_NOUNS}$", "", text, flags=re.IGNORECASE)  # "the NISA statement" -> NISA
    verb = _CLAUSE_VERB.search(text)
    if verb and text[: verb.start()].strip():
        text = text[: verb.start()].strip()  # "China conducted the drills ... and" (called them): China
    offset = part.start + part.text.find(text) if text in part.text else part.start
    np = Span(offset, offset + len(text), text)
    acronym = people.acronyms.get(text.strip(" ()"))
    if acronym is not None:
        return acronym
    if _NOT_IN_SCOPE.search(text) and not re.search(r"[A-Z]", text):
        return Speaker("role", text, alias_key(text), in_scope=False)  # "experts", "analysts"
    known = lookup(text) if text[:1].islower() else None
    if known is not None and known[0] is not None:  # "the alliance" (NATO), written in lower case
        kind, country, canonical = known
        return Speaker("body", text, canonical or alias_key(text), country=country, actor_kind=kind)
    person = _person(np, people)
    if person is not None:
        return person
    actors = find_actors(np)
    bare = re.sub(r"^(?:the|a|an)\s+", "", text, flags=re.IGNORECASE)
    if len(actors) == 1 and actors[0].name in (text, bare):
        return _body(text, actors)  # "the U.S. Air Force", "KCNA"
    if _ROLE_NOUN.search(text):
        return _role(text, actors)
    if actors:
        return _body(text, actors)
    if _BODY_HEAD.search(text) and text[0].isupper():
        kind = (
            "military"
            if re.search(r"\b(?:Command|Army|Navy|Force|Forces|Military|Corps|Guard)\b", text)
            else "government"
        )
        return Speaker("body", text, alias_key(text), actor_kind=kind, in_scope=_in_scope(text))
    return None


def _person(np: Span, people: People) -> Speaker | None:
    text = np.text
    words = text.split()
    taken = _trailing_name(text)
    name = " ".join(taken[-4:])
    if len(taken) < 2:
        last = words[-1] if words else ""
        titled = len(words) >= 2 and _TITLE_NOUN.search(words[-2]) is not None  # "railway official Hayat"
        if not taken or people.get(last) is None and not titled:
            return None
        name = last
    if _is_actor(name) or any(a.span.end == np.end for a in find_actors(np)):
        return None  # "Japan and South Korea": the phrase ends in an actor, not a person's name
    title = _title_before(text[: len(text) - len(name)])
    speaker = Speaker("person", name, alias_key(name.split()[-1]), actor_kind="person")
    return _with_title(speaker, Span(np.start, np.start + len(title), title)) if title else _known(speaker, people)


def _title_before(text: str) -> str:
    """The title words right before a name ("U.S. President", "South Korean Defense Minister",
    "Taliban spokesman"), not the clause before them."""
    words = text.split()
    kept: list[str] = []
    index = len(words)
    while index > 0:
        word = words[index - 1]
        bare = word.strip(",")
        if word.endswith(",") and kept:
            break
        if _TITLE_WORD.match(bare.strip(".")) or _ORGANIZATION_WORD.match(bare) or _is_actor(bare):
            kept.insert(0, bare)
            index -= 1
            continue
        wider = next((n for n in (2, 3) if index >= n and _is_actor(" ".join(words[index - n : index]))), None)
        if wider is None:
            break
        kept[:0] = words[index - wider : index]  # "South Korean", "Republic of Korea"
        index -= wider
    while kept and kept[0].lower() in ("of", "the", "a", "an"):
        kept.pop(0)
    return " ".join(kept)


def _is_actor(text: str) -> bool:
    return lookup(text) is not None or lookup(_possessive(text)) is not None


def _possessive(word: str) -> str:
    return re.sub(r"[’']s$", "", word)


def _known(speaker: Speaker, people: People) -> Speaker:
    known = people.get(speaker.key)
    if known is None:
        # A named person with no title says nothing of being an official.
        return replace(speaker, in_scope=False)
    return replace(known, name=speaker.name if len(speaker.name) > len(known.name) else known.name)


def _with_title(speaker: Speaker, title_span: Span) -> Speaker:
    """A person's title phrase: their title as written, country and body (kept apart from their name)."""
    title = re.sub(r"^(?:an?|the)\s+", "", _strip(title_span.text), flags=re.IGNORECASE).strip(" ,")
    if not title:
        return speaker
    actors = find_actors(title_span)
    behalf = next((a for a in actors if a.kind != "media"), None)
    country = next((a.country for a in actors if a.country), None)
    words = title
    for actor in actors:  # "Turkish Defense Minister" -> "Defense Minister"
        if words.startswith(actor.name) and len(words) > len(actor.name):
            words = re.sub(r"^(?:[’']s)?[\s,]*", "", words[len(actor.name) :])
            break
    return replace(
        speaker,
        title=words or None,
        country=country or speaker.country,
        behalf=behalf,
        in_scope=_in_scope(title),
    )


_MILITARY_ROLE = re.compile(
    r"\b(?:military|army|navy|air force|forces|command|commander|officers?|general|admiral|colonel)\b", re.IGNORECASE
)


def _role(text: str, actors: list[ActorMention]) -> Speaker:
    """ "a senior State Department official", "Russia's envoy", "South Korea's national defense ministry"."""
    behalf = next((a for a in actors if a.kind != "media"), None)
    country = next((a.country for a in actors if a.country), None)
    kind = "military" if _MILITARY_ROLE.search(text) else "government"
    key = alias_key(re.sub(r"^(?:an?|the)\s+", "", text, flags=re.IGNORECASE))
    return Speaker("role", text, key, country=country, actor_kind=kind, behalf=behalf, in_scope=_in_scope(text))


def _body(text: str, actors: list[ActorMention]) -> Speaker:
    """A body, or several named together ("The United States, Japan and South Korea condemned").

    Only actors joined by "," or "and" speak together; in "North Korea's state news agency
    KCNA" the last one is the speaker and the others describe it.
    """
    named = [a for a in actors if a.kind is not None]
    if not named:
        return Speaker("body", text, alias_key(text), country=actors[0].country, in_scope=False)
    group = [named[-1]]
    for earlier in reversed(named[:-1]):
        between = text[text.find(earlier.name) + len(earlier.name) : text.find(group[0].name)]
        if not re.fullmatch(r"\s*(?:,|and|,\s*and)\s*(?:the\s+)?", between):
            break
        group.insert(0, earlier)
    speakers = [_body_speaker(a, text) for a in group]
    joint = len(group) > 1 or bool(re.search(r"\band (?:its|their|other) (?:allies|partners)\b", text, re.I))
    return replace(speakers[0], joint=joint, extra=tuple(speakers[1:]))


def _body_speaker(actor: ActorMention, text: str) -> Speaker:
    name = actor.name
    if text.lower().startswith("the " + name.lower()):
        name = text[: 4 + len(name)]  # "The United States", as written
    return Speaker(
        "body",
        name,
        actor.canonical or alias_key(actor.name),
        country=actor.country,
        actor_kind=actor.kind,
        in_scope=_in_scope(text),
    )
