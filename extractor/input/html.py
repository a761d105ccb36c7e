"""A news page's main text and metadata: what reaches the model, and the article's header.

The main text is trafilatura's (the `news` extra): the article body without navigation,
cookie banners, "most read" lists, related-story teasers, paywall stubs and footers. Without
the extra, the page is read by stripping tags (`html_to_text`), and `fallback_note()` says so
once.

The metadata is read from the markup in a fixed order of precedence, whichever extractor
produced the text:

- title: `og:title`, then the JSON-LD headline, then `<title>` (without a trailing
  " | Site name");
- published: `article:published_time` (and the like: `itemprop=datePublished`, `pubdate`,
  `dc.date`), then JSON-LD `datePublished`, then a `<time datetime>` marked as the publication
  time or inside `<article>`; never a date guessed from the text or a copyright line;
- url: the page's `<link rel=canonical>`, else the fetched URL, both without tracking
  parameters (`clean_url`);
- site name: `og:site_name`, then the JSON-LD publisher; author: `<meta name=author>`, then
  the JSON-LD author; trafilatura's own reading of both (a byline, say) last.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from .tags import html_to_text

# Query parameters that say how a reader arrived, not which page it is.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "ocid",
        "cmpid",
        "ref_src",
        "ref_url",
        "smid",
        "sr_share",
        "__twitter_impression",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
ARTICLE_TYPES = re.compile(r"(Article|BlogPosting|Report)$")
TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " · ")
PUBLISHED_META = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "dc.date.issued",
    "dc.date",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
)
# Subscription prompts sit inside the article container, where trafilatura keeps them.
_MARKERS = ("paywall", "regwall", "subscribe", "subscription", "meter-", "piano", "tp-container", "newsletter")
PRUNE_XPATH = [
    f"//*[contains(translate(@class, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), '{marker}') "
    f"or contains(translate(@id, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), '{marker}')]"
    for marker in _MARKERS
]
FALLBACK_NOTE = (
    "HTML read by stripping tags: navigation and footers reach the model; "
    "pip install 'extractor[news]' for the page's main text"
)

_fallback_used = False


def clean_url(url: str) -> str:
    """The URL without tracking parameters and fragment, scheme and host in lower case."""
    parts = urlsplit(url.strip())
    query = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if name.lower() not in TRACKING_PARAMS and not name.lower().startswith(TRACKING_PREFIXES)
    ]
    netloc = parts.netloc.lower()
    if (parts.scheme.lower(), netloc.rsplit(":", 1)[-1]) in (("http", "80"), ("https", "443")):
        netloc = netloc.rsplit(":", 1)[0]
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", urlencode(query), ""))


def published_date(value: Any) -> dt.date | None:
    """A date from ISO 8601 ("2025-07-14T09:30:00+09:00": the day as published) or RFC 2822; else None."""
    if not isinstance(value, str):
        return None
    match = re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", value)
    if match:
        try:
            return dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            return None
    try:
        return email.utils.parsedate_to_datetime(value.strip()).date()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


@dataclass
class _Markup:
    """What the metadata is read from, collected in one pass over the page."""

    meta: dict[str, str] = field(default_factory=dict)
    canonical: str | None = None
    title: str | None = None
    json_ld: list[str] = field(default_factory=list)
    times: list[tuple[str, bool, bool]] = field(default_factory=list)  # datetime, marked, inside <article>


class _MarkupReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found = _Markup()
        self._in: str | None = None  # "title" or "ld" while inside one
        self._buffer: list[str] = []
        self._articles = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        if tag == "meta":
            key = (values.get("property") or values.get("name") or values.get("itemprop") or "").lower()
            if key and "content" in values:
                self.found.meta.setdefault(key, values["content"].strip())
        elif tag == "link" and "canonical" in values.get("rel", "").lower().split() and values.get("href"):
            self.found.canonical = self.found.canonical or values["href"].strip()
        elif tag == "title" and self.found.title is None:
            self._in, self._buffer = "title", []
        elif tag == "script" and values.get("type", "").lower() == "application/ld+json":
            self._in, self._buffer = "ld", []
        elif tag == "article":
            self._articles += 1
        elif tag == "time" and values.get("datetime"):
            marked = "pubdate" in values or values.get("itemprop", "").lower() == "datepublished"
            self.found.times.append((values["datetime"], marked, self._articles > 0))

    def handle_endtag(self, tag: str) -> None:
        if tag == "article" and self._articles:
            self._articles -= 1
        elif (tag, self._in) in (("title", "title"), ("script", "ld")):
            text = "".join(self._buffer)
            if self._in == "title":
                self.found.title = " ".join(text.split()) or None
            else:
                self.found.json_ld.append(text)
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            self._buffer.append(data)


def _ld_objects(raw: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(raw)
    except ValueError:
        return []
    found: list[dict[str, Any]] = []
    stack = [data]
    while stack:
        node = stack.pop(0)
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            found.append(node)
            graph = node.get("@graph")
            if isinstance(graph, list):
                stack.extend(graph)
    return found


def _ld_article(markup: _Markup) -> dict[str, Any]:
    """The page's JSON-LD article object (NewsArticle, ReportageNewsArticle, BlogPosting...), if any."""
    objects = [obj for raw in markup.json_ld for obj in _ld_objects(raw)]
    for obj in objects:
        types = obj.get("@type")
        names = types if isinstance(types, list) else [types]
        if any(isinstance(name, str) and ARTICLE_TYPES.search(name) for name in names):
            return obj
    return next((obj for obj in objects if "headline" in obj), {})


