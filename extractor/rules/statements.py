"""Statements: who said what, from attributions ("X said", "told reporters", "according to X",
"KCNA published a statement", "…,” said X") and the quotations around them.

One attribution is one statement, and these read as one utterance (contract 1.1: "a quote
split by 'he said' is one statement"):
- a sentence that is only a quotation continues the statement just before it;
- the same speaker in the next sentence, unless a direct quotation is followed by a further
  point reported indirectly ("The official added that ..."), which is a new statement;
- an official named by role, or a body, followed by the named person who speaks for it
  ("Russia's envoy dismissed ..." then "…,” Vassily Nebenzia told the council") - except
  a joint statement of several states, which stays theirs.
Pronouns ("he said") and "the official" take the latest speaker they fit. Statements by
people out of the contract's scope (analysts, former officials) are read, then left out,
as are utterances recalled as background ("in 1950, ... famously said").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from ..schemas import Actor, Evidence, PoliticalStatement
from .actors import ActorMention, lookup
from .context import MAX_EVIDENCE_CHARS, Context, bounded, evidence
from .lexicon import ACCORDING_TO, STATEMENT_NOUNS, date_text_in
from .speakers import People, Speaker, read_speaker
from .stance import stance_of
from .text import Span

_VERBS = (
    r"said|says|say|told|tells|added|adds|stated|warned|warns|announced|announces|declared|declares|denied|denies|"
    r"insisted|insists|claimed|claims|urged|urges|demanded|demands|confirmed|confirms|noted|stressed|stresses|"
    r"argued|accused|accuses|condemned|condemns|criticized|criticised|criticizes|praised|praises|welcomed|welcomes|"
    r"rejected|rejects|dismissed|dismisses|threatened|vowed|vows|pledged|pledges|reiterated|reiterates|reaffirmed|"
    r"reaffirms|tweeted|tweets|wrote|posted|explained|asserted|mentioned|acknowledged|admitted|alleged|cautioned|"
    r"responded|replied|defended|defends|appealed|expressed (?:deep |serious |grave )?(?:concern|support|regret|hope|opposition)|"
    r"called (?:on|for)|calls (?:on|for)|(?:is|are|was|were) (?:also )?(?:warning|saying|threatening|urging|insisting|"
    r"claiming|denying|calling (?:on|for))|"
    rf"(?:issued|released|published|printed|put out)\s+(?:a|an)\s+(?:\w+\s+)?{STATEMENT_NOUNS}"
)
_VERB = re.compile(rf"\b(?:{_VERBS})\b")
# The words an attribution verb can start with: a cheap test before the full pattern.
_VERB_STARTS = frozenset(re.findall(r"[a-z]+", _VERBS.replace("(?:", " ").replace("rf", " ")))
_WORD = re.compile(r"[a-z]+")


def _verbs(text: str) -> list[re.Match[str]]:
    """Attribution verbs in `text`, tried only where a word that can start one stands."""
    found = []
    for word in _WORD.finditer(text):
        if word.group() in _VERB_STARTS and (word.start() == 0 or not text[word.start() - 1].isalpha()):
            match = _VERB.match(text, word.start())
            if match:
                found.append(match)
    return found


_REPORTING = re.compile(r"said|says|say|told|tells|added|adds")
# A reporting clause closing the sentence: ", <a speaker of a few words> said" with no clause between.
_TRAILING_ATTRIBUTION = re.compile(r",\s+(?:[\w.’'-]+\s+){1,8}$")
_CALLED_QUOTE = re.compile(r"\bcalled (?:it|them|this|that|the \w+)\s+[“\"]")
_PARTICIPLE = re.compile(
    r",?\s+\b(?:reaffirming|reiterating|saying|insisting|warning|vowing|pledging|claiming|stressing)\b"
)
_ACCORDING = re.compile(rf"^\W*{ACCORDING_TO}\s+(?P<np>[^,]{{2,80}}),", re.IGNORECASE)
_ON_BEHALF = re.compile(
    r"\bon behalf of (?P<np>(?:the\s+)?[\w’' -]{2,60}?)(?=\s+(?:condemning|saying|warning|denouncing|criticizing)\b|[,.;]|$)"
)
_CHANNELS = re.compile(
    rf"\b(?i:in|via|through|on|during|at)\s+(?i:a|an|the|its|his|her)?\s*(?:separate\s+)?(?P<channel>{STATEMENT_NOUNS}|"
    r"(?:news|press) conference|briefing|(?:television |tv |radio )?interview|speech|social media|post|"
    r"X|Twitter|Telegram|Facebook|Weibo)\b"
    rf"|\btold\s+(?:a|an|the)\s+(?:\w+\s+)?(?P<told>(?:news |press )?(?:briefing|conference|interview))\b"
    rf"|\b(?P<verb>tweeted|posted)\b|\b(?:told|according to)\s+(?P<outlet>VOA|KCNA|Xinhua|TASS|Reuters|state media)\b"
    rf"|\b(?:a|an|the)\s+[A-Z]+\s+(?P<noun>{STATEMENT_NOUNS})\b"
)
_AS_NOUN = re.compile(r"\b(?:his|her|its|their|the|a|an|these|those|such|our|your|my|no|any)\s+$", re.IGNORECASE)
_NEGATED = re.compile(r"\b(?:not|n['’]t|never|no longer)\s+(?:\w+ly\s+)?$", re.IGNORECASE)
_BACKGROUND = re.compile(r"\b(?:famously|once said|years ago|decades ago|at the time|back in)\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_SECURITY_WORDS = re.compile(
    r"\b(?:military|militar(?:y|ies)|troops|soldiers|missiles?|nuclear|army|navy|naval|air force|warships?|bombers?|"
    r"fighter jets?|drills|ceasefire|invasion|militants?|terror\w*|sanctions|airstrikes?|weapons?|armed forces|"
    r"security forces|defen[cs]e (?:minister|ministry|secretary|department)|national security|pentagon|nato|"
    r"insurgents?|hostages?|war in|war on|war with|civil war|treaty|embargo|artillery|munitions)\b"
)


@dataclass
class _Said:
    """One attribution (or a quotation continuing one) in one sentence."""

    sentence: int
    speaker: Speaker | None
    direct: bool
    indirect: bool
    verb: str
    evidence: list[Span]
    quotes: list[Span]
    text: str
    channel: str | None = None
    date_text: str | None = None
    behalf: ActorMention | None = None
    background: bool = False
    verb_at: int | None = None  # where the attribution verb is, in the article
    parts: list[_Said] = field(default_factory=list)


def about_security(text: str) -> bool:
    """Whether an article is about security or foreign policy at all (two distinct words of the field)."""
    seen: set[str] = set()
    for match in _SECURITY_WORDS.finditer(text.lower()):
        seen.add(match.group())
        if len(seen) >= 2:
            return True
    return False


def extract_statements(ctx: Context) -> list[PoliticalStatement]:
    if not about_security(ctx.text):
        return []
    people = People(ctx.text)
    said = [s for s in (_read_sentence(ctx, i, people) for i in range(len(ctx.doc.sentences))) if s is not None]
    said = _resolve(said)
    merged = _merge(said)
    _share_what_is_known(merged)
    items = []
    for statement in merged:
        if statement.speaker is None or not statement.speaker.in_scope or statement.background:
            continue
        items.extend(_items(ctx, statement))
    return items


def _read_sentence(ctx: Context, index: int, people: People) -> _Said | None:
    sentence = ctx.doc.sentences[index]
    quotes = ctx.doc.quotes_in(sentence)
    found = _attribution(ctx, sentence, quotes, people)
    if found is None:
        if quotes and _mostly_quoted(sentence, quotes):
            return _Said(index, None, True, False, "", [sentence], quotes, sentence.text)
        return None
    speaker, verb_at = found
    outside = _outside_quotes(sentence, quotes)
    direct = bool(quotes)
    indirect = bool(re.search(r"\b(?:that|saying|adding|warning)\b", outside[verb_at - sentence.start :])) or not direct
    said = _Said(
        index, speaker, direct, indirect, outside[verb_at - sentence.start :][:40], [sentence], quotes, sentence.text
    )
    said.verb_at = verb_at
    said.channel = _channel(outside)
    said.date_text = _when(outside, verb_at - sentence.start)
    behalf = _ON_BEHALF.search(outside)
    if behalf and speaker is not None and speaker.actor_kind == "media":
        said.channel = speaker.name
        region = Span(sentence.start + behalf.start("np"), sentence.start + behalf.end("np"), behalf.group("np"))
        on_behalf = read_speaker(region, people)
        if on_behalf is not None:
            said.speaker = replace(on_behalf, country=on_behalf.country or speaker.country, in_scope=True)
    said.background = _background(ctx, outside)
    return said


def _attribution(ctx: Context, sentence: Span, quotes: list[Span], people: People) -> tuple[Speaker | None, int] | None:
    """The speaker of the sentence's first attribution, and where its verb is."""
    text = sentence.text
    according = _ACCORDING.match(text)
    if according:
        region = Span(
            sentence.start + according.start("np"), sentence.start + according.end("np"), according.group("np")
        )
        return read_speaker(region, people, speaker_first=True), sentence.start + according.start()
    matches = _verbs(text) + list(_CALLED_QUOTE.finditer(text))
    trailing = [
        m for m in matches if _TRAILING_ATTRIBUTION.search(_tail(text, m.start())) and _REPORTING.match(m.group())
    ]
    if trailing and trailing[-1] is not matches[0]:
        # "Beijing condemned the drills and urged ..., Chinese Foreign Ministry spokesperson Mao Ning told a
        # briefing": the reporting clause at the end names who speaks; what comes before is what was said.
        matches = [trailing[-1]]
    for match in matches:
        at = sentence.start + match.start()
        if ctx.doc.in_quote(at, at + 1):
            continue
        if _NEGATED.search(_tail(text, match.start())):
            return None  # "Officials have not publicly responded": no statement
        if _AS_NOUN.search(_tail(text, match.start())) or _after_a_demonym(text, match):
            continue  # "offered no evidence for his claims", "the Iraqi claims": a noun, not a verb
        quote_before = next((q for q in reversed(quotes) if q.end <= at), None)
        start = quote_before.end if quote_before else sentence.start
        while start < at and ctx.text[start] in " ,”\"’'":
            start += 1
        between = ctx.text[start:at]
        if quote_before is not None and re.fullmatch(r"[\s,”\"’']*", between):
            # …,” said Professor Mesut Casin, a Turkish presidential foreign policy adviser.
            after = Span(sentence.start + match.end(), sentence.end, text[match.end() :])
            return read_speaker(_until_sentence_end(after), people, speaker_first=True), at
        region = Span(start, at, ctx.text[start:at])
        return read_speaker(region, people), at
    participle = _PARTICIPLE.search(text)
    if participle and not ctx.doc.in_quote(sentence.start + participle.start()):
        subject = re.match(r"^(?P<np>[^,]*?)\s+(?:[a-z]+ed|[a-z]+s)\b", text)
        if subject:
            region = Span(sentence.start, sentence.start + subject.end("np"), subject.group("np"))
            return read_speaker(region, people), sentence.start + participle.start()
    return None


