"""The article links of RSS, Atom and sitemap documents (news sitemaps and sitemap indexes too).

What a batch needs from a feed is small: each item's link, and its title and date to fall
back on when the page has none. The standard library's XML parser reads that strictly (a
broken feed is an `InputError` with the line and column, not a silently shorter list), on a
bundled expat that caps entity expansion; a document declaring entities is refused outright.

- RSS 2.0: `channel/item`: `link` (else a permalink `guid`), `title`, `pubDate` or `dc:date`;
- RSS 1.0 (RDF): `item`: `link`, `title`, `dc:date`;
- Atom: `entry`: the `alternate` (or first) `link/@href`, `title`, `published` or `updated`;
- sitemaps: `urlset/url`: `loc`, and `news:news` (`news:title`, `news:publication_date`);
  a `sitemapindex` lists further sitemaps (`loc`). Gzipped sitemaps are inflated here, capped.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass
from urllib.parse import urljoin

from ..errors import InputError
from .html import published_date


@dataclass(frozen=True)
class Entry:
    """One article a feed or sitemap points to, with what it says about it."""

    url: str
    title: str | None = None
    published: dt.date | None = None


@dataclass(frozen=True)
class Sitemap:
    """A sitemap's articles, and the further sitemaps a sitemap index lists."""

    entries: list[Entry]
    sitemaps: list[str]


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _child(element: ET.Element, *names: str) -> ET.Element | None:
    for name in names:
        for child in element:
            if _local(child.tag) == name:
                return child
    return None


def _text(element: ET.Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return " ".join(element.text.split()) or None


def parse_xml(body: bytes, *, what: str) -> ET.Element:
    """The document's root element; malformed XML or declared entities are an `InputError`."""
    head = body[:4096].lower()
    if b"<!entity" in head or (b"<!doctype" in head and b"[" in head.split(b"<!doctype", 1)[1][:2048]):
        raise InputError(f"malformed {what}: declares entities (refused)")
    try:
        return ET.fromstring(body)
    except ET.ParseError as exc:
        line, column = exc.position
        raise InputError(f"malformed {what}: not well-formed XML (line {line}, column {column + 1})") from None


def parse_feed(body: bytes, *, base_url: str) -> list[Entry]:
    """The entries of an RSS or Atom feed, in document order."""
    root = parse_xml(body, what="feed")
    kind = _local(root.tag)
    if kind == "feed":
        return [entry for entry in (_atom_entry(item, base_url) for item in _all(root, "entry")) if entry]
    if kind in ("rss", "rdf"):
        items = _all(root, "item")
        return [entry for entry in (_rss_item(item, base_url) for item in items) if entry]
    raise InputError(f"malformed feed: <{kind}> is not RSS or Atom")


def _all(root: ET.Element, name: str) -> list[ET.Element]:
    return [element for element in root.iter() if _local(element.tag) == name]


def _rss_item(item: ET.Element, base_url: str) -> Entry | None:
    link = _text(_child(item, "link"))
    guid = _child(item, "guid")
    if not link and guid is not None and guid.get("isPermaLink", "true").lower() == "true":
        link = _text(guid)
    if not link:
        return None
    published = published_date(_text(_child(item, "pubdate", "date")))
    return Entry(urljoin(base_url, link), _text(_child(item, "title")), published)


def _atom_entry(entry: ET.Element, base_url: str) -> Entry | None:
    links = [child for child in entry if _local(child.tag) == "link" and child.get("href")]
    chosen = next((link for link in links if link.get("rel", "alternate") == "alternate"), None)
    if chosen is None:
        return None
    base = urljoin(base_url, entry.get("{http://www.w3.org/XML/1998/namespace}base", ""))
    published = published_date(_text(_child(entry, "published", "updated")))
    return Entry(urljoin(base, chosen.get("href", "")), _text(_child(entry, "title")), published)


def inflate(body: bytes, *, limit: int, what: str) -> bytes:
    """A gzipped body inflated, stopping past `limit` bytes; a plain body as it is."""
    if body[:2] != b"\x1f\x8b":
        return body
    decompressor = zlib.decompressobj(31)
    try:
        data = decompressor.decompress(body, limit + 1)
    except zlib.error as exc:
        raise InputError(f"malformed {what}: broken gzip ({exc})") from None
    if len(data) > limit:
        raise InputError(f"{what} inflates past the {limit:,}-byte limit")
    return data


def parse_sitemap(body: bytes, *, base_url: str) -> Sitemap:
    """A sitemap's pages (with news:title and news:publication_date when given) or an index's sitemaps."""
    root = parse_xml(body, what="sitemap")
    kind = _local(root.tag)
    if kind == "sitemapindex":
        locations = (_text(_child(sitemap, "loc")) for sitemap in _all(root, "sitemap"))
        return Sitemap([], [urljoin(base_url, loc) for loc in locations if loc])
    if kind != "urlset":
        raise InputError(f"malformed sitemap: <{kind}> is not a urlset or sitemapindex")
    entries = []
    for url in _all(root, "url"):
        loc = _text(_child(url, "loc"))
        if not loc:
            continue
        news = _child(url, "news")
        title = _text(_child(news, "title")) if news is not None else None
        published = published_date(_text(_child(news, "publication_date"))) if news is not None else None
        entries.append(Entry(urljoin(base_url, loc), title, published))
    return Sitemap(entries, [])