def _name(value: Any) -> str | None:
    """A person or organization as JSON-LD gives it: a string, {"name": ...} or a list of them."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        return _name(value.get("name"))
    if isinstance(value, list):
        names = [name for name in (_name(item) for item in value) if name]
        return ", ".join(dict.fromkeys(names)) or None
    return None


def _text(value: Any) -> str | None:
    return " ".join(value.split()) or None if isinstance(value, str) else None


def _without_site(title: str | None, site: str | None) -> str | None:
    if title and site:
        for separator in TITLE_SEPARATORS:
            head, _, tail = title.rpartition(separator)
            if head and tail.strip().lower() == site.strip().lower():
                return head.strip()
    return title


def _published(markup: _Markup, ld: dict[str, Any]) -> dt.date | None:
    candidates = [markup.meta.get(name) for name in PUBLISHED_META]
    candidates.append(ld.get("datePublished"))
    candidates += [value for value, marked, _ in markup.times if marked]
    candidates += [value for value, _, inside in markup.times if inside]
    for value in candidates:
        date = published_date(value)
        if date is not None:
            return date
    return None


def _canonical(markup: _Markup, fetched_url: str | None) -> str | None:
    if markup.canonical:
        resolved = urljoin(fetched_url or "", markup.canonical)
        if urlsplit(resolved).scheme in ("http", "https"):
            return clean_url(resolved)
    return clean_url(fetched_url) if fetched_url else None


@dataclass(frozen=True)
class PageArticle:
    """A page's main text and what its metadata says about it."""

    text: str
    title: str | None = None
    published: dt.date | None = None
    url: str | None = None
    site_name: str | None = None
    author: str | None = None
    method: str = "trafilatura"  # or "tags": the text is the page with its tags stripped


def read_page(markup: str, *, url: str | None = None) -> PageArticle:
    """The main text and metadata of an HTML page fetched from `url` (None for a local file)."""
    reader = _MarkupReader()
    reader.feed(markup)
    reader.close()
    found = reader.found
    ld = _ld_article(found)
    body = _main_text(markup, url)
    site = _text(found.meta.get("og:site_name")) or _name(ld.get("publisher")) or body.site_name
    title = _text(found.meta.get("og:title")) or _text(ld.get("headline")) or _without_site(found.title, site)
    author = _text(found.meta.get("author")) or _name(ld.get("author")) or body.author
    return PageArticle(
        text=_without_headline(body.text, title),
        title=title,
        published=_published(found, ld),
        url=_canonical(found, url),
        site_name=site,
        author=author,
        method=body.method,
    )


@dataclass(frozen=True)
class _Body:
    text: str
    method: str
    site_name: str | None = None
    author: str | None = None


def _main_text(markup: str, url: str | None) -> _Body:
    global _fallback_used
    try:
        import trafilatura
    except ImportError:
        _fallback_used = True
        return _Body(html_to_text(markup)[0], "tags")
    document = trafilatura.bare_extraction(
        markup,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_images=False,
        include_links=False,
        prune_xpath=PRUNE_XPATH,
    )
    text = getattr(document, "text", None) or ""
    return _Body(
        text, "trafilatura", _text(getattr(document, "sitename", None)), _text(getattr(document, "author", None))
    )


def _without_headline(text: str, title: str | None) -> str:
    """The body without a first line that repeats the headline (the title goes to the model apart)."""
    first, _, rest = text.partition("\n")
    if title and rest.strip() and " ".join(first.split()).lower() == " ".join(title.split()).lower():
        return rest.lstrip("\n")
    return text


def fallback_note() -> str | None:
    """Once, after some page was read by stripping tags (trafilatura missing): the note saying so."""
    global _fallback_used
    if not _fallback_used:
        return None
    _fallback_used = False
    return FALLBACK_NOTE