def _until_sentence_end(span: Span) -> Span:
    end = re.search(r"[.;]\s*$|\.\s", span.text)
    cut = end.start() if end else len(span.text)
    return Span(span.start, span.start + cut, span.text[:cut])


_DETERMINED_WORD = re.compile(r"\b(?:the|these|those|such|his|her|its|their)\s+(?P<word>[A-Z][\w.-]*)\s+$")


def _after_a_demonym(text: str, verb: re.Match[str]) -> bool:
    """ "the Iraqi claims": after a determiner and a demonym, a word in -s is a plural noun."""
    if not verb.group().endswith("s"):
        return False
    before = _DETERMINED_WORD.search(_tail(text, verb.start()))
    if before is None:
        return False
    word = before.group("word")
    known = lookup(word)
    if known is not None:
        return known[0] is None and known[1] is not None  # a demonym the gazetteer knows
    return re.search(r"(?:i|ian|ean|ese|ish)$", word) is not None  # "Iraqi", "Syrian", "Sudanese"


def _tail(text: str, end: int, size: int = 80) -> str:
    """The few words before `end`: what the patterns anchored at a verb look at."""
    return text[max(0, end - size) : end]


def _outside_quotes(sentence: Span, quotes: list[Span]) -> str:
    """The sentence with its quotations blanked out (offsets kept)."""
    text = sentence.text
    for quote in quotes:
        start, end = max(0, quote.start - sentence.start), min(len(text), quote.end - sentence.start)
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def _mostly_quoted(sentence: Span, quotes: list[Span]) -> bool:
    return sum(q.end - q.start for q in quotes) >= 0.6 * (sentence.end - sentence.start)


def _channel(outside: str) -> str | None:
    match = _CHANNELS.search(outside)
    if match is None:
        return None
    return next(group for group in match.groups() if group)


_EVENT_DATE = re.compile(r"\b(?:in|since|after|before|until|by|from|during|of|between)\s+$", re.IGNORECASE)


_MEETING_DAY = re.compile(
    r"\b(?P<day>(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day)['’]s\s+(?:meeting|briefing|session|summit|talks|news conference|press conference|speech)\b"
)


def _when(outside: str, verb_at: int) -> str | None:
    """When the statement was made, as written: a date right after the verb ("said Monday", "announced on
    Wednesday"), at the meeting ("at Friday's meeting"), or "on <date>" before the verb - not the date
    of something the statement is about ("drills next month", "a summit in September")."""
    after = date_text_in(outside[verb_at : verb_at + 60])
    if after is not None and not _EVENT_DATE.search(
        outside[max(0, verb_at + after.start() - 10) : verb_at + after.start()]
    ):
        return after.group()
    meeting = _MEETING_DAY.search(outside)
    if meeting:
        return meeting.group("day")
    before = re.search(r"\bon\s+(?P<date>[A-Z][\w.]*(?:\s+\d{1,2})?(?:,\s+\d{4})?)", outside[:verb_at])
    if before and date_text_in(before.group("date")):
        return date_text_in(before.group("date")).group()  # type: ignore[union-attr]
    return None


def _background(ctx: Context, outside: str) -> bool:
    """An utterance the article recalls from long before it was written."""
    if _BACKGROUND.search(outside):
        return True
    if ctx.published is None:
        return False
    return any(int(year) < ctx.published.year - 1 for year in _YEAR.findall(outside))


# -- who "he" and "the official" are ---------------------------------------------------------


def _resolve(said: list[_Said]) -> list[_Said]:
    for index, current in enumerate(said):
        speaker = current.speaker
        if speaker is None:
            continue
        earlier = [
            s for s in said[max(0, index - 4) : index] if s.speaker is not None and s.sentence >= current.sentence - 4
        ]
        if speaker.form == "pronoun":
            person = next((s.speaker for s in reversed(earlier) if s.speaker and s.speaker.form == "person"), None)
            current.speaker = person
        elif speaker.form == "role" and re.match(r"^the\s+(?:\w+\s+)?\w+$", speaker.name, re.IGNORECASE):
            # "the official", "the military spokesperson": the latest speaker named or titled so
            noun = speaker.name.split()[-1].lower()
            match = next(
                (
                    s.speaker
                    for s in reversed(earlier)
                    if s.speaker and noun in f"{s.speaker.name} {s.speaker.title or ''}".lower()
                ),
                None,
            )
            if match is not None:
                current.speaker = match
    return said


def _same(a: Speaker, b: Speaker) -> bool:
    return a.key == b.key and a.form == b.form


_SPEAKS_FOR_A_STATE = re.compile(r"\b(?:ambassador|envoy|representative|spokes(?:man|woman|person))\b", re.IGNORECASE)


def _speaks_for(earlier: Speaker, person: Speaker, quoted: bool) -> bool:
    """ "Russia's envoy" then "…,” Vassily Nebenzia told"; "the Taliban" then "…,” Taliban spokesman
    Zabihullah Mujahid tweeted": the person the article then quotes for them."""
    if not quoted or person.form != "person" or earlier.form not in ("role", "body") or earlier.joint:
        return False
    if person.behalf is not None and earlier.name.lower().endswith(person.behalf.name.lower()):
        return True
    if person.country is not None and earlier.country is not None:
        return person.country == earlier.country
    if person.title is None:
        return True  # "Russia's envoy ..." then "Vassily Nebenzia": the article introduces them so
    # A title that speaks for the earlier one: an ambassador for a state or an envoy, not a
    # defense minister for a foreign ministry.
    return _SPEAKS_FOR_A_STATE.search(person.title) is not None and (
        earlier.form == "body" or _SPEAKS_FOR_A_STATE.search(earlier.name) is not None
    )


def _merge(said: list[_Said]) -> list[_Said]:
    merged: list[_Said] = []
    for current in said:
        previous = merged[-1] if merged else None
        adjacent = previous is not None and current.sentence - _last_sentence(previous) == 1
        if previous is not None and adjacent:
            if current.speaker is None:  # a quotation alone continues the statement before it
                previous.parts.append(current)
                continue
            if previous.speaker is not None and _continues(previous, current):
                previous.parts.append(current)
                if current.speaker.form == "person" and previous.speaker.form != "person":
                    previous.speaker = _inherit(current.speaker, previous.speaker)
                continue
        if current.speaker is not None:
            merged.append(current)
    return merged


def _share_what_is_known(merged: list[_Said]) -> None:
    """What the article says of a person anywhere holds everywhere: "Vassily Nebenzia", named
    without a title, is "Russia's envoy" a sentence before, so in scope, Russian, an envoy."""
    known: dict[str, Speaker] = {}
    for statement in merged:
        speaker = statement.speaker
        if speaker is None or speaker.form != "person":
            continue
        seen = known.get(speaker.key)
        known[speaker.key] = (
            speaker
            if seen is None
            else replace(
                seen,
                title=seen.title or speaker.title,
                country=seen.country or speaker.country,
                behalf=seen.behalf or speaker.behalf,
                in_scope=seen.in_scope or speaker.in_scope,
            )
        )
    for statement in merged:
        speaker = statement.speaker
        if speaker is not None and speaker.form == "person":
            best = known[speaker.key]
            statement.speaker = replace(
                speaker,
                title=speaker.title or best.title,
                country=speaker.country or best.country,
                behalf=speaker.behalf or best.behalf,
                in_scope=best.in_scope,
            )


def _last_sentence(said: _Said) -> int:
    return max([said.sentence] + [p.sentence for p in said.parts])


def _continues(previous: _Said, current: _Said) -> bool:
    assert previous.speaker is not None and current.speaker is not None
    if _same(previous.speaker, current.speaker):
        ended_quoted = (previous.parts[-1] if previous.parts else previous).direct
        # A quotation, then "The official added that ...": a further point, a new statement.
        return not (ended_quoted and current.indirect and not current.direct)
    return _speaks_for(previous.speaker, current.speaker, current.direct)


def _inherit(person: Speaker, role: Speaker) -> Speaker:
    """The named person, with what the role or body before said about them."""
    behalf = person.behalf
    if behalf is None and role.form == "role":
        behalf = role.behalf
    title = person.title
    if title is None and role.form == "role":
        title = re.sub(r"^(?:[\w.]+[’']s\s+|an?\s+|the\s+)", "", role.name)
    return replace(
        person,
        country=person.country or role.country,
        behalf=behalf,
        title=title,
        in_scope=person.in_scope or role.form == "role" and role.in_scope,
    )


# -- items ------------------------------------------------------------------------------------


def _items(ctx: Context, statement: _Said) -> list[PoliticalStatement]:
    speaker = statement.speaker
    assert speaker is not None
    parts = [statement, *statement.parts]
    quotes = [q for p in parts for q in p.quotes]
    text = " ".join(p.text for p in parts)
    spans: dict[tuple[int, int], Span] = {}
    for part in parts:
        for piece in _evidence_spans(ctx, part):
            spans.setdefault((piece.start, piece.end), piece)
    evidence_list: list[Evidence] = [evidence(span) for span in list(spans.values())[:10]]
    quote = max(quotes, key=lambda q: q.end - q.start).text if quotes else None
    channel = next((p.channel for p in parts if p.channel), None)
    date_text = next((p.date_text for p in parts if p.date_text), None)
    behalf = speaker.behalf
    targets = _targets(ctx, parts, speaker)
    speakers = [speaker, *speaker.extra] if speaker.joint else [speaker]
    return [
        PoliticalStatement(
            speaker=_actor(one),
            speaker_title=one.title if one.form == "person" else None,
            on_behalf_of=behalf.actor() if behalf and one.form != "body" else None,
            channel=channel,
            quote=quote,
            summary=_summary(one, parts),
            stance=stance_of(text),  # type: ignore[arg-type]
            targets=targets,
            date_text=date_text,
            evidence=evidence_list,
        )
        for one in speakers
    ]


def _evidence_spans(ctx: Context, part: _Said) -> list[Span]:
    """The sentence when it is short; else the attribution clause around the verb and each quotation."""
    sentence = ctx.doc.sentences[part.sentence]
    if len(sentence.text) <= MAX_EVIDENCE_CHARS:
        return [sentence]
    pieces = []
    if part.verb_at is not None:
        pieces.append(bounded(sentence, part.verb_at, part.verb_at + 1))
    for quote in part.quotes:
        start, end = max(quote.start, sentence.start), min(quote.end, sentence.end)
        pieces.append(bounded(Span(start, end, ctx.text[start:end]), start, start + 1))
    return pieces or [bounded(sentence, sentence.start, sentence.start + 1)]


def _actor(speaker: Speaker) -> Actor:
    kind = (
        speaker.actor_kind
        if speaker.actor_kind in ("state", "military", "government", "organization", "media", "person", "armed_group")
        else None
    )
    try:
        return Actor(name=speaker.name, country=speaker.country, kind=kind)  # type: ignore[arg-type]
    except ValueError:  # a kind this contract version does not know yet
        return Actor(name=speaker.name, country=speaker.country)


def _targets(ctx: Context, parts: list[_Said], speaker: Speaker) -> list[Actor]:
    own = {speaker.country, speaker.behalf.country if speaker.behalf else None}
    targets: dict[str, Actor] = {}
    for part in parts:
        for mention in ctx.actors_in(part.sentence):
            if mention.kind in ("state", "organization", "armed_group") and mention.country not in own:
                targets.setdefault(mention.canonical or mention.name, mention.actor())
    return list(targets.values())[:5]


def _summary(speaker: Speaker, parts: list[_Said]) -> str:
    """The attribution sentence itself, shortened: a paraphrase the rules can vouch for."""
    text = re.sub(r"\s+", " ", parts[0].text).strip()
    if len(text) > 300:
        text = text[:297].rsplit(" ", 1)[0] + "…"
    return text
